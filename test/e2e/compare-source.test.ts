/**
 * `/redshift compare` end to end: signed Slack HTTP → the bot → aggregates computed by MariaDB (the source, through the
 * real mysql2 adapter in a read-only session) and by the sandbox warehouse (real AWS SDK → Data API → PostgreSQL).
 *
 * The same generated rows are written to both sides, then the warehouse is damaged behind the bot's back: a missing id
 * range in core_usermailing, one changed value in core_tag. The reply must name exactly those ranges, say what it
 * compared, and never print ✓ for a table where nothing could be compared (rows only inside the lag window).
 */
import { randomBytes } from 'node:crypto';
import { createConnection, type Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng, tableGenerator } from '../../src/sandbox/apply-loop.js';
import { qualified, quoteIdent } from '../../src/schema/identifiers.js';
import type { TableDef } from '../../src/schema/model.js';
import { createMysqlSource, type MysqlSource } from '../../src/source/mysql.js';
import { runCli } from '../../src/cli.js';
import { CHANNEL, REPO, SCHEMA, startBotHarness, type BotHarness } from '../support/bot-harness.js';

const MYSQL = 'mysql://root@127.0.0.1:3306';
const DB = `rso_compare_${process.pid}_${randomBytes(3).toString('hex')}`;
const HOUR_AGO = Date.now() - 3_600_000;

/** The source tables, as ActionKit's MySQL has them (types the CDC service mapped to schemas/). */
const SOURCE_DDL = [
  `CREATE TABLE core_tag (
     id int(11) NOT NULL AUTO_INCREMENT, created_at datetime NOT NULL, updated_at datetime NOT NULL,
     hidden tinyint(1) NOT NULL, name varchar(255) NOT NULL, times_used int(11) DEFAULT NULL, order_index int(11) NOT NULL,
     PRIMARY KEY (id), UNIQUE KEY name (name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE core_usermailing (
     id bigint(20) NOT NULL AUTO_INCREMENT, mailing_id int(11) NOT NULL, user_id int(11) NOT NULL,
     subject_id int(11) DEFAULT NULL, created_at datetime NOT NULL, PRIMARY KEY (id)) ENGINE=InnoDB`,
  `CREATE TABLE core_list (
     id int(11) NOT NULL AUTO_INCREMENT, created_at datetime NOT NULL, updated_at datetime NOT NULL, hidden tinyint(1) NOT NULL,
     name varchar(255) NOT NULL, notes varchar(255) DEFAULT NULL, is_default tinyint(1) NOT NULL, PRIMARY KEY (id)) ENGINE=InnoDB`,
];

type Row = Record<string, string | number | boolean | null>;

function rowsFor(def: TableDef, count: number, now: number, seed: number): Row[] {
  const gen = tableGenerator(def.columns.map((c) => ({ name: c.name, type: c.type, notNull: c.notNull })), 'id');
  const rng = new Prng(seed);
  // names are unique in core_tag / core_list: suffix the id
  return Array.from({ length: count }, (_, i) => {
    const r = gen.insert(i + 1, rng, now) as Row;
    if (typeof r['name'] === 'string') r['name'] = `${r['name']}-${i + 1}`;
    return r;
  });
}

