/**
 * The catalog reads behind `hygiene`: svv_table_info (unsorted, stats_off, tbl_rows, estimated_visible_rows, sortkey1)
 * and svv_interleaved_columns (interleaved_skew, last_reindex), in parallel.
 *
 * Both views show their rows to superusers only (or to users granted SELECT on them). A view that answers with an
 * error degrades to a problem line; an interleaved table with no skew row is reported as "skew not visible" rather
 * than as healthy — the bot cannot tell "no skew" from "not allowed to see it".
 */
import type { Registry } from '../schema/registry.js';
import type { SqlValue, Warehouse } from '../warehouse/port.js';
import { type Finding, type HygieneThresholds, type TableHealth, recommend } from './recommend.js';

const str = (v: SqlValue | undefined): string | undefined => (v === null || v === undefined ? undefined : String(v).trim());
const num = (v: SqlValue | undefined): number | undefined => {
  if (v === null || v === undefined || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
};
const why = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';

export interface HygieneReport {
  schema: string;
  /** every table svv_table_info listed for the schema (Redshift lists no empty table) */
  health: TableHealth[];
  findings: Finding[];
  /** registry tables without a svv_table_info row: empty, missing, or not visible */
  unlisted: string[];
  /** interleaved tables whose skew the catalog did not show */
  skewNotVisible: string[];
  /** degraded parts: what failed or showed nothing, and what to do */
  problems: string[];
}

/**
 * Read the health of `schema`'s tables (one statement per view, in parallel) and recommend. `tables` limits the
 * result to those names (the click on one table's button reads the same numbers as the listing did).
 */
export async function readHygiene(wh: Warehouse, registry: Registry, schema: string, thresholds: HygieneThresholds, tables?: readonly string[]): Promise<HygieneReport> {
  const [info, skew] = await Promise.allSettled([
    wh.query(
      `SELECT "table", table_id, tbl_rows, estimated_visible_rows, unsorted, stats_off, sortkey1 FROM svv_table_info WHERE "schema" = :schema ORDER BY "table"`,
      { schema },
    ),
    wh.query('SELECT tbl, max(interleaved_skew) AS skew, max(last_reindex) AS last_reindex FROM svv_interleaved_columns GROUP BY tbl'),
  ]);
  const problems: string[] = [];
  if (info.status === 'rejected') {
    problems.push(`svv_table_info could not be read (${why(info.reason)}): it is visible to superusers only — GRANT SELECT ON svv_table_info TO the bot's user`);
  }
  if (skew.status === 'rejected') problems.push(`svv_interleaved_columns could not be read (${why(skew.reason)}); interleaved skew is unknown`);

  const skewById = new Map<string, { skew?: number; lastReindex?: string }>();
  if (skew.status === 'fulfilled') {
    for (const r of skew.value.rows) {
      const id = str(r.tbl);
      if (id === undefined) continue;
      const s: { skew?: number; lastReindex?: string } = {};
      const v = num(r.skew);
      if (v !== undefined) s.skew = v;
      const l = str(r.last_reindex);
      if (l !== undefined) s.lastReindex = l;
      skewById.set(id, s);
    }
  }
  const wanted = tables ? new Set(tables) : undefined;
  const health: TableHealth[] = [];
  const skewNotVisible: string[] = [];
  for (const r of info.status === 'fulfilled' ? info.value.rows : []) {
    const table = str(r.table);
    if (table === undefined || (wanted && !wanted.has(table))) continue;
    const id = str(r.table_id);
    const ic = id !== undefined ? skewById.get(id) : undefined;
    const def = registry.get(schema, table);
    const h: TableHealth = { schema, table, rows: num(r.tbl_rows) ?? 0, interleaved: ic !== undefined || def?.sortKey?.style === 'INTERLEAVED' };
    const visible = num(r.estimated_visible_rows);
    if (visible !== undefined) h.visibleRows = visible;
    const unsorted = num(r.unsorted);
    if (unsorted !== undefined) h.unsorted = unsorted;
    const statsOff = num(r.stats_off);
    if (statsOff !== undefined) h.statsOff = statsOff;
    const sk = str(r.sortkey1);
    if (sk !== undefined) h.sortKey1 = sk;
    if (ic?.skew !== undefined) h.interleavedSkew = ic.skew;
    if (ic?.lastReindex !== undefined) h.lastReindex = ic.lastReindex;
    if (h.interleaved && h.interleavedSkew === undefined && skew.status === 'fulfilled') skewNotVisible.push(table);
    health.push(h);
  }
  const listed = new Set(health.map((h) => h.table));
  const names = wanted ? [...wanted] : registry.names().filter((n) => registry.get(schema, n) !== undefined);
  let unlisted = info.status === 'fulfilled' ? names.filter((n) => !listed.has(n)).sort() : [];
  if (info.status === 'fulfilled' && health.length === 0 && names.length > 0) {
    // Redshift answers a user who may not see the view with no rows, not an error: "all empty" and "not allowed" look alike
    problems.push(
      `svv_table_info showed no row for ${wanted ? names.join(', ') : `any of the ${names.length} tables of ${schema}`}: it shows rows to superusers only — GRANT SELECT ON svv_table_info TO the bot's user (or the tables are empty: Redshift lists no empty table)`,
    );
    unlisted = [];
  }
  const findings = health.map((h) => recommend(h, thresholds)).filter((f): f is Finding => f !== undefined);
  return { schema, health, findings, unlisted, skewNotVisible, problems };
}
