/**
 * `/redshift modify` on the cdc-replicated table (ak_sumofus.core_action) end to end (issue 4, "Done when"): signed
 * Slack HTTP → Bolt → BullMQ on real Redis → the worker → AWS SDK → the sandbox on PostgreSQL, with the sandbox's
 * CdcApplyLoop (the FlyData stand-in: applies while the name exists, buffers while it is missing) inserting, updating
 * and deleting rows the whole time. Every job ends with: the new shape in the catalog, EVERY change the loop made present
 * in the table (the whole table compared with the source, row by row), old_<t> dropped only after an approver's signed
 * click (the requester's own click refused), and the table's file in a temporary COPY of schemas/ rewritten.
 *
 * Jobs, in order (each starts from the shape the one before left):
 *   1. live copy (the default): set sortkey, set distkey, integer → bigint, add column, drop column — copy while the
 *      table stays readable (a reader polls it throughout and never finds it missing), lock + delta + swap in one batch
 *   2. in place on the now-compound table: VARCHAR widening, RENAME COLUMN, ALTER SORTKEY, ALTER DISTKEY, a gated
 *      DROP COLUMN
 *   3. rename-first (--strategy rename-first --deep-copy): rename column — the table is missing during the copy and the
 *      loop buffers, then applies everything once the new table takes the name
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunbookSettings } from '../../src/jobs/deps.js';
import { parseTableFile } from '../../src/schema/registry.js';
import type { CdcApplyLoop } from '../../src/sandbox/apply-loop.js';
import type { Replication } from '../../src/sandbox/replication.js';
import { type BotHarness, SCHEMA, startBotHarness } from '../support/bot-harness.js';
import { approveAs, changesBetween, columnsOf, drainAndVerify, liveTable, queueModify, schemaFile, succeeded, tableExists } from '../support/modify-flow.js';

const T = 'core_action';
const SETTINGS: Partial<RunbookSettings> & { marginSeconds: number } = { logCheckMs: 1_500, freshnessMs: 3_000, marginSeconds: 2 };

let h: BotHarness;
let replication: Replication;
let loop: CdcApplyLoop;
const loopErrors: string[] = [];

beforeAll(async () => {
  h = await startBotHarness({ name: 'mcdc', inProcessWorker: { concurrency: 2 }, copySchemas: true, aws: true, settings: SETTINGS, rowsPerTable: 40 });
  replication = await h.sandbox.startReplication(h.registry, { dms: false, cdc: [{ table: T, rate: 25 }], tickMs: 40, onError: (t, e) => loopErrors.push(`${t}: ${e.message}`) });
  loop = replication.cdcLoops.get(`${SCHEMA}.${T}`)!;
  expect(loop).toBeDefined();
  await loop.until(() => loop.stats().applied >= 20, 10_000, 'the loop to apply its first changes');
}, 90_000);

afterAll(async () => {
  await replication?.stop();
  await h?.close();
}, 60_000);

/** Poll `select count(*)` on the table from another session until stopped: how often the name was missing. */
function reader(): { stop(): Promise<{ reads: number; missing: number }> } {
  let on = true;
  let reads = 0;
  let missing = 0;
  const run = (async () => {
    while (on) {
      try {
        await h.sandbox.sql(`select count(*) from ${SCHEMA}.${T}`);
      } catch (e) {
        if (/does not exist/.test((e as Error).message)) missing++;
        else throw e;
      }
      reads++;
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
  return {
    async stop() {
      on = false;
      await run;
      return { reads, missing };
    },
  };
}

describe(`modify ${T} (cdc) with the apply loop writing throughout`, () => {
  it('live copy: sort key, distkey, integer → bigint, add and drop column — readable throughout, no change lost', async () => {
    const t0 = Date.now();
    const mark = loop.history().length;
    const r = reader();
    const jobId = await queueModify(h, `${T} set sortkey (created_at, id), set distkey user_id, alter column link type bigint, add column referrer varchar(256), drop column opq_id`);
    let approvalText = '';
    await approveAs(h, jobId, 'approve-drop', {
      whileParked: async () => {
        // Slack's fallback text escapes & < > (Slack entities): read it as a user does
        approvalText = (h.approvalButtons(jobId)!.message.text ?? '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
        expect(await tableExists(h, `old_${T}`)).toBe(true);
        expect(await tableExists(h, `new_${T}`)).toBe(false);
      },
    });
    const job = await succeeded(h, jobId);
    const reads = await r.stop();
    expect(job.steps.map((s) => `${s.name}:${s.state}`)).toEqual([
      'preflight:done',
      'read-grants:done',
      'create:done',
      'mark:done',
      'copy:done',
      'pre-sync:done',
      'verify:done',
      'catch-up:done',
      'swap:done',
      'post-sync:done',
      'late-writes:done',
      'freshness:done',
      'post-verify:done',
      'approve-drop:done',
      'drop:done',
      'schema-file:done',
    ]);
    // the post-swap verification said what it compared, and the approval showed it
    const post = job.steps.find((s) => s.name === 'post-verify')!;
    expect(post.detail).toMatch(/^compared (all )?[\d,]+ (of [\d,]+ )?rows of old_core_action with core_action \(updated_at < swap mark .* − 2 s, same key in both\), \d+ columns: row counts and per-column checksums equal/);
    expect(approvalText).toContain(`Post-swap verification: ${post.detail!}`);
    expect(job.approvals).toEqual([expect.objectContaining({ step: 'approve-drop', decision: 'approved' })]);
    expect(job.approvals[0]?.by).not.toBe(job.requester);
    expect(await tableExists(h, `old_${T}`)).toBe(false);
    // the name was never missing: readers waited at most for the locked swap
    expect(reads.reads).toBeGreaterThan(20);
    expect(reads.missing).toBe(0);
    expect(job.steps.find((s) => s.name === 'freshness')?.detail).toMatch(/^replication writes core_action again/);
    expect(job.steps.find((s) => s.name === 'swap')?.detail).toMatch(/^locked, applied the delta and swapped in one transaction/);

    const live = await liveTable(h, T);
    expect(live.sortKey).toEqual({ style: 'COMPOUND', columns: ['created_at', 'id'] });
    expect(live.distKey).toBe('user_id');
    expect(live.columns.find((c) => c.name === 'link')?.type).toBe('bigint');
    expect(live.columns.map((c) => c.name)).not.toContain('opq_id');
    expect(live.columns.at(-1)).toMatchObject({ name: 'referrer', type: 'varchar(256)' });

    const during = changesBetween(loop, mark, loop.history().length);
    const v = await drainAndVerify(loop);
    expect(v.summary).toMatch(/matches the source/);
    expect(v.ok).toBe(true);
    expect(v.targetRows).toBe(v.expectedRows);
    expect(v.skippedColumns).toEqual(['opq_id']);
    expect(during.total).toBeGreaterThan(0);

    const file = parseTableFile(`${T}.yml`, await schemaFile(h, T)).table!;
    expect(file.columns.map((c) => `${c.name} ${c.type}`)).toEqual(columnsOf(live));
    expect(file.sortKey).toEqual({ style: 'COMPOUND', columns: ['created_at', 'id'] });
    expect(file.distKey).toBe('user_id');
    console.log(
      `[modify-cdc] live copy (5 ops): ${((Date.now() - t0) / 1000).toFixed(1)} s; ${during.total} changes during the job; ${v.expectedRows} rows verified; ${reads.reads} reads, ${reads.missing} found the table missing; ${job.steps.find((s) => s.name === 'swap')?.detail}`,
    );
  }, 90_000);

  it('in place: VARCHAR widening, rename, ALTER SORTKEY, ALTER DISTKEY and a gated drop column', async () => {
    const t0 = Date.now();
    loop.mapColumn('source', 'origin');
    const mark = loop.history().length;
    const jobId = await queueModify(h, `${T} alter column status type varchar(1024), rename column source to origin, set sortkey (created_at, user_id), set distkey id, drop column referrer`);
    await approveAs(h, jobId, 'approve-drop-column');
    const job = await succeeded(h, jobId);
    expect(job.steps.map((s) => `${s.name}:${s.state}`)).toEqual(['approve-drop-column:done', 'alter-1:done', 'alter-2:done', 'alter-3:done', 'alter-4:done', 'alter-5:done', 'schema-file:done']);
    const live = await liveTable(h, T);
    expect(live.columns.find((c) => c.name === 'status')?.type).toBe('varchar(1024)');
    expect(live.columns.map((c) => c.name)).toContain('origin');
    expect(live.columns.map((c) => c.name)).not.toContain('source');
    expect(live.columns.map((c) => c.name)).not.toContain('referrer');
    expect(live.sortKey).toEqual({ style: 'COMPOUND', columns: ['created_at', 'user_id'] });
    expect(live.distKey).toBe('id');

    const during = changesBetween(loop, mark, loop.history().length);
    const v = await drainAndVerify(loop);
    expect(v.summary).toMatch(/matches the source/);
    expect(v.ok).toBe(true);
    expect(v.columns).toContain('source'); // compared under its new name
    expect(during.total).toBeGreaterThan(0);
    const file = parseTableFile(`${T}.yml`, await schemaFile(h, T)).table!;
    expect(file.columns.map((c) => `${c.name} ${c.type}`)).toEqual(columnsOf(live));
    expect(file.sortKey).toEqual({ style: 'COMPOUND', columns: ['created_at', 'user_id'] });
    expect(file.distKey).toBe('id');
    console.log(`[modify-cdc] in place (5 ops): ${((Date.now() - t0) / 1000).toFixed(1)} s; ${during.total} changes during the job; ${v.expectedRows} rows verified`);
  }, 60_000);

  it('rename-first: the table is missing during the copy, the loop buffers and applies everything once the name is back', async () => {
    const t0 = Date.now();
    loop.mapColumn('ip_address', 'client_ip');
    const episodes = loop.stats().missingEpisodes;
    const mark = loop.history().length;
    const r = reader();
    const jobId = await queueModify(h, `${T} rename column ip_address to client_ip --deep-copy --strategy rename-first`);
    await approveAs(h, jobId, 'approve-drop', {
      whileParked: async () => {
        expect(await tableExists(h, `old_${T}`)).toBe(true);
      },
    });
    const job = await succeeded(h, jobId);
    const reads = await r.stop();
    expect(job.steps.map((s) => `${s.name}:${s.state}`)).toEqual([
      'preflight:done',
      'read-grants:done',
      'rename-away:done',
      'create:done',
      'copy:done',
      'verify:done',
      'rename-in:done',
      'freshness:done',
      'post-verify:done',
      'approve-drop:done',
      'drop:done',
      'schema-file:done',
    ]);
    expect(await tableExists(h, `old_${T}`)).toBe(false);
    expect(job.steps.find((s) => s.name === 'post-verify')?.detail).toMatch(
      /^compared all [\d,]+ rows of old_core_action with core_action as it was at the swap \(checksum taken by the verify step while core_action was missing\), \d+ columns: row counts and per-column checksums equal/,
    );
    const live = await liveTable(h, T);
    expect(live.columns.map((c) => c.name)).toContain('client_ip');
    expect(live.columns.map((c) => c.name)).not.toContain('ip_address');
    // the name was missing while the copy ran; the loop saw it and buffered
    expect(loop.stats().missingEpisodes).toBeGreaterThan(episodes);

    const during = changesBetween(loop, mark, loop.history().length);
    const v = await drainAndVerify(loop, { resume: false });
    expect(v.summary).toMatch(/matches the source/);
    expect(v.ok).toBe(true);
    expect(v.columns).toContain('ip_address');
    expect(during.total).toBeGreaterThan(0);
    const file = parseTableFile(`${T}.yml`, await schemaFile(h, T)).table!;
    expect(file.columns.map((c) => `${c.name} ${c.type}`)).toEqual(columnsOf(live));
    expect(loopErrors).toEqual([]);
    console.log(
      `[modify-cdc] rename-first: ${((Date.now() - t0) / 1000).toFixed(1)} s; ${during.total} changes during the job (buffer high-water ${loop.stats().maxPending}); ${reads.missing}/${reads.reads} reads found the table missing; ${job.steps.find((s) => s.name === 'rename-in')?.detail}; ${v.expectedRows} rows verified`,
    );
  }, 60_000);
});