async function writeBoth(h: BotHarness, my: Connection, def: TableDef, rows: Row[]): Promise<void> {
  const cols = def.columns.map((c) => c.name);
  for (let i = 0; i < rows.length; i += 200) {
    const chunk = rows.slice(i, i + 200);
    const pgParams: unknown[] = [];
    const tuples = chunk.map((r) => `(${cols.map((c) => (pgParams.push(r[c] ?? null), `$${pgParams.length}`)).join(', ')})`);
    await h.sandbox.sql(`INSERT INTO ${qualified(SCHEMA, def.name)} (${cols.map(quoteIdent).join(', ')}) VALUES ${tuples.join(', ')}`, pgParams);
    const myParams = chunk.flatMap((r) => cols.map((c) => r[c] ?? null));
    await my.query(`INSERT INTO \`${def.name}\` (${cols.map((c) => `\`${c}\``).join(', ')}) VALUES ${chunk.map(() => `(${cols.map(() => '?').join(', ')})`).join(', ')}`, myParams);
  }
}

describe('/redshift compare against a MariaDB source', () => {
  let h: BotHarness;
  let my: Connection;
  let source: MysqlSource;

  beforeAll(async () => {
    my = await createConnection(`${MYSQL}/test`);
    await my.query(`CREATE DATABASE \`${DB}\` CHARACTER SET utf8mb4`);
    await my.changeUser({ database: DB });
    for (const ddl of SOURCE_DDL) await my.query(ddl);
    source = createMysqlSource({ url: `${MYSQL}/${DB}` });
    h = await startBotHarness({ name: 'compare', rowsPerTable: 0, source, compare: { lagSeconds: 300 } });
    const tag = h.registry.find('core_tag')!;
    const um = h.registry.find('core_usermailing')!;
    const list = h.registry.find('core_list')!;
    await writeBoth(h, my, tag, rowsFor(tag, 300, HOUR_AGO, 7));
    await writeBoth(h, my, um, rowsFor(um, 1000, HOUR_AGO, 8));
    // core_list: every row changed just now, i.e. inside the lag window on both sides
    await writeBoth(h, my, list, rowsFor(list, 20, Date.now(), 9));
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    await source?.close();
    await my?.query(`DROP DATABASE IF EXISTS \`${DB}\``);
    await my?.end();
  });

  const cli = async (...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> => {
    const out: string[] = [];
    const err: string[] = [];
    const env = { SOURCE_DATABASE_URL: `${MYSQL}/${DB}`, SCHEMAS_DIR: 'schemas' };
    const code = await runCli(argv, { out: (l) => out.push(...l.split('\n')), err: (l) => err.push(...l.split('\n')), env, cwd: REPO });
    return { code, out, err };
  };

  /** the answer: posted in the channel (like status), or said to the user alone when it could not compare at all */
  const ask = async (text: string): Promise<string> => {
    const seen = new Set(h.fake.calls);
    const r = await h.slash(text);
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(3_000);
    const call = await h.fake.waitFor(
      (c) => (c.method === 'chat.postMessage' && !seen.has(c) && c.body.channel === CHANNEL) || (c.method === 'response_url' && c.responseId === r.responseId),
      60_000,
    );
    const body = String(call.body.text);
    expect(body.startsWith('```') && body.endsWith('```')).toBe(true);
    return body.slice(3, -3).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  };

  it('equal data: ✓ with the rows, id window, columns and lag cutoff it compared', async () => {
    const text = await ask('compare core_tag');
    expect(text).toContain('ak_sumofus.core_tag: ✓ equal — 300 rows on each side, 7 columns checksummed');
    expect(text).toMatch(/compared: source 300 rows, warehouse 300 rows with ids 1–300 in \d+ ranges of \d+; rows with updated_at at or after \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(the last 300 s: replication lag\) left out on both sides \(source 0, warehouse 0\)/);
    expect(text).toContain('columns: id, created_at, updated_at, hidden, name, times_used, order_index');
    expect(text).toContain('rows: source 300, warehouse 300 · max(id): source 300, warehouse 300');
  });

  it('finds a missing id range and one changed row, and names exactly those ranges', async () => {
    await h.sandbox.sql(`DELETE FROM ${qualified(SCHEMA, 'core_usermailing')} WHERE id BETWEEN 401 AND 480`);
    await h.sandbox.sql(`UPDATE ${qualified(SCHEMA, 'core_tag')} SET times_used = COALESCE(times_used, 0) + 1 WHERE id = 42`);

    const um = await ask('compare core_usermailing');
    expect(um).toContain('ak_sumofus.core_usermailing: ✗ differs — 1 id range differs');
    expect(um).toContain('✗ ids 401–480: source 80 rows, warehouse 0 rows — missing in the warehouse');
    // no updated_at: the lag window uses created_at
    expect(um).toMatch(/rows with created_at at or after .* left out on both sides/);
    expect(um.match(/✗ id/g)).toHaveLength(1);

    const tag = await ask('compare core_tag');
    expect(tag).toContain('ak_sumofus.core_tag: ✗ differs — 1 id range differs');
    expect(tag).toContain('✗ id 42: source 1 row, warehouse 1 row — same count, different values');
    expect(tag.match(/✗ id/g)).toHaveLength(1);
  });

  it('the same compare asked twice at once runs once and answers both', async () => {
    const counts = async () => (await h.statements({ name: 'compare: counts of ak_sumofus.core_usermailing' })).length;
    const before = await counts();
    const posts = () => h.fake.callsTo('chat.postMessage').filter((c) => c.body.channel === CHANNEL);
    const postsBefore = posts().length;
    const [a, b] = await Promise.all([ask('compare core_usermailing'), ask('compare core_usermailing')]);
    // both requests are answered in the channel (wait for both, so no late answer reaches the next test)
    await h.waitUntil(() => posts().length === postsBefore + 2, 'two answers');
    const answers = posts().slice(postsBefore).map((c) => String(c.body.text));
    expect(answers[0]).toBe(answers[1]);
    expect(a).toContain('✗ ids 401–480: source 80 rows, warehouse 0 rows — missing in the warehouse');
    expect(b).toBe(a);
    expect((await counts()) - before).toBe(1);
  });

  it('never shows ✓ when every row is inside the lag window, and --all reports every table', async () => {
    const list = await ask('compare core_list');
    expect(list).toContain('ak_sumofus.core_list: — nothing compared: no row older than the lag window on either side');
    expect(list).toContain('left out on both sides (source 20, warehouse 20)');
    expect(list).not.toContain('✓');

    const all = await ask('compare --all');
    const tables = h.registry.names().length;
    expect(all.split('\n')[0]).toBe(`${tables} tables: 0 equal, 2 different, ${tables - 3} missing, 1 with nothing to compare`);
    expect(all).toContain('ak_sumofus.core_action: ✗ not compared — core_action does not exist in the source');
    expect(all).toContain('✗ ids 401–480: source 80 rows, warehouse 0 rows — missing in the warehouse');
  });

  it('schema diff --source: equal first, then names the column added upstream (Slack and CLI)', async () => {
    const r0 = await h.slash('schema diff core_tag --source');
    expect(String((await h.waitForResponse(r0.responseId, undefined, 30_000)).body.text)).toBe(`No difference from the MySQL source ${DB}: 1 table match schemas/.`);
    const clean = await cli('schema', 'diff', '--source', 'core_tag', 'core_usermailing');
    expect(clean.err).toEqual([]);
    expect(clean.out.at(-1)).toBe(`no difference: 2 tables of schemas/ match the source ${DB}`);
    expect(clean.code).toBe(0);

    await my.query('ALTER TABLE core_tag ADD COLUMN color varchar(20) NOT NULL DEFAULT \'red\' AFTER name, MODIFY times_used bigint(20) DEFAULT NULL');
    const r1 = await h.slash('schema diff --source');
    const text = String((await h.waitForResponse(r1.responseId, undefined, 30_000)).body.text);
    expect(text).toContain(`schemas/ and the MySQL source ${DB} disagree on`);
    expect(text).toContain(
      'column color (varchar(20) → varchar(60) NOT NULL) is in the source but not in schemas/: added upstream? Replication of core_tag needs it — /redshift modify core_tag add column color varchar(60)',
    );
    expect(text).toContain('column times_used: schemas/ says integer, the source&#39;s bigint(20) maps to bigint'.replace('&#39;', "'"));
    expect(text).toContain(`ak_sumofus.core_action\n  - not in the source database ${DB}`);
    const drift = await cli('schema', 'diff', '--source', 'core_tag');
    expect(drift.code).toBe(1);
    expect(drift.out).toContain('ak_sumofus.core_tag: column times_used: schemas/ says integer, the source\'s bigint(20) maps to bigint');
  });

  it('compares only the columns the source has, and lists the others as not compared', async () => {
    // times_used holds the changed value of id 42; once the source no longer has the column, core_tag is equal again
    await my.query('ALTER TABLE core_tag DROP COLUMN times_used');
    const tag = await ask('compare core_tag');
    expect(tag).toContain('ak_sumofus.core_tag: ✓ equal — 300 rows on each side, 6 columns checksummed');
    expect(tag).toContain('not compared: times_used (integer) — not in the source table (added in the warehouse, or renamed)');
    expect(tag).toContain('columns: id, created_at, updated_at, hidden, name, order_index');
  });

  it('schema import-mysql proposes schemas/ files from information_schema that match the CDC-built definitions', async () => {
    const r = await cli('schema', 'import-mysql', 'core_usermailing', 'core_list');
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const out = r.out.join('\n');
    expect(out).toContain('  - { name: id, type: bigint, notNull: true }');
    expect(out).toContain('  - { name: created_at, type: timestamp, notNull: true }');
    expect(out).toContain('  - { name: subject_id, type: integer, default: "NULL" }');
    expect(out).toContain('  - { name: name, type: varchar(765), notNull: true }');
    expect(out).toContain('  - { name: is_default, type: smallint, notNull: true }');
    expect(r.out.at(-1)).toBe('proposed 2 of 2 tables');
  });

  it('a row updated at the source inside the lag window is not reported as missing: its range is named as in flight', async () => {
    // the CDC service has not applied this update yet: the source row is inside the lag window, the warehouse still has
    // the old version (settled). Counting the settled rows on each side alone would call it "only in the warehouse".
    await my.query('UPDATE core_tag SET order_index = order_index + 5, updated_at = UTC_TIMESTAMP() WHERE id = 7');
    try {
      const tag = await ask('compare core_tag');
      expect(tag).not.toMatch(/✗ id 7:/);
      expect(tag).toMatch(/note: id 7 changed within the lag window on one side: not compared \(compare again once the window has passed\)/);
    } finally {
      await my.query(`UPDATE core_tag SET updated_at = FROM_UNIXTIME(${Math.floor(HOUR_AGO / 1000)}), order_index = order_index - 5 WHERE id = 7`);
    }
  });

  it('the source session is read-only: a write through it is refused by the server', async () => {
    // the adapter has no write API at all; prove the session setting itself on a pooled connection
    await expect(
      (source as unknown as { rows(sql: string, v: string[], what: string): Promise<unknown> }).rows('DELETE FROM core_tag WHERE id = 1', [], 'write probe'),
    ).rejects.toThrow(/read only|READ ONLY|read-only/i);
    const [[row]] = (await my.query('SELECT COUNT(*) AS n FROM core_tag WHERE id = 1')) as unknown as [[{ n: number }]];
    expect(Number(row.n)).toBe(1);
  });
});
