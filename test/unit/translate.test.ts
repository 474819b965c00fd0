/**
 * The sandbox's Redshift → PostgreSQL translator, as pure functions: tokens, statement splitting, named parameters,
 * the spellings fixed anywhere, and the steps for CREATE TABLE / ALTER TABLE / SET / transaction control.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SEARCH_PATH,
  TranslateError,
  bindNamedParams,
  namedParams,
  pgTypeFor,
  rewriteGeneral,
  splitStatements,
  tokenize,
  translateStatement,
  type Translation,
} from '../../src/sandbox/translate.js';

/** The JSON argument of the n-th catalog step. */
function metaArg(t: Translation, n = 0): Record<string, unknown> {
  const steps = t.steps.filter((s) => s.params !== undefined && /redshift_sandbox\._/.test(s.sql));
  const step = steps[n];
  if (!step) throw new Error(`no catalog step #${n} in ${JSON.stringify(t.steps)}`);
  return JSON.parse(String(step.params![0])) as Record<string, unknown>;
}

function userSql(t: Translation): string {
  const s = t.steps.find((x) => x.user);
  if (!s) throw new Error('no user step');
  return s.sql;
}

describe('tokenize', () => {
  it('gives the input back exactly and keeps strings, quoted names, comments and dollar quotes whole', () => {
    const sql = `select 'it''s; -- not a comment', "we""ird;name", E'a\\'b', $fn$ body; $x$ $fn$, x::int /* c /* nested */ ; */ -- end ;\n:p, $1`;
    const toks = tokenize(sql);
    expect(toks.map((t) => t.text).join('')).toBe(sql);
    const kinds = toks.filter((t) => t.kind !== 'ws').map((t) => `${t.kind}:${t.text}`);
    expect(kinds).toContain(`string:'it''s; -- not a comment'`);
    expect(kinds).toContain(`qident:"we""ird;name"`);
    expect(kinds).toContain(`string:E'a\\'b'`);
    expect(kinds).toContain('string:$fn$ body; $x$ $fn$');
    expect(kinds).toContain('op:::');
    expect(kinds).toContain('comment:/* c /* nested */ ; */');
    expect(kinds).toContain('comment:-- end ;');
    expect(kinds).toContain('param::p');
    expect(kinds).toContain('posparam:$1');
  });

  it('splits a script at top-level semicolons only', () => {
    const script = `create table a (x int); -- one\ninsert into a values (';');\n\n/* ; */ select $$;$$;  ;\n-- trailing comment only`;
    expect(splitStatements(script)).toEqual(['create table a (x int)', "-- one\ninsert into a values (';')", '/* ; */ select $$;$$']);
  });
});

describe('named parameters', () => {
  it('finds :name outside strings, comments, quoted names and ::casts', () => {
    const sql = `select :a::int, ':b', "c:d", x::text /* :e */ from t where y = :f -- :g`;
    expect(namedParams(sql)).toEqual(['a', 'f']);
  });

  it('binds each distinct name to one $n and keeps the values out of the SQL', () => {
    const evil = "'; drop table x; --";
    const b = bindNamedParams('insert into t values (:id, :note, :id::int + 1)', new Map([['id', '5'], ['note', evil]]));
    expect(b.text).toBe('insert into t values ($1, $2, $1::int + 1)');
    expect(b.values).toEqual(['5', evil]);
  });
});

describe('rewriteGeneral', () => {
  it('fixes datetime casts, varchar(max), nvarchar and bare sysdate', () => {
    expect(rewriteGeneral('select x::datetime, cast(y as datetime), z::varchar(max), w::nvarchar(10), sysdate from t')).toBe(
      'select x::timestamp, cast(y as timestamp), z::varchar(65535), w::varchar(10), sysdate() from t',
    );
  });

  it('leaves names, strings and calls alone', () => {
    const sql = `select datetime, 'sysdate varchar(max)', t.sysdate, sysdate(), "datetime" from t`;
    expect(rewriteGeneral(sql)).toBe(sql);
  });
});

