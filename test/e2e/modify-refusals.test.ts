/**
 * `/redshift modify` refusals end to end (issue 4, "Done when": "modify on a table another job holds; drift without
 * `--force-drift`; a narrowing type change that would truncate existing data; too little free disk — each with a clear
 * message and nothing changed"). Signed Slack HTTP → Bolt → the bot → Data API (SDK) → sandbox on PostgreSQL; each
 * refusal is an ephemeral reply, and afterwards the catalog is identical, no job was queued and no new_<t> exists.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunbookSettings } from '../../src/jobs/deps.js';
import { type BotHarness, SCHEMA, USERS, startBotHarness } from '../support/bot-harness.js';
import { catalogSnapshot, liveTable, modifyReply, parkedOn, queueModify, rejectAs, succeeded, tableExists, threadOf } from '../support/modify-flow.js';

const SETTINGS: Partial<RunbookSettings> = { logCheckMs: 1_000, freshnessMs: 500 };

let h: BotHarness;

beforeAll(async () => {
  h = await startBotHarness({ name: 'mref', inProcessWorker: true, copySchemas: true, aws: true, settings: SETTINGS, rowsPerTable: 30 });
}, 90_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

interface World {
  catalog: string;
  jobs: number;
  /** BullMQ jobs in any state (earlier jobs may still move from active to completed) */
  bull: number;
  work: string[];
}

async function world(): Promise<World> {
  const work = await h.sandbox.sql(`select table_name::text as t from information_schema.tables where table_schema = $1 and (table_name like 'new\\_%' or table_name like 'old\\_%') order by 1`, [SCHEMA]);
  return {
    catalog: await catalogSnapshot(h),
    jobs: (await h.rt.jobs.store.listRecent(1000)).length,
    bull: Object.values(await h.queueCounts()).reduce((a, b) => a + b, 0),
    work: work.rows.map((r) => String(r.t)),
  };
}

/** The command is refused with an ephemeral message, and nothing changed. */
async function refused(text: string, userId: string = USERS.operator): Promise<string> {
  const before = await world();
  const said = await modifyReply(h, text, userId);
  expect(said).toMatch(/^Refused/);
  const after = await world();
  expect(after.catalog).toBe(before.catalog);
  expect(after.jobs).toBe(before.jobs);
  expect(after.bull).toBe(before.bull);
  expect(after.work).toEqual(before.work);
  return said;
}

