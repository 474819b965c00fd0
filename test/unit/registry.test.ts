import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableKey, type TableDef } from '../../src/schema/model.js';
import {
  ForeignKeyCycleError,
  RegistryError,
  defaultSchemasDir,
  foreignKeyOrder,
  formatProblem,
  loadRegistry,
  parseTableFile,
  referencingTables,
  tableToYaml,
  writeTableFile,
  type Registry,
  type RegistryProblem,
} from '../../src/schema/registry.js';

const ALL_26 = [
  'core_action', 'core_actionfield', 'core_click', 'core_clickurl', 'core_list', 'core_location', 'core_mailing',
  'core_mailing_tags', 'core_open', 'core_order', 'core_orderrecurring', 'core_page', 'core_page_tags', 'core_phone',
  'core_subscription', 'core_subscriptionhistory', 'core_tag', 'core_transaction', 'core_user', 'core_useragent',
  'core_userfield', 'core_usermailing', 'share_action', 'share_click', 'share_link', 'share_type',
];

let tmpRoot: string;
let reg: Registry;

beforeAll(async () => {
  tmpRoot = await mkdtemp(path.join(os.tmpdir(), 'rso-registry-'));
  reg = await loadRegistry();
});
afterAll(async () => {
  await rm(tmpRoot, { recursive: true, force: true });
});

function table(name: string): TableDef {
  const t = reg.find(name);
  if (!t) throw new Error(`no table ${name}`);
  return t;
}
const col = (t: TableDef, name: string) => t.columns.find((c) => c.name === name);

/** A fresh `<tmp>/<n>/schemas` folder holding the given files (paths relative to schemas/). */
let dirCount = 0;
async function schemasDir(files: Record<string, string>): Promise<string> {
  const dir = path.join(tmpRoot, String(++dirCount), 'schemas');
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  }
  await mkdir(dir, { recursive: true });
  return dir;
}

