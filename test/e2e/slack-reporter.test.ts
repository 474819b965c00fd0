/**
 * SlackThreadReporter against the fake Slack Web API over loopback HTTP, with the real WebClient.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord, StepRecord } from '../../src/jobs/types.js';
import { ACTION_IDS } from '../../src/slack/payloads.js';
import { SlackThreadReporter, type SlackJobOrigin } from '../../src/slack/reporter.js';
import { startFakeSlack, type FakeSlack, type FakeSlackCall } from '../support/fake-slack.js';

const TOKEN = 'xoxb-reporter-test';
const logger = pino({ level: 'silent' });
let fake: FakeSlack;
let seq = 0;

beforeAll(async () => {
  fake = await startFakeSlack({ botToken: TOKEN });
});
afterAll(async () => {
  await fake?.close();
});

function newJob(channel: string, steps: Array<[string, string]>, origin: Partial<SlackJobOrigin> = {}): JobRecord {
  const now = Date.now();
  seq += 1;
  return {
    id: `job-${seq}-${now}`,
    kind: 'modify',
    table: 'ak.core_user',
    requester: 'U0REQ0001',
    commandText: 'modify ak.core_user widen email varchar(512)',
    summary: 'widen email to varchar(512)',
    params: {},
    state: 'running',
    cursor: 0,
    steps: steps.map(([name, title]) => ({ name, title, state: 'pending' })),
    handles: {},
    approvals: [],
    origin: { kind: 'slack', channel, ...origin },
    createdAt: now,
    updatedAt: now,
  };
}

function step(job: JobRecord, name: string): StepRecord {
  const s = job.steps.find((x) => x.name === name);
  if (!s) throw new Error(`no step ${name}`);
  return s;
}

function start(job: JobRecord, name: string): StepRecord {
  const s = step(job, name);
  s.state = 'running';
  s.startedAt = Date.now();
  job.cursor = job.steps.indexOf(s);
  return s;
}

function finish(job: JobRecord, name: string, detail?: string): StepRecord {
  const s = step(job, name);
  s.state = 'done';
  s.finishedAt = Date.now();
  if (detail) s.detail = detail;
  job.cursor = job.steps.indexOf(s) + 1;
  return s;
}

function inChannel(channel: string, method: string): FakeSlackCall[] {
  return fake.callsTo(method).filter((c) => c.body.channel === channel);
}

function blocksText(v: unknown): string {
  return JSON.stringify(v ?? null);
}

function makeReporter(saved: Array<{ jobId: string; origin: SlackJobOrigin }>, extra: { minUpdateIntervalMs?: number } = {}) {
  return new SlackThreadReporter({
    token: TOKEN,
    apiUrl: fake.url,
    logger,
    saveOrigin: (jobId, origin) => {
      saved.push({ jobId, origin: structuredClone(origin) });
    },
    ...extra,
  });
}

describe('SlackThreadReporter', () => {
  it('a job shows as one progress message, thread replies, an approval message and its replacement', async () => {
    const channel = 'CLIFE0001';
    const saved: Array<{ jobId: string; origin: SlackJobOrigin }> = [];
    const reporter = makeReporter(saved, { minUpdateIntervalMs: 100 });
    const job = newJob(channel, [
      ['stop', 'Stop replication'],
      ['copy', 'Copy rows'],
      ['drop_old', 'Drop old table'],
    ]);

    await reporter.jobStarted(job);
    const parent = inChannel(channel, 'chat.postMessage');
    expect(parent).toHaveLength(1);
    expect(parent[0]?.body.thread_ts).toBeUndefined();
    const parentTs = fake.messages().find((m) => m.channel === channel && !m.thread_ts)?.ts;
    expect(parentTs).toBeDefined();
    expect(saved.at(-1)).toEqual({ jobId: job.id, origin: { kind: 'slack', channel, threadTs: parentTs, progressTs: parentTs } });

    await reporter.stepStarted(job, start(job, 'stop'));
    await reporter.stepFinished(job, finish(job, 'stop', 'task rso-core-user stopped'));
    await reporter.stepStarted(job, start(job, 'copy'));
    await reporter.stepFinished(job, finish(job, 'copy', '1,234 rows · statement 8e1c'));

    job.state = 'awaiting-approval';
    await reporter.approvalRequested(job, step(job, 'drop_old'), 'Drop ak.old_core_user (1.2 GB)?', 'nonce-abc');
    const approvalPost = inChannel(channel, 'chat.postMessage').at(-1);
    expect(approvalPost?.body.thread_ts).toBe(parentTs);
    const approvalBlocks = blocksText(approvalPost?.body.blocks);
    expect(approvalBlocks).toContain(ACTION_IDS.approve);
    expect(approvalBlocks).toContain(ACTION_IDS.reject);
    const approvalTs = saved.at(-1)?.origin.approvals?.drop_old?.ts;
    expect(approvalTs).toBeDefined();
    expect(saved.at(-1)?.origin.approvals?.drop_old).toMatchObject({ nonce: 'nonce-abc', prompt: 'Drop ak.old_core_user (1.2 GB)?' });

    job.state = 'running';
    const approval = { step: 'drop_old', decision: 'approved' as const, by: 'U0APP0001', at: Date.now() };
    job.approvals.push(approval);
    await reporter.approvalResolved(job, approval);
    const replaced = fake.message(channel, approvalTs ?? '');
    expect(replaced?.edits).toBe(1);
    expect(blocksText(replaced?.blocks)).not.toContain('"actions"');
    expect(blocksText(replaced?.blocks)).toContain('Approved by <@U0APP0001> at <!date^');
    expect(blocksText(replaced?.blocks)).toContain('Drop ak.old_core_user (1.2 GB)?');

    await reporter.stepStarted(job, start(job, 'drop_old'));
    await reporter.stepFinished(job, finish(job, 'drop_old'));
    job.state = 'succeeded';
    job.finishedAt = Date.now();
    await reporter.jobFinished(job);

    // one parent; every other post is in its thread: 3 step replies + approval + closing reply
    const posts = inChannel(channel, 'chat.postMessage');
    expect(posts.filter((c) => c.body.thread_ts === undefined)).toHaveLength(1);
    expect(posts.filter((c) => c.body.thread_ts === parentTs)).toHaveLength(5);
    expect(posts.map((c) => String(c.body.text))).toEqual([
      expect.stringContaining('modify ak.core_user'),
      expect.stringContaining('Stop replication done'),
      expect.stringContaining('Copy rows done'),
      expect.stringContaining('Approval needed'),
      expect.stringContaining('Drop old table done'),
      expect.stringContaining('succeeded'),
    ]);
    expect(blocksText(posts[2]?.body.blocks)).toContain('1,234 rows · statement 8e1c');

    // the progress message ends in the final state
    const progress = fake.message(channel, parentTs ?? '');
    expect(progress?.text).toContain('succeeded');
    expect(blocksText(progress?.blocks)).toContain('All 3 steps done');
    const lastUpdate = inChannel(channel, 'chat.update').filter((c) => c.body.ts === parentTs).at(-1);
    expect(String(lastUpdate?.body.text)).toContain('succeeded');
    expect(fake.callsTo('auth.test')).toHaveLength(0);
  });

  it('steps of one phase in a row share one thread reply, with their notes; a warning stands alone, its note before it', async () => {
    const channel = 'CPHASE001';
    const reporter = makeReporter([], { minUpdateIntervalMs: 20 });
    const job = newJob(channel, [
      ['prep', 'Prepare'],
      ...Array.from({ length: 5 }, (_, i): [string, string] => [`create-t${i}`, `Create t${i}`]),
      ['cmp-a', 'Compare a'],
      ['cmp-b', 'Compare b'],
      ['cmp-c', 'Compare c'],
    ]);
    for (const s of job.steps) if (s.name.startsWith('create-')) s.phase = 'create';
    for (const s of job.steps) if (s.name.startsWith('cmp-')) s.phase = 'compare';
    await reporter.jobStarted(job);
    const parentTs = fake.messages().find((m) => m.channel === channel && !m.thread_ts)!.ts;
    const run = async (name: string, detail: string, o: { warn?: boolean; note?: string } = {}): Promise<void> => {
      await reporter.stepStarted(job, start(job, name));
      if (o.note) await reporter.note(job, o.note);
      const s = finish(job, name, detail);
      if (o.warn) s.status = 'warn';
      await reporter.stepFinished(job, s);
    };
    await run('prep', 'ready');
    for (let i = 0; i < 5; i++) await run(`create-t${i}`, `created t${i}`);
    await run('cmp-a', 'a: ✓ equal', { note: 'compared a: ids 1–9' });
    await run('cmp-b', 'b: 2 ranges differ', { warn: true, note: 'compared b: ids 1–9' });
    await run('cmp-c', 'c: ✓ equal');
    await reporter.flush();

    const replies = fake.messages().filter((m) => m.channel === channel && m.thread_ts === parentTs);
    const texts = replies.map((m) => String(m.text));
    // prep · the 5 creates · cmp-a (its note with it) · cmp-b's note · cmp-b's warning · cmp-c (a new phase message)
    expect(texts).toEqual([
      expect.stringContaining('Prepare done'),
      expect.stringMatching(/^Steps 2\/9–6\/9: 5 done — /),
      expect.stringContaining('Compare a done'),
      'compared b: ids 1–9',
      expect.stringContaining('Compare b finished with a warning'),
      expect.stringContaining('Compare c done'),
    ]);
    const creates = replies[1]!;
    for (let i = 0; i < 5; i++) expect(blocksText(creates.blocks)).toContain(`created t${i}`);
    expect(creates.edits).toBeGreaterThanOrEqual(1);
    expect(blocksText(replies[2]!.blocks)).toContain('compared a: ids 1–9');
    expect(texts[2]).toContain('(1 note)');
  });

  it('30 rapid step updates coalesce into a few chat.update calls, and the last one shows the final state', async () => {
    const channel = 'CRAPID001';
    const saved: Array<{ jobId: string; origin: SlackJobOrigin }> = [];
    const reporter = makeReporter(saved); // default: ≈1 update/s/channel
    const steps = Array.from({ length: 30 }, (_, i) => [`s${i + 1}`, `Step number ${i + 1}`] as [string, string]);
    const job = newJob(channel, steps);
    await reporter.jobStarted(job);
    const parentTs = saved.at(-1)?.origin.progressTs ?? '';

    for (let i = 1; i <= 30; i += 1) {
      if (i > 1) finish(job, `s${i - 1}`);
      await reporter.stepStarted(job, start(job, `s${i}`));
    }
    await reporter.flush();
    let updates = inChannel(channel, 'chat.update').filter((c) => c.body.ts === parentTs);
    expect(updates.length).toBeGreaterThanOrEqual(1);
    expect(updates.length).toBeLessThanOrEqual(3);
    expect(String(updates.at(-1)?.body.text)).toContain('step 30/30 Step number 30'); // latest state won

    finish(job, 's30');
    job.state = 'succeeded';
    job.finishedAt = Date.now();
    await reporter.jobFinished(job);
    updates = inChannel(channel, 'chat.update').filter((c) => c.body.ts === parentTs);
    expect(updates.length).toBeLessThanOrEqual(4);
    expect(String(updates.at(-1)?.body.text)).toContain('succeeded');
    expect(fake.message(channel, parentTs)?.text).toContain('succeeded');
  });

  it('reuses the thread parent a command reply already posted instead of posting a second one', async () => {
    const channel = 'CREUSE001';
    const saved: Array<{ jobId: string; origin: SlackJobOrigin }> = [];
    const reporter = makeReporter(saved, { minUpdateIntervalMs: 50 });
    // what Replier.inChannel did for the command
    const res = await fetch(`${fake.url}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel, text: 'Queued modify ak.core_user' }),
    });
    const { ts } = (await res.json()) as { ts: string };
    const job = newJob(channel, [['only', 'Only step']], { threadTs: ts });
    await reporter.jobStarted(job);
    await reporter.flush();
    expect(inChannel(channel, 'chat.postMessage')).toHaveLength(1);
    expect(saved.at(-1)?.origin).toMatchObject({ threadTs: ts, progressTs: ts });
    expect(fake.message(channel, ts)?.text).toContain('modify ak.core_user: running');
  });

  it('a restarted reporter finds the approval message through the saved origin', async () => {
    const channel = 'CRESTART1';
    const saved: Array<{ jobId: string; origin: SlackJobOrigin }> = [];
    const first = makeReporter(saved, { minUpdateIntervalMs: 50 });
    const job = newJob(channel, [['drop_old', 'Drop old table']]);
    await first.jobStarted(job);
    job.state = 'awaiting-approval';
    await first.approvalRequested(job, step(job, 'drop_old'), 'Drop it?', 'n-1');
    await first.flush();
    const origin = saved.at(-1)?.origin;
    const approvalTs = origin?.approvals?.drop_old?.ts ?? '';
    expect(approvalTs).not.toBe('');

    // the worker restarts: a new reporter, the job record as persisted
    const second = makeReporter([], { minUpdateIntervalMs: 50 });
    const reloaded: JobRecord = JSON.parse(JSON.stringify({ ...job, origin }));
    reloaded.state = 'rejected';
    const decision = { step: 'drop_old', decision: 'rejected' as const, by: 'U0APP0001', at: Date.now() };
    await second.approvalResolved(reloaded, decision);
    expect(blocksText(fake.message(channel, approvalTs)?.blocks)).toContain('Rejected by <@U0APP0001>');
    expect(blocksText(fake.message(channel, approvalTs)?.blocks)).not.toContain(ACTION_IDS.approve);
    expect(inChannel(channel, 'chat.postMessage').filter((c) => c.body.thread_ts === undefined)).toHaveLength(1);
  });

  it('rides out a 429: the WebClient waits Retry-After and retries', async () => {
    const channel = 'CLIMIT001';
    const saved: Array<{ jobId: string; origin: SlackJobOrigin }> = [];
    const reporter = makeReporter(saved, { minUpdateIntervalMs: 50 });
    const before = fake.rateLimited.length;
    fake.rateLimit('chat.postMessage', 1, 1);
    const job = newJob(channel, [['a', 'A']]);
    await reporter.jobStarted(job);
    expect(fake.rateLimited.length).toBe(before + 1);
    expect(inChannel(channel, 'chat.postMessage')).toHaveLength(1);
    expect(saved.at(-1)?.origin.progressTs).toBeDefined();
  });

  it('never throws into the engine when Slack refuses, and skips jobs not shown in Slack', async () => {
    const channel = 'CFAIL0001';
    const saved: Array<{ jobId: string; origin: SlackJobOrigin }> = [];
    const reporter = makeReporter(saved, { minUpdateIntervalMs: 50 });
    const job = newJob(channel, [['a', 'A']]);
    fake.failNext('chat.postMessage', 'channel_not_found');
    await expect(reporter.jobStarted(job)).resolves.toBeUndefined();
    expect(saved).toHaveLength(0);
    // the next event tries again and succeeds
    await reporter.stepStarted(job, start(job, 'a'));
    expect(saved.at(-1)?.origin.progressTs).toBeDefined();

    fake.failNext('chat.postMessage', 'msg_too_long');
    await expect(reporter.stepFailed(job, step(job, 'a'), 'boom')).resolves.toBeUndefined();

    const consoleJob = newJob('CIGNORED1', [['a', 'A']]);
    consoleJob.origin = { kind: 'console' };
    const calls = fake.calls.length;
    await reporter.jobStarted(consoleJob);
    await reporter.note(consoleJob, 'hello');
    await reporter.jobFinished(consoleJob);
    expect(fake.calls.length).toBe(calls);
  });

  it('a failed step gets a reply with Retry / Roll back / Cancel buttons', async () => {
    const channel = 'CFAILED01';
    const reporter = makeReporter([], { minUpdateIntervalMs: 50 });
    const job = newJob(channel, [
      ['stop', 'Stop replication'],
      ['swap', 'Swap tables'],
    ]);
    await reporter.jobStarted(job);
    await reporter.stepFinished(job, finish(job, 'stop'));
    const s = start(job, 'swap');
    s.state = 'failed';
    s.finishedAt = Date.now();
    s.error = 'lock timeout';
    job.state = 'failed';
    job.error = 'lock timeout';
    await reporter.stepFailed(job, s, 'ERROR: canceling statement due to lock timeout');
    await reporter.flush();
    const reply = inChannel(channel, 'chat.postMessage').at(-1);
    const b = blocksText(reply?.body.blocks);
    expect(b).toContain(ACTION_IDS.retry);
    expect(b).toContain(ACTION_IDS.rollback);
    expect(b).toContain(ACTION_IDS.cancel);
    expect(b).toContain('lock timeout');
    const parent = fake.messages().find((m) => m.channel === channel && !m.thread_ts);
    expect(parent?.text).toContain('failed');
  });
});
