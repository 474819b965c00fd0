/**
 * setup's DMS part for one dms table (core_usermailing), composed from the shared steps:
 *   dms-source-endpoint / dms-target-endpoint (steps/dms-endpoints.ts) → dms-task-<t> (steps/dms-create-task.ts: from
 *   the registry's settings, or stop on a task with others) → full-load-<t> (steps/dms-full-load.ts: start-replication
 *   and the parked wait for `Table completed`, composed in setupFullLoadStep) → dms-replicating-<t> (here: the task runs and the table is loaded) →
 *   log-check-<t> (steps/log-check.ts: the window after the load's start — this job's, or the one DMS recorded, so a
 *   re-run reads a past window at once) → duplicate-keys-<t> (steps/duplicate-keys.ts, the count) → compare-<t>.
 *
 * Setup never restarts a task that has run: start-replication is only valid on a task's first run, and reload-target
 * truncates the table — that is `recover`'s decision, with its own approvals. So the full load is "past" (done without
 * a call) when the task is stopped or failed after a run, or running with the table `Table completed`; the replicating
 * check then says what it found (a warning, never ✓, when the task is not running or the table not loaded).
 */
import type { RunbookDeps } from '../deps.js';
import type { PlannedAction, Step, StepContext } from '../runbook.js';
import type { TableDef } from '../../schema/model.js';
import { ReplicationError, type DmsTask } from '../../replication/port.js';
import { dmsSourceEndpointStep, dmsTargetEndpointStep } from '../steps/dms-endpoints.js';
import { dmsCreateTaskStep, sourceSchemaOf } from '../steps/dms-create-task.js';
import { dmsFullLoadStep } from '../steps/dms-full-load.js';
import { dmsOf, taskArnOf } from '../steps/dms-task.js';
import { logCheckStep } from '../steps/log-check.js';
import { duplicateKeysCheckStep } from '../steps/duplicate-keys.js';
import { compareStep } from '../steps/compare.js';

type D = RunbookDeps;
type Ctx = StepContext<D>;

const n = (x: number): string => x.toLocaleString('en-US');

async function findTaskOrNone(ctx: Ctx, taskId: string): Promise<DmsTask | undefined> {
  try {
    return await dmsOf(ctx).findTask(taskId);
  } catch (e) {
    if (e instanceof ReplicationError && e.kind === 'not-found') return undefined;
    throw e;
  }
}

/**
 * The library's full-load step (start-replication, the parked wait for `Table completed`), held to what setup may do —
 * composed around it, its file untouched. Before the step has asked for a load (its documented `<name>.requestedAt`
 * handle is unset), the world decides:
 *  - no task yet, or `ready` / `creating`: the step runs (start-replication, then the wait);
 *  - `running` / `starting` with the table `Table completed`: done, nothing called;
 *  - `running` / `starting` with the table still loading (an earlier setup started it and did not see it through): the
 *    step waits for THAT load — `<name>.requestedAt` is recorded first, which the step reads as "a start was asked
 *    for; call again only if no load is under way" — so nothing is started twice;
 *  - `stopped` / `failed` / anything else: the task has run, and setup never restarts it (start-replication is only
 *    for a first run, reload-target truncates the table): done, and the next check step says what it found.
 */
export function setupFullLoadStep(o: { name: string; taskId: string; schema: string; table: string }): Step<D> {
  const inner = dmsFullLoadStep({ ...o, start: 'start-replication' });
  const requested = `${o.name}.requestedAt`;
  return {
    ...inner,
    isDone: async (ctx) => {
      if (await inner.isDone(ctx)) return true;
      if (ctx.handles[requested] !== undefined) return false; // the step asked for a load: that load decides
      const task = await findTaskOrNone(ctx, o.taskId);
      if (!task || task.status === 'ready' || task.status === 'creating') return false;
      if (task.status !== 'running' && task.status !== 'starting') return true;
      const stat = await dmsOf(ctx).tableStats(task.arn, o.schema, o.table);
      return stat?.state === 'Table completed';
    },
    run: async (ctx) => {
      if (ctx.handles[requested] === undefined) {
        const task = await findTaskOrNone(ctx, o.taskId);
        if (task && (task.status === 'running' || task.status === 'starting')) await ctx.setHandle(requested, String(Date.now()));
      }
      return inner.run(ctx);
    },
  };
}

