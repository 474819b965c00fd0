/**
 * What maintenance a table needs, from the numbers Redshift keeps (pure; the catalog reads are in read.ts):
 *
 * - VACUUM REINDEX: an interleaved sort key whose skew (svv_interleaved_columns.interleaved_skew, 1.00 = none) is above
 *   `reindexSkew`. REINDEX re-analyzes the key distribution and then runs a full vacuum, so it also sorts and reclaims.
 * - VACUUM FULL / SORT ONLY / DELETE ONLY: unsorted rows (svv_table_info.unsorted, tables with a sort key) above
 *   `unsortedPct`, rows marked deleted (tbl_rows − estimated_visible_rows) above `deletedPct` of tbl_rows — both → FULL.
 * - ANALYZE: svv_table_info.stats_off above `statsOffPct` (run after the VACUUM, which moves rows).
 *
 * Every reason names the number it compared and the threshold, so a reader can check the recommendation.
 */

export interface HygieneThresholds {
  /** svv_table_info.unsorted above this percent → VACUUM SORT ONLY (default 10) */
  unsortedPct: number;
  /** svv_table_info.stats_off above this → ANALYZE (default 10) */
  statsOffPct: number;
  /** rows marked deleted above this percent of tbl_rows → VACUUM DELETE ONLY (default 10) */
  deletedPct: number;
  /** interleaved skew above this → VACUUM REINDEX (default 5) */
  reindexSkew: number;
}

export const DEFAULT_HYGIENE_THRESHOLDS: Readonly<HygieneThresholds> = { unsortedPct: 10, statsOffPct: 10, deletedPct: 10, reindexSkew: 5 };

export const VACUUM_MODES = ['FULL', 'SORT ONLY', 'DELETE ONLY', 'REINDEX'] as const;
export type VacuumMode = (typeof VACUUM_MODES)[number];

export type MaintenanceAction = { kind: 'vacuum'; mode: VacuumMode } | { kind: 'analyze' };

/** One table's numbers, as read from svv_table_info (+ svv_interleaved_columns for interleaved tables). */
export interface TableHealth {
  schema: string;
  table: string;
  /** tbl_rows: every row, including those marked deleted */
  rows: number;
  /** estimated_visible_rows */
  visibleRows?: number;
  /** percent; undefined for a table without a sort key (Redshift shows NULL) */
  unsorted?: number;
  statsOff?: number;
  sortKey1?: string;
  /** the table has an interleaved sort key (schemas/ or svv_interleaved_columns says so) */
  interleaved: boolean;
  /** max interleaved_skew over the sort key columns; undefined when not visible (see skewUnknown) */
  interleavedSkew?: number;
  lastReindex?: string;
}

export interface Finding {
  schema: string;
  table: string;
  actions: MaintenanceAction[];
  /** what was compared, one per trigger: "unsorted 42.00 % > 10 %" */
  reasons: string[];
  /** what Redshift does by itself about it, when the docs say so */
  notes: string[];
}

const two = (n: number): string => n.toFixed(2);
const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

export function actionText(a: MaintenanceAction): string {
  return a.kind === 'vacuum' ? `VACUUM ${a.mode}` : 'ANALYZE';
}

/** Rows marked deleted and their share of tbl_rows (undefined when Redshift gives no estimate). */
export function deletedRows(h: Pick<TableHealth, 'rows' | 'visibleRows'>): { deleted: number; pct: number } | undefined {
  if (h.visibleRows === undefined || h.rows <= 0) return undefined;
  const deleted = Math.max(0, h.rows - h.visibleRows);
  return { deleted, pct: (deleted * 100) / h.rows };
}

