/**
 * Compare one table of the source with the warehouse, from aggregates each side computes in its own SQL:
 *
 *   1. both sides: does the table exist; total rows, rows outside the lag window, min/max id of those, max(updated_at);
 *   2. the id window [min, max] of both sides is cut into about `ranges` ranges of one width; both sides return per range
 *      the row count and the sum of 32-bit row hashes (checksum-sql.ts) — a few hundred numbers, never rows;
 *   3. ranges whose counts or sums differ are cut again (16 parts each) down to single ids, while at most `maxNarrow`
 *      ranges differ (a large outage stays reported as the ranges of the last cut, and says so);
 *   4. adjacent differing ranges are merged, so "ids 501–600 missing" reads as one line.
 *
 * The result says exactly what was compared (rows per side, id window, columns, the lag cutoff) and what was not; a
 * table where nothing could be compared is never reported as equal.
 */
import type { TableDef } from '../schema/model.js';
import { type ChecksumPlan, planChecksum } from './checksum-sql.js';
import type { CompareSide, RangeSum, SideStats, Source } from './port.js';

export interface CompareOptions {
  /** rows whose updated_at (else created_at) is within this many seconds of now are left out on both sides */
  lagSeconds: number;
  now?: Date;
  /** about how many ranges the id window is cut into at first (default 64) */
  ranges?: number;
  /** how many times at most a differing range is cut again, 16 parts each (default 8: down to single ids) */
  bisect?: number;
  /** stop narrowing when more ranges than this differ (default 16) */
  maxNarrow?: number;
}

export interface RangeDiff {
  from: string;
  to: string;
  sourceRows: string;
  warehouseRows: string;
}

export type CompareStatus =
  /** checksums of at least one row compared, all equal */
  | 'equal'
  | 'different'
  /** no integer key: counts compared (equal), checksums not */
  | 'counts-only'
  /** no settled row on either side */
  | 'nothing-compared'
  | 'missing';

export interface TableComparison {
  table: string;
  status: CompareStatus;
  plan: ChecksumPlan;
  source?: SideStats;
  warehouse?: SideStats;
  /** the id window compared and the width of the first cut */
  window?: { from: string; to: string; width: string; ranges: number };
  diffs: RangeDiff[];
  /** missing tables, narrowing stopped, … */
  notes: string[];
}

const CUT = 16n;

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

const big = (s: string | undefined): bigint | undefined => (s === undefined ? undefined : BigInt(s));
const minB = (a: bigint | undefined, b: bigint | undefined): bigint | undefined => (a === undefined ? b : b === undefined ? a : a < b ? a : b);
const maxB = (a: bigint | undefined, b: bigint | undefined): bigint | undefined => (a === undefined ? b : b === undefined ? a : a > b ? a : b);

interface Cut {
  from: bigint;
  to: bigint;
  width: bigint;
}

interface RawDiff {
  from: bigint;
  to: bigint;
  s: bigint;
  w: bigint;
  /** a side has rows of this range changed within the lag window: the difference may be replication still in flight */
  inFlight: boolean;
}

async function cutAndCompare(plan: ChecksumPlan, source: CompareSide, warehouse: CompareSide, c: Cut): Promise<RawDiff[]> {
  const q = { from: String(c.from), to: String(c.to), width: String(c.width) };
  const [s, w] = await Promise.all([source.rangeSums(plan, q), warehouse.rangeSums(plan, q)]);
  const byBucket = (xs: RangeSum[]) => new Map(xs.map((x) => [x.bucket, x]));
  const sm = byBucket(s);
  const wm = byBucket(w);
  const out: RawDiff[] = [];
  for (const b of [...new Set([...sm.keys(), ...wm.keys()])].sort((x, y) => x - y)) {
    const a = sm.get(b);
    const z = wm.get(b);
    if ((a?.rows ?? '0') === (z?.rows ?? '0') && (a?.sum ?? '0') === (z?.sum ?? '0')) continue;
    const from = c.from + BigInt(b) * c.width;
    const to = maxB(minB(from + c.width - 1n, c.to), from)!;
    const inFlight = BigInt(a?.unsettled ?? '0') > 0n || BigInt(z?.unsettled ?? '0') > 0n;
    out.push({ from, to, s: BigInt(a?.rows ?? '0'), w: BigInt(z?.rows ?? '0'), inFlight });
  }
  return out;
}

