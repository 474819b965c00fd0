/**
 * `/redshift hygiene` end to end (issue 9 item 3): signed slash commands and signed button clicks into the real Bolt
 * receiver → BullMQ on real Redis → a worker → the real Data API adapter → the sandbox on PostgreSQL. The sandbox's
 * `tableHealth` fault knob seeds what Redshift's svv_table_info / svv_interleaved_columns would show (unsorted %,
 * stats_off, rows marked deleted, interleaved skew); VACUUM / ANALYZE run through the sandbox clear what they fix and
 * are recorded in `sandbox.maintenanceLog`, so the tests assert exactly what ran and how (never inside a transaction).
 */
import { WarehouseError } from '../../src/warehouse/port.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotHarness, CHANNEL, SCHEMA, USERS, startBotHarness } from '../support/bot-harness.js';
import type { FakeSlackCall } from '../support/fake-slack.js';

let h: BotHarness;

beforeAll(async () => {
  // a short first wait while another VACUUM runs (the default is 10 s, doubling)
  h = await startBotHarness({ name: 'hygiene', rowsPerTable: 20, inProcessWorker: { concurrency: 2 }, settings: { vacuumRetryMs: 100 } });
}, 90_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

interface Button {
  action_id: string;
  value: string;
}

function buttonsOf(call: FakeSlackCall): Button[] {
  const out: Button[] = [];
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) return x.forEach(visit);
    if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      if (o.type === 'button' && typeof o.action_id === 'string' && typeof o.value === 'string') out.push({ action_id: o.action_id, value: o.value });
      Object.values(o).forEach(visit);
    }
  };
  visit(call.body.blocks);
  return out;
}

