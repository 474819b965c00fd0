/**
 * `/redshift recover core_usermailing` (DMS) end to end: signed Slack HTTP → Bolt → BullMQ on real Redis → the worker →
 * AWS SDK (Data API, DMS, CloudWatch Logs) → the sandbox on PostgreSQL, while the sandbox's DmsApplyLoop writes its
 * changes to a MariaDB source the whole time and the bot compares with that source through mysql2.
 *
 *   1. --dry-run after an outage: every statement and AWS call, the reasons, nothing queued.
 *   2. an outage longer than the binlog retention (changes lost, the task FATAL) + replayed duplicates → recover
 *      restarts with reload-target, waits for Table completed (FullLoadRows in the edited progress message), finds no
 *      ]E:, sees CDC apply, dedupes after an approval and ends equal to the source (counts and range checksums).
 *   3. Table error on a running task → ReloadTables for the one table → equal.
 *   4. the table dropped by accident: reject → nothing created; approve → created from schemas/, loaded, equal.
 *   5. a table whose shape differs from schemas/: dropped only after an approval naming it and why, then recreated.
 *   6. a Table error during the load: the job fails with DMS's words, the table stays; Retry reloads and ends equal.
 *   7. FATAL_ERROR → reload-target; each fault's reason is in the thread and nothing was dropped without approval.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { DmsApplyLoop } from '../../src/sandbox/apply-loop.js';
import { SCHEMA, USERS } from '../support/bot-harness.js';
import { approveAs, rejectAs, succeeded, tableExists, threadOf } from '../support/modify-flow.js';
import { type RecoverWorld, duplicateIds, queueRecover, recoverReply, settle, startRecoverWorld, stepReached, stepStates } from '../support/recover-flow.js';

const T = 'core_usermailing';
const TASK = 'flydata-core-usermailing';

let w: RecoverWorld;
let loop: DmsApplyLoop;

beforeAll(async () => {
  // loads in chunks of 60 rows, 250 ms apart (the table grows by the loop's inserts through the file: slower chunks
  // made the last tests' loads a minute long); the first test slows its own load so FullLoadRows is seen moving
  w = await startRecoverWorld('rdms', { replication: { loadChunkRows: 60, loadChunkDelayMs: 250 } });
  loop = w.replication.dmsLoops.get(`${SCHEMA}.${T}`)!;
  expect(loop).toBeDefined();
  await loop.until(() => loop.stats().applied >= 20, 15_000, 'the loop to apply its first changes');
}, 120_000);

afterAll(async () => {
  await w?.close();
}, 60_000);

const task = () => w.h.sandbox.dms.getTask(TASK);

/**
 * Once DMS is seen applying again, the source stops changing, so the final compare reads a still table (an update or
 * delete of an old row that is still in flight is outside the lag window; the step compares again, but a test wants
 * one answer). `settle` in equalToSource turns the changes back on.
 */
function quietAfterApplies(jobId: string): Promise<void> {
  return stepReached(w.h, jobId, 'cdc-applies', ['done', 'failed'], 90_000).then(() => loop.stopGenerating());
}

/** The task stopped longer than the binlog retention, then resumed: DMS fails with FATAL_ERROR, the changes are gone. */
async function binlogOutage(): Promise<void> {
  const arn = task().arn;
  await w.h.dms!.stopTask(arn);
  await w.h.dms!.waitForStatus(arn, 'stopped', { timeoutMs: 20_000 });
  loop.setBinlogRetention(300);
  const mark = loop.stats().generated;
  await loop.until(() => loop.stats().generated > mark + 10, 15_000, 'changes while the task is stopped');
  await new Promise((r) => setTimeout(r, 600));
  await w.h.dms!.resumeTask(arn);
  await w.h.waitUntil(() => task().status === 'failed', 'the task to fail (binlog position purged)', 20_000);
  loop.setBinlogRetention(undefined);
}

/** Everything equal to the source: the loop's own row-by-row check and the bot's compare (counts + range checksums). */
async function equalToSource(jobDetail: string | undefined): Promise<void> {
  expect(jobDetail).toMatch(/^ak_sumofus\.core_usermailing: ✓/);
  await settle(loop);
  const v = await loop.verify();
  expect(v.ok, v.summary).toBe(true);
  expect(await duplicateIds(w.h, T)).toBe(0);
  loop.resumeGenerating();
}