describe('modify refusals: a clear ephemeral message, nothing changed', () => {
  it('a table another job holds (a modify parked on its drop approval) is refused naming the holder', async () => {
    const holder = await queueModify(h, 'core_user alter column rand_id type bigint', USERS.lead);
    await parkedOn(h, holder, 'approve-drop');
    expect(await tableExists(h, 'old_core_user')).toBe(true);
    const said = await refused('core_user add column nickname varchar(64)', USERS.operator);
    expect(said).toBe(
      `Refused, nothing was changed: ${SCHEMA}.core_user is locked by job ${holder} (awaiting-approval: modify ${SCHEMA}.core_user alter column rand_id type bigint, asked by <@${USERS.lead}>). ` +
        `One changing job per table at a time: wait for job ${holder} to finish (\`/redshift job ${holder}\`), then plan again against the changed table.`,
    );
    // the holder is untouched: still parked, its old table kept
    expect((await h.rt.jobs.store.get(holder))?.state).toBe('awaiting-approval');
    expect(await tableExists(h, 'old_core_user')).toBe(true);
    // release it (reject rolls back) so the table is free again
    await rejectAs(h, holder, 'approve-drop');
    await h.waitJob(holder, (j) => j.state === 'rejected', 'to roll back', 30_000);
    expect(await tableExists(h, 'old_core_user')).toBe(false);
    expect(await h.rt.jobs.locks.holder(`${SCHEMA}.core_user`)).toBeUndefined();
  }, 60_000);

  it('drift (an ALTER behind the bot’s back) without --force-drift is refused; with it, it plans and runs', async () => {
    await h.sandbox.sql(`alter table ${SCHEMA}.core_tag add column sneaky_note varchar(32)`);
    const said = await refused('core_tag add column color varchar(16)');
    expect(said).toBe(
      `Refused: ${SCHEMA}.core_tag in the warehouse differs from schemas/:\n  • ${SCHEMA}.core_tag.sneaky_note: extra column varchar(32) in the warehouse, not in schemas/\n` +
        'Fix schemas/ (`schema diff core_tag` shows it) or run again with --force-drift to plan from schemas/ anyway.',
    );
    // --force-drift: the plan names the drift it goes past …
    const plan = await modifyReply(h, 'core_tag add column color varchar(16) --force-drift --dry-run');
    expect(plan).toContain(`modify ${SCHEMA}.core_tag: in place`);
    expect(plan).toContain(`drift (--force-drift): ${SCHEMA}.core_tag.sneaky_note: extra column`);
    expect(plan).toContain(`ALTER TABLE ${SCHEMA}.core_tag ADD COLUMN color varchar(16);`);
    // … and runs
    const jobId = await queueModify(h, 'core_tag add column color varchar(16) --force-drift', USERS.operator);
    await succeeded(h, jobId);
    expect((await liveTable(h, 'core_tag')).columns.map((c) => c.name).slice(-2)).toEqual(['sneaky_note', 'color']);
  }, 60_000);

  it('a narrowing type change that would truncate data (varchar(765) → varchar(5)) is refused with the count', async () => {
    const r = await h.sandbox.sql(`select count(*)::int as n, max(octet_length(email))::int as worst from ${SCHEMA}.core_user where octet_length(email) > 5`);
    const n = Number(r.rows[0]?.n);
    const worst = Number(r.rows[0]?.worst);
    expect(n).toBeGreaterThan(0);
    const said = await refused('core_user alter column email type varchar(5)');
    expect(said).toBe(
      `Refused, nothing was changed:\n• ${n} row${n === 1 ? '' : 's'} of core_user.email ${n === 1 ? 'is' : 'are'} longer than 5 bytes; the longest is ${worst} bytes: varchar(765) → varchar(5) would change the data; fix those rows or choose a wider type`,
    );
  }, 60_000);

  it('too little free disk for the copy is refused with the numbers', async () => {
    const disk = await h.sandbox.sql('select sum(used)::int as used from stv_partitions');
    const used = Number(disk.rows[0]?.used);
    h.sandbox.faults.diskCapacityMb = used; // nothing free
    try {
      const said = await refused('core_user alter column rand_id type bigint');
      expect(said).toMatch(
        /^Refused, nothing was changed:\n• too little free disk: 0 MB free, the copy needs \d+ MB \(2\.5 × \d+ MB of core_user\); free space \(VACUUM DELETE ONLY, drop unused tables\) or resize, then try again$/,
      );
    } finally {
      h.sandbox.faults.diskCapacityMb = 1_000_000;
    }
    // with the disk back, the same command is accepted (the refusal was the disk, nothing else)
    const plan = await modifyReply(h, 'core_user alter column rand_id type bigint --dry-run');
    expect(plan).toContain(`modify ${SCHEMA}.core_user: deep copy (cdc, live-copy)`);
  }, 60_000);

  it('a swap whose re-grants would not fit one 40-statement batch is refused before queueing (the swap is never split)', async () => {
    // 35 roles, each with a different set of privileges on core_phone: 35 GRANT statements that cannot be combined
    const privileges = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];
    const sets = Array.from({ length: 35 }, (_, i) => privileges.filter((_, b) => ((i + 1) >> b) & 1));
    const roles = sets.map((_, i) => `rso_ref_${process.pid}_${randomBytes(2).toString('hex')}_${i}`);
    try {
      for (const [i, r] of roles.entries()) {
        await h.sandbox.sql(`create role ${r} nologin`);
        await h.sandbox.sql(`grant ${sets[i]!.join(', ')} on ${SCHEMA}.core_phone to ${r}`);
      }
      const said = await refused('core_phone add column label varchar(16) --deep-copy');
      expect(said).toMatch(
        /^Refused, nothing was changed: the swap of ak_sumofus\.core_phone would be (\d+) statements in one transaction: the renames and the change delta, plus the re-grants for 35 grantees with 35 different privilege sets \(one GRANT per set\)\. The Data API runs at most 40 statements in one batch, and the swap must stay one transaction so core_phone is never missing\./,
      );
      expect(Number(/would be (\d+) statements/.exec(said)![1])).toBeGreaterThan(40);
    } finally {
      for (const r of roles) {
        await h.sandbox.sql(`revoke all on ${SCHEMA}.core_phone from ${r}`).catch(() => undefined);
        await h.sandbox.sql(`drop role if exists ${r}`).catch(() => undefined);
      }
    }
  }, 60_000);

  it("a key type change that would break other tables' foreign keys is refused, naming each and how to proceed", async () => {
    const said = await refused('core_action alter column id type varchar(10)');
    expect(said).toMatch(/^Refused: ak_sumofus\.core_action\.id \(integer\) is referenced by 6 foreign keys whose columns keep their types:\n/);
    for (const t of ['core_actionfield (parent_id integer)', 'core_order (action_id integer)', 'core_orderrecurring (action_id integer)', 'core_subscriptionhistory (action_id integer)', 'share_action (action_id integer)', 'share_link (action_id integer)'])
      expect(said).toContain(`  • ${SCHEMA}.${t} → core_action.id`);
    expect(said).toContain('Change the referencing columns first (`/redshift modify core_actionfield alter column parent_id type varchar(10)`');
    expect(said).toContain('or remove those foreign keys from schemas/, then run this again.');
  }, 60_000);
});

