/**
 * The watch (issue 9 item 2): each alert fires once per incident and resolves, proven with the sandbox's fault knobs
 * (a DMS task stopped outside any job, `]E:` lines, a stale CDC table, a job left waiting for approval) and a fake
 * clock. The run is the one the repeatable BullMQ job calls (runWatch), against the real sandbox through the SDK, real
 * Redis, and the real Slack WebClient posting to the fake Slack over HTTP; the alert's button is clicked over signed HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncidentStore } from '../../src/watch/incidents.js';
import { startWatchScheduler } from '../../src/watch/scheduler.js';
import { slackAlertPoster } from '../../src/watch/slack-poster.js';
import { slackPermalinks } from '../../src/slack/permalink.js';
import { runWatch, type WatchResult } from '../../src/watch/watch.js';
import { type BotHarness, SCHEMA, USERS, startBotHarness } from '../support/bot-harness.js';
import type { FakeMessage } from '../support/fake-slack.js';

const ALERTS = 'C0ALERTS01';
const TASK = 'flydata-core-usermailing';
const MIN = 60_000;
let h: BotHarness;
let arn = '';
let clock = 0;
let incidents: IncidentStore;

const thresholds = { staleMs: 3 * 60 * MIN, approvalWaitMs: 60 * MIN, logWindowMs: 30 * MIN };

function watch(): Promise<WatchResult> {
  return runWatch({
    health: { warehouse: h.warehouse, registry: h.registry, jobs: h.rt.jobs, dms: h.dms!, logs: h.logs! },
    incidents,
    poster: slackAlertPoster({ token: h.token, apiUrl: h.fake.url }),
    channel: ALERTS,
    thresholds,
    now: () => clock,
    permalink: slackPermalinks({ token: h.token, apiUrl: h.fake.url }),
  });
}

const alerts = (): FakeMessage[] => h.fake.messages().filter((m) => m.channel === ALERTS && m.thread_ts === undefined);
const alertOf = (key: string): FakeMessage | undefined => alerts().find((m) => JSON.stringify(m.blocks).includes(`incident \`${key}\``));
const repliesTo = (m: FakeMessage): FakeMessage[] => h.fake.messages().filter((x) => x.channel === ALERTS && x.thread_ts === m.ts);
function button(m: FakeMessage | undefined): { action_id: string; value: string } | undefined {
  for (const b of (m?.blocks ?? []) as Array<{ type: string; elements?: Array<{ action_id?: string; value?: string }> }>)
    for (const e of b.elements ?? []) if (e.action_id && e.value) return { action_id: e.action_id, value: e.value };
  return undefined;
}

beforeAll(async () => {
  h = await startBotHarness({ name: 'watch', rowsPerTable: 3, aws: true, inProcessWorker: true });
  incidents = new IncidentStore(h.redis, h.prefix);
  arn = h.sandbox.dms.seedTask({ identifier: TASK, replicationInstance: 'core-usermailing-replication', status: 'running', tables: [{ schema: SCHEMA, table: 'core_usermailing', fullLoadRows: 3 }] }).arn;
  clock = Date.now();
}, 90_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

describe('watch: once per incident, then resolved', () => {
  it('a healthy sandbox raises nothing', async () => {
    const r = await watch();
    expect(r.problems.filter((p) => p.alert)).toEqual([]);
    expect(r.opened).toEqual([]);
    expect(alerts()).toEqual([]);
  });

  it('a DMS task stopped outside our jobs: one alert with the recover button, none on the next runs, resolved when it runs again', async () => {
    await h.dms!.stopTask(arn);
    await h.dms!.waitForStatus(arn, 'stopped', { timeoutMs: 10_000 });
    const key = `dms:${TASK}:not-running`;
    expect((await watch()).opened).toEqual([key]);
    clock += 5 * MIN;
    expect((await watch()).opened).toEqual([]);
    clock += 5 * MIN;
    expect((await watch()).opened).toEqual([]);
    const alert = alertOf(key);
    expect(alerts().filter((m) => m === alert)).toHaveLength(1);
    expect(alerts()).toHaveLength(1);
    expect(alert?.text).toContain(`Alert: DMS task ${TASK} is stopped, not stopped by any job of ours`);
    expect(button(alert)).toEqual({ action_id: 'rso_recover', value: JSON.stringify({ table: `${SCHEMA}.core_usermailing` }) });
    // the button answers over signed HTTP
    const click = await h.click('rso_recover', button(alert)!.value, { userId: USERS.operator, channelId: ALERTS, messageTs: alert!.ts });
    expect(click.status).toBe(200);
    expect(String((await h.waitForResponse(click.responseId)).body.text)).toContain(`/redshift recover ${SCHEMA}.core_usermailing`);
    // then the plan recover would run for this state (a dry run: the click queues nothing)
    const plan = await h.waitForResponse(click.responseId, (c) => /Plan for: recover/.test(String(c.body.text)), 30_000);
    expect(String(plan.body.text)).toMatch(/DMS task flydata-core-usermailing is stopped/);
    expect(String(plan.body.text)).toMatch(/reload-target/);
    expect(await h.rt.jobs.store.listRecent(10)).toEqual([]);

    await h.dms!.resumeTask(arn);
    await h.dms!.waitForStatus(arn, 'running', { timeoutMs: 10_000 });
    clock += 5 * MIN;
    expect((await watch()).resolved).toEqual([key]);
    expect(repliesTo(alert!).map((m) => m.text)).toEqual([expect.stringMatching(/^Resolved after 15 min: DMS task/)]);
    expect(h.fake.message(ALERTS, alert!.ts)?.text).toMatch(/^Resolved: DMS task/);
    expect(button(h.fake.message(ALERTS, alert!.ts))).toBeUndefined();
    clock += 5 * MIN;
    const again = await watch();
    expect([again.opened, again.resolved]).toEqual([[], []]);
    expect(repliesTo(alert!)).toHaveLength(1);
  });

  it('a DMS stop done by one of our jobs raises nothing', async () => {
    const { job } = await h.rt.jobs.store.create({ kind: 'modify', table: `${SCHEMA}.core_usermailing`, requester: USERS.operator, commandText: 'modify core_usermailing …', summary: 'modify core_usermailing', params: {}, origin: { kind: 'console' } });
    await h.rt.jobs.store.update(job.id, (j) => {
      j.state = 'running';
      j.handles['taskArn'] = arn; // what the modify runbook records before StopReplicationTask
    });
    try {
      await h.dms!.stopTask(arn);
      await h.dms!.waitForStatus(arn, 'stopped', { timeoutMs: 10_000 });
      const r = await watch();
      expect(r.problems.map((p) => p.key)).not.toContain(`dms:${TASK}:not-running`);
      expect(r.opened).toEqual([]);
    } finally {
      await h.rt.jobs.store.update(job.id, (j) => {
        j.state = 'succeeded';
        j.handles['resumedAt'] = String(Date.now());
      });
      await h.dms!.resumeTask(arn);
      await h.dms!.waitForStatus(arn, 'running', { timeoutMs: 10_000 });
    }
    expect((await watch()).opened).toEqual([]);
  });

  it(']E: lines: one alert however many arrive, resolved once the window has none', async () => {
    const key = 'logs:dms-tasks-core-usermailing-replication:errors';
    h.sandbox.dms.log(arn, [{ component: 'TARGET_APPLY', severity: 'E', text: 'Table core_usermailing does not exist <!channel>' }]);
    expect((await watch()).opened).toEqual([key]);
    // the log line is shown in the alert, escaped: never a live mention
    expect(JSON.stringify(alertOf(key)?.blocks)).toContain('does not exist &lt;!channel&gt;');
    expect(JSON.stringify(h.fake.callsTo('chat.postMessage').map((c) => c.body))).not.toContain('<!channel>');
    h.sandbox.dms.log(arn, [{ component: 'TARGET_APPLY', severity: 'E', text: 'Failed to apply batch' }]);
    clock += MIN;
    const second = await watch();
    expect(second.opened).toEqual([]);
    expect(second.problems.find((p) => p.key === key)?.title).toMatch(/^2 \]E: lines/);
    expect(alerts().filter((m) => m === alertOf(key))).toHaveLength(1);
    clock += 31 * MIN; // the fake clock moves the 30-minute window past both lines
    expect((await watch()).resolved).toEqual([key]);
    expect(repliesTo(alertOf(key)!)).toHaveLength(1);
  });

  it('a CDC table gone stale: one alert, resolved when changes arrive again', async () => {
    const key = 'cdc:core_action:stale';
    const at = new Date(clock - 4 * 60 * MIN).toISOString().replace('T', ' ').replace('Z', '');
    await h.sandbox.sql(`update ${SCHEMA}.core_action set updated_at = $1::timestamp`, [at]);
    const r = await watch();
    expect(r.opened).toEqual([key]);
    expect(alertOf(key)?.text).toMatch(/core_action is stale: newest updated_at is 4\.0 h old/);
    expect((await watch()).opened).toEqual([]);
    const fresh = new Date(clock).toISOString().replace('T', ' ').replace('Z', '');
    await h.sandbox.sql(`update ${SCHEMA}.core_action set updated_at = $1::timestamp where id = (select min(id) from ${SCHEMA}.core_action)`, [fresh]);
    expect((await watch()).resolved).toEqual([key]);
  });

  it('a job waiting for approval too long: alert with the job button after the threshold, resolved when decided', async () => {
    await h.sandbox.sql(`drop table ${SCHEMA}.core_tag`);
    const q = await h.slash('schema apply core_tag', { userId: USERS.operator });
    const jobId = /^Queued job (\d+)/.exec(String((await h.waitForResponse(q.responseId, undefined, 20_000)).body.text))?.[1] ?? '';
    const job = await h.waitJob(jobId, (j) => j.state === 'awaiting-approval' && j.pendingApproval?.notifiedAt !== undefined, 'to park');
    const key = `job:${jobId}:awaiting-approval`;
    clock = job.pendingApproval!.askedAt + 30 * MIN; // (earlier tests moved the fake clock ahead: set it from the ask)
    const early = await watch();
    expect(early.problems.find((p) => p.key === key)?.alert).toBe(false);
    expect(early.opened).toEqual([]);
    clock += 31 * MIN;
    expect((await watch()).opened).toEqual([key]);
    expect((await watch()).opened).toEqual([]);
    const alert = alertOf(key);
    expect(alert?.text).toMatch(new RegExp(`^Alert: job ${jobId} has waited 61 min for approval of approve-create`));
    expect(JSON.stringify(alert?.blocks)).toContain(`<https://fake.slack.test/archives/C0DATAOPS1/p${job.origin.threadTs!.replace('.', '')}|thread>`);
    const b = button(alert);
    expect(b).toEqual({ action_id: 'rso_show_job', value: JSON.stringify({ jobId }) });
    const click = await h.click(b!.action_id, b!.value, { userId: USERS.stranger, channelId: ALERTS, messageTs: alert!.ts });
    expect(String((await h.waitForResponse(click.responseId)).body.text)).toContain(`job ${jobId} — schema apply ${SCHEMA}.core_tag`);

    const buttons = h.approvalButtons(jobId)!;
    await h.click('rso_reject', buttons.raw, { userId: USERS.approver, messageTs: buttons.message.ts, threadTs: job.origin.threadTs! });
    await h.waitJob(jobId, (j) => j.state !== 'awaiting-approval', 'to be decided');
    expect((await watch()).resolved).toEqual([key]);
  });

  it('an incident whose part cannot be read stays open (unknown is not resolved)', async () => {
    await h.dms!.stopTask(arn);
    await h.dms!.waitForStatus(arn, 'stopped', { timeoutMs: 10_000 });
    const key = `dms:${TASK}:not-running`;
    expect((await watch()).opened).toEqual([key]);
    h.sandbox.dms.throttleNext(1_000);
    try {
      const r = await watch();
      expect(r.keptUnknown).toEqual([key]);
      expect(r.resolved).toEqual([]);
      expect((await incidents.list()).map((i) => i.key)).toContain(key);
    } finally {
      h.sandbox.dms.throttleNext(0);
    }
  });
});

describe('the repeatable job', () => {
  it('two workers registering it make one schedule, and runs happen', async () => {
    let runs = 0;
    const run = async (): Promise<WatchResult> => {
      runs++;
      return { at: Date.now(), problems: [], opened: [], resolved: [], keptUnknown: [] };
    };
    const prefix = `${h.prefix}-sched`;
    const a = await startWatchScheduler({ connection: h.redis, prefix, intervalMs: 200, run });
    const b = await startWatchScheduler({ connection: h.redis, prefix, intervalMs: 200, run });
    try {
      expect(await a.queue.getJobSchedulersCount()).toBe(1);
      await h.waitUntil(() => runs >= 3, 'three watch runs', 15_000);
    } finally {
      await a.close();
      await b.close();
      const keys = await h.redis.keys(`${prefix}:*`);
      if (keys.length) await h.redis.del(...keys);
    }
  });

  it('a worker process started from src/main.ts with ALERT_CHANNEL schedules the watch and posts the alert', async () => {
    // the task is still stopped (previous test); forget the incidents so the worker's watch opens it afresh
    await h.redis.del(incidents.key);
    const channel = 'C0ALERTS02';
    const w = await h.spawnWorker({ ALERT_CHANNEL: channel, WATCH_INTERVAL: '10s' });
    try {
      await h.waitUntil(
        () => h.fake.messages().some((m) => m.channel === channel && String(m.text).startsWith(`Alert: DMS task ${TASK} is stopped`)),
        () => `the worker's watch to post the DMS alert; worker output:\n${w.output()}`,
        30_000,
      );
      expect(w.output()).toContain('"msg":"watch scheduled"');
      const { Queue } = await import('bullmq');
      const q = new Queue('watch', { connection: h.redis, prefix: h.prefix });
      try {
        expect(await q.getJobSchedulersCount()).toBe(1);
      } finally {
        await q.close();
      }
      // one DMS alert (the ]E: lines logged above are within the worker's real-clock hour: they get their own alert)
      expect(h.fake.messages().filter((m) => m.channel === channel && m.thread_ts === undefined && String(m.text).startsWith('Alert: DMS task'))).toHaveLength(1);
    } finally {
      await w.stop();
    }
  });
});
