/**
 * `/redshift modify <table> <ops>`: the planner (src/modify) decides in place vs deep copy and writes every statement;
 * this runbook turns the plan's steps into engine steps that look at the world before acting (isDone), act once
 * (statement ids recorded before waiting), and know how to take their change back (undo) — pgroll's model.
 *
 * Deep copy, by provider (DESIGN.md §4 invariant 1):
 *  - dms: stop the task (wait `stopped`) → create new_<t> → copy → verify → swap in one batch → resume → read the
 *    task's CloudWatch log → post-swap verification → approval → drop old_<t> (+ re-create the FKs that pointed at it) → rewrite schemas/.
 *  - cdc live-copy (default): create → copy mark → copy while the table stays readable → remove rows deleted meanwhile
 *    → verify the stable rows → ONE batch: lock, apply the delta since the mark, swap → post-swap delete sync → move
 *    late writes from old_<t> → freshness → post-swap verification → approval → drop → schemas/.
 *  - cdc rename-first (fallback): t → old_<t> (the service buffers) → create → copy → verify → new_<t> → t → …
 * The post-swap verification (step post-verify, its SQL from the plan) compares old_<t> with <t> before anyone is asked
 * to drop old_<t>, and the approval prompt shows its line. Verification lines say exactly what they compared; one that
 * compared 0 rows returns status 'warn' (shown ⚠, never ✓).
 * The steps live in the shared step library (src/jobs/steps/, one file per operation); this file only composes them:
 * plan step → step factory. The generic ones (dms-task, create-table, log-check, freshness, drop-table, compare) get
 * plain inputs — modify hands them its planned SQL; the deep-copy ones share the job's context (steps/deep-copy-context.ts).
 * Rollback (reject at the approval, `/redshift rollback`, a Rollback button) undoes the completed steps in reverse:
 * resume ↔ stop, swap ↔ swap back (carrying changes made since the swap), create ↔ drop new_<t>. After the drop the old
 * data is gone, and a rollback says so instead of pretending.
 */
import type { PlanStep } from '../../modify/types.js';
import { logLagMsOf, type RunbookDeps } from '../deps.js';
import { defineRunbook, type Step } from '../runbook.js';
import { alterInPlaceStep, approveDropColumnStep } from '../steps/alter-in-place.js';
import { catchUpStep } from '../steps/catch-up.js';
import { checkTypesStep } from '../steps/check-types.js';
import { compareStep } from '../steps/compare.js';
import { copyStep } from '../steps/copy.js';
import { createTableStep } from '../steps/create-table.js';
import { batchOf, makeDeepCopyContext, sqlOf, type DeepCopyStep } from '../steps/deep-copy-context.js';
import { resumeTaskStep, stopTaskStep } from '../steps/dms-task.js';
import { approveDropStep, dropTableStep } from '../steps/drop-table.js';
import { freshnessStep } from '../steps/freshness.js';
import { lateWritesStep } from '../steps/late-writes.js';
import { logCheckStep } from '../steps/log-check.js';
import { markStep } from '../steps/mark.js';
import { postSyncStep } from '../steps/post-sync.js';
import { postVerifyStep } from '../steps/post-verify.js';
import { preSyncStep } from '../steps/pre-sync.js';
import { preflightStep } from '../steps/preflight.js';
import { readGrantsStep } from '../steps/read-grants.js';
import { renameAwayStep } from '../steps/rename-away.js';
import { renameInStep } from '../steps/rename-in.js';
import { schemaFileStep } from '../steps/schema-file.js';
import { swapStep } from '../steps/swap.js';
import { verifyStep } from '../steps/verify.js';
import { buildPlan, catchUpOf, modifyParams, planModifyJob, settingsOf, type ModifyParams } from './modify-plan.js';

export { buildPlan, modifyParams, planModifyJob, settingsOf, type ModifyParams } from './modify-plan.js';

type D = RunbookDeps;

/** The deep-copy steps, by plan step name: each executes its plan step's statements. */
const deepCopySteps: Record<string, DeepCopyStep> = {
  preflight: preflightStep,
  'check-types': checkTypesStep,
  'read-grants': readGrantsStep,
  'rename-away': renameAwayStep,
  mark: markStep,
  copy: copyStep,
  'pre-sync': preSyncStep,
  'catch-up': catchUpStep,
  verify: verifyStep,
  swap: swapStep,
  'rename-in': renameInStep,
  'post-sync': postSyncStep,
  'late-writes': lateWritesStep,
  'post-verify': postVerifyStep,
  'schema-file': schemaFileStep,
};

