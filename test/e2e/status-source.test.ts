/**
 * Status and the watch against a MariaDB source (SOURCE_DATABASE_URL): counts outside compare's lag window and the lag
 * of max(updated_at), computed on each side by aggregate SQL. Rows deleted from the warehouse behind the bot's back are
 * a count drift — listed first by `/redshift status` over signed HTTP, alerted once by the watch, resolved when the rows
 * are back; a table whose newest change has not reached the warehouse is "behind the source".
 */
import { randomBytes } from 'node:crypto';
import { createConnection, type Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng, tableGenerator } from '../../src/sandbox/apply-loop.js';
import { qualified, quoteIdent } from '../../src/schema/identifiers.js';
import type { TableDef } from '../../src/schema/model.js';
import { createMysqlSource, type MysqlSource } from '../../src/source/mysql.js';
import { IncidentStore } from '../../src/watch/incidents.js';
import { slackAlertPoster } from '../../src/watch/slack-poster.js';
import { runWatch } from '../../src/watch/watch.js';
import { SCHEMA, USERS, startBotHarness, type BotHarness } from '../support/bot-harness.js';

const MYSQL = 'mysql://root@127.0.0.1:3306';
const DB = `rso_status_src_${process.pid}_${randomBytes(3).toString('hex')}`;
const TWO_HOURS_AGO = Date.now() - 2 * 3_600_000;
const ALERTS = 'C0ALERTS03';

const SOURCE_DDL = [
  `CREATE TABLE core_tag (
     id int(11) NOT NULL AUTO_INCREMENT, created_at datetime NOT NULL, updated_at datetime NOT NULL,
     hidden tinyint(1) NOT NULL, name varchar(255) NOT NULL, times_used int(11) DEFAULT NULL, order_index int(11) NOT NULL,
     PRIMARY KEY (id), UNIQUE KEY name (name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE core_list (
     id int(11) NOT NULL AUTO_INCREMENT, created_at datetime NOT NULL, updated_at datetime NOT NULL, hidden tinyint(1) NOT NULL,
     name varchar(255) NOT NULL, notes varchar(255) DEFAULT NULL, is_default tinyint(1) NOT NULL, PRIMARY KEY (id)) ENGINE=InnoDB`,
];

type Row = Record<string, string | number | boolean | null>;

function rowsFor(def: TableDef, count: number, now: number, seed: number): Row[] {
  const gen = tableGenerator(def.columns.map((c) => ({ name: c.name, type: c.type, notNull: c.notNull })), 'id');
  const rng = new Prng(seed);
  return Array.from({ length: count }, (_, i) => {
    const r = gen.insert(i + 1, rng, now) as Row;
    if (typeof r['name'] === 'string') r['name'] = `${r['name']}-${i + 1}`;
    return r;
  });
}

let h: BotHarness;
let my: Connection;
let source: MysqlSource;

async function insertWarehouse(def: TableDef, rows: Row[]): Promise<void> {
  const cols = def.columns.map((c) => c.name);
  const params: unknown[] = [];
  const tuples = rows.map((r) => `(${cols.map((c) => (params.push(r[c] ?? null), `$${params.length}`)).join(', ')})`);
  await h.sandbox.sql(`INSERT INTO ${qualified(SCHEMA, def.name)} (${cols.map(quoteIdent).join(', ')}) VALUES ${tuples.join(', ')}`, params);
}

