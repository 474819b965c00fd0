/**
 * The sandbox's replication with a REAL source: the apply loops write their changes to a MariaDB database of this file's
 * own (created and dropped here), and the DMS / CDC stand-ins copy from it to a PostgreSQL target of this file's own.
 * DMS is driven through the real AWS SDK client over HTTP. Proves: the full load reads MariaDB in chunks with TableState
 * Before load → Full load → Table completed and FullLoadRows moving; changes after the load match MariaDB row by row;
 * each fault knob (binlog retention, Table error, FATAL_ERROR, replayed duplicates, CDC outage) ends in its documented
 * observable state and a reload brings the target back to the source. Every wait is a condition with a timeout.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateReplicationTaskCommand,
  DatabaseMigrationServiceClient,
  ReloadTablesCommand,
  StartReplicationTaskCommand,
  StopReplicationTaskCommand,
  type ReplicationTask,
} from '@aws-sdk/client-database-migration-service';
import { DmsSandbox } from '../../src/sandbox/dms.js';
import { LogsSandbox } from '../../src/sandbox/logs.js';
import { CdcApplyLoop, DmsApplyLoop, tableGenerator } from '../../src/sandbox/apply-loop.js';
import { MariaDbSourceDb } from '../../src/sandbox/source-db.js';
import { CORE_USERMAILING_COLUMNS, type DmsLogsServer, dmsTaskProbes, serveDmsAndLogs } from '../support/dms-logs-server.js';
import { poller } from '../support/poll.js';
import { type TestDatabase, createTestDatabase } from '../support/sandbox.js';

const logs = new LogsSandbox();
const dms = new DmsSandbox({ logs, delays: { createMs: 20, startMs: 40, stopMs: 40, fullLoadMs: 40 } });
let server: DmsLogsServer;
let dmsClient: DatabaseMigrationServiceClient;

const MY_DB = `rso_source_sandbox_${process.pid}_${randomBytes(3).toString('hex')}`;
const MYSQL = 'mysql://root@127.0.0.1:3306';
let db: TestDatabase;
let pool: pg.Pool;
let source: MariaDbSourceDb;
let my: Connection;

beforeAll(async () => {
  server = await serveDmsAndLogs(dms, logs);
  dmsClient = new DatabaseMigrationServiceClient(server.clientConfig);

  db = await createTestDatabase('source_sandbox');
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pool.on('error', () => {});
  // the target tables, as the warehouse has them: no primary key enforced (Redshift does not)
  await pool.query('CREATE SCHEMA ak_sumofus');
  await pool.query('CREATE TABLE ak_sumofus.core_usermailing (id bigint NOT NULL, mailing_id integer NOT NULL, user_id integer NOT NULL, subject_id integer, created_at timestamp NOT NULL)');

  source = await MariaDbSourceDb.open({ url: `${MYSQL}/${MY_DB}`, createDatabase: true });
  my = await createConnection(`${MYSQL}/${MY_DB}`);
});

afterAll(async () => {
  dms.close();
  dmsClient?.destroy();
  await server?.close();
  await my?.end();
  await source?.close({ dropDatabase: true });
  await pool?.end();
  await db?.drop();
});

const until = poller({ timeoutMs: 20_000, pauseMs: 15 });
const { describeTask, waitStatus, tableStats } = dmsTaskProbes(() => dmsClient, until);

async function myCount(table: string): Promise<number> {
  const [rows] = await my.query<RowDataPacket[]>(`SELECT count(*) AS n FROM \`${table}\``);
  return Number(rows[0]!.n);
}

async function pgCounts(table: string): Promise<{ rows: number; keys: number }> {
  const r = await pool.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS k FROM ak_sumofus.${table}`);
  return { rows: Number(r.rows[0]!.n), keys: Number(r.rows[0]!.k) };
}

function taskLog(task: ReplicationTask): string[] {
  const cfg = JSON.parse(task.ReplicationTaskSettings ?? '{}') as { Logging?: { CloudWatchLogGroup?: string; CloudWatchLogStream?: string } };
  return logs.events(cfg.Logging!.CloudWatchLogGroup!, cfg.Logging!.CloudWatchLogStream!).map((e) => e.message);
}

describe('DMS with a MariaDB source', () => {
  const ID = 'mariadb-usermailing';
  let arn = '';
  let loop: DmsApplyLoop;

  afterAll(async () => {
    await loop?.stop();
  });

  it('full load copies the MariaDB table in chunks: Before load → Full load (FullLoadRows moving) → Table completed; then changes apply and match MariaDB', async () => {
    const created = await dmsClient.send(
      new CreateReplicationTaskCommand({
        ReplicationTaskIdentifier: ID,
        SourceEndpointArn: 'arn:aws:dms:us-west-2:123456789012:endpoint:SRC',
        TargetEndpointArn: 'arn:aws:dms:us-west-2:123456789012:endpoint:TGT',
        ReplicationInstanceArn: 'arn:aws:dms:us-west-2:123456789012:rep:core-usermailing-replication',
        MigrationType: 'full-load-and-cdc',
        TableMappings: JSON.stringify({
          rules: [{ 'rule-type': 'selection', 'rule-id': '1', 'rule-name': '1', 'object-locator': { 'schema-name': 'ak_sumofus', 'table-name': 'core_usermailing' }, 'rule-action': 'include' }],
        }),
      }),
    );
    arn = created.ReplicationTask!.ReplicationTaskArn!;
    await waitStatus(ID, 'ready');
    loop = new DmsApplyLoop({
      db: pool,
      dms,
      task: arn,
      schema: 'ak_sumofus',
      table: 'core_usermailing',
      generator: tableGenerator(CORE_USERMAILING_COLUMNS),
      source,
      seed: 5,
      rate: 200,
      tickMs: 20,
      loadChunkRows: 400,
      loadChunkDelayMs: 120,
    });
    expect(loop.stats().source).toBe('mariadb');
    await loop.seedSource(2000);
    expect(await myCount('core_usermailing')).toBe(2000);
    expect((await pgCounts('core_usermailing')).rows).toBe(0);
    expect((await tableStats(arn, 'core_usermailing')).TableState).toBe('Before load');

    // no source writes until the load is done, so FullLoadRows must be exactly what MariaDB held
    loop.stopGenerating();
    loop.start();
    await dmsClient.send(new StartReplicationTaskCommand({ ReplicationTaskArn: arn, StartReplicationTaskType: 'start-replication' }));
    const states: string[] = [];
    const rowsSeen: number[] = [];
    const percents: number[] = [];
    await until(
      'Table completed',
      async () => {
        const s = await tableStats(arn, 'core_usermailing');
        if (states.at(-1) !== s.TableState) states.push(s.TableState!);
        if (s.TableState === 'Full load' && rowsSeen.at(-1) !== s.FullLoadRows) rowsSeen.push(s.FullLoadRows!);
        const pct = (await describeTask(ID)).ReplicationTaskStats?.FullLoadProgressPercent;
        if (pct !== undefined && percents.at(-1) !== pct) percents.push(pct);
        return s;
      },
      (s) => s.TableState === 'Table completed',
    );
    expect(states).toEqual(['Before load', 'Full load', 'Table completed']);
    // FullLoadRows moved chunk by chunk while the table was in Full load (at least two distinct in-between values)
    expect(rowsSeen.filter((n) => n > 0 && n < 2000).length).toBeGreaterThanOrEqual(2);
    expect([...rowsSeen].sort((a, b) => a - b)).toEqual(rowsSeen);
    expect(percents.some((p) => p > 0 && p < 100)).toBe(true);
    expect(percents.at(-1)).toBe(100);
    const done = await tableStats(arn, 'core_usermailing');
    expect(done.FullLoadRows).toBe(2000);
    expect(done.FullLoadReloaded).toBe(false);
    loop.resumeGenerating();

    // ongoing replication: changes written to MariaDB reach the target
    await loop.until(() => loop.stats().applied >= 100, 20_000, '100 changes applied after the full load');
    const counters = await tableStats(arn, 'core_usermailing');
    expect((counters.Inserts ?? 0) + (counters.Updates ?? 0) + (counters.Deletes ?? 0)).toBeGreaterThanOrEqual(100);
    loop.stopGenerating();
    await loop.idle();
    const v = await loop.verify();
    expect(v.summary).toMatch(/matches the source/);
    expect(v.ok).toBe(true);
    // MariaDB itself holds what the target holds (counted on each side, not by the loop)
    expect(await myCount('core_usermailing')).toBe(v.targetRows);
    expect((await pgCounts('core_usermailing')).rows).toBe(v.targetRows);
    expect(taskLog(await describeTask(ID)).some((l) => /\[SOURCE_UNLOAD\s*\]I:.*MariaDB source/.test(l))).toBe(true);
    loop.resumeGenerating();
  });

  it('binlog retention: changes older than the retention while the task was stopped are lost; every resume fails with FATAL_ERROR until reload-target copies MariaDB again', async () => {
    await dmsClient.send(new StopReplicationTaskCommand({ ReplicationTaskArn: arn }));
    await waitStatus(ID, 'stopped');
    loop.setBinlogRetention(300);
    const before = loop.stats().generated;
    await loop.until(() => loop.stats().generated >= before + 60, 20_000, '60 changes while stopped');
    await new Promise((r) => setTimeout(r, 400)); // the oldest of them is now past the retention

    await dmsClient.send(new StartReplicationTaskCommand({ ReplicationTaskArn: arn, StartReplicationTaskType: 'resume-processing' }));
    const failed = await waitStatus(ID, 'failed');
    expect(failed.StopReason).toBe('Stop Reason FATAL_ERROR');
    expect(failed.LastFailureMessage).toMatch(/^Last Error Could not find first log file name in binary log index file: .*purged \(binlog retention 300 ms\).*Stop Reason FATAL_ERROR Error Level FATAL$/);
    expect(taskLog(failed).some((l) => /\[SOURCE_CAPTURE\s*\]E:.*error 1236/.test(l))).toBe(true);
    const lost = loop.stats();
    expect(lost.lostToRetention).toBeGreaterThan(0);
    expect(lost.broken).toMatch(/reload-target/);
    expect(loop.history().some((c) => c.fate === 'failed' && /purged from the source's binlog/.test(c.error ?? ''))).toBe(true);

    // resume again: the position is still gone
    await dmsClient.send(new StartReplicationTaskCommand({ ReplicationTaskArn: arn, StartReplicationTaskType: 'resume-processing' }));
    await until('the task to fail again', () => describeTask(ID), (t) => t.Status === 'failed' && (t.ReplicationTaskStats?.StartDate ?? new Date(0)) > (failed.ReplicationTaskStats?.StartDate ?? new Date(0)));
    loop.stopGenerating();
    await loop.flushSource();
    expect((await loop.verify()).ok).toBe(false);

    // reload-target: TRUNCATE_BEFORE_LOAD and a full load from MariaDB
    loop.setBinlogRetention(undefined);
    loop.resumeGenerating();
    await dmsClient.send(new StartReplicationTaskCommand({ ReplicationTaskArn: arn, StartReplicationTaskType: 'reload-target' }));
    await waitStatus(ID, 'running');
    const reloaded = await until('Table completed after reload-target', () => tableStats(arn, 'core_usermailing'), (s) => s.TableState === 'Table completed' && s.FullLoadReloaded === true);
    expect(reloaded.FullLoadRows).toBeGreaterThan(0);
    loop.stopGenerating();
    await loop.idle();
    const v = await loop.verify();
    expect(v.summary).toMatch(/matches the source/);
    expect(loop.stats().broken).toBeUndefined();
    loop.resumeGenerating();
  });

  it('tableError: TableState Table error, changes lost until ReloadTables; then the target matches MariaDB', async () => {
    loop.injectTableError('ERROR: value too long for type character varying(16)');
    expect((await tableStats(arn, 'core_usermailing')).TableState).toBe('Table error');
    const n = loop.stats().failed;
    await loop.until(() => loop.stats().failed >= n + 20, 20_000, '20 changes lost while Table error');
    expect(taskLog(await describeTask(ID)).some((l) => /\[TASK_MANAGER\s*\]W:.*suspended: Table error/.test(l))).toBe(true);
    loop.stopGenerating();
    await loop.idle();
    expect((await loop.verify()).ok).toBe(false);
    loop.resumeGenerating();
    // the reload is seen as the console shows it ("Table is being reloaded"), then the load itself, then done
    await loop.stop({ detach: false });
    await dmsClient.send(new ReloadTablesCommand({ ReplicationTaskArn: arn, TablesToReload: [{ SchemaName: 'ak_sumofus', TableName: 'core_usermailing' }] }));
    expect((await tableStats(arn, 'core_usermailing')).TableState).toBe('Table is being reloaded');
    loop.start();
    const reloaded = await until('Table completed after ReloadTables', () => tableStats(arn, 'core_usermailing'), (s) => s.TableState === 'Table completed');
    expect(reloaded.FullLoadReloaded).toBe(true);
    loop.stopGenerating();
    await loop.idle();
    expect((await loop.verify()).summary).toMatch(/matches the source/);
    loop.resumeGenerating();
  });

  it('fatalError: the task stops with FATAL_ERROR; nothing is lost: resume-processing applies the changes from the binlog', async () => {
    loop.injectFatalError('RetCode: SQL_ERROR SqlState: 08S01 NativeError: 2013 Message: Lost connection to MySQL server during query');
    const failed = await waitStatus(ID, 'failed');
    expect(failed.StopReason).toBe('Stop Reason FATAL_ERROR');
    expect(failed.LastFailureMessage).toMatch(/^Last Error RetCode: SQL_ERROR .*Lost connection.*Stop Reason FATAL_ERROR Error Level FATAL$/);
    expect(taskLog(failed).some((l) => /\[TASK_MANAGER\s*\]E:  Task '[A-Z2-7]{26}' encountered a fatal error/.test(l))).toBe(true);
    const pending0 = loop.pendingCount();
    await loop.until(() => loop.pendingCount() >= pending0 + 20, 20_000, '20 changes pending while failed');
    await dmsClient.send(new StartReplicationTaskCommand({ ReplicationTaskArn: arn, StartReplicationTaskType: 'resume-processing' }));
    await waitStatus(ID, 'running');
    loop.stopGenerating();
    await loop.idle();
    expect((await loop.verify()).summary).toMatch(/matches the source/);
    loop.resumeGenerating();
  });

  it('replayDuplicates: the replayed inserts are duplicate rows in the target (no PK enforced); verify names them', async () => {
    loop.stopGenerating();
    await loop.idle();
    const keys = await loop.replayDuplicates(5);
    expect(keys).toHaveLength(5);
    const c = await pgCounts('core_usermailing');
    expect(c.rows - c.keys).toBe(5);
    const v = await loop.verify();
    expect(v.ok).toBe(false);
    expect(v.duplicateCount).toBe(5);
    expect([...v.duplicates].sort()).toEqual([...keys].sort());
    expect(loop.stats().replayed).toBe(5);
    expect(await myCount('core_usermailing')).toBe(c.keys);
  });
});

describe('CDC with a MariaDB source', () => {
  let loop: CdcApplyLoop;
  afterAll(async () => {
    await loop?.stop();
  });

  it('buffers while the table is missing; an outage longer than the binlog retention breaks the table until reload(), which creates it if needed and copies MariaDB', async () => {
    loop = new CdcApplyLoop({
      db: pool,
      schema: 'ak_sumofus',
      table: 'core_list',
      generator: tableGenerator([
        { name: 'id', type: 'integer', notNull: true },
        { name: 'created_at', type: 'datetime', notNull: true },
        { name: 'updated_at', type: 'datetime', notNull: true },
        { name: 'hidden', type: 'boolean', notNull: true },
        { name: 'name', type: 'varchar(765)', notNull: true },
      ]),
      source,
      seed: 9,
      rate: 200,
      tickMs: 20,
    });
    // the table does not exist yet: the service creates it on the first reload (its shape: no keys)
    await loop.seedSource(300);
    expect(await loop.reload()).toBe(300);
    loop.start();
    await loop.until(() => loop.stats().applied >= 50, 20_000, '50 changes applied');

    // missing target: changes buffer, nothing is lost
    await pool.query('ALTER TABLE ak_sumofus.core_list RENAME TO core_list_away');
    await loop.until(() => loop.stats().missingSince !== undefined && loop.pendingCount() >= 30, 20_000, '30 changes buffered');
    await pool.query('ALTER TABLE ak_sumofus.core_list_away RENAME TO core_list');
    loop.stopGenerating();
    await loop.idle();
    let v = await loop.verify();
    expect(v.summary).toMatch(/matches the source/);
    expect(loop.stats().failed).toBe(0);
    // MariaDB stores booleans as tinyint(1); the loop reads them back as true/false and the target matches
    const [b] = await my.query<RowDataPacket[]>('SELECT COLUMN_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?', ['core_list', 'hidden']);
    expect(String(b[0]!.t)).toBe('tinyint(1)');

    // outage longer than the retention
    loop.resumeGenerating();
    loop.setBinlogRetention(300);
    loop.setOutage(true);
    const g = loop.stats().generated;
    await loop.until(() => loop.stats().generated >= g + 40, 20_000, '40 changes during the outage');
    await new Promise((r) => setTimeout(r, 400));
    loop.setOutage(false);
    await loop.until(() => loop.stats().broken !== undefined, 20_000, 'the table to be broken');
    expect(loop.stats().broken).toMatch(/purged from the source's binlog \(retention 300 ms\).*reload the table from the CDC service's dashboard/);
    expect(loop.stats().lostToRetention).toBeGreaterThan(0);
    loop.stopGenerating();
    await loop.idle();
    expect((await loop.verify()).ok).toBe(false);

    // the reload, as requested on the service's dashboard, after the table was dropped by accident
    loop.setBinlogRetention(undefined);
    await pool.query('DROP TABLE ak_sumofus.core_list');
    const rows = await loop.reload();
    expect(rows).toBe(await myCount('core_list'));
    expect(loop.stats().broken).toBeUndefined();
    loop.resumeGenerating();
    const a = loop.stats().applied;
    await loop.until(() => loop.stats().applied >= a + 20, 20_000, '20 changes applied after the reload');
    loop.stopGenerating();
    await loop.idle();
    v = await loop.verify();
    expect(v.summary).toMatch(/matches the source/);
  });
});

describe('adopting a target that already has rows (startReplication adopts by default)', () => {
  it('the target rows become the MariaDB source rows (booleans as PostgreSQL prints them included); verify matches', async () => {
    await pool.query('CREATE TABLE ak_sumofus.core_tag (id integer NOT NULL, hidden boolean NOT NULL, name varchar(765), created_at timestamp NOT NULL)');
    await pool.query(
      "INSERT INTO ak_sumofus.core_tag SELECT g, g % 2 = 0, 'tag' || g, timestamp '2026-01-02 03:04:05' + g * interval '1 minute' FROM generate_series(1, 120) g",
    );
    const loop = new CdcApplyLoop({
      db: pool,
      schema: 'ak_sumofus',
      table: 'core_tag',
      generator: tableGenerator([
        { name: 'id', type: 'integer', notNull: true },
        { name: 'hidden', type: 'boolean', notNull: true },
        { name: 'name', type: 'varchar(765)' },
        { name: 'created_at', type: 'datetime', notNull: true },
      ]),
      source,
      seed: 4,
      rate: 100,
      tickMs: 20,
    });
    try {
      expect(await loop.adoptExisting()).toBe(120);
      expect(await myCount('core_tag')).toBe(120);
      const [h] = await my.query<RowDataPacket[]>('SELECT sum(hidden) AS n FROM core_tag');
      expect(Number(h[0]!.n)).toBe(60);
      loop.start();
      await loop.until(() => loop.stats().applied >= 30, 20_000, '30 changes applied');
      loop.stopGenerating();
      await loop.idle();
      expect((await loop.verify()).summary).toMatch(/matches the source/);
    } finally {
      await loop.stop();
    }
  });
});
