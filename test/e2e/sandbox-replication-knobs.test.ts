/**
 * The replication fault knobs over HTTP (`POST /_sandbox/faults` with `replication` actions, server.ts), as a demo or a
 * recover e2e test turns them: startSandbox on a PostgreSQL database of this file's own, replication of
 * core_usermailing (DMS) and core_action (CDC, its table missing at first), the DMS task observed through the real SDK
 * adapter. Each knob is shown to have its effect (TableState, task status, duplicate keys, lost changes, the CDC
 * dashboard's reload recreating and refilling the table), and a bad patch changes nothing. Every wait is a condition.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DmsAdapter } from '../../src/replication/dms.js';
import type { Replication } from '../../src/sandbox/replication.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { type Registry, loadRegistry } from '../../src/schema/registry.js';
import type { RedshiftDataWarehouse } from '../../src/warehouse/redshift-data.js';
import { type TestDatabase, createTestDatabase } from '../support/sandbox.js';
import { poller } from '../support/poll.js';
import { createSeededTable, postFaults, sandboxAdapters } from '../support/sandbox-adapters.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const UM = 'ak_sumofus.core_usermailing';
const ACTION = 'ak_sumofus.core_action';

let db: TestDatabase;
let sandbox: Sandbox;
let registry: Registry;
let dms: DmsAdapter;
let repl: Replication;
let arn: string;
let wh: RedshiftDataWarehouse;

const until = poller({ timeoutMs: 20_000, pauseMs: 25 });

interface PatchAnswer {
  status: number;
  body: { __type?: string; message?: string; replication?: Array<{ action: string; tables: string[]; replayedKeys?: number[]; rowsLoaded?: number }> };
}

async function patch(body: unknown): Promise<PatchAnswer> {
  const r = await postFaults(sandbox, body);
  return { status: r.status, body: (await r.json()) as PatchAnswer['body'] };
}

const loop = (k: string) => {
  const l = repl.loop(k);
  if (!l) throw new Error(`no loop on ${k}`);
  return l;
};

async function count(sql: string): Promise<number> {
  return Number((await sandbox.sql(sql)).rows[0]?.n ?? -1);
}

/** stop generating, let everything apply, compare the whole target with the source */
async function settledVerify(k: string): Promise<{ ok: boolean; summary: string; duplicateCount: number }> {
  const l = loop(k);
  l.stopGenerating();
  await l.idle();
  const v = await l.verify();
  l.resumeGenerating();
  return v;
}

beforeAll(async () => {
  db = await createTestDatabase('repl_knobs');
  sandbox = await startSandbox({ databaseUrl: db.url, dmsDelays: { startMs: 80, stopMs: 80, createMs: 40, fullLoadMs: 40 } });
  registry = await loadRegistry(path.join(REPO, 'schemas'));
  const aws = sandboxAdapters(sandbox);
  dms = aws.dms();
  wh = aws.warehouse();
  // core_usermailing exists with rows; core_action does not exist yet (the CDC service buffers until the reload makes it)
  await createSeededTable(sandbox, wh, registry.find('core_usermailing')!, { rows: 30, seed: 7 });
  repl = await sandbox.startReplication(registry, { dms: { rate: 60 }, cdc: [{ table: 'core_action', rate: 60 }], tickMs: 15 });
  arn = repl.tasks[0]!.arn;
  await loop(UM).until(() => loop(UM).stats().applied >= 5, 15_000, 'the DMS loop to apply its first changes');
}, 60_000);

afterAll(async () => {
  await repl?.stop();
  dms?.close();
  wh?.close();
  await sandbox?.close();
  await db?.drop();
}, 60_000);

