/**
 * Shared step: hold a table that a replication service filled to its schemas/ definition — what setup does after the
 * CDC service's initial sync (and what a recovered cdc table needs). It reads the table from the catalog and compares
 * it with schemas/ (src/schema/diff.ts: columns, order, types, NOT NULL, defaults, encodings, DISTSTYLE/DISTKEY, sort
 * key). What differs becomes modify ops, planned by the modify planner (src/modify/planner.ts planModify, the same
 * rules modify uses):
 *  - in place (ALTER DISTKEY / ALTER DISTSTYLE, ALTER [COMPOUND] SORTKEY / AUTO / NONE, a longer VARCHAR, ADD COLUMN,
 *    ALTER COLUMN ENCODE): run here, one alter-in-place step (alterPlanStep) per planned ALTER, each read back;
 *  - anything ALTER TABLE cannot do (an INTERLEAVED sort key, a narrower or other type, an extra column, NOT NULL, a
 *    default, the column order): NOT done here — a deep copy of a live table is `modify`'s job, with its own plan and
 *    approvals. The step ends with status `warn`, listing each difference and the modify ops that would fix it.
 * Informational PRIMARY KEY / UNIQUE / FOREIGN KEY constraints are not compared: the catalog reader does not read them
 * (diff.ts); the detail says so.
 */
import type { RunbookDeps } from '../deps.js';
import type { Step, StepResult } from '../runbook.js';
import type { Registry } from '../../schema/registry.js';
import { alterPlanStep } from './alter-in-place.js';
import type { Op } from '../../commands/types.js';
import { opText } from '../../commands/ops.js';
import { readTableInfo, type CatalogTable } from '../../schema/catalog.js';
import { diffTable, formatDrift, type Drift } from '../../schema/diff.js';
import type { TableDef } from '../../schema/model.js';
import { referencingTables } from '../../schema/registry.js';
import { planModify } from '../../modify/planner.js';

/** The modify ops that would turn `live` into `want` for each drift, and the drifts no op expresses. */
export function opsForDrift(want: TableDef, drifts: readonly Drift[]): { ops: Op[]; unfixable: Drift[] } {
  const ops: Op[] = [];
  const unfixable: Drift[] = [];
  for (const d of drifts) {
    const col = d.column !== undefined ? want.columns.find((c) => c.name === d.column) : undefined;
    switch (d.kind) {
      case 'missing-column':
        if (col) ops.push({ op: 'add_column', column: col });
        else unfixable.push(d);
        break;
      case 'type':
        if (col) ops.push({ op: 'alter_column_type', column: col.name, type: col.type });
        else unfixable.push(d);
        break;
      case 'encoding':
        if (col?.encode !== undefined) ops.push({ op: 'alter_column_encode', column: col.name, encode: col.encode });
        else unfixable.push(d);
        break;
      case 'diststyle':
      case 'distkey':
        if (ops.some((o) => o.op === 'set_distkey' || o.op === 'set_diststyle')) break;
        if (want.distStyle === 'KEY' && want.distKey !== undefined) ops.push({ op: 'set_distkey', column: want.distKey });
        else if (want.distStyle !== 'KEY') ops.push({ op: 'set_diststyle', style: want.distStyle });
        else unfixable.push(d);
        break;
      case 'sortkey':
        ops.push({ op: 'set_sortkey', style: want.sortKey.style, columns: [...want.sortKey.columns] });
        break;
      default:
        unfixable.push(d);
    }
  }
  return { ops, unfixable };
}

export type SchemasPlan =
  | { kind: 'match'; compared: string }
  /** ALTER TABLE brings it to schemas/: the modify planner's in-place plan */
  | { kind: 'in-place'; drifts: Drift[]; ops: Op[]; plan: Extract<ReturnType<typeof planModify>, { ok: true }> }
  /** ALTER cannot: `why` (a deep copy, or no op expresses it) */
  | { kind: 'report'; drifts: Drift[]; ops: Op[]; why: string; deepCopy: boolean };

