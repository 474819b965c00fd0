/**
 * The bot end to end, real parts only (issue 3, "Done when"): signed HTTP requests into the real Bolt receiver; real
 * Redis (BullMQ, records, locks, audit); the Data API sandbox on a PostgreSQL database of this file's own; the real
 * Redshift Data API adapter and the real Slack thread reporter posting to a fake Slack over HTTP. Job-running tests use
 * worker PROCESSES started from the real entry point (`node --import tsx src/main.ts --role worker`), so this process is
 * the `--role bot` and the two talk only through Redis, as in production.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/jobs/types.js';
import { type BotHarness, CHANNEL, SCHEMA, USERS, startBotHarness } from '../support/bot-harness.js';
import type { FakeMessage, FakeSlackCall } from '../support/fake-slack.js';

let h: BotHarness;

beforeAll(async () => {
  h = await startBotHarness({ name: 'slack', rowsPerTable: 25 });
}, 60_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

/** The data rows of the status table as { table → cells }, read from the text the bot posted. */
function statusRows(text: string): Map<string, string[]> {
  const lines = text.split('\n');
  const head = lines.findIndex((l) => /^table\s+replication\s+rows\s+MB/.test(l));
  expect(head, `no status table header in:\n${text}`).toBeGreaterThanOrEqual(0);
  const rows = new Map<string, string[]>();
  for (const line of lines.slice(head + 2)) {
    if (!/^[a-z_]+\s/.test(line)) break;
    const cells = line.split(/\s{2,}/);
    rows.set(cells[0] ?? '', cells);
  }
  return rows;
}

async function tableExists(name: string): Promise<number> {
  const r = await h.sandbox.sql(`select count(*)::int as n from information_schema.tables where table_schema = $1 and table_name = $2`, [SCHEMA, name]);
  return Number(r.rows[0]?.n ?? 0);
}

/** `/redshift schema apply core_tag` from the operator; returns the queued job (id read from the bot's reply). */
async function queueSchemaApply(table: string): Promise<JobRecord> {
  const r = await h.slash(`schema apply ${table}`, { userId: USERS.operator });
  expect(r.status).toBe(200);
  const reply = await h.waitForResponse(r.responseId);
  expect(reply.body.response_type).toBe('ephemeral');
  const m = /^Queued job (\d+): schema apply ak_sumofus\.core_tag/.exec(String(reply.body.text));
  expect(m, String(reply.body.text)).not.toBeNull();
  const job = await h.rt.jobs.store.get(m?.[1] ?? '');
  expect(job).toBeDefined();
  return job!;
}

async function parked(jobId: string): Promise<JobRecord> {
  const job = await h.waitJob(jobId, (j) => j.state === 'awaiting-approval', 'to park on its approval gate');
  await h.waitUntil(async () => (await h.rt.jobs.bullState(job)) === 'delayed', 'the BullMQ job to be delayed (parked, no worker held)');
  return job;
}

function blocksText(m: FakeMessage | undefined): string {
  return JSON.stringify(m?.blocks ?? []);
}

