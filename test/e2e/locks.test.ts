/**
 * Per-table locks: one changing job per table (the second is refused, naming the first), stale locks are taken over,
 * fencing tokens only grow, and a job whose lock was taken over stops instead of writing over the new holder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fx } from '../support/jobs-fixture.js';
import { type Harness, USERS, counter, makeHarness } from '../support/jobs-harness.js';

let h: Harness;

beforeAll(async () => {
  h = await makeHarness('locks');
});
afterAll(async () => {
  await h.close();
});

describe('table locks', () => {
  it('refuses a second changing job on a locked table, naming the holder; the same trigger returns the same job', async () => {
    const first = await h.enqueue({ ns: `${h.prefix}:a` }, { table: 'ak.core_user', triggerId: 'trig-1' });
    const dup = await h.jobs.enqueueJob({
      kind: 'fixture',
      requester: USERS.requester,
      commandText: 'again',
      summary: 'again',
      params: { ns: `${h.prefix}:a` },
      origin: { kind: 'console' },
      table: 'ak.core_user',
      triggerId: 'trig-1',
    });
    expect(dup).toMatchObject({ ok: true, deduplicated: true, job: { id: first.id } });

    const second = await h.jobs.enqueueJob({
      kind: 'fixture',
      requester: USERS.operator,
      commandText: 'modify ak.core_user add column x int',
      summary: 'second',
      params: { ns: `${h.prefix}:b` },
      origin: { kind: 'console' },
      table: 'ak.core_user',
    });
    expect(second).toEqual({
      ok: false,
      reason: 'table-locked',
      holder: first.id,
      message: `ak.core_user is locked by job ${first.id} (queued). One changing job per table at a time: wait for job ${first.id} to finish (see \`/redshift jobs\`), then plan again against the changed table.`,
    });
    // the refused job leaves no record behind, only an audit line
    const recent = await h.jobs.store.listRecent(10);
    expect(recent.map((j) => j.id)).toEqual([first.id]);
    const all = await h.jobs.audit.readRecent(20);
    expect(all.some((e) => e.event === 'refused' && e.actor === USERS.operator && e.detail?.includes(`locked by job ${first.id}`))).toBe(true);
  });

  it('takes over a stale lock (holder settled or missing) with a higher fence; a failed holder keeps it', async () => {
    const { locks, store } = h.jobs;
    const a = await store.create({ kind: 'fixture', requester: USERS.requester, commandText: 'a', summary: 'a', params: {}, origin: { kind: 'console' }, table: 't.stale' });
    const la = await locks.acquire('t.stale', a.job.id);
    expect(la).toMatchObject({ ok: true, reentrant: false });
    const again = await locks.acquire('t.stale', a.job.id);
    expect(again).toEqual({ ok: true, fence: la.ok ? la.fence : -1, reentrant: true });

    const b = await store.create({ kind: 'fixture', requester: USERS.requester, commandText: 'b', summary: 'b', params: {}, origin: { kind: 'console' }, table: 't.stale' });
    await store.update(a.job.id, (j) => void (j.state = 'failed'));
    const refused = await locks.acquire('t.stale', b.job.id);
    expect(refused).toMatchObject({ ok: false, holder: a.job.id, holderState: 'failed', message: expect.stringContaining(`retry or roll back job ${a.job.id} first, or ask an operator to \`unlock t.stale\``) });

    // the holder settled but never released (crashed between the two): stale, taken over
    await store.update(a.job.id, (j) => void (j.state = 'succeeded'));
    const lb = await locks.acquire('t.stale', b.job.id);
    expect(lb).toMatchObject({ ok: true, reentrant: false, takenOverFrom: { jobId: a.job.id, state: 'succeeded' } });
    if (!la.ok || !lb.ok) throw new Error('unreachable');
    expect(lb.fence).toBeGreaterThan(la.fence);
    expect(await locks.check('t.stale', a.job.id, la.fence)).toBe(false);
    expect(await locks.check('t.stale', b.job.id, lb.fence)).toBe(true);
    expect(await locks.release('t.stale', a.job.id)).toBe(false);

    // a holder whose record is gone
    await locks.acquire('t.ghost', 'ghost-job');
    const lc = await locks.acquire('t.ghost', b.job.id);
    expect(lc).toMatchObject({ ok: true, takenOverFrom: { jobId: 'ghost-job', state: 'missing' } });
    if (!lc.ok) throw new Error('unreachable');
    expect(lc.fence).toBeGreaterThan(lb.fence);
  });

  it('unlock is refused while the holder runs; a parked holder whose lock was taken over stops at its next step', async () => {
    h.startWorker({ concurrency: 2 });
    const nsA = `${h.prefix}:fenced`;
    const kA = fx(nsA);
    const a = await h.enqueue({ ns: nsA, gate: 'swap', holdBefore: ['prepare'] }, { table: 'ak.fenced' });
    await h.waitUntil(async () => (await h.redis.exists(kA.reached('prepare'))) === 1, 'job a to run');
    const running = await h.control.unlockTable('ak.fenced', USERS.operator);
    expect(running).toEqual({ ok: false, reason: 'wrong-state', message: `ak.fenced is locked by job ${a.id}, which is running right now; cancel job ${a.id} first (it stops between steps).` });
    const notOperator = await h.control.unlockTable('ak.fenced', USERS.approver);
    expect(notOperator).toMatchObject({ ok: false, reason: 'not-allowed' });
    await h.redis.set(kA.release('prepare'), '1');
    const parked = await h.waitFor(a.id, (j) => j.state === 'awaiting-approval', 'to park');

    const un = await h.control.unlockTable('ak.fenced', USERS.operator);
    expect(un).toMatchObject({ ok: true, message: expect.stringContaining(`was held by job ${a.id}, awaiting-approval`) });
    const b = await h.enqueue({ ns: `${h.prefix}:fenced-b`, gate: 'swap' }, { table: 'ak.fenced' });
    const bParked = await h.waitFor(b.id, (j) => j.state === 'awaiting-approval', 'to park');
    expect(bParked.fence).toBeGreaterThan(parked.fence ?? 0);

    const d = await h.control.decide({ jobId: a.id, step: 'swap', nonce: parked.pendingApproval?.nonce ?? '', userId: USERS.approver, decision: 'approved' });
    expect(d.ok).toBe(true);
    const failed = await h.waitFor(a.id, (j) => j.state === 'failed', 'to stop');
    expect(failed.error).toBe(
      `the lock on ak.fenced now belongs to job ${b.id} (awaiting-approval, fence ${bParked.fence}; ours was ${parked.fence}); this job stops so it cannot write over that job's work — retry or roll it back once job ${b.id} is done`,
    );
    expect(await counter(h.redis, kA.applied('swap'))).toBe(0);
    expect((await h.jobs.locks.holder('ak.fenced'))?.jobId).toBe(b.id);
  });
});