describe('what a queued or failed modify says', () => {
  it("the reply that queues the job shows the plan's warnings (not only --dry-run)", async () => {
    const said = await modifyReply(h, 'core_action alter column id type bigint', USERS.lead);
    const m = /^Queued job (\d+): /.exec(said);
    expect(m, said).not.toBeNull();
    const jobId = m![1]!;
    expect(said).toContain('\n⚠️ alter column id type bigint: id is the primary key, the distribution key and the first sort key column: every row is redistributed and re-sorted by the copy, and joins on it now compare bigint');
    expect(said).toContain('\n⚠️ core_actionfield (parent_id) references core_action.id, which becomes bigint; its own column keeps its type (the two still compare)');
    await parkedOn(h, jobId, 'approve-drop');
    await rejectAs(h, jobId, 'approve-drop');
    await h.waitJob(jobId, (j) => j.state === 'rejected', 'to roll back', 30_000);
    expect(await tableExists(h, 'old_core_action')).toBe(false);
  }, 90_000);

  it('after an in-place ALTER the job reads the catalog back and fails loudly when the table is not what the plan said', async () => {
    // the sandbox reports the ADD COLUMN as FINISHED without running it: a change the warehouse said it made but did not
    h.sandbox.faults.noopStatements.push({ match: 'ADD COLUMN shade', times: 1 });
    const jobId = await queueModify(h, 'core_location add column shade varchar(16)', USERS.lead);
    const failed = await h.waitJob(jobId, (j) => j.state === 'failed', 'to fail at the ALTER', 45_000);
    const step = failed.steps.find((x) => x.state === 'failed');
    expect(step?.name).toBe('alter-1');
    expect(step?.error).toMatch(/finished, but ak_sumofus\.core_location is not what the plan said \(column shade exists with type varchar\(16\)\):\n• column shade should exist, the catalog has no such column \(columns: created_at, updated_at, user_id, /);
    expect((await liveTable(h, 'core_location')).columns.map((c) => c.name)).not.toContain('shade');
    // schemas/ was not rewritten to a shape the warehouse does not have
    expect(failed.steps.find((x) => x.name === 'schema-file')?.state).toBe('pending');
    // retried, the step looks first (isDone), runs the ALTER for real this time and the job finishes
    expect((await h.rt.control.retryJob(jobId, USERS.lead)).ok).toBe(true);
    await succeeded(h, jobId);
    expect((await liveTable(h, 'core_location')).columns.map((c) => c.name)).toContain('shade');
  }, 90_000);

  it('a job that fails after changing something says the table stays locked, and its Roll back button undoes it', async () => {
    h.sandbox.faults.failStatements.push({ match: 'RENAME TO old_share_type', error: 'ERROR: could not obtain lock on relation "share_type" (simulated)', times: 1 });
    const jobId = await queueModify(h, 'share_type add column label varchar(16) --deep-copy', USERS.lead);
    const failed = await h.waitJob(jobId, (j) => j.state === 'failed', 'to fail at the swap', 45_000);
    expect(failed.steps.find((s) => s.state === 'failed')?.name).toBe('swap');
    expect(await tableExists(h, 'new_share_type')).toBe(true);
    expect((await h.rt.jobs.locks.holder(`${SCHEMA}.share_type`))?.jobId).toBe(jobId);
    await h.waitUntil(async () => (await threadOf(h, jobId)).some((t) => t.startsWith('Step ') && t.includes('failed')), 'the failure reply in the thread');
    const threadTs = (await h.progressMessage(jobId))!.ts;
    const failure = h.fake.messages().find((m) => m.thread_ts === threadTs && JSON.stringify(m.blocks ?? []).includes('"block_id":"rso_failure"'));
    expect(failure?.text).toMatch(new RegExp(`failed: .*simulated.* — ${SCHEMA}\\.share_type stays locked \\(no other job can change it\\) until this job is rolled back or retried\\.$`, 's'));
    const actions = (failure?.blocks ?? []).find((b) => (b as { block_id?: string }).block_id === 'rso_failure') as { elements: Array<{ action_id: string; value: string }> };
    const rollback = actions.elements.find((e) => e.action_id === 'rso_rollback');
    expect(rollback, JSON.stringify(actions)).toBeDefined();
    expect(actions.elements.map((e) => e.action_id)).toEqual(['rso_retry', 'rso_rollback', 'rso_cancel']);
    const click = await h.click('rso_rollback', rollback!.value, { userId: USERS.lead, messageTs: failure!.ts, threadTs: failure!.thread_ts! });
    expect(click.status).toBe(200);
    await h.waitJob(jobId, (j) => j.state === 'rolled-back', 'to roll back', 30_000);
    expect(await tableExists(h, 'new_share_type')).toBe(false);
    expect(await h.rt.jobs.locks.holder(`${SCHEMA}.share_type`)).toBeUndefined();
  }, 90_000);
});
