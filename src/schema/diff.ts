/**
 * Drift: how a live table (read by catalog.ts) differs from its definition in schemas/.
 *
 * Compared: the table's existence, columns (missing / extra / order), each column's type, NOT NULL, default and — only
 * when schemas/ names one — its encoding (no `encode` in schemas/ means "whatever Redshift chose"), DISTSTYLE / DISTKEY
 * and the sort key.
 * Not compared: primary, unique and foreign keys (Redshift never enforces them; schemas/ is their source of truth) and
 * the replication provider (not a catalog fact).
 * Equivalences: NULL default = no default; now()/sysdate/current_timestamp = getdate(); a table created without a sort
 * key gets Redshift's automatic one, so NONE and AUTO compare equal.
 */
import type { UnknownAspect } from './catalog.js';
import { normalizeDefault, normalizeEncoding } from './catalog.js';
import type { ColumnDef, TableDef } from './model.js';
import { tableKey } from './model.js';
import { canonicalCatalogType } from './catalog.js';

export type DriftKind =
  | 'missing-table'
  | 'extra-column'
  | 'missing-column'
  | 'type'
  | 'nullability'
  | 'default'
  | 'encoding'
  | 'column-order'
  | 'diststyle'
  | 'distkey'
  | 'sortkey';

export interface Drift {
  kind: DriftKind;
  /** schema.table */
  table: string;
  column?: string;
  /** as schemas/ says (printable) */
  expected: string;
  /** as the warehouse has it (printable) */
  actual: string;
}

export interface DiffOptions {
  /** aspects the catalog could not read (CatalogTable.unknown): not compared */
  unknown?: readonly UnknownAspect[];
}

function columnSummary(c: ColumnDef): string {
  return `${c.type}${c.notNull ? ' NOT NULL' : ''}${c.default !== undefined ? ` DEFAULT ${c.default}` : ''}`;
}

function distText(t: TableDef): string {
  return t.distStyle === 'KEY' ? `KEY(${t.distKey ?? '?'})` : t.distStyle;
}

function sortText(t: TableDef): string {
  const s = t.sortKey;
  return s.style === 'COMPOUND' || s.style === 'INTERLEAVED' ? `${s.style}(${s.columns.join(', ')})` : s.style;
}

/** Every difference between the definition and the live table, in a stable order (table, columns in order, dist, sort). */
export function diffTable(expected: TableDef, actual: TableDef | undefined, opts: DiffOptions = {}): Drift[] {
  const table = tableKey(expected);
  if (actual === undefined) return [{ kind: 'missing-table', table, expected: 'table exists', actual: 'no such table' }];
  const unknown = new Set(opts.unknown ?? []);
  const drifts: Drift[] = [];
  const actualCols = new Map(actual.columns.map((c) => [c.name, c]));
  const expectedNames = new Set(expected.columns.map((c) => c.name));

  for (const e of expected.columns) {
    const a = actualCols.get(e.name);
    if (a === undefined) {
      drifts.push({ kind: 'missing-column', table, column: e.name, expected: columnSummary(e), actual: 'no such column' });
      continue;
    }
    const et = canonicalCatalogType(e.type);
    const at = canonicalCatalogType(a.type);
    if (et !== at) drifts.push({ kind: 'type', table, column: e.name, expected: et, actual: at });
    if (e.notNull !== a.notNull)
      drifts.push({ kind: 'nullability', table, column: e.name, expected: e.notNull ? 'NOT NULL' : 'NULL', actual: a.notNull ? 'NOT NULL' : 'NULL' });
    const ed = normalizeDefault(e.default, et);
    const ad = normalizeDefault(a.default, at);
    if (ed !== ad) drifts.push({ kind: 'default', table, column: e.name, expected: ed ?? 'no default', actual: ad ?? 'no default' });
    if (e.encode !== undefined) {
      const ae = normalizeEncoding(a.encode);
      if (ae !== undefined && ae !== e.encode) drifts.push({ kind: 'encoding', table, column: e.name, expected: e.encode, actual: ae });
    }
  }
  for (const a of actual.columns) {
    if (!expectedNames.has(a.name)) drifts.push({ kind: 'extra-column', table, column: a.name, expected: 'no such column', actual: columnSummary(a) });
  }
  // order: compare the columns both sides have, in each side's order (an added/removed column is reported above)
  const common = new Set(expected.columns.filter((c) => actualCols.has(c.name)).map((c) => c.name));
  const eo = expected.columns.map((c) => c.name).filter((n) => common.has(n));
  const ao = actual.columns.map((c) => c.name).filter((n) => common.has(n));
  if (eo.some((n, i) => ao[i] !== n)) drifts.push({ kind: 'column-order', table, expected: eo.join(', '), actual: ao.join(', ') });

  if (!unknown.has('diststyle')) {
    if (expected.distStyle !== actual.distStyle) drifts.push({ kind: 'diststyle', table, expected: distText(expected), actual: distText(actual) });
    else if (expected.distStyle === 'KEY' && expected.distKey !== actual.distKey)
      drifts.push({ kind: 'distkey', table, column: actual.distKey, expected: expected.distKey ?? '?', actual: actual.distKey ?? '?' });
  }

  const es = expected.sortKey;
  const as = actual.sortKey;
  const noExplicit = (s: TableDef['sortKey']): boolean => s.style === 'NONE' || s.style === 'AUTO';
  const sameSort = noExplicit(es) && noExplicit(as) ? true : es.style === as.style && es.columns.length === as.columns.length && es.columns.every((c, i) => as.columns[i] === c);
  if (!sameSort && !(unknown.has('sortstyle') && noExplicit(es) && noExplicit(as)))
    drifts.push({ kind: 'sortkey', table, expected: sortText(expected), actual: sortText(actual) });
  return drifts;
}

/** One line a data engineer can read, e.g. `ak_sumofus.core_action.foo: extra column varchar(64) (not in schemas/)`. */
export function formatDrift(d: Drift): string {
  const where = d.column !== undefined && d.kind !== 'distkey' ? `${d.table}.${d.column}` : d.table;
  switch (d.kind) {
    case 'missing-table':
      return `${where}: table is missing from the warehouse (\`schema apply\` creates it)`;
    case 'extra-column':
      return `${where}: extra column ${d.actual} in the warehouse, not in schemas/`;
    case 'missing-column':
      return `${where}: column missing from the warehouse (schemas/ has ${d.expected})`;
    case 'type':
      return `${where}: type is ${d.actual}, schemas/ says ${d.expected}`;
    case 'nullability':
      return `${where}: is ${d.actual}, schemas/ says ${d.expected}`;
    case 'default':
      return `${where}: default is ${d.actual}, schemas/ says ${d.expected}`;
    case 'encoding':
      return `${where}: encoding is ${d.actual}, schemas/ says ${d.expected}`;
    case 'column-order':
      return `${where}: columns are in a different order — warehouse: ${d.actual}; schemas/: ${d.expected}`;
    case 'diststyle':
      return `${where}: DISTSTYLE is ${d.actual}, schemas/ says ${d.expected}`;
    case 'distkey':
      return `${where}: DISTKEY is ${d.actual}, schemas/ says ${d.expected}`;
    case 'sortkey':
      return `${where}: sort key is ${d.actual}, schemas/ says ${d.expected}`;
  }
}

/** All drifts, one line each. */
export function formatDrifts(drifts: readonly Drift[]): string[] {
  return drifts.map(formatDrift);
}
