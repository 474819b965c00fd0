/**
 * Concurrency suite (issue 10 item 2), end to end through signed Slack HTTP → Bolt → BullMQ (real Redis) → 2 worker
 * slots → AWS SDK → the sandbox on PostgreSQL:
 *   - 20 modify jobs on 20 different tables, 2 workers: every one completes, each table changed exactly once;
 *   - two jobs on one table never interleave: the second is refused while the first holds the table (naming it), and
 *     once the first is done the second runs after it, each job's statements in one unbroken span;
 *   - two approvers click Approve at the same instant (two signed HTTP requests in flight together): one decision is
 *     recorded, the other is told it was already decided, and the gated drop runs once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/jobs/types.js';
import { type BotHarness, SCHEMA, USERS, startBotHarness } from '../support/bot-harness.js';
import { columnsOf, liveTable, modifyReply, parkedOn, queueModify, succeeded, tableExists } from '../support/modify-flow.js';

let h: BotHarness;

beforeAll(async () => {
  h = await startBotHarness({ name: 'concur', inProcessWorker: { concurrency: 2 }, copySchemas: true, rowsPerTable: 10, settings: { logCheckMs: 1_500, freshnessMs: 3_000 } });
}, 90_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

/** Approve every job of `ids` that parks on an approval (an approver's signed click), until all of them settle. */
async function driveToEnd(ids: string[], timeoutMs: number): Promise<JobRecord[]> {
  const clicked = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const jobs = await Promise.all(ids.map(async (id) => (await h.rt.jobs.store.get(id))!));
    if (jobs.every((j) => ['succeeded', 'failed', 'rejected', 'rolled-back', 'cancelled'].includes(j.state))) return jobs;
    if (Date.now() > deadline) throw new Error(`jobs not settled after ${timeoutMs} ms: ${jobs.map((j) => `${j.id}:${j.state}`).join(', ')}`);
    for (const j of jobs) {
      const b = j.state === 'awaiting-approval' ? h.approvalButtons(j.id) : undefined;
      const key = `${j.id}:${j.pendingApproval?.nonce ?? ''}`;
      if (b && b.value.nonce === j.pendingApproval?.nonce && !clicked.has(key)) {
        clicked.add(key);
        const r = await h.click('rso_approve', b.raw, { userId: USERS.approver, messageTs: b.message.ts, ...(j.origin.threadTs ? { threadTs: j.origin.threadTs } : {}) });
        expect(r.status).toBe(200);
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('concurrency', () => {
  it('20 modify jobs on 20 different tables with 2 workers: all complete, each table changed once', async () => {
    const t0 = Date.now();
    const tables = [...h.registry.tables.values()]
      .filter((t) => t.schema === SCHEMA && t.replication?.provider !== 'dms')
      .map((t) => t.name)
      .sort()
      .slice(0, 20);
    expect(tables).toHaveLength(20);
    const ids = await Promise.all(tables.map((t) => queueModify(h, `${t} add column conc_note varchar(16)`)));
    expect(new Set(ids).size).toBe(20);
    const jobs = await driveToEnd(ids, 240_000);
    for (const j of jobs) expect(j.state, `job ${j.id} (${j.table}): ${j.error ?? ''}`).toBe('succeeded');
    for (const t of tables) {
      const cols = columnsOf(await liveTable(h, t)).filter((c) => c.startsWith('conc_note '));
      expect(cols, t).toEqual(['conc_note varchar(16)']);
      expect(await tableExists(h, `old_${t}`)).toBe(false);
      expect(await tableExists(h, `new_${t}`)).toBe(false);
    }
    // never more than the 2 worker slots running at once
    const spans = jobs.map((j) => ({ from: j.steps[0]?.startedAt ?? 0, to: Math.max(...j.steps.map((s) => s.finishedAt ?? 0)) }));
    const maxOverlap = Math.max(...spans.map((a) => spans.filter((b) => b.from < a.to && a.from < b.to && b.from <= a.from).length));
    expect(maxOverlap).toBeLessThanOrEqual(2);
    console.log(`[concurrency] 20 modify jobs on 2 workers: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 300_000);

  it('two jobs on one table never interleave: the second is refused while the first holds the table, then runs after it', async () => {
    const T = 'share_type';
    h.sandbox.faults.slowStatements = [{ match: `ALTER TABLE ${SCHEMA}.${T} ADD COLUMN`, ms: 1_500, times: 1 }];
    const first = await queueModify(h, `${T} add column first_note varchar(8)`);
    await h.waitJob(first, (j) => j.state === 'running', 'the first job to run');
    const refused = await modifyReply(h, `${T} add column second_note varchar(8)`, USERS.operator);
    expect(refused).toContain(`job ${first}`);
    expect(refused).not.toMatch(/^Queued job/);
    await succeeded(h, first);
    const second = await queueModify(h, `${T} add column second_note varchar(8)`, USERS.operator);
    const done = await succeeded(h, second);
    const firstJob = (await h.rt.jobs.store.get(first))!;
    const firstEnd = Math.max(...firstJob.steps.map((s) => s.finishedAt ?? 0));
    expect(done.steps[0]?.startedAt ?? 0).toBeGreaterThanOrEqual(firstEnd);
    expect(columnsOf(await liveTable(h, T)).slice(-2)).toEqual(['first_note varchar(8)', 'second_note varchar(8)']);
  }, 120_000);

  it('two approvers click Approve at the same instant: one decision, the other told it was decided, the drop runs once', async () => {
    const T = 'core_tag';
    const jobId = await queueModify(h, `${T} add column race_note varchar(8) --deep-copy`);
    const job = await parkedOn(h, jobId, 'approve-drop').catch(async (e: unknown) => {
      const j = await h.rt.jobs.store.get(jobId);
      throw new Error(`${String(e)}\n${j?.steps.map((s) => `${s.name}:${s.state} ${s.detail ?? s.error ?? ''}`).join('\n')}`);
    });
    const b = h.approvalButtons(jobId)!;
    const thread = job.origin.threadTs ? { threadTs: job.origin.threadTs } : {};
    const [a, c] = await Promise.all([
      h.click('rso_approve', b.raw, { userId: USERS.approver, messageTs: b.message.ts, ...thread }),
      h.click('rso_approve', b.raw, { userId: USERS.approver2, messageTs: b.message.ts, ...thread }),
    ]);
    expect([a.status, c.status]).toEqual([200, 200]);
    expect(Math.max(a.ms, c.ms)).toBeLessThan(3_000);
    const said = await Promise.all([h.waitForResponse(a.responseId, undefined, 10_000), h.waitForResponse(c.responseId, undefined, 10_000)]);
    const texts = said.map((s) => String(s.body.text));
    const approved = texts.filter((t) => /^job \d+: step "approve-drop" approved by <@U0APPROVE[12]>$/.test(t));
    expect(approved, texts.join('\n')).toHaveLength(1);
    expect(texts.filter((t) => t.includes('already approved by')), texts.join('\n')).toHaveLength(1);
    const done = await succeeded(h, jobId);
    expect(done.approvals.filter((x) => x.step === 'approve-drop')).toHaveLength(1);
    const drops = await h.statements({ sql: new RegExp(`^DROP TABLE ${SCHEMA}\\.old_${T}\\b`) });
    expect(drops.map((d) => d.status)).toEqual(['FINISHED']);
    expect(await tableExists(h, `old_${T}`)).toBe(false);
  }, 120_000);
});