describe('IN (subquery): one column, as Redshift takes it', () => {
  it('refuses a row value or a multi-column select list in IN / NOT IN (subquery)', () => {
    const bad = [
      'DELETE FROM s.t WHERE (a, b) NOT IN (SELECT a, b FROM s.u)',
      'SELECT 1 FROM s.t WHERE (a, b) IN (SELECT a, b FROM s.u WHERE c > 1)',
      'SELECT 1 FROM s.t WHERE a IN (SELECT a, b FROM s.u)',
      'SELECT 1 FROM s.t WHERE (a, b) IN (SELECT c FROM s.u)',
      'INSERT INTO s.t (a) SELECT a FROM s.u WHERE x = 1 OR (a, b) in ( select a, b from s.v )',
    ];
    for (const sql of bad) expect(() => translateStatement(sql), sql).toThrow(/IN \(subquery\) compares one column/);
  });
  it('accepts one column, value lists, row values compared with =, and commas inside calls', () => {
    const good = [
      'DELETE FROM s.t WHERE a NOT IN (SELECT a FROM s.u)',
      'SELECT 1 FROM s.t WHERE (a, b) = (1, 2) AND a IN (1, 2, 3)',
      'SELECT 1 FROM s.t WHERE a IN (SELECT COALESCE(x, y) FROM s.u)',
      'SELECT 1 FROM s.t WHERE a IN (SELECT x FROM (SELECT x, y FROM s.u) AS d)',
      "SELECT 'a, b) IN (SELECT a, b' AS s",
    ];
    for (const sql of good) expect(() => translateStatement(sql), sql).not.toThrow();
  });
});

describe('pgTypeFor', () => {
  it('maps Redshift spellings to PostgreSQL types', () => {
    expect(pgTypeFor('datetime')).toBe('timestamp');
    expect(pgTypeFor('varchar(max)')).toBe('varchar(65535)');
    expect(pgTypeFor('character varying(765)')).toBe('varchar(765)');
    expect(pgTypeFor('float')).toBe('double precision');
    expect(pgTypeFor('text')).toBe('varchar(256)');
    expect(pgTypeFor('numeric')).toBe('numeric(18,0)');
    expect(pgTypeFor('int4')).toBe('integer');
  });

  it('refuses what Redshift refuses, with a hint for typos', () => {
    expect(() => pgTypeFor('uuid')).toThrow(/type "uuid" does not exist/);
    expect(() => pgTypeFor('integr')).toThrow(/did you mean integer/);
    expect(() => pgTypeFor('varchar(70000)')).toThrow(TranslateError);
  });
});