/** What Slack shows of a message's text (the bot escapes & < > as Slack requires). */
function shown(call: FakeSlackCall): string {
  return String(call.body.text).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

async function hygiene(user: string = USERS.stranger): Promise<FakeSlackCall> {
  const r = await h.slash('hygiene', { userId: user });
  expect(r.status).toBe(200);
  return h.waitForResponse(r.responseId, undefined, 30_000);
}

/** The job id from "Queued job N: …" */
function queuedId(text: string): string {
  const m = /^Queued job (\S+): /.exec(text);
  expect(m, text).not.toBeNull();
  return m![1]!;
}

describe('hygiene listing', () => {
  it('lists a seeded unsorted table, a skewed interleaved table, stale stats and big deletes — and nothing else', async () => {
    h.sandbox.faults.tableHealth = {
      [`${SCHEMA}.core_order`]: { unsorted: 42 },
      [`${SCHEMA}.core_action`]: { interleavedSkew: 7.5 },
      [`${SCHEMA}.core_page`]: { statsOff: 35 },
      [`${SCHEMA}.core_list`]: { deletedRows: 15 },
    };
    const reply = await hygiene();
    const text = shown(reply);
    expect(text).toContain(`Hygiene of ${SCHEMA}: 4 tables need maintenance`);
    expect(text).toMatch(/core_order: VACUUM SORT ONLY — unsorted 42\.00 % > 10 %/);
    expect(text).toMatch(/core_action: VACUUM REINDEX — interleaved skew 7\.50 > 5/);
    expect(text).toMatch(/core_page: ANALYZE — stats off 35\.00 > 10/);
    expect(text).toMatch(/core_list: VACUUM DELETE ONLY — 15 of 35 rows marked deleted \(42\.9 %\) > 10 %/);
    // Redshift's automatic vacuum delete is named where it makes a manual run optional
    expect(text).toMatch(/core_list[^\n]*\n[^\n]*automatic vacuum delete/);
    // what was compared: every table of the schema, and the ones within the thresholds are counted, not hidden
    expect(text).toMatch(/22 tables within the thresholds/);
    expect(text).not.toMatch(/core_user:/);
    const buttons = buttonsOf(reply).filter((b) => b.action_id === 'rso_maintain');
    expect(buttons.map((b) => JSON.parse(b.value) as { table: string }).map((v) => v.table).sort()).toEqual(
      ['core_action', 'core_list', 'core_order', 'core_page'].map((t) => `${SCHEMA}.${t}`),
    );
  }, 60_000);

  it('the queued VACUUM runs as a single statement outside a transaction, under the table lock, and fixes the table', async () => {
    h.sandbox.maintenanceLog.length = 0;
    const listing = await hygiene();
    const button = buttonsOf(listing).find((b) => b.action_id === 'rso_maintain' && b.value.includes('core_order'));
    expect(button).toBeDefined();
    const click = await h.click('rso_maintain', button!.value, { userId: USERS.operator, channelId: CHANNEL });
    expect(click.status).toBe(200);
    const answer = await h.waitForResponse(click.responseId);
    const id = queuedId(String(answer.body.text));
    const job = await h.rt.jobs.store.get(id);
    expect(job?.table).toBe(`${SCHEMA}.core_order`);
    expect(job?.kind).toBe('maintenance');
    const done = await h.waitJob(id, (j) => j.state === 'succeeded' || j.state === 'failed', 'to finish', 30_000);
    expect(done.state, done.error).toBe('succeeded');
    expect(h.sandbox.maintenanceLog).toEqual([
      expect.objectContaining({ op: 'vacuum', mode: 'SORT ONLY', table: `${SCHEMA}.core_order`, inTransaction: false, batch: false }),
    ]);
    const vacuums = await h.statements({ sql: /^VACUUM SORT ONLY/ });
    expect(vacuums.length).toBe(1);
    // the verification step says what it compared
    const verify = done.steps.find((s) => s.name === 'verify');
    expect(verify?.state).toBe('done');
    expect(verify?.detail).toMatch(/unsorted 0\.00 % ≤ 10 %/);
    // the lock is released, and the table is no longer listed
    expect(await h.rt.jobs.locks.holder(`${SCHEMA}.core_order`)).toBeUndefined();
    const after = shown(await hygiene());
    expect(after).not.toMatch(/core_order:/);
    expect(after).toMatch(/core_action: VACUUM REINDEX/);
  }, 60_000);

  it('VACUUM REINDEX on the skewed interleaved table resets its skew', async () => {
    h.sandbox.maintenanceLog.length = 0;
    const listing = await hygiene();
    const button = buttonsOf(listing).find((b) => b.action_id === 'rso_maintain' && b.value.includes('core_action'));
    const click = await h.click('rso_maintain', button!.value, { userId: USERS.lead, channelId: CHANNEL });
    const id = queuedId(String((await h.waitForResponse(click.responseId)).body.text));
    const done = await h.waitJob(id, (j) => j.state === 'succeeded' || j.state === 'failed', 'to finish', 30_000);
    expect(done.state, done.error).toBe('succeeded');
    expect(h.sandbox.maintenanceLog.map((m) => `${m.op} ${m.mode ?? ''} ${m.table}`)).toEqual([`vacuum REINDEX ${SCHEMA}.core_action`]);
    const skew = await h.warehouse.query(
      `SELECT max(ic.interleaved_skew) AS skew FROM svv_interleaved_columns ic JOIN svv_table_info ti ON ti.table_id = ic.tbl WHERE ti."schema" = :s AND ti."table" = 'core_action'`,
      { s: SCHEMA },
    );
    expect(Number(skew.rows[0]?.skew)).toBe(1);
  }, 60_000);

  it('waits while another VACUUM runs on the cluster (Redshift allows one at a time), then runs', async () => {
    h.sandbox.maintenanceLog.length = 0;
    h.sandbox.faults.vacuumBusy = 2;
    const listing = await hygiene();
    const button = buttonsOf(listing).find((b) => b.action_id === 'rso_maintain' && b.value.includes('core_list'));
    const click = await h.click('rso_maintain', button!.value, { userId: USERS.operator, channelId: CHANNEL });
    const id = queuedId(String((await h.waitForResponse(click.responseId)).body.text));
    const done = await h.waitJob(id, (j) => j.state === 'succeeded' || j.state === 'failed', 'to finish', 60_000);
    expect(done.state, done.error).toBe('succeeded');
    expect(h.sandbox.faults.vacuumBusy).toBe(0);
    expect(h.sandbox.maintenanceLog).toEqual([expect.objectContaining({ op: 'vacuum', mode: 'DELETE ONLY', table: `${SCHEMA}.core_list` })]);
    const failed = (await h.statements({ sql: /^VACUUM DELETE ONLY/ })).filter((s) => s.status === 'FAILED');
    expect(failed.length).toBe(2);
    const vacuumStep = done.steps.find((s) => s.name === 'vacuum');
    expect(vacuumStep?.detail).toMatch(/ran on try 3: another VACUUM was running on the cluster for the first 2$/);
  }, 90_000);

  it('holds the table lock while it runs: a modify of the same table (ALTER conflicts with VACUUM) is refused, naming the job', async () => {
    h.sandbox.faults.tableHealth = { [`${SCHEMA}.core_userfield`]: { unsorted: 33 } };
    // every statement waits 4 s in STARTED, so the job is still running its VACUUM when the modify arrives
    h.sandbox.faults.statementDelayMs = 4_000;
    let id = '';
    try {
      const r = await h.slash('hygiene run core_userfield', { userId: USERS.operator });
      id = queuedId(String((await h.waitForResponse(r.responseId, undefined, 30_000)).body.text));
      await h.waitJob(id, (j) => j.state === 'running', 'to run');
      expect((await h.rt.jobs.locks.holder(`${SCHEMA}.core_userfield`))?.jobId).toBe(id);
      const m = await h.slash('modify core_userfield add column note varchar(20)', { userId: USERS.operator });
      const refused = String((await h.waitForResponse(m.responseId, undefined, 20_000)).body.text);
      expect(refused).toMatch(new RegExp(`^Refused, nothing was changed: ${SCHEMA}\\.core_userfield is locked by job ${id} \\(running: hygiene run ${SCHEMA}\\.core_userfield`));
      expect((await h.rt.jobs.store.get(id))?.state).toBe('running'); // the refusal came while the VACUUM ran
    } finally {
      h.sandbox.faults.statementDelayMs = 0;
    }
    const done = await h.waitJob(id, (j) => j.state === 'succeeded' || j.state === 'failed', 'to finish', 30_000);
    expect(done.state, done.error).toBe('succeeded');
    expect(await h.rt.jobs.locks.holder(`${SCHEMA}.core_userfield`)).toBeUndefined();
  }, 90_000);

  it('a reader may list, but not queue: the click of someone who is not an operator is refused', async () => {
    h.sandbox.faults.tableHealth = { [`${SCHEMA}.core_page`]: { statsOff: 35 } };
    const listing = await hygiene();
    const button = buttonsOf(listing).find((b) => b.action_id === 'rso_maintain' && b.value.includes('core_page'));
    expect(button).toBeDefined();
    const click = await h.click('rso_maintain', button!.value, { userId: USERS.stranger, channelId: CHANNEL });
    const answer = String((await h.waitForResponse(click.responseId)).body.text);
    expect(answer).toMatch(/^Refused: /);
    expect(await h.rt.jobs.locks.holder(`${SCHEMA}.core_page`)).toBeUndefined();
  }, 60_000);
});

describe('what the bot cannot see', () => {
  it('is named, never shown as healthy: both views show rows to superusers only unless granted', async () => {
    h.sandbox.faults.tableHealth = { [`${SCHEMA}.core_action`]: { interleavedSkew: 9 }, [`${SCHEMA}.core_order`]: { unsorted: 50 } };
    h.sandbox.faults.catalogUser = 'regular';
    h.sandbox.faults.catalogGrants = ['svv_table_info'];
    try {
      const partial = shown(await hygiene());
      expect(partial).toMatch(/core_order: VACUUM SORT ONLY — unsorted 50\.00 % > 10 %/);
      expect(partial).not.toMatch(/core_action:/);
      expect(partial).toMatch(/Interleaved skew not shown for [^\n]*\bcore_action\b[^\n]*superusers only/);
      h.sandbox.faults.catalogGrants = [];
      const blind = shown(await hygiene());
      expect(blind).toMatch(new RegExp(`^Hygiene of ${SCHEMA}: nothing compared`));
      expect(blind).not.toMatch(/no table needs maintenance|within the thresholds/);
      expect(blind).toMatch(/GRANT SELECT ON svv_table_info/);
    } finally {
      h.sandbox.faults.catalogUser = 'superuser';
      h.sandbox.faults.catalogGrants = [];
    }
  }, 60_000);
});

describe('the sandbox follows Redshift', () => {
  it('refuses VACUUM inside a batch (one transaction) with Redshift\'s error text; ANALYZE in a batch is fine', async () => {
    const err = await h.warehouse.executeBatch([`VACUUM DELETE ONLY ${SCHEMA}.core_tag`, 'SELECT 1']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as Error).message).toContain('VACUUM cannot run inside a transaction block');
    await expect(h.warehouse.executeBatch([`ANALYZE ${SCHEMA}.core_tag`, 'SELECT 1'])).resolves.toMatchObject({ status: 'FINISHED' });
  }, 30_000);
});

