/**
 * `/redshift rollback <job>` of a modify (issue 4: "Rollback (button, and `/redshift rollback <job>`): before the drop,
 * swap back (and resume replication), with the same care for changes that arrived meanwhile; after the drop, say plainly
 * that the old data is gone"). Signed Slack HTTP → Bolt → BullMQ (real Redis) → worker → SDK → sandbox on PostgreSQL,
 * with both apply loops writing throughout:
 *   - a live-copy job on core_action (cdc) parked on "Drop old_core_action?" is rolled back: the rows the CDC service
 *     changed in the new table since the swap — inserts, updates AND deletes — go back into the old table under the
 *     lock, names swapped back, new table dropped; every change is in the table;
 *   - the same for a rename-first job (the new table took the name by a rename; its changes are compared by key);
 *   - a DMS deep copy on core_usermailing parked on its drop approval: the task is stopped, the rows DMS changed in the
 *     new table are carried back by primary key, the names swapped back, the task resumed;
 *   - after the drop: the command says plainly that the old data is gone and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunbookSettings } from '../../src/jobs/deps.js';
import type { CdcApplyLoop, DmsApplyLoop } from '../../src/sandbox/apply-loop.js';
import type { Replication } from '../../src/sandbox/replication.js';
import { type BotHarness, SCHEMA, USERS, startBotHarness } from '../support/bot-harness.js';
import {
  REQUESTER,
  approveAs,
  catalogSnapshot,
  changesBetween,
  columnsOf,
  drainAndVerify,
  liveTable,
  parkedOn,
  queueModify,
  schemaFile,
  succeeded,
  tableExists,
} from '../support/modify-flow.js';

const SETTINGS: Partial<RunbookSettings> & { marginSeconds: number } = { logCheckMs: 1_500, freshnessMs: 3_000, marginSeconds: 2 };
const TASK = 'flydata-core-usermailing';

let h: BotHarness;
let replication: Replication;
let cdc: CdcApplyLoop;
let dms: DmsApplyLoop;
const loopErrors: string[] = [];

beforeAll(async () => {
  h = await startBotHarness({ name: 'mrb', inProcessWorker: { concurrency: 2 }, copySchemas: true, aws: true, settings: SETTINGS, rowsPerTable: 40 });
  replication = await h.sandbox.startReplication(h.registry, {
    dms: { rate: 25 },
    cdc: [{ table: 'core_action', rate: 25 }],
    tickMs: 40,
    onError: (t, e) => loopErrors.push(`${t}: ${e.message}`),
  });
  cdc = replication.cdcLoops.get(`${SCHEMA}.core_action`)!;
  dms = replication.dmsLoops.get(`${SCHEMA}.core_usermailing`)!;
  await cdc.until(() => cdc.stats().applied >= 20, 10_000, 'the cdc loop to apply its first changes');
  await dms.until(() => dms.stats().applied >= 20, 10_000, 'the dms loop to apply its first changes');
}, 90_000);

afterAll(async () => {
  await replication?.stop();
  await h?.close();
}, 60_000);

/** `/redshift rollback <id>` as `userId`; the bot's ephemeral answer. */
async function rollbackCommand(jobId: string, userId: string): Promise<string> {
  const r = await h.slash(`rollback ${jobId}`, { userId });
  expect(r.status).toBe(200);
  const said = await h.waitForResponse(r.responseId, undefined, 20_000);
  expect(said.body.response_type).toBe('ephemeral');
  return String(said.body.text);
}

/** Wait until `loop` applied at least `n` changes after `since` (ms): the new table really received changes to carry back. */
async function appliedSince(loop: CdcApplyLoop | DmsApplyLoop, since: number, n: number): Promise<void> {
  await loop.until(() => loop.history().filter((c) => c.fate === 'applied' && (c.at ?? 0) > since).length >= n, 15_000, `${n} changes applied after the swap`);
}