export function dmsSetupSteps(t: TableDef, deps: D): Step<D>[] {
  const rep = t.replication;
  if (rep.provider !== 'dms') return [];
  const key = `${t.schema}.${t.name}`;
  const taskId = rep.taskId;
  const instanceId = rep.replicationInstance;
  if (instanceId === undefined) throw new Error(`${key}: schemas/ names no replication.replicationInstance, so setup cannot tell which DMS instance the task runs on; add it to the file`);
  const sourceSchema = sourceSchemaOf(deps, t);
  const fullLoad = `full-load-${t.name}`;
  const logFrom = `logcheck.${t.name}.from`;

  const replicating: Step<D> = {
    name: `dms-replicating-${t.name}`,
    title: `DMS task ${taskId} is running and ${key} is loaded`,
    plan: (): PlannedAction[] => [
      { kind: 'aws', text: `DescribeReplicationTasks ${taskId}: Status = running` },
      { kind: 'aws', text: `DescribeTableStatistics ${taskId} ${sourceSchema}.${t.name}: TableState = Table completed (FullLoadRows, Inserts/Updates/Deletes shown)` },
    ],
    isDone: async () => false,
    run: async (ctx) => {
      const dms = dmsOf(ctx);
      const arn = await taskArnOf(ctx, { taskId });
      const task = await dms.describeTask(arn);
      const stat = await dms.tableStats(arn, sourceSchema, t.name);
      // the log check reads the window after the load's start: this job's start-replication when it made one, else the
      // start DMS recorded (DescribeTableStatistics FullLoadStartTime) — a re-run reads that past window at once instead
      // of waiting a new one out from now; "now" only when DMS recorded no start
      if (ctx.handles[logFrom] === undefined) {
        const requested = ctx.handles[`${fullLoad}.requestedAt`];
        const recorded = stat?.fullLoadStart?.getTime();
        await ctx.setHandle(logFrom, requested ?? (recorded !== undefined ? String(recorded) : String(Date.now())));
      }
      const counts = stat ? `FullLoadRows ${n(stat.fullLoadRows)}, since the load ${n(stat.inserts)} inserts / ${n(stat.updates)} updates / ${n(stat.deletes)} deletes` : 'not in the task\'s table statistics';
      if (task.status === 'running' && stat?.state === 'Table completed') return `task ${taskId} running; ${key}: Table completed (${counts})`;
      return {
        status: 'warn',
        detail:
          `task ${taskId} is ${task.status}${task.lastFailureMessage ? ` (${task.lastFailureMessage})` : ''}; ${key}: ${stat?.state ?? 'no statistics'} (${counts}). ` +
          `Setup does not restart a task that has run (reload-target would truncate ${key}): see \`/redshift status\`, and \`/redshift recover ${t.name}\` to reload it.`,
      };
    },
  };

  return [
    dmsSourceEndpointStep({ name: `dms-source-endpoint-${t.name}`, instanceId }),
    dmsTargetEndpointStep({ name: `dms-target-endpoint-${t.name}`, instanceId }),
    dmsCreateTaskStep({ name: `dms-task-${t.name}`, table: t }),
    setupFullLoadStep({ name: fullLoad, taskId, schema: sourceSchema, table: t.name }),
    replicating,
    logCheckStep({
      name: `log-check-${t.name}`,
      title: `Check DMS task ${taskId}'s CloudWatch log for ]E: lines`,
      logGroup: rep.logGroup,
      ...(rep.logStream !== undefined ? { logStream: rep.logStream } : {}),
      startHandle: logFrom,
      since: 'after the full load\'s start (by this job, or the one DMS recorded: FullLoadStartTime)',
      onErrors: `read them (\`/redshift status\`) before relying on ${key}`,
      stateHandle: `logcheck.${t.name}.state`,
      errorsHandle: `logcheck.${t.name}.errors`,
    }),
    duplicateKeysCheckStep(t, { name: `duplicate-keys-${t.name}` }),
    compareStep(t, { name: `compare-${t.name}` }),
  ];
}