describe('read-only commands over signed HTTP', () => {
  it('`/redshift status` is acked before the slow work (< 3 s) and the 26-table status lands in the channel', async () => {
    // make every warehouse statement slow (750 ms), so "acked before the work" is visible: the answer needs several
    // rounds of catalog queries, so it cannot exist yet when the 200 arrives
    h.sandbox.faults.statementDelayMs = 750;
    const postsBefore = h.fake.callsTo('chat.postMessage').length;
    let post: FakeSlackCall | undefined;
    const sentAt = Date.now();
    try {
      const r = await h.slash('status', { userId: USERS.stranger });
      expect(r.status).toBe(200);
      expect(r.body).toBe('');
      expect(r.ms).toBeLessThan(3_000);
      expect(h.fake.callsTo('chat.postMessage').length).toBe(postsBefore); // the answer had not been posted yet
      post = await h.fake.waitFor((c) => c.method === 'chat.postMessage' && String(c.body.text).startsWith(`Status of ${SCHEMA}`), 30_000);
      expect(post.at - sentAt).toBeGreaterThanOrEqual(750); // the answer really came after slow queries, the ack before them
    } finally {
      h.sandbox.faults.statementDelayMs = 0;
    }
    expect(post?.body.channel).toBe(CHANNEL);
    expect(post?.token).toBe(h.token);
    const text = String(post?.body.text);

    const rows = statusRows(text);
    const names = h.registry.names();
    expect(names).toHaveLength(26);
    expect([...rows.keys()].sort()).toEqual([...names].sort());
    // the rows column is what the warehouse holds, table by table
    for (const name of names) {
      const n = (await h.sandbox.sql(`select count(*)::int as n from ${SCHEMA}."${name}"`)).rows[0]?.n;
      expect(rows.get(name)?.[2], `rows of ${name}`).toBe(Number(n).toLocaleString('en-US'));
      expect(rows.get(name)?.[7], `drift of ${name}`).toBe('none');
    }
    expect(rows.get('core_user')?.[2]).toBe('25');
    // this harness has no DMS / CloudWatch clients: those parts say so instead of passing as healthy
    expect(text).toMatch(/^Status of ak_sumofus: 0 errors, 0 warnings, 2 parts unknown\n/);
    expect(text).toContain('DMS task flydata-core-usermailing unknown: no DMS client is configured');
    expect(text).toContain('running/queued jobs: none');
    expect(text).toContain('26 tables · 25 without problems');
    expect(text).toContain('not measured — no updated_at timestamp column: core_actionfield, core_click');
    // Block Kit: headline, the unknown parts first, the healthy rows folded into one line naming each
    const blocks = JSON.stringify(post?.body.blocks);
    expect(blocks).toContain(`*Status of ${SCHEMA}* — 0 errors, 0 warnings, 2 parts unknown`);
    for (const name of names) expect(blocks).toContain(name);
    // nothing was queued by a read-only command
    expect(await h.rt.jobs.store.listRecent()).toEqual([]);
  });

  it('`/redshift schema diff` names a column added behind the bot\'s back', async () => {
    await h.sandbox.sql(`alter table ${SCHEMA}.share_type add column sneaky_note varchar(32)`);
    try {
      const all = await h.slash('schema diff', { userId: USERS.stranger });
      expect(all.status).toBe(200);
      const reply = await h.waitForResponse(all.responseId, undefined, 20_000);
      expect(reply.body.response_type).toBe('ephemeral');
      const text = String(reply.body.text);
      expect(text).toMatch(/^Drift in 1 of 26 tables:/);
      expect(text).toContain(`${SCHEMA}.share_type`);
      expect(text).toContain(`${SCHEMA}.share_type.sneaky_note: extra column`);

      const one = await h.slash('schema diff share_type', { userId: USERS.stranger });
      const r1 = await h.waitForResponse(one.responseId, undefined, 20_000);
      expect(String(r1.body.text)).toMatch(/^Drift in 1 of 1 tables:/);
      expect(String(r1.body.text)).toContain('sneaky_note');

      const clean = await h.slash('schema diff core_user', { userId: USERS.stranger });
      expect(String((await h.waitForResponse(clean.responseId, undefined, 20_000)).body.text)).toBe('No drift: 1 table match schemas/.');
    } finally {
      await h.sandbox.sql(`alter table ${SCHEMA}.share_type drop column sneaky_note`);
    }
  });
});

