/**
 * The comparison's SQL, in two dialects that must give IDENTICAL numbers for identical data: MySQL (the source) and
 * Redshift (the warehouse; the sandbox runs the same text on PostgreSQL, translating only STRTOL).
 *
 * Each row becomes one canonical text (columns in schemas/ order, `|` between them), hashed with MD5 (MySQL, Redshift and
 * PostgreSQL all have it); the first 8 hex digits of the hash are a 32-bit number (Redshift `STRTOL(…, 16)`, MySQL
 * `CONV(…, 16, 10)`), summed per id range of fixed width. Per column type:
 *
 *   NULL                   → `N`; any other value → `V` + its text below (so NULL and '' and 'N' all differ)
 *   smallint/integer/bigint → decimal digits                       CAST(c AS VARCHAR)        | CAST(c AS CHAR)
 *   numeric(p,s)           → digits with exactly s decimals       CAST(CAST(c AS NUMERIC(p,s)) AS VARCHAR) | DECIMAL(p,s)
 *   real/double precision  → rounded to 6 decimals               CAST(c AS DECIMAL(38,6))  (engines print floats differently)
 *   boolean                → `1` / `0`                            (MySQL: tinyint(1) <> 0)
 *   char(n)                → the text without trailing blanks     (MySQL strips them from CHAR; Redshift pads)
 *   varchar(n)             → the text (UTF-8); above 1,024 bytes its MD5 instead (above 64 bytes when the table is so
 *                            wide that the row text could pass 60,000 bytes), so a row's text stays below Redshift's
 *                            65,535-byte VARCHAR limit however wide the table
 *   date                   → YYYY-MM-DD                           TO_CHAR(c, 'YYYY-MM-DD')  | DATE_FORMAT(c, '%Y-%m-%d')
 *   timestamp(tz)          → YYYY-MM-DD HH24:MI:SS.ffffff (UTC)   TO_CHAR(c, 'YYYY-MM-DD HH24:MI:SS.US') | DATE_FORMAT(…%f)
 *   time, timetz, super, varbyte, geometry, geography, hllsketch → not compared (listed in the report as such)
 *
 * Rows whose lag column (`updated_at`, else `created_at`) is at or after the cutoff (now − lag window) may not have been
 * replicated yet: both sides leave them out, and the report says so. Identifiers come from schemas/ (quoteIdent for
 * Redshift, backticks for MySQL); the cutoff and the range bounds are bound values, never SQL text.
 */
import { z } from 'zod';
import { checkIdentifier, qualified, quoteIdent } from '../schema/identifiers.js';
import type { TableDef } from '../schema/model.js';
import { parseRedshiftType, type RedshiftType } from '../schema/types.js';
import type { RangeSum, SideStats } from './port.js';

export type Dialect = 'mysql' | 'redshift';

export interface PlannedColumn {
  name: string;
  type: string;
  kind: RedshiftType['kind'];
  /** numeric(p,s) */
  precision?: number;
  scale?: number;
  /** char/varchar: declared length in bytes */
  length?: number;
  /** a varchar that contributes its MD5 instead of its text (long columns; every one above 64 bytes in very wide tables) */
  hashed?: boolean;
}

export interface ChecksumPlan {
  schema: string;
  table: string;
  /** the integer key the ranges are cut on; undefined: counts only (no single integer primary key) */
  key?: string;
  columns: PlannedColumn[];
  /** columns left out of the checksum, with why */
  skipped: Array<{ name: string; type: string; reason: string }>;
  /** rows with lagColumn ≥ cutoff are left out on both sides */
  lagColumn?: string;
  /** max(updated_at) is reported when the table has it */
  updatedAt?: string;
  /** `YYYY-MM-DD HH:MM:SS.ffffff`, UTC */
  cutoff: string;
  lagSeconds: number;
}

/** A statement and its bound values: Redshift by name (`:cutoff`), MySQL by position (`?`, in `order`). */
export interface BuiltSql {
  sql: string;
  params: Record<string, string>;
  /** MySQL: the names of the `?` placeholders in order */
  order: string[];
}

/** COMPARE_LAG_SECONDS' default: rows changed in the last 5 minutes may not be replicated yet */
export const DEFAULT_COMPARE_LAG_SECONDS = 300;

