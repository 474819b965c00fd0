/**
 * Fault suite (issue 10 item 1), end to end: signed Slack HTTP → Bolt → BullMQ (real Redis) → the in-process worker →
 * AWS SDK → the loopback sandbox on PostgreSQL, with a fault knob turned in the middle of a modify job. Each test names
 * the fault, the safe state the bot must reach, and checks it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunbookSettings } from '../../src/jobs/deps.js';
import { type BotHarness, startBotHarness } from '../support/bot-harness.js';
import { approveAs, columnsOf, liveTable, queueModify, succeeded, tableExists } from '../support/modify-flow.js';

const SETTINGS: Partial<RunbookSettings> & { marginSeconds: number } = { logCheckMs: 1_500, freshnessMs: 3_000, marginSeconds: 2 };

let h: BotHarness;

beforeAll(async () => {
  h = await startBotHarness({ name: 'faults', inProcessWorker: { concurrency: 2 }, copySchemas: true, aws: true, settings: SETTINGS, rowsPerTable: 30 });
}, 90_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

const rowCount = async (table: string): Promise<number> => Number((await h.sandbox.sql(`select count(*)::int as n from ak_sumofus.${table}`)).rows[0]?.n ?? -1);

describe('faults in the middle of a modify job', () => {
  /*
   * Fault: the warehouse's endpoint stops answering (connections reset) while the job waits for its long copy statement.
   * The issue asks for "a minute"; here the outage lasts 15 s — longer than the adapter's whole per-call retry budget
   * (8 retries, full-jitter backoff capped at 50 ms · 2^n / 5 s: at most 11.4 s in total), so a wait that only had the
   * per-call retries fails every time; the wait's own outage tolerance (minutes) is what must carry it.
   * Safe state: the job keeps waiting, the copy statement is submitted once, the job finishes with every row copied.
   */
  it('the warehouse unreachable for longer than the retry budget in the middle of the copy wait: the job waits it out', async () => {
    const T = 'core_tag';
    const rows = await rowCount(T);
    expect(rows).toBeGreaterThan(0);
    h.sandbox.faults.slowStatements = [{ match: `/INSERT INTO\\s+"?ak_sumofus"?\\."?new_${T}"?/i`, ms: 3_000, times: 1 }];
    const retriesBefore = h.warehouse.stats.retries;
    const jobId = await queueModify(h, `${T} add column note varchar(32) --deep-copy`);
    await h.waitJob(jobId, (j) => j.steps.some((s) => s.name === 'copy' && s.state === 'running'), 'the copy step to start', 30_000);
    await h.waitUntil(async () => (await h.statements({ sql: new RegExp(`INSERT INTO\\s+"?ak_sumofus"?\\."?new_${T}`, 'i') })).length > 0, 'the copy statement to be submitted', 15_000);
    const outageStart = Date.now();
    h.sandbox.faults.warehouseUnreachableUntil = outageStart + 15_000;

    await approveAs(h, jobId, 'approve-drop', { whileParked: async () => expect(await tableExists(h, `old_${T}`)).toBe(true) });
    const job = await succeeded(h, jobId, 90_000);
    expect(Date.now() - outageStart).toBeGreaterThanOrEqual(15_000);
    expect(job.steps.find((s) => s.name === 'copy')?.state).toBe('done');
    expect(h.warehouse.stats.retries - retriesBefore).toBeGreaterThan(0);
    // the copy (one batch: empty new_<t>, fill it) was submitted once, and finished while we could not see it
    const copies = await h.statements({ sql: new RegExp(`^DELETE FROM ak_sumofus\\.new_${T};\\s*INSERT INTO`) });
    expect(copies.map((c) => c.status)).toEqual(['FINISHED']);
    expect(columnsOf(await liveTable(h, T))).toContain('note varchar(32)');
    expect(await rowCount(T)).toBe(rows);
    expect(await tableExists(h, `old_${T}`)).toBe(false);
  }, 120_000);
});