describe('the real schemas/ folder (ak_sumofus, 26 tables)', () => {
  it('declares the change tracking of every table: updated_at where it exists, append_only for opens and clicks, none for the rest', () => {
    const tracking = Object.fromEntries(ALL_26.map((n) => [n, table(n).changeTracking]));
    const noUpdatedAt = ['core_open', 'core_click', 'core_clickurl', 'core_actionfield', 'core_userfield', 'core_mailing_tags', 'core_page_tags', 'core_usermailing'];
    for (const n of ALL_26) {
      if (noUpdatedAt.includes(n)) continue;
      expect(tracking[n], n).toEqual({ updated_at: 'updated_at' });
    }
    expect(tracking.core_open).toEqual({ append_only: 'id' });
    expect(tracking.core_click).toEqual({ append_only: 'id' });
    for (const n of ['core_clickurl', 'core_actionfield', 'core_userfield', 'core_mailing_tags', 'core_page_tags', 'core_usermailing']) expect(tracking[n], n).toBe('none');
  });

  it('loads all 26 tables from <repo>/schemas with ak_sumofus as the default schema', () => {
    expect(reg.dir).toBe(defaultSchemasDir());
    expect(reg.tables.size).toBe(26);
    expect(reg.defaultSchema).toBe('ak_sumofus');
    expect(reg.names()).toEqual(ALL_26);
    for (const [key, file] of reg.files) expect(file).toBe(path.join(reg.dir, 'ak_sumofus', `${key.split('.')[1]}.yml`));
  });

  it('finds tables by plain name, schema.name and case-insensitively', () => {
    expect(reg.find('core_user')?.name).toBe('core_user');
    expect(reg.find('ak_sumofus.core_user')).toBe(reg.find('core_user'));
    expect(reg.find('CORE_USER')).toBe(reg.find('core_user'));
    expect(reg.get('ak_sumofus', 'core_open')?.columns).toHaveLength(5);
    expect(reg.find('core_users')).toBeUndefined();
    expect(reg.find('other.core_user')).toBeUndefined();
  });

  it('core_user: columns, keys, interleaved sort key, cdc replication', () => {
    const t = table('core_user');
    expect(t.columns.map((c) => c.name)).toEqual([
      'id', 'created_at', 'updated_at', 'email', 'prefix', 'first_name', 'middle_name', 'last_name', 'suffix', 'password',
      'subscription_status', 'address1', 'address2', 'city', 'state', 'region', 'postal', 'zip', 'plus4', 'country',
      'source', 'lang_id', 'rand_id',
    ]);
    expect(col(t, 'created_at')).toEqual({ name: 'created_at', type: 'timestamp', notNull: true });
    expect(col(t, 'middle_name')).toEqual({ name: 'middle_name', type: 'varchar(765)', notNull: true, default: "''" });
    expect(col(t, 'zip')).toEqual({ name: 'zip', type: 'varchar(15)', notNull: true });
    expect(col(t, 'plus4')).toEqual({ name: 'plus4', type: 'varchar(12)', notNull: false });
    expect(col(t, 'lang_id')).toEqual({ name: 'lang_id', type: 'integer', notNull: false, default: 'NULL' });
    expect(t.primaryKey).toEqual(['id']);
    expect(t.unique).toEqual([['email']]);
    expect(t.foreignKeys).toEqual([]);
    expect(t.distStyle).toBe('KEY');
    expect(t.distKey).toBe('id');
    expect(t.sortKey).toEqual({ style: 'INTERLEAVED', columns: ['id', 'email', 'created_at', 'country', 'lang_id', 'subscription_status'] });
    expect(t.replication).toEqual({ provider: 'cdc', service: 'flydata' });
  });

  it("core_page: notes default '''' (a quoted single quote), FK to core_list", () => {
    const t = table('core_page');
    expect(t.columns).toHaveLength(20);
    expect(t.columns[6]).toEqual({ name: 'notes', type: 'varchar(765)', notNull: false, default: "''''" });
    expect(t.foreignKeys).toEqual([{ columns: ['list_id'], references: { table: 'core_list', columns: ['id'] } }]);
    expect(t.unique).toEqual([['name']]);
    expect(t.sortKey).toEqual({ style: 'INTERLEAVED', columns: ['id', 'created_at', 'lang_id', 'type', 'title'] });
  });

  it('core_mailing: 58 columns including the reserved word limit, self-referencing FK', () => {
    const t = table('core_mailing');
    expect(t.columns).toHaveLength(58);
    const i = t.columns.findIndex((c) => c.name === 'limit');
    expect(i).toBe(39);
    expect(t.columns[i]).toEqual({ name: 'limit', type: 'integer', notNull: false });
    expect(t.columns[i - 1]?.name).toBe('excludes_id');
    expect(t.columns[i + 1]?.name).toBe('sort_by');
    expect(col(t, 'html')?.type).toBe('varchar(65535)');
    expect(col(t, 'rate')?.type).toBe('double precision');
    expect(col(t, 'send_date')).toEqual({ name: 'send_date', type: 'varchar(765)', notNull: true });
    expect(t.foreignKeys.map((fk) => `${fk.columns[0]}->${fk.references.table}`)).toEqual([
      'landing_page_id->core_page',
      'recurring_source_mailing_id->core_mailing',
    ]);
    expect(t.sortKey).toEqual({ style: 'INTERLEAVED', columns: ['id', 'started_at', 'recurring_schedule_id'] });
  });

  it('core_usermailing is the one DMS table', () => {
    const t = table('core_usermailing');
    expect(t.replication).toEqual({
      provider: 'dms',
      taskId: 'flydata-core-usermailing',
      replicationInstance: 'core-usermailing-replication',
      logGroup: 'dms-tasks-core-usermailing-replication',
    });
    expect(t.columns.map((c) => `${c.name} ${c.type}${c.notNull ? ' not null' : ''}`)).toEqual([
      'id bigint not null', 'mailing_id integer not null', 'user_id integer not null', 'subject_id integer', 'created_at timestamp not null',
    ]);
    expect(t.distKey).toBe('user_id');
    expect(t.sortKey).toEqual({ style: 'INTERLEAVED', columns: ['user_id', 'mailing_id', 'created_at', 'id'] });
    const others = [...reg.tables.values()].filter((x) => x.name !== 'core_usermailing');
    expect(others.every((x) => x.replication.provider === 'cdc' && x.replication.service === 'flydata')).toBe(true);
  });

  it("money columns: numeric(10,2) with '0.00' and 'USD' defaults; float and varchar(max) canonical", () => {
    const o = table('core_order');
    expect(col(o, 'total')).toEqual({ name: 'total', type: 'numeric(10,2)', notNull: true });
    expect(col(o, 'currency')).toEqual({ name: 'currency', type: 'varchar(9)', notNull: true, default: "'USD'" });
    expect(col(o, 'total_converted')).toEqual({ name: 'total_converted', type: 'numeric(10,2)', notNull: true, default: "'0.00'" });
    expect(o.sortKey).toEqual({ style: 'COMPOUND', columns: ['id', 'action_id', 'user_id', 'total_converted', 'status', 'account'] });
    expect(col(table('core_orderrecurring'), 'start')).toEqual({ name: 'start', type: 'date', notNull: true });
    expect(col(table('core_action'), 'is_forwarded')).toEqual({ name: 'is_forwarded', type: 'smallint', notNull: true, default: '0' });
    expect(col(table('core_userfield'), 'value')).toEqual({ name: 'value', type: 'varchar(65535)', notNull: true, default: "''" });
    expect(col(table('core_location'), 'longitude')).toEqual({ name: 'longitude', type: 'double precision', notNull: false, default: 'NULL' });
    expect(table('core_location').primaryKey).toEqual(['user_id']);
  });

  it('sort key styles: interleaved up to 8 columns, compound elsewhere', () => {
    const styles = Object.fromEntries([...reg.tables.values()].map((t) => [t.name, `${t.sortKey.style}(${t.sortKey.columns.length})`]));
    expect(styles['core_orderrecurring']).toBe('INTERLEAVED(8)');
    expect(styles['core_list']).toBe('COMPOUND(1)');
    expect(styles['share_type']).toBe('COMPOUND(1)');
    expect(styles['core_userfield']).toBe('COMPOUND(4)');
    expect(styles['core_actionfield']).toBe('COMPOUND(3)');
    expect(styles['core_order']).toBe('COMPOUND(6)');
    expect(Object.values(styles).filter((s) => s.startsWith('INTERLEAVED'))).toHaveLength(21);
    expect([...reg.tables.values()].every((t) => t.distStyle === 'KEY' && t.distKey !== undefined)).toBe(true);
    expect(table('core_click').distKey).toBe('user_id');
    expect(table('core_useragent').sortKey.columns).toEqual(['is_mobile', 'is_phone', 'is_tablet', 'is_desktop', 'browser', 'device']);
  });

  it('the files use canonical types and comment each alias the reference used', async () => {
    const text = await readFile(reg.files.get('ak_sumofus.core_mailing')!, 'utf8');
    expect(text).toContain('  - { name: created_at, type: timestamp, notNull: true }  # datetime in the reference\n');
    expect(text).toContain('  - { name: queued_at, type: timestamp }\n');
    expect(text).toContain('  - { name: html, type: varchar(65535) }  # varchar(max) in the reference\n');
    expect(text).toContain('  - { name: rate, type: double precision }  # float in the reference\n');
    expect(text).not.toMatch(/type: (datetime|float|varchar\(max\))/);
  });
});