describe('/redshift rollback of a modify before the drop swaps back with no change lost', () => {
  it('cdc live copy parked on the drop: inserts, updates and deletes made since the swap go back into the old table', async () => {
    const t0 = Date.now();
    const before = columnsOf(await liveTable(h, 'core_action'));
    const file = await schemaFile(h, 'core_action');
    const mark = cdc.history().length;
    const jobId = await queueModify(h, 'core_action alter column link type bigint, add column referrer varchar(256), set distkey user_id');
    const parked = await parkedOn(h, jobId, 'approve-drop');
    expect(await tableExists(h, 'old_core_action')).toBe(true);
    const swappedAt = Number(parked.handles['swappedAt']);
    await appliedSince(cdc, swappedAt, 30);
    const sinceSwap = cdc.history().filter((c) => c.fate === 'applied' && (c.at ?? 0) > swappedAt);
    expect(sinceSwap.some((c) => c.kind === 'delete')).toBe(true);

    expect(await rollbackCommand(jobId, USERS.operator)).toBe(`job ${jobId}: rolling back its completed steps, last first (the pending approval is withdrawn)`);
    const job = await h.waitJob(jobId, (j) => j.state === 'rolled-back' || j.state === 'failed', 'to roll back', 30_000);
    expect(job.state, job.error).toBe('rolled-back');
    expect(job.steps.filter((s) => s.state === 'undone').map((s) => s.name)).toEqual(['create', 'swap']);
    expect(columnsOf(await liveTable(h, 'core_action'))).toEqual(before);
    expect(await tableExists(h, 'old_core_action')).toBe(false);
    expect(await tableExists(h, 'new_core_action')).toBe(false);
    expect(await schemaFile(h, 'core_action')).toBe(file);
    expect(await h.rt.jobs.locks.holder(`${SCHEMA}.core_action`)).toBeUndefined();
    // the swap back carried the new table's changes back in the same transaction, under the lock
    const swapBack = await h.statements({ name: `job ${jobId} swap back ${SCHEMA}.core_action` });
    expect(swapBack).toHaveLength(1);
    expect(swapBack[0]?.sql).toMatch(/^LOCK TABLE ak_sumofus\.core_action;\nDELETE FROM ak_sumofus\.old_core_action WHERE NOT EXISTS \(SELECT 1 FROM ak_sumofus\.core_action AS n WHERE n\.id = old_core_action\.id\)/);
    // the old approval buttons are stale now
    const buttons = h.approvalButtons(jobId)!;
    const late = await h.click('rso_approve', buttons.raw, { userId: USERS.approver, messageTs: buttons.message.ts });
    expect(String((await h.waitForResponse(late.responseId)).body.text)).toBe(`Refused: job ${jobId} is rolled-back; there is nothing to approve`);

    const during = changesBetween(cdc, mark, cdc.history().length);
    const v = await drainAndVerify(cdc);
    expect(v.summary).toMatch(/matches the source/);
    expect(v.ok).toBe(true);
    expect(v.skippedColumns).toEqual([]);
    console.log(
      `[modify-rollback] cdc live copy rolled back: ${((Date.now() - t0) / 1000).toFixed(1)} s; ${sinceSwap.length} changes applied to the new table before the rollback (${sinceSwap.filter((c) => c.kind === 'delete').length} deletes) carried back; ${during.total} changes during the job; ${v.expectedRows} rows verified`,
    );
  }, 60_000);

  it('cdc rename-first parked on the drop: the new table is compared by key under the lock and its changes go back', async () => {
    const t0 = Date.now();
    const before = columnsOf(await liveTable(h, 'core_action'));
    cdc.mapColumn('ip_address', 'client_ip');
    const mark = cdc.history().length;
    const jobId = await queueModify(h, 'core_action rename column ip_address to client_ip --deep-copy --strategy rename-first');
    const parked = await parkedOn(h, jobId, 'approve-drop');
    await appliedSince(cdc, Number(parked.handles['swappedAt']), 30);
    expect(await rollbackCommand(jobId, REQUESTER)).toMatch(/^job \d+: rolling back its completed steps/);
    const job = await h.waitJob(jobId, (j) => j.state === 'rolled-back' || j.state === 'failed', 'to roll back', 30_000);
    expect(job.state, job.error).toBe('rolled-back');
    expect(job.steps.filter((s) => s.state === 'undone').map((s) => s.name)).toEqual(['rename-away', 'create', 'rename-in']);
    expect(columnsOf(await liveTable(h, 'core_action'))).toEqual(before);
    expect(await tableExists(h, 'old_core_action')).toBe(false);
    expect(await tableExists(h, 'new_core_action')).toBe(false);
    const during = changesBetween(cdc, mark, cdc.history().length);
    const v = await drainAndVerify(cdc);
    expect(v.summary).toMatch(/matches the source/);
    expect(v.ok).toBe(true);
    console.log(`[modify-rollback] cdc rename-first rolled back: ${((Date.now() - t0) / 1000).toFixed(1)} s; ${during.total} changes during the job; ${v.expectedRows} rows verified`);
  }, 60_000);

  it('DMS deep copy parked on the drop: task stopped, changes carried back by key, names swapped back, task running', async () => {
    const t0 = Date.now();
    const before = columnsOf(await liveTable(h, 'core_usermailing'));
    const mark = dms.history().length;
    const jobId = await queueModify(h, 'core_usermailing set sortkey (user_id, created_at), alter column subject_id type bigint');
    const parked = await parkedOn(h, jobId, 'approve-drop');
    await appliedSince(dms, Number(parked.handles['resumedAt']), 30);
    expect(await rollbackCommand(jobId, USERS.operator)).toMatch(/^job \d+: rolling back its completed steps/);
    const job = await h.waitJob(jobId, (j) => j.state === 'rolled-back' || j.state === 'failed', 'to roll back', 30_000);
    expect(job.state, job.error).toBe('rolled-back');
    expect(job.steps.filter((s) => s.state === 'undone').map((s) => s.name)).toEqual(['stop-task', 'create', 'swap', 'resume-task']);
    const live = await liveTable(h, 'core_usermailing');
    expect(columnsOf(live)).toEqual(before);
    expect(live.sortKey.style).toBe('INTERLEAVED');
    expect(await tableExists(h, 'old_core_usermailing')).toBe(false);
    expect(await tableExists(h, 'new_core_usermailing')).toBe(false);
    expect(h.sandbox.dms.getTask(TASK).status).toBe('running');
    const during = changesBetween(dms, mark, dms.history().length);
    const v = await drainAndVerify(dms);
    expect(v.summary).toMatch(/matches the source/);
    expect(v.ok).toBe(true);
    expect(v.failed).toBe(0);
    console.log(`[modify-rollback] DMS deep copy rolled back: ${((Date.now() - t0) / 1000).toFixed(1)} s; ${during.total} changes during the job; ${v.expectedRows} rows verified`);
  }, 60_000);
});