/** Differing ranges grouped into runs of adjacent ones, in id order. */
function runsOf(diffs: readonly RawDiff[]): RawDiff[][] {
  const runs: RawDiff[][] = [];
  for (const d of [...diffs].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0))) {
    const last = runs.at(-1);
    if (last && last.at(-1)!.to + 1n === d.from) last.push(d);
    else runs.push([d]);
  }
  return runs;
}

/** Compare `def` on both sides. Throws what a side throws (the caller reports it per table). */
export async function compareTable(def: TableDef, source: CompareSide | Source, warehouse: CompareSide, o: CompareOptions): Promise<TableComparison> {
  const table = `${def.schema}.${def.name}`;
  const [inSource, inWarehouse] = await Promise.all([source.tableExists(def.name), warehouse.tableExists(def.name)]);
  // only columns the source has can be compared (a column just added in the warehouse, or renamed, is listed as such)
  let sourceColumns: Set<string> | undefined;
  if (inSource && 'readSchema' in source) {
    const s = await source.readSchema([def.name]);
    sourceColumns = new Set(s.columns.map((c) => c.name.replace(/[A-Z]+/g, (m) => m.toLowerCase())));
  }
  const plan = planChecksum(def, { now: o.now ?? new Date(), lagSeconds: o.lagSeconds, ...(sourceColumns ? { sourceColumns } : {}) });
  if (plan.key !== undefined && sourceColumns !== undefined && !sourceColumns.has(plan.key)) delete plan.key;
  if (plan.lagColumn !== undefined && sourceColumns !== undefined && !sourceColumns.has(plan.lagColumn)) delete plan.lagColumn;
  if (plan.updatedAt !== undefined && sourceColumns !== undefined && !sourceColumns.has(plan.updatedAt)) delete plan.updatedAt;
  const base = { table, plan, diffs: [] as RangeDiff[], notes: [] as string[] };
  if (!inSource || !inWarehouse) {
    const where = [!inSource ? 'the source' : '', !inWarehouse ? 'the warehouse' : ''].filter(Boolean).join(' and ');
    return { ...base, status: 'missing', notes: [`${def.name} does not exist in ${where}`] };
  }
  const [s, w] = await Promise.all([source.stats(plan), warehouse.stats(plan)]);
  const result: TableComparison = { ...base, status: 'equal', source: s, warehouse: w };
  const countsDiffer = s.settledRows !== w.settledRows;

  if (plan.key === undefined) {
    result.status = countsDiffer ? 'different' : s.settledRows === '0' ? 'nothing-compared' : 'counts-only';
    result.notes.push(`${def.name} has no single integer primary key: rows were counted, not checksummed`);
    return result;
  }
  const lo = minB(big(s.minId), big(w.minId));
  const hi = maxB(big(s.maxId), big(w.maxId));
  if (lo === undefined || hi === undefined) {
    result.status = countsDiffer ? 'different' : 'nothing-compared';
    if (s.totalRows !== w.totalRows)
      result.notes.push(`the totals differ (source ${s.totalRows}, warehouse ${w.totalRows}) but every such row is inside the lag window: compare again once it has passed`);
    return result;
  }
  const target = BigInt(Math.max(1, o.ranges ?? 64));
  const width = maxB(1n, ceilDiv(hi - lo + 1n, target))!;
  result.window = { from: String(lo), to: String(hi), width: String(width), ranges: Number(ceilDiv(hi - lo + 1n, width)) };

  let diffs = await cutAndCompare(plan, source, warehouse, { from: lo, to: hi, width });
  const levels = o.bisect ?? 8;
  const maxNarrow = o.maxNarrow ?? 16;
  // Narrow the EDGES of each run of adjacent differing ranges (a missing block of ids needs its two ends found, not its
  // inside): the first and last range of a run are cut again, the ranges inside it stay as they are.
  for (let level = 0; level < levels; level++) {
    const runs = runsOf(diffs);
    const edges = new Set(runs.flatMap((r) => [r[0]!, r.at(-1)!]).filter((d) => d.to > d.from));
    if (edges.size === 0) break;
    if (runs.length > maxNarrow) {
      result.notes.push(`${runs.length} separate id ranges differ: not narrowed further (at most ${maxNarrow} are)`);
      break;
    }
    const next: RawDiff[] = [];
    for (const d of diffs) {
      if (!edges.has(d)) {
        next.push(d);
        continue;
      }
      const sub = maxB(1n, ceilDiv(d.to - d.from + 1n, CUT))!;
      next.push(...(await cutAndCompare(plan, source, warehouse, { from: d.from, to: d.to, width: sub })));
    }
    diffs = next;
  }
  // a range that still differs where a side has a row changed within the lag window is not a finding yet: the update may
  // simply not have been replicated (the source row is unsettled, the warehouse still has the old, settled version)
  const inFlight = runsOf(diffs.filter((d) => d.inFlight)).map((r) => ids(String(r[0]!.from), String(r.at(-1)!.to)));
  diffs = diffs.filter((d) => !d.inFlight);
  // adjacent ranges read as one
  const merged: RawDiff[] = runsOf(diffs).map((r) => ({
    from: r[0]!.from,
    to: r.at(-1)!.to,
    s: r.reduce((a, d) => a + d.s, 0n),
    w: r.reduce((a, d) => a + d.w, 0n),
    inFlight: false,
  }));
  result.diffs = merged.map((d) => ({ from: String(d.from), to: String(d.to), sourceRows: String(d.s), warehouseRows: String(d.w) }));
  if (inFlight.length)
    result.notes.push(`${inFlight.join(', ')} changed within the lag window on one side: not compared (compare again once the window has passed)`);
  // every settled row lies in the window, so the ranges account for the totals: settled totals that differ only because
  // of in-flight ranges are not a difference of their own
  result.status = merged.length > 0 || (countsDiffer && inFlight.length === 0) ? 'different' : 'equal';
  return result;
}

