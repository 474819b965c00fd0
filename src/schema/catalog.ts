/**
 * The catalog reader: a live table read back into a TableDef, with queries that run on real Redshift and on the sandbox.
 *
 * One Data API batch per read (batches take no parameters: the schema/table names are validated identifiers from
 * schemas/, rendered with quoteIdentAlways / quoteLiteral, never user text):
 *   1. SET search_path TO "<schema>"          — pg_table_def only lists tables of schemas on the search path
 *   2. pg_table_def                           — column, type, encoding, distkey, sortkey (negative = interleaved), notnull
 *   3. information_schema.columns             — column order (ordinal_position) and column_default
 *   4. svv_table_info                         — diststyle (KEY(col), EVEN, ALL, AUTO(...)) and sortkey1 (AUTO(SORTKEY)…)
 * Real svv_table_info omits empty tables. For those the dist style comes from pg_table_def.distkey (a KEY table), else
 * from PG_CLASS_INFO.releffectivediststyle (0 EVEN, 1 KEY, 8 ALL, 10+ AUTO) when that view exists; when neither can
 * tell, the aspect is listed in `unknown` and `schema diff` does not compare it.
 *
 * Not read: primary/unique/foreign keys (informational in Redshift, never enforced, so not compared: they are taken from
 * schemas/) and the replication provider (not a catalog fact). The TableDef returned carries no keys and the model's
 * default replication; compare it with diffTable, which ignores both.
 */
import type { Row, SqlValue, Warehouse } from '../warehouse/port.js';
import { checkIdentifier, quoteIdentAlways, quoteLiteral } from './identifiers.js';
import type { ColumnDef, TableDef } from './model.js';
import { formatRedshiftType, isEncoding, parseRedshiftType, type Encoding } from './types.js';

/** Aspects of a table the catalog could not tell (not compared by diffTable). */
export type UnknownAspect = 'diststyle' | 'sortstyle';

export interface CatalogTable {
  table: TableDef;
  unknown: UnknownAspect[];
}

export interface TableStats {
  schema: string;
  table: string;
  /** rows (svv_table_info.tbl_rows; 0 for a table svv_table_info omits, i.e. an empty one) */
  rows: number;
  /** size in 1 MB blocks */
  sizeMb: number;
  /** as svv_table_info prints it: KEY(id), EVEN, ALL, AUTO(ALL)…; undefined when the view omits the table */
  distStyle?: string;
  /** first sort key column, or AUTO(SORTKEY) */
  sortKey1?: string;
  /** percent of rows unsorted */
  unsorted?: number;
  /** percent the planner's statistics are stale */
  statsOff?: number;
  /** rows on the fullest slice / rows on the emptiest (svv_table_info.skew_rows); 1 is even */
  skewRows?: number;
  /** false when svv_table_info did not list the table (Redshift leaves empty tables out) */
  listed: boolean;
}

function validName(what: string, name: string): string {
  const c = checkIdentifier(name);
  if (!c.ok) throw new Error(`${what} ${JSON.stringify(name)}: ${c.error}`);
  return name;
}

