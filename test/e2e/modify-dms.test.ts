/**
 * `/redshift modify` on the DMS-replicated table (ak_sumofus.core_usermailing) end to end (issue 4, "Done when"):
 * signed Slack HTTP → Bolt → BullMQ on real Redis → the worker → AWS SDK (Data API, DMS, CloudWatch Logs) → the sandbox
 * on PostgreSQL, while the sandbox's DmsApplyLoop keeps inserting, updating and deleting rows through the DMS task the
 * whole time. Every job ends with: the new shape in the catalog, EVERY change the loop made present in the table
 * (the whole table compared with the source, row by row), the DMS task running, old_<t> dropped only after an approver's
 * signed click (the requester's own click refused), and the table's file in a temporary COPY of schemas/ rewritten.
 *
 * Jobs, in order (each starts from the shape the one before left):
 *   1. in place: add column note varchar(32), add column extra varchar(16)            (task never stopped)
 *   2. deep copy (--deep-copy; the interleaved sort key forces it anyway): set sortkey, integer → bigint, rename,
 *      drop column, add column with a default, set distkey — stop task → copy → verify → swap → resume → log check →
 *      approval → drop old_<t>
 *   3. in place on the now-compound table: VARCHAR widening, set distkey (ALTER DISTKEY), drop column (its own gate)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunbookSettings } from '../../src/jobs/deps.js';
import { parseTableFile } from '../../src/schema/registry.js';
import type { DmsApplyLoop } from '../../src/sandbox/apply-loop.js';
import type { Replication } from '../../src/sandbox/replication.js';
import { type BotHarness, SCHEMA, startBotHarness } from '../support/bot-harness.js';
import {
  approveAs,
  changesBetween,
  columnsOf,
  drainAndVerify,
  liveTable,
  queueModify,
  schemaFile,
  succeeded,
  tableExists,
  threadOf,
} from '../support/modify-flow.js';

const T = 'core_usermailing';
const TASK = 'flydata-core-usermailing';
const SETTINGS: Partial<RunbookSettings> & { marginSeconds: number } = { logCheckMs: 1_500, freshnessMs: 3_000, marginSeconds: 2 };

let h: BotHarness;
let replication: Replication;
let loop: DmsApplyLoop;
const loopErrors: string[] = [];

beforeAll(async () => {
  h = await startBotHarness({ name: 'mdms', inProcessWorker: { concurrency: 2 }, copySchemas: true, aws: true, settings: SETTINGS, rowsPerTable: 40 });
  replication = await h.sandbox.startReplication(h.registry, { dms: { rate: 25 }, tickMs: 40, onError: (t, e) => loopErrors.push(`${t}: ${e.message}`) });
  loop = replication.dmsLoops.get(`${SCHEMA}.${T}`)!;
  expect(loop).toBeDefined();
  await loop.until(() => loop.stats().applied >= 20, 10_000, 'the loop to apply its first changes');
}, 90_000);

afterAll(async () => {
  await replication?.stop();
  await h?.close();
}, 60_000);

const taskStatus = (): string => h.sandbox.dms.getTask(TASK).status;

describe(`modify ${T} (DMS) with the apply loop writing throughout`, () => {
  it('in place: add two columns while the task keeps running; every change is in the table', async () => {
    const t0 = Date.now();
    const mark = loop.history().length;
    const jobId = await queueModify(h, `${T} add column note varchar(32), add column extra varchar(16)`);
    const job = await succeeded(h, jobId);
    expect(job.steps.map((s) => `${s.name}:${s.state}`)).toEqual(['alter-1:done', 'alter-2:done', 'schema-file:done']);
    const during = changesBetween(loop, mark, loop.history().length);

    const live = await liveTable(h, T);
    expect(columnsOf(live)).toEqual(['id bigint', 'mailing_id integer', 'user_id integer', 'subject_id integer', 'created_at timestamp', 'note varchar(32)', 'extra varchar(16)']);
    expect(taskStatus()).toBe('running');
    // in place: the task was never stopped
    const audit = await h.rt.jobs.audit.readAudit(jobId);
    expect(audit.filter((e) => e.event === 'aws-call')).toEqual([]);

    const v = await drainAndVerify(loop);
    expect(v.summary).toMatch(/matches the source/);
    expect(v.ok).toBe(true);
    expect(v.targetRows).toBe(v.expectedRows);
    expect(v.failed).toBe(0);
    expect(during.total).toBeGreaterThan(0);

    const file = await schemaFile(h, T);
    expect(file).toContain('  - { name: note, type: varchar(32) }');
    expect(file).toContain('  - { name: extra, type: varchar(16) }');
    expect(parseTableFile(`${T}.yml`, file).table?.columns.map((c) => c.name)).toEqual(live.columns.map((c) => c.name));
    console.log(`[modify-dms] in place add×2: ${((Date.now() - t0) / 1000).toFixed(1)} s; ${during.total} changes made during the job; ${v.expectedRows} rows verified`);
  }, 60_000);

  it('deep copy: sort key, integer → bigint, rename, drop, add with default, distkey — task stopped for the swap, drop after approval', async () => {
    const t0 = Date.now();
    // rows with a value only the copy can carry over (the loop never writes `note`)
    await h.sandbox.sql(`update ${SCHEMA}.${T} set note = 'keep-' || id::text where id % 3 = 0`);
    const marked = (await h.sandbox.sql(`select id::text as id from ${SCHEMA}.${T} where note like 'keep-%'`)).rows.map((r) => Number(r.id));
    expect(marked.length).toBeGreaterThan(5);
    // the replication's column mapping follows the rename when the table takes it
    loop.mapColumn('subject_id', 'topic_id');
    const mark = loop.history().length;
    const jobId = await queueModify(
      h,
      `${T} set sortkey (user_id, created_at), alter column subject_id type bigint, rename column subject_id to topic_id, drop column extra, add column channel varchar(16) default 'email', set distkey mailing_id --deep-copy`,
    );
    let approvalText = '';
    await approveAs(h, jobId, 'approve-drop', {
      whileParked: async () => {
        // Slack's fallback text escapes & < > (Slack entities): read it as a user does
        approvalText = (h.approvalButtons(jobId)!.message.text ?? '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
        expect(await tableExists(h, `old_${T}`)).toBe(true);
        expect(await tableExists(h, `new_${T}`)).toBe(false);
        expect(taskStatus()).toBe('running');
      },
    });
    const job = await succeeded(h, jobId);
    expect(job.steps.map((s) => `${s.name}:${s.state}`)).toEqual([
      'preflight:done',
      'read-grants:done',
      'stop-task:done',
      'create:done',
      'copy:done',
      'verify:done',
      'swap:done',
      'resume-task:done',
      'log-check:done',
      'post-verify:done',
      'approve-drop:done',
      'drop:done',
      'schema-file:done',
    ]);
    expect(job.approvals).toEqual([expect.objectContaining({ step: 'approve-drop', decision: 'approved', by: expect.not.stringMatching(job.requester) })]);
    expect(await tableExists(h, `old_${T}`)).toBe(false);
    expect(await tableExists(h, `new_${T}`)).toBe(false);
    expect(taskStatus()).toBe('running');

    const live = await liveTable(h, T);
    expect(columnsOf(live)).toEqual(['id bigint', 'mailing_id integer', 'user_id integer', 'topic_id bigint', 'created_at timestamp', 'note varchar(32)', 'channel varchar(16)']);
    expect(live.sortKey).toEqual({ style: 'COMPOUND', columns: ['user_id', 'created_at'] });
    expect(live.distStyle).toBe('KEY');
    expect(live.distKey).toBe('mailing_id');
    expect(live.columns.find((c) => c.name === 'channel')?.default).toBe("'email'");

    // the DMS task was stopped and resumed through the SDK; the log check read CloudWatch and found nothing wrong
    const audit = await h.rt.jobs.audit.readAudit(jobId);
    expect(audit.filter((e) => e.event === 'aws-call').map((e) => e.detail)).toEqual(expect.arrayContaining(['StopReplicationTask', 'StartReplicationTask resume-processing']));
    expect(job.steps.find((s) => s.name === 'log-check')?.detail).toMatch(/^no \]E: lines/);
    expect(job.steps.find((s) => s.name === 'verify')?.detail).toMatch(/^compared all [\d,]+ rows of core_usermailing with new_core_usermailing, \d+ columns: row counts and per-column checksums match/);
    // the post-swap verification compared every row of old_<t> with the table as it took the name, and the approval said so
    const post = job.steps.find((s) => s.name === 'post-verify')!;
    expect(post.detail).toMatch(/^compared all [\d,]+ rows of old_core_usermailing with core_usermailing as it was at the swap \(checksum taken by the verify step while the DMS task was stopped\), 7 columns: row counts and per-column checksums equal$/);
    expect(approvalText).toContain(`Post-swap verification: ${post.detail!}`);

    // the source kept changing while the task was stopped: those changes waited and were applied after the resume
    const stoppedAt = job.steps.find((s) => s.name === 'stop-task')!.finishedAt!;
    const resumedAt = Number(job.handles['resumedAt']);
    const during = changesBetween(loop, mark, loop.history().length);
    // drained first: on a loaded machine the backlog built while the task was stopped can still be applying when the job ends
    const v = await drainAndVerify(loop);
    const held = loop.history().slice(mark).filter((c) => c.generatedAt > stoppedAt && c.generatedAt < resumedAt);
    expect(held.length).toBeGreaterThan(0);
    const notAfterResume = held.filter((c) => !(c.fate === 'applied' && c.via === 'apply' && (c.at ?? 0) >= resumedAt));
    expect(notAfterResume, 'changes made while the task was stopped must be applied after the resume').toEqual([]);
    expect(v.summary).toMatch(/matches the source/);
    expect(v.ok).toBe(true);
    expect(v.columns).toContain('subject_id'); // compared under its new name topic_id
    expect(v.failed).toBe(0);
    expect(during.total).toBeGreaterThan(0);
    // the copy carried `note`, new rows and old ones took channel's default
    const notes = await h.sandbox.sql(`select id::text as id, note from ${SCHEMA}.${T} where note is not null`);
    const expected = loop.expectedRows();
    const stillThere = marked.filter((id) => expected.get(id) !== 'deleted' && expected.has(id));
    expect(notes.rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(stillThere.sort((a, b) => a - b));
    for (const r of notes.rows) expect(r.note).toBe(`keep-${String(r.id)}`);
    const other = await h.sandbox.sql(`select count(*)::int as n from ${SCHEMA}.${T} where channel is distinct from 'email'`);
    expect(other.rows[0]?.n).toBe(0);

    const file = parseTableFile(`${T}.yml`, await schemaFile(h, T)).table!;
    expect(file.columns.map((c) => `${c.name} ${c.type}`)).toEqual(columnsOf(live));
    expect(file.sortKey).toEqual({ style: 'COMPOUND', columns: ['user_id', 'created_at'] });
    expect(file.distKey).toBe('mailing_id');
    const replies = await threadOf(h, jobId);
    expect(replies.some((r) => /^Step \d+\/\d+ Read the task's CloudWatch logs/.test(r))).toBe(true);
    console.log(`[modify-dms] deep copy (6 ops): ${((Date.now() - t0) / 1000).toFixed(1)} s; ${during.total} changes made during the job (${held.length} held while the task was stopped, applied after the resume); ${v.expectedRows} rows verified`);
  }, 90_000);

  it('in place: VARCHAR widening, ALTER DISTKEY and a gated DROP COLUMN on the now-compound table', async () => {
    const t0 = Date.now();
    const mark = loop.history().length;
    const jobId = await queueModify(h, `${T} alter column note type varchar(256), set distkey user_id, drop column channel`);
    await approveAs(h, jobId, 'approve-drop-column', {
      whileParked: async () => {
        expect((await liveTable(h, T)).columns.map((c) => c.name)).toContain('channel');
      },
    });
    const job = await succeeded(h, jobId);
    expect(job.steps.map((s) => `${s.name}:${s.state}`)).toEqual(['approve-drop-column:done', 'alter-1:done', 'alter-2:done', 'alter-3:done', 'schema-file:done']);
    const live = await liveTable(h, T);
    expect(columnsOf(live)).toEqual(['id bigint', 'mailing_id integer', 'user_id integer', 'topic_id bigint', 'created_at timestamp', 'note varchar(256)']);
    expect(live.distKey).toBe('user_id');
    expect(live.sortKey).toEqual({ style: 'COMPOUND', columns: ['user_id', 'created_at'] });
    expect(taskStatus()).toBe('running');
    const notes = await h.sandbox.sql(`select count(*)::int as n from ${SCHEMA}.${T} where note <> 'keep-' || id::text`);
    expect(notes.rows[0]?.n).toBe(0);

    const during = changesBetween(loop, mark, loop.history().length);
    const v = await drainAndVerify(loop, { resume: false });
    expect(v.summary).toMatch(/matches the source/);
    expect(v.ok).toBe(true);
    expect(v.failed).toBe(0);
    expect(during.total).toBeGreaterThan(0);
    const file = parseTableFile(`${T}.yml`, await schemaFile(h, T)).table!;
    expect(file.columns.map((c) => `${c.name} ${c.type}`)).toEqual(columnsOf(live));
    expect(file.distKey).toBe('user_id');
    expect(loopErrors).toEqual([]);
    console.log(`[modify-dms] in place widen+distkey+drop: ${((Date.now() - t0) / 1000).toFixed(1)} s; ${during.total} changes during the job; ${v.expectedRows} rows verified; loop total ${v.generated} changes, ${v.applied} applied, ${v.failed} failed`);
  }, 60_000);
});
