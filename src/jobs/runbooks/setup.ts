/**
 * `setup`: a brand-new instance, built from schemas/ (the team's "new instance" procedure). Every step looks at the
 * warehouse / AWS first (isDone), so a second run on a complete instance changes nothing and a run on a half-built one
 * finishes it. The job holds `<schema>.*` (src/queue/queue.ts coveringConflict): no other job changes a table of the
 * schema while setup runs.
 *
 *  1. `create-schema`, then `create-<table>` for EVERY table of the schema in foreign-key order (shared steps
 *     create-schema / create-from-schemas, the same ones `schema apply` uses), each exactly as schemas/ defines it.
 *     Decision — the 25 cdc tables are created by setup, not by the CDC service: empty, with their schemas/ types, keys,
 *     informational constraints, DISTKEY and SORTKEY, for the service's initial sync to load into. Why: 21 of the 26
 *     tables declare an INTERLEAVED sort key, which ALTER SORTKEY cannot set; had the service created them in its own
 *     shape (its types, no keys), bringing each to schemas/ after a multi-day sync would be 21 deep copies of freshly
 *     loaded tables. On an empty table the keys cost nothing. Undo drops only an EMPTY table this job created.
 *  2. DMS, per dms task of the registry (core_usermailing): endpoints checked, target created if missing, task created
 *     from the registry's settings if missing (one with other settings is reported, never changed), start-replication,
 *     full load watched until `Table completed`, log check, compare with the source.
 *  3. CDC: an approval-style gate — an approver confirms "the CDC service's initial sync is complete" (skipped when every
 *     cdc table already holds rows: a re-run does not ask again); then each cdc table is held to schemas/
 *     (match-schemas: in-place ALTERs via the modify planner for whatever the service changed). A table whose shape,
 *     read when setup was queued (planSetup), needs a deep copy instead gets modify's deep copy to the definition
 *     (conform.ts — the same steps recover uses — under `conform-<t>.`, with modify's approval before old_<t> is
 *     dropped; skipped when the table matches by then). Each table is then compared with the source.
 *  4. `tables-present`: all tables of the schema exist.
 */
import { z } from 'zod';
import { defineRunbook, type Step } from '../runbook.js';
import type { RunbookDeps } from '../deps.js';
import { identifier, tableDef, type TableDef } from '../../schema/model.js';
import { foreignKeyOrder } from '../../schema/registry.js';
import { listTables, readTables } from '../../schema/catalog.js';
import { qualified } from '../../schema/identifiers.js';
import { createSchemaStep, schemaExists } from '../steps/create-schema.js';
import { createFromSchemasStep } from '../steps/create-from-schemas.js';
import { verifySchemasStep } from '../steps/verify-schemas.js';
import { matchSchemasStep, planToSchemas } from '../steps/match-schemas.js';
import { namespaced } from '../namespace.js';
import { conformSteps, conformParams } from './conform.js';
import { planModifyJob } from './modify-plan.js';
import { compareStep } from '../steps/compare.js';
import { dmsSetupSteps } from './setup-dms.js';

/** A cdc table setup brings to schemas/ with modify's deep copy, and the shape it was planned from (read at queue time). */
const conformPlan = z.strictObject({
  table: identifier,
  planFrom: tableDef,
  /** what the catalog could not read then (an empty table's DISTSTYLE / sort style): not compared by conform-check */
  unknown: z.array(z.enum(['diststyle', 'sortstyle'])).default([]),
});

export const setupParams = z.strictObject({
  schema: identifier,
  /** the cdc tables whose live shape, when setup was queued, differs from schemas/ in a way ALTER TABLE cannot fix */
  conform: z.array(conformPlan).default([]),
});
export type SetupParams = z.output<typeof setupParams>;

type D = RunbookDeps;

/** The lock a setup job holds: every table of the schema (`<schema>.*`). */
export const setupLockKey = (schema: string): string => `${schema}.*`;