/** What it takes to bring the live table (`info`, from the catalog) to `t`'s schemas/ definition. Pure. */
export function planToSchemas(t: TableDef, info: CatalogTable, registry: Registry): SchemasPlan {
  const drifts = diffTable(t, info.table, { unknown: info.unknown });
  if (drifts.length === 0) return { kind: 'match', compared: `${info.table.columns.length} columns, DISTKEY, SORTKEY compared${info.unknown.length ? ` (not readable: ${info.unknown.join(', ')})` : ''}; informational keys not read back` };
  const { ops, unfixable } = opsForDrift(t, drifts);
  if (unfixable.length) return { kind: 'report', drifts, ops, why: `no modify op expresses ${unfixable.map((d) => d.kind).join(', ')}`, deepCopy: true };
  if (!ops.length) return { kind: 'report', drifts, ops, why: 'nothing to plan', deepCopy: false };
  // plan from the live table, with what only schemas/ knows (keys, replication, change tracking)
  const current: TableDef = { ...info.table, primaryKey: t.primaryKey, unique: t.unique, foreignKeys: t.foreignKeys, replication: t.replication, changeTracking: t.changeTracking };
  if (t.primaryKey === undefined) delete current.primaryKey;
  if (t.changeTracking === undefined) delete current.changeTracking;
  const plan = planModify({ current, ops, deepCopy: false, referencing: referencingTables(registry, t.schema, t.name) });
  if (!plan.ok) return { kind: 'report', drifts, ops, why: plan.error, deepCopy: false };
  if (plan.mode !== 'in-place') return { kind: 'report', drifts, ops, why: `it needs a deep copy (${plan.reasons.join('; ')}), which is modify's job`, deepCopy: true };
  return { kind: 'in-place', drifts, ops, plan };
}

export interface MatchSchemasOptions {
  name: string;
  /** who filled the table, for the messages ("the CDC service's initial sync") */
  filledBy: string;
}

export function matchSchemasStep(t: TableDef, o: MatchSchemasOptions): Step<RunbookDeps> {
  const key = `${t.schema}.${t.name}`;
  const stmt = (jobId: string, what: string): string => `job ${jobId} ${what} ${key}`;
  return {
    name: o.name,
    title: `Hold ${key} to schemas/ after ${o.filledBy}`,
    plan: () => [
      {
        kind: 'check',
        text: `catalog of ${key} = schemas/; a difference ALTER TABLE can fix in place runs (modify planner), any other is reported with its modify`,
      },
    ],
    isDone: async () => false,
    run: async (ctx): Promise<StepResult> => {
      const info = await readTableInfo(ctx.deps.warehouse, t.schema, t.name);
      if (!info) throw new Error(`${key} does not exist after ${o.filledBy}: check the service's dashboard for this table (it may have failed or been left out), then retry this step`);
      const p = planToSchemas(t, info, ctx.deps.registry);
      if (p.kind === 'match') return `${key} matches schemas/ (${p.compared})`;
      const { drifts, ops } = p;
      if (p.kind === 'report')
        return {
          status: 'warn',
          detail:
            `${key} differs from schemas/ and was NOT changed here — ${p.why}:\n${drifts.map((d) => `• ${formatDrift(d)}`).join('\n')}` +
            (ops.length ? `\nThe modify that fixes it: \`/redshift modify ${t.name} ${ops.map(opText).join(', ')} --dry-run\` (after setup; see its plan)` : ''),
        };
      const plan = p.plan;
      const done: string[] = [];
      // the plan's ALTERs only: its `schema-file` step would rewrite schemas/, which already is the target here
      for (const ps of plan.steps.filter((p) => p.done !== undefined)) {
        const step = alterPlanStep({ schema: t.schema, table: t.name, step: ps, handle: `match:${key}:${ps.name}`, statementName: (c) => stmt(c.job.id, ps.name) });
        if (await step.isDone(ctx)) continue;
        const r = await step.run(ctx);
        done.push(typeof r === 'string' ? r : r ? r.detail : ps.title);
      }
      const after = await readTableInfo(ctx.deps.warehouse, t.schema, t.name);
      const left = diffTable(t, after?.table, { unknown: after?.unknown ?? [] });
      if (left.length) throw new Error(`${key} still differs from schemas/ after ${done.length} ALTER(s):\n${left.map((d) => `• ${formatDrift(d)}`).join('\n')}`);
      return `${key} brought to schemas/ in place (${ops.map(opText).join(', ')}): ${done.join('; ')}`;
    },
  };
}
