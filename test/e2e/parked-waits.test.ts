/**
 * Steps that wait for the world park their job instead of holding a worker (issue 9 item 4): a `modify` waiting out
 * its 10-minute freshness window is a delayed BullMQ job, so SIGTERM ends a real worker process in seconds and `cancel`
 * takes effect at once (the job unwinds: the swap is taken back), not after the window.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModifyCrashHarness, SCHEMA, USERS, type WorkerChild, startModifyCrashHarness } from '../support/modify-crash.js';

let h: ModifyCrashHarness;
/** the freshness window: far longer than anything this test allows */
const FRESHNESS_MS = 600_000;

beforeAll(async () => {
  h = await startModifyCrashHarness({ name: 'parked', table: 'core_action' });
}, 60_000);
afterAll(async () => {
  await h?.close();
}, 60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, timeoutMs: number, fn: () => Promise<boolean>, out?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${out?.() ?? ''}`);
    await sleep(50);
  }
}

async function ready(w: WorkerChild): Promise<void> {
  await until('the worker process to start', 30_000, async () => w.output().includes('worker-ready') || w.child.exitCode !== null, w.output);
  expect(w.output()).toContain('worker-ready');
}

describe('parked waits', () => {
  it('a modify in its freshness window holds no worker: SIGTERM ends the worker in seconds, cancel unwinds at once', async () => {
    // no replication writes: the freshness step keeps waiting for a change for the whole window
    h.loop.stopGenerating();
    await h.loop.idle(30_000);
    const jobId = await h.submit('modify core_action alter column link type bigint');
    const w1 = h.spawnWorker({ FRESHNESS_MS: String(FRESHNESS_MS) });
    await ready(w1);
    await until('the job to reach the freshness step', 120_000, async () => {
      const j = await h.rt.jobs.store.get(jobId);
      if (j?.state === 'failed') throw new Error(`job failed: ${j.error}\n${w1.output()}`);
      return j?.steps[j.cursor]?.name === 'freshness' && j.steps[j.cursor]?.state === 'running';
    }, w1.output);
    // the wait is a delayed BullMQ job, recorded in the job record, not a worker slot
    await until('the job to be parked', 10_000, async () => {
      const j = await h.rt.jobs.store.get(jobId);
      return j !== undefined && (await h.rt.jobs.bullState(j)) === 'delayed';
    }, w1.output);
    const parked = await h.rt.jobs.store.get(jobId);
    expect(parked?.waiting).toMatchObject({ step: 'freshness' });
    expect(parked?.waiting?.untilMs).toBeGreaterThan(Date.now());
    expect(parked?.handles['freshness.first']).toBeDefined();

    // SIGTERM: the worker has no active job, so it closes at once (the window has 10 minutes left)
    const exited = new Promise<number | null>((r) => w1.child.once('exit', (code) => r(code)));
    const t0 = Date.now();
    w1.child.kill('SIGTERM');
    const code = await Promise.race([exited, sleep(15_000).then(() => 'still running' as const)]);
    const stopMs = Date.now() - t0;
    expect(code, w1.output()).toBe(0);
    expect(stopMs).toBeLessThan(15_000);

    // cancel while parked: a new worker picks the job up at once and unwinds it (swap back, drop new_<t>)
    const w2 = h.spawnWorker({ FRESHNESS_MS: String(FRESHNESS_MS) });
    await ready(w2);
    const t1 = Date.now();
    const c = await h.rt.control.cancelJob(jobId, USERS.operator);
    expect(c.ok, c.message).toBe(true);
    expect(c.message).toMatch(new RegExp(`^job ${jobId} was waiting \\(waiting for replication to write core_action again .*\\); it stops now`));
    await until('the job to be cancelled', 90_000, async () => (await h.rt.jobs.store.get(jobId))?.state === 'cancelled', w2.output);
    const cancelMs = Date.now() - t1;
    expect(cancelMs).toBeLessThan(90_000);
    const done = await h.rt.jobs.store.get(jobId);
    expect(done?.waiting).toBeUndefined();
    expect(done?.steps.find((s) => s.name === 'swap')?.state).toBe('undone');
    const cols = await h.pg("SELECT data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'core_action' AND column_name = 'link'", [SCHEMA]);
    expect(cols).toEqual([{ data_type: 'integer' }]);

    // the job was announced once and the freshness step started once, however often it was looked at
    const audit = await h.rt.jobs.audit.readAudit(jobId);
    expect(audit.filter((e) => e.event === 'step-start' && e.step === 'freshness')).toHaveLength(1);
    expect(audit.filter((e) => e.event === 'wait' && e.step === 'freshness').length).toBeGreaterThanOrEqual(1);
    const out = w1.output() + w2.output();
    expect(out.match(/\] started: /g)?.length ?? 0, out).toBe(1);
    console.log(`parked-waits: SIGTERM→exit ${stopMs} ms, cancel→cancelled ${cancelMs} ms`);
  }, 360_000);
});