const HASH_TEXT_ABOVE = 1024;
/** a wide table's row text must stay under Redshift's 65,535-byte VARCHAR: then every varchar above 64 bytes is hashed */
const ROW_TEXT_BUDGET = 60_000;
const HASH_TEXT_ABOVE_WIDE = 64;
const INTEGER_KINDS = new Set<RedshiftType['kind']>(['smallint', 'integer', 'bigint']);
const NOT_COMPARED: Partial<Record<RedshiftType['kind'], string>> = {
  time: 'time of day: the engines print it differently',
  timetz: 'time of day: the engines print it differently',
  super: 'SUPER has no text form MySQL shares',
  varbyte: 'binary: no text form both engines share',
  geometry: 'spatial: no text form both engines share',
  geography: 'spatial: no text form both engines share',
  hllsketch: 'HLL sketch: Redshift only',
};

/** `YYYY-MM-DD HH:MM:SS.ffffff` of a time, UTC (the form both engines compare with their timestamps). */
export function sqlTimestampMicros(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}.${String(d.getUTCMilliseconds()).padStart(3, '0')}000`;
}

export interface PlanOptions {
  now: Date;
  lagSeconds: number;
  /** the columns the source has (lower case); others are left out of the checksum, and listed as such */
  sourceColumns?: ReadonlySet<string>;
}

/** What a comparison of `def` reads: its key, compared/skipped columns, lag column and cutoff. */
export function planChecksum(def: TableDef, o: PlanOptions): ChecksumPlan {
  const columns: PlannedColumn[] = [];
  const skipped: ChecksumPlan['skipped'] = [];
  for (const c of def.columns) {
    if (o.sourceColumns !== undefined && !o.sourceColumns.has(c.name)) {
      skipped.push({ name: c.name, type: c.type, reason: 'not in the source table (added in the warehouse, or renamed)' });
      continue;
    }
    const p = parseRedshiftType(c.type);
    if (!p.ok) {
      skipped.push({ name: c.name, type: c.type, reason: p.error });
      continue;
    }
    const t = p.type;
    const why = NOT_COMPARED[t.kind];
    if (why !== undefined) {
      skipped.push({ name: c.name, type: c.type, reason: why });
      continue;
    }
    columns.push({
      name: c.name,
      type: c.type,
      kind: t.kind,
      ...(t.kind === 'numeric' ? { precision: t.precision, scale: t.scale } : {}),
      ...(t.kind === 'varchar' || t.kind === 'char' ? { length: t.length } : {}),
      ...(t.kind === 'varchar' && t.length > HASH_TEXT_ABOVE ? { hashed: true } : {}),
    });
  }
  // the longest row text this plan can build (a hashed value is 32 characters; other values are short)
  const widest = (cols: PlannedColumn[]): number => cols.reduce((a, c) => a + 3 + (c.hashed ? 32 : (c.length ?? 48)), 0);
  if (widest(columns) > ROW_TEXT_BUDGET) {
    for (const c of columns) if (c.kind === 'varchar' && (c.length ?? 0) > HASH_TEXT_ABOVE_WIDE) c.hashed = true;
  }
  const pk = def.primaryKey;
  const keyCol = pk?.length === 1 ? def.columns.find((c) => c.name === pk[0]) : undefined;
  const keyKind = keyCol ? parseRedshiftType(keyCol.type) : undefined;
  const key = keyCol && keyKind?.ok && INTEGER_KINDS.has(keyKind.type.kind) ? keyCol.name : undefined;
  const isTime = (name: string): boolean => {
    const c = def.columns.find((x) => x.name === name);
    const p = c ? parseRedshiftType(c.type) : undefined;
    return p?.ok === true && (p.type.kind === 'timestamp' || p.type.kind === 'timestamptz');
  };
  const updatedAt = isTime('updated_at') ? 'updated_at' : undefined;
  const lagColumn = updatedAt ?? (isTime('created_at') ? 'created_at' : undefined);
  return {
    schema: def.schema,
    table: def.name,
    ...(key !== undefined ? { key } : {}),
    columns,
    skipped,
    ...(lagColumn !== undefined ? { lagColumn } : {}),
    ...(updatedAt !== undefined ? { updatedAt } : {}),
    cutoff: sqlTimestampMicros(new Date(o.now.getTime() - o.lagSeconds * 1000)),
    lagSeconds: o.lagSeconds,
  };
}

/** A MySQL identifier in backticks; only names schemas/ validated reach here (checked again). */
export function quoteMysqlIdent(name: string): string {
  const c = checkIdentifier(name);
  if (!c.ok) throw new Error(c.error);
  return `\`${name.replace(/`/g, '``')}\``;
}

const ident = (d: Dialect, name: string): string => (d === 'mysql' ? quoteMysqlIdent(name) : quoteIdent(name));

/** The table as each dialect names it: MySQL `table` in the connection's database, Redshift schema.table. */
function tableRef(d: Dialect, plan: ChecksumPlan): string {
  return d === 'mysql' ? quoteMysqlIdent(plan.table) : qualified(plan.schema, plan.table);
}

