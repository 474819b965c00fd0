/**
 * What `recover <table>` reads of the world before it plans, and the choice it makes from it — with the reasons it
 * says in the plan and the thread. Read at queue time (the plan `--dry-run` prints is built from it) and again by the
 * job's first step: when the world moved since (the task failed meanwhile, the table vanished), the job stops saying
 * what changed instead of running a plan made for another world.
 *
 * dms (core_usermailing):
 *   - the table is missing, or its shape differs from schemas/   → `recreate`: approval naming the table and why; stop
 *     the task, drop the table (when there is one), create it from schemas/, start the task with reload-target;
 *   - the task is failed / stopped / never ran (FATAL_ERROR, the binlog position lost…) → `reload-target` (stop → start
 *     reload-target: DMS truncates and loads the task's table again, then replicates from the new start point);
 *   - the task is running                                          → `reload-table`: ReloadTables for the one table
 *     (Table error, rows missing against the source, or simply asked for);
 *   - the task is in a transition (starting, stopping, modifying…) → refused: run recover again when it settled.
 * cdc (the other 25): the CDC service reloads the table from its dashboard (outside the bot's reach); the bot then waits
 * for it, and brings the table to the schemas/ definition with modify's deep copy. The service (re)creates a table in
 * its own default shape — the definition's columns and types, no dist/sort keys, no constraints — so the deep copy is
 * planned from the live table when it already differs from schemas/, else from that default shape (`cdcDefaultShape`);
 * the job checks before copying that the table it finds is the one the plan was made for.
 */
import { z } from 'zod';
import type { RunbookDeps } from '../deps.js';
import type { DmsTableStat, DmsTask } from '../../replication/port.js';
import { readTableInfo } from '../../schema/catalog.js';
import { diffTable, formatDrift } from '../../schema/diff.js';
import { tableDef, type TableDef } from '../../schema/model.js';
import { settledCounts } from '../steps/compare.js';

export const DMS_STRATEGIES = ['reload-table', 'reload-target', 'recreate'] as const;
export type DmsStrategy = (typeof DMS_STRATEGIES)[number];

export const recoverDecision = z.discriminatedUnion('provider', [
  z.strictObject({
    provider: z.literal('dms'),
    strategy: z.enum(DMS_STRATEGIES),
    /** why this strategy: each line a fact that was read */
    reasons: z.array(z.string()),
    /** the table exists now (recreate: drop it first) */
    tableExists: z.boolean(),
  }),
  z.strictObject({
    provider: z.literal('cdc'),
    reasons: z.array(z.string()),
    tableExists: z.boolean(),
    /** the shape the deep copy to the definition is planned from (the live table, or the CDC service's default shape) */
    planFrom: tableDef,
  }),
]);
export type RecoverDecision = z.output<typeof recoverDecision>;

/** What was read for a dms table. */
export interface DmsWorld {
  task: DmsTask;
  stat?: DmsTableStat;
  exists: boolean;
  /** differences between schemas/ and the live table (empty when it matches, or is missing) */
  drift: string[];
  /** rows outside the lag window on each side, or why they could not be compared */
  counts?: { source: string; warehouse: string } | { why: string };
}

export interface CdcWorld {
  exists: boolean;
  live?: TableDef;
  drift: string[];
}

const TRANSITIONS = new Set(['starting', 'stopping', 'creating', 'modifying', 'moving', 'testing', 'deleting']);

function failureText(t: DmsTask): string {
  return [t.stopReason, t.lastFailureMessage].filter((x) => x !== undefined && x !== '').join(' — ');
}

