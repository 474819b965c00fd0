/**
 * `/redshift recover core_phone` (CDC) end to end: signed Slack HTTP → BullMQ → the worker → Data API → the sandbox on
 * PostgreSQL, the CdcApplyLoop writing its changes to a MariaDB source the whole time.
 *
 * The CDC service was down longer than the binlog retention: changes are lost and the table is broken until a reload.
 * recover posts the exact steps for the service's dashboard and waits (parked); the test then does what the service
 * does on "reload": the table is recreated in the service's own shape (no keys, no dist/sort keys) and filled from the
 * source — and a replay leaves duplicate keys. The job sees the table exist, its count settle and match the source,
 * dedupes after an approval, brings the table to its schemas/ definition with modify's deep copy (drop of old_<t>
 * after an approval) and ends equal to the source.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTable } from '../../src/schema/catalog.js';
import { diffTable, formatDrift } from '../../src/schema/diff.js';
import type { CdcApplyLoop } from '../../src/sandbox/apply-loop.js';
import { SCHEMA } from '../support/bot-harness.js';
import { approveAs, succeeded, tableExists, threadOf } from '../support/modify-flow.js';
import { RECOVER_SETTINGS, type RecoverWorld, duplicateIds, queueRecover, recoverReply, settle, startRecoverWorld, stepReached, stepStates } from '../support/recover-flow.js';

const T = 'core_phone';
let w: RecoverWorld;
let loop: CdcApplyLoop;

beforeAll(async () => {
  // looks 1.5 s apart: the replay that follows the reload in the same admin request lands before two looks can agree
  w = await startRecoverWorld('rcdc', { harness: { settings: { ...RECOVER_SETTINGS, cdcReloadPollMs: 1_500 } }, replication: { dms: false, cdc: [{ table: T, rate: 15 }] } });
  loop = w.replication.cdcLoops.get(`${SCHEMA}.${T}`)!;
  expect(loop).toBeDefined();
  await loop.until(() => loop.stats().applied >= 15, 15_000, 'the loop to apply its first changes');
}, 120_000);

afterAll(async () => {
  await w?.close();
}, 60_000);

describe(`recover ${T} (CDC)`, () => {
  it('after an outage past the binlog retention: steps for the dashboard, parked wait for the reload, dedupe, deep copy to the definition, equal to the source', async () => {
    const t0 = Date.now();
    loop.setOutage(true);
    loop.setBinlogRetention(300);
    const mark = loop.stats().generated;
    await loop.until(() => loop.stats().generated > mark + 10, 15_000, 'changes during the outage');
    await new Promise((r) => setTimeout(r, 600));
    loop.setOutage(false);
    await loop.until(() => loop.stats().broken !== undefined, 10_000, 'the table to be broken (binlog purged)');
    loop.setBinlogRetention(undefined);
    // the lost changes age past compare's 2 s lag window: the gap shows in the counts outside it
    await new Promise((r) => setTimeout(r, 3_000));

    const plan = await recoverReply(w.h, `${T} --dry-run`);
    expect(plan).toMatch(/dry run — nothing was queued or run/);
    expect(plan).toMatch(/post in the thread: 1\. Open the flydata dashboard, find the table core_phone in schema ak_sumofus/);
    expect(plan).toMatch(/Wait for the CDC service to reload ak_sumofus\.core_phone/);
    expect(plan).toMatch(/CREATE TABLE ak_sumofus\.new_core_phone/);
    expect(plan).toMatch(/PRIMARY KEY \(id\)/);
    expect(plan).toMatch(/INTERLEAVED SORTKEY/i);

    const jobId = await queueRecover(w.h, T);
    await w.h.waitJob(jobId, (j) => j.waiting?.step === 'cdc-reload-wait', 'to wait for the reload', 30_000);
    const thread = await threadOf(w.h, jobId);
    expect(thread.some((t) => /Reload ak_sumofus\.core_phone in the CDC service — the bot cannot do it/.test(t))).toBe(true);
    expect(thread.filter((t) => /waiting for the CDC service to reload ak_sumofus\.core_phone/.test(t))).toHaveLength(1);
    // several looks, no worker held, no step finished: the table is still broken
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await w.h.rt.jobs.store.get(jobId))?.steps.find((s) => s.name === 'cdc-reload-wait')?.state).toBe('running');

    // the service's "reload": the table recreated in the service's own shape and filled from the source; a replay
    // from an earlier checkpoint leaves duplicate keys
    await w.h.sandbox.sql(`drop table ${SCHEMA}.${T}`);
    await w.h.waitJob(jobId, (j) => /does not exist yet/.test(j.waiting?.progress ?? ''), 'to see the table missing', 20_000);
    // the CDC dashboard's "reload this table", and a replay, through the sandbox's admin endpoint
    const res = await fetch(`${w.h.sandbox.endpoint}/_sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ replication: [{ action: 'cdcReload', table: T }, { action: 'replayDuplicates', table: T, n: 3 }] }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await duplicateIds(w.h, T)).toBe(3);
    const cdcShape = await readTable(w.h.warehouse, SCHEMA, T);
    expect(cdcShape?.primaryKey).toBeUndefined();

    // replication keeps going: a delete of a replayed key removes both of its rows, so the gate may see fewer than 3
    await approveAs(w.h, jobId, 'approve-dedupe', {
      whileParked: async () => {
        expect(await duplicateIds(w.h, T)).toBeGreaterThan(0);
      },
    }).catch(async (e: unknown) => {
      const j = await w.h.rt.jobs.store.get(jobId);
      throw new Error(`${String(e)}\n${(j?.steps ?? []).map((s) => `${s.name}:${s.state} ${s.detail ?? s.error ?? ''}`).join('\n')}`);
    });
    // the deep copy's own gate: old_core_phone is dropped only after an approval; the source is quiet from here on
    await approveAs(w.h, jobId, 'approve-drop', {
      whileParked: async () => {
        expect(await tableExists(w.h, `old_${T}`)).toBe(true);
        loop.stopGenerating();
      },
    });
    const job = await succeeded(w.h, jobId, 120_000);
    const states = stepStates(job);
    expect(states.slice(0, 7)).toEqual(['assess:done', 'cdc-reload-request:done', 'cdc-reload-wait:done', 'duplicate-keys:done', 'approve-dedupe:done', 'dedupe:done', 'conform-check:done']);
    expect(states).toEqual(expect.arrayContaining(['create:done', 'copy:done', 'swap:done', 'approve-drop:done', 'drop:done']));
    expect(states.at(-1)).toBe('final-compare:done');
    expect(states).not.toContain('schema-file:done');
    const d = (n: string) => job.steps.find((s) => s.name === n)?.detail;
    expect(d('cdc-reload-wait')).toMatch(/^ak_sumofus\.core_phone is reloaded: [\d,]+ rows; rows outside the lag window (equal to the source's on 2 looks 1\.5 s apart|count unchanged on \d+ looks 1\.5 s apart and equal to the source's)/);
    const found = Number(/: (\d+) key\(s\) have more than one row \((\d+) rows, \1 extra\)/.exec(d('duplicate-keys') ?? '')?.[1] ?? 0);
    expect(found, d('duplicate-keys')).toBeGreaterThanOrEqual(1);
    expect(found).toBeLessThanOrEqual(3);
    expect(d('dedupe')).toMatch(/after: [\d,]+ rows, 0 duplicate keys$/);
    expect(d('dedupe')).toMatch(/keeps the newest row of each key by updated_at/);
    expect(d('conform-check')).toMatch(/has the CDC service's shape \(\d+ difference\(s\) from schemas\//);
    expect(d('final-compare')).toMatch(/^ak_sumofus\.core_phone: ✓ equal/);

    // the table is its definition again, and holds what the source holds
    const live = await readTable(w.h.warehouse, SCHEMA, T);
    expect(diffTable(h().registry.find(T)!, live).map(formatDrift)).toEqual([]);
    await settle(loop);
    const v = await loop.verify();
    expect(v.ok, v.summary).toBe(true);
    expect(await duplicateIds(w.h, T)).toBe(0);
    expect(await tableExists(w.h, `old_${T}`)).toBe(false);
    console.log(`[recover-cdc] outage → reload → dedupe → deep copy: ${((Date.now() - t0) / 1000).toFixed(1)} s; ${loop.stats().lostToRetention} changes lost to the retention; ${d('final-compare')}`);
  }, 240_000);
});

const h = () => w.h;
