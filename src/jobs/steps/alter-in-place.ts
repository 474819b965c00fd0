/**
 * A modify in place: one ALTER per plan step (`alter-<n>`), done when the catalog shows what the plan said (a FINISHED
 * ALTER is not proof: the table is read back and held to the plan), and the approval an in-place DROP COLUMN needs
 * first (the data in the column is gone for good).
 */
import { isStepDone, unmetExpectations } from '../../modify/planner.js';
import { readTable } from '../../schema/catalog.js';
import { forgetStatement, runOnce } from '../statements.js';
import type { DeepCopyContext, DeepCopyStep, D } from './deep-copy-context.js';
import type { Step } from '../runbook.js';

export const alterInPlaceStep: DeepCopyStep = (c, ps) => {
  const { schema, name } = c;
  const done = ps.done;
  if (!done) throw new Error(`step ${ps.name} has no done check`);
  const a = ps.actions[0];
  if (!a || a.kind !== 'sql') throw new Error(`step ${ps.name} has no statement`);
  return {
    ...c.base(ps),
    isDone: async (ctx) => {
      const liveT = await readTable(ctx.deps.warehouse, schema, name);
      if (!liveT) throw new Error(`${schema}.${name} is missing`);
      return isStepDone(done, liveT);
    },
    run: async (ctx) => {
      const info = await runOnce(ctx, `stmt:${ps.name}`, { sql: a.sql }, c.stmtName(ctx, ps.name));
      // a FINISHED ALTER is not proof: read the table back and hold it to what the plan said
      const after = await readTable(ctx.deps.warehouse, schema, name);
      const unmet = after ? unmetExpectations(done, after) : [`${schema}.${name} is missing from the catalog`];
      if (unmet.length) {
        // forget the statement: a retry looks again (isDone) and, if the change is still missing, submits it anew
        await forgetStatement(ctx, `stmt:${ps.name}`);
        throw new Error(
          `statement ${info.id} finished, but ${schema}.${name} is not what the plan said (${done.description}):\n${unmet.map((u) => `• ${u}`).join('\n')}\n` +
            'Nothing further was changed. Look at the table (`/redshift schema diff ' + name + '`), then retry the step (it checks the table first and runs the ALTER again only if it is still missing) or roll the job back.',
        );
      }
      return `statement ${info.id}; the catalog shows ${done.description}`;
    },
  };
};

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
