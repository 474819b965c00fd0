/**
 * The Redshift Data API sandbox end to end: the real @aws-sdk/client-redshift-data client → sandbox HTTP → PostgreSQL
 * (a database of this file's own) and, with the same tests, → embedded PGlite.
 */
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  ListStatementsCommand,
} from '@aws-sdk/client-redshift-data';
import { describe, expect, it } from 'vitest';
import { type SandboxBackend, TARGET, waitDone, waitStatus, withSandbox } from '../support/sandbox.js';

const CORE_PAGE_DDL = `
-- ActionKit's core_page as it is declared on Redshift
CREATE TABLE IF NOT EXISTS ak_sumofus.core_page (
    id integer NOT NULL ENCODE az64,
    created_at datetime NOT NULL ENCODE az64,
    updated_at datetime NOT NULL ENCODE az64,
    hidden smallint NOT NULL ENCODE az64,
    title varchar(765) NOT NULL ENCODE lzo,
    name varchar(765) NOT NULL ENCODE lzo,
    notes varchar(765) DEFAULT '''' ENCODE lzo,
    type varchar(765) NOT NULL ENCODE lzo,
    lang_id integer DEFAULT NULL ENCODE az64,
    "limit" integer,
    body varchar(max) ENCODE zstd,
    list_id integer NOT NULL ENCODE az64 REFERENCES ak_sumofus.core_list (id),
    PRIMARY KEY (id),
    UNIQUE (name)
)
DISTSTYLE KEY
DISTKEY (id)
INTERLEAVED SORTKEY (id, created_at, lang_id, type, title);`;

const backends: SandboxBackend[] = ['postgres', 'pglite'];