describe('CREATE TABLE', () => {
  const corePage = `CREATE TABLE IF NOT EXISTS ak_sumofus.core_page (
    id integer NOT NULL ENCODE az64,
    created_at datetime NOT NULL ENCODE az64,
    notes varchar(765) DEFAULT '''' ENCODE lzo,
    body varchar(max) ENCODE zstd,
    "limit" integer,
    lang_id integer DEFAULT NULL,
    list_id integer NOT NULL REFERENCES ak_sumofus.core_list (id) ON DELETE CASCADE,
    PRIMARY KEY (id),
    CONSTRAINT page_name UNIQUE (notes)
  ) DISTSTYLE KEY DISTKEY (id) INTERLEAVED SORTKEY (id, created_at, lang_id)`;

  it('strips the Redshift-only parts and keeps NOT NULL and DEFAULT', () => {
    const t = translateStatement(corePage);
    expect(t.atomic).toBe(true);
    const sql = userSql(t);
    expect(sql).toBe(
      `CREATE TABLE IF NOT EXISTS ak_sumofus.core_page (id integer NOT NULL, created_at timestamp NOT NULL, notes varchar(765) DEFAULT '''', body varchar(65535), "limit" integer, lang_id integer DEFAULT NULL, list_id integer NOT NULL)`,
    );
    expect(sql).not.toMatch(/encode|distkey|sortkey|primary|unique|references/i);
  });

  it('records distribution, sort key, encodings and the unenforced constraints', () => {
    const m = metaArg(translateStatement(corePage));
    expect(m).toMatchObject({
      table: 'ak_sumofus.core_page',
      diststyle: 'KEY',
      distkey: 'id',
      sortstyle: 'INTERLEAVED',
      sortkey: ['id', 'created_at', 'lang_id'],
      encodeAuto: false,
      backup: true,
      encodings: { id: 'az64', created_at: 'az64', notes: 'lzo', body: 'zstd' },
    });
    expect(m.constraints).toEqual([
      { kind: 'f', name: 'core_page_list_id_fkey', columns: ['list_id'], refRaw: 'ak_sumofus.core_list', refSchema: 'ak_sumofus', refTable: 'core_list', refColumns: ['id'] },
      { kind: 'p', name: 'core_page_pkey', columns: ['id'] },
      { kind: 'u', name: 'page_name', columns: ['notes'] },
    ]);
  });

  it('takes table attributes in any order, and column-level DISTKEY / SORTKEY', () => {
    const a = metaArg(translateStatement('create table t (a int, b int) sortkey auto backup no encode auto diststyle all'));
    expect(a).toMatchObject({ diststyle: 'ALL', distkey: null, sortstyle: 'AUTO', sortkey: [], encodeAuto: true, backup: false });
    const b = metaArg(translateStatement('create table t (a int distkey, b timestamp sortkey encode raw)'));
    expect(b).toMatchObject({ diststyle: 'KEY', distkey: 'a', sortstyle: 'COMPOUND', sortkey: ['b'], encodings: { b: 'raw' }, encodeAuto: false });
    const c = metaArg(translateStatement('create table t (a int) compound sortkey(a) distkey(a)'));
    expect(c).toMatchObject({ diststyle: 'KEY', distkey: 'a', sortstyle: 'COMPOUND', sortkey: ['a'], encodeAuto: true });
    const d = metaArg(translateStatement('create table t (a int)'));
    expect(d).toMatchObject({ diststyle: null, sortstyle: null, encodeAuto: true });
  });

  it('turns IDENTITY into a PostgreSQL identity column and drops COLLATE', () => {
    const sql = userSql(translateStatement('create table t (id bigint identity(100, 5) not null, s varchar(10) collate case_insensitive)'));
    expect(sql).toBe('CREATE TABLE t (id bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 100 INCREMENT BY 5) NOT NULL, s varchar(10))');
  });

  it('supports LIKE in both spellings and CTAS with attributes', () => {
    const a = translateStatement('create table new_t (like old_t including defaults) diststyle even');
    expect(userSql(a)).toBe('CREATE TABLE new_t (LIKE old_t INCLUDING DEFAULTS)');
    expect(metaArg(a)).toMatchObject({ like: 'old_t', diststyle: 'EVEN', encodeAuto: null, sortstyle: null });
    const b = translateStatement('create table new_t like s.old_t');
    expect(userSql(b)).toBe('CREATE TABLE new_t (LIKE s.old_t)');
    expect(metaArg(b)).toMatchObject({ like: 's.old_t' });
    const c = translateStatement('create temp table x distkey(id) sortkey(id) as select id, created_at::datetime from t');
    expect(userSql(c)).toBe('CREATE TEMP TABLE x AS select id, created_at::timestamp from t');
    expect(metaArg(c)).toMatchObject({ diststyle: 'KEY', distkey: 'id', sortkey: ['id'] });
  });

  it("refuses definitions Redshift refuses, saying what's wrong", () => {
    expect(() => translateStatement('create table t (a int) diststyle key')).toThrow(/DISTSTYLE KEY needs a DISTKEY/);
    expect(() => translateStatement('create table t (a int) diststyle even distkey(a)')).toThrow(/DISTKEY needs DISTSTYLE KEY/);
    expect(() => translateStatement('create table t (a int encode lz0)')).toThrow(/invalid encoding type "lz0".*did you mean lzo/);
    expect(() => translateStatement('create table t (a int, primary key (a), primary key (a))')).toThrow(/multiple primary keys/);
    expect(() => translateStatement('create table t (a int) interleaved sortkey (a,b,c,d,e,f,g,h,i)')).toThrow(/at most 8/);
    expect(() => translateStatement('create table t (a int) banana')).toThrow(/syntax error at or near "banana"/);
    expect(() => translateStatement('create table t (a serial)')).toThrow(/type "serial" does not exist/);
  });

  it('passes other CREATE statements through', () => {
    expect(userSql(translateStatement('create schema if not exists ak_sumofus'))).toBe('create schema if not exists ak_sumofus');
    expect(userSql(translateStatement('create view v as select getdate()'))).toBe('create view v as select getdate()');
  });
});

