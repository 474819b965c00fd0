/**
 * The checksum's canonical text must be the same on both engines for every type it compares: the same values written to
 * MariaDB and to the sandbox warehouse (real SDK → Data API → PostgreSQL, Redshift SQL with STRTOL translated) compare
 * equal, and changing any one value of any type is found, at exactly its id. Also: the sandbox's STRTOL gives the
 * results the Redshift documentation shows (r_STRTOL examples), so a test cannot pass on a forgiving stand-in.
 */
import { randomBytes } from 'node:crypto';
import { createConnection, type Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableDef, type TableDef } from '../../src/schema/model.js';
import { renderCreateTable } from '../../src/schema/render.js';
import { compareTable } from '../../src/source/compare.js';
import { createMysqlSource, type MysqlSource } from '../../src/source/mysql.js';
import { warehouseSide } from '../../src/source/warehouse-side.js';
import { createWarehouse, type RedshiftDataWarehouse } from '../../src/warehouse/redshift-data.js';
import { withSandbox } from '../support/sandbox.js';

const MYSQL = 'mysql://root@127.0.0.1:3306';
const DB = `rso_cmptypes_${process.pid}_${randomBytes(3).toString('hex')}`;

const DEF: TableDef = tableDef.parse({
  schema: 'cmp',
  name: 'typed',
  columns: [
    { name: 'id', type: 'bigint', notNull: true },
    { name: 'small', type: 'smallint' },
    { name: 'num', type: 'numeric(12,3)' },
    { name: 'dbl', type: 'double precision' },
    { name: 'flag', type: 'boolean' },
    { name: 'code', type: 'char(4)' },
    { name: 'label', type: 'varchar(300)' },
    { name: 'body', type: 'varchar(65535)' },
    { name: 'day', type: 'date' },
    { name: 'at', type: 'timestamp' },
    { name: 'updated_at', type: 'timestamp' },
  ],
  primaryKey: ['id'],
});

const MYSQL_DDL = `CREATE TABLE typed (id bigint NOT NULL, small smallint, num decimal(12,3), dbl double, flag tinyint(1), code char(4),
  label varchar(100), body longtext, day date, at datetime(6), updated_at datetime, PRIMARY KEY (id)) DEFAULT CHARSET=utf8mb4`;

type V = string | number | boolean | null;
const long = 'x'.repeat(2000) + 'é';
/** one row per interesting value: NULLs, negatives, unicode, fractions of a second, a long text (hashed) */
const ROWS: V[][] = [
  [1, 0, '0.000', 0, false, 'ab', '', '', '2024-02-29', '2024-02-29 23:59:59.000000', '2024-03-01 00:00:00'],
  [2, -32768, '-123456789.125', -0.1, true, 'abcd', 'héllo wörld ✓', long, '1999-12-31', '1999-12-31 23:59:59.123456', '2024-03-01 00:00:00'],
  [3, null, null, null, null, null, null, null, null, null, '2024-03-01 00:00:00'],
  [4, 32767, '99999999.999', 12345.678901, true, 'N', 'N', 'V', '2000-01-01', '2000-01-01 00:00:00.5', '2024-03-01 00:00:00'],
  [5, 7, '1.5', 2.25, false, 'zz  ', "it's | a pipe", '|', '2024-01-01', '2024-01-01 12:00:00', '2024-03-01 00:00:00'],
];
const COLS = DEF.columns.map((c) => c.name);

describe('compare: the canonical text is the same on MariaDB and the sandbox warehouse for every compared type', () => {
  const sb = withSandbox('postgres', { purpose: 'compare_types' });
  let my: Connection;
  let source: MysqlSource;
  let wh: RedshiftDataWarehouse;

  beforeAll(async () => {
    my = await createConnection(`${MYSQL}/test`);
    await my.query(`CREATE DATABASE \`${DB}\``);
    await my.changeUser({ database: DB });
    await my.query(MYSQL_DDL);
    source = createMysqlSource({ url: `${MYSQL}/${DB}` });
    wh = createWarehouse({ warehouse: { target: { kind: 'provisioned', clusterId: 'sandbox-cluster', dbUser: 'awsuser' }, database: 'dev' }, aws: { region: 'us-west-2', endpoint: sb.sandbox.endpoint } }, { env: {} });
    await wh.execute('CREATE SCHEMA cmp');
    await wh.execute(renderCreateTable(DEF));
    for (const r of ROWS) {
      await my.query(`INSERT INTO typed (${COLS.join(', ')}) VALUES (${COLS.map(() => '?').join(', ')})`, r);
      await sb.sandbox.sql(`INSERT INTO cmp.typed (${COLS.map((c) => `"${c}"`).join(', ')}) VALUES (${COLS.map((_, i) => `$${i + 1}`).join(', ')})`, r);
    }
  }, 60_000);

  afterAll(async () => {
    wh?.close();
    await source?.close();
    await my?.query(`DROP DATABASE IF EXISTS \`${DB}\``);
    await my?.end();
  });

  const compare = () => compareTable(DEF, source, warehouseSide(wh, 'cmp'), { lagSeconds: 60 });

  it('the sandbox STRTOL gives the documented Redshift results', async () => {
    const r = await wh.query(
      "SELECT STRTOL('0xf',16) AS a, STRTOL('abcd1234',16) AS b, STRTOL('1234567', 10) AS c, STRTOL('1234567', 8) AS d, STRTOL('110101', 2) AS e, STRTOL('', 10) AS f, STRTOL('  -ff', 16) AS g",
    );
    expect(r.rows[0]).toEqual({ a: 15, b: 2882343476, c: 1234567, d: 342391, e: 53, f: 0, g: -255 });
  });

  it('identical rows compare equal with every column checksummed', async () => {
    const c = await compare();
    expect(c.plan.skipped).toEqual([]);
    expect(c.plan.columns.map((x) => x.name)).toEqual(COLS);
    expect(c.diffs).toEqual([]);
    expect(c.status).toBe('equal');
    expect(c.source?.settledRows).toBe('5');
    expect(c.warehouse?.settledRows).toBe('5');
  });

  it.each([
    ['small', 2, '-32767'],
    ['num', 2, '-123456789.126'],
    ['dbl', 4, '12345.678902'],
    ['flag', 1, 'true'],
    ['code', 5, 'zy'],
    ['label', 2, 'héllo world ✓'],
    ['body', 2, `${long}!`],
    ['day', 4, '2000-01-02'],
    ['at', 2, '1999-12-31 23:59:59.123457'],
    ['label', 3, ''],
  ] as const)('a change in %s (id %i) is found at exactly that id', async (col, id, value) => {
    const before = (await sb.sandbox.sql(`SELECT "${col}"::text AS v FROM cmp.typed WHERE id = $1`, [id])).rows[0]?.v ?? null;
    await sb.sandbox.sql(`UPDATE cmp.typed SET "${col}" = $1 WHERE id = $2`, [value, id]);
    try {
      const c = await compare();
      expect(c.status).toBe('different');
      expect(c.diffs).toEqual([{ from: String(id), to: String(id), sourceRows: '1', warehouseRows: '1' }]);
    } finally {
      await sb.sandbox.sql(`UPDATE cmp.typed SET "${col}" = $1 WHERE id = $2`, [before, id]);
    }
    expect((await compare()).status).toBe('equal');
  });
});
