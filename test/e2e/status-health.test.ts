/**
 * `/redshift status` over signed Slack HTTP against a sandbox seeded with problems (issue 9, "Done when"): a DMS task
 * stopped outside any job, `]E:` lines in its CloudWatch group, a stale CDC table, a job parked on an approval, a
 * drifted column, an unsorted table. The reply lists them first, folds the healthy rows, and a part that cannot be read
 * (no permission on svv_table_info) says why instead of failing the reply.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotHarness, CHANNEL, SCHEMA, USERS, startBotHarness } from '../support/bot-harness.js';
import type { FakeSlackCall } from '../support/fake-slack.js';

let h: BotHarness;
const TASK = 'flydata-core-usermailing';
let parkedJobId = '';
let threadTs = '';

function blockTexts(call: FakeSlackCall): string[] {
  const blocks = (call.body.blocks ?? []) as Array<{ type: string; text?: { text?: string }; elements?: Array<{ text?: string }> }>;
  return blocks.map((b) => b.text?.text ?? (b.elements ?? []).map((e) => e.text ?? '').join(' ') ?? '');
}

async function status(): Promise<FakeSlackCall> {
  const before = h.fake.callsTo('chat.postMessage').length;
  const r = await h.slash('status', { userId: USERS.stranger });
  expect(r.status).toBe(200);
  await h.waitUntil(() => h.fake.callsTo('chat.postMessage').slice(before).some((c) => String(c.body.text).startsWith(`Status of ${SCHEMA}`)), 'the status message', 30_000);
  return h.fake.callsTo('chat.postMessage').slice(before).find((c) => String(c.body.text).startsWith(`Status of ${SCHEMA}`))!;
}

beforeAll(async () => {
  h = await startBotHarness({ name: 'status', rowsPerTable: 5, aws: true, inProcessWorker: true });
  // the DMS task of core_usermailing exists and runs; then somebody stops it in the console (no job of ours)
  const task = h.sandbox.dms.seedTask({ identifier: TASK, replicationInstance: 'core-usermailing-replication', status: 'running', tables: [{ schema: SCHEMA, table: 'core_usermailing', fullLoadRows: 5 }] });
  await h.dms!.stopTask(task.arn);
  await h.dms!.waitForStatus(task.arn, 'stopped', { timeoutMs: 10_000 });
  h.sandbox.dms.log(task.arn, [
    { component: 'TARGET_APPLY', severity: 'E', text: 'Failed to apply <!everyone> batch: relation core_usermailing does not exist' },
    { component: 'SOURCE_CAPTURE', severity: 'W', text: 'binlog reader lagging' },
  ]);
  // a stale CDC table, a drifted column, an unsorted table
  await h.sandbox.sql(`update ${SCHEMA}.core_action set updated_at = (now() at time zone 'UTC') - interval '3 hours'`);
  await h.sandbox.sql(`alter table ${SCHEMA}.share_type add column sneaky_note varchar(32)`);
  h.sandbox.faults.tableHealth = { [`${SCHEMA}.core_user`]: { unsorted: 45, statsOff: 2 } };
  // a job parked on its approval: schema apply of a table that is missing
  await h.sandbox.sql(`drop table ${SCHEMA}.core_tag`);
  const q = await h.slash('schema apply core_tag', { userId: USERS.operator });
  const reply = String((await h.waitForResponse(q.responseId, undefined, 20_000)).body.text);
  parkedJobId = /^Queued job (\d+)/.exec(reply)?.[1] ?? '';
  expect(parkedJobId, reply).not.toBe('');
  const job = await h.waitJob(parkedJobId, (j) => j.state === 'awaiting-approval' && j.origin.threadTs !== undefined, 'to park on its approval');
  threadTs = job.origin.threadTs ?? '';
}, 90_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

describe('/redshift status, problems first', () => {
  it('lists the stopped task, the log errors, the stale table, the pending approval, the drift and the unsorted table before anything else', async () => {
    const post = await status();
    expect(post.body.channel).toBe(CHANNEL);
    const texts = blockTexts(post);
    const headline = texts[0] ?? '';
    expect(headline).toMatch(/^\*Status of ak_sumofus\* — \d+ errors?, \d+ warnings?/);
    // the problem sections come before the divider; everything after it is detail
    const divider = (post.body.blocks as Array<{ type: string }>).findIndex((b) => b.type === 'divider');
    expect(divider).toBeGreaterThan(1);
    const problems = texts.slice(1, divider).join('\n');
    expect(problems).toContain(`DMS task ${TASK} is stopped, not stopped by any job of ours`);
    expect(problems).toContain('StopReason: Stop Reason NORMAL');
    expect(problems).toMatch(/1 \]E: line in dms-tasks-core-usermailing-replication in the last 60 min \(and 1 \]W:\)/);
    // echoed log text is escaped: the <!everyone> in the log line is shown, never sent as a mention
    expect(problems).toContain('Failed to apply &lt;!everyone&gt; batch');
    expect(JSON.stringify(post.body)).not.toContain('<!everyone>');
    expect(problems).toMatch(/core_action is stale: newest updated_at is 3\.0 h old \(threshold 60 min\)/);
    expect(problems).toContain(`job ${parkedJobId} has waited`);
    // the thread's permalink, as chat.getPermalink gives it (the workspace's own domain)
    expect(problems).toContain(`<https://fake.slack.test/archives/${CHANNEL}/p${threadTs.replace('.', '')}|thread>`);
    expect(problems).toContain('share_type drifted from schemas/: 1 difference');
    expect(problems).toContain('sneaky_note: extra column');
    expect(problems).toContain('core_user is 45.0% unsorted (threshold 10%): VACUUM');
    expect(problems).toContain('core_tag is missing in the warehouse');
    // errors before warnings
    expect(problems.indexOf('DMS task')).toBeLessThan(problems.indexOf('drifted'));
    expect(problems.indexOf('is stale')).toBeLessThan(problems.indexOf('unsorted'));

    // the detail: DMS with its table statistics, CloudWatch counts, freshness, jobs and locks
    const rest = texts.slice(divider + 1).join('\n');
    expect(rest).toMatch(new RegExp(`DMS ${TASK}: stopped · full load 100% · StopReason: Stop Reason NORMAL`));
    expect(rest).toMatch(/core_usermailing: Table completed · \d+ inserts \/ \d+ updates \/ \d+ deletes · last update/);
    expect(rest).toContain('CloudWatch dms-tasks-core-usermailing-replication: 1 ]E: · 1 ]W: in the last 60 min');
    expect(rest).toMatch(/CDC freshness: \d+ of \d+ measured tables fresh, 1 stale/);
    expect(rest).toContain(`*Waiting for approval:* ${parkedJobId} schema apply`);
    expect(rest).toContain(`*Locks held:* ak_sumofus.core_tag by job ${parkedJobId}`);
    // healthy rows folded into one line that names them; the problem tables are not in it
    const folded = texts.find((t) => /tables without problems \(folded\)/.test(t)) ?? '';
    expect(folded).toMatch(/^2[01] tables without problems \(folded\): /);
    expect(folded).toContain('core_page');
    for (const t of ['core_usermailing', 'core_action', 'share_type', 'core_user', 'core_tag']) expect(folded).not.toMatch(new RegExp(`\\b${t}\\b`));

    // the plain-text table (console / fallback) puts the problem tables first
    const text = String(post.body.text);
    const lines = text.split('\n');
    const head = lines.findIndex((l) => /^table\s+replication\s+rows\s+MB/.test(l));
    const first = lines.slice(head + 2, head + 7).map((l) => l.split(/\s+/)[0]);
    expect(new Set(first)).toEqual(new Set(['core_usermailing', 'core_action', 'share_type', 'core_user', 'core_tag']));
  });

  it('a part that cannot be read says why and the rest is still shown', async () => {
    h.sandbox.faults.failStatements = [{ match: 'tbl_rows', error: 'ERROR: permission denied for relation svv_table_info' }];
    try {
      const post = await status();
      const all = blockTexts(post).join('\n');
      expect(all).toContain(':grey_question: rows, size, unsorted, stats off unknown: svv_table_info:');
      expect(all).toContain('permission denied for relation svv_table_info');
      // the other parts are still there
      expect(all).toContain(`DMS task ${TASK} is stopped`);
      expect(all).toContain('share_type drifted from schemas/');
    } finally {
      h.sandbox.faults.failStatements = [];
    }
  });

  it('a bot user that may not see svv_table_info (superuser-only, no rows) gets "unknown" and how to grant it, not 0 rows', async () => {
    h.sandbox.faults.catalogUser = 'regular';
    try {
      const post = await status();
      const all = blockTexts(post).join('\n');
      expect(all).toMatch(/:grey_question: rows, size, unsorted, stats off unknown: svv_table_info: it shows the bot's database user \S+ no table: it is visible to superusers only; GRANT SELECT ON svv_table_info TO \S+/);
      const text = String(post.body.text);
      const row = text.split('\n').find((l) => l.startsWith('core_page '));
      expect(row?.split(/\s{2,}/)[2]).toBe('?'); // rows unknown, never 0
      expect(all).toContain('share_type drifted from schemas/');
    } finally {
      h.sandbox.faults.catalogUser = 'superuser';
    }
  });

  it('`status <table>` shows the catalog DDL next to schemas/ for a drifted table, and its recent jobs', async () => {
    const before = h.fake.callsTo('chat.postMessage').length;
    await h.slash('status share_type', { userId: USERS.stranger });
    await h.waitUntil(() => h.fake.callsTo('chat.postMessage').slice(before).some((c) => String(c.body.text).startsWith(`Status of ${SCHEMA}.share_type`)), 'the table status', 20_000);
    const post = h.fake.callsTo('chat.postMessage').slice(before).find((c) => String(c.body.text).startsWith(`Status of ${SCHEMA}.share_type`))!;
    const text = String(post.body.text);
    expect(text).toContain('DDL read from the catalog:');
    expect(text).toMatch(/DDL read from the catalog:\n[\s\S]*sneaky_note VARCHAR\(32\)[\s\S]*DDL in schemas\/:/i);
    expect(text.split('DDL in schemas/:')[1]).not.toContain('sneaky_note');
    const tag = h.fake.callsTo('chat.postMessage').length;
    await h.slash('status core_tag', { userId: USERS.stranger });
    await h.waitUntil(() => h.fake.callsTo('chat.postMessage').slice(tag).some((c) => String(c.body.text).startsWith(`Status of ${SCHEMA}.core_tag`)), 'the core_tag status', 20_000);
    const t2 = String(h.fake.callsTo('chat.postMessage').slice(tag).find((c) => String(c.body.text).startsWith(`Status of ${SCHEMA}.core_tag`))!.body.text);
    expect(t2).toMatch(new RegExp(`recent jobs on this table:\\n${parkedJobId}\\s+awaiting-approval`));
  });
});
