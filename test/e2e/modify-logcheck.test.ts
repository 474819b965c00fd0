/**
 * The replication-log check of a DMS modify (issue 4, "Done when": "with the fault knob injecting `]E:` lines after
 * resume, the thread shows them and the drop is not offered until someone chooses (rollback, or accept and drop)").
 *
 * The sandbox's fault knob (DmsApplyLoop.injectLogErrors → DmsSandbox.injectLogErrorsOnResume) writes `[TARGET_APPLY ]E:`
 * lines to the task's CloudWatch stream once it runs again after resume-processing. The job reads them through the real
 * CloudWatch Logs SDK client, posts them in the thread grouped by component, and parks on the approval with the warning
 * in the prompt: nothing is dropped while nobody has chosen.
 *   - Reject → the job rolls back: task stopped, names swapped back carrying the changes DMS applied to the new table,
 *     new_<t> dropped, task resumed — the old table is back under its name and no change is lost.
 *   - Late ingestion (issue 7, item 1; fault knob `logIngestionDelayMs`): CloudWatch stores the `]E:` lines seconds
 *     after their timestamp, after the check's window was searched; the check re-reads the last `logLagMs` and keeps
 *     searching `logLagMs` past its window, so it still finds them and the job still stops at the approval.
 *   - Approve → the person accepts the errors: old_<t> is dropped, the change stays.
 * The apply loop writes through the DMS task the whole time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunbookSettings } from '../../src/jobs/deps.js';
import type { DmsApplyLoop } from '../../src/sandbox/apply-loop.js';
import type { Replication } from '../../src/sandbox/replication.js';
import { type BotHarness, SCHEMA, USERS, startBotHarness } from '../support/bot-harness.js';
import { approveAs, changesBetween, columnsOf, drainAndVerify, liveTable, parkedOn, queueModify, rejectAs, schemaFile, succeeded, tableExists, threadOf } from '../support/modify-flow.js';

const T = 'core_usermailing';
const TASK = 'flydata-core-usermailing';
const LOG_CHECK_MS = 1_500;
/** each search of the log check re-reads this much, and it keeps reading this long after its window */
const LOG_LAG_MS = 6_000;
/** the late-ingestion fault knob in the last test: ≥ 3× headroom under LOG_LAG_MS */
const INGESTION_DELAY_MS = 2_000;
const SETTINGS: Partial<RunbookSettings> = { logCheckMs: LOG_CHECK_MS, logLagMs: LOG_LAG_MS, freshnessMs: 3_000 };
const ORIGINAL = ['id bigint', 'mailing_id integer', 'user_id integer', 'subject_id integer', 'created_at timestamp'];

let h: BotHarness;
let replication: Replication;
let loop: DmsApplyLoop;
const loopErrors: string[] = [];

beforeAll(async () => {
  h = await startBotHarness({ name: 'mlog', inProcessWorker: { concurrency: 2 }, copySchemas: true, aws: true, settings: SETTINGS, rowsPerTable: 40 });
  replication = await h.sandbox.startReplication(h.registry, { dms: { rate: 25 }, tickMs: 40, onError: (t, e) => loopErrors.push(`${t}: ${e.message}`) });
  loop = replication.dmsLoops.get(`${SCHEMA}.${T}`)!;
  await loop.until(() => loop.stats().applied >= 20, 10_000, 'the loop to apply its first changes');
}, 90_000);

afterAll(async () => {
  await replication?.stop();
  await h?.close();
}, 60_000);

const taskStatus = (): string => h.sandbox.dms.getTask(TASK).status;