/** The maintenance one table needs, or undefined when every number is within its threshold. */
export function recommend(h: TableHealth, t: HygieneThresholds = DEFAULT_HYGIENE_THRESHOLDS): Finding | undefined {
  const reasons: string[] = [];
  const notes: string[] = [];
  const reindex = h.interleaved && h.interleavedSkew !== undefined && h.interleavedSkew > t.reindexSkew;
  if (reindex) reasons.push(`interleaved skew ${two(h.interleavedSkew!)} > ${t.reindexSkew}`);
  const sort = h.unsorted !== undefined && h.unsorted > t.unsortedPct;
  if (sort) reasons.push(`unsorted ${two(h.unsorted!)} % > ${t.unsortedPct} %`);
  const del = deletedRows(h);
  const reclaim = del !== undefined && del.deleted > 0 && del.pct > t.deletedPct;
  if (reclaim) reasons.push(`${fmtInt(del.deleted)} of ${fmtInt(h.rows)} rows marked deleted (${del.pct.toFixed(1)} %) > ${t.deletedPct} %`);
  const analyze = h.statsOff !== undefined && h.statsOff > t.statsOffPct;
  if (analyze) reasons.push(`stats off ${two(h.statsOff!)} > ${t.statsOffPct}`);

  const actions: MaintenanceAction[] = [];
  if (reindex) actions.push({ kind: 'vacuum', mode: 'REINDEX' });
  else if (sort && reclaim) actions.push({ kind: 'vacuum', mode: 'FULL' });
  else if (sort) actions.push({ kind: 'vacuum', mode: 'SORT ONLY' });
  else if (reclaim) actions.push({ kind: 'vacuum', mode: 'DELETE ONLY' });
  if (analyze) actions.push({ kind: 'analyze' });
  if (actions.length === 0) return undefined;

  if (reclaim) {
    notes.push('Redshift runs an automatic vacuum delete in the background (paused while DDL such as ALTER TABLE runs); a manual VACUUM only saves waiting for it');
  }
  if (sort && !reindex) {
    notes.push("Redshift's automatic table sort works on this table in the background too; svv_table_info.vacuum_sort_benefit estimates what a manual sort gains");
  }
  if (analyze) {
    notes.push("Redshift's automatic analyze (on unless auto_analyze is off) updates statistics in the background when the workload is light, so a manual ANALYZE is usually unnecessary; run it when queries need the statistics now");
  }
  return { schema: h.schema, table: h.table, actions, reasons, notes };
}

/** "VACUUM SORT ONLY + ANALYZE — unsorted 42.00 % > 10 %; stats off 35.00 > 10" */
export function findingLine(f: Finding): string {
  return `${f.actions.map(actionText).join(' + ')} — ${f.reasons.join('; ')}`;
}

/** The one SQL statement an action runs on schema.table (identifiers already quoted by the caller). */
export function actionSql(a: MaintenanceAction, qualifiedTable: string): string {
  return a.kind === 'vacuum' ? `VACUUM ${a.mode} ${qualifiedTable}` : `ANALYZE ${qualifiedTable}`;
}

/**
 * After the maintenance: every number the actions were for, compared with its threshold again. `ok` is false when
 * one is still above, or could not be compared (no svv_table_info row, skew not visible) — never shown as passed.
 */
export function verifyAfter(actions: readonly MaintenanceAction[], h: TableHealth | undefined, t: HygieneThresholds): { ok: boolean; lines: string[] } {
  if (!h) return { ok: false, lines: ['compared nothing: the table has no row in svv_table_info (Redshift shows none for an empty table)'] };
  const lines: string[] = [];
  let ok = true;
  const cmp = (label: string, value: number | undefined, limit: number, unit: string): void => {
    if (value === undefined) {
      ok = false;
      lines.push(`${label}: not shown by the catalog, not compared`);
      return;
    }
    const pass = value <= limit;
    ok &&= pass;
    lines.push(`${label} ${two(value)}${unit} ${pass ? '≤' : '>'} ${limit}${unit}`);
  };
  for (const a of actions) {
    if (a.kind === 'analyze') cmp('stats off', h.statsOff, t.statsOffPct, '');
    else {
      if (a.mode === 'REINDEX') cmp('interleaved skew', h.interleavedSkew, t.reindexSkew, '');
      if (a.mode !== 'DELETE ONLY' && (a.mode !== 'REINDEX' || h.unsorted !== undefined)) cmp('unsorted', h.unsorted, t.unsortedPct, ' %');
      if (a.mode !== 'SORT ONLY') cmp('rows marked deleted', deletedRows(h)?.pct, t.deletedPct, ' %');
    }
  }
  return { ok, lines };
}