export const modifyRunbook = defineRunbook<D, ModifyParams>({
  kind: 'modify',
  paramsSchema: modifyParams,
  build(params, deps) {
    const plan = buildPlan(params, deps);
    const settings = settingsOf(deps);
    const c = makeDeepCopyContext({ plan, ops: params.command.ops, settings, catchUp: catchUpOf(settings), replan: (check) => planModifyJob(params, deps, check) });
    const { schema, name, newTable, oldTable } = c;
    const rep = plan.current.replication;
    const dmsTaskId = (): string => {
      if (rep.provider !== 'dms') throw new Error(`${name} is not replicated by DMS`);
      return rep.taskId;
    };

    /** the generic library steps, given modify's names and planned SQL */
    const generic: Record<string, (s: PlanStep) => Step<D>> = {
      'stop-task': (s) => stopTaskStep({ ...c.base(s), taskId: dmsTaskId(), pastIf: c.swapped }),
      'resume-task': (s) =>
        resumeTaskStep({
          ...c.base(s),
          taskId: dmsTaskId(),
          startHandle: 'resumedAt',
          // after the drop there is nothing to swap back to: say so before stopping the task for nothing
          undoRefusal: (ctx) => (c.dropped(ctx) ? `${oldTable} was dropped: the old data is gone and there is nothing to swap back to; the DMS task keeps running` : undefined),
          undoNote: 'DMS task stopped for the swap back',
        }),
      create: (s) =>
        createTableStep({
          ...c.base(s),
          schema,
          table: newTable,
          sql: sqlOf(s),
          handle: 'stmt:create',
          statementName: (ctx) => c.stmtName(ctx, 'create'),
          columns: plan.next.columns,
          pastIf: async (ctx) => {
            const n = await c.names(ctx);
            return (n.t && n.ot) || c.dropped(ctx);
          },
          // new_<t> is never the only copy of the data: drop it only while <t> or old_<t> exists
          undo: {
            kind: 'while',
            when: async (ctx) => {
              const n = await c.names(ctx);
              return n.t || n.ot;
            },
            sql: () => sqlOf(c.rollbackOf('drop-new')),
            handle: 'stmt:drop-new',
            statementName: (ctx) => c.stmtName(ctx, 'drop new'),
            note: `dropped ${newTable}`,
          },
        }),
      'log-check': (s) =>
        rep.provider === 'dms'
          ? logCheckStep({
              ...c.base(s),
              logGroup: rep.logGroup,
              ...(rep.logStream ? { logStream: rep.logStream } : {}),
              startHandle: 'resumedAt',
              since: 'after the resume',
              windowMs: settings.logCheckMs,
              lagMs: logLagMsOf(settings),
            })
          : { ...c.base(s), isDone: async () => false, run: async () => 'not a DMS table' },
      freshness: (s) => {
        const a = s.actions[0];
        return freshnessStep({ ...c.base(s), table: name, query: a?.kind === 'query' ? a.sql : undefined, pastIf: async (ctx) => c.dropped(ctx), windowMs: settings.freshnessMs });
      },
      'approve-drop': (s) =>
        approveDropStep({
          ...c.base(s),
          schema,
          table: oldTable,
          pastIf: async (ctx) => c.dropped(ctx),
          prompt: {
            before: (ctx) => {
              const errs = Number(ctx.handles['logErrors'] ?? '0');
              return errs ? `⚠️ ${errs} ]E: line(s) in the DMS log after the resume — Reject rolls the change back (swap back). ` : '';
            },
            after: (ctx) => {
              const pv = ctx.handles['postVerify'];
              const verified = pv ? ` ${ctx.handles['postVerifyStatus'] === 'warn' ? '⚠️ ' : ''}Post-swap verification: ${pv}.` : '';
              return `${name} now has the new shape (${params.command.ops.length} change(s), asked by <@${ctx.job.requester}>).${verified} Approve drops the old table for good; Reject rolls back (swap back).`;
            },
          },
        }),
      drop: (s) =>
        dropTableStep({
          ...c.base(s),
          schema,
          table: oldTable,
          keep: name,
          approvalStep: 'approve-drop',
          sql: { batch: batchOf(s) },
          handle: 'stmt:drop',
          statementName: (ctx) => c.stmtName(ctx, 'drop'),
          detail: (id) => `dropped ${oldTable}${plan.foreignKeys.length ? ` and re-created ${plan.foreignKeys.length} foreign key(s) on ${name}` : ''} (statement ${id})`,
        }),
    };

    const steps: Step<D>[] = [];
    for (const ps of plan.steps) {
      const make = generic[ps.name];
      const deep = deepCopySteps[ps.name];
      if (make) steps.push(make(ps));
      else if (deep) steps.push(deep(c, ps));
      else if (ps.name.startsWith('alter-') && ps.done) steps.push(alterInPlaceStep(c, ps));
      else throw new Error(`no runbook step for plan step "${ps.name}"`);
    }
    // an in-place DROP COLUMN destroys data: it waits for an approval first
    if (plan.mode === 'in-place') {
      const gate = approveDropColumnStep(c);
      if (gate) steps.unshift(gate);
    }
    // with a source configured, the swapped table is compared with it (a report line; a difference does not fail the job:
    // replication may still be catching up, and the lag window only covers rows with updated_at/created_at)
    if (deps.source && plan.mode !== 'in-place') {
      const at = steps.findIndex((s) => s.name === 'approve-drop');
      steps.splice(at < 0 ? steps.length : at, 0, compareStep(plan.next));
    }
    return { kind: 'modify', steps };
  },
});
