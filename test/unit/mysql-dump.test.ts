/**
 * `SHOW CREATE TABLE` output as it really arrives (test/fixtures/messy-mysql-dump.sql): a mysqldump with versioned
 * comments, DROP/INSERT lines, `\G` output with smart quotes and no `;`, the mysql client's table box with literal `\n`,
 * a CRLF table with a non-breaking space, an unknown type and an unknown attribute. Every table that can be read is read;
 * everything ignored or refused is reported with its line (and column).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runCli } from '../../src/cli.js';
import { loadRegistry } from '../../src/schema/registry.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseMysqlDump } from '../../src/source/mysql-dump.js';
import { proposeTables } from '../../src/source/import-mysql.js';

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/messy-mysql-dump.sql');
const text = readFileSync(FIXTURE, 'utf8');

describe('npm run cli -- schema import-mysql --from-dump', () => {
  it('writes the tables it could read, reports every problem as file:line:col, and exits 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rso-import-mysql-'));
    try {
      const out: string[] = [];
      const err: string[] = [];
      const repo = path.resolve(path.dirname(FIXTURE), '../..');
      const code = await runCli(['schema', 'import-mysql', '--from-dump', 'test/fixtures/messy-mysql-dump.sql', '--out', dir], {
        out: (l) => out.push(...l.split('\n')),
        err: (l) => err.push(...l.split('\n')),
        env: { SCHEMAS_DIR: 'schemas' },
        cwd: repo,
      });
      expect(code).toBe(1);
      expect(err).toEqual([
        'test/fixtures/messy-mysql-dump.sql:35:24: unknown column attribute "SPARKLY" (column ok_col): ignored',
        'test/fixtures/messy-mysql-dump.sql:34:3: broken.blob_thing: unknown MySQL type "frobnicate(3)" — the table is not proposed',
      ]);
      expect(out).toContain('skipped INSERT at test/fixtures/messy-mysql-dump.sql:16');
      expect(out).toContain('test/fixtures/messy-mysql-dump.sql:40:10: note: read the stray character U+00A0 as a space');
      expect(out.at(-1)).toBe('proposed 4 of 5 tables (problems above)');
      // what was written reads back as a registry; core_tag keeps the dist/sort keys schemas/ gives it
      const reg = await loadRegistry(dir);
      expect(reg.names()).toEqual(['core_list', 'core_page', 'core_tag', 'core_user']);
      expect(reg.find('core_tag')).toMatchObject({ distStyle: 'KEY', distKey: 'id', sortKey: { style: 'INTERLEAVED', columns: ['id', 'name'] } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parseMysqlDump on a messy dump', () => {
  const r = parseMysqlDump(text, { file: 'messy-mysql-dump.sql' });

  it('reads every CREATE TABLE, wherever it stands', () => {
    expect(r.schema.tables).toEqual(['core_tag', 'core_list', 'core_page', 'broken', 'core_user']);
    expect(r.schema.tableAt).toMatchObject({ core_tag: { line: 4 }, core_list: { line: 19 }, core_page: { line: 30 }, broken: { line: 32 }, core_user: { line: 38 } });
    const tag = r.schema.columns.filter((c) => c.table === 'core_tag');
    expect(tag.map((c) => c.name)).toEqual(['id', 'created_at', 'updated_at', 'hidden', 'name', 'times_used', 'order_index']);
    expect(tag.find((c) => c.name === 'name')).toMatchObject({ columnType: 'varchar(255)', charset: 'utf8', nullable: false, at: { line: 9, col: 3 } });
    expect(tag.find((c) => c.name === 'hidden')).toMatchObject({ columnType: 'tinyint(1)', default: "'0'" });
    expect(tag.find((c) => c.name === 'times_used')).toMatchObject({ columnType: 'int(10) unsigned', nullable: true, default: 'NULL', charset: null });
    expect(tag.find((c) => c.name === 'updated_at')?.extra).toMatch(/on update current_timestamp/i);
    expect(r.schema.indexes).toContainEqual({ table: 'core_tag', name: 'PRIMARY', unique: true, columns: ['id'] });
    expect(r.schema.indexes).toContainEqual({ table: 'core_tag', name: 'name', unique: true, columns: ['name'] });
    expect(r.schema.columns.filter((c) => c.table === 'core_list').map((c) => `${c.name} ${c.columnType}`)).toEqual([
      'id int(11)',
      'name varchar(255)',
      'notes longtext',
      'is_default tinyint(1)',
      'amount decimal(10,2)',
    ]);
    expect(r.schema.foreignKeys).toEqual([{ table: 'core_page', name: 'core_page_list_fk', columns: ['list_id'], refTable: 'core_list', refColumns: ['id'] }]);
    expect(r.schema.columns.filter((c) => c.table === 'core_user').map((c) => c.name)).toEqual(['id', 'email']);
  });

  it('lists every statement it skipped, with its line', () => {
    expect(r.skipped).toEqual([
      { line: 2, kind: 'versioned comment /*!…*/' },
      { line: 3, kind: 'DROP' },
      { line: 16, kind: 'INSERT' },
    ]);
  });

  it('reports every stray character and client decoration it ignored, with line:col', () => {
    const notes = r.notes.map((n) => `${n.line}:${n.col}: ${n.message}`);
    expect(notes).toContain('1:1: ignored a byte-order mark');
    expect(notes).toContain('17:1: ignored a \\G row header');
    expect(notes).toContain('18:1: ignored the "Table:" line of \\G output');
    expect(notes).toContain('19:1: read the statement after "Create Table:"');
    expect(notes).toContain('19:28: read the typographic quote “ as a plain quote');
    expect(notes).toContain('19:38: read the typographic quote ” as a plain quote');
    expect(notes).toContain('27:1: ignored a mysql client table border');
    expect(notes).toContain('28:1: ignored the mysql client table header');
    expect(notes).toContain('30:1: read the statement in the mysql client table cell (literal \\n read as line breaks)');
    expect(notes).toContain('40:10: read the stray character U+00A0 as a space');
  });

  it('reports what it cannot read as problems at line:col and keeps reading', () => {
    expect(r.problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).toEqual(['35:24: unknown column attribute "SPARKLY" (column ok_col): ignored']);
  });

  it('proposes TableDefs with the CDC conventions; an unknown type is a problem at its line, not a guess', () => {
    const p = proposeTables(r.schema, { targetSchema: 'ak_sumofus', file: 'messy-mysql-dump.sql' });
    const tag = p.tables.find((t) => t.name === 'core_tag')!;
    expect(tag.columns.map((c) => `${c.name} ${c.type}${c.notNull ? ' not null' : ''}${c.default !== undefined ? ` default ${c.default}` : ''}`)).toEqual([
      'id integer not null',
      'created_at timestamp not null',
      'updated_at timestamp not null',
      "hidden smallint not null default '0'",
      'name varchar(765) not null',
      'times_used bigint default NULL',
      'order_index integer not null',
    ]);
    expect(tag.primaryKey).toEqual(['id']);
    expect(tag.unique).toEqual([['name']]);
    const list = p.tables.find((t) => t.name === 'core_list')!;
    expect(list.columns.find((c) => c.name === 'notes')?.type).toBe('varchar(65535)');
    expect(list.columns.find((c) => c.name === 'amount')).toMatchObject({ type: 'numeric(10,2)', notNull: true, default: "'0.00'" });
    expect(p.tables.find((t) => t.name === 'core_page')?.foreignKeys).toEqual([{ columns: ['list_id'], references: { table: 'core_list', columns: ['id'] } }]);
    expect(p.tables.map((t) => t.name)).not.toContain('broken');
    expect(p.problems).toEqual(['messy-mysql-dump.sql:34:3: broken.blob_thing: unknown MySQL type "frobnicate(3)" — the table is not proposed']);
    expect(p.notes).toContain('messy-mysql-dump.sql:22:3: core_list.notes: longtext: values longer than 65,535 bytes do not fit varchar(65535)');
  });
});