describe('POST /_sandbox/faults replication actions', () => {
  it('a bad action is a 400 that names the tables with loops, and changes nothing (not even the knobs in the same patch)', async () => {
    const unknown = await patch({ throttleNext: 3, replication: [{ action: 'tableError', table: 'core_user' }] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.__type).toBe('ValidationException');
    expect(unknown.body.message).toMatch(/no replication loop writes "core_user" \(loops run on ak_sumofus\.core_usermailing, ak_sumofus\.core_action\)/);
    expect(sandbox.faults.throttleNext).toBe(0);

    const wrongKind = await patch({ replication: [{ action: 'replayDuplicates', table: 'core_usermailing', n: 1 }, { action: 'fatalError', table: 'core_action' }] });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.message).toMatch(/fatalError applies to DMS tables; ak_sumofus\.core_action is not/);
    expect(loop(UM).stats().replayed).toBe(0); // the valid first action did not run either

    const badShape = await patch({ replication: [{ action: 'explode', table: 'core_usermailing' }] });
    expect(badShape.status).toBe(400);
    expect(badShape.body.message).toMatch(/replication\.0\.action/);
    expect((await dms.describeTask(arn)).status).toBe('running');
  });

  it('cdcReload: the CDC dashboard reload creates the missing table and fills it from the source; replication then keeps it equal', async () => {
    expect(await count(`select count(*)::int as n from information_schema.tables where table_schema = 'ak_sumofus' and table_name = 'core_action'`)).toBe(0);
    await loop(ACTION).until(() => loop(ACTION).stats().liveRows >= 10, 15_000, 'the CDC source to have rows');
    const r = await patch({ replication: [{ action: 'cdcReload', table: 'core_action' }] });
    expect(r.status).toBe(200);
    expect(r.body.replication).toHaveLength(1);
    expect(r.body.replication![0]).toMatchObject({ action: 'cdcReload', tables: [ACTION] });
    expect(r.body.replication![0]!.rowsLoaded).toBeGreaterThanOrEqual(10);
    expect(await count(`select count(*)::int as n from ${ACTION}`)).toBeGreaterThanOrEqual(r.body.replication![0]!.rowsLoaded!);
    const v = await settledVerify(ACTION);
    expect(v.summary).toMatch(/matches the source/);
  });

  it('cdcOutage + binlogRetention: changes purged while the CDC service was down leave the table broken; cdcReload repairs it', async () => {
    const r = await patch({ replication: [{ action: 'binlogRetention', table: 'core_action', ms: 100 }, { action: 'cdcOutage', table: 'core_action', down: true }] });
    expect(r.status).toBe(200);
    const before = loop(ACTION).stats().generated;
    await loop(ACTION).until(() => loop(ACTION).stats().generated >= before + 20, 15_000, '20 changes while the CDC service is down');
    await new Promise((res) => setTimeout(res, 300)); // older than the retention now
    expect((await patch({ replication: [{ action: 'cdcOutage', table: 'core_action', down: false }] })).status).toBe(200);
    const broken = await until('the CDC table to be broken', () => loop(ACTION).stats(), (s) => s.broken !== undefined);
    expect(broken.lostToRetention).toBeGreaterThan(0);
    expect(broken.broken).toMatch(/purged from the source's binlog.*reload the table from the CDC service's dashboard/);
    expect((await settledVerify(ACTION)).ok).toBe(false);

    const fixed = await patch({ replication: [{ action: 'binlogRetention', table: 'core_action', ms: null }, { action: 'cdcReload', table: 'core_action' }] });
    expect(fixed.status).toBe(200);
    expect(loop(ACTION).stats().broken).toBeUndefined();
    expect((await settledVerify(ACTION)).summary).toMatch(/matches the source/);
  });

  it('replayDuplicates: the last n applied inserts land again — duplicate keys in the target', async () => {
    const dupsBefore = await count(`select (count(*) - count(distinct id))::int as n from ${UM}`);
    const r = await patch({ replication: [{ action: 'replayDuplicates', table: 'core_usermailing', n: 3 }] });
    expect(r.status).toBe(200);
    const keys = r.body.replication![0]!.replayedKeys!;
    expect(keys).toHaveLength(3);
    const perKey = await sandbox.sql(`select id::text as id, count(*)::int as n from ${UM} where id = any($1::bigint[]) group by id`, [keys]);
    expect(perKey.rows.map((x) => x.n)).toEqual([2, 2, 2]);
    expect(await count(`select (count(*) - count(distinct id))::int as n from ${UM}`)).toBe(dupsBefore + 3);
    const v = await settledVerify(UM);
    expect(v.duplicateCount).toBe(3);
    // leave the table clean for the next tests: one row per key (what the recover runbook's dedupe will do)
    await sandbox.sql(`delete from ${UM} a using ${UM} b where a.id = b.id and a.ctid < b.ctid`);
  });

  it('tableError: TableState goes to Table error at once; ReloadTables brings it back', async () => {
    const r = await patch({ replication: [{ action: 'tableError', table: 'core_usermailing', reason: 'ERROR: value too long for type character varying(16)' }] });
    expect(r.status).toBe(200);
    expect((await dms.tableStats(arn, 'ak_sumofus', 'core_usermailing'))?.state).toBe('Table error');
    const lines = sandbox.logs.events('dms-tasks-core-usermailing-replication').map((e) => e.message);
    expect(lines.some((l) => /\[TARGET_APPLY\s*\]E:.*value too long/.test(l))).toBe(true);
    await dms.reloadTable(arn, 'ak_sumofus', 'core_usermailing');
    await until('Table completed after the reload', () => dms.tableStats(arn, 'ak_sumofus', 'core_usermailing'), (s) => s?.state === 'Table completed' && s.fullLoadReloaded);
    expect((await settledVerify(UM)).summary).toMatch(/matches the source/);
  });

  it('fatalError: the task fails with FATAL_ERROR now; failNextResume makes the next resume fail too; then a resume applies the backlog', async () => {
    const r = await patch({ replication: [{ action: 'fatalError', table: 'core_usermailing', reason: 'Lost connection to MySQL server during query' }] });
    expect(r.status).toBe(200);
    const failed = await until('the task to fail', () => dms.describeTask(arn), (t) => t.status === 'failed');
    expect(failed.stopReason).toBe('Stop Reason FATAL_ERROR');
    expect(failed.lastFailureMessage).toMatch(/Lost connection to MySQL server during query/);

    expect((await patch({ replication: [{ action: 'failNextResume', table: 'core_usermailing', message: 'Last Error injected resume failure Stop Reason FATAL_ERROR Error Level FATAL' }] })).status).toBe(200);
    await dms.resumeTask(arn);
    const again = await dms.waitForStatus(arn, 'running', { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(String(again)).toMatch(/injected resume failure/);

    await dms.resumeTask(arn);
    await dms.waitForStatus(arn, 'running', { timeoutMs: 10_000 });
    expect((await settledVerify(UM)).summary).toMatch(/matches the source/);
  });

  it('binlogRetention (DMS): changes purged while the task was stopped make every resume fail until reload-target', async () => {
    expect((await patch({ replication: [{ action: 'binlogRetention', table: 'core_usermailing', ms: 100 }] })).status).toBe(200);
    await dms.stopTask(arn);
    await dms.waitForStatus(arn, 'stopped', { timeoutMs: 10_000 });
    const before = loop(UM).stats().generated;
    await loop(UM).until(() => loop(UM).stats().generated >= before + 20, 15_000, '20 changes while stopped');
    await new Promise((res) => setTimeout(res, 300));
    await dms.resumeTask(arn);
    const failed = await until('the resume to fail', () => dms.describeTask(arn), (t) => t.status === 'failed');
    expect(failed.lastFailureMessage).toMatch(/binary log|binlog/);
    expect(loop(UM).stats().lostToRetention).toBeGreaterThan(0);

    expect((await patch({ replication: [{ action: 'binlogRetention', table: 'core_usermailing', ms: null }] })).status).toBe(200);
    await dms.startTask(arn, 'reload-target');
    await dms.waitForStatus(arn, 'running', { timeoutMs: 10_000 });
    await until('the reload-target load to complete', () => dms.tableStats(arn, 'ak_sumofus', 'core_usermailing'), (s) => s?.state === 'Table completed' && s.fullLoadReloaded);
    expect((await settledVerify(UM)).summary).toMatch(/matches the source/);
  });
});