// ───────────────────────────── report ─────────────────────────────

const n = (s: string | bigint): string => BigInt(s).toLocaleString('en-US');
const rows = (s: string | bigint): string => `${n(s)} row${BigInt(s) === 1n ? '' : 's'}`;
const ids = (from: string, to: string): string => (from === to ? `id ${n(from)}` : `ids ${n(from)}–${n(to)}`);

function rangeLine(d: RangeDiff): string {
  const s = BigInt(d.sourceRows);
  const w = BigInt(d.warehouseRows);
  const what = w === 0n ? 'missing in the warehouse' : s === 0n ? 'only in the warehouse' : s === w ? 'same count, different values' : s > w ? `${n(s - w)} missing in the warehouse` : `${n(w - s)} extra in the warehouse`;
  return `${ids(d.from, d.to)}: source ${rows(d.sourceRows)}, warehouse ${rows(d.warehouseRows)} — ${what}`;
}

/** What the comparison looked at, in one line: rows per side, id window, lag cutoff. */
function comparedLine(c: TableComparison): string {
  const s = c.source;
  const w = c.warehouse;
  if (!s || !w) return '';
  const window = c.window ? ` with ${ids(c.window.from, c.window.to)} in ${c.window.ranges} range${c.window.ranges === 1 ? '' : 's'} of ${n(c.window.width)}` : '';
  const lag = c.plan.lagColumn
    ? `; rows with ${c.plan.lagColumn} at or after ${c.plan.cutoff.slice(0, 19)} UTC (the last ${c.plan.lagSeconds} s: replication lag) left out on both sides` +
      ` (source ${n(BigInt(s.totalRows) - BigInt(s.settledRows))}, warehouse ${n(BigInt(w.totalRows) - BigInt(w.settledRows))})`
    : '; no updated_at/created_at column: every row compared, whatever the replication lag';
  return `compared: source ${rows(s.settledRows)}, warehouse ${rows(w.settledRows)}${window}${lag}`;
}

