/**
 * `/redshift recover <table>`: bring a table back after a replication outage. The choice is made from the world when
 * the job is queued (recover-assess.ts: what was read, and why) and checked again by the first step; the steps come
 * from the shared library (src/jobs/steps/), composed here — never copied:
 *
 * dms (core_usermailing):
 *   assess → [recreate: approve-drop | approve-create → stop-task → drop → create from schemas/]
 *          → [reload-target: stop-task] → full-load (ReloadTables, or StartReplicationTask reload-target; parked until
 *            Table completed, FullLoadRows live) → log-check (]E: since the load started) → cdc-applies (the CDC
 *            counters move) → duplicate-keys → approve-dedupe → dedupe → final-compare (must be equal)
 * cdc (the other 25):
 *   assess → cdc-reload-request (the exact steps for the service's dashboard) → cdc-reload-wait (parked: exists, count
 *   stable, equal to the source) → duplicate-keys → approve-dedupe → dedupe → conform-check → modify's deep copy to
 *   the schemas/ definition (conform.ts, shared with setup: its own steps and its approval to drop old_<t>; skipped
 *   when the table already matches)
 *   → final-compare (must be equal)
 *
 * Nothing is dropped or created without an approval that names the table and why; a reject changes nothing.
 */
import { z } from 'zod';
import { tableRef } from '../../commands/types.js';
import { qualified } from '../../schema/identifiers.js';
import type { TableDef } from '../../schema/model.js';
import { renderCreateTable } from '../../schema/render.js';
import { runbookSettings, type RunbookDeps } from '../deps.js';
import { defineRunbook, type PlannedAction, type Step, type StepContext } from '../runbook.js';
import { cdcReloadRequestStep, cdcReloadWaitStep } from '../steps/cdc-reload.js';
import { compareStep } from '../steps/compare.js';
import { createTableStep } from '../steps/create-table.js';
import { dmsAppliesStep } from '../steps/dms-applies.js';
import { dmsFullLoadStep } from '../steps/dms-full-load.js';
import { dmsOf, stopTaskStep, taskArnOf } from '../steps/dms-task.js';
import { approveDropStep, dropTableStep } from '../steps/drop-table.js';
import { dedupeSteps, duplicateKeysCheckStep } from '../steps/duplicate-keys.js';
import { logCheckStep } from '../steps/log-check.js';
import { conformSteps } from './conform.js';
import { assessRecover, decisionChanged, recoverDecision, type RecoverDecision } from './recover-assess.js';

type D = RunbookDeps;
type Ctx = StepContext<D>;

export const recoverParams = z.strictObject({ table: tableRef, decision: recoverDecision });
export type RecoverParams = z.output<typeof recoverParams>;

type DmsDecision = Extract<RecoverDecision, { provider: 'dms' }>;
type CdcDecision = Extract<RecoverDecision, { provider: 'cdc' }>;

/** The first step: the world read again; a plan made for another world stops the job before it changes anything. */
function assessStep(def: TableDef, d: RecoverDecision): Step<D> {
  const key = `${def.schema}.${def.name}`;
  const what = d.provider === 'dms' ? d.strategy : 'cdc reload';
  return {
    name: 'assess',
    title: `Read ${key}'s replication and table again; the plan is "${what}"`,
    plan: (): PlannedAction[] => [
      ...(d.provider === 'dms'
        ? [{ kind: 'aws' as const, text: `DescribeReplicationTasks ${def.replication.provider === 'dms' ? def.replication.taskId : ''}; DescribeTableStatistics for ${key}` }]
        : []),
      { kind: 'check', text: `catalog: ${key} exists? its shape vs schemas/; source vs warehouse row counts (outside the lag window)` },
      ...d.reasons.map((r): PlannedAction => ({ kind: 'check', text: `why: ${r}` })),
    ],
    isDone: async (ctx) => ctx.handles['recover.assessed'] !== undefined,
    async run(ctx) {
      const now = await assessRecover(ctx.deps, def);
      const changed = decisionChanged(d, now);
      if (changed !== undefined) throw new Error(`the world changed since the plan: ${changed} — nothing was changed; run \`recover ${def.name}\` again to plan from what is there now`);
      await ctx.setHandle('recover.assessed', String(Date.now()));
      const reasons = 'refuse' in now ? [] : now.reasons;
      return `${what}: ${reasons.join('; ')}`;
    },
  };
}

/** Approval to create a table that is missing (it is not a drop, but it changes the warehouse and reloads the task). */
function approveCreateStep(def: TableDef, d: DmsDecision, taskId: string): Step<D> {
  const key = `${def.schema}.${def.name}`;
  return {
    name: 'approve-create',
    title: `Approve creating ${key} from schemas/ and reloading it with DMS`,
    plan: () => [{ kind: 'approval', text: `an allowed approver confirms creating ${key} from schemas/ and restarting DMS task ${taskId} with reload-target` }],
    approval: {
      prompt: () =>
        `Create ${key} from schemas/? ${d.reasons.join(' ')} DMS task ${taskId} is stopped, ${key} created from its definition, and the task started with reload-target (it truncates and loads the task's tables from the source). Reject stops the job: nothing is created.`,
    },
    isDone: async (ctx) => ctx.handles['recover.created'] !== undefined,
    run: async () => 'approved',
  };
}

