/**
 * Warehouse facts for status and watch, read in ONE round of concurrent Data API statements (the wall time of one round
 * trip, each statement failing on its own so a view the bot's user cannot read degrades only its part):
 *   - svv_table_info + information_schema.tables: rows, size, unsorted %, stats off %, skew (src/schema/catalog.ts)
 *   - the catalog batch behind drift (pg_table_def, information_schema.columns, svv_table_info)
 *   - CDC freshness: max(updated_at) of every cdc table that has one, in one UNION ALL query with the warehouse's clock
 * Names come from schemas/ (validated identifiers, quoted); no user text reaches the SQL.
 */
import { readTables, tableStats, type CatalogTable, type TableStats } from '../schema/catalog.js';
import { quoteIdent, quoteLiteral } from '../schema/identifiers.js';
import type { TableDef } from '../schema/model.js';
import type { Registry } from '../schema/registry.js';
import type { SqlValue, Warehouse } from '../warehouse/port.js';
import { gather, known, unknown, whyOf, type Fact } from './fact.js';

export interface Freshness {
  table: string;
  /** the column measured (updated_at) */
  column: string;
  /** newest value of the column, epoch ms; undefined when the table is empty */
  newest?: number;
}

export interface CatalogFacts {
  schema: string;
  stats: Fact<TableStats[]>;
  live: Fact<Map<string, CatalogTable>>;
  /** per cdc table with an updated_at column; tables without one are listed in `notMeasured` */
  freshness: Fact<Map<string, Freshness>>;
  /** cdc tables whose freshness cannot be measured (no updated_at column), with the reason */
  notMeasured: Array<{ table: string; why: string }>;
}

/** The column that tells how fresh a cdc table is: updated_at when it is a timestamp. */
export function freshnessColumn(def: TableDef): string | undefined {
  const c = def.columns.find((col) => col.name === 'updated_at');
  return c !== undefined && /^timestamp/.test(c.type) ? c.name : undefined;
}

/** A Data API timestamp (`2026-11-27 11:18:10[.123]`, UTC, no zone) as epoch ms. */
export function parseWarehouseTime(v: SqlValue | undefined): number | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  const s = String(v).trim();
  const iso = /[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s.replace(' ', 'T') : `${s.replace(' ', 'T')}Z`;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : undefined;
}

function freshnessSql(schema: string, tables: ReadonlyArray<{ table: string; column: string }>): string {
  return tables
    .map((t) => `SELECT ${quoteLiteral(t.table)} AS tbl, max(${quoteIdent(t.column)}) AS newest FROM ${quoteIdent(schema)}.${quoteIdent(t.table)}`)
    .join('\nUNION ALL\n');
}

async function readFreshness(wh: Warehouse, schema: string, tables: ReadonlyArray<{ table: string; column: string }>): Promise<Map<string, Freshness>> {
  const out = new Map<string, Freshness>();
  if (tables.length === 0) return out;
  const r = await wh.query(freshnessSql(schema, tables), undefined, { name: `health freshness ${schema}` });
  const col = new Map(tables.map((t) => [t.table, t.column]));
  for (const row of r.rows) {
    const table = String(row.tbl ?? '');
    const column = col.get(table);
    if (column === undefined) continue;
    const newest = parseWarehouseTime(row.newest);
    out.set(table, { table, column, ...(newest !== undefined ? { newest } : {}) });
  }
  return out;
}

/**
 * svv_table_info is visible to superusers only: a regular user reads no rows (no error), and every table would look
 * empty. When the view lists none of the schema's tables, ask whether it shows this user any table at all; if not, the
 * numbers are unknown, and the reason says how to grant it.
 */
async function visibleStats(wh: Warehouse, schema: string): Promise<TableStats[]> {
  const stats = await tableStats(wh, schema);
  if (stats.length === 0 || stats.some((x) => x.listed)) return stats;
  const r = await wh.query('SELECT COUNT(*) AS n, current_user AS u FROM svv_table_info', undefined, { name: 'health svv_table_info visibility' });
  const n = Number(r.rows[0]?.n ?? 0);
  const user = String(r.rows[0]?.u ?? 'unknown');
  if (n === 0)
    throw new Error(
      `it shows the bot's database user ${user} no table: it is visible to superusers only; GRANT SELECT ON svv_table_info TO ${user} to have status show rows, size, unsorted and stats off`,
    );
  return stats;
}

export async function gatherCatalog(wh: Warehouse, registry: Registry, schema: string = registry.defaultSchema): Promise<CatalogFacts> {
  const names = registry.names();
  const measured: Array<{ table: string; column: string }> = [];
  const notMeasured: Array<{ table: string; why: string }> = [];
  for (const name of names) {
    const def = registry.get(schema, name);
    if (def?.replication.provider !== 'cdc') continue;
    const column = freshnessColumn(def);
    if (column !== undefined) measured.push({ table: name, column });
    else notMeasured.push({ table: name, why: 'no updated_at timestamp column: freshness is not measured' });
  }
  const [stats, live, fresh] = await Promise.all([
    gather('svv_table_info', () => visibleStats(wh, schema)),
    gather('catalog (pg_table_def, information_schema.columns)', () => readTables(wh, schema, names)),
    readFreshness(wh, schema, measured).then(
      (m) => ({ ok: true as const, m }),
      (e: unknown) => ({ ok: false as const, e }),
    ),
  ]);
  let freshness: Fact<Map<string, Freshness>>;
  if (fresh.ok) freshness = known(fresh.m);
  else if (live.ok) {
    // a missing table fails the whole UNION: measure the tables that exist, and say which are missing
    const present = measured.filter((t) => live.value.has(t.table));
    for (const t of measured) if (!live.value.has(t.table)) notMeasured.push({ table: t.table, why: 'the table is missing in the warehouse' });
    freshness = await gather('freshness (max(updated_at))', () => readFreshness(wh, schema, present));
  } else freshness = unknown(`freshness (max(updated_at)): ${whyOf(fresh.e)}`);
  return { schema, stats, live, freshness, notMeasured };
}
