/**
 * A runbook worker in its own process for the modify crash tests (test/e2e/modify-crash-*.test.ts): the same parts a
 * `--role worker` process builds (Redis, RedshiftDataWarehouse, DMS and CloudWatch Logs adapters → the sandbox, the
 * registry, createWorker with the real modify runbook), plus a TEST-ONLY kill hook that lives here and nowhere in src/:
 * every step of the modify runbook is wrapped so the process SIGKILLs itself at a chosen point.
 *
 * Kill points are `<step>:before` (the engine marked the step running, nothing done yet), `<step>:after` (the step's
 * change is made, the engine has not recorded it), `<step>:sent` (the Data API accepted the step's statement, but its id
 * is NOT recorded yet: the window a ClientToken must cover) and `<step>:submitted` (the step's statement was submitted
 * and its id recorded — the statement is still in the warehouse when the worker dies). They come from
 *   - RSO_TEST_KILL_AT=<point>: this process dies at that point (once), and/or
 *   - RSO_TEST_KILL_LIST=<redis key>: a list of points shared by every child worker; whichever worker reaches the
 *     point at the head of the list pops it, appends `<point> <pid>` to `<key>:killed` and dies. The list is walked in
 *     order, so one job can be killed at every step boundary by a series of worker processes. A step the engine finds
 *     already done (isDone) is not run: its points still at the head of the list move to `<key>:skipped`.
 *
 * env: REDIS_URL, RSO_PREFIX, AWS_ENDPOINT_URL (the sandbox), SCHEMAS_DIR, LOCK_MS (BullMQ lockDuration, default 1500),
 * STALLED_MS (stalledInterval, default 500), MAX_STALLED (default 1000: a test kills one job many times),
 * LOG_CHECK_MS, FRESHNESS_MS (runbook settings, default 500 / 5000).
 * Prints `worker-ready <pid>` once the worker is listening; the job's progress lines follow on stdout.
 */
import { Redis } from 'ioredis';
import { ConsoleReporter } from '../../src/jobs/console-reporter.js';
import type { RunbookDeps } from '../../src/jobs/deps.js';
import { RunbookRegistry, type RunbookFactory, type Step, type StepContext } from '../../src/jobs/runbook.js';
import { modifyRunbook, type ModifyParams } from '../../src/jobs/runbooks/modify.js';
import { schemaApplyRunbook } from '../../src/jobs/runbooks/schema-apply.js';
import { createWorker } from '../../src/queue/queue.js';
import { createDms } from '../../src/replication/dms.js';
import { createLogs } from '../../src/replication/logs.js';
import { loadRegistry } from '../../src/schema/registry.js';
import { createWarehouse } from '../../src/warehouse/redshift-data.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined || v === '') throw new Error(`${name} is required`);
  return v;
};
const num = (name: string, dflt: number): number => {
  const v = process.env[name];
  return v === undefined || v === '' ? dflt : Number(v);
};

const prefix = env('RSO_PREFIX');
const endpoint = env('AWS_ENDPOINT_URL');
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const registry = await loadRegistry(env('SCHEMAS_DIR'));
const aws = { region: 'us-west-2', endpoint };
const warehouse = createWarehouse({ warehouse: { target: { kind: 'provisioned', clusterId: 'sandbox-cluster', dbUser: 'awsuser' }, database: 'dev' }, aws }, { env: {} });
/** the step whose run() is on the stack (one job at a time: concurrency 1) */
let runningStep: string | undefined;
// `<step>:sent`: the submit reached the Data API and returned its id; the runbook has not recorded it yet
const submit = warehouse.submit.bind(warehouse);
const submitBatch = warehouse.submitBatch.bind(warehouse);
warehouse.submit = async (...args: Parameters<typeof submit>) => {
  const id = await submit(...args);
  if (runningStep !== undefined) await maybeKill(`${runningStep}:sent`);
  return id;
};
warehouse.submitBatch = async (...args: Parameters<typeof submitBatch>) => {
  const id = await submitBatch(...args);
  if (runningStep !== undefined) await maybeKill(`${runningStep}:sent`);
  return id;
};
const deps: RunbookDeps = {
  warehouse,
  registry,
  dms: createDms({ aws }, { poll: { initialMs: 50, maxMs: 200 } }),
  logs: createLogs({ aws }),
  settings: { logCheckMs: num('LOG_CHECK_MS', 500), freshnessMs: num('FRESHNESS_MS', 5_000) },
};

let killAt = process.env.RSO_TEST_KILL_AT;
const killList = process.env.RSO_TEST_KILL_LIST;

/** Die here if this point is ours: the env's point, or the head of the shared list (popped first). */
async function maybeKill(point: string): Promise<void> {
  let hit = false;
  if (killAt === point) {
    killAt = undefined;
    hit = true;
  } else if (killList !== undefined && (await redis.lindex(killList, 0)) === point) {
    await redis.lpop(killList);
    hit = true;
  }
  if (!hit) return;
  if (killList !== undefined) await redis.rpush(`${killList}:killed`, `${point} ${process.pid}`);
  process.stdout.write(`test-kill ${point} ${process.pid}\n`);
  process.kill(process.pid, 'SIGKILL');
  await new Promise(() => {}); // never returns: the signal ends the process
}

function wrap(step: Step<RunbookDeps>): Step<RunbookDeps> {
  return {
    ...step,
    async isDone(ctx: StepContext<RunbookDeps>) {
      const done = await step.isDone(ctx);
      // a step found done is not run: the points of it still at the head of the list can no longer be reached (a kill
      // at `:submitted` let the statement finish); they move to `<key>:skipped` so the next points stay reachable
      if (done && killList !== undefined) {
        for (let head = await redis.lindex(killList, 0); head?.startsWith(`${step.name}:`); head = await redis.lindex(killList, 0)) {
          await redis.lpop(killList);
          await redis.rpush(`${killList}:skipped`, head);
        }
      }
      return done;
    },
    async run(ctx: StepContext<RunbookDeps>) {
      await maybeKill(`${step.name}:before`);
      const watched: StepContext<RunbookDeps> = {
        ...ctx,
        async setHandle(key, value) {
          await ctx.setHandle(key, value);
          if (key === `stmt:${step.name}`) await maybeKill(`${step.name}:submitted`);
        },
      };
      runningStep = step.name;
      let detail;
      try {
        detail = await step.run(watched);
      } finally {
        runningStep = undefined;
      }
      await maybeKill(`${step.name}:after`);
      return detail;
    },
  };
}

const killableModify: RunbookFactory<RunbookDeps, ModifyParams> = {
  ...modifyRunbook,
  build(params, d) {
    const rb = modifyRunbook.build(params, d);
    return { ...rb, steps: rb.steps.map(wrap) };
  },
};

const w = createWorker<RunbookDeps>({
  connection: redis,
  prefix,
  registry: new RunbookRegistry<RunbookDeps>([schemaApplyRunbook as RunbookFactory<RunbookDeps>, killableModify as RunbookFactory<RunbookDeps>]),
  deps,
  reporter: new ConsoleReporter(process.stdout),
  concurrency: 1,
  lockDuration: num('LOCK_MS', 1_500),
  stalledInterval: num('STALLED_MS', 500),
  maxStalledCount: num('MAX_STALLED', 1_000),
  closeOnSignals: true,
});
await w.worker.waitUntilReady();
process.stdout.write(`worker-ready ${process.pid}\n`);
