/**
 * Real Redis + real BullMQ for the queue/engine tests: a unique key prefix per harness, a console reporter whose lines
 * the test can read, a policy with known users, and cleanup that removes every key the harness made.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import { ConsoleReporter } from '../../src/jobs/console-reporter.js';
import { RunbookRegistry } from '../../src/jobs/runbook.js';
import type { JobRecord } from '../../src/jobs/types.js';
import { createPolicy, type PolicyConfigInput } from '../../src/policy.js';
import { JobControl } from '../../src/queue/approvals.js';
import type { NewJob } from '../../src/queue/jobs-store.js';
import { JobQueue, createWorker, type RunbookWorker } from '../../src/queue/queue.js';
import { type FixtureDeps, type FixtureParams, fixtureRunbook } from './jobs-fixture.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const USERS = { requester: 'UREQ1', operator: 'UOPS1', approver: 'UAPP1', approver2: 'UAPP2', stranger: 'UXX99' } as const;

export const DEFAULT_POLICY: PolicyConfigInput = {
  operators: [USERS.operator, USERS.requester],
  approvers: [USERS.approver, USERS.approver2, USERS.requester],
  allowSelfApproval: false,
};

export interface Harness {
  prefix: string;
  redis: Redis;
  jobs: JobQueue;
  control: JobControl;
  lines: string[];
  reporter: ConsoleReporter;
  startWorker(opts?: { concurrency?: number; lockDuration?: number }): RunbookWorker;
  enqueue(params: Partial<FixtureParams>, extra?: Partial<NewJob>): Promise<JobRecord>;
  waitFor(jobId: string, pred: (j: JobRecord) => boolean, what: string, timeoutMs?: number): Promise<JobRecord>;
  waitUntil(pred: () => Promise<boolean>, what: string | (() => string), timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function makeHarness(name: string, policy: PolicyConfigInput = DEFAULT_POLICY): Promise<Harness> {
  const prefix = `rsotest-${name}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const jobs = new JobQueue({ connection: redis, prefix });
  const out = new PassThrough();
  const lines: string[] = [];
  let buf = '';
  out.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  const reporter = new ConsoleReporter(out);
  const control = new JobControl({ jobs, policy: createPolicy(policy), reporter });
  const registry = new RunbookRegistry<FixtureDeps>([fixtureRunbook]);
  const workers: RunbookWorker[] = [];

  const waitUntil = async (pred: () => Promise<boolean>, what: string | (() => string), timeoutMs = 15_000): Promise<void> => {
    const until = Date.now() + timeoutMs;
    while (!(await pred())) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  return {
    prefix,
    redis,
    jobs,
    control,
    lines,
    reporter,
    startWorker(opts = {}) {
      const w = createWorker<FixtureDeps>({
        connection: redis,
        prefix,
        registry,
        deps: { redis },
        reporter,
        concurrency: opts.concurrency ?? 1,
        lockDuration: opts.lockDuration ?? 30_000,
      });
      workers.push(w);
      return w;
    },
    async enqueue(params, extra = {}) {
      const r = await jobs.enqueueJob({
        kind: 'fixture',
        requester: USERS.requester,
        commandText: `fixture ${JSON.stringify(params)}`,
        summary: 'fixture run',
        params: { ns: prefix, ...params },
        origin: { kind: 'console' },
        ...extra,
      });
      if (!r.ok) throw new Error(r.message);
      return r.job;
    },
    async waitFor(jobId, pred, what, timeoutMs) {
      let last: JobRecord | undefined;
      await waitUntil(
        async () => {
          last = await jobs.store.get(jobId);
          return last !== undefined && pred(last);
        },
        () => `job ${jobId} ${what} (last state: ${last?.state ?? 'missing'}${last?.error ? `, error: ${last.error}` : ''})`,
        timeoutMs,
      );
      if (!last) throw new Error('unreachable');
      return last;
    },
    waitUntil,
    async close() {
      for (const w of workers) await w.close();
      await jobs.queue.obliterate({ force: true }).catch(() => undefined);
      await jobs.close();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
      await redis.quit();
    },
  };
}

export async function counter(redis: Redis, key: string): Promise<number> {
  return Number((await redis.get(key)) ?? 0);
}