const str = (v: SqlValue | undefined): string | undefined => (v === null || v === undefined ? undefined : String(v).trim());
const num = (v: SqlValue | undefined): number | undefined => {
  if (v === null || v === undefined || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
};
const bool = (v: SqlValue | undefined): boolean => v === true || v === 1 || (typeof v === 'string' && /^(t|true|1|y|yes)$/i.test(v.trim()));

/** Canonical type text when it is a Redshift type, else the catalog's own text (the diff then shows it as is). */
export function canonicalCatalogType(text: string): string {
  const p = parseRedshiftType(text);
  return p.ok ? formatRedshiftType(p.type) : text.trim().toLowerCase();
}

/** Catalog encodings: `none` is RAW. */
export function normalizeEncoding(text: string | undefined): Encoding | undefined {
  if (text === undefined) return undefined;
  const e = text.trim().toLowerCase();
  if (e === 'none' || e === '') return 'raw';
  return isEncoding(e) ? e : undefined;
}

const NOW_FORMS = /^(?:now\(\)|getdate\(\)|sysdate|current_timestamp|transaction_timestamp\(\)|localtimestamp|\('now'::text\)::timestamp(?: with(?:out)? time zone)?|'now'::timestamp(?: with(?:out)? time zone)?)$/i;
const TODAY_FORMS = /^(?:current_date|\('now'::text\)::date|'now'::date)$/i;

/**
 * A column default as information_schema prints it, or as schemas/ writes it, in one comparable spelling:
 * casts dropped (`'USD'::character varying` → `'USD'`), the current-time functions folded to `getdate()`
 * (`now()`, `sysdate`, `current_timestamp`…) and `current_date`, NULL as no default (they mean the same).
 * With a numeric column type, a quoted number is unquoted (`'-1'::integer` → `-1`).
 */
export function normalizeDefault(expr: string | undefined, type?: string): string | undefined {
  if (expr === undefined) return undefined;
  let e = expr.trim();
  for (let i = 0; i < 5; i++) {
    const before = e;
    // strip one layer of wrapping parentheses: (x)
    if (/^\((.*)\)$/s.test(e) && balanced(e.slice(1, -1))) e = e.slice(1, -1).trim();
    // strip a trailing cast ::type[(n)] [without time zone] unless the whole thing is a "now" form handled below
    if (!NOW_FORMS.test(e) && !TODAY_FORMS.test(e)) {
      const m = /^(.*)::"?[a-z_][a-z0-9_ ]*"?(?:\([0-9, ]*\))?(?:\[\])?$/is.exec(e);
      if (m?.[1] !== undefined && balanced(m[1]) && (!m[1].startsWith("'") || /^'(?:[^']|'')*'$/s.test(m[1]))) e = m[1].trim();
    }
    if (e === before) break;
  }
  if (/^null$/i.test(e)) return undefined;
  if (NOW_FORMS.test(e)) return 'getdate()';
  if (TODAY_FORMS.test(e)) return 'current_date';
  if (/^(true|false)$/i.test(e)) return e.toLowerCase();
  if (type !== undefined && isNumericType(type)) {
    const q = /^'\s*(-?\d+(?:\.\d+)?)\s*'$/.exec(e);
    if (q?.[1] !== undefined) e = q[1];
    if (/^-?\d+(?:\.\d+)?$/.test(e)) e = String(Number(e));
  }
  if (type !== undefined && /^boolean$/.test(type)) {
    const q = /^'(t|f|true|false)'$/i.exec(e);
    if (q?.[1] !== undefined) e = q[1].toLowerCase().startsWith('t') ? 'true' : 'false';
  }
  return e;
}

function isNumericType(type: string): boolean {
  return /^(smallint|integer|bigint|real|double precision|numeric\(\d+,\d+\))$/.test(type);
}

function balanced(s: string): boolean {
  let depth = 0;
  let inStr = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inStr) {
      if (c === "'") {
        if (s[i + 1] === "'") i++;
        else inStr = false;
      }
    } else if (c === "'") inStr = true;
    else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth < 0) return false;
    }
  }
  return depth === 0 && !inStr;
}

/** svv_table_info.diststyle → model dist style (+ key). `AUTO(KEY(id))` is AUTO: Redshift chose, schemas/ asked for AUTO. */
export function parseDistStyle(text: string): { distStyle: TableDef['distStyle']; distKey?: string } | undefined {
  const t = text.trim();
  if (/^AUTO/i.test(t)) return { distStyle: 'AUTO' };
  if (/^EVEN$/i.test(t)) return { distStyle: 'EVEN' };
  if (/^ALL$/i.test(t)) return { distStyle: 'ALL' };
  const m = /^KEY\s*\(\s*"?(.*?)"?\s*\)$/i.exec(t);
  if (m?.[1] !== undefined) return { distStyle: 'KEY', distKey: m[1] };
  return undefined;
}

interface ColRow {
  table: string;
  column: string;
  type: string;
  encoding?: string;
  distkey: boolean;
  sortkey: number;
  notnull: boolean;
}

/** Read one table; undefined when it does not exist. */
export async function readTable(wh: Warehouse, schema: string, name: string): Promise<TableDef | undefined> {
  return (await readTableInfo(wh, schema, name))?.table;
}

/** Read one table with the aspects the catalog could not tell. */
export async function readTableInfo(wh: Warehouse, schema: string, name: string): Promise<CatalogTable | undefined> {
  return (await readTables(wh, schema, [name])).get(name);
}

/**
 * Read several tables of one schema (all when `names` is omitted) in one batch. Tables that do not exist are absent
 * from the map.
 */
