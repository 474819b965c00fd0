/**
 * Generic "drop a table" steps (shared step library): an approval step whose prompt always names the table, and the
 * drop itself, which runs only when that approval is on the job's record as approved — a drop can never be composed
 * without its gate. The drop's SQL is the caller's (modify's plan drops old_<t> and re-creates foreign keys in one
 * batch; recover drops a broken table).
 *
 * `keep` names the table that holds the data once the dropped one is gone: the drop refuses while it is missing.
 * The drop records `droppedHandle` = '1' (later steps and a rollback read it: after the drop there is no going back).
 */
import type { RunbookDeps } from '../deps.js';
import type { PlanContext, PlannedAction, Step, StepContext } from '../runbook.js';
import { runOnce, tableExists, type Sql } from '../statements.js';

type D = RunbookDeps;
type Ctx = StepContext<D>;

export interface ApproveDropStepOptions {
  name: string;
  title: string;
  schema: string;
  /** the table the approval is for: the prompt reads "Drop <schema>.<table>?" */
  table: string;
  plan?: () => PlannedAction[];
  /** text before the question (a warning) and after it (why, what Approve and Reject do) */
  prompt: { before?: (ctx: PlanContext<D>) => string; after: (ctx: PlanContext<D>) => string };
  /** the job is already past this point (e.g. dropped): done even if the table exists */
  pastIf?: (ctx: Ctx) => Promise<boolean>;
}

export function approveDropStep(o: ApproveDropStepOptions): Step<D> {
  return {
    name: o.name,
    title: o.title,
    plan: o.plan ?? (() => [{ kind: 'approval', text: `an allowed approver confirms dropping ${o.schema}.${o.table}` }]),
    approval: { prompt: (ctx) => `${o.prompt.before?.(ctx) ?? ''}Drop ${o.schema}.${o.table}? ${o.prompt.after(ctx)}` },
    isDone: async (ctx) => (o.pastIf !== undefined && (await o.pastIf(ctx))) || !(await tableExists(ctx, o.schema, o.table)),
    run: async () => 'approved',
  };
}

export interface DropTableStepOptions {
  name: string;
  title: string;
  schema: string;
  table: string;
  /** the name of the approveDropStep this drop runs behind */
  approvalStep: string;
  /** the DROP TABLE (or a batch with it), as planned */
  sql: Sql;
  /** the statement's handle in the job */
  handle: string;
  statementName: (ctx: Ctx) => string;
  plan?: () => PlannedAction[];
  /** the table that holds the data after the drop: the drop refuses while it is missing */
  keep?: string;
  /** set to '1' once dropped (default `dropped`) */
  droppedHandle?: string;
  /** the detail line from the statement id (default "dropped <table> (statement <id>)") */
  detail?: (statementId: string) => string;
}

/** The approval of `step` as the job records it last (approved or rejected), if any. */
function lastDecision(ctx: Ctx, step: string): string | undefined {
  return [...ctx.job.approvals].reverse().find((a) => a.step === step)?.decision;
}

export function dropTableStep(o: DropTableStepOptions): Step<D> {
  const droppedHandle = o.droppedHandle ?? 'dropped';
  return {
    name: o.name,
    title: o.title,
    plan: o.plan ?? (() => [{ kind: 'sql', text: 'sql' in o.sql ? o.sql.sql : o.sql.batch.join(';\n') }]),
    isDone: async (ctx) =>
      ctx.handles[droppedHandle] === '1' || (!(await tableExists(ctx, o.schema, o.table)) && (o.keep === undefined || (await tableExists(ctx, o.schema, o.keep)))),
    run: async (ctx) => {
      if (o.keep !== undefined && !(await tableExists(ctx, o.schema, o.keep)))
        throw new Error(`${o.keep} is missing; refusing to drop ${o.table}, the only copy of the data`);
      if (lastDecision(ctx, o.approvalStep) !== 'approved')
        throw new Error(`refusing to drop ${o.schema}.${o.table}: the job has no approval of step ${o.approvalStep} on record (a drop only runs behind its approval)`);
      const info = await runOnce(ctx, o.handle, o.sql, o.statementName(ctx));
      await ctx.setHandle(droppedHandle, '1');
      return o.detail ? o.detail(info.id) : `dropped ${o.table} (statement ${info.id})`;
    },
  };
}