function tablesOf(params: SetupParams, deps: D): TableDef[] {
  const all = [...deps.registry.tables.values()].filter((t) => t.schema === params.schema);
  if (all.length === 0) throw new Error(`schemas/ (${deps.registry.dir}) defines no table in schema ${params.schema}: nothing to set up`);
  return foreignKeyOrder(all);
}

/** Which cdc tables hold at least one row: one statement, a LIMIT 1 probe per table (no scan, no user text). */
async function filledTables(ctx: { deps: D }, tables: readonly TableDef[]): Promise<Set<string>> {
  const first = tables[0];
  if (first === undefined) return new Set();
  const existing = new Set(await listTables(ctx.deps.warehouse, first.schema));
  const present = tables.filter((t) => existing.has(t.name));
  if (present.length === 0) return new Set();
  const sql = present.map((t, i) => `SELECT ${i} AS i, count(*) AS n FROM (SELECT 1 AS x FROM ${qualified(t.schema, t.name)} LIMIT 1) s${i}`).join('\nUNION ALL\n');
  const r = await ctx.deps.warehouse.query(sql);
  const out = new Set<string>();
  for (const row of r.rows) if (Number(row.n) > 0) out.add(present[Number(row.i)]!.name);
  return out;
}

/**
 * Read when setup is queued (one catalog read for the schema's cdc tables): the tables that exist and differ from
 * schemas/ in a way ALTER TABLE cannot fix (an interleaved sort key, a key column changed…) and that modify's deep copy
 * to the definition can plan. The job composes that deep copy for each (conform.ts, the one recover uses); every other
 * cdc table gets match-<t> (in-place ALTERs, or a report). A table that changes shape after this read is seen by
 * conform-check / match-<t>; the next setup run plans from what it finds then.
 */
export async function planSetup(deps: D, schema: string): Promise<SetupParams> {
  const cdc = tablesOf({ schema, conform: [] }, deps).filter((t) => t.replication.provider === 'cdc');
  const live = await readTables(deps.warehouse, schema, cdc.map((t) => t.name));
  const conform: SetupParams['conform'] = [];
  for (const t of cdc) {
    const info = live.get(t.name);
    if (!info) continue;
    const p = planToSchemas(t, info, deps.registry);
    if (p.kind !== 'report' || !p.deepCopy) continue;
    if (!planModifyJob(conformParams(t, info.table, deps), deps).ok) continue; // match-<t> reports it, with the planner's reason
    conform.push({ table: t.name, planFrom: info.table, unknown: [...info.unknown] });
  }
  return { schema, conform };
}

/** One operation on each table: the finished steps share a thread message (Step.phase); warnings still stand alone. */
const inPhase = (phase: string, step: Step<D>): Step<D> => ({ ...step, phase });

