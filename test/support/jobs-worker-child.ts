/**
 * A runbook worker in its own process, for the crash-resume test (which SIGKILLs it mid-step).
 * env: REDIS_URL, RSO_PREFIX, LOCK_MS (BullMQ lockDuration), STALLED_MS (stalledInterval), MAX_STALLED (maxStalledCount).
 * Prints `worker-ready <pid>` once the worker is listening; progress lines follow on stdout.
 */
import { Redis } from 'ioredis';
import { ConsoleReporter } from '../../src/jobs/console-reporter.js';
import { RunbookRegistry } from '../../src/jobs/runbook.js';
import { createWorker } from '../../src/queue/queue.js';
import { type FixtureDeps, fixtureRunbook } from './jobs-fixture.js';

const prefix = process.env.RSO_PREFIX;
if (!prefix) throw new Error('RSO_PREFIX is required');
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const w = createWorker<FixtureDeps>({
  connection: redis,
  prefix,
  registry: new RunbookRegistry<FixtureDeps>([fixtureRunbook]),
  deps: { redis },
  reporter: new ConsoleReporter(process.stdout),
  concurrency: 1,
  lockDuration: Number(process.env.LOCK_MS ?? 2000),
  stalledInterval: Number(process.env.STALLED_MS ?? 1000),
  maxStalledCount: Number(process.env.MAX_STALLED ?? 5),
  closeOnSignals: true,
});
await w.worker.waitUntilReady();
process.stdout.write(`worker-ready ${process.pid}\n`);