describe('hygiene schedule', () => {
  it('keeps a weekly BullMQ job scheduler, shows its timeline, and its sweep queues the maintenance', async () => {
    h.sandbox.faults.tableHealth = { [`${SCHEMA}.core_userfield`]: { unsorted: 30 } };
    const r = await h.slash('hygiene schedule sun 03:30', { userId: USERS.operator });
    const set = shown(await h.waitForResponse(r.responseId));
    expect(set).toMatch(/^Hygiene runs weekly on Sunday at 03:30 UTC; next run: \d{4}-\d\d-\d\d 03:30 UTC/);
    const scheduler = await h.rt.hygiene.scheduler();
    expect(scheduler?.pattern).toBe('30 3 * * 0');
    // a second `schedule` replaces it (one scheduler, upserted)
    const r2 = await h.slash('hygiene schedule wed 01:00', { userId: USERS.operator });
    expect(shown(await h.waitForResponse(r2.responseId))).toMatch(/weekly on Wednesday at 01:00 UTC/);
    expect((await h.rt.hygiene.scheduler())?.pattern).toBe('0 1 * * 3');
    // run the sweep now, as the scheduler would
    const sweep = await h.rt.hygiene.sweepNow();
    expect(sweep.queued.map((q) => q.table)).toEqual([`${SCHEMA}.core_userfield`]);
    const id = sweep.queued[0]!.jobId;
    const done = await h.waitJob(id, (j) => j.state === 'succeeded' || j.state === 'failed', 'to finish', 30_000);
    expect(done.state, done.error).toBe('succeeded');
    const show = await h.slash('hygiene schedule', { userId: USERS.stranger });
    const timeline = shown(await h.waitForResponse(show.responseId));
    expect(timeline).toMatch(/weekly on Wednesday at 01:00 UTC/);
    expect(timeline).toMatch(new RegExp(`queued 1 job: ${id} \\(${SCHEMA}\\.core_userfield\\)`));
    const off = await h.slash('hygiene schedule off', { userId: USERS.operator });
    expect(shown(await h.waitForResponse(off.responseId))).toMatch(/^Hygiene schedule removed/);
    expect(await h.rt.hygiene.scheduler()).toBeUndefined();
  }, 90_000);
});
