/**
 * Approvals are checked on the server at click time against the job's current record (invariant 3): non-approver,
 * requester, double click, stale nonce after a re-ask, and many simultaneous clicks — the gated step runs at most once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/jobs/types.js';
import { fx } from '../support/jobs-fixture.js';
import { type Harness, USERS, counter, makeHarness } from '../support/jobs-harness.js';

let h: Harness;

beforeAll(async () => {
  h = await makeHarness('approvals');
  h.startWorker({ concurrency: 2 });
});
afterAll(async () => {
  await h.close();
});

async function parkedJob(name: string): Promise<{ job: JobRecord; nonce: string; k: ReturnType<typeof fx> }> {
  const ns = `${h.prefix}:${name}`;
  const job = await h.enqueue({ ns, gate: 'swap' });
  const parked = await h.waitFor(job.id, (j) => j.state === 'awaiting-approval', 'to park');
  await h.waitUntil(async () => (await h.jobs.bullState(parked)) === 'delayed', 'BullMQ job delayed');
  return { job: parked, nonce: parked.pendingApproval?.nonce ?? '', k: fx(ns) };
}

describe('approvals', () => {
  it('refuses a non-approver and the requester, accepts an approver, and makes a second click a no-op', async () => {
    const { job, nonce, k } = await parkedJob('basic');
    const base = { jobId: job.id, step: 'swap', nonce, decision: 'approved' as const };

    const stranger = await h.control.decide({ ...base, userId: USERS.operator });
    expect(stranger).toEqual({ ok: false, reason: 'not-approver', message: expect.stringContaining(`<@${USERS.operator}> is not an approver`) });
    const self = await h.control.decide({ ...base, userId: USERS.requester });
    expect(self).toEqual({
      ok: false,
      reason: 'self-approval',
      message: `<@${USERS.requester}> asked for job ${job.id}, so another approver must approve it (ALLOW_SELF_APPROVAL is off)`,
    });
    expect((await h.jobs.store.get(job.id))?.state).toBe('awaiting-approval');

    const ok = await h.control.decide({ ...base, userId: USERS.approver });
    expect(ok).toMatchObject({ ok: true, approval: { step: 'swap', decision: 'approved', by: USERS.approver } });
    const again = await h.control.decide({ ...base, userId: USERS.approver2 });
    expect(again).toEqual({ ok: false, reason: 'already-decided', message: expect.stringMatching(new RegExp(`^job ${job.id}: step "swap" was already approved by <@${USERS.approver}> at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC$`)) });

    await h.waitFor(job.id, (j) => j.state === 'succeeded', 'to succeed');
    expect(await counter(h.redis, k.applied('swap'))).toBe(1);
    const late = await h.control.decide({ ...base, userId: USERS.approver2, decision: 'rejected' });
    expect(late.ok).toBe(false);
    if (!late.ok) expect(late.reason).toBe('already-decided');

    const refused = (await h.jobs.audit.readAudit(job.id)).filter((e) => e.event === 'approval-refused').map((e) => `${e.actor}:${e.outcome}`);
    expect(refused).toEqual([`${USERS.operator}:not-approver`, `${USERS.requester}:self-approval`, `${USERS.approver2}:already-decided`, `${USERS.approver2}:already-decided`]);
  });

  it('a button from before a re-ask is stale; the new one works', async () => {
    const { job, nonce: oldNonce } = await parkedJob('reask');
    const r = await h.control.reask(job.id, USERS.requester);
    expect(r.ok).toBe(true);
    const fresh = await h.jobs.store.get(job.id);
    const newNonce = fresh?.pendingApproval?.nonce ?? '';
    expect(newNonce).not.toBe(oldNonce);
    expect(fresh?.pendingApproval?.notifiedAt).toBeTypeOf('number');
    // asked twice: once when parked, once on re-ask (the console line names no nonce: nobody can type one)
    expect(h.lines.filter((l) => l.startsWith(`[job ${job.id}] ⏸`))).toHaveLength(2);

    const stale = await h.control.decide({ jobId: job.id, step: 'swap', nonce: oldNonce, userId: USERS.approver, decision: 'approved' });
    expect(stale).toEqual({ ok: false, reason: 'stale', message: expect.stringContaining(`these buttons are out of date (job ${job.id} asked again at`) });
    const wrongStep = await h.control.decide({ jobId: job.id, step: 'copy', nonce: newNonce, userId: USERS.approver, decision: 'approved' });
    expect(wrongStep).toMatchObject({ ok: false, reason: 'stale' });
    const missing = await h.control.decide({ jobId: '999999', step: 'swap', nonce: newNonce, userId: USERS.approver, decision: 'approved' });
    expect(missing).toEqual({ ok: false, reason: 'not-found', message: 'job 999999 not found' });

    const ok = await h.control.decide({ jobId: job.id, step: 'swap', nonce: newNonce, userId: USERS.approver, decision: 'approved' });
    expect(ok.ok).toBe(true);
    await h.waitFor(job.id, (j) => j.state === 'succeeded', 'to succeed');
  });

  it('many simultaneous clicks: exactly one decision is recorded and the gated step runs once', async () => {
    const { job, nonce, k } = await parkedJob('race');
    const users = [USERS.approver, USERS.approver2, USERS.approver, USERS.approver2, USERS.approver, USERS.approver2];
    const results = await Promise.all(
      users.map((userId, i) => h.control.decide({ jobId: job.id, step: 'swap', nonce, userId, decision: i % 3 === 2 ? 'rejected' : 'approved' })),
    );
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.reason))).toEqual(Array(users.length - 1).fill('already-decided'));
    const done = await h.waitFor(job.id, (j) => j.state === 'succeeded' || j.state === 'rejected', 'to settle');
    expect(done.approvals).toHaveLength(1);
    const decision = done.approvals[0]?.decision;
    expect(done.state).toBe(decision === 'approved' ? 'succeeded' : 'rejected');
    expect(await counter(h.redis, k.applied('swap'))).toBe(decision === 'approved' ? 1 : 0);
  });

  it('the requester may withdraw (reject) their own job; cancelling a parked job makes its buttons stale', async () => {
    const a = await parkedJob('withdraw');
    const w = await h.control.decide({ jobId: a.job.id, step: 'swap', nonce: a.nonce, userId: USERS.requester, decision: 'rejected' });
    expect(w.ok).toBe(true);
    await h.waitFor(a.job.id, (j) => j.state === 'rejected', 'to be rejected');

    const b = await parkedJob('cancel-parked');
    const outsider = await h.control.cancelJob(b.job.id, USERS.stranger);
    expect(outsider).toMatchObject({ ok: false, reason: 'not-allowed' });
    const c = await h.control.cancelJob(b.job.id, USERS.operator);
    expect(c.ok).toBe(true);
    const stale = await h.control.decide({ jobId: b.job.id, step: 'swap', nonce: b.nonce, userId: USERS.approver, decision: 'approved' });
    expect(stale).toMatchObject({ ok: false, reason: 'stale' });
    const done = await h.waitFor(b.job.id, (j) => j.state === 'cancelled', 'to be cancelled');
    expect(done.steps.map((s) => s.state)).toEqual(['undone', 'undone', 'pending', 'pending']);
    expect(await counter(h.redis, b.k.applied('swap'))).toBe(0);
  });
});