describe('a queued job with an approval gate, run by worker processes (src/main.ts --role worker)', () => {
  it('queues, posts its progress message, parks on approve-create, is approved by a signed click, finishes, and the thread shows every step', async () => {
    await h.sandbox.sql(`drop table ${SCHEMA}.core_tag`);
    expect(await tableExists('core_tag')).toBe(0);
    const worker = await h.spawnWorker();

    const queued = await queueSchemaApply('core_tag');
    expect(queued).toMatchObject({ kind: 'schema-apply', table: `${SCHEMA}.core_tag`, requester: USERS.operator, origin: { kind: 'slack', channel: CHANNEL } });

    const job = await parked(queued.id);
    expect(job.pendingApproval?.step).toBe('approve-create');
    expect(job.steps.map((s) => s.state)).toEqual(['done', 'pending', 'pending', 'pending', 'pending']);

    // one live progress message in the channel, the job thread hangs off it
    const progress = await h.progressMessage(job.id);
    expect(progress, 'progress message').toBeDefined();
    expect(progress?.thread_ts).toBeUndefined();
    expect(h.progressMessagesOf(job.id)).toHaveLength(1);
    const threadTs = progress!.ts;
    expect(job.origin).toMatchObject({ kind: 'slack', channel: CHANNEL, threadTs, progressTs: threadTs });
    // posted when the command was queued, before any worker could see the job: the "queued" state, no steps yet
    expect(h.fake.callsTo('chat.postMessage').find((c) => c.body.channel === CHANNEL && c.body.thread_ts === undefined && JSON.stringify(c.body.blocks).includes(`Job \`${job.id}\``))?.body.text).toMatch(/^schema-apply ak_sumofus\.core_tag: queued — no steps \(\d+\.\ds\)$/);

    // the approval message in the thread, with the buttons; the value is taken from what Slack would show
    await h.waitUntil(() => h.approvalButtons(job.id) !== undefined, 'the approval buttons in the thread');
    const buttons = h.approvalButtons(job.id)!;
    expect(buttons.message.thread_ts).toBe(threadTs);
    expect(buttons.value).toEqual({ jobId: job.id, step: 'approve-create', nonce: job.pendingApproval?.nonce });
    expect(buttons.message.text).toContain('Approval needed for schema-apply ak_sumofus.core_tag');

    const click = await h.click('rso_approve', buttons.raw, { userId: USERS.approver, messageTs: buttons.message.ts, threadTs });
    expect(click.status).toBe(200);
    const said = await h.waitForResponse(click.responseId);
    expect(said.body).toMatchObject({ response_type: 'ephemeral', replace_original: false, text: `job ${job.id}: step "approve-create" approved by <@${USERS.approver}>` });

    const done = await h.waitJob(job.id, (j) => j.state === 'succeeded', 'to succeed');
    expect(done.steps.map((s) => `${s.name}:${s.state}`)).toEqual([
      'preflight:done',
      'approve-create:done',
      'create-schema:skipped',
      `create-${SCHEMA}.core_tag:done`,
      'verify:done',
    ]);
    expect(done.approvals).toEqual([{ step: 'approve-create', decision: 'approved', by: USERS.approver, at: expect.any(Number) }]);
    expect(await tableExists('core_tag')).toBe(1);
    expect(await h.rt.jobs.locks.holder(`${SCHEMA}.core_tag`)).toBeUndefined();

    // the thread: the approval message lost its buttons ("approved by"), one reply per step, then the outcome
    await h.waitUntil(() => h.thread(threadTs).some((m) => /^schema-apply ak_sumofus\.core_tag succeeded after/.test(m.text ?? '')), 'the "job succeeded" reply');
    const approval = h.fake.message(CHANNEL, buttons.message.ts);
    expect(approval?.text).toBe(`Approved by <@${USERS.approver}>: schema-apply ak_sumofus.core_tag, Approval to create the tables`);
    expect(blocksText(approval)).not.toContain('rso_approve');
    expect(blocksText(approval)).toContain(`Approved by <@${USERS.approver}> at <!date^`);
    const replies = h.thread(threadTs).map((m) => m.text ?? '');
    const stepReplies = replies.filter((t) => t.startsWith('Step '));
    expect(stepReplies).toEqual([
      expect.stringMatching(/^Step 1\/5 Look up ak_sumofus\.core_tag in the catalog done in [\d.]+s — to create: ak_sumofus\.core_tag$/),
      expect.stringMatching(/^Step 2\/5 Approval to create the tables done in [\d.]+s — approved$/),
      'Step 3/5 Create schema ak_sumofus if missing skipped — already done',
      expect.stringMatching(/^Step 4\/5 Create ak_sumofus\.core_tag done in [\d.]+s — created \(statement [0-9a-f-]{36}\)$/),
      expect.stringMatching(/^Step 5\/5 Verify the catalog matches schemas\/ done in [\d.]+s — 1 table match schemas\/ \(7 columns: names, order, types, NOT NULL, defaults; DISTKEY and SORTKEY; informational keys not read back\)$/),
    ]);
    expect(replies.at(-1)).toMatch(/^schema-apply ak_sumofus\.core_tag succeeded after [\d.]+s$/);
    expect(replies.filter((t) => t.startsWith('Resumed'))).toEqual([]); // waking up after an approval is not a resume
    // the live message's final update says succeeded, all steps ticked
    await h.waitUntil(async () => ((await h.progressMessage(job.id))?.text ?? '').includes('succeeded'), 'the final progress update');
    const final = await h.progressMessage(job.id);
    expect(final?.text).toMatch(/^schema-apply ak_sumofus\.core_tag: succeeded — 5\/5 steps \([\d.]+s\)$/);
    expect(blocksText(final)).toContain('All 5 steps done');
    expect(final?.edits).toBeGreaterThan(0);

    // the worker process shuts down cleanly on SIGTERM
    expect(await worker.stop()).toBe(0);
  });

  it('the same job resumes after its worker process is SIGKILLed mid-step: finishes, the table exists once, no statement ran twice', async () => {
    await h.sandbox.sql(`drop table ${SCHEMA}.core_tag`);
    const w1 = await h.spawnWorker();
    const queued = await queueSchemaApply('core_tag');
    const job = await parked(queued.id);
    const threadTs = (await h.progressMessage(job.id))!.ts;
    await h.waitUntil(() => h.approvalButtons(job.id) !== undefined, 'the approval buttons');
    const buttons = h.approvalButtons(job.id)!;

    // A session holding an uncommitted CREATE of the same name makes PostgreSQL hold the job's CREATE TABLE until it
    // ends: the step is provably in flight (statement STARTED in the sandbox) when the worker dies.
    const blocker = new pg.Client({ connectionString: h.db.url });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query(`create table ${SCHEMA}.core_tag (blocker int)`);

      expect((await h.click('rso_approve', buttons.raw, { userId: USERS.approver2, messageTs: buttons.message.ts, threadTs })).status).toBe(200);
      const createStep = `create-${SCHEMA}.core_tag`;
      let statementId = '';
      await h.waitUntil(async () => {
        const handle = (await h.rt.jobs.audit.readAudit(job.id)).find((e) => e.event === 'handle' && e.detail === `create:${SCHEMA}.core_tag`);
        statementId = handle?.ref ?? '';
        return statementId !== '';
      }, 'worker 1 to submit the CREATE TABLE and record its statement id');
      await h.waitUntil(async () => (await h.warehouse.describe(statementId)).status === 'STARTED', 'the CREATE to be running');

      await w1.kill9();
      const mid = await h.rt.jobs.store.get(job.id);
      expect(mid?.state).toBe('running');
      expect(mid?.cursor).toBe(3);
      expect(mid?.steps[3]).toMatchObject({ name: createStep, state: 'running' });
      expect(mid?.handles[`create:${SCHEMA}.core_tag`]).toBe(statementId);

      const w2 = await h.spawnWorker();
      expect(w2.pid).not.toBe(w1.pid);
      // worker 2 takes the stalled job over and resumes the create step (isDone: the table is not there yet) …
      await h.waitUntil(
        async () => (await h.rt.jobs.audit.readAudit(job.id)).filter((e) => e.event === 'step-start' && e.step === createStep).length === 2,
        async () => `worker 2 to resume the create step; bull state ${await h.rt.jobs.bullState(job)}; audit:\n${(await h.rt.jobs.audit.readAudit(job.id)).map((e) => `${e.event} ${e.step ?? ''} ${e.detail ?? ''} ${e.outcome ?? ''}`).join('\n')}\nworker 2:\n${w2.output()}`,
        20_000,
      );
      // … and waits on the statement worker 1 submitted instead of submitting another; let PostgreSQL go on
      await blocker.query('rollback');
      const done = await h.waitJob(job.id, (j) => j.state === 'succeeded', 'to succeed on worker 2', 20_000);
      expect(done.steps.map((s) => s.state)).toEqual(['done', 'done', 'skipped', 'done', 'done']);
      expect(done.steps[3]?.detail).toBe(`created (statement ${statementId})`);

      // the table exists exactly once, as schemas/ defines it (not the blocker's)
      expect(await tableExists('core_tag')).toBe(1);
      const cols = (await h.sandbox.sql(`select column_name from information_schema.columns where table_schema = $1 and table_name = 'core_tag' order by ordinal_position`, [SCHEMA])).rows.map((r) => r.column_name);
      expect(cols).toEqual(h.registry.get(SCHEMA, 'core_tag')?.columns.map((c) => c.name));

      // no step ran twice: ONE CREATE statement reached the Data API for this job, and the audit log has one outcome
      const creates = await h.statements({ name: `job ${job.id} create ${SCHEMA}.core_tag` });
      expect(creates).toEqual([expect.objectContaining({ id: statementId, status: 'FINISHED', sql: expect.stringMatching(/^CREATE TABLE/) })]);
      const audit = await h.rt.jobs.audit.readAudit(job.id);
      expect(audit.filter((e) => e.event === 'statement' && e.step === createStep)).toEqual([expect.objectContaining({ ref: statementId, outcome: 'FINISHED' })]);
      expect(audit.filter((e) => e.event === 'step-end').map((e) => e.step)).toEqual(['preflight', 'approve-create', createStep, 'verify']);
      expect(audit.filter((e) => e.event === 'started').map((e) => e.detail)).toEqual(['from step 1', 'from step 2', 'from step 4']);

      // the thread shows the resume: step 4's reply comes from worker 2 and names worker 1's statement; one thread
      await h.waitUntil(() => h.thread(threadTs).some((m) => /succeeded after/.test(m.text ?? '')), 'the "job succeeded" reply');
      const replies = h.thread(threadTs).map((m) => m.text ?? '');
      expect(replies.filter((t) => t.startsWith('Step 4/5'))).toEqual([expect.stringMatching(new RegExp(`^Step 4/5 Create ak_sumofus\\.core_tag done in [\\d.]+s — created \\(statement ${statementId}\\)$`))]);
      const resumed = replies.findIndex((t) => t.startsWith('Resumed at step'));
      expect(replies.filter((t) => t.startsWith('Resumed at step'))).toEqual([
        'Resumed at step 4/5 "Create ak_sumofus.core_tag": the worker running it stopped before finishing (crash or restart). Finished steps are not run again; this one checks what already happened first.',
      ]);
      expect(resumed).toBeGreaterThan(replies.findIndex((t) => t.startsWith('Step 3/5')));
      expect(resumed).toBeLessThan(replies.findIndex((t) => t.startsWith('Step 4/5')));
      expect(replies.filter((t) => t.startsWith('Step ')).map((t) => t.slice(0, 8))).toEqual(['Step 1/5', 'Step 2/5', 'Step 3/5', 'Step 4/5', 'Step 5/5']);
      expect(h.progressMessagesOf(job.id)).toHaveLength(1);
      await h.waitUntil(async () => ((await h.progressMessage(job.id))?.text ?? '').includes('succeeded'), 'the final progress update');
      expect(w2.output()).not.toContain('"level":50');
      expect(await w2.stop()).toBe(0);
    } finally {
      await blocker.end().catch(() => undefined);
    }
  });
});
