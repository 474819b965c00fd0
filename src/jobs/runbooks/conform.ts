/**
 * "Bring a cdc table to its schemas/ definition": modify's deep copy to a target definition (the modify planner's
 * `target`, commit e31b210), composed — never copied — by the runbooks that need it:
 *  - recover (a cdc table after the CDC service's reload: it recreates the table in its own shape);
 *  - setup (a cdc table whose shape, after the CDC service's initial sync, differs from schemas/ in a way ALTER TABLE
 *    cannot fix: an interleaved sort key, a key column changed…), one namespace per table (src/jobs/namespace.ts).
 *
 * The steps: conform-check (the table as it is vs schemas/ — equal: every later step is skipped, nothing changes — and
 * vs the shape the deep copy was planned from — any third shape: stop, nothing changed, plan again), then modify's
 * own deep-copy steps with its approval before old_<t> is dropped. modify's `schema-file` (schemas/ already is the
 * target) and `compare-source` (the composing runbook runs its own compare) are left out.
 */
import type { Op } from '../../commands/types.js';
import { readTable, type UnknownAspect } from '../../schema/catalog.js';
import { diffTable, formatDrift } from '../../schema/diff.js';
import type { TableDef } from '../../schema/model.js';
import { referencingTables } from '../../schema/registry.js';
import type { RunbookDeps } from '../deps.js';
import type { Step } from '../runbook.js';
import { modifyRunbook, type ModifyParams } from './modify.js';

type D = RunbookDeps;

/** The modify ops that name the definition's dist and sort keys (the target definition carries the rest). */
function conformOps(def: TableDef): Op[] {
  const dist: Op = def.distStyle === 'KEY' && def.distKey ? { op: 'set_distkey', column: def.distKey } : { op: 'set_diststyle', style: def.distStyle === 'KEY' ? 'AUTO' : def.distStyle };
  return [dist, { op: 'set_sortkey', style: def.sortKey.style, columns: [...def.sortKey.columns] }];
}

/** Modify's params for the deep copy from `planFrom` (the shape the plan is made for) to the schemas/ definition. */
export function conformParams(def: TableDef, planFrom: TableDef, deps: D): ModifyParams {
  return {
    command: { kind: 'modify', table: { schema: def.schema, name: def.name }, ops: conformOps(def), dryRun: false, deepCopy: true, forceDrift: false },
    current: planFrom,
    referencing: referencingTables(deps.registry, def.schema, def.name).map(({ table, fk }) => ({ table, fk })),
    target: def,
  };
}

export interface ConformOptions {
  /** what a person runs to plan again from the table as it is ("`recover core_phone`", "`setup`") */
  again: string;
  /** who filled the table ("the CDC service's reload") */
  filledBy: string;
  /** the shape the deep copy was planned from, as the thread says it ("the CDC service's shape") */
  shape: string;
  /** aspects of `planFrom` the catalog could not read when it was planned (an empty table has no SVV_TABLE_INFO row:
   *  its DISTSTYLE / sort style are unknown): not held against the table when conform-check compares */
  planUnknown?: readonly UnknownAspect[];
}

function conformCheckStep(def: TableDef, planFrom: TableDef, o: ConformOptions): Step<D> {
  const key = `${def.schema}.${def.name}`;
  return {
    name: 'conform-check',
    title: `Compare ${key} with its schemas/ definition (the deep copy runs only if it differs)`,
    plan: () => [{ kind: 'check', text: `catalog: ${key} as it is vs schemas/ (no difference: the deep copy is skipped) and vs the shape the deep copy was planned from (any other shape: stop, plan again)` }],
    isDone: async (ctx) => ctx.handles['conform.needed'] !== undefined,
    async run(ctx) {
      const live = await readTable(ctx.deps.warehouse, def.schema, def.name);
      if (!live) throw new Error(`${key} does not exist: ${o.filledBy} did not leave a table; run ${o.again} again`);
      const toDef = diffTable(def, live).map(formatDrift);
      if (toDef.length === 0) {
        await ctx.setHandle('conform.needed', '0');
        return `${key} already matches schemas/ (columns, types, keys, dist/sort keys): no deep copy needed`;
      }
      const toPlan = diffTable(planFrom, live, { unknown: [...(o.planUnknown ?? [])] }).map(formatDrift);
      if (toPlan.length > 0)
        throw new Error(`${key} is neither its schemas/ definition (${toDef.join('; ')}) nor the shape the deep copy was planned from (${toPlan.join('; ')}) — nothing was changed; run ${o.again} again to plan from the table as it is`);
      await ctx.setHandle('conform.needed', '1');
      return `${key} has ${o.shape} (${toDef.length} difference(s) from schemas/: ${toDef.join('; ')}): the deep copy brings it to the definition`;
    },
  };
}

/** conform-check, then modify's deep copy to the definition (each step skipped when the table already matches). */
export function conformSteps(def: TableDef, planFrom: TableDef, deps: D, o: ConformOptions): Step<D>[] {
  const inner = modifyRunbook.build(conformParams(def, planFrom, deps), deps).steps;
  const composed = inner
    .filter((s) => s.name !== 'schema-file' && s.name !== 'compare-source')
    .map((s): Step<D> => ({ ...s, isDone: async (ctx) => (ctx.handles['conform.needed'] === '0' ? { nothingToDo: `${def.schema}.${def.name} already matches schemas/` } : s.isDone(ctx)) }));
  return [conformCheckStep(def, planFrom, o), ...composed];
}
