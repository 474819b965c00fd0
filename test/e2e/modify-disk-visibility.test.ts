/**
 * The deep copy's free-disk check with what the bot's own database user can read (issue 7, item 3).
 *
 * Redshift's documentation: STV_PARTITIONS is visible to superusers only, and so is SVV_TABLE_INFO (a regular user sees
 * no rows, unless granted SELECT on the view); Redshift Serverless has no STV tables at all (and its managed storage has
 * no fixed capacity). The sandbox enforces both: the fault knobs `catalogUser: 'regular'` / `catalogGrants` make the
 * Data API session a regular user's, and a statement sent with WorkgroupName (Serverless) finds no stv_partitions.
 * When free space cannot be known the bot says "free disk: unknown (why)" in the queue reply and in the preflight step,
 * warns, and lets the copy proceed; when it is known and too small, it still refuses.
 * Signed Slack HTTP → Bolt → BullMQ → worker → SDK → sandbox on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunbookSettings } from '../../src/jobs/deps.js';
import { type BotHarness, SCHEMA, USERS, startBotHarness } from '../support/bot-harness.js';
import { approveAs, columnsOf, liveTable, modifyReply, succeeded, tableExists, threadOf } from '../support/modify-flow.js';

const SETTINGS: Partial<RunbookSettings> = { logCheckMs: 1_000, freshnessMs: 500 };

/** Queue a modify that must be accepted; returns the job id and the reply. */
async function queued(h: BotHarness, text: string): Promise<{ jobId: string; said: string }> {
  const said = await modifyReply(h, text);
  const m = /^Queued job (\d+): /.exec(said);
  expect(m, `the bot did not queue the job:\n${said}`).not.toBeNull();
  return { jobId: m![1]!, said };
}