/** Queue the deep copy with 3 injected ]E: lines; wait until it parks on the drop approval, checking what the thread says. */
async function parkWithErrors(): Promise<{ jobId: string; mark: number }> {
  loop.injectLogErrors(3);
  const mark = loop.history().length;
  const jobId = await queueModify(h, `${T} alter column subject_id type bigint, add column note varchar(32)`);
  const job = await parkedOn(h, jobId, 'approve-drop');
  // parked: nothing dropped, the new table serves, the task runs
  expect(await tableExists(h, `old_${T}`)).toBe(true);
  expect(taskStatus()).toBe('running');
  expect(job.handles['logErrors']).toBe('3');
  expect(job.steps.find((s) => s.name === 'log-check')?.detail).toMatch(
    /^3 \]E: line\(s\) and \d+ \]W: line\(s\) in 2 s after the resume \(searched \d+ times, each re-reading the last 6 s for events CloudWatch stored late\) — consider Rollback at the approval$/,
  );
  expect(job.steps.find((s) => s.name === 'drop')?.state).toBe('pending');
  // the thread shows the lines, grouped by component, then the approval with the warning first
  const replies = await threadOf(h, jobId);
  const group = replies.find((r) => r.startsWith('TARGET_APPLY: 3 error(s)'));
  expect(group, replies.join('\n---\n')).toBeDefined();
  expect(group).toContain(']E:');
  expect(group).toContain(`Failed to apply change 1/3 to table '${SCHEMA}'.'${T}'`);
  const approval = h.approvalButtons(jobId)!;
  expect(approval.message.text).toContain(`⚠️ 3 ]E: line(s) in the DMS log after the resume — Reject rolls the change back (swap back).`);
  expect(approval.message.text).toContain(`Drop ${SCHEMA}.old_${T}?`);
  expect(replies.indexOf(group!)).toBeLessThan(replies.findIndex((r) => r.startsWith('Approval needed')));
  return { jobId, mark };
}