/** The report of one table, as lines (first line: the verdict). Never ✓ for a table where nothing was compared. */
export function formatComparison(c: TableComparison): string[] {
  const p = c.plan;
  const lines: string[] = [];
  const cols = `${p.columns.length} column${p.columns.length === 1 ? '' : 's'}`;
  switch (c.status) {
    case 'missing':
      return [`${c.table}: ✗ not compared — ${c.notes.join('; ')}`];
    case 'nothing-compared':
      lines.push(`${c.table}: — nothing compared: no row older than the lag window on either side`);
      break;
    case 'counts-only':
      lines.push(`${c.table}: counts equal (${rows(c.source?.settledRows ?? '0')}), values not compared (no integer key)`);
      break;
    case 'equal':
      {
        const sr = c.source?.settledRows ?? '0';
        const wr = c.warehouse?.settledRows ?? '0';
        const counted = sr === wr ? `${rows(sr)} on each side` : `source ${rows(sr)}, warehouse ${rows(wr)} (the ranges that differ are in flight: see the note)`;
        lines.push(`${c.table}: ✓ equal — ${counted}, ${cols} checksummed`);
      }
      break;
    case 'different': {
      const k = c.diffs.length;
      lines.push(`${c.table}: ✗ differs — ${k > 0 ? `${k} id range${k === 1 ? '' : 's'} differ${k === 1 ? 's' : ''}` : 'counts differ'}`);
      break;
    }
  }
  const compared = comparedLine(c);
  if (compared) lines.push(`  ${compared}`);
  lines.push(`  columns: ${p.columns.map((x) => x.name).join(', ') || 'none'}`);
  for (const sk of p.skipped) lines.push(`  not compared: ${sk.name} (${sk.type}) — ${sk.reason}`);
  if (c.source && c.warehouse) {
    const s = c.source;
    const w = c.warehouse;
    const parts = [`rows: source ${n(s.totalRows)}, warehouse ${n(w.totalRows)}`];
    if (p.key) parts.push(`max(${p.key}): source ${s.maxId !== undefined ? n(s.maxId) : '—'}, warehouse ${w.maxId !== undefined ? n(w.maxId) : '—'}`);
    if (p.updatedAt) parts.push(`max(${p.updatedAt}): source ${s.maxUpdatedAt?.slice(0, 19) ?? '—'}, warehouse ${w.maxUpdatedAt?.slice(0, 19) ?? '—'}`);
    lines.push(`  ${parts.join(' · ')}`);
  }
  for (const d of c.diffs) lines.push(`  ✗ ${rangeLine(d)}`);
  for (const note of c.notes) lines.push(`  note: ${note}`);
  return lines;
}

/** One-line total for `compare --all`. */
export function formatSummary(results: ReadonlyArray<{ table: string; comparison?: TableComparison; error?: string }>): string {
  const count = (st: CompareStatus) => results.filter((r) => r.comparison?.status === st).length;
  const errors = results.filter((r) => r.error !== undefined).length;
  const parts = [`${count('equal')} equal`, `${count('different')} different`];
  if (count('missing')) parts.push(`${count('missing')} missing`);
  if (count('counts-only')) parts.push(`${count('counts-only')} counted only`);
  if (count('nothing-compared')) parts.push(`${count('nothing-compared')} with nothing to compare`);
  if (errors) parts.push(`${errors} failed`);
  return `${results.length} table${results.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}