export async function readTables(wh: Warehouse, schema: string, names?: readonly string[]): Promise<Map<string, CatalogTable>> {
  validName('schema', schema);
  names?.forEach((n) => validName('table', n));
  const out = new Map<string, CatalogTable>();
  if (names !== undefined && names.length === 0) return out;
  const s = quoteLiteral(schema);
  const inList = names === undefined ? undefined : names.map(quoteLiteral).join(', ');
  const filt = (col: string): string => (inList === undefined ? '' : ` AND ${col} IN (${inList})`);

  const batch = [
    `SET search_path TO ${quoteIdentAlways(schema)}`,
    `SELECT schemaname, tablename, "column", type, encoding, distkey, sortkey, "notnull" FROM pg_table_def WHERE schemaname = ${s}${filt('tablename')}`,
    `SELECT table_name, column_name, ordinal_position, column_default FROM information_schema.columns WHERE table_schema = ${s}${filt('table_name')}`,
    `SELECT "table", diststyle, sortkey1 FROM svv_table_info WHERE "schema" = ${s}${filt('"table"')}`,
  ];
  const info = await wh.executeBatch(batch, { name: `catalog ${schema}` });
  const subId = (n: number): string => info.subStatements?.[n - 1]?.id ?? `${info.id}:${n}`;
  const [defs, cols, svv] = await Promise.all([wh.fetch(subId(2)), wh.fetch(subId(3)), wh.fetch(subId(4))]);

  const byTable = new Map<string, ColRow[]>();
  for (const r of defs.rows) {
    const table = str(r.tablename);
    const column = str(r.column);
    const type = str(r.type);
    if (table === undefined || column === undefined || type === undefined) continue;
    const row: ColRow = { table, column, type, distkey: bool(r.distkey), sortkey: num(r.sortkey) ?? 0, notnull: bool(r.notnull) };
    const enc = str(r.encoding);
    if (enc !== undefined) row.encoding = enc;
    const list = byTable.get(table) ?? [];
    list.push(row);
    byTable.set(table, list);
  }
  const meta = new Map<string, { pos: number; dflt?: string }>();
  for (const r of cols.rows) {
    const t = str(r.table_name);
    const c = str(r.column_name);
    if (t === undefined || c === undefined) continue;
    const m: { pos: number; dflt?: string } = { pos: num(r.ordinal_position) ?? Number.MAX_SAFE_INTEGER };
    const d = typeof r.column_default === 'string' ? r.column_default : undefined;
    if (d !== undefined) m.dflt = d;
    meta.set(`${t}\u0000${c}`, m);
  }
  const svvByTable = new Map<string, Row>();
  for (const r of svv.rows) {
    const t = str(r.table);
    if (t !== undefined) svvByTable.set(t, r);
  }

  // dist style for tables svv_table_info left out (empty tables on real Redshift) and that have no distkey column
  const needClassInfo = [...byTable.entries()].filter(([t, rows]) => !svvByTable.has(t) && !rows.some((r) => r.distkey)).map(([t]) => t);
  const classInfo = needClassInfo.length > 0 ? await readClassInfo(wh, schema, needClassInfo) : new Map<string, TableDef['distStyle']>();

  for (const [table, rows] of byTable) {
    const unknown: UnknownAspect[] = [];
    const ordered = rows
      .map((r, i) => ({ r, i, m: meta.get(`${table}\u0000${r.column}`) }))
      .sort((a, b) => (a.m?.pos ?? Number.MAX_SAFE_INTEGER) - (b.m?.pos ?? Number.MAX_SAFE_INTEGER) || a.i - b.i);
    const columns: ColumnDef[] = ordered.map(({ r, m }) => {
      const type = canonicalCatalogType(r.type);
      const c: ColumnDef = { name: r.column, type, notNull: r.notnull };
      const d = normalizeDefault(m?.dflt, type);
      if (d !== undefined) c.default = d;
      const enc = normalizeEncoding(r.encoding);
      if (enc !== undefined) c.encode = enc;
      return c;
    });

    // distribution
    let distStyle: TableDef['distStyle'] = 'AUTO';
    let distKey: string | undefined;
    const svvRow = svvByTable.get(table);
    const svvDist = svvRow !== undefined ? str(svvRow.diststyle) : undefined;
    const parsed = svvDist !== undefined ? parseDistStyle(svvDist) : undefined;
    const keyCol = rows.find((r) => r.distkey)?.column;
    if (parsed !== undefined) {
      distStyle = parsed.distStyle;
      distKey = parsed.distKey;
    } else if (keyCol !== undefined) {
      distStyle = 'KEY';
      distKey = keyCol;
    } else if (classInfo.has(table)) {
      distStyle = classInfo.get(table)!;
    } else {
      unknown.push('diststyle');
    }

    // sort key: pg_table_def.sortkey is the position; negative values mean an interleaved key
    const sortCols = rows.filter((r) => r.sortkey !== 0).sort((a, b) => Math.abs(a.sortkey) - Math.abs(b.sortkey));
    let sortKey: TableDef['sortKey'];
    const sortkey1 = svvRow !== undefined ? str(svvRow.sortkey1) : undefined;
    if (sortCols.length > 0) {
      sortKey = { style: sortCols.some((r) => r.sortkey < 0) ? 'INTERLEAVED' : 'COMPOUND', columns: sortCols.map((r) => r.column) };
    } else if (sortkey1 !== undefined && /^AUTO/i.test(sortkey1)) {
      sortKey = { style: 'AUTO', columns: [] };
    } else {
      sortKey = { style: 'NONE', columns: [] };
      if (svvRow === undefined) unknown.push('sortstyle');
    }

    const def: TableDef = {
      schema,
      name: table,
      columns,
      unique: [],
      foreignKeys: [],
      distStyle,
      sortKey,
      replication: { provider: 'cdc', service: 'flydata' },
    };
    if (distKey !== undefined) def.distKey = distKey;
    out.set(table, { table: def, unknown });
  }
  return out;
}

