/**
 * The runbook engine on real Redis with real BullMQ workers: approval gate parks without holding a worker, reject and
 * cancel undo in reverse, a failure resumes at the failed step, dry-run plans without running, isDone skips on resume,
 * bad params fail without retry.
 */
import { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planJob } from '../../src/jobs/engine.js';
import { RunbookRegistry } from '../../src/jobs/runbook.js';
import { JobQueue } from '../../src/queue/queue.js';
import { fixtureRunbook, fx } from '../support/jobs-fixture.js';
import { type Harness, USERS, counter, makeHarness } from '../support/jobs-harness.js';

let h: Harness;
let k: ReturnType<typeof fx>;

beforeAll(async () => {
  h = await makeHarness('engine');
  k = fx(h.prefix);
  h.startWorker({ concurrency: 1 });
});
afterAll(async () => {
  await h.close();
});

describe('runbook engine', () => {
  it('parks at the approval gate without holding a worker, then finishes once approved', async () => {
    const job = await h.enqueue({ gate: 'swap' }, { table: 'public.gated' });
    const parked = await h.waitFor(job.id, (j) => j.state === 'awaiting-approval', 'to park');
    expect(parked.steps.map((s) => s.state)).toEqual(['done', 'done', 'pending', 'pending']);
    expect(parked.cursor).toBe(2);
    expect(parked.pendingApproval?.step).toBe('swap');
    await h.waitUntil(async () => (await h.jobs.bullState(parked)) === 'delayed', 'BullMQ job delayed');
    expect(await h.jobs.queue.getActiveCount()).toBe(0);
    expect(await counter(h.redis, k.applied('swap'))).toBe(0);

    // the only worker (concurrency 1) is free: another job runs to completion while the first one waits
    const other = await h.enqueue({ steps: ['solo'] });
    const otherDone = await h.waitFor(other.id, (j) => j.state === 'succeeded', 'to succeed');
    expect(otherDone.steps[0]?.state).toBe('done');
    expect((await h.jobs.store.get(job.id))?.state).toBe('awaiting-approval');

    const nonce = parked.pendingApproval?.nonce ?? '';
    const d = await h.control.decide({ jobId: job.id, step: 'swap', nonce, userId: USERS.approver, decision: 'approved' });
    expect(d.ok).toBe(true);
    const done = await h.waitFor(job.id, (j) => j.state === 'succeeded', 'to succeed');
    expect(done.steps.map((s) => s.state)).toEqual(['done', 'done', 'done', 'done']);
    expect(done.approvals).toEqual([expect.objectContaining({ step: 'swap', decision: 'approved', by: USERS.approver })]);
    for (const s of ['prepare', 'copy', 'swap', 'cleanup']) expect(await counter(h.redis, k.applied(s))).toBe(1);
    expect(await h.jobs.locks.holder('public.gated')).toBeUndefined();

    const events = (await h.jobs.audit.readAudit(job.id)).map((e) => `${e.event}${e.step ? `:${e.step}` : ''}${e.actor ? `@${e.actor}` : ''}`);
    expect(events).toEqual(
      expect.arrayContaining([
        `requested@${USERS.requester}`,
        'approval-requested:swap',
        `approved:swap@${USERS.approver}`,
        'step-start:swap',
        'step-end:swap',
        'statement:swap',
        'lock-released',
        'finished',
      ]),
    );
    expect(events.indexOf(`approved:swap@${USERS.approver}`)).toBeLessThan(events.indexOf('step-start:swap'));
    const mine = h.lines.filter((l) => l.startsWith(`[job ${job.id}]`));
    expect(mine.some((l) => l.includes('⏸ 3/4 Apply swap needs approval: Approve swap'))).toBe(true);
    expect(mine.some((l) => l.includes(`✔ step swap approved by <@${USERS.approver}>`))).toBe(true);
    expect(mine.at(-1)).toBe(`[job ${job.id}] finished: succeeded`);
  });

  it('reject undoes the completed steps in reverse and never runs the gated step', async () => {
    const ns = `${h.prefix}:reject`;
    const kr = fx(ns);
    const job = await h.enqueue({ ns, gate: 'swap' }, { table: 'public.rejected' });
    const parked = await h.waitFor(job.id, (j) => j.state === 'awaiting-approval', 'to park');
    const d = await h.control.decide({ jobId: job.id, step: 'swap', nonce: parked.pendingApproval?.nonce ?? '', userId: USERS.approver2, decision: 'rejected' });
    expect(d.ok).toBe(true);
    const done = await h.waitFor(job.id, (j) => j.state === 'rejected', 'to be rejected');
    expect(await h.redis.lrange(kr.log, 0, -1)).toEqual(['run:prepare', 'run:copy', 'undo:copy', 'undo:prepare']);
    expect(done.steps.map((s) => s.state)).toEqual(['undone', 'undone', 'pending', 'pending']);
    expect(await h.redis.exists(kr.effect('prepare'), kr.effect('copy'), kr.effect('swap'))).toBe(0);
    expect(await h.jobs.locks.holder('public.rejected')).toBeUndefined();
  });

  it('cancel stops between steps and undoes what ran', async () => {
    const ns = `${h.prefix}:cancel`;
    const kc = fx(ns);
    const job = await h.enqueue({ ns, holdBefore: ['copy'] });
    await h.waitUntil(async () => (await h.redis.exists(kc.reached('copy'))) === 1, 'step copy to start');
    const c = await h.control.cancelJob(job.id, USERS.requester);
    expect(c).toMatchObject({ ok: true, message: expect.stringContaining('stops after its current step') });
    await h.redis.set(kc.release('copy'), '1');
    const done = await h.waitFor(job.id, (j) => j.state === 'cancelled', 'to be cancelled');
    expect(await h.redis.lrange(kc.log, 0, -1)).toEqual(['run:prepare', 'run:copy', 'undo:copy', 'undo:prepare']);
    expect(await counter(h.redis, kc.applied('swap'))).toBe(0);
    expect(done.steps.map((s) => s.state)).toEqual(['undone', 'undone', 'pending', 'pending']);
    // a settled job cannot be cancelled again
    expect(await h.control.cancelJob(job.id, USERS.requester)).toMatchObject({ ok: false, reason: 'wrong-state' });
  });

  it('a failed step leaves the cursor there; retry resumes at it without re-running earlier steps', async () => {
    const ns = `${h.prefix}:retry`;
    const kr = fx(ns);
    await h.redis.set(kr.fail('copy'), '1');
    const job = await h.enqueue({ ns }, { table: 'public.retried' });
    const failed = await h.waitFor(job.id, (j) => j.state === 'failed', 'to fail');
    expect(failed.cursor).toBe(1);
    expect(failed.steps.map((s) => s.state)).toEqual(['done', 'failed', 'pending', 'pending']);
    expect(failed.error).toBe('step 2 "Apply copy" failed: injected failure in copy');
    await h.waitUntil(async () => (await h.jobs.bullState(failed)) === 'failed', 'BullMQ job failed');
    const bull = await Job.fromId(h.jobs.queue, JobQueue.bullJobId(failed));
    expect(bull?.failedReason).toBe(failed.error);
    // the failed job keeps its table locked
    expect((await h.jobs.locks.holder('public.retried'))?.jobId).toBe(job.id);
    expect(h.lines).toContain(`[job ${job.id}] finished: failed: ${failed.error} — \`retry ${job.id}\` resumes at step 2, \`rollback ${job.id}\` undoes completed steps`);

    const r = await h.control.retryJob(job.id, USERS.requester);
    expect(r).toMatchObject({ ok: true, message: `job ${job.id}: resuming at step 2 "Apply copy"` });
    const done = await h.waitFor(job.id, (j) => j.state === 'succeeded', 'to succeed after retry');
    expect(done.attempt).toBe(2);
    expect(await h.redis.lrange(kr.log, 0, -1)).toEqual(['run:prepare', 'run:copy', 'run:swap', 'run:cleanup']);
    expect(await counter(h.redis, kr.applied('prepare'))).toBe(1);
    expect(h.lines).toContain(`[job ${job.id}] resumed at step 2: fixture run (asked by <@${USERS.requester}>)`);
  });

  it('rollback of a failed job undoes its completed steps in reverse and releases the lock', async () => {
    const ns = `${h.prefix}:rollback`;
    const kr = fx(ns);
    await h.redis.set(kr.fail('swap'), '1');
    const job = await h.enqueue({ ns }, { table: 'public.rolled' });
    await h.waitFor(job.id, (j) => j.state === 'failed', 'to fail');
    const r = await h.control.requestRollback(job.id, USERS.operator);
    expect(r.ok).toBe(true);
    const done = await h.waitFor(job.id, (j) => j.state === 'rolled-back', 'to roll back');
    // the failed step is undone too (its undo looks first and finds nothing to take back)
    expect(await h.redis.lrange(kr.log, 0, -1)).toEqual(['run:prepare', 'run:copy', 'undo:copy', 'undo:prepare']);
    expect(done.steps.map((s) => s.state)).toEqual(['undone', 'undone', 'undone', 'pending']);
    expect(await h.jobs.locks.holder('public.rolled')).toBeUndefined();
    expect(await h.control.retryJob(job.id, USERS.requester)).toMatchObject({ ok: false, reason: 'wrong-state' });
  });

  it('dry-run plan lists every step with its exact actions and runs nothing', async () => {
    const ns = `${h.prefix}:plan`;
    const runbook = fixtureRunbook.build(fixtureRunbook.paramsSchema.parse({ ns, gate: 'swap' }), { redis: h.redis });
    const now = Date.now();
    const plan = planJob(runbook, {
      job: { id: 'dry', kind: 'fixture', requester: USERS.requester, commandText: '', summary: '', params: {}, state: 'queued', cursor: 0, steps: [], handles: {}, approvals: [], origin: { kind: 'console' }, createdAt: now, updatedAt: now },
      deps: { redis: h.redis },
    });
    expect(plan.map((p) => p.name)).toEqual(['prepare', 'copy', 'swap', 'cleanup']);
    expect(plan[2]).toEqual({
      index: 2,
      name: 'swap',
      title: 'Apply swap',
      approval: `Approve swap for ${ns}?`,
      actions: [
        { kind: 'approval', text: `Approve swap for ${ns}?` },
        { kind: 'check', text: `EXISTS ${ns}:fx:effect:swap` },
        { kind: 'sql', text: `-- fixture: SET ${ns}:fx:effect:swap 1` },
      ],
    });
    expect(plan[0]?.approval).toBeUndefined();
    expect(await h.redis.keys(`${ns}:*`)).toEqual([]);
  });

  it('a resumed job skips steps whose effect is already there (isDone) and never applies them twice', async () => {
    const ns = `${h.prefix}:resume`;
    const kr = fx(ns);
    // a previous run applied prepare and copy, then died before recording it
    await h.redis.set(kr.effect('prepare'), '1');
    await h.redis.set(kr.effect('copy'), '1');
    const job = await h.enqueue({ ns });
    const done = await h.waitFor(job.id, (j) => j.state === 'succeeded', 'to succeed');
    expect(done.steps.map((s) => s.state)).toEqual(['skipped', 'skipped', 'done', 'done']);
    expect(await counter(h.redis, kr.applied('prepare'))).toBe(0);
    expect(await counter(h.redis, kr.applied('copy'))).toBe(0);
    expect(await h.redis.lrange(kr.log, 0, -1)).toEqual(['run:swap', 'run:cleanup']);
    expect(h.lines).toContain(`[job ${job.id}] ↷ 1/4 Apply prepare skipped — already done`);
  });

  it('bad params fail the job at once with a readable error (UnrecoverableError, no retry)', async () => {
    const r = await h.jobs.enqueueJob({
      kind: 'fixture',
      requester: USERS.requester,
      commandText: 'fixture bad',
      summary: 'bad params',
      params: { ns: 42, extra: true },
      origin: { kind: 'console' },
    });
    if (!r.ok) throw new Error(r.message);
    const failed = await h.waitFor(r.job.id, (j) => j.state === 'failed', 'to fail');
    expect(failed.error).toMatch(/^bad parameters for runbook "fixture": ns: .+; \(params\): Unrecognized key: "extra"$/);
    await h.waitUntil(async () => (await h.jobs.bullState(failed)) === 'failed', 'BullMQ job failed');
    const fresh = await Job.fromId(h.jobs.queue, JobQueue.bullJobId(failed));
    expect(fresh?.failedReason).toBe(failed.error);
    expect(fresh?.attemptsMade).toBe(1);

    // with the registry at hand, enqueueJob refuses the same params up front and queues nothing
    const checked = new JobQueue({ connection: h.redis, prefix: h.prefix, registry: new RunbookRegistry([fixtureRunbook]) });
    const before = await h.jobs.store.listRecent(100);
    const refused = await checked.enqueueJob({ kind: 'fixture', requester: USERS.requester, commandText: 'x', summary: 'x', params: { ns: 42 }, origin: { kind: 'console' } });
    expect(refused).toEqual({ ok: false, reason: 'bad-params', message: 'bad parameters for runbook "fixture": ns: Invalid input: expected string, received number' });
    const unknown = await checked.enqueueJob({ kind: 'nope', requester: USERS.requester, commandText: 'x', summary: 'x', params: {}, origin: { kind: 'console' } });
    expect(unknown).toEqual({ ok: false, reason: 'unknown-kind', message: 'no runbook for job kind "nope" (known: fixture)' });
    expect(await h.jobs.store.listRecent(100)).toHaveLength(before.length);
    await checked.close();
  });
});