export const setupRunbook = defineRunbook<D, SetupParams>({
  kind: 'setup',
  paramsSchema: setupParams,
  build(params, deps) {
    const tables = tablesOf(params, deps);
    const schema = params.schema;
    const dmsTables = tables.filter((t) => t.replication.provider === 'dms');
    const cdcTables = tables.filter((t) => t.replication.provider === 'cdc');
    const source = deps.source?.database ?? '(the source database)';

    const preflight: Step<D> = {
      name: 'preflight',
      title: `Look at the instance: schema ${schema}, ${tables.length} tables`,
      plan: () => [{ kind: 'check', text: `catalog: does schema ${schema} exist, which of its ${tables.length} tables of schemas/ exist` }],
      isDone: async () => false,
      run: async (ctx) => {
        if (!(await schemaExists(ctx, schema))) return `schema ${schema} does not exist: a new instance, all ${tables.length} tables to create`;
        const have = new Set(await listTables(ctx.deps.warehouse, schema));
        const missing = tables.filter((t) => !have.has(t.name)).map((t) => t.name);
        return missing.length === 0
          ? `all ${tables.length} tables exist: none to create (the rest of setup checks each part)`
          : `${tables.length - missing.length} of ${tables.length} tables exist; to create: ${missing.join(', ')}`;
      },
    };

    const cdcNames = cdcTables.map((t) => t.name);
    const syncGate: Step<D> = {
      name: 'cdc-initial-sync',
      title: `Confirm the CDC service's initial sync of ${cdcTables.length} tables is complete`,
      approval: {
        prompt: () =>
          `The CDC service's initial sync. In its dashboard: replicate these ${cdcTables.length} tables of ${source} into ${schema} — ` +
          `they exist, empty, as schemas/ defines them (keys, DISTKEY, SORTKEY): let the service load into them, do not let it recreate them — ` +
          `and start the initial sync:\n${cdcNames.join(', ')}\n` +
          `When the service reports the sync complete for every table, Approve: setup then holds each table to schemas/ and compares it with the source. ` +
          `Reject stops setup: the tables it created that are still empty are dropped; the DMS endpoint and task it made stay (the DmsPort deletes nothing — remove them by hand if unwanted).`,
      },
      plan: () => [{ kind: 'check', text: `skipped when every one of the ${cdcTables.length} cdc tables holds rows (SELECT 1 … LIMIT 1 per table, one statement)` }],
      isDone: async (ctx) => (await filledTables(ctx, cdcTables)).size === cdcTables.length,
      run: async (ctx) => {
        const filled = await filledTables(ctx, cdcTables);
        const empty = cdcNames.filter((n) => !filled.has(n));
        if (empty.length === 0) return `confirmed: all ${cdcTables.length} cdc tables hold rows`;
        return { status: 'warn', detail: `confirmed, but ${empty.length} of ${cdcTables.length} cdc tables are still empty: ${empty.join(', ')} (fine if the source tables are empty; else check the service)` };
      },
    };

    const present: Step<D> = {
      name: 'tables-present',
      title: `All ${tables.length} tables of ${schema} exist`,
      plan: () => [{ kind: 'check', text: `catalog: every one of the ${tables.length} tables of schemas/ exists in ${schema}` }],
      isDone: async () => false,
      run: async (ctx) => {
        const have = new Set(await listTables(ctx.deps.warehouse, schema));
        const missing = tables.filter((t) => !have.has(t.name)).map((t) => t.name);
        if (missing.length) throw new Error(`${missing.length} table(s) of schemas/ are missing from ${schema} at the end of setup: ${missing.join(', ')} (dropped while setup ran?). Retry: setup creates them again.`);
        return `${tables.length} of ${tables.length} tables exist`;
      },
    };

    const steps: Step<D>[] = [
      preflight,
      createSchemaStep([schema]),
      ...tables.map((t) => inPhase('create-tables', createFromSchemasStep(t))),
      ...(dmsTables.length ? [verifySchemasStep(dmsTables, { name: 'verify-dms-tables', title: `The DMS target table${dmsTables.length === 1 ? '' : 's'} match schemas/` })] : []),
      ...dmsTables.flatMap((t) => dmsSetupSteps(t, deps)),
      ...(cdcTables.length ? [syncGate] : []),
      ...cdcTables.flatMap((t) => {
        const c = params.conform.find((x) => x.table === t.name);
        if (!c) return [inPhase('match-cdc-tables', matchSchemasStep(t, { name: `match-${t.name}`, filledBy: "the CDC service's initial sync" }))];
        return namespaced(`conform-${t.name}.`, conformSteps(t, c.planFrom, deps, { again: '`setup`', filledBy: "the CDC service's initial sync", shape: 'the shape it had when setup was queued', planUnknown: c.unknown }));
      }),
      ...cdcTables.map((t) => inPhase('compare-cdc-tables', compareStep(t, { name: `compare-${t.name}` }))),
      present,
    ];
    return { kind: 'setup', steps };
  },
});