describe(`recover ${T} (DMS)`, () => {
  it('an outage past the binlog retention plus replayed duplicates: --dry-run, then reload-target, dedupe after approval, equal to the source', async () => {
    const t0 = Date.now();
    onTestFinished(() => loop.setLoadPace(60, 250));
    // 25 rows every 700 ms: the load lasts long enough for several edits of the progress message's FullLoadRows figure
    loop.setLoadPace(25, 700);
    await binlogOutage();
    expect(task().lastFailureMessage).toMatch(/binary log/);
    expect(loop.stats().lostToRetention).toBeGreaterThan(0);

    // 6. --dry-run: the reasons, every statement and AWS call; nothing queued
    const before = await w.h.queueCounts();
    const plan = await recoverReply(w.h, `${T} --dry-run`);
    expect(plan).toMatch(/dry run — nothing was queued or run/);
    expect(plan).toMatch(/why: DMS task flydata-core-usermailing is failed .*binlog position/);
    expect(plan).toContain('StopReplicationTask flydata-core-usermailing');
    expect(plan).toContain('StartReplicationTask ReplicationTaskArn=<arn of flydata-core-usermailing> StartReplicationTaskType=reload-target');
    expect(plan).toContain('DescribeTableStatistics');
    expect(plan).toContain('filter-log-events --log-group-name dms-tasks-core-usermailing-replication');
    expect(plan).toMatch(/SELECT \(SELECT COUNT\(\*\) FROM ak_sumofus\.core_usermailing\) AS total_rows/);
    expect(plan).toMatch(/LOCK TABLE ak_sumofus\.core_usermailing;\s+CREATE TEMP TABLE rso_dedupe_keys/);
    expect(plan).toMatch(/compare ak_sumofus\.core_usermailing with rso_rdms_\w+\.core_usermailing/);
    expect(await w.h.queueCounts()).toEqual(before);
    expect(await w.h.rt.jobs.store.listRecent(50)).toEqual([]);

    const jobId = await queueRecover(w.h, T);
    const quiet = quietAfterApplies(jobId);
    // once the load is in, DMS replays a few changes (a restart from an earlier checkpoint): duplicate keys appear
    await stepReached(w.h, jobId, 'full-load');
    const replayed = await loop.replayDuplicates(4);
    expect(replayed.length).toBe(4);
    // replication keeps going: a delete of a replayed key removes both of its rows, so the gate may see fewer than 4
    await approveAs(w.h, jobId, 'approve-dedupe', {
      whileParked: async () => {
        expect(await duplicateIds(w.h, T)).toBeGreaterThan(0);
      },
    });
    const job = await succeeded(w.h, jobId, 90_000);
    await quiet;
    expect(stepStates(job)).toEqual([
      'assess:done',
      'stop-task:skipped',
      'full-load:done',
      'log-check:done',
      'cdc-applies:done',
      'duplicate-keys:done',
      'approve-dedupe:done',
      'dedupe:done',
      'final-compare:done',
    ]);
    const d = (n: string) => job.steps.find((s) => s.name === n)?.detail;
    expect(d('assess')).toMatch(/^reload-target: DMS task flydata-core-usermailing is failed/);
    expect(d('full-load')).toMatch(/^Table completed: FullLoadRows [\d,]+ in [\d.]+ s \(StartReplicationTask reload-target of flydata-core-usermailing\); task flydata-core-usermailing is running$/);
    expect(d('log-check')).toMatch(/^no \]E: lines/);
    expect(d('cdc-applies')).toMatch(/^DMS applies changes to ak_sumofus\.core_usermailing again: (inserts|updates|deletes)/);
    const dup = /: (\d+) key\(s\) have more than one row \((\d+) rows, \1 extra\) — e\.g\. id \d+ ×2/.exec(d('duplicate-keys') ?? '');
    expect(dup, d('duplicate-keys')).not.toBeNull();
    const found = Number(dup![1]);
    expect(found).toBeGreaterThanOrEqual(1);
    expect(found).toBeLessThanOrEqual(4);
    expect(d('dedupe')).toMatch(/deleted (\d+) rows of those keys and put back (\d+) \(keeps any one row of each key\).*after: [\d,]+ rows, 0 duplicate keys$/);
    expect(task().status).toBe('running');
    await equalToSource(d('final-compare'));

    // the thread: the reason, ONE ⏳ line for the load, FullLoadRows shown by editing the progress message
    const thread = await threadOf(w.h, jobId);
    expect(thread.filter((t) => /waiting for DMS to load/.test(t))).toHaveLength(1);
    expect(thread.some((t) => /FullLoadRows \d/.test(t) && !/Table completed/.test(t))).toBe(false);
    const progress = (await w.h.progressMessage(jobId))!;
    const edits = w.h.fake.callsTo('chat.update').filter((c) => c.body.ts === progress.ts).map((c) => JSON.stringify(c.body.blocks ?? ''));
    const figures = new Set(edits.map((b) => /⏳ ak_sumofus\.core_usermailing: FullLoadRows ([\d,]+)/.exec(b)?.[1]).filter((x) => x !== undefined));
    expect(figures.size, `FullLoadRows figures in the progress message's edits: ${[...figures].join(', ')}`).toBeGreaterThanOrEqual(2);
    expect(thread.some((t) => /before the dedupe: [\d,]+ rows; \d key\(s\) with \d+ rows/.test(t))).toBe(true);
    const audit = (await w.h.rt.jobs.audit.readAudit(jobId)).filter((e) => e.event === 'aws-call').map((e) => e.detail);
    expect(audit).toContain('StartReplicationTask reload-target');
    expect(audit.filter((a) => a === 'StartReplicationTask reload-target')).toHaveLength(1);
    console.log(`[recover-dms] binlog outage → reload-target + dedupe: ${((Date.now() - t0) / 1000).toFixed(1)} s; ${loop.stats().lostToRetention} changes lost to the retention; ${d('final-compare')}`);
  }, 180_000);

  it('Table error on a running task: ReloadTables for the one table, no duplicates to remove, equal to the source', async () => {
    loop.injectTableError('a column value did not fit (sandbox)');
    await w.h.waitUntil(async () => (await w.h.dms!.tableStats(task().arn, SCHEMA, T))?.state === 'Table error', 'Table error', 10_000);
    await loop.until(() => loop.stats().failed > 0, 10_000, 'changes lost while suspended');
    const jobId = await queueRecover(w.h, T);
    const quiet = quietAfterApplies(jobId);
    const job = await succeeded(w.h, jobId, 90_000);
    await quiet;
    expect(stepStates(job)).toEqual(['assess:done', 'full-load:done', 'log-check:done', 'cdc-applies:done', 'duplicate-keys:done', 'approve-dedupe:skipped', 'dedupe:skipped', 'final-compare:done']);
    const d = (n: string) => job.steps.find((s) => s.name === n)?.detail;
    expect(d('assess')).toMatch(/^reload-table: ak_sumofus\.core_usermailing is in Table error/);
    expect(d('full-load')).toMatch(/\(ReloadTables for ak_sumofus\.core_usermailing\); task flydata-core-usermailing is running$/);
    expect(d('duplicate-keys')).toMatch(/no duplicate keys$/);
    const audit = (await w.h.rt.jobs.audit.readAudit(jobId)).filter((e) => e.event === 'aws-call').map((e) => e.detail);
    expect(audit).toContain('ReloadTables ak_sumofus.core_usermailing');
    expect(audit.some((a) => /StopReplicationTask|StartReplicationTask/.test(a ?? ''))).toBe(false);
    await equalToSource(d('final-compare'));
  }, 120_000);

  it('a table dropped by accident: reject → nothing created; approve → created from schemas/, loaded, equal', async () => {
    await w.h.sandbox.sql(`drop table ${SCHEMA}.${T}`);
    await w.h.waitUntil(async () => (await w.h.dms!.tableStats(task().arn, SCHEMA, T))?.state === 'Table error', 'Table error after the drop', 10_000);
    const plan = await recoverReply(w.h, `${T} --dry-run`);
    expect(plan).toMatch(/1\. .*\n(.|\n)*2\. Approve creating ak_sumofus\.core_usermailing from schemas\/ and reloading it with DMS {2}\[needs approval\]/);
    expect(plan).toMatch(/CREATE TABLE ak_sumofus\.core_usermailing/);

    const rejected = await queueRecover(w.h, T);
    await rejectAs(w.h, rejected, 'approve-create');
    const r = await w.h.waitJob(rejected, (j) => j.state === 'rejected', 'to be rejected', 30_000);
    expect(stepStates(r)).toContain('approve-create:pending');
    expect(await tableExists(w.h, T)).toBe(false);
    expect((await w.h.rt.jobs.audit.readAudit(rejected)).filter((e) => e.event === 'aws-call' && /Stop|Start|Reload/.test(e.detail ?? ''))).toEqual([]);

    const jobId = await queueRecover(w.h, T);
    const quiet = quietAfterApplies(jobId);
    await approveAs(w.h, jobId, 'approve-create', {
      whileParked: async () => {
        expect(await tableExists(w.h, T)).toBe(false);
      },
    });
    const job = await succeeded(w.h, jobId, 90_000);
    await quiet;
    expect(stepStates(job)).toEqual([
      'assess:done',
      'approve-create:done',
      'stop-task:done',
      'create:done',
      'full-load:done',
      'log-check:done',
      'cdc-applies:done',
      'duplicate-keys:done',
      'approve-dedupe:skipped',
      'dedupe:skipped',
      'final-compare:done',
    ]);
    expect(job.steps.find((s) => s.name === 'assess')?.detail).toMatch(/^recreate: ak_sumofus\.core_usermailing does not exist in the warehouse/);
    expect(task().status).toBe('running');
    await equalToSource(job.steps.find((s) => s.name === 'final-compare')?.detail);
  }, 150_000);

  it('a table whose shape differs from schemas/: dropped only after an approval naming it, created from schemas/, loaded, equal', async () => {
    await w.h.sandbox.sql(`alter table ${SCHEMA}.${T} add column stray varchar(8)`);
    const jobId = await queueRecover(w.h, T);
    const quiet = quietAfterApplies(jobId);
    let prompt = '';
    await approveAs(w.h, jobId, 'approve-drop', {
      whileParked: async () => {
        prompt = (w.h.approvalButtons(jobId)!.message.text ?? '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
        // nothing has been touched yet: the table is there, with its stray column, and the task runs
        const cols = await w.h.sandbox.sql(`select column_name::text as c from information_schema.columns where table_schema = $1 and table_name = $2`, [SCHEMA, T]);
        expect(cols.rows.map((r) => r.c)).toContain('stray');
        expect(task().status).toBe('running');
      },
    });
    expect(prompt).toMatch(/differs from schemas\/ \(.*stray.*\).*Drop ak_sumofus\.core_usermailing\?/s);
    const job = await succeeded(w.h, jobId, 120_000);
    await quiet;
    expect(stepStates(job).slice(0, 6)).toEqual(['assess:done', 'approve-drop:done', 'stop-task:done', 'drop:done', 'create:done', 'full-load:done']);
    const cols = await w.h.sandbox.sql(`select column_name::text as c from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position`, [SCHEMA, T]);
    expect(cols.rows.map((r) => r.c)).toEqual(['id', 'mailing_id', 'user_id', 'subject_id', 'created_at']);
    expect(task().status).toBe('running');
    await equalToSource(job.steps.find((s) => s.name === 'final-compare')?.detail);
  }, 150_000);

  it('a Table error DURING the load: the job fails saying what DMS said, the table stays, nothing was dropped; Retry requests the load again and ends equal', async () => {
    loop.injectTableError('before the recover (sandbox)');
    await w.h.waitUntil(async () => (await w.h.dms!.tableStats(task().arn, SCHEMA, T))?.state === 'Table error', 'Table error', 10_000);
    const jobId = await queueRecover(w.h, T);
    await w.h.waitJob(jobId, (j) => (j.handles['full-load.sawLoading'] ?? '') !== '', 'to see the load under way', 60_000);
    loop.injectTableError('the target ran out of disk during the load (sandbox)');
    const failed = await w.h.waitJob(jobId, (j) => j.state === 'failed' || j.state === 'succeeded', 'to fail', 60_000);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/DMS reports Table error for ak_sumofus\.core_usermailing during its full load .*Retry requests the load again/);
    const thread = await threadOf(w.h, jobId);
    expect(thread.some((t) => /DMS reports Table error for ak_sumofus\.core_usermailing during its full load/.test(t))).toBe(true);
    // safe: the table is there, no drop or create was even planned on this path
    expect(await tableExists(w.h, T)).toBe(true);
    expect((await w.h.statements({ sql: /DROP TABLE|CREATE TABLE/i })).filter((st) => /core_usermailing/.test(st.sql) && st.name?.includes(`job ${jobId} `))).toEqual([]);

    const quiet = quietAfterApplies(jobId);
    const retried = await w.h.rt.control.retryJob(jobId, USERS.operator);
    expect(retried.ok, retried.message).toBe(true);
    const job = await succeeded(w.h, jobId, 90_000);
    await quiet;
    const audit = (await w.h.rt.jobs.audit.readAudit(jobId)).filter((e) => e.event === 'aws-call').map((e) => e.detail);
    expect(audit.filter((a) => a === 'ReloadTables ak_sumofus.core_usermailing')).toHaveLength(2);
    await equalToSource(job.steps.find((s) => s.name === 'final-compare')?.detail);
  }, 150_000);

  it('FATAL_ERROR: reload-target, the failure message in the thread', async () => {
    loop.injectFatalError('Error executing command (sandbox)');
    await w.h.waitUntil(() => task().status === 'failed', 'the task to fail', 10_000);
    const jobId = await queueRecover(w.h, T);
    const quiet = quietAfterApplies(jobId);
    const job = await succeeded(w.h, jobId, 90_000);
    await quiet;
    expect(job.steps.find((s) => s.name === 'assess')?.detail).toMatch(/^reload-target: DMS task flydata-core-usermailing is failed \(Stop Reason FATAL_ERROR — Last Error Error executing command \(sandbox\)/);
    const thread = await threadOf(w.h, jobId);
    expect(thread.some((t) => /FATAL_ERROR/.test(t))).toBe(true);
    await equalToSource(job.steps.find((s) => s.name === 'final-compare')?.detail);
    expect(w.loopErrors).toEqual([]);
  }, 120_000);
});