describe('/redshift rollback after the drop', () => {
  it('says plainly that the old data is gone, and changes nothing', async () => {
    const jobId = await queueModify(h, 'core_usermailing alter column subject_id type bigint');
    await approveAs(h, jobId, 'approve-drop');
    const done = await succeeded(h, jobId);
    expect(await tableExists(h, 'old_core_usermailing')).toBe(false);
    const catalog = await catalogSnapshot(h);
    const said = await rollbackCommand(jobId, REQUESTER);
    expect(said).toBe(
      `Refused: job ${jobId} dropped ${SCHEMA}.old_core_usermailing after <@${USERS.approver}> approved it: the old data is gone, so there is nothing to swap back to. ` +
        `${SCHEMA}.core_usermailing keeps its new shape; to undo the change, run a new \`/redshift modify core_usermailing …\` that changes it back.`,
    );
    const after = await h.rt.jobs.store.get(jobId);
    expect(after?.state).toBe('succeeded');
    expect(after?.updatedAt).toBe(done.updatedAt);
    expect(await catalogSnapshot(h)).toBe(catalog);
    expect(h.sandbox.dms.getTask(TASK).status).toBe('running');
    const v = await drainAndVerify(dms, { resume: false });
    expect(v.ok, v.summary).toBe(true);
    expect(loopErrors).toEqual([]);
  }, 60_000);
});
