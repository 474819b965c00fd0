import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { tableDef, type TableDef, type TableDefInput } from '../../src/schema/model.js';
import { loadRegistry, type Registry } from '../../src/schema/registry.js';
import { renderColumnDef, renderCreateTable } from '../../src/schema/render.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const goldenDir = path.join(here, 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const table = (t: TableDefInput): TableDef => tableDef.parse(t);

describe('renderColumnDef', () => {
  it('prints name, canonical type, DEFAULT, NOT NULL, ENCODE in that order', () => {
    expect(renderColumnDef({ name: 'id', type: 'integer', notNull: true })).toBe('id integer NOT NULL');
    expect(renderColumnDef({ name: 'currency', type: 'varchar(9)', notNull: true, default: "'USD'" })).toBe("currency varchar(9) DEFAULT 'USD' NOT NULL");
    expect(renderColumnDef({ name: 'notes', type: 'varchar(765)', notNull: false, default: "''''", encode: 'lzo' })).toBe(
      "notes varchar(765) DEFAULT '''' ENCODE lzo",
    );
    expect(renderColumnDef({ name: 'lang_id', type: 'integer', notNull: false, default: 'NULL' })).toBe('lang_id integer DEFAULT NULL');
  });

  it('quotes reserved words and names that need quoting', () => {
    expect(renderColumnDef({ name: 'limit', type: 'integer', notNull: false })).toBe('"limit" integer');
    expect(renderColumnDef({ name: 'order date', type: 'date', notNull: false })).toBe('"order date" date');
    expect(renderColumnDef({ name: 'say "hi"', type: 'date', notNull: false })).toBe('"say ""hi""" date');
  });

  it('refuses a default that is not a safe literal (no SQL text from anywhere else)', () => {
    expect(() => renderColumnDef({ name: 'x', type: 'integer', notNull: false, default: '1; DROP TABLE core_user' })).toThrow(/not a literal/);
  });

  it("refuses a default with a backslash (Redshift would read '\\' as an escaped quote and run on)", () => {
    expect(() => renderColumnDef({ name: 'x', type: 'varchar(5)', notNull: false, default: "'\\'" })).toThrow(/backslash/);
  });

  it('refuses a type outside the allow-list', () => {
    expect(() => renderColumnDef({ name: 'x', type: 'integer; drop table y', notNull: false })).toThrow();
  });
});