describe('foreignKeyOrder / referencingTables', () => {
  it('puts every referenced table before the tables referencing it', () => {
    const order = foreignKeyOrder(reg.tables.values()).map((t) => t.name);
    expect(order).toHaveLength(26);
    expect(new Set(order).size).toBe(26);
    const pos = (n: string): number => order.indexOf(n);
    expect(pos('core_user')).toBeLessThan(pos('core_action'));
    expect(pos('core_list')).toBeLessThan(pos('core_page'));
    expect(pos('core_page')).toBeLessThan(pos('core_mailing'));
    expect(pos('core_mailing')).toBeLessThan(pos('core_usermailing'));
    expect(pos('core_action')).toBeLessThan(pos('core_order'));
    expect(pos('core_order')).toBeLessThan(pos('core_transaction'));
    expect(pos('share_link')).toBeLessThan(pos('share_action'));
    for (const t of reg.tables.values())
      for (const fk of t.foreignKeys)
        if (fk.references.table !== t.name) expect(pos(fk.references.table), `${fk.references.table} before ${t.name}`).toBeLessThan(pos(t.name));
  });

  it('is stable: the input order breaks ties', () => {
    const a = { ...table('core_list') };
    const b = { ...table('core_tag') };
    expect(foreignKeyOrder([b, a]).map((t) => t.name)).toEqual(['core_tag', 'core_list']);
    expect(foreignKeyOrder([table('core_page'), table('core_list')]).map((t) => t.name)).toEqual(['core_list', 'core_page']);
  });

  it('names the tables of a cycle', () => {
    const mk = (name: string, ref: string): TableDef => ({
      ...structuredClone(table('core_tag')),
      schema: 's',
      name,
      foreignKeys: [{ columns: ['id'], references: { table: ref, columns: ['id'] } }],
    });
    let err: unknown;
    try {
      foreignKeyOrder([mk('a', 'b'), mk('b', 'c'), mk('c', 'a')]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ForeignKeyCycleError);
    expect((err as ForeignKeyCycleError).cycle).toEqual(['s.a', 's.b', 's.c', 's.a']);
    expect((err as Error).message).toBe('foreign keys form a cycle: s.a -> s.b -> s.c -> s.a; no order puts every referenced table first');
    // a self-reference is not a cycle
    expect(foreignKeyOrder([mk('a', 'a')]).map(tableKey)).toEqual(['s.a']);
  });

  it('lists the tables referencing a table, self-references included', () => {
    const refs = referencingTables(reg, 'ak_sumofus', 'core_mailing').map((r) => `${r.table.name}.${r.fk.columns.join(',')}`);
    expect(refs).toEqual([
      'core_action.mailing_id',
      'core_action.referring_mailing_id',
      'core_click.mailing_id',
      'core_mailing.recurring_source_mailing_id',
      'core_mailing_tags.mailing_id',
      'core_open.mailing_id',
      'core_usermailing.mailing_id',
    ]);
    expect(referencingTables(reg, 'ak_sumofus', 'core_usermailing')).toEqual([]);
    expect(referencingTables(reg, 'ak_sumofus', 'core_user').map((r) => r.table.name)).toContain('core_usermailing');
  });
});

describe('tableToYaml / writeTableFile', () => {
  it('round-trips all 26 tables through parseTableFile, and rendering is stable', () => {
    expect(reg.tables.size).toBe(26);
    for (const t of reg.tables.values()) {
      const text = tableToYaml(t);
      const back = parseTableFile(`${t.name}.yml`, text);
      expect(back.problems).toEqual([]);
      expect(back.table).toEqual(t);
      expect(tableToYaml(back.table!)).toBe(text);
    }
  });

  it('quotes what YAML would misread and round-trips odd names and defaults', () => {
    const t: TableDef = {
      ...structuredClone(table('core_tag')),
      schema: 'Odd Schema',
      name: 'yes',
      columns: [
        { name: 'null', type: 'numeric(12,4)', notNull: true, default: '0.5' },
        { name: 'a "quoted", name', type: 'varchar(10)', notNull: false, default: "'it''s: #1, {x}'" },
        { name: 'true', type: 'boolean', notNull: false, default: 'true' },
      ],
      primaryKey: ['null'],
      unique: [['a "quoted", name', 'true']],
      foreignKeys: [{ columns: ['null'], references: { schema: 'Odd Schema', table: 'yes', columns: ['null'] } }],
      changeTracking: 'none',
      distStyle: 'EVEN',
      sortKey: { style: 'AUTO', columns: [] },
      replication: { provider: 'dms', taskId: 'a-1', logGroup: 'g', logStream: 'dms-task-ABC' },
    };
    delete t.distKey;
    const text = tableToYaml(t);
    expect(text).toContain('name: "yes"\n');
    expect(text).toContain('  - { name: "null", type: "numeric(12,4)", notNull: true, default: "0.5" }\n');
    const back = parseTableFile('x.yml', text);
    expect(back.problems).toEqual([]);
    expect(back.table).toEqual(t);
  });

  it('rewrites a file identically, keeps alias comments while the type is unchanged, and refuses bad tables', async () => {
    const dir = path.join(tmpRoot, 'copy', 'schemas');
    await cp(reg.dir, dir, { recursive: true });
    const copy = await loadRegistry(dir);
    for (const t of copy.tables.values()) {
      const before = await readFile(copy.files.get(tableKey(t))!, 'utf8');
      const written = await writeTableFile(copy, t);
      expect(written).toBe(path.join(dir, 'ak_sumofus', `${t.name}.yml`));
      expect(await readFile(written, 'utf8')).toBe(before);
    }

    // a job widens a column, changes created_at's type and adds a column
    const page = structuredClone(copy.find('core_page')!);
    page.columns = page.columns.map((c) =>
      c.name === 'title' ? { ...c, type: 'varchar(1024)' } : c.name === 'created_at' ? { ...c, type: 'timestamptz' } : c,
    );
    page.columns.push({ name: 'slug', type: 'varchar(255)', notNull: false, default: "''" });
    const file = await writeTableFile(copy, page);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('  - { name: title, type: varchar(1024), notNull: true }\n');
    expect(text).toContain('  - { name: created_at, type: timestamptz, notNull: true }\n');
    expect(text).toContain('  - { name: updated_at, type: timestamp, notNull: true }  # datetime in the reference\n');
    expect(text).toContain(`  - { name: slug, type: varchar(255), default: "''" }\n`);
    expect(text.startsWith('# ak_sumofus.core_page')).toBe(true);
    const reloaded = await loadRegistry(dir);
    expect(reloaded.find('core_page')).toEqual(page);

    // a new table in a new schema gets a new file
    const fresh = { ...structuredClone(copy.find('core_tag')!), schema: 'staging', name: 'tags_copy' };
    expect(await writeTableFile(dir, fresh)).toBe(path.join(dir, 'staging', 'tags_copy.yml'));
    expect((await loadRegistry(dir)).get('staging', 'tags_copy')).toEqual(fresh);

    // an FK to a table the registry does not have is refused before anything is written
    const bad = structuredClone(copy.find('core_tag')!);
    bad.foreignKeys = [{ columns: ['id'], references: { table: 'core_tags', columns: ['id'] } }];
    await expect(writeTableFile(copy, bad)).rejects.toThrow(
      'ak_sumofus/core_tag.yml: foreignKeys.0.references.table: table ak_sumofus.core_tags is not in the registry — did you mean core_tag?',
    );
    // dropping a column other tables' foreign keys reference is refused too: the registry would no longer load
    const list = structuredClone(copy.find('core_list')!);
    list.columns[0]!.name = 'list_id';
    list.primaryKey = ['list_id'];
    list.distKey = 'list_id';
    list.sortKey.columns = ['list_id'];
    const listErr = await writeTableFile(copy, list).catch((e: unknown) => e);
    expect(listErr).toBeInstanceOf(RegistryError);
    expect((listErr as RegistryError).message.split('\n')).toEqual([
      'ak_sumofus/core_page.yml: foreignKeys.0.references.columns: references ak_sumofus.core_list (id), which the new definition of ak_sumofus.core_list lacks; change core_page first',
      'ak_sumofus/core_subscription.yml: foreignKeys.0.references.columns: references ak_sumofus.core_list (id), which the new definition of ak_sumofus.core_list lacks; change core_subscription first',
      'ak_sumofus/core_subscriptionhistory.yml: foreignKeys.1.references.columns: references ak_sumofus.core_list (id), which the new definition of ak_sumofus.core_list lacks; change core_subscriptionhistory first',
    ]);
    const invalid = { ...structuredClone(copy.find('core_tag')!), distKey: 'nope' };
    await expect(writeTableFile(copy, invalid)).rejects.toThrow('distKey: distkey "nope" is not a column of core_tag');
    expect(await readFile(copy.files.get('ak_sumofus.core_tag')!, 'utf8')).toBe(await readFile(reg.files.get('ak_sumofus.core_tag')!, 'utf8'));
    expect((await readdir(path.join(dir, 'ak_sumofus'))).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Bad files: each case must give exactly one problem, at the right line, field and reason.

const BASE = `schema: ak
name: t
columns:
  - { name: id, type: integer, notNull: true }
  - { name: user_id, type: integer }
  - { name: created_at, type: timestamp }
primaryKey: [id]
distStyle: KEY
distKey: id
sortKey:
  style: COMPOUND
  columns: [id, created_at]
`;
/** BASE with line n (1-based) replaced by `text` (which may hold several lines), or removed when null. */
function edit(n: number, text: string | null, base = BASE): string {
  const lines = base.split('\n');
  if (text === null) lines.splice(n - 1, 1);
  else lines[n - 1] = text;
  return lines.join('\n');
}
const WIDE = [
  'schema: ak',
  'name: t',
  'columns:',
  ...Array.from({ length: 9 }, (_, i) => `  - { name: c${i}, type: integer }`),
  'sortKey:',
  '  style: INTERLEAVED',
  '  columns: [c0, c1, c2, c3, c4, c5, c6, c7, c8]',
  '',
].join('\n');
const USERS = `schema: ak
name: users
columns:
  - { name: id, type: integer, notNull: true }
primaryKey: [id]
`;
const withFk = (ref: string): string => edit(7, `primaryKey: [id]\nforeignKeys:\n  - { columns: [user_id], references: ${ref} }`);

interface BadCase {
  what: string;
  /** a single file parsed with parseTableFile as ak/t.yml … */
  text?: string;
  /** … or a whole schemas/ folder loaded with loadRegistry */
  files?: Record<string, string>;
  /** `file:line: field: reason` */
  expected: string;
}

const BAD: BadCase[] = [
  {
    what: 'change tracking misspelled',
    text: `${BASE}changeTracking: { updated: updated_at }\n`,
    expected: 'ak/t.yml:13: changeTracking: a mapping is not a change tracking: write none, { updated_at: <timestamp column> } or { append_only: <integer id column> }',
  },
  { what: 'change column not a column', text: `${BASE}changeTracking: { updated_at: modified }\n`, expected: 'ak/t.yml:13: changeTracking.updated_at: "modified" is not a column of t' },
  {
    what: 'change column not a timestamp',
    text: `${BASE}changeTracking: { updated_at: user_id }\n`,
    expected: 'ak/t.yml:13: changeTracking.updated_at: user_id is integer; the change column must be a timestamp',
  },
  {
    what: 'append-only id not an integer',
    text: `${BASE}changeTracking: { append_only: created_at }\n`,
    expected: 'ak/t.yml:13: changeTracking.append_only: created_at is timestamp; an append-only table is tracked by an integer id column',
  },
  { what: 'unknown type', text: edit(5, '  - { name: user_id, type: blob }'), expected: 'ak/t.yml:5: columns.1.type: unknown type "blob"' },
  {
    what: 'typo type with a suggestion',
    text: edit(6, '  - { name: created_at, type: timestampt }'),
    expected: 'ak/t.yml:6: columns.2.type: unknown type "timestampt" — did you mean timestamp?',
  },
  {
    what: 'varchar over 65535',
    text: edit(5, '  - { name: user_id, type: varchar(70000) }'),
    expected: 'ak/t.yml:5: columns.1.type: varchar length 70000 is out of range 1–65535',
  },
  {
    what: 'numeric precision over 38',
    text: edit(5, '  - { name: user_id, type: "numeric(40,2)" }'),
    expected: 'ak/t.yml:5: columns.1.type: numeric precision 40 is out of range 1–38',
  },
  { what: 'distkey not a column', text: edit(9, 'distKey: uid'), expected: 'ak/t.yml:9: distKey: distkey "uid" is not a column of t' },
  {
    what: 'distKey with distStyle EVEN',
    text: edit(8, 'distStyle: EVEN'),
    expected: 'ak/t.yml:9: distKey: a distKey needs distStyle KEY (found EVEN)',
  },
  { what: 'distStyle KEY without a distKey', text: edit(9, null), expected: 'ak/t.yml:8: distKey: distStyle KEY needs a distKey' },
  {
    what: 'sort key column missing',
    text: edit(12, '  columns: [id, created]'),
    expected: 'ak/t.yml:12: sortKey.columns.1: sort key column "created" is not a column of t',
  },
  {
    what: 'interleaved sort key over 8 columns',
    text: WIDE,
    expected: 'ak/t.yml:15: sortKey.columns: an interleaved sort key has at most 8 columns',
  },
  {
    what: 'compound sort key without columns',
    text: edit(12, null),
    expected: 'ak/t.yml:11: sortKey.columns: a COMPOUND sort key needs at least one column',
  },
  { what: 'duplicate column', text: edit(5, '  - { name: id, type: bigint }'), expected: 'ak/t.yml:5: columns.1.name: duplicate column "id"' },
  {
    what: 'duplicate sort key column',
    text: edit(12, '  columns: [id, created_at, id]'),
    expected: 'ak/t.yml:12: sortKey.columns.2: sort key column "id" appears twice',
  },
  {
    what: 'FK to an unknown table',
    files: { 'ak/users.yml': USERS, 'ak/t.yml': withFk('{ table: user, columns: [id] }') },
    expected: 'schemas/ak/t.yml:9: foreignKeys.0.references.table: table ak.user is not in the registry — did you mean users?',
  },
  {
    what: 'FK to a table in an empty schema',
    files: { 'ak/users.yml': USERS, 'ak/t.yml': withFk('{ schema: crm, table: users, columns: [id] }') },
    expected: 'schemas/ak/t.yml:9: foreignKeys.0.references.table: table crm.users is not in the registry (no tables in schema crm)',
  },
  {
    what: 'FK to a column the referenced table lacks',
    files: { 'ak/users.yml': USERS, 'ak/t.yml': withFk('{ table: users, columns: [uid] }') },
    expected: 'schemas/ak/t.yml:9: foreignKeys.0.references.columns.0: "uid" is not a column of ak.users — did you mean id?',
  },
  {
    what: 'FK column count mismatch',
    text: withFk('{ table: users, columns: [id, org_id] }'),
    expected: 'ak/t.yml:9: foreignKeys.0: foreign key and referenced column lists differ in length',
  },
  {
    what: 'FK from a column the table lacks',
    text: edit(7, 'primaryKey: [id]\nforeignKeys:\n  - { columns: [uid], references: { table: users, columns: [id] } }'),
    expected: 'ak/t.yml:9: foreignKeys.0.columns.0: foreign key column "uid" is not a column of t',
  },
  {
    what: 'identifier over 127 bytes (64 two-byte characters)',
    text: edit(5, `  - { name: ${'é'.repeat(64)}, type: integer }`),
    expected: `ak/t.yml:5: columns.1.name: identifier "${'é'.repeat(20)}…" is 128 bytes; Redshift allows 127`,
  },
  { what: 'empty table name', text: edit(2, 'name: ""'), expected: 'ak/t.yml:2: name: identifier is empty' },
  {
    what: 'default that is not a literal',
    text: edit(5, '  - { name: user_id, type: integer, default: "1; drop table x" }'),
    expected:
      "ak/t.yml:5: columns.1.default: default must be NULL, a number, a quoted string without backslashes ('it''s'), true/false, getdate(), sysdate, current_date or current_timestamp",
  },
  {
    what: 'unquoted NULL default',
    text: edit(5, '  - { name: user_id, type: integer, default: NULL }'),
    expected:
      'ak/t.yml:5: columns.1.default: YAML reads an unquoted null/NULL/~ as "no value": write default: "NULL" for a NULL default, or remove the line',
  },
  {
    what: 'unquoted number default',
    text: edit(5, '  - { name: user_id, type: integer, default: 0 }'),
    expected: 'ak/t.yml:5: columns.1.default: a default is SQL text and must be a YAML string: write default: "0"',
  },
  {
    what: 'unknown encoding',
    text: edit(5, '  - { name: user_id, type: integer, encode: zstdd }'),
    expected:
      'ak/t.yml:5: columns.1.encode: "zstdd" is not one of raw, az64, bytedict, delta, delta32k, lzo, mostly8, mostly16, mostly32, runlength, text255, text32k, zstd — did you mean zstd?',
  },
  {
    what: 'unknown column field',
    text: edit(5, '  - { name: user_id, type: integer, nullable: true }'),
    expected: 'ak/t.yml:5: columns.1.nullable: unknown field "nullable" (fields here: name, type, notNull, default, encode)',
  },
  {
    what: 'unknown table field with a suggestion',
    text: edit(7, 'primarykey: [id]'),
    expected: 'ak/t.yml:7: primarykey: unknown field "primarykey" — did you mean primaryKey?',
  },
  {
    what: 'distStyle in the wrong case',
    text: edit(8, 'distStyle: key'),
    expected: 'ak/t.yml:8: distStyle: "key" is not one of AUTO, EVEN, ALL, KEY — did you mean KEY?',
  },
  {
    what: 'notNull written as yes',
    text: edit(4, '  - { name: id, type: integer, notNull: yes }'),
    expected: 'ak/t.yml:4: columns.0.notNull: expected a boolean, found "yes"',
  },
  { what: 'missing columns', text: 'schema: ak\nname: t\n', expected: 'ak/t.yml:1: columns: required field is missing' },
  { what: 'empty columns', text: 'schema: ak\nname: t\ncolumns: []\n', expected: 'ak/t.yml:3: columns: must list at least one item' },
  {
    what: 'bad YAML syntax',
    text: edit(2, 'name: t: u'),
    expected: 'ak/t.yml:2: (yaml): invalid YAML: Nested mappings are not allowed in compact mappings',
  },
  { what: 'tab indentation', text: edit(8, '\tdistStyle: KEY'), expected: 'ak/t.yml:8: (yaml): invalid YAML: Tabs are not allowed as indentation' },
  { what: 'duplicate YAML key', text: edit(2, 'name: t\nname: u'), expected: 'ak/t.yml:3: (yaml): invalid YAML: Map keys must be unique' },
  { what: 'a list instead of a mapping', text: '- schema: ak\n', expected: 'ak/t.yml:1: (root): expected a mapping with schema, name and columns, found a list' },
  {
    what: 'an empty file',
    text: '# nothing yet\n',
    expected: 'ak/t.yml:1: (root): the file is empty; a table file is a mapping with schema, name and columns',
  },
  {
    what: 'file name is not the table name',
    files: { 'ak/t2.yml': BASE },
    expected: 'schemas/ak/t2.yml:2: name: table "t" is in a file named t2.yml; the file must be named t.yml',
  },
  {
    what: 'schema folder is not the schema',
    files: { 'crm/t.yml': BASE },
    expected: 'schemas/crm/t.yml:1: schema: schema "ak" does not match the folder "crm"; move the file to ak/ or fix the schema',
  },
  {
    what: 'the same table defined twice',
    files: { 'ak/t.yaml': BASE, 'ak/t.yml': BASE },
    expected: 'schemas/ak/t.yml:2: name: table ak.t is already defined in schemas/ak/t.yaml',
  },
  {
    what: 'a table file outside a schema folder',
    files: { 't.yml': BASE },
    expected: 'schemas/t.yml: (file): a table file belongs in the folder of its schema: <schema>/<table>.yml',
  },
  {
    what: 'bad DMS task id',
    text: `${BASE}replication:\n  provider: dms\n  taskId: core--usermailing\n  logGroup: dms-tasks-core-usermailing-replication\n`,
    expected:
      'ak/t.yml:15: replication.taskId: "core--usermailing" is not valid: a DMS task identifier is 1–255 letters, digits and hyphens, starts with a letter, and has no trailing or double hyphen',
  },
  {
    what: 'DMS replication without a log group',
    text: `${BASE}replication: { provider: dms, taskId: t1 }\n`,
    expected: 'ak/t.yml:13: replication.logGroup: required field is missing',
  },
  {
    what: 'unknown replication provider',
    text: `${BASE}replication:\n  provider: kafka\n`,
    expected: 'ak/t.yml:14: replication.provider: "kafka" is not one of cdc, dms',
  },
  {
    what: 'primary key column missing',
    text: edit(7, 'primaryKey: [id, uid]'),
    expected: 'ak/t.yml:7: primaryKey.1: primary key column "uid" is not a column of t',
  },
  {
    what: 'primary key column twice',
    text: edit(7, 'primaryKey: [id, id]'),
    expected: 'ak/t.yml:7: primaryKey.1: primary key column "id" appears twice',
  },
];

function parseLine(line: string): RegistryProblem {
  const m = /^(.*?)(?::(\d+))?: (\S+): (.*)$/.exec(line);
  if (!m) throw new Error(`bad expectation ${line}`);
  const p: RegistryProblem = { file: m[1]!, field: m[3]!, reason: m[4]! };
  if (m[2] !== undefined) p.line = Number(m[2]);
  return p;
}

describe('bad files give one located, one-line problem', () => {
  it('has at least 20 cases and BASE itself is valid', () => {
    expect(BAD.length).toBeGreaterThanOrEqual(20);
    expect(parseTableFile('ak/t.yml', BASE)).toEqual({ table: expect.objectContaining({ name: 't' }), problems: [] });
  });

  it.each(BAD)('$what', async (c) => {
    let problems: RegistryProblem[];
    if (c.text !== undefined) {
      const r = parseTableFile('ak/t.yml', c.text);
      expect(r.table).toBeUndefined();
      problems = r.problems;
    } else {
      const dir = await schemasDir(c.files ?? {});
      const err = await loadRegistry(dir).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RegistryError);
      problems = (err as RegistryError).problems;
      expect((err as RegistryError).message).toBe(c.expected);
    }
    expect(problems.map(formatProblem)).toEqual([c.expected]);
    expect(problems[0]).toEqual(parseLine(c.expected));
  });

  it('loadRegistry lists the problems of every file, sorted, and does not cascade from a broken table', async () => {
    const dir = await schemasDir({
      'ak/users.yml': edit(4, '  - { name: id, type: integr }', USERS),
      'ak/t.yml': withFk('{ table: users, columns: [id] }').replace('type: timestamp', 'type: datetime(3)'),
      'ak/z.yml': 'schema: ak\nname: z\ncolumns:\n  - { name: a, type: "varchar(max)", default: "\'\'" }\n',
      '_drafts/x.yml': 'not: [valid',
      'ak/.hidden.yml': 'not: [valid',
      'ak/notes.txt': 'ignored',
    });
    const err = await loadRegistry(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).message.split('\n')).toEqual([
      'schemas/ak/t.yml:6: columns.2.type: type datetime takes no length or precision',
      'schemas/ak/users.yml:4: columns.0.type: unknown type "integr" — did you mean integer?',
    ]);
  });

  it('model defaults are per table, and DMS task ids follow the AWS rules', () => {
    const minimal = 'schema: ak\nname: t\ncolumns:\n  - { name: id, type: int }\n';
    const a = parseTableFile('a.yml', minimal).table!;
    const b = parseTableFile('b.yml', minimal).table!;
    expect(a.sortKey).toEqual({ style: 'NONE', columns: [] });
    expect(a.replication).toEqual({ provider: 'cdc', service: 'flydata' });
    expect(a.distStyle).toBe('AUTO');
    a.sortKey.columns.push('id');
    a.unique.push(['id']);
    expect(b.sortKey.columns).toEqual([]);
    expect(b.unique).toEqual([]);
    const dms = (id: string) => parseTableFile('t.yml', `${minimal}replication: { provider: dms, taskId: ${JSON.stringify(id)}, logGroup: g }\n`).problems;
    for (const id of ['a', 'flydata-core-usermailing', `a${'b'.repeat(254)}`]) expect(dms(id)).toEqual([]);
    for (const id of ['1abc', 'abc-', 'a--b', 'a_b', '', `a${'b'.repeat(255)}`]) expect(dms(id)).toHaveLength(1);
  });

  it('an unreadable folder is one problem; an empty folder is an empty registry', async () => {
    const missing = path.join(tmpRoot, 'does-not-exist');
    const err = await loadRegistry(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).problems).toHaveLength(1);
    expect((err as RegistryError).problems[0]).toMatchObject({ file: missing, field: '(registry)' });
    const empty = await loadRegistry(await schemasDir({}));
    expect(empty.tables.size).toBe(0);
    expect(empty.names()).toEqual([]);
    expect(empty.defaultSchema).toBe('ak_sumofus');
  });

  it('defaultSchema is the only schema when the registry holds just one other', async () => {
    const dir = await schemasDir({ 'ak/t.yml': BASE, 'ak/users.yml': USERS });
    const r = await loadRegistry(dir);
    expect(r.defaultSchema).toBe('ak');
    expect(r.names()).toEqual(['t', 'users']);
    expect(r.find('users')?.name).toBe('users');
    const two = await loadRegistry(await schemasDir({ 'ak/t.yml': BASE, 'crm/users.yml': USERS.replace('schema: ak', 'schema: crm') }));
    expect(two.defaultSchema).toBe('ak_sumofus');
    expect(two.find('crm.users')?.schema).toBe('crm');
    expect(two.find('users')).toBeUndefined();
  });
});
