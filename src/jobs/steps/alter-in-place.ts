/**
 * A modify in place: one ALTER per plan step (`alter-<n>`), done when the catalog shows what the plan said (a FINISHED
 * ALTER is not proof: the table is read back and held to the plan), and the approval an in-place DROP COLUMN needs
 * first (the data in the column is gone for good).
 *
 * `alterPlanStep` is the generic form (plain inputs: the table, the planner's step, the statement's handle) that
 * modify's `alterInPlaceStep` and setup's match-schemas both build on; a runbook that holds several tables to their
 * definitions gives each ALTER its own handle.
 */
import { isStepDone, unmetExpectations } from '../../modify/planner.js';
import type { PlanStep } from '../../modify/types.js';
import { readTable } from '../../schema/catalog.js';
import { forgetStatement, runOnce } from '../statements.js';
import type { DeepCopyContext, DeepCopyStep, D, Ctx } from './deep-copy-context.js';
import type { PlannedAction, Step } from '../runbook.js';

export interface AlterPlanStepOptions {
  schema: string;
  table: string;
  /** the planner's step: `done` set, first action a `sql` */
  step: PlanStep;
  /** the statement's handle in the job (its ClientToken derives from it) */
  handle: string;
  statementName: (ctx: Ctx) => string;
  /** name, title, plan of the step (default from the plan step) */
  base?: { name: string; title: string; plan: () => PlannedAction[] };
}

/** One planned in-place ALTER as a step: isDone holds the catalog to the plan's DoneCheck; run reads the table back. */
export function alterPlanStep(o: AlterPlanStepOptions): Step<D> {
  const { schema, table: name, step: ps } = o;
  const done = ps.done;
  if (!done) throw new Error(`step ${ps.name} has no done check`);
  const a = ps.actions[0];
  if (!a || a.kind !== 'sql') throw new Error(`step ${ps.name} has no statement`);
  return {
    ...(o.base ?? { name: ps.name, title: ps.title, plan: () => [{ kind: 'sql', text: a.sql }] }),
    isDone: async (ctx) => {
      const liveT = await readTable(ctx.deps.warehouse, schema, name);
      if (!liveT) throw new Error(`${schema}.${name} is missing`);
      return isStepDone(done, liveT);
    },
    run: async (ctx) => {
      const info = await runOnce(ctx, o.handle, { sql: a.sql }, o.statementName(ctx));
      // a FINISHED ALTER is not proof: read the table back and hold it to what the plan said
      const after = await readTable(ctx.deps.warehouse, schema, name);
      const unmet = after ? unmetExpectations(done, after) : [`${schema}.${name} is missing from the catalog`];
      if (unmet.length) {
        // forget the statement: a retry looks again (isDone) and, if the change is still missing, submits it anew
        await forgetStatement(ctx, o.handle);
        throw new Error(
          `statement ${info.id} finished, but ${schema}.${name} is not what the plan said (${done.description}):\n${unmet.map((u) => `• ${u}`).join('\n')}\n` +
            'Nothing further was changed. Look at the table (`/redshift schema diff ' + name + '`), then retry the step (it checks the table first and runs the ALTER again only if it is still missing) or roll the job back.',
        );
      }
      return `statement ${info.id}; the catalog shows ${done.description}`;
    },
  };
}

export const alterInPlaceStep: DeepCopyStep = (c, ps) =>
  alterPlanStep({ schema: c.schema, table: c.name, step: ps, handle: `stmt:${ps.name}`, statementName: (ctx) => c.stmtName(ctx, ps.name), base: c.base(ps) });

/** The approval an in-place DROP COLUMN waits for; undefined when the command drops no column. */
export function approveDropColumnStep(c: DeepCopyContext): Step<D> | undefined {
  const { schema, name } = c;
  const cols = c.ops.flatMap((o) => (o.op === 'drop_column' ? [o.column] : []));
  if (cols.length === 0) return undefined;
  return {
    name: 'approve-drop-column',
    title: `Approval: drop column ${cols.join(', ')}?`,
    plan: () => [{ kind: 'approval', text: `an allowed approver confirms dropping ${cols.join(', ')} from ${name} (the data in it is gone for good)` }],
    approval: { prompt: (ctx) => `Drop column ${cols.join(', ')} of ${schema}.${name} in place? The data in it is gone for good. Asked by <@${ctx.job.requester}>.` },
    isDone: async (ctx) => {
      const liveT = await readTable(ctx.deps.warehouse, schema, name);
      return liveT !== undefined && cols.every((x) => !liveT.columns.some((y) => y.name === x));
    },
    run: async () => 'approved',
  };
}
