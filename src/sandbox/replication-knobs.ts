/**
 * The replication fault knobs of `POST /_sandbox/faults` (`"replication": [ {action, table, …} ]`, faults.ts): each action
 * calls the running apply loop's own knob (apply-loop.ts), so a demo or an e2e test drives the same faults over HTTP
 * that in-process tests drive directly. Every action is resolved first (its table must have a loop of the right kind),
 * so a patch with one bad action changes nothing.
 */
import { CdcApplyLoop, DmsApplyLoop } from './apply-loop.js';
import type { ReplicationAction } from './faults.js';
import type { ApplyLoop, Replication } from './replication.js';

export class ReplicationKnobError extends Error {}

export interface ReplicationActionResult {
  action: ReplicationAction['action'];
  /** the loops acted on, schema.table */
  tables: string[];
  /** replayDuplicates: the keys written a second time */
  replayedKeys?: number[];
  /** cdcReload: rows loaded from the source */
  rowsLoaded?: number;
}

function findLoops(replications: readonly Replication[], table: string | undefined): ApplyLoop[] {
  const live = replications.flatMap((r) => r.loops());
  if (table === undefined) return live;
  for (const r of replications) {
    const l = r.loop(table);
    if (l !== undefined) return [l];
  }
  const known = live.map((l) => l.qualifiedName);
  throw new ReplicationKnobError(
    `no replication loop writes "${table}"${known.length > 0 ? ` (loops run on ${known.join(', ')})` : ' (no replication is running: start it with sandbox.startReplication / npm run sandbox -- --seed)'}`,
  );
}

function only<T extends ApplyLoop>(loops: ApplyLoop[], kind: new (...a: never[]) => T, action: string, what: string): T[] {
  const bad = loops.filter((l) => !(l instanceof kind));
  if (bad.length > 0) throw new ReplicationKnobError(`${action} applies to ${what} tables; ${bad.map((l) => l.qualifiedName).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not`);
  return loops as T[];
}

type Planned = () => Promise<ReplicationActionResult>;

function plan(replications: readonly Replication[], a: ReplicationAction): Planned {
  const loops = findLoops(replications, a.table);
  const tables = loops.map((l) => l.qualifiedName);
  switch (a.action) {
    case 'binlogRetention':
      return async () => {
        for (const l of loops) l.setBinlogRetention(a.ms ?? undefined);
        return { action: a.action, tables };
      };
    case 'tableError': {
      const dms = only(loops, DmsApplyLoop, a.action, 'DMS');
      return async () => {
        for (const l of dms) l.injectTableError(a.reason);
        return { action: a.action, tables };
      };
    }
    case 'fatalError': {
      const dms = only(loops, DmsApplyLoop, a.action, 'DMS');
      return async () => {
        for (const l of dms) l.injectFatalError(a.reason);
        return { action: a.action, tables };
      };
    }
    case 'failNextResume': {
      const dms = only(loops, DmsApplyLoop, a.action, 'DMS');
      return async () => {
        for (const l of dms) l.failResume(a.message);
        return { action: a.action, tables };
      };
    }
    case 'logErrorsOnResume': {
      const dms = only(loops, DmsApplyLoop, a.action, 'DMS');
      return async () => {
        for (const l of dms) l.injectLogErrors(a.n);
        return { action: a.action, tables };
      };
    }
    case 'replayDuplicates':
      return async () => {
        const keys: number[] = [];
        for (const l of loops) keys.push(...(await l.replayDuplicates(a.n)));
        return { action: a.action, tables, replayedKeys: keys };
      };
    case 'cdcOutage': {
      const cdc = only(loops, CdcApplyLoop, a.action, 'CDC');
      return async () => {
        for (const l of cdc) l.setOutage(a.down);
        return { action: a.action, tables };
      };
    }
    case 'cdcReload': {
      const cdc = only(loops, CdcApplyLoop, a.action, 'CDC');
      return async () => {
        let rows = 0;
        for (const l of cdc) rows += await l.reload();
        return { action: a.action, tables, rowsLoaded: rows };
      };
    }
  }
}

/** Resolve every action now (throws ReplicationKnobError before anything is done); the returned function runs them in order. */
export function planReplicationActions(replications: readonly Replication[], actions: readonly ReplicationAction[]): () => Promise<ReplicationActionResult[]> {
  const planned = actions.map((a) => plan(replications, a));
  return async () => {
    const out: ReplicationActionResult[] = [];
    for (const p of planned) out.push(await p());
    return out;
  };
}