describe('renderCreateTable', () => {
  const t = table({
    schema: 'ak_sumofus',
    name: 'core_mailing',
    columns: [
      { name: 'id', type: 'int4', notNull: true },
      { name: 'limit', type: 'integer' },
      { name: 'created_at', type: 'datetime', notNull: true, default: 'getdate()' },
      { name: 'rate', type: 'float', encode: 'raw' },
    ],
    primaryKey: ['id'],
    unique: [['limit', 'rate']],
    foreignKeys: [
      { columns: ['limit'], references: { table: 'core_page', columns: ['id'] } },
      { columns: ['rate'], references: { schema: 'other', table: 'rates', columns: ['r'] } },
    ],
    distStyle: 'KEY',
    distKey: 'id',
    sortKey: { style: 'INTERLEAVED', columns: ['id', 'limit'] },
  });

  it('renders the full statement: columns, constraints, dist and sort keys', () => {
    expect(renderCreateTable(t)).toBe(
      [
        'CREATE TABLE ak_sumofus.core_mailing (',
        '  id integer NOT NULL,',
        '  "limit" integer,',
        '  created_at timestamp DEFAULT getdate() NOT NULL,',
        '  rate double precision ENCODE raw,',
        '  PRIMARY KEY (id),',
        '  UNIQUE ("limit", rate),',
        '  FOREIGN KEY ("limit") REFERENCES ak_sumofus.core_page (id),',
        '  FOREIGN KEY (rate) REFERENCES other.rates (r)',
        ')',
        'DISTSTYLE KEY',
        'DISTKEY (id)',
        'INTERLEAVED SORTKEY (id, "limit");',
        '',
      ].join('\n'),
    );
  });

  it('renders new_<t> in another schema, IF NOT EXISTS, without constraints', () => {
    const sql = renderCreateTable(t, { name: 'new_core_mailing', schema: 'sandbox', ifNotExists: true, constraints: false });
    expect(sql.split('\n')[0]).toBe('CREATE TABLE IF NOT EXISTS sandbox.new_core_mailing (');
    expect(sql).not.toMatch(/PRIMARY KEY|UNIQUE|FOREIGN KEY/);
    expect(sql).toContain('  rate double precision ENCODE raw\n)');
  });

  it('moves same-schema foreign keys with the table, keeps other schemas', () => {
    const sql = renderCreateTable(t, { schema: 'sandbox' });
    expect(sql).toContain('REFERENCES sandbox.core_page (id)');
    expect(sql).toContain('REFERENCES other.rates (r)');
  });

  it('a self-reference follows the rendered name (new_share_link refers to itself)', () => {
    const selfRef = table({
      schema: 'ak_sumofus',
      name: 'share_link',
      columns: [{ name: 'id', type: 'int' }, { name: 'referring_share_id', type: 'int' }, { name: 'user_id', type: 'int' }],
      foreignKeys: [
        { columns: ['referring_share_id'], references: { table: 'share_link', columns: ['id'] } },
        { columns: ['user_id'], references: { schema: 'ak_sumofus', table: 'core_user', columns: ['id'] } },
      ],
    });
    const sql = renderCreateTable(selfRef, { name: 'new_share_link' });
    expect(sql).toContain('FOREIGN KEY (referring_share_id) REFERENCES ak_sumofus.new_share_link (id),');
    expect(sql).toContain('FOREIGN KEY (user_id) REFERENCES ak_sumofus.core_user (id)\n');
  });

  it('renders every distribution and sort style', () => {
    const base = { schema: 'S1', name: 'Order', columns: [{ name: 'a', type: 'int' }, { name: 'b', type: 'text' }] };
    const tail = (x: TableDefInput): string => renderCreateTable(table(x)).split('\n)\n')[1]!;
    expect(tail({ ...base })).toBe('DISTSTYLE AUTO;\n');
    expect(tail({ ...base, distStyle: 'EVEN', sortKey: { style: 'AUTO' } })).toBe('DISTSTYLE EVEN\nSORTKEY AUTO;\n');
    expect(tail({ ...base, distStyle: 'ALL', sortKey: { style: 'COMPOUND', columns: ['b', 'a'] } })).toBe('DISTSTYLE ALL\nCOMPOUND SORTKEY (b, a);\n');
    expect(tail({ ...base, distStyle: 'KEY', distKey: 'b', sortKey: { style: 'INTERLEAVED', columns: ['a'] } })).toBe(
      'DISTSTYLE KEY\nDISTKEY (b)\nINTERLEAVED SORTKEY (a);\n',
    );
    expect(renderCreateTable(table(base)).split('\n')[0]).toBe('CREATE TABLE "S1"."Order" (');
  });

  it('is deterministic: same table, same text', () => {
    expect(renderCreateTable(structuredClone(t))).toBe(renderCreateTable(t));
  });
});

describe('golden DDL of the 26 ak_sumofus tables', () => {
  let reg: Registry;
  beforeAll(async () => {
    reg = await loadRegistry();
  });

  it('the registry holds the 26 tables and there is one golden file per table', () => {
    const names = reg.names();
    expect(names).toHaveLength(26);
    if (UPDATE) mkdirSync(goldenDir, { recursive: true });
    const goldens = existsSync(goldenDir) ? readdirSync(goldenDir).filter((f) => f.endsWith('.sql')).sort() : [];
    if (!UPDATE) expect(goldens).toEqual(names.map((n) => `${n}.sql`).sort());
  });

  it('renders each table exactly as its golden file (UPDATE_GOLDEN=1 rewrites them)', () => {
    const mismatched: string[] = [];
    for (const name of reg.names()) {
      const t = reg.get('ak_sumofus', name)!;
      const sql = renderCreateTable(t);
      const file = path.join(goldenDir, `${name}.sql`);
      if (UPDATE) {
        writeFileSync(file, sql);
        continue;
      }
      expect(existsSync(file), `missing golden file ${file}: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
      if (readFileSync(file, 'utf8') !== sql) mismatched.push(name);
      expect(sql, `${name}.sql differs from the rendered DDL`).toBe(readFileSync(file, 'utf8'));
    }
    expect(mismatched).toEqual([]);
  });

  it('quotes ActionKit\'s reserved column names (core_mailing.limit) in the golden DDL', () => {
    const sql = renderCreateTable(reg.get('ak_sumofus', 'core_mailing')!);
    expect(sql).toContain('  "limit" integer,');
    expect(sql).toContain('  limit_percent integer,');
    expect(sql).toContain('INTERLEAVED SORTKEY (id, started_at, recurring_schedule_id);');
  });
});