describe('log check: ]E: lines after the resume stop the job at the approval until someone chooses', () => {
  it('Reject rolls back: swap back with the changes made since, task running, old table under its name, nothing lost', async () => {
    const t0 = Date.now();
    const { jobId, mark } = await parkWithErrors();
    // DMS has been writing into the new table since the resume: those changes must survive the rollback
    const resumedAt = Number((await h.rt.jobs.store.get(jobId))?.handles['resumedAt']);
    await loop.until(() => loop.history().filter((c) => c.fate === 'applied' && (c.at ?? 0) > resumedAt).length >= 20, 15_000, 'changes applied to the new table');
    const rejectedAt = Date.now();
    await rejectAs(h, jobId, 'approve-drop');
    const job = await h.waitJob(jobId, (j) => j.state === 'rejected' || j.state === 'failed', 'to roll back', 45_000);
    expect(job.state, job.error).toBe('rejected');
    expect(job.steps.filter((s) => s.state === 'undone').map((s) => s.name)).toEqual(['stop-task', 'create', 'swap', 'resume-task']);
    expect(await tableExists(h, `old_${T}`)).toBe(false);
    expect(await tableExists(h, `new_${T}`)).toBe(false);
    expect(columnsOf(await liveTable(h, T))).toEqual(ORIGINAL);
    await h.waitUntil(() => taskStatus() === 'running', 'the DMS task to run again', 10_000);
    expect(await h.rt.jobs.locks.holder(`${SCHEMA}.${T}`)).toBeUndefined();

    const during = changesBetween(loop, mark, loop.history().length);
    const v = await drainAndVerify(loop);
    expect(v.summary).toMatch(/matches the source/);
    expect(v.ok).toBe(true);
    expect(v.failed).toBe(0);
    expect(during.total).toBeGreaterThan(0);
    // the file was never rewritten
    expect(await schemaFile(h, T)).toContain('  - { name: subject_id, type: integer, default: "NULL" }');
    const replies = await threadOf(h, jobId);
    expect(replies.some((r) => r.startsWith('swapped back:'))).toBe(true);
    // the swap back carried the new table's rows back by primary key in the same transaction
    const back = await h.statements({ name: `job ${jobId} swap back ${SCHEMA}.${T}` });
    expect(back.map((b) => b.sql.split('\n').map((l) => l.split(' ').slice(0, 3).join(' ')))).toEqual([
      [`DELETE FROM ${SCHEMA}.old_${T}`, `UPDATE ${SCHEMA}.old_${T} SET`, `INSERT INTO ${SCHEMA}.old_${T}`, `ALTER TABLE ${SCHEMA}.${T}`, `ALTER TABLE ${SCHEMA}.old_${T}`],
    ]);
    const carried = loop.history().filter((c) => c.fate === 'applied' && (c.at ?? 0) > resumedAt && (c.at ?? 0) < rejectedAt);
    console.log(`[modify-logcheck] reject → rollback: ${((Date.now() - t0) / 1000).toFixed(1)} s; ${during.total} changes during the job, ${carried.length} of them applied to the new table and carried back; ${v.expectedRows} rows verified`);
  }, 90_000);

  it(']E: lines CloudWatch stores late (after their window was searched) still stop the job at the approval', async () => {
    h.sandbox.faults.logIngestionDelayMs = INGESTION_DELAY_MS;
    try {
      const { jobId } = await parkWithErrors();
      const job = (await h.rt.jobs.store.get(jobId))!;
      const resumedAt = Number(job.handles['resumedAt']);
      const windowEnd = resumedAt + LOG_CHECK_MS;
      // the three lines are stamped inside the check's window, but were stored only after that window had been searched
      const rep = h.registry.get(SCHEMA, T)!.replication;
      if (rep.provider !== 'dms') throw new Error(`${T} is not a DMS table`);
      const late = h.sandbox.logs.events(rep.logGroup, rep.logStream).filter((e) => e.message.includes(']E:') && e.timestamp >= resumedAt);
      expect(late).toHaveLength(3);
      for (const e of late) {
        expect(e.timestamp).toBeLessThan(windowEnd);
        expect(e.ingestionTime).toBeGreaterThanOrEqual(windowEnd);
      }
      await rejectAs(h, jobId, 'approve-drop');
      const done = await h.waitJob(jobId, (j) => j.state === 'rejected' || j.state === 'failed', 'to roll back', 45_000);
      expect(done.state, done.error).toBe('rejected');
      expect(columnsOf(await liveTable(h, T))).toEqual(ORIGINAL);
      console.log(`[modify-logcheck] late events: stamped ${late.map((e) => e.timestamp - resumedAt).join('/')} ms after the resume, stored ${late.map((e) => e.ingestionTime - resumedAt).join('/')} ms after it (window ${LOG_CHECK_MS} ms, lag ${LOG_LAG_MS} ms); ${job.steps.find((s) => s.name === 'log-check')?.detail}`);
    } finally {
      h.sandbox.faults.logIngestionDelayMs = 0;
    }
  }, 90_000);

  it('Approve accepts the errors: old_<t> is dropped and the change stays', async () => {
    const t0 = Date.now();
    const { jobId, mark } = await parkWithErrors();
    await approveAs(h, jobId, 'approve-drop', { approver: USERS.approver2 });
    const job = await succeeded(h, jobId);
    expect(job.approvals).toEqual([expect.objectContaining({ step: 'approve-drop', decision: 'approved', by: USERS.approver2 })]);
    expect(await tableExists(h, `old_${T}`)).toBe(false);
    expect(columnsOf(await liveTable(h, T))).toEqual(['id bigint', 'mailing_id integer', 'user_id integer', 'subject_id bigint', 'created_at timestamp', 'note varchar(32)']);
    expect(taskStatus()).toBe('running');
    const during = changesBetween(loop, mark, loop.history().length);
    const v = await drainAndVerify(loop, { resume: false });
    expect(v.ok, v.summary).toBe(true);
    expect(during.total).toBeGreaterThan(0);
    expect(await schemaFile(h, T)).toContain('  - { name: subject_id, type: bigint, default: "NULL" }');
    expect(loopErrors).toEqual([]);
    console.log(`[modify-logcheck] approve despite errors: ${((Date.now() - t0) / 1000).toFixed(1)} s; ${during.total} changes during the job; ${v.expectedRows} rows verified`);
  }, 90_000);
});
