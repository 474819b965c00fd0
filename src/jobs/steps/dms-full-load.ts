/**
 * Shared step: a DMS full load of ONE table, started and waited for without holding a worker.
 *
 * How the load starts (`start`):
 *   - `reload-table`      ReloadTables for the one table of a RUNNING task (the task keeps replicating the others);
 *   - `reload-target`     StartReplicationTask reload-target on a STOPPED / FAILED task (truncates and reloads every
 *                         table of the task, then CDC from the new start point) — the restart when the binlog position
 *                         is lost or the task failed;
 *   - `start-replication` StartReplicationTask start-replication on a task that never ran (`ready`, a new instance).
 * Then it looks at DescribeTableStatistics every `fullLoadPollMs` (the job parked in between: `waitUntil`), until the
 * table's TableState is `Table completed`, showing FullLoadRows as the wait's live figure (the progress message is
 * edited, no line per look). `Table error`, a task that went `failed` (its LastFailureMessage and StopReason) or
 * `stopped` under the load fail the step with what to do; a load still running after `fullLoadTimeoutMs` fails too
 * (`retry` resumes the wait, the load is not started again).
 *
 * Idempotent (runbook.ts contract): the time of the start call is recorded BEFORE the call (`<name>.requestedAt`) and
 * its success after (`<name>.started`); a step resumed between the two looks at the table's state and calls again
 * only if no load is under way. A `Table completed` counts only once a load was seen under way since the start (or the
 * table's LastUpdateTime is after it), so a stale state from before the reload never ends the wait.
 */
import type { RunbookDeps } from '../deps.js';
import type { PlannedAction, Step, StepContext } from '../runbook.js';
import { waitUntil } from '../runbook.js';
import type { DmsTableStat, DmsTask } from '../../replication/port.js';
import { dmsOf, taskArnOf } from './dms-task.js';

export type FullLoadStart = 'reload-table' | 'reload-target' | 'start-replication';

export interface DmsFullLoadOptions {
  /** step name, unique in the runbook (default `full-load`); also the prefix of the step's handles */
  name?: string;
  /** the DMS task's identifier (schemas/ replication.taskId) */
  taskId: string;
  schema: string;
  table: string;
  start: FullLoadStart;
}

/** How often the load is looked at, and how long it may take (RunbookSettings `fullLoadPollMs`, `fullLoadTimeoutMs`). */
export const DEFAULT_FULL_LOAD_POLL_MS = 30_000;
export const DEFAULT_FULL_LOAD_TIMEOUT_MS = 48 * 3_600_000;

const LOADING = new Set(['Before load', 'Full load', 'Table is being reloaded']);

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19) + ' UTC';
}

function n(x: number): string {
  return x.toLocaleString('en-US');
}

/** "LastFailureMessage: …; StopReason: …" of a task that stopped working. */
export function taskFailureText(t: DmsTask): string {
  return [t.lastFailureMessage ? `LastFailureMessage: ${t.lastFailureMessage}` : 'no LastFailureMessage', t.stopReason ? `StopReason: ${t.stopReason}` : undefined]
    .filter((p) => p !== undefined)
    .join('; ');
}

export function fullLoadStartText(o: DmsFullLoadOptions, arn = `<arn of ${o.taskId}>`): string {
  if (o.start === 'reload-table') return `ReloadTables ReplicationTaskArn=${arn} TablesToReload=[{SchemaName: ${o.schema}, TableName: ${o.table}}] ReloadOption=data-reload`;
  return `StartReplicationTask ReplicationTaskArn=${arn} StartReplicationTaskType=${o.start}`;
}