describe('ALTER TABLE', () => {
  it('turns ALTER DISTKEY / DISTSTYLE / SORTKEY / ENCODE into catalog-only steps', () => {
    const a = translateStatement('alter table s.t alter distkey email');
    expect(a.steps.some((s) => s.user)).toBe(false);
    expect(metaArg(a)).toEqual({ table: 's.t', op: 'distkey', column: 'email' });
    expect(metaArg(translateStatement('alter table t alter diststyle key distkey id'))).toMatchObject({ op: 'distkey', column: 'id' });
    expect(metaArg(translateStatement('alter table t alter diststyle all'))).toMatchObject({ op: 'diststyle', style: 'ALL' });
    expect(metaArg(translateStatement('alter table t alter compound sortkey (a, "B")'))).toMatchObject({ op: 'sortkey', columns: ['a', 'B'] });
    expect(metaArg(translateStatement('alter table t alter sortkey none'))).toMatchObject({ op: 'sortkey_none' });
    expect(metaArg(translateStatement('alter table t alter encode auto'))).toMatchObject({ op: 'encode_auto' });
    const multi = translateStatement('alter table t alter column a encode zstd, alter column b encode az64');
    expect([metaArg(multi, 0), metaArg(multi, 1)]).toMatchObject([
      { op: 'column_encode', column: 'a', encoding: 'zstd' },
      { op: 'column_encode', column: 'b', encoding: 'az64' },
    ]);
    expect(() => translateStatement('alter table t alter column a encode zstd, alter column a encode lzo')).toThrow(/more than once/);
    expect(() => translateStatement('alter table t alter interleaved sortkey (a)')).toThrow(/INTERLEAVED/);
  });

  it('runs ALTER COLUMN TYPE for VARCHAR only, after the checks, never inside a transaction block', () => {
    const t = translateStatement('alter table t alter column email type varchar(max)');
    expect(t.notInTransaction).toBe('ALTER TABLE ALTER COLUMN cannot run inside a transaction block');
    expect(metaArg(t)).toMatchObject({ op: 'check_alter_type', column: 'email', length: 65535 });
    expect(userSql(t)).toBe('ALTER TABLE t ALTER COLUMN email TYPE varchar(65535)');
    expect(t.steps.findIndex((s) => s.user)).toBeGreaterThan(0);
    expect(() => translateStatement('alter table t alter column id type bigint')).toThrow(/only change the size of a VARCHAR/);
  });

  it('adds columns with their encoding recorded, and refuses key columns', () => {
    const t = translateStatement(`alter table t add column c varchar(10) default 'x' encode zstd not null`);
    expect(userSql(t)).toBe(`ALTER TABLE t ADD COLUMN c varchar(10) DEFAULT 'x' NOT NULL`);
    expect(metaArg(t)).toMatchObject({ op: 'column_encode_new', column: 'c', encoding: 'zstd' });
    expect(() => translateStatement('alter table t add column c int distkey')).toThrow(/DISTKEY/);
    expect(() => translateStatement('alter table t add column c int primary key')).toThrow(/PRIMARY KEY/);
  });

  it('records constraints instead of creating them', () => {
    const add = translateStatement('alter table core_user add constraint u_email unique (email)');
    expect(add.steps.some((s) => s.user)).toBe(false);
    expect(metaArg(add)).toMatchObject({ op: 'add_constraint', constraint: { kind: 'u', name: 'u_email', columns: ['email'] } });
    expect(metaArg(translateStatement('alter table a add foreign key (b_id) references b'))).toMatchObject({
      constraint: { kind: 'f', name: 'a_b_id_fkey', columns: ['b_id'], refTable: 'b' },
    });
    expect(metaArg(translateStatement('alter table a drop constraint a_pkey cascade'))).toMatchObject({ op: 'drop_constraint', name: 'a_pkey' });
  });

  it('checks DROP COLUMN before running it, and passes RENAME through', () => {
    const d = translateStatement('alter table t drop column c');
    expect(metaArg(d)).toMatchObject({ op: 'check_drop_column', column: 'c', cascade: false });
    expect(userSql(d)).toBe('ALTER TABLE t DROP COLUMN c');
    expect(userSql(translateStatement('alter table ak.t rename to old_t'))).toBe('ALTER TABLE ak.t rename to old_t');
    expect(userSql(translateStatement('alter table t rename column a to b'))).toBe('ALTER TABLE t rename column a to b');
  });

  it('turns APPEND FROM into a catalog move that refuses transaction blocks', () => {
    const t = translateStatement('alter table tgt append from src filltarget');
    expect(t.notInTransaction).toBe('ALTER TABLE APPEND cannot run inside a transaction block');
    expect(JSON.parse(String(t.steps[0]!.params![0]))).toEqual({ table: 'tgt', source: 'src', mode: 'filltarget' });
  });
});

