/**
 * A worker process is SIGKILLed in the middle of a step; another worker process picks the job up after BullMQ's lock
 * expires (stalled-job recovery) and finishes it — every step's side effect applied exactly once (invariant 4).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fx } from '../support/jobs-fixture.js';
import { type Harness, REDIS_URL, counter, makeHarness } from '../support/jobs-harness.js';

const CHILD = fileURLToPath(new URL('../support/jobs-worker-child.ts', import.meta.url));
const STEPS = ['prepare', 'copy', 'swap', 'cleanup'];

let h: Harness;
const children: ChildProcess[] = [];

beforeAll(async () => {
  h = await makeHarness('crash');
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(async () => {
  await h.close();
});

/** Start a worker process (node --import tsx, so the pid we kill is the worker itself) and wait until it listens. */
async function spawnWorker(maxStalled = 5): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, REDIS_URL, RSO_PREFIX: h.prefix, LOCK_MS: '2000', STALLED_MS: '1000', MAX_STALLED: String(maxStalled) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  await h.waitUntil(async () => out.includes('worker-ready') || child.exitCode !== null, 'worker process to start', 20_000);
  if (!out.includes('worker-ready')) throw new Error(`worker process did not start:\n${out}`);
  return { child, output: () => out };
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  await exited;
}

describe('crash and resume', () => {
  it('a worker killed before a step applied its change: the next worker runs that step once and finishes', async () => {
    const ns = `${h.prefix}:before`;
    const k = fx(ns);
    const job = await h.enqueue({ ns, holdBefore: ['copy'] }, { table: 'ak.crash_before' });
    const w1 = await spawnWorker();
    await h.waitUntil(async () => (await h.redis.exists(k.reached('copy'))) === 1, 'step copy to start in worker 1');
    expect(await h.redis.get(k.reached('copy'))).toBe(String(w1.child.pid));
    await kill9(w1.child);
    expect((await h.jobs.store.get(job.id))?.steps[1]?.state).toBe('running');

    await h.redis.set(k.release('copy'), '1');
    const w2 = await spawnWorker();
    const done = await h.waitFor(job.id, (j) => j.state === 'succeeded', 'to succeed on worker 2', 30_000);
    expect(done.steps.map((s) => s.state)).toEqual(['done', 'done', 'done', 'done']);
    for (const s of STEPS) expect(await counter(h.redis, k.applied(s))).toBe(1);
    expect(await h.redis.lrange(k.log, 0, -1)).toEqual(STEPS.map((s) => `run:${s}`));
    expect(w2.output()).toContain(`[job ${job.id}] resumed at step 2`);
    const starts = (await h.jobs.audit.readAudit(job.id)).filter((e) => e.event === 'step-start' && e.step === 'copy');
    expect(starts).toHaveLength(2);

    // graceful shutdown on SIGTERM
    const exit = new Promise<number | null>((r) => w2.child.once('exit', (code) => r(code)));
    w2.child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });

  it('a worker killed after a step applied its change but before recording it: the next worker skips it (isDone)', async () => {
    const ns = `${h.prefix}:after`;
    const k = fx(ns);
    const job = await h.enqueue({ ns, holdAfter: ['copy'] }, { table: 'ak.crash_after' });
    const w1 = await spawnWorker();
    await h.waitUntil(async () => (await h.redis.exists(k.reachedAfter('copy'))) === 1, 'step copy to apply in worker 1');
    await kill9(w1.child);
    expect(await counter(h.redis, k.applied('copy'))).toBe(1);
    expect((await h.jobs.store.get(job.id))?.cursor).toBe(1);

    await h.redis.set(k.release('copy'), '1');
    await spawnWorker();
    const done = await h.waitFor(job.id, (j) => j.state === 'succeeded', 'to succeed on worker 2', 30_000);
    expect(done.steps.map((s) => s.state)).toEqual(['done', 'skipped', 'done', 'done']);
    for (const s of STEPS) expect(await counter(h.redis, k.applied(s))).toBe(1);
    expect(await h.redis.lrange(k.log, 0, -1)).toEqual(STEPS.map((s) => `run:${s}`));
    expect(await h.jobs.locks.holder('ak.crash_after')).toBeUndefined();
  });

  it('when BullMQ gives up on a crashed job (stall limit), the record says so and retry finishes it', async () => {
    const ns = `${h.prefix}:limit`;
    const k = fx(ns);
    const job = await h.enqueue({ ns, holdBefore: ['copy'] }, { table: 'ak.crash_limit' });
    const w1 = await spawnWorker(0);
    await h.waitUntil(async () => (await h.redis.exists(k.reached('copy'))) === 1, 'step copy to start in worker 1');
    await kill9(w1.child);
    await spawnWorker(0);
    const failed = await h.waitFor(job.id, (j) => j.state === 'failed', 'to be marked failed', 30_000);
    expect(failed.error).toBe(`BullMQ gave up on job ${job.id} (job stalled more than allowable limit); \`retry ${job.id}\` resumes at step 2`);
    expect(failed.steps.map((s) => s.state)).toEqual(['done', 'failed', 'pending', 'pending']);
    expect((await h.jobs.locks.holder('ak.crash_limit'))?.jobId).toBe(job.id);

    await h.redis.set(k.release('copy'), '1');
    expect((await h.control.retryJob(job.id, job.requester)).ok).toBe(true);
    const done = await h.waitFor(job.id, (j) => j.state === 'succeeded', 'to succeed after retry', 30_000);
    expect(done.steps.map((s) => s.state)).toEqual(['done', 'done', 'done', 'done']);
    for (const s of STEPS) expect(await counter(h.redis, k.applied(s))).toBe(1);
  });
});
