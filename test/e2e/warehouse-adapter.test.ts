/**
 * RedshiftDataWarehouse over the real AWS SDK client (built by createWarehouse from config) → the loopback sandbox's Data
 * API → PostgreSQL: errors carry PostgreSQL's text, batches are one transaction, results are paginated, throttling is
 * retried, statements can be cancelled, and the catalog reader sees what svv_table_info shows and what it leaves out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { readTableInfo, tableStats } from '../../src/schema/catalog.js';
import { WarehouseError } from '../../src/warehouse/port.js';
import { createWarehouse, type RedshiftDataWarehouse } from '../../src/warehouse/redshift-data.js';
import { withSandbox } from '../support/sandbox.js';

const PAGE = 7;

describe('RedshiftDataWarehouse on the PostgreSQL sandbox', () => {
  const sb = withSandbox('postgres', { purpose: 'wh_adapter', pageSize: PAGE });
  let wh: RedshiftDataWarehouse;

  beforeAll(() => {
    // exactly what the CLI does: environment → config → adapter (no AWS credentials in env: loopback placeholders)
    const env = { AWS_ENDPOINT_URL: sb.sandbox.endpoint, REDSHIFT_CLUSTER_ID: 'sandbox-cluster', REDSHIFT_DB_USER: 'awsuser' };
    const config = loadConfig(env);
    wh = createWarehouse({ warehouse: config.warehouse!, aws: config.aws }, { env, retry: { baseMs: 2, maxMs: 20 } });
  });
  afterAll(() => wh?.close());

  it('runs a query with bound parameters and converts every value kind', async () => {
    const r = await wh.query(
      `SELECT :n::int + 1 AS n1, :s::varchar AS s, :b::boolean AS b, 2.5::float8 AS f, 12.30::numeric(10,2) AS money,
              NULL::int AS nothing, 9007199254740993::bigint AS big, '2024-05-06 07:08:09'::timestamp AS ts`,
      { n: 41, s: "o'neil; DROP TABLE x", b: true },
    );
    expect(r.columns).toEqual(['n1', 's', 'b', 'f', 'money', 'nothing', 'big', 'ts']);
    expect(r.rows).toEqual([
      { n1: 42, s: "o'neil; DROP TABLE x", b: true, f: 2.5, money: '12.30', nothing: null, big: '9007199254740993', ts: '2024-05-06 07:08:09' },
    ]);
    expect(wh.stats.lastWait).toMatchObject({ status: 'FINISHED' });
    expect(wh.stats.lastWait!.polls).toBeGreaterThanOrEqual(1);
  });

  it('a FAILED statement surfaces PostgreSQL’s error text, the statement id and the SQL', async () => {
    const sql = 'SELECT id FROM no_such_table_here';
    const err = await wh.execute(sql).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WarehouseError);
    const we = err as WarehouseError;
    expect(we.status).toBe('FAILED');
    expect(we.message).toContain('relation "no_such_table_here" does not exist');
    expect(we.statementId).toMatch(/^[0-9a-f-]{36}$/);
    expect(we.sql).toBe(sql);
    const d = await wh.describe(we.statementId!);
    expect(d).toMatchObject({ status: 'FAILED', error: expect.stringContaining('no_such_table_here') });
  });

  it('a batch is one transaction: a failing statement rolls back the ones before it', async () => {
    const bad = await wh
      .executeBatch(['CREATE TABLE public.batch_t (id int)', 'INSERT INTO public.batch_t VALUES (1)', 'INSERT INTO public.batch_t VALUES (1/0)'])
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(WarehouseError);
    expect((bad as WarehouseError).message).toMatch(/division by zero/);
    expect((bad as WarehouseError).message).toMatch(/:3 of the batch/);
    expect((bad as WarehouseError).sql).toBe('INSERT INTO public.batch_t VALUES (1/0)');
    expect((await sb.sandbox.sql(`select to_regclass('public.batch_t') as t`)).rows[0]!.t).toBeNull();

    const ok = await wh.executeBatch(['CREATE TABLE public.batch_t (id int)', 'INSERT INTO public.batch_t VALUES (1), (2)', 'SELECT count(*) AS n FROM public.batch_t']);
    expect(ok.status).toBe('FINISHED');
    expect(ok.subStatements?.map((s) => s.id)).toEqual([1, 2, 3].map((n) => `${ok.id}:${n}`));
    expect(ok.subStatements?.[1]?.resultRows).toBe(2);
    expect((await wh.fetch(ok.subStatements![2]!.id)).rows).toEqual([{ n: 2 }]);
  });

  it('follows GetStatementResult pagination to the last row', async () => {
    const before = wh.stats.calls;
    const r = await wh.query('SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 100) g ORDER BY g');
    expect(r.rows).toHaveLength(100);
    expect(r.rows.map((x) => x.id)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // ExecuteStatement + ≥1 DescribeStatement + ceil(100 / 7) = 15 pages
    expect(wh.stats.calls - before).toBeGreaterThanOrEqual(2 + Math.ceil(100 / PAGE));
    expect((await wh.query('SELECT 1 AS one WHERE false')).rows).toEqual([]);
  });

  it('retries throttled calls (sandbox fault knob) and counts them', async () => {
    const s0 = { ...wh.stats };
    sb.sandbox.faults.throttleNext = 4;
    const r = await wh.query('SELECT 7 AS seven');
    expect(r.rows).toEqual([{ seven: 7 }]);
    expect(sb.sandbox.faults.throttleNext).toBe(0);
    expect(wh.stats.throttled - s0.throttled).toBe(4);
    expect(wh.stats.retries - s0.retries).toBe(4);
  });

  it('gives up on endless throttling with a readable error', async () => {
    const impatient = createWarehouse(
      { warehouse: { target: { kind: 'provisioned', clusterId: 'sandbox-cluster', dbUser: 'awsuser' }, database: 'dev' }, aws: { region: 'us-west-2', endpoint: sb.sandbox.endpoint } },
      { env: {}, retry: { maxRetries: 2, baseMs: 1, maxMs: 2 } },
    );
    sb.sandbox.faults.throttleNext = 10;
    try {
      await expect(impatient.submit('SELECT 1')).rejects.toThrow(/ExecuteStatement failed \(gave up after 3 attempts\): ThrottlingException/);
    } finally {
      sb.sandbox.faults.throttleNext = 0;
      impatient.close();
    }
  });

  it('cancels a running statement: wait then reports ABORTED', async () => {
    const id = await wh.submit('SELECT pg_sleep(30)', undefined, { name: 'test cancel' });
    for (let i = 0; (await wh.describe(id)).status !== 'STARTED'; i++) {
      if (i > 500) throw new Error('statement never started');
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await wh.cancel(id)).toBe(true);
    const err = await wh.wait(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as WarehouseError).status).toBe('ABORTED');
    // cancelling an ended statement is "not cancelled", not an error
    expect(await wh.cancel(id)).toBe(false);
  });

  it('a wait can be aborted without cancelling the statement', async () => {
    sb.sandbox.faults.statementDelayMs = 400;
    try {
      const id = await wh.submit('SELECT 1 AS one');
      const ac = new AbortController();
      const p = wh.wait(id, { signal: ac.signal });
      setTimeout(() => ac.abort(new Error('job paused')), 30);
      await expect(p).rejects.toThrow('job paused');
      // the statement itself goes on and can be picked up again (a resumed job waits on the recorded id)
      const info = await wh.wait(id);
      expect(info.status).toBe('FINISHED');
      expect((await wh.fetch(id)).rows).toEqual([{ one: 1 }]);
    } finally {
      sb.sandbox.faults.statementDelayMs = 0;
    }
  });

  it('refuses parameters the Data API cannot bind, before sending', async () => {
    const calls = wh.stats.calls;
    await expect(wh.submit('SELECT :v', { v: null })).rejects.toThrow(/cannot bind NULL/);
    expect(wh.stats.calls).toBe(calls);
  });

  it('catalog: svv_table_info leaves empty tables out; the reader falls back, and says what it could not tell', async () => {
    await wh.executeBatch([
      'CREATE SCHEMA IF NOT EXISTS cat_t',
      'CREATE TABLE cat_t.even_t (id int NOT NULL ENCODE az64, name varchar(20) DEFAULT \'x\' ENCODE zstd) DISTSTYLE EVEN COMPOUND SORTKEY (id)',
      'CREATE TABLE cat_t.key_t (id int, v varchar(max)) DISTKEY (id) INTERLEAVED SORTKEY (id, v)',
      'CREATE TABLE cat_t.auto_t (id bigint)',
    ]);
    const even = await readTableInfo(wh, 'cat_t', 'even_t');
    expect(even?.unknown).toEqual(['diststyle']);
    expect(even?.table).toMatchObject({
      columns: [
        { name: 'id', type: 'integer', notNull: true, encode: 'az64' },
        { name: 'name', type: 'varchar(20)', notNull: false, default: "'x'", encode: 'zstd' },
      ],
      sortKey: { style: 'COMPOUND', columns: ['id'] },
    });
    const key = await readTableInfo(wh, 'cat_t', 'key_t');
    expect(key).toMatchObject({ unknown: [], table: { distStyle: 'KEY', distKey: 'id', sortKey: { style: 'INTERLEAVED', columns: ['id', 'v'] } } });
    expect(key?.table.columns[1]?.type).toBe('varchar(65535)');
    expect((await readTableInfo(wh, 'cat_t', 'auto_t'))?.unknown).toEqual(['diststyle', 'sortstyle']);

    await wh.executeBatch(["INSERT INTO cat_t.even_t (id) VALUES (1)", 'INSERT INTO cat_t.auto_t VALUES (1)']);
    expect(await readTableInfo(wh, 'cat_t', 'even_t')).toMatchObject({ unknown: [], table: { distStyle: 'EVEN' } });
    expect(await readTableInfo(wh, 'cat_t', 'auto_t')).toMatchObject({ unknown: [], table: { distStyle: 'AUTO', sortKey: { style: 'AUTO' } } });

    const stats = await tableStats(wh, 'cat_t');
    expect(stats.map((s) => [s.table, s.rows, s.listed])).toEqual([
      ['auto_t', 1, true],
      ['even_t', 1, true],
      ['key_t', 0, false],
    ]);
    expect(stats[1]).toMatchObject({ distStyle: 'EVEN', sortKey1: 'id' });
  });
});