describe('session and transaction statements', () => {
  it('keeps the sandbox schema on every search_path', () => {
    expect(userSql(translateStatement('SET search_path TO ak_sumofus'))).toBe('SET search_path TO ak_sumofus, redshift_sandbox');
    expect(userSql(translateStatement(`set search_path = '$user', public`))).toBe(`set search_path = '$user', public, redshift_sandbox`);
    expect(userSql(translateStatement('set search_path to default'))).toBe(`set search_path to ${DEFAULT_SEARCH_PATH}`);
    expect(userSql(translateStatement('set search_path to x, redshift_sandbox'))).toBe('set search_path to x, redshift_sandbox');
    expect(userSql(translateStatement('set statement_timeout to 1000'))).toBe('set statement_timeout to 1000');
  });

  it('tracks transaction blocks and Redshift-only rules', () => {
    expect(translateStatement('BEGIN').txEffect).toBe('begin');
    expect(translateStatement('start transaction').txEffect).toBe('begin');
    expect(translateStatement('end transaction').txEffect).toBe('end');
    expect(translateStatement('rollback').txEffect).toBe('end');
    expect(translateStatement('rollback to savepoint s').txEffect).toBeUndefined();
    expect(translateStatement('truncate t', { inTransaction: true }).implicitCommit).toBe(true);
    expect(translateStatement('truncate t', { inTransaction: false }).implicitCommit).toBe(false);
    expect(translateStatement('vacuum sort only t to 99 percent')).toEqual({
      steps: [],
      notInTransaction: 'VACUUM cannot run inside a transaction block',
      maintenance: { op: 'vacuum', mode: 'SORT ONLY', table: 't', toPercent: 99, boost: false },
    });
    expect(userSql(translateStatement('analyze ak.t (a, b) predicate columns'))).toBe('ANALYZE ak.t ("a", "b")');
    expect(translateStatement('analyze compression t').steps).toEqual([]);
  });

  it('reads every VACUUM form Redshift accepts, and refuses the rest', () => {
    const v = (sql: string) => translateStatement(sql);
    expect(v('VACUUM').maintenance).toEqual({ op: 'vacuum', mode: 'FULL', boost: false });
    expect(v('vacuum full ak.t').steps.map((s) => s.sql)).toEqual(['VACUUM ak.t']);
    expect(v('VACUUM DELETE ONLY "ak"."t" TO 100 PERCENT BOOST').maintenance).toEqual({ op: 'vacuum', mode: 'DELETE ONLY', table: '"ak"."t"', toPercent: 100, boost: true });
    expect(v('VACUUM REINDEX ak.t').maintenance).toMatchObject({ mode: 'REINDEX', table: 'ak.t' });
    expect(v('VACUUM RECLUSTER ak.t').steps).toEqual([]);
    expect(v('VACUUM SORT ONLY ak.t').steps).toEqual([]); // nothing to sort in PostgreSQL: recorded only
    expect(v('vacuum to 75 percent').maintenance).toEqual({ op: 'vacuum', mode: 'FULL', toPercent: 75, boost: false });
    for (const sql of ['VACUUM ak.t TO 101 PERCENT', 'VACUUM ak.t TO 5', 'VACUUM SORT ak.t', 'VACUUM ak.t extra', 'VACUUM ak.t TO x PERCENT']) {
      expect(() => v(sql), sql).toThrow(TranslateError);
    }
    expect(translateStatement('analyze ak.t predicate columns').maintenance).toEqual({ op: 'analyze', table: 'ak.t', predicateColumns: true });
  });

  it('cleans the catalog after DROP in the same transaction', () => {
    const t = translateStatement('drop table if exists a, b cascade');
    expect(t.atomic).toBe(true);
    expect(t.steps.map((s) => s.sql)).toEqual(['drop table if exists a, b cascade', 'select redshift_sandbox._cleanup()']);
  });
});