/** The job runs through (approved drop), its preflight detail and thread say free disk is unknown and why. */
async function runsWithUnknownDisk(h: BotHarness, jobId: string, why: RegExp): Promise<string> {
  await approveAs(h, jobId, 'approve-drop', { approver: USERS.approver });
  const job = await succeeded(h, jobId);
  const pre = job.steps.find((s) => s.name === 'preflight');
  expect(pre?.state).toBe('done');
  expect(pre?.detail).toMatch(/free disk: unknown \(/);
  expect(pre?.detail).toMatch(why);
  const replies = await threadOf(h, jobId);
  const warning = replies.find((r) => r.startsWith('warning: free disk: unknown ('));
  expect(warning, replies.join('\n---\n')).toBeDefined();
  expect(warning).toMatch(why);
  expect(warning).toContain('the copy goes ahead without a disk check');
  console.log(`[modify-disk-visibility] job ${jobId} preflight: ${pre!.detail}`);
  return pre!.detail!;
}

describe('provisioned cluster, the bot connected as a regular (non-superuser) user', () => {
  let h: BotHarness;

  beforeAll(async () => {
    h = await startBotHarness({ name: 'mdisk', inProcessWorker: true, copySchemas: true, aws: true, settings: SETTINGS, rowsPerTable: 30 });
  }, 90_000);

  afterAll(async () => {
    await h?.close();
  }, 60_000);

  it('stv_partitions and svv_table_info show it nothing: queued with "free disk: unknown", a warning, and the copy runs', async () => {
    h.sandbox.faults.catalogUser = 'regular';
    h.sandbox.faults.catalogGrants = [];
    try {
      // what the bot's session sees (through the Data API): no rows in either superuser-only view
      expect((await h.warehouse.query('SELECT SUM(capacity) AS capacity FROM stv_partitions')).rows).toEqual([{ capacity: null }]);
      expect((await h.warehouse.query('SELECT COUNT(*) AS n FROM svv_table_info')).rows).toEqual([{ n: 0 }]);
      // the plan says so before anything is queued
      const plan = await modifyReply(h, 'core_user alter column rand_id type bigint --dry-run');
      expect(plan).toMatch(/\npreflight now: size of core_user unknown \(svv_table_info shows the bot's database user \S+ no table.*\); free disk: unknown \(stv_partitions shows/);
      expect(plan).toContain('\n  ⚠️ free disk: unknown (');
      const { jobId, said } = await queued(h, 'core_user alter column rand_id type bigint');
      expect(said).toMatch(/\n⚠️ free disk: unknown \(stv_partitions shows the bot's database user \S+ no rows: it is visible to superusers only/);
      const detail = await runsWithUnknownDisk(h, jobId, /stv_partitions shows the bot's database user \S+ no rows: it is visible to superusers only/);
      expect(detail).toMatch(/size of core_user unknown \(svv_table_info shows the bot's database user \S+ no table/);
      expect(columnsOf(await liveTable(h, 'core_user'))).toContain('rand_id bigint');
      expect(await tableExists(h, 'old_core_user')).toBe(false);
    } finally {
      h.sandbox.faults.catalogUser = 'superuser';
      h.sandbox.faults.catalogGrants = [];
    }
  }, 90_000);

  it('granted svv_table_info but not stv_partitions (was "0 MB free" → refused): queued with the size it needs and a warning', async () => {
    h.sandbox.faults.catalogUser = 'regular';
    h.sandbox.faults.catalogGrants = ['svv_table_info'];
    try {
      const { jobId, said } = await queued(h, 'core_tag add column color varchar(16) --deep-copy');
      expect(said).toMatch(/\n⚠️ free disk: unknown \(stv_partitions shows the bot's database user \S+ no rows.*\); the copy needs \d+ MB \(2\.5 × \d+ MB of core_tag\)/);
      const detail = await runsWithUnknownDisk(h, jobId, /stv_partitions shows the bot's database user \S+ no rows/);
      expect(detail).toMatch(/^\d+ MB, \d+ rows; free disk: unknown/);
    } finally {
      h.sandbox.faults.catalogUser = 'superuser';
      h.sandbox.faults.catalogGrants = [];
    }
  }, 90_000);

  it('granted both views and too little free: still refused with the numbers, nothing queued', async () => {
    const used = Number((await h.sandbox.sql('select sum(used)::int as used from stv_partitions')).rows[0]?.used);
    h.sandbox.faults.catalogUser = 'regular';
    h.sandbox.faults.catalogGrants = ['svv_table_info', 'stv_partitions'];
    h.sandbox.faults.diskCapacityMb = used;
    try {
      const jobs = (await h.rt.jobs.store.listRecent(1000)).length;
      const said = await modifyReply(h, 'core_user add column nickname varchar(16) --deep-copy');
      expect(said).toMatch(/^Refused, nothing was changed:\n• too little free disk: 0 MB free, the copy needs \d+ MB \(2\.5 × \d+ MB of core_user\)/);
      expect((await h.rt.jobs.store.listRecent(1000)).length).toBe(jobs);
    } finally {
      h.sandbox.faults.catalogUser = 'superuser';
      h.sandbox.faults.catalogGrants = [];
      h.sandbox.faults.diskCapacityMb = 1_000_000;
    }
  }, 60_000);
});

describe('Redshift Serverless (Data API WorkgroupName): no STV tables', () => {
  let h: BotHarness;

  beforeAll(async () => {
    h = await startBotHarness({ name: 'mdisksl', inProcessWorker: true, copySchemas: true, aws: true, settings: SETTINGS, rowsPerTable: 30, target: { kind: 'serverless', workgroup: 'sandbox-wg' } });
  }, 90_000);

  afterAll(async () => {
    await h?.close();
  }, 60_000);

  it('stv_partitions does not exist: queued with "free disk: unknown (… Serverless …)", a warning, and the copy runs', async () => {
    await expect(h.warehouse.query('SELECT SUM(capacity) AS capacity FROM stv_partitions')).rejects.toThrow(/relation "stv_partitions" does not exist/);
    const { jobId, said } = await queued(h, 'core_user alter column rand_id type bigint');
    expect(said).toMatch(/\n⚠️ free disk: unknown \(the warehouse has no stv_partitions: Redshift Serverless has no STV tables/);
    const detail = await runsWithUnknownDisk(h, jobId, /the warehouse has no stv_partitions: Redshift Serverless has no STV tables/);
    expect(detail).toMatch(/^\d+ MB, \d+ rows; free disk: unknown/);
    expect(columnsOf(await liveTable(h, 'core_user'))).toContain('rand_id bigint');
  }, 90_000);
});