/** The canonical text of a non-NULL value of column `c`. */
function valueText(d: Dialect, c: PlannedColumn): string {
  const col = ident(d, c.name);
  const my = d === 'mysql';
  switch (c.kind) {
    case 'smallint':
    case 'integer':
    case 'bigint':
      return my ? `CAST(${col} AS CHAR)` : `CAST(${col} AS VARCHAR(20))`;
    case 'numeric':
      return my ? `CAST(CAST(${col} AS DECIMAL(${c.precision},${c.scale})) AS CHAR)` : `CAST(CAST(${col} AS NUMERIC(${c.precision},${c.scale})) AS VARCHAR(50))`;
    case 'real':
    case 'double precision':
      return my ? `CAST(CAST(${col} AS DECIMAL(38,6)) AS CHAR)` : `CAST(CAST(${col} AS DECIMAL(38,6)) AS VARCHAR(50))`;
    case 'boolean':
      return my ? `CASE WHEN ${col} <> 0 THEN '1' ELSE '0' END` : `CASE WHEN ${col} THEN '1' ELSE '0' END`;
    case 'char':
      return my ? `RTRIM(CONVERT(${col} USING utf8mb4))` : `RTRIM(${col})`;
    case 'varchar':
      if (c.hashed) return my ? `MD5(CONVERT(${col} USING utf8mb4))` : `MD5(${col})`;
      return my ? `CONVERT(${col} USING utf8mb4)` : col;
    case 'date':
      return my ? `DATE_FORMAT(${col}, '%Y-%m-%d')` : `TO_CHAR(${col}, 'YYYY-MM-DD')`;
    case 'timestamp':
    case 'timestamptz':
      return my ? `DATE_FORMAT(${col}, '%Y-%m-%d %H:%i:%s.%f')` : `TO_CHAR(${col}, 'YYYY-MM-DD HH24:MI:SS.US')`;
    default:
      throw new Error(`internal: column ${c.name} (${c.type}) has no canonical text`);
  }
}

/** The row's canonical text (an SQL expression). */
export function rowText(d: Dialect, plan: ChecksumPlan): string {
  const parts = plan.columns.map((c) => {
    const v = valueText(d, c);
    const col = ident(d, c.name);
    return d === 'mysql' ? `CASE WHEN ${col} IS NULL THEN 'N' ELSE CONCAT('V', ${v}) END` : `CASE WHEN ${col} IS NULL THEN 'N' ELSE 'V' || ${v} END`;
  });
  if (parts.length === 0) return `''`;
  return d === 'mysql' ? `CONCAT_WS('|', ${parts.join(', ')})` : parts.join(` || '|' || `);
}

/** The row's 32-bit hash (0 … 4294967295). */
export function rowHash(d: Dialect, plan: ChecksumPlan): string {
  const text = rowText(d, plan);
  return d === 'mysql'
    ? `CAST(CONV(SUBSTRING(MD5(CONVERT(${text} USING utf8mb4)), 1, 8), 16, 10) AS UNSIGNED)`
    : `STRTOL(SUBSTRING(MD5(${text}), 1, 8), 16)`;
}

class Params {
  readonly params: Record<string, string> = {};
  readonly order: string[] = [];
  constructor(private readonly d: Dialect) {}
  /** a placeholder for `value`, cast to `type` (named for Redshift, positional for MySQL) */
  bind(name: string, value: string, type: 'timestamp' | 'bigint'): string {
    this.params[name] = value;
    if (this.d === 'mysql') {
      this.order.push(name);
      return type === 'timestamp' ? 'CAST(? AS DATETIME(6))' : 'CAST(? AS SIGNED)';
    }
    return type === 'timestamp' ? `CAST(:${name} AS TIMESTAMP)` : `CAST(:${name} AS BIGINT)`;
  }
}

/** `(lag IS NULL OR lag < cutoff)`: the settled rows; TRUE when the table has no lag column. */
function settled(d: Dialect, plan: ChecksumPlan, p: Params): string {
  if (plan.lagColumn === undefined) return '1 = 1';
  const c = ident(d, plan.lagColumn);
  return `(${c} IS NULL OR ${c} < ${p.bind('cutoff', plan.cutoff, 'timestamp')})`;
}

const asText = (d: Dialect, expr: string): string => (d === 'mysql' ? `CAST(${expr} AS CHAR)` : `CAST(${expr} AS VARCHAR(40))`);