/** PG_CLASS_INFO.releffectivediststyle (real Redshift only): 0 EVEN, 1 KEY, 8 ALL, 10 and up AUTO(…). */
async function readClassInfo(wh: Warehouse, schema: string, tables: string[]): Promise<Map<string, TableDef['distStyle']>> {
  const out = new Map<string, TableDef['distStyle']>();
  try {
    const r = await wh.query(
      `SELECT c.relname, c.releffectivediststyle FROM pg_class_info c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :schema`,
      { schema },
    );
    for (const row of r.rows) {
      const t = str(row.relname);
      const v = num(row.releffectivediststyle);
      if (t === undefined || v === undefined || !tables.includes(t)) continue;
      const style = v === 0 ? 'EVEN' : v === 1 ? 'KEY' : v === 8 ? 'ALL' : v >= 9 ? 'AUTO' : undefined;
      if (style !== undefined) out.set(t, style);
    }
  } catch {
    // not Redshift (the sandbox has no pg_class_info): the dist style stays unknown and is not compared
  }
  return out;
}

/** Base tables of a schema, sorted by name. */
export async function listTables(wh: Warehouse, schema: string): Promise<string[]> {
  validName('schema', schema);
  const r = await wh.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = :schema AND table_type = 'BASE TABLE' ORDER BY table_name`,
    { schema },
  );
  return r.rows.map((row) => str(row.table_name)).filter((t): t is string => t !== undefined);
}

/** Per-table numbers for `status`: rows, size, dist style, unsorted %, stats_off, from svv_table_info (+ empty tables). */
export async function tableStats(wh: Warehouse, schema: string): Promise<TableStats[]> {
  validName('schema', schema);
  const [r, all] = await Promise.all([
    wh.query(`SELECT "table", tbl_rows, size, diststyle, sortkey1, unsorted, stats_off, skew_rows FROM svv_table_info WHERE "schema" = :schema ORDER BY "table"`, { schema }),
    listTables(wh, schema),
  ]);
  const listed = new Map<string, TableStats>();
  for (const row of r.rows) {
    const table = str(row.table);
    if (table === undefined) continue;
    const s: TableStats = { schema, table, rows: num(row.tbl_rows) ?? 0, sizeMb: num(row.size) ?? 0, listed: true };
    const d = str(row.diststyle);
    if (d !== undefined) s.distStyle = d;
    const k = str(row.sortkey1);
    if (k !== undefined) s.sortKey1 = k;
    const u = num(row.unsorted);
    if (u !== undefined) s.unsorted = u;
    const so = num(row.stats_off);
    if (so !== undefined) s.statsOff = so;
    const sk = num(row.skew_rows);
    if (sk !== undefined) s.skewRows = sk;
    listed.set(table, s);
  }
  const names = [...new Set([...all, ...listed.keys()])].sort();
  return names.map((t) => listed.get(t) ?? { schema, table: t, rows: 0, sizeMb: 0, listed: false });
}