export function dmsFullLoadStep(o: DmsFullLoadOptions): Step<RunbookDeps> {
  const name = o.name ?? 'full-load';
  const key = `${o.schema}.${o.table}`;
  const h = (k: string): string => `${name}.${k}`;
  const how = o.start === 'reload-table' ? `ReloadTables for ${key}` : `StartReplicationTask ${o.start} of ${o.taskId}`;
  const settings = (ctx: { deps: RunbookDeps }): { pollMs: number; timeoutMs: number } => ({
    pollMs: Math.max(50, ctx.deps.settings?.fullLoadPollMs ?? DEFAULT_FULL_LOAD_POLL_MS),
    timeoutMs: ctx.deps.settings?.fullLoadTimeoutMs ?? DEFAULT_FULL_LOAD_TIMEOUT_MS,
  });
  const note = (deadline: number): string =>
    `waiting for DMS to load ${key} (${how}): DescribeTableStatistics until Table completed (gives up at ${clock(deadline)}; no worker is held — cancel acts at once)`;
  const progressOf = (stat: DmsTableStat | undefined): string => (stat ? `${key}: FullLoadRows ${n(stat.fullLoadRows)} · ${stat.state}` : `${key}: not in the task's table statistics yet`);

  const start = async (ctx: StepContext<RunbookDeps>, arn: string): Promise<void> => {
    const dms = dmsOf(ctx);
    if (o.start === 'reload-table') {
      await dms.reloadTable(arn, o.schema, o.table);
      await ctx.audit({ kind: 'aws-call', ref: arn, outcome: 'reload requested', text: `ReloadTables ${key}` });
      return;
    }
    const task = await dms.describeTask(arn);
    if (o.start === 'reload-target' && task.status !== 'stopped' && task.status !== 'failed')
      throw new Error(`DMS task ${o.taskId} is ${task.status}: StartReplicationTask reload-target needs a stopped or failed task (the runbook stops it first) — nothing was started`);
    if (o.start === 'start-replication' && task.status !== 'ready' && task.status !== 'stopped' && task.status !== 'failed')
      throw new Error(`DMS task ${o.taskId} is ${task.status}: StartReplicationTask start-replication needs a task that is not running — nothing was started`);
    const out = await dms.startTask(arn, o.start);
    await ctx.audit({ kind: 'aws-call', ref: arn, outcome: out.status, text: `StartReplicationTask ${o.start}` });
  };

  return {
    name,
    title: o.start === 'reload-table' ? `Reload ${key} (DMS ReloadTables) and wait for its full load` : `Start DMS task ${o.taskId} (${o.start}) and wait for the full load of ${key}`,
    plan: (): PlannedAction[] => [
      { kind: 'aws', text: `DescribeReplicationTasks Filters=[{Name: replication-task-id, Values: [${o.taskId}]}]` },
      { kind: 'aws', text: fullLoadStartText(o) },
      {
        kind: 'aws',
        text: `DescribeTableStatistics ReplicationTaskArn=<arn of ${o.taskId}> Filters=[{Name: schema-name, Values: [${o.schema}]}, {Name: table-name, Values: [${o.table}]}] — every poll (the job parked in between) until TableState = Table completed; FullLoadRows shown as it grows; Table error or a failed task fails the step`,
      },
    ],
    isDone: async (ctx) => ctx.handles[h('completed')] !== undefined,
    async run(ctx) {
      const dms = dmsOf(ctx);
      const { pollMs, timeoutMs } = settings(ctx);
      const arn = await taskArnOf(ctx, { taskId: o.taskId });
      /** a handle of this step ('' = cleared: a load that ended in an error is forgotten, so `retry` requests a new one) */
      const got = (k: string): string | undefined => {
        const v = ctx.handles[h(k)];
        return v === undefined || v === '' ? undefined : v;
      };
      /** this load ended without loading the table: `retry` starts a new one (the error says what to fix first) */
      const loadEnded = async (why: string): Promise<never> => {
        for (const k of ['requestedAt', 'started', 'sawLoading']) if (ctx.handles[h(k)] !== undefined) await ctx.setHandle(h(k), '');
        throw new Error(why);
      };
      if (got('started') === undefined) {
        const requested = got('requestedAt');
        let underWay = false;
        if (requested !== undefined) {
          // resumed between the call and its record: call again only if no load is under way
          const stat = await dms.tableStats(arn, o.schema, o.table);
          underWay = stat !== undefined && LOADING.has(stat.state);
        } else {
          await ctx.setHandle(h('requestedAt'), String(Date.now()));
        }
        if (!underWay) await start(ctx, arn);
        await ctx.setHandle(h('started'), String(Date.now()));
        const deadline = Number(ctx.handles[h('requestedAt')]) + timeoutMs;
        waitUntil(Date.now() + pollMs, note(deadline), `${key}: load requested (${how})`);
      }
      const requestedAt = Number(got('requestedAt') ?? Date.now());
      const deadline = requestedAt + timeoutMs;
      const task = await dms.describeTask(arn);
      const stat = await dms.tableStats(arn, o.schema, o.table);
      const loadedSince = (at: Date | undefined): boolean => at !== undefined && at.getTime() >= requestedAt;
      if (stat !== undefined && LOADING.has(stat.state) && got('sawLoading') === undefined) await ctx.setHandle(h('sawLoading'), String(Date.now()));
      // statistics from before the start (a Table error the reload is meant to clear) are stale until this load shows
      const thisLoad = got('sawLoading') !== undefined || loadedSince(stat?.fullLoadStart) || loadedSince(stat?.fullLoadEnd);
      const startedAt = Number(got('started') ?? requestedAt);
      const staleGrace = Math.max(30_000, 10 * pollMs);
      if (stat?.state === 'Table error' && !thisLoad && (task.status === 'starting' || Date.now() - startedAt < staleGrace))
        waitUntil(Math.min(deadline, Date.now() + pollMs), note(deadline), `${key}: still Table error from before the ${o.start === 'reload-table' ? 'reload' : 'start'} (task ${task.status}) — waiting for the load to begin`);
      if (stat?.state === 'Table error')
        await loadEnded(
          `DMS reports Table error for ${key} during its full load (FullLoadRows ${n(stat.fullLoadRows)}; task ${o.taskId} is ${task.status}): the table is suspended and gets no changes. Read the task's CloudWatch log for TARGET_LOAD / TARGET_APPLY ]E: lines and fix the cause; then Retry requests the load again${task.status === 'running' ? '' : ', or roll back and run recover again'}`,
        );
      if (task.status === 'failed')
        await loadEnded(
          `DMS task ${o.taskId} failed during the full load of ${key}: ${taskFailureText(task)}. Fix the cause (the task's CloudWatch log says more); then ${o.start === 'reload-table' ? 'roll back this job and run recover again (a failed task is restarted with reload-target)' : 'Retry starts the load again'}`,
        );
      const completedSinceStart = stat?.state === 'Table completed' && thisLoad;
      if (completedSinceStart && (task.status === 'running' || task.status === 'starting' || task.status === 'stopped')) {
        if (task.status === 'stopped' && o.start !== 'reload-table')
          await loadEnded(`DMS task ${o.taskId} stopped after loading ${key} (${taskFailureText(task)}): it does not replicate changes; start it (resume-processing) and run recover again`);
        await ctx.setHandle(h('completed'), String(Date.now()));
        await ctx.setHandle(h('fullLoadRows'), String(stat.fullLoadRows));
        return `Table completed: FullLoadRows ${n(stat.fullLoadRows)} in ${((Date.now() - requestedAt) / 1000).toFixed(1)} s (${how}); task ${o.taskId} is ${task.status}`;
      }
      if (task.status === 'stopped' || task.status === 'ready')
        await loadEnded(`DMS task ${o.taskId} is ${task.status} while ${key} waits for its full load (${taskFailureText(task)}): someone stopped it, or it never started; start it again and run recover again`);
      if (Date.now() >= deadline)
        throw new Error(
          `${key} is still not loaded ${Math.round(timeoutMs / 60_000)} min after ${how} (${progressOf(stat)}; task ${task.status}): the load may still be running — \`retry\` resumes the wait without starting the load again`,
        );
      waitUntil(Math.min(deadline, Date.now() + pollMs), note(deadline), progressOf(stat));
    },
  };
}