/** Total rows, settled rows, min/max key of the settled rows, max(updated_at): one row of text columns. */
export function statsSql(d: Dialect, plan: ChecksumPlan): BuiltSql {
  const p = new Params(d);
  // a placeholder per use: MySQL binds by position, so the cutoff is bound once for each place it appears
  const s = (): string => settled(d, plan, p);
  const key = plan.key !== undefined ? ident(d, plan.key) : undefined;
  const items = [
    `${asText(d, 'COUNT(*)')} AS total_rows`,
    `${asText(d, `SUM(CASE WHEN ${s()} THEN 1 ELSE 0 END)`)} AS settled_rows`,
    `${key !== undefined ? asText(d, `MIN(CASE WHEN ${s()} THEN ${key} END)`) : 'NULL'} AS min_id`,
    `${key !== undefined ? asText(d, `MAX(CASE WHEN ${s()} THEN ${key} END)`) : 'NULL'} AS max_id`,
  ];
  if (plan.updatedAt !== undefined) {
    const u = ident(d, plan.updatedAt);
    items.push(`${d === 'mysql' ? `DATE_FORMAT(MAX(${u}), '%Y-%m-%d %H:%i:%s.%f')` : `TO_CHAR(MAX(${u}), 'YYYY-MM-DD HH24:MI:SS.US')`} AS max_updated_at`);
  } else items.push('NULL AS max_updated_at');
  return { sql: `SELECT ${items.join(', ')} FROM ${tableRef(d, plan)}`, params: p.params, order: p.order };
}

/** Per id range of `width`: the range number, its settled rows, the sum of their row hashes and its unsettled rows, as text. */
export function rangeSql(d: Dialect, plan: ChecksumPlan, q: { from: string; to: string; width: string }): BuiltSql {
  if (plan.key === undefined) throw new Error(`internal: ${plan.table} has no integer key to cut ranges on`);
  const p = new Params(d);
  const key = ident(d, plan.key);
  // placeholders are numbered in the order they appear in the text (MySQL binds by position)
  const fromA = p.bind('from', q.from, 'bigint');
  const width = p.bind('width', q.width, 'bigint');
  const bucket = d === 'mysql' ? `(${key} - ${fromA}) DIV ${width}` : `(${key} - ${fromA}) / ${width}`;
  const hash = rowHash(d, plan);
  // every row of the range is read; the settled ones are counted and hashed, the others (changed within the lag window)
  // only counted: a range where either side has such a row cannot be compared exactly yet (compare.ts says so)
  const n = asText(d, `SUM(CASE WHEN ${settled(d, plan, p)} THEN 1 ELSE 0 END)`);
  const h = asText(d, `SUM(CASE WHEN ${settled(d, plan, p)} THEN ${hash} ELSE 0 END)`);
  const u = asText(d, `SUM(CASE WHEN ${settled(d, plan, p)} THEN 0 ELSE 1 END)`);
  const select = `SELECT ${asText(d, bucket)} AS bucket, ${n} AS n, ${h} AS h, ${u} AS u FROM ${tableRef(d, plan)}`;
  const fromB = p.bind('from', q.from, 'bigint');
  const to = p.bind('to', q.to, 'bigint');
  const where = `WHERE ${key} BETWEEN ${fromB} AND ${to}`;
  return { sql: `${select} ${where} GROUP BY 1`, params: p.params, order: p.order };
}

// ───────────────────────────── results ─────────────────────────────

/** Every aggregate comes back as text (a driver may hand a number): no 2^53 rounding in Node. */
const text = z.union([z.string(), z.number()]).transform((v) => String(v));
const statsRow = z.object({ total_rows: text, settled_rows: text.nullable(), min_id: text.nullable(), max_id: text.nullable(), max_updated_at: text.nullable() });
const rangeRow = z.object({ bucket: text, n: text.nullable(), h: text.nullable(), u: text.nullable() });

/** The one row of `statsSql`, from either side. */
export function parseStats(row: unknown): SideStats {
  const r = statsRow.parse(row);
  return {
    totalRows: r.total_rows,
    settledRows: r.settled_rows ?? '0',
    ...(r.min_id !== null ? { minId: r.min_id } : {}),
    ...(r.max_id !== null ? { maxId: r.max_id } : {}),
    ...(r.max_updated_at !== null ? { maxUpdatedAt: r.max_updated_at } : {}),
  };
}

/** The rows of `rangeSql`, from either side. */
export function parseRangeSums(rows: readonly unknown[]): RangeSum[] {
  return rows.map((row) => {
    const r = rangeRow.parse(row);
    return { bucket: Number(r.bucket), rows: r.n ?? '0', sum: r.h ?? '0', unsettled: r.u ?? '0' };
  });
}
