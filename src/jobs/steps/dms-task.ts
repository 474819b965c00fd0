/**
 * Generic DMS task steps (shared step library): find a task's ARN, stop it, resume it, start it with a type. Plain
 * inputs — a task identifier, the handle keys, an optional "already past this point" predicate — so modify, recover and
 * setup build them alike. The ARN is recorded in the job's handles (default `taskArn`) the first time it is looked up.
 *
 * Every call is audited (the ARN and the task's status after the call). A wait for a task status uses the DmsPort's
 * own polling (`waitForStatus`, bounded, abortable by ctx.signal); a wait of hours (a full load) belongs in a step that
 * parks the job (`waitUntil`), not here.
 */
import type { DmsPort, DmsStartType, DmsTask } from '../../replication/port.js';
import type { RunbookDeps } from '../deps.js';
import type { PlannedAction, Step, StepContext } from '../runbook.js';

type D = RunbookDeps;
type Ctx = StepContext<D>;

/** The worker's DMS client, or a readable error when it has none. */
export function dmsOf(ctx: { deps: D }): DmsPort {
  if (!ctx.deps.dms) throw new Error('this worker has no DMS client configured (AWS region/credentials); it cannot run a DMS runbook');
  return ctx.deps.dms;
}

/** Which task, and the handle its ARN is kept under. */
export interface DmsTaskRef {
  /** the replication task identifier, e.g. flydata-core-usermailing */
  taskId: string;
  /** the handle holding the task's ARN (default `taskArn`) */
  arnHandle?: string;
}

const arnKey = (ref: DmsTaskRef): string => ref.arnHandle ?? 'taskArn';

/** The task's ARN: from the handle, else DescribeReplicationTasks by identifier (recorded and audited). */
export async function taskArnOf(ctx: Ctx, ref: DmsTaskRef): Promise<string> {
  const known = ctx.handles[arnKey(ref)];
  if (known) return known;
  const task = await dmsOf(ctx).findTask(ref.taskId);
  await ctx.setHandle(arnKey(ref), task.arn);
  await ctx.audit({ kind: 'aws-call', ref: task.arn, outcome: task.status, text: `DescribeReplicationTasks ${ref.taskId}` });
  return task.arn;
}

/** StopReplicationTask, then wait until `stopped`. */
export async function stopTask(ctx: Ctx, ref: DmsTaskRef): Promise<DmsTask> {
  const arn = await taskArnOf(ctx, ref);
  const t0 = await dmsOf(ctx).stopTask(arn);
  await ctx.audit({ kind: 'aws-call', ref: arn, outcome: t0.status, text: 'StopReplicationTask' });
  return dmsOf(ctx).waitForStatus(arn, 'stopped', { signal: ctx.signal });
}

/** StartReplicationTask resume-processing, then wait until `running`. */
export async function resumeTask(ctx: Ctx, ref: DmsTaskRef): Promise<DmsTask> {
  const arn = await taskArnOf(ctx, ref);
  const t0 = await dmsOf(ctx).resumeTask(arn);
  await ctx.audit({ kind: 'aws-call', ref: arn, outcome: t0.status, text: 'StartReplicationTask resume-processing' });
  return dmsOf(ctx).waitForStatus(arn, 'running', { signal: ctx.signal });
}

interface DmsStepBase extends DmsTaskRef {
  name: string;
  title: string;
  /** what the step will do (dry-run, approval message); default: the AWS call by name */
  plan?: () => PlannedAction[];
  /** the job is already past this point (e.g. the swap happened): the step is done without asking DMS */
  pastIf?: (ctx: Ctx) => Promise<boolean>;
}

export type StopTaskStepOptions = DmsStepBase;

/**
 * isDone of a task step: the job is past this point (`pastIf`), or the task is `status` now — once this job recorded
 * `startHandle` when one is given (a running task is not this step's doing until the step started it).
 */
function taskReached(o: DmsStepBase, status: 'stopped' | 'running', startHandle?: string): (ctx: Ctx) => Promise<boolean> {
  return async (ctx) => {
    if (o.pastIf && (await o.pastIf(ctx))) return true;
    if (startHandle !== undefined && ctx.handles[startHandle] === undefined) return false;
    const t = await dmsOf(ctx).describeTask(await taskArnOf(ctx, o));
    return t.status === status;
  };
}