describe.each(backends)('Redshift Data API sandbox on %s', (backend) => {
  const sb = withSandbox(backend, { pageSize: 1000, purpose: 'dataapi' });

  it('runs a statement asynchronously and returns typed fields and column metadata', async () => {
    const { Id, CreatedAt } = await sb.client.send(
      new ExecuteStatementCommand({
        ...TARGET,
        Sql: `select 42 as i, 9007199254740993::bigint as big, 12.50::numeric(10,2) as n, 2.5::float8 as f, true as b,
                     null::int as z, 'hé'::varchar(10) as v, '2024-03-01 10:20:30'::timestamp as ts, '2024-03-01'::date as d`,
      }),
    );
    expect(Id).toMatch(/^[0-9a-f-]{36}$/);
    expect(CreatedAt).toBeInstanceOf(Date);
    const d = await waitDone(sb.client, Id!);
    expect(d.Status).toBe('FINISHED');
    expect(d.HasResultSet).toBe(true);
    expect(d.ResultRows).toBe(1);
    expect(d.Duration).toBeGreaterThan(0);
    expect(d.RedshiftPid).toBeGreaterThan(0);
    expect(d.UpdatedAt).toBeInstanceOf(Date);
    const r = await sb.client.send(new GetStatementResultCommand({ Id }));
    expect(r.TotalNumRows).toBe(1);
    expect(r.Records?.[0]).toEqual([
      { longValue: 42 },
      { stringValue: '9007199254740993' },
      { stringValue: '12.50' },
      { doubleValue: 2.5 },
      { booleanValue: true },
      { isNull: true },
      { stringValue: 'hé' },
      { stringValue: '2024-03-01 10:20:30' },
      { stringValue: '2024-03-01' },
    ]);
    expect(r.ColumnMetadata?.map((c) => c.typeName)).toEqual(['int4', 'int8', 'numeric', 'float8', 'bool', 'int4', 'varchar', 'timestamp', 'date']);
    expect(r.ColumnMetadata?.map((c) => c.name)).toEqual(['i', 'big', 'n', 'f', 'b', 'z', 'v', 'ts', 'd']);
  });

  it('pages 2,500 rows 1,000 at a time with NextToken', async () => {
    await sb.run('create table paging (id integer not null, label varchar(20))');
    await sb.run(`insert into paging select g, 'row ' || g from generate_series(1, 2500) g`);
    const d = await sb.run('select id, label from paging order by id');
    expect(d.ResultRows).toBe(2500);
    const first = await sb.client.send(new GetStatementResultCommand({ Id: d.Id }));
    expect(first.Records).toHaveLength(1000);
    expect(first.TotalNumRows).toBe(2500);
    expect(first.NextToken).toBeTruthy();
    const all = await sb.rows(d.Id!);
    expect(all.pages).toBe(3);
    expect(all.rows).toHaveLength(2500);
    expect(all.rows[0]).toEqual({ id: 1, label: 'row 1' });
    expect(all.rows[2499]).toEqual({ id: 2500, label: 'row 2500' });
    expect(new Set(all.rows.map((r) => r.id)).size).toBe(2500);
    await expect(sb.client.send(new GetStatementResultCommand({ Id: d.Id, NextToken: 'not-a-token' }))).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('binds named parameters as values, never as SQL', async () => {
    await sb.run('create table victims (id integer, note varchar(200))');
    const evil = "x'; drop table victims; --";
    await sb.run('insert into victims (id, note) values (:id, :note)', { id: '7', note: evil });
    const rows = await sb.query(
      `select note, :id::int + 1 as next_id, ':id' as literal, "note" as "col:id" /* :id */ from victims where id = :id -- :id`,
      { id: '7' },
    );
    expect(rows).toEqual([{ note: evil, next_id: 8, literal: ':id', 'col:id': evil }]);
    // a parameter the SQL uses but the call does not give is refused up front
    await expect(
      sb.client.send(new ExecuteStatementCommand({ ...TARGET, Sql: 'select * from victims where id = :missing' })),
    ).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining(':missing') });
  });

  it('runs a batch as one transaction: a failing statement rolls back the ones before it', async () => {
    await sb.run('create table batch_t (a integer)');
    const failed = await sb.batch(['insert into batch_t values (1)', 'insert into no_such_table values (2)', 'insert into batch_t values (3)'], { expect: 'FAILED' });
    expect(failed.Error).toContain('relation "no_such_table" does not exist');
    expect(failed.SubStatements?.map((s) => s.Status)).toEqual(['FINISHED', 'FAILED', 'ABORTED']);
    expect(failed.SubStatements?.[1]?.Id).toBe(`${failed.Id}:2`);
    expect(await sb.query('select count(*) as n from batch_t')).toEqual([{ n: 0 }]);

    const ok = await sb.batch(['insert into batch_t values (1), (2)', 'select a from batch_t order by a', 'select count(*) as n from batch_t']);
    expect(ok.SubStatements?.map((s) => s.Status)).toEqual(['FINISHED', 'FINISHED', 'FINISHED']);
    expect(ok.SubStatements?.[0]?.ResultRows).toBe(2);
    expect((await sb.rows(`${ok.Id}:2`)).rows).toEqual([{ a: 1 }, { a: 2 }]);
    expect((await sb.rows(`${ok.Id}:3`)).rows).toEqual([{ n: 2 }]);
    await expect(sb.client.send(new GetStatementResultCommand({ Id: ok.Id }))).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('ends FAILED with the database error text', async () => {
    const d = await sb.run('select * from does_not_exist', undefined, { expect: 'FAILED' });
    expect(d.Error).toMatch(/^ERROR: relation "does_not_exist" does not exist/);
    await expect(sb.client.send(new GetStatementResultCommand({ Id: d.Id }))).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('cancels a running pg_sleep(10): ABORTED', async () => {
    const { Id } = await sb.client.send(new ExecuteStatementCommand({ ...TARGET, Sql: 'select pg_sleep(10)' }));
    await waitStatus(sb.client, Id!, 'STARTED');
    const c = await sb.client.send(new CancelStatementCommand({ Id }));
    expect(c.Status).toBe(true);
    const d = await waitDone(sb.client, Id!, 8000);
    expect(d.Status).toBe('ABORTED');
    expect(d.Error).toContain('cancelled');
    await expect(sb.client.send(new CancelStatementCommand({ Id }))).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('returns the same statement for a repeated ClientToken', async () => {
    await sb.run('create table idem (a integer)');
    const token = `tok-${backend}-${Date.now()}`;
    const one = await sb.client.send(new ExecuteStatementCommand({ ...TARGET, Sql: 'insert into idem values (1)', ClientToken: token }));
    const two = await sb.client.send(new ExecuteStatementCommand({ ...TARGET, Sql: 'insert into idem values (1)', ClientToken: token }));
    expect(two.Id).toBe(one.Id);
    await waitDone(sb.client, one.Id!);
    expect(await sb.query('select count(*) as n from idem')).toEqual([{ n: 1 }]);
  });

  it('lists statements by name prefix and status, newest first, with paging', async () => {
    const prefix = `job-${backend}-list`;
    await sb.run('select 1', undefined, { name: `${prefix} step a` });
    await sb.run('select 2', undefined, { name: `${prefix} step b` });
    await sb.run('select * from nope_list', undefined, { name: `${prefix} step c`, expect: 'FAILED' });
    const all = await sb.client.send(new ListStatementsCommand({ StatementName: prefix }));
    expect(all.Statements?.map((s) => s.StatementName)).toEqual([`${prefix} step c`, `${prefix} step b`, `${prefix} step a`]);
    expect(all.Statements?.[2]?.QueryString).toBe('select 1');
    const failed = await sb.client.send(new ListStatementsCommand({ StatementName: prefix, Status: 'FAILED' }));
    expect(failed.Statements?.map((s) => s.StatementName)).toEqual([`${prefix} step c`]);
    const page1 = await sb.client.send(new ListStatementsCommand({ StatementName: prefix, MaxResults: 2 }));
    expect(page1.Statements).toHaveLength(2);
    const page2 = await sb.client.send(new ListStatementsCommand({ StatementName: prefix, MaxResults: 2, NextToken: page1.NextToken }));
    expect(page2.Statements?.map((s) => s.StatementName)).toEqual([`${prefix} step a`]);
    expect(page2.NextToken).toBeUndefined();
  });

  it('throttles the next n calls, from the object or over HTTP', async () => {
    sb.sandbox.faults.throttleNext = 2;
    const call = (): Promise<unknown> => sb.client.send(new ListStatementsCommand({ MaxResults: 1 }));
    await expect(call()).rejects.toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    await expect(call()).rejects.toMatchObject({ name: 'ThrottlingException' });
    await expect(call()).resolves.toBeTruthy();

    const res = await fetch(`${sb.sandbox.endpoint}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ throttleNext: 1 }) });
    expect(res.status).toBe(200);
    await expect(call()).rejects.toMatchObject({ name: 'ThrottlingException' });
    await expect(call()).resolves.toBeTruthy();
    const bad = await fetch(`${sb.sandbox.endpoint}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ throttleNext: -1 }) });
    expect(bad.status).toBe(400);
  });

  it('fails matching statements on request (failStatements knob)', async () => {
    sb.sandbox.faults.failStatements = [{ match: '/insert into\\s+knob_t/i', error: 'ERROR: Disk Full', times: 1 }];
    await sb.run('create table knob_t (a integer)');
    const d = await sb.run('INSERT INTO knob_t values (1)', undefined, { expect: 'FAILED' });
    expect(d.Error).toBe('ERROR: Disk Full');
    await sb.run('insert into knob_t values (2)');
    expect(await sb.query('select a from knob_t')).toEqual([{ a: 2 }]);
    expect(sb.sandbox.faults.failStatements).toEqual([]);
  });

  it('accepts real Redshift DDL and shows dist/sort/encoding in pg_table_def and svv_table_info', async () => {
    await sb.run('create schema ak_sumofus');
    await sb.run(CORE_PAGE_DDL);
    const defs = await sb.query(
      `set search_path to ak_sumofus; select "column", type, trim(encoding) as encoding, distkey, sortkey, "notnull" from pg_table_def where tablename = 'core_page'`,
    );
    const byName = Object.fromEntries(defs.map((r) => [r.column as string, r]));
    expect(Object.keys(byName)).toHaveLength(12);
    expect(byName.id).toEqual({ column: 'id', type: 'integer', encoding: 'az64', distkey: true, sortkey: -1, notnull: true });
    expect(byName.created_at).toMatchObject({ type: 'timestamp without time zone', sortkey: 2, distkey: false });
    expect(byName.lang_id).toMatchObject({ sortkey: -3, notnull: false });
    expect(byName.type).toMatchObject({ sortkey: 4, type: 'character varying(765)', encoding: 'lzo' });
    expect(byName.title).toMatchObject({ sortkey: -5 });
    expect(byName.limit).toMatchObject({ type: 'integer', encoding: 'none', sortkey: 0 });
    expect(byName.body).toMatchObject({ type: 'character varying(65535)', encoding: 'zstd' });
    expect(byName.notes).toMatchObject({ notnull: false, encoding: 'lzo' });

    // the default '''' is a single quote; PRIMARY KEY and UNIQUE are not enforced, as on Redshift
    const ins = `insert into ak_sumofus.core_page (id, created_at, updated_at, hidden, title, name, type, "limit", list_id)
                 values (1, getdate(), sysdate, 0, 't', 'same', 'x', 5, 99)`;
    await sb.run(ins);
    await sb.run(ins);
    expect(await sb.query(`select count(*) as n, min(notes) as notes from ak_sumofus.core_page where id = 1`)).toEqual([{ n: 2, notes: "'" }]);

    const info = await sb.query(`select "schema", "table", encoded, diststyle, sortkey1, sortkey_num, tbl_rows, size from svv_table_info where "table" = 'core_page'`);
    expect(info).toEqual([{ schema: 'ak_sumofus', table: 'core_page', encoded: 'Y', diststyle: 'KEY(id)', sortkey1: 'id', sortkey_num: 5, tbl_rows: '2', size: 1 }]);
    const cons = await sb.query(`select kind, columns, ref_table, ref_columns from svv_sandbox_constraints where "table" = 'core_page' order by kind`);
    expect(cons).toEqual([
      { kind: 'f', columns: 'list_id', ref_table: 'core_list', ref_columns: 'id' },
      { kind: 'p', columns: 'id', ref_table: null, ref_columns: null },
      { kind: 'u', columns: 'name', ref_table: null, ref_columns: null },
    ]);
  });

  it('keeps the metadata through RENAME, copies it with CREATE TABLE LIKE, and changes it with ALTER DISTKEY', async () => {
    await sb.run(`create table ak_sumofus.swap_src (id integer not null encode az64, email varchar(255) encode zstd, created_at timestamp)
                  diststyle key distkey(id) compound sortkey(created_at, id)`);
    await sb.run(`insert into ak_sumofus.swap_src values (1, 'a@x', '2024-01-01'), (2, 'b@x', '2024-01-02')`);
    await sb.batch(['alter table ak_sumofus.swap_src rename to swapped', 'alter table ak_sumofus.swapped rename column email to mail']);
    const defs = await sb.query(
      `set search_path to ak_sumofus; select "column", trim(encoding) as encoding, distkey, sortkey from pg_table_def where tablename = 'swapped' order by sortkey desc, "column"`,
    );
    expect(defs).toEqual([
      { column: 'id', encoding: 'az64', distkey: true, sortkey: 2 },
      { column: 'created_at', encoding: 'none', distkey: false, sortkey: 1 },
      { column: 'mail', encoding: 'zstd', distkey: false, sortkey: 0 },
    ]);

    await sb.run('create table ak_sumofus.swapped_copy (like ak_sumofus.swapped)');
    const copy = await sb.query(`select diststyle, sortkey1, sortkey_num from svv_table_info where "table" = 'swapped'`);
    expect(copy).toEqual([{ diststyle: 'KEY(id)', sortkey1: 'created_at', sortkey_num: 2 }]);
    const likeDefs = await sb.query(
      `set search_path to ak_sumofus; select "column", trim(encoding) as encoding, distkey, sortkey, "notnull" from pg_table_def where tablename = 'swapped_copy' order by "column"`,
    );
    expect(likeDefs).toEqual([
      { column: 'created_at', encoding: 'none', distkey: false, sortkey: 1, notnull: false },
      { column: 'id', encoding: 'az64', distkey: true, sortkey: 2, notnull: true },
      { column: 'mail', encoding: 'zstd', distkey: false, sortkey: 0, notnull: false },
    ]);

    // the copy is empty, so svv_table_info leaves it out, as Redshift does
    expect(await sb.query(`select count(*) as n from svv_table_info where "table" = 'swapped_copy'`)).toEqual([{ n: 0 }]);

    await sb.run('alter table ak_sumofus.swapped alter distkey mail');
    await sb.run('alter table ak_sumofus.swapped alter column created_at encode az64');
    expect(await sb.query(`select diststyle, encoded from svv_table_info where "table" = 'swapped'`)).toEqual([{ diststyle: 'KEY(mail)', encoded: 'Y' }]);
    await sb.run('alter table ak_sumofus.swapped alter diststyle even, alter sortkey none');
    expect(await sb.query(`select diststyle, sortkey1, sortkey_num from svv_table_info where "table" = 'swapped'`)).toEqual([{ diststyle: 'EVEN', sortkey1: null, sortkey_num: 0 }]);
  });

  it('refuses ALTER COLUMN TYPE inside a transaction block, and widens a VARCHAR outside one', async () => {
    await sb.run('create table ak_sumofus.widen (id integer, email varchar(10) encode lzo)');
    const inBatch = await sb.batch(['insert into ak_sumofus.widen values (1, \'a\')', 'alter table ak_sumofus.widen alter column email type varchar(100)'], { expect: 'FAILED' });
    expect(inBatch.Error).toContain('ALTER TABLE ALTER COLUMN cannot run inside a transaction block');
    expect(await sb.query('select count(*) as n from ak_sumofus.widen')).toEqual([{ n: 0 }]);
    await sb.run('alter table ak_sumofus.widen alter column email type varchar(100)');
    const t = await sb.query(`set search_path to ak_sumofus; select type, trim(encoding) as encoding from pg_table_def where tablename = 'widen' and "column" = 'email'`);
    expect(t).toEqual([{ type: 'character varying(100)', encoding: 'lzo' }]);
    const notVarchar = await sb.run('alter table ak_sumofus.widen alter column id type varchar(5)', undefined, { expect: 'FAILED' });
    expect(notVarchar.Error).toContain('only changes the size of a VARCHAR column');
  });

  it('moves rows with ALTER TABLE APPEND and reports disk capacity from the fault knob', async () => {
    await sb.run('create table ak_sumofus.app_target (id integer not null, v varchar(10))');
    await sb.run('create table ak_sumofus.app_source (id integer not null, v varchar(10))');
    await sb.run(`insert into ak_sumofus.app_source values (1, 'a'), (2, 'b')`);
    await sb.run('alter table ak_sumofus.app_target append from ak_sumofus.app_source');
    expect(await sb.query('select count(*) as n from ak_sumofus.app_target')).toEqual([{ n: 2 }]);
    expect(await sb.query('select count(*) as n from ak_sumofus.app_source')).toEqual([{ n: 0 }]);

    sb.sandbox.faults.diskCapacityMb = 3;
    const [part] = await sb.query('select capacity, used from stv_partitions');
    expect(part?.capacity).toBe(3);
    expect(part?.used).toBeGreaterThanOrEqual(1);
    sb.sandbox.faults.diskCapacityMb = 1_000_000;
  });

  it("system-view visibility as on Redshift: superuser-only views show a regular user no rows unless granted; Serverless has no STV tables", async () => {
    const patch = (body: unknown) => fetch(`${sb.sandbox.endpoint}/_sandbox/faults`, { method: 'POST', body: JSON.stringify(body) });
    await sb.run('create table vis_t (a integer)');
    await sb.run('insert into vis_t values (1)');
    const visible = async () => ({
      stv: (await sb.query('select count(*) as n from stv_partitions'))[0]?.n,
      svv: Number((await sb.query('select count(*) as n from svv_table_info'))[0]?.n) > 0,
    });
    expect(await visible()).toEqual({ stv: 1, svv: true });
    expect((await patch({ catalogUser: 'regular' })).status).toBe(200);
    try {
      expect(await visible()).toEqual({ stv: 0, svv: false });
      expect(await sb.query('select sum(capacity) as capacity from stv_partitions')).toEqual([{ capacity: null }]);
      expect((await patch({ catalogGrants: ['svv_table_info'] })).status).toBe(200);
      expect(await visible()).toEqual({ stv: 0, svv: true });
      expect((await patch({ catalogGrants: ['nope'] })).status).toBe(400);
    } finally {
      await patch({ catalogUser: 'superuser', catalogGrants: [] });
    }
    expect(await visible()).toEqual({ stv: 1, svv: true });
    // a statement for a Serverless workgroup finds no stv_partitions; svv_table_info is there
    const serverless = async (sql: string) => {
      const { Id } = await sb.client.send(new ExecuteStatementCommand({ Sql: sql, WorkgroupName: 'sandbox-wg', Database: 'dev' }));
      return waitDone(sb.client, Id!);
    };
    const stv = await serverless('select sum(capacity) from stv_partitions');
    expect(stv.Status).toBe('FAILED');
    expect(stv.Error).toMatch(/relation "stv_partitions" does not exist/);
    expect((await serverless('select count(*) from svv_table_info')).Status).toBe('FINISHED');
  });

  if (backend === 'postgres')
    it("a statement_timeout ends FAILED with Redshift's text, not PostgreSQL's (a CancelStatement stays ABORTED)", async () => {
      const d = await sb.run('set statement_timeout to 50; select pg_sleep(5)', undefined, { expect: 'FAILED' });
      expect(d.Error).toMatch(/^ERROR: Query \(\d+\) canceled on user's request$/);
      const { Id } = await sb.client.send(new BatchExecuteStatementCommand({ ...TARGET, Sqls: ['select 1', 'set statement_timeout to 50', 'select pg_sleep(5)'] }));
      const b = await waitDone(sb.client, Id!);
      expect(b.Status).toBe('FAILED');
      expect(b.SubStatements?.map((x) => x.Status)).toEqual(['FINISHED', 'FINISHED', 'FAILED']);
      expect(b.SubStatements?.[2]?.Error).toMatch(/^ERROR: Query \(\d+\) canceled on user's request$/);
      expect(b.Error).toMatch(/^Query #3 failed with ERROR: Query \(\d+\) canceled on user's request$/);
    });

  it('holds statements in STARTED with statementDelayMs; a cancel during the wait aborts without running', async () => {
    await sb.run('create table delayed_t (a integer)');
    sb.sandbox.faults.statementDelayMs = 20_000;
    try {
      const { Id } = await sb.client.send(new ExecuteStatementCommand({ ...TARGET, Sql: 'insert into delayed_t values (1)' }));
      await waitStatus(sb.client, Id!, 'STARTED');
      await sb.client.send(new CancelStatementCommand({ Id }));
      expect((await waitDone(sb.client, Id!, 5000)).Status).toBe('ABORTED');
    } finally {
      sb.sandbox.faults.statementDelayMs = 0;
    }
    expect(await sb.sandbox.sql('select count(*) as n from delayed_t')).toEqual({ rows: [{ n: 0 }] });
  });

  it('commits the open transaction at TRUNCATE, as Redshift does, even inside a batch', async () => {
    await sb.run('create table trunc_a (a integer)');
    await sb.run('create table trunc_b (b integer)');
    await sb.run('insert into trunc_b values (1)');
    const d = await sb.batch(['insert into trunc_a values (1)', 'truncate trunc_b', 'insert into trunc_a values (2)', 'insert into no_such_table values (3)'], { expect: 'FAILED' });
    expect(d.SubStatements?.map((s) => s.Status)).toEqual(['FINISHED', 'FINISHED', 'FINISHED', 'FAILED']);
    // the first insert was committed by TRUNCATE; the one after it rolled back with the failure
    expect(await sb.query('select a from trunc_a')).toEqual([{ a: 1 }]);
    expect(await sb.query('select count(*) as n from trunc_b')).toEqual([{ n: 0 }]);
  });

  it('takes names up to 127 bytes as Redshift does (PostgreSQL would cut them at 63) and cuts longer ones at 127 bytes', async () => {
    const table = `t_${'x'.repeat(100)}`; // 102 bytes
    const col = `c_${'y'.repeat(116)}`; // 118 bytes
    const twin = `c_${'y'.repeat(61)}_other`; // the same first 63 bytes as col: PostgreSQL would make them one name
    const wide = `w_${'é'.repeat(62)}`; // 126 bytes, 64 characters
    await sb.run(`create table ${table} (id integer, ${col} varchar(8), "${twin}" integer, ${wide} integer) diststyle key distkey (${twin}) sortkey (${col})`);
    await sb.run(`insert into ${table} (id, ${col}, ${twin}, ${wide}) values (1, 'a', 2, 3)`);
    expect(await sb.query(`select ${col}, ${twin}, ${wide} from ${table} where ${col} = :v`, { v: 'a' })).toEqual([{ [col]: 'a', [twin]: 2, [wide]: 3 }]);
    // the catalog reads every name back exactly, through Redshift's views, PostgreSQL's and pg_class with a bound name
    // (sorted here: ORDER BY on a long name sorts by its alias in the sandbox)
    const def = await sb.query(`select "column", distkey, sortkey from pg_table_def where tablename = '${table}'`);
    expect(def.sort((a, b) => (String(a.column) < String(b.column) ? -1 : 1))).toEqual([
      { column: twin, distkey: true, sortkey: 0 },
      { column: col, distkey: false, sortkey: 1 },
      { column: 'id', distkey: false, sortkey: 0 },
      { column: wide, distkey: false, sortkey: 0 },
    ]);
    expect((await sb.query(`select column_name from information_schema.columns where table_name = :t order by ordinal_position`, { t: table })).map((r) => r.column_name)).toEqual(['id', col, twin, wide]);
    expect(await sb.query(`select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relname = :t`, { t: table })).toEqual([{ relname: table }]);
    expect(await sb.query(`select "table", diststyle from svv_table_info where "table" = '${table}'`)).toEqual([{ table, diststyle: `KEY(${twin})` }]);
    // an error names the column as written
    const bad = await sb.run(`select ${col}z from ${table}`, undefined, { expect: 'FAILED' });
    expect(bad.Error).toContain(`column "${col}z" does not exist`);
    // longer than 127 bytes: Redshift keeps the first 127 bytes (and so resolves the long spelling to the same name)
    const over = `o_${'z'.repeat(130)}`;
    await sb.run(`alter table ${table} add column ${over} integer`);
    expect((await sb.query(`select column_name from information_schema.columns where table_name = '${table}' and column_name like 'o\\_%'`)).map((r) => r.column_name)).toEqual([over.slice(0, 127)]);
    expect(await sb.query(`select ${over} from ${table}`)).toEqual([{ [over.slice(0, 127)]: null }]);
  });

  it('refuses a batch of more than 40 statements as the Data API does, and runs one of 40', async () => {
    const sqls = Array.from({ length: 41 }, (_, i) => `select ${i}`);
    await expect(sb.client.send(new BatchExecuteStatementCommand({ ...TARGET, Sqls: sqls }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(/^1 validation error detected: Value '\[select 0, select 1, .*\]' at 'sqls' failed to satisfy constraint: Member must have length less than or equal to 40$/),
    });
    const ok = await sb.batch(sqls.slice(0, 40));
    expect(ok.SubStatements).toHaveLength(40);
  });

  it('answers unknown ids and bad requests with AWS errors', async () => {
    await expect(sb.client.send(new DescribeStatementCommand({ Id: '00000000-0000-0000-0000-000000000000' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(sb.client.send(new ExecuteStatementCommand({ Database: 'dev', Sql: 'select 1' }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(sb.client.send(new BatchExecuteStatementCommand({ ...TARGET, Sqls: [] }))).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

// Redshift's svv_table_info reads row counts from metadata (STV_TBL_PERM), it never scans a table: a table locked by a
// swap in progress still shows its rows at once. (PostgreSQL only: PGlite has one connection, so a lock held by one
// statement leaves no second session to read the view.)
describe('svv_table_info on postgres: row counts from metadata', () => {
  const sb = withSandbox('postgres', { purpose: 'svvmeta' });

  it('shows the rows of a table another session holds locked, at once', async () => {
    await sb.run(`create table public.meta_rows (id integer not null, note varchar(20)) sortkey (id)`);
    await sb.run(`insert into public.meta_rows select g, 'n' from generate_series(1, 3) g`);
    const rowsNow = async () => (await sb.query(`select tbl_rows from svv_table_info where "table" = 'meta_rows'`))[0]?.tbl_rows;
    // the statistics a commit leaves reach the catalog within a second or so (PostgreSQL flushes them when idle)
    const deadline = Date.now() + 10_000;
    while ((await rowsNow()) !== '3' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await rowsNow()).toBe('3');

    const { Id } = await sb.client.send(new BatchExecuteStatementCommand({ ...TARGET, Sqls: ['lock table public.meta_rows', 'select pg_sleep(3)'] }));
    await waitStatus(sb.client, Id!, 'STARTED');
    await new Promise((r) => setTimeout(r, 300)); // the lock is taken
    const t0 = performance.now();
    expect(await rowsNow()).toBe('3');
    const took = performance.now() - t0;
    expect(took).toBeLessThan(1500);
    expect((await waitDone(sb.client, Id!)).Status).toBe('FINISHED');
  });
});