function dmsSteps(def: TableDef, d: DmsDecision, deps: D): Step<D>[] {
  const rep = def.replication;
  if (rep.provider !== 'dms') throw new Error(`${def.name} is not replicated by DMS`);
  const key = `${def.schema}.${def.name}`;
  const ref = { taskId: rep.taskId };
  const stmtName = (ctx: Ctx, step: string) => `job ${ctx.job.id} ${step} ${key}`;
  const steps: Step<D>[] = [];
  const loadStarted = (ctx: Ctx) => (ctx.handles['full-load.requestedAt'] ?? '') !== '';
  const stop = stopTaskStep({
    name: 'stop-task',
    title: `Stop DMS task ${rep.taskId} (a failed or stopped task is left as it is)`,
    taskId: rep.taskId,
    plan: () => [{ kind: 'aws', text: `StopReplicationTask ${rep.taskId} (skipped when it is stopped, failed or never ran); wait until stopped` }],
    // a failed / stopped / never-run task has nothing to stop (and a reload-target starts it from any of those)
    pastIf: async (ctx) => loadStarted(ctx) || ['stopped', 'failed', 'ready'].includes((await dmsOf(ctx).describeTask(await taskArnOf(ctx, ref))).status),
  });
  if (d.strategy === 'recreate') {
    if (d.tableExists) {
      steps.push(
        approveDropStep({
          name: 'approve-drop',
          title: `Approve dropping ${key} to recreate it from schemas/`,
          schema: def.schema,
          table: def.name,
          pastIf: async (ctx) => ctx.handles['recover.dropped'] === '1' || ctx.handles['recover.created'] !== undefined,
          prompt: {
            before: () => `${d.reasons.join(' ')} `,
            after: () => `DMS task ${rep.taskId} is stopped, ${key} dropped and created from its definition, then the task started with reload-target (a full load from the source). Reject stops the job: nothing is dropped.`,
          },
        }),
        stop,
        dropTableStep({
          name: 'drop',
          title: `Drop ${key}`,
          schema: def.schema,
          table: def.name,
          approvalStep: 'approve-drop',
          sql: { sql: `DROP TABLE ${qualified(def.schema, def.name)}` },
          handle: 'stmt:drop',
          statementName: (ctx) => stmtName(ctx, 'drop'),
          droppedHandle: 'recover.dropped',
        }),
      );
    } else {
      steps.push(approveCreateStep(def, d, rep.taskId), stop);
    }
    steps.push(
      createTableStep({
        name: 'create',
        title: `Create ${key} from schemas/`,
        schema: def.schema,
        table: def.name,
        sql: renderCreateTable(def),
        handle: 'stmt:create',
        statementName: (ctx) => stmtName(ctx, 'create'),
        columns: def.columns,
        createdHandle: 'recover.created',
        // a rollback drops it only while it is empty (never rows DMS loaded meanwhile)
        undo: { kind: 'if-empty', handle: 'recover.created' },
      }),
    );
  } else if (d.strategy === 'reload-target') {
    steps.push(stop);
  }
  steps.push(dmsFullLoadStep({ taskId: rep.taskId, schema: def.schema, table: def.name, start: d.strategy === 'reload-table' ? 'reload-table' : 'reload-target' }));
  const settings = runbookSettings(deps);
  steps.push(
    logCheckStep({
      name: 'log-check',
      title: `Read DMS task ${rep.taskId}'s CloudWatch log for load and apply errors (]E:) since the load started`,
      logGroup: rep.logGroup,
      ...(rep.logStream ? { logStream: rep.logStream } : {}),
      startHandle: 'full-load.requestedAt',
      since: 'since the load started',
      // the whole load, then logCheckMs of replication after it
      windowMs: (ctx) => Math.max(0, Number(ctx.handles['full-load.completed'] ?? Date.now()) - Number(ctx.handles['full-load.requestedAt'] ?? Date.now())) + settings.logCheckMs,
      errorStatus: 'warn',
      onErrors: 'the load or the replication after it reported errors: read them; the final compare says whether rows are missing',
    }),
    dmsAppliesStep({ taskId: rep.taskId, schema: def.schema, table: def.name }),
  );
  return steps;
}

function cdcSteps(def: TableDef, d: CdcDecision, deps: D): { before: Step<D>[]; conform: Step<D>[] } {
  // the definition is already schemas/ (no file to rewrite); the final compare below is the one that must pass
  const conform = conformSteps(def, d.planFrom, deps, { again: `\`recover ${def.name}\``, filledBy: "the CDC service's reload", shape: "the CDC service's shape" });
  return { before: [cdcReloadRequestStep(def), cdcReloadWaitStep(def)], conform };
}

export const recoverRunbook = defineRunbook<D, RecoverParams>({
  kind: 'recover',
  paramsSchema: recoverParams,
  build(params, deps) {
    const def = deps.registry.get(params.table.schema, params.table.name);
    if (!def) throw new Error(`${params.table.schema}.${params.table.name} is not in ${deps.registry.dir}; was its file removed after the job was queued?`);
    const d = params.decision;
    if (d.provider !== def.replication.provider) throw new Error(`${def.name} is replicated by ${def.replication.provider} now, but the job was planned for ${d.provider}; run recover again`);
    const steps: Step<D>[] = [assessStep(def, d)];
    const dedupe = [duplicateKeysCheckStep(def), ...dedupeSteps(def)];
    if (d.provider === 'dms') steps.push(...dmsSteps(def, d, deps), ...dedupe);
    else {
      const c = cdcSteps(def, d, deps);
      steps.push(...c.before, ...dedupe, ...c.conform);
    }
    steps.push(compareStep(def, { name: 'final-compare', failOnDifference: true, again: { times: 3, delayMs: Math.max(1_000, Math.min(30_000, (deps.compare?.lagSeconds ?? 60) * 1000)) } }));
    return { kind: 'recover', steps };
  },
});
