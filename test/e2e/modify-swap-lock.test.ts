/**
 * The live-copy swap waits for its ACCESS EXCLUSIVE lock at most `swapLockTimeoutMs` (a statement_timeout around the
 * batch's LOCK TABLE) and retries with backoff when a reader holds the table (issue 7, item 2).
 *
 * Redshift reports a statement_timeout as `ERROR: Query (150) canceled on user's request` (r_statement_timeout, the
 * documentation's own example) — not PostgreSQL's "canceling statement due to statement timeout". The sandbox answers
 * the same way, so the retry is proven against what Redshift says: a reader (another Data API session, one transaction
 * that reads the table and then sleeps) holds ACCESS SHARE; the first swap attempt times out; the reader ends; a later
 * attempt succeeds, and the thread says it retried. Signed Slack HTTP → Bolt → BullMQ → worker → SDK → sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunbookSettings } from '../../src/jobs/deps.js';
import { type BotHarness, SCHEMA, USERS, startBotHarness } from '../support/bot-harness.js';
import { approveAs, columnsOf, liveTable, queueModify, succeeded, tableExists, threadOf } from '../support/modify-flow.js';

const T = 'core_user';
const LOCK_TIMEOUT_MS = 300;
const SETTINGS: Partial<RunbookSettings> = { logCheckMs: 1_000, freshnessMs: 500, swapLockTimeoutMs: LOCK_TIMEOUT_MS };

let h: BotHarness;

beforeAll(async () => {
  h = await startBotHarness({ name: 'mlock', inProcessWorker: true, copySchemas: true, aws: true, settings: SETTINGS, rowsPerTable: 30 });
}, 90_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

describe('swap lock timeout: a reader holding the table makes the first attempt time out, a retry succeeds', () => {
  it('retries on Redshift\'s "Query (n) canceled on user\'s request" and says so in the thread', async () => {
    // a reader in another session: one transaction that reads the table (ACCESS SHARE, held to the end) and then sleeps
    const reader = await h.warehouse.submitBatch([`SELECT count(*) FROM ${SCHEMA}.${T}`, 'SELECT pg_sleep(120)'], { name: 'long reader' });
    await h.waitUntil(async () => (await h.warehouse.describe(reader)).subStatements?.[1]?.status === 'STARTED', 'the reader to hold its lock', 10_000);

    const jobId = await queueModify(h, `${T} alter column rand_id type bigint`);
    const swapName = `job ${jobId} swap ${SCHEMA}.${T}`;
    // the first swap attempt ends on the lock's statement_timeout …
    let firstId = '';
    await h.waitUntil(
      async () => {
        const done = (await h.statements({ name: swapName })).find((s) => s.status === 'FAILED' || s.status === 'ABORTED');
        if (done) firstId = done.id;
        return done !== undefined;
      },
      'the first swap attempt to time out behind the reader',
      30_000,
    );
    const first = await h.warehouse.describe(firstId);
    expect(first.status).toBe('FAILED');
    const lockSub = first.subStatements?.[1];
    expect(lockSub?.status).toBe('FAILED');
    expect(lockSub?.error).toMatch(/^ERROR: {1,2}Query \(\d+\) canceled on user's request$/);
    // … the reader finishes (cancelled here), and a retry takes the lock
    await h.warehouse.cancel(reader);
    await approveAs(h, jobId, 'approve-drop', { approver: USERS.approver });
    const job = await succeeded(h, jobId);
    expect(job.steps.find((s) => s.name === 'swap')?.state).toBe('done');
    expect(await tableExists(h, `old_${T}`)).toBe(false);
    expect(columnsOf(await liveTable(h, T))).toContain('rand_id bigint');

    const replies = await threadOf(h, jobId);
    const retries = replies.filter((r) => r.includes(`the lock on ${T} waited more than ${LOCK_TIMEOUT_MS} ms behind other sessions; retrying (`));
    expect(retries.length, replies.join('\n---\n')).toBeGreaterThanOrEqual(1);
    expect(retries[0]).toContain('retrying (1/10)');
    const attempts = await h.statements({ name: swapName });
    expect(attempts.filter((s) => s.status === 'FINISHED')).toHaveLength(1);
    expect(attempts.length).toBe(retries.length + 1);
    console.log(`[modify-swap-lock] ${attempts.length} swap attempt(s), ${retries.length} retry note(s)`);
  }, 90_000);
});