/** The dms choice, from what was read. A refusal is `{ refuse }` (nothing is queued). */
export function decideDms(def: TableDef, w: DmsWorld): RecoverDecision | { refuse: string } {
  const key = `${def.schema}.${def.name}`;
  const t = w.task;
  const reasons: string[] = [];
  if (TRANSITIONS.has(t.status)) return { refuse: `DMS task ${t.id} is ${t.status}: wait until it settles (running, stopped or failed), then run recover again` };
  const state = w.stat ? `TableState ${w.stat.state}, FullLoadRows ${w.stat.fullLoadRows.toLocaleString('en-US')}` : 'no table statistics for it';
  if (!w.exists || w.drift.length > 0) {
    if (!w.exists) reasons.push(`${key} does not exist in the warehouse: it is created from schemas/ (after an approval), then loaded by DMS`);
    else reasons.push(`${key} differs from schemas/ (${w.drift.join('; ')}): it is dropped and created from schemas/ (after an approval), then loaded by DMS`);
    reasons.push(`DMS task ${t.id} is ${t.status}${failureText(t) ? ` (${failureText(t)})` : ''}; ${state}: the task is stopped for the drop, then started with reload-target`);
    return { provider: 'dms', strategy: 'recreate', reasons, tableExists: w.exists };
  }
  const counts = w.counts && 'source' in w.counts ? `source ${w.counts.source} rows vs warehouse ${w.counts.warehouse} (outside the lag window)` : w.counts ? `counts not compared: ${w.counts.why}` : 'no source configured: counts not compared';
  if (t.status !== 'running') {
    const lost = /binary log|binlog|could not find first log/i.test(t.lastFailureMessage ?? '') ? ' — the source no longer holds the binlog position, so only a full reload can catch up' : '';
    reasons.push(`DMS task ${t.id} is ${t.status}${failureText(t) ? ` (${failureText(t)})` : ''}${lost}`);
    reasons.push(`restart from the beginning: stop (a no-op when it is not running), then StartReplicationTask reload-target — DMS truncates ${key} and loads it from the source, then replicates changes; ${state}; ${counts}`);
    return { provider: 'dms', strategy: 'reload-target', reasons, tableExists: true };
  }
  const missing = w.counts && 'source' in w.counts && w.counts.source !== w.counts.warehouse;
  if (w.stat?.state === 'Table error') reasons.push(`${key} is in Table error (suspended: DMS applies no change to it until it is reloaded); ${counts}`);
  else if (missing) reasons.push(`${key} differs from the source: ${counts}; ${state}`);
  else reasons.push(`no fault seen (${state}; ${counts}): reloading as asked`);
  reasons.push(`DMS task ${t.id} is running: ReloadTables reloads only ${key} (the task keeps replicating its other tables)`);
  return { provider: 'dms', strategy: 'reload-table', reasons, tableExists: true };
}

/** The table as the CDC service (re)creates it: the definition's columns and types; no keys, constraints, defaults or NOT NULL. */
export function cdcDefaultShape(def: TableDef): TableDef {
  const { primaryKey: _key, distKey: _dist, ...rest } = structuredClone(def);
  void _key;
  void _dist;
  return {
    ...rest,
    columns: def.columns.map((c) => ({ name: c.name, type: c.type, notNull: false })),
    unique: [],
    foreignKeys: [],
    distStyle: 'AUTO',
    sortKey: { style: 'AUTO', columns: [] },
  };
}

export function decideCdc(def: TableDef, w: CdcWorld): RecoverDecision {
  const key = `${def.schema}.${def.name}`;
  const reasons = [
    w.exists ? `${key} exists${w.drift.length ? ` and differs from schemas/ (${w.drift.join('; ')})` : ' and matches schemas/'}` : `${key} does not exist in the warehouse`,
    `the CDC service reloads it from its dashboard (the bot cannot): then the bot waits until it exists and its row counts match the source's on two looks in a row, checks for duplicate keys and brings it to the schemas/ definition with a deep copy`,
  ];
  const planFrom = w.exists && w.live && w.drift.length > 0 ? w.live : cdcDefaultShape(def);
  return { provider: 'cdc', reasons, tableExists: w.exists, planFrom };
}

/** The live table and its drift from schemas/ (drift of aspects the catalog cannot read is not counted). */
export async function readShape(deps: RunbookDeps, def: TableDef): Promise<{ exists: boolean; live?: TableDef; drift: string[] }> {
  const info = await readTableInfo(deps.warehouse, def.schema, def.name);
  if (!info) return { exists: false, drift: [] };
  return { exists: true, live: info.table, drift: diffTable(def, info.table, { unknown: info.unknown }).map(formatDrift) };
}

/** Read everything the choice needs, then choose. */
export async function assessRecover(deps: RunbookDeps, def: TableDef): Promise<RecoverDecision | { refuse: string }> {
  const rep = def.replication;
  const shape = await readShape(deps, def);
  if (rep.provider === 'cdc') return decideCdc(def, shape);
  const dms = deps.dms;
  if (!dms) return { refuse: 'this bot has no DMS client configured (AWS region/credentials): it cannot recover a DMS table' };
  const task = await dms.findTask(rep.taskId);
  const stat = await dms.tableStats(task.arn, def.schema, def.name);
  const counts = shape.exists ? await settledCounts(deps, def) : undefined;
  return decideDms(def, { task, ...(stat ? { stat } : {}), exists: shape.exists, drift: shape.drift, ...(counts ? { counts } : {}) });
}

/** Does the world still call for the decision the job was planned with? Undefined when it does; else what changed. */
export function decisionChanged(planned: RecoverDecision, now: RecoverDecision | { refuse: string }): string | undefined {
  if ('refuse' in now) return now.refuse;
  if (planned.provider !== now.provider) return `the table's provider changed (${planned.provider} → ${now.provider})`;
  if (planned.provider === 'dms' && now.provider === 'dms') {
    if (planned.strategy === now.strategy) return undefined;
    // a reload-target plan stays right when the table was fine and the task is running again: it stops the task first
    if (planned.strategy === 'reload-target' && now.strategy === 'reload-table') return undefined;
    return `the plan was "${planned.strategy}" but the world now calls for "${now.strategy}": ${now.reasons.join('; ')}`;
  }
  return undefined;
}