/** Stop the task and wait `stopped`; undo resumes it (only when this job looked the task up). */
export function stopTaskStep(o: StopTaskStepOptions): Step<D> {
  return {
    name: o.name,
    title: o.title,
    plan: o.plan ?? (() => [{ kind: 'aws', text: `dms stop-replication-task ${o.taskId}; wait until stopped` }]),
    isDone: taskReached(o, 'stopped'),
    run: async (ctx) => `task ${o.taskId} is ${(await stopTask(ctx, o)).status}`,
    undo: async (ctx) => {
      if (!ctx.handles[arnKey(o)]) return;
      await resumeTask(ctx, o);
      await ctx.note(`DMS task ${o.taskId} resumed`);
    },
  };
}

export interface ResumeTaskStepOptions extends DmsStepBase {
  /** the handle the resume's start time is recorded under (a log check reads from it); default `resumedAt` */
  startHandle?: string;
  /** why undo must not stop the task (e.g. the old table was dropped): undo throws this instead of stopping */
  undoRefusal?: (ctx: Ctx) => string | undefined;
  /** said when undo stopped the task (default "DMS task stopped") */
  undoNote?: string;
}

/** Resume the task (resume-processing) and wait `running`; records the start time; undo stops the task again. */
export function resumeTaskStep(o: ResumeTaskStepOptions): Step<D> {
  const startHandle = o.startHandle ?? 'resumedAt';
  return {
    name: o.name,
    title: o.title,
    plan: o.plan ?? (() => [{ kind: 'aws', text: `dms start-replication-task ${o.taskId} --start-replication-task-type resume-processing; wait until running` }]),
    isDone: taskReached(o, 'running', startHandle),
    run: async (ctx) => {
      const startedAt = Date.now();
      const t = await resumeTask(ctx, o);
      await ctx.setHandle(startHandle, String(startedAt));
      return `task is ${t.status}`;
    },
    undo: async (ctx) => {
      if (!ctx.handles[arnKey(o)]) return;
      const refusal = o.undoRefusal?.(ctx);
      if (refusal !== undefined) throw new Error(refusal);
      await stopTask(ctx, o);
      await ctx.note(o.undoNote ?? `DMS task ${o.taskId} stopped`);
    },
  };
}

/** StartReplicationTaskType values other than resume-processing (which resumeTaskStep covers). */
export type StartTaskType = DmsStartType;

export interface StartTaskStepOptions extends DmsStepBase {
  type: StartTaskType;
  /** the handle the start time is recorded under BEFORE the call (a log check reads from it); default `startedAt` */
  startHandle?: string;
}

/**
 * Start the task with `type` (start-replication on a new task, reload-target to reload every table) and wait `running`.
 * The start time is recorded before the call, so a resumed step does not start the task a second time while it runs
 * (a second reload-target would truncate and reload again); it calls again only when the task is not running/starting.
 * No undo: a started load is not taken back by stopping it (the caller's rollback decides).
 */
export function startTaskStep(o: StartTaskStepOptions): Step<D> {
  const startHandle = o.startHandle ?? 'startedAt';
  return {
    name: o.name,
    title: o.title,
    plan: o.plan ?? (() => [{ kind: 'aws', text: `dms start-replication-task ${o.taskId} --start-replication-task-type ${o.type}; wait until running` }]),
    isDone: taskReached(o, 'running', startHandle),
    run: async (ctx) => {
      const dms = dmsOf(ctx);
      const arn = await taskArnOf(ctx, o);
      const before = ctx.handles[startHandle] === undefined ? undefined : await dms.describeTask(arn);
      if (before === undefined || !['running', 'starting'].includes(before.status)) {
        await ctx.setHandle(startHandle, String(Date.now()));
        const t0 = await dms.startTask(arn, o.type);
        await ctx.audit({ kind: 'aws-call', ref: arn, outcome: t0.status, text: `StartReplicationTask ${o.type}` });
      }
      const t = await dms.waitForStatus(arn, 'running', { signal: ctx.signal });
      return `task ${o.taskId} is ${t.status} (StartReplicationTask ${o.type})`;
    },
  };
}