async function insertSource(def: TableDef, rows: Row[]): Promise<void> {
  const cols = def.columns.map((c) => c.name);
  await my.query(`INSERT INTO \`${def.name}\` (${cols.map((c) => `\`${c}\``).join(', ')}) VALUES ${rows.map(() => `(${cols.map(() => '?').join(', ')})`).join(', ')}`, rows.flatMap((r) => cols.map((c) => r[c] ?? null)));
}

beforeAll(async () => {
  my = await createConnection(`${MYSQL}/test`);
  await my.query(`CREATE DATABASE \`${DB}\` CHARACTER SET utf8mb4`);
  await my.changeUser({ database: DB });
  for (const ddl of SOURCE_DDL) await my.query(ddl);
  source = createMysqlSource({ url: `${MYSQL}/${DB}` });
  h = await startBotHarness({ name: 'statussrc', rowsPerTable: 0, source, compare: { lagSeconds: 300 } });
  for (const [name, seed] of [['core_tag', 1], ['core_list', 2]] as const) {
    const def = h.registry.find(name)!;
    const rows = rowsFor(def, 40, TWO_HOURS_AGO, seed);
    await insertSource(def, rows);
    await insertWarehouse(def, rows);
  }
}, 120_000);

afterAll(async () => {
  await h?.close();
  await source?.close();
  await my?.query(`DROP DATABASE IF EXISTS \`${DB}\``);
  await my?.end();
});

describe('status and the watch against the source', () => {
  it('rows missing in the warehouse and a table behind the source are listed first; the rest is summarised', async () => {
    await h.sandbox.sql(`DELETE FROM ${SCHEMA}.core_tag WHERE id IN (5, 6)`);
    // core_list: a change reached the source now, not the warehouse (newest there: two hours ago)
    await my.query(`UPDATE core_list SET updated_at = UTC_TIMESTAMP() WHERE id = 1`);
    const before = h.fake.callsTo('chat.postMessage').length;
    await h.slash('status', { userId: USERS.stranger });
    await h.waitUntil(() => h.fake.callsTo('chat.postMessage').length > before, 'the status message', 60_000);
    const post = h.fake.callsTo('chat.postMessage')[before]!;
    const blocks = (post.body.blocks ?? []) as Array<{ type: string; text?: { text?: string } }>;
    const divider = blocks.findIndex((b) => b.type === 'divider');
    const problems = blocks.slice(1, divider).map((b) => b.text?.text ?? '').join('\n');
    expect(problems).toContain(':x: core_tag: 40 rows in the source, 38 in the warehouse (rows changed in the last 300 s left out on both sides)');
    expect(problems).toMatch(/:x: core_list is 2\.0 h behind the source \(max updated_at; threshold 60 min\)/);
    // the row updated at the source within the lag window is counted only in the warehouse: a warning, not lost rows
    expect(problems).toContain(':warning: core_list: 40 rows in the warehouse, 39 in the source outside the last 300 s');
    expect(problems).not.toContain('core_list: 39 rows in the source');
    const rest = blocks.slice(divider + 1).map((b) => b.text?.text ?? '').join('\n');
    expect(rest).toMatch(/Against the source: 2 tables compared \(counts outside the last 300 s\), 1 with rows missing in the warehouse; largest lag 2\.0 h \(core_list\); not in the source: core_action, /);
  });

  it('the watch alerts on the count drift once, and resolves it when the rows are back', async () => {
    const incidents = new IncidentStore(h.redis, h.prefix);
    const watch = () =>
      runWatch({
        health: { warehouse: h.warehouse, registry: h.registry, jobs: h.rt.jobs, source, compareLagSeconds: 300 },
        incidents,
        poster: slackAlertPoster({ token: h.token, apiUrl: h.fake.url }),
        channel: ALERTS,
      });
    const key = 'source:core_tag:count-drift';
    const first = await watch();
    expect(first.opened).toContain(key);
    expect(first.opened).toContain('source:core_list:lag');
    expect(first.opened).not.toContain('source:core_list:extra-rows');
    expect((await watch()).opened).toEqual([]);
    expect(h.fake.messages().filter((m) => m.channel === ALERTS && m.thread_ts === undefined && String(m.text).includes('core_tag: 40 rows in the source'))).toHaveLength(1);
    const def = h.registry.find('core_tag')!;
    await insertWarehouse(def, rowsFor(def, 40, TWO_HOURS_AGO, 1).filter((r) => r['id'] === 5 || r['id'] === 6));
    const r = await watch();
    expect(r.resolved).toEqual([key]);
  });
});
