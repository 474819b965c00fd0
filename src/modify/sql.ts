/**
 * The SQL of a deep copy, as strings the runbook submits through the Warehouse port.
 *
 * Invariant 5 (no user text in SQL): every identifier goes through quoteIdent / qualified; types are canonical types
 * from the allow-list; the only values are default literals validated by the model (DEFAULT_LITERAL) and values the bot
 * produced itself (timestamps and ids it read back, numbers it computed), rendered by renderMark after a format check.
 * No statement selects `*`: every INSERT names its columns and every SELECT its expressions (the column mapping).
 *
 * Statements carry no trailing semicolon (the Data API takes one statement per string); formatPlan adds them for humans.
 */
import { qualified, quoteIdent, quoteLiteral } from '../schema/identifiers.js';
import { DEFAULT_LITERAL, type ColumnDef, type TableDef } from '../schema/model.js';
import { renderCreateTable } from '../schema/render.js';
import { LIMITS, parseRedshiftType } from '../schema/types.js';
import { castRule, type CastRule } from './casts.js';
import type { AclGrant, ColumnSource, NarrowingCheck, RecreatedForeignKey, SqlMark } from './types.js';
import { regrantStatements, type RegrantOptions } from './grants.js';


// ─── names ───────────────────────────────────────────────────────────────────────────────────────────────────────────

function prefixed(prefix: string, table: string): string {
  const name = `${prefix}${table}`;
  if (Buffer.byteLength(name, 'utf8') > LIMITS.identifierBytesMax)
    throw new Error(`table name ${name} would be longer than ${LIMITS.identifierBytesMax} bytes; a table this long cannot be deep-copied under the ${prefix}<table> convention`);
  return name;
}

/** `new_<t>`: the table a deep copy builds. */
export const newTableName = (table: string): string => prefixed('new_', table);
/** `old_<t>`: the original table after the swap, until it is dropped. */
export const oldTableName = (table: string): string => prefixed('old_', table);

// ─── values ──────────────────────────────────────────────────────────────────────────────────────────────────────────

const TS = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?$/;
const INT = /^-?\d{1,20}$/;
const PLACEHOLDER = /^[a-z_][a-z0-9_]*$/;

/** A run-time value as SQL: a timestamp literal, a whole number, or `{{name}}` for a plan that does not know it yet
 *  (run-values.ts fills it at run time). */
export function renderMark(m: SqlMark): string {
  if ('ts' in m) {
    if (!TS.test(m.ts)) throw new Error(`"${m.ts}" is not a timestamp the bot wrote (YYYY-MM-DD HH:MM:SS[.ffffff])`);
    return quoteLiteral(m.ts);
  }
  if ('int' in m) {
    if (!INT.test(m.int)) throw new Error(`"${m.int}" is not a whole number`);
    return m.int;
  }
  if (!PLACEHOLDER.test(m.placeholder)) throw new Error(`"${m.placeholder}" is not a placeholder name`);
  return `{{${m.placeholder}}}`;
}

/** A column's default as SQL (validated again, as the renderer does), or NULL. */
export function defaultSql(c: ColumnDef): string {
  const v = (c.default ?? 'NULL').trim();
  if (v.includes('\\') || !DEFAULT_LITERAL.test(v)) throw new Error(`column ${c.name}: default ${JSON.stringify(c.default)} is not a literal the bot renders`);
  return v;
}

/** Defaults whose value depends on when they are evaluated (not comparable between two reads). */
export function isVolatileDefault(c: ColumnDef): boolean {
  return c.default !== undefined && /^(getdate\(\)|sysdate|current_date|current_timestamp)$/i.test(c.default.trim());
}

// ─── expressions ─────────────────────────────────────────────────────────────────────────────────────────────────────

function column(t: TableDef, name: string): ColumnDef {
  const c = t.columns.find((x) => x.name === name);
  if (!c) throw new Error(`${t.schema}.${t.name} has no column ${name}`);
  return c;
}

function ruleFor(current: TableDef, m: Extract<ColumnSource, { kind: 'cast' }>): Extract<CastRule, { kind: 'ok' }> {
  const rule = castRule(column(current, m.from).type, m.type, m.from);
  if (rule.kind === 'refuse') throw new Error(rule.reason);
  return rule;
}

/**
 * The SELECT-list expression giving the new column `m.target` its value from the old table (optionally qualified by the
 * old table's bare name, for statements that read two tables).
 */
export function sourceExpr(current: TableDef, next: TableDef, m: ColumnSource, qualifier?: string): string {
  const q = (name: string): string => (qualifier ? `${quoteIdent(qualifier)}.${quoteIdent(name)}` : quoteIdent(name));
  switch (m.kind) {
    case 'column':
      return q(m.from);
    case 'default': {
      const c = column(next, m.target);
      return `CAST(${defaultSql(c)} AS ${c.type})`;
    }
    case 'cast': {
      const rule = ruleFor(current, m);
      if (rule.expr === 'assign') return q(m.from);
      if (rule.expr === 'text') return `CAST(${q(m.from)} AS varchar(64))`;
      return `CAST(${q(m.from)} AS ${m.type})`;
    }
  }
}

/** The same value typed exactly as the new column (for comparisons and hashes across the two tables). */
export function typedSourceExpr(current: TableDef, next: TableDef, m: ColumnSource, qualifier?: string): string {
  const e = sourceExpr(current, next, m, qualifier);
  if (m.kind !== 'cast') return e;
  return ruleFor(current, m).expr === 'cast' ? e : `CAST(${e} AS ${m.type})`;
}

/** Join items with ", " wrapping lines at about `width` characters, continuation lines indented by `indent`. */
function wrap(items: readonly string[], indent: string, width = 110): string {
  const lines: string[] = [];
  let line = '';
  for (const it of items) {
    const piece = line === '' ? it : `${line}, ${it}`;
    if (line !== '' && piece.length > width) {
      lines.push(`${line},`);
      line = it;
    } else line = piece;
  }
  if (line !== '') lines.push(line);
  return lines.join(`\n${indent}`);
}

// ─── DDL ─────────────────────────────────────────────────────────────────────────────────────────────────────────────

/** `CREATE TABLE schema.<name>` with the new definition (its keys, and its own foreign keys, included). */
export function createNewTable(next: TableDef, name: string): string {
  return renderCreateTable(next, { name }).replace(/;\s*$/, '');
}

// ─── copy ────────────────────────────────────────────────────────────────────────────────────────────────────────────

export interface RowCondition {
  /** a column of the table read (the old table's name for it) */
  column: string;
  op: '>=' | '>' | '<' | '<=';
  value: SqlMark;
}

function whereSql(conds: readonly RowCondition[] | undefined, qualifier?: string): string {
  if (!conds || conds.length === 0) return '';
  const q = (n: string): string => (qualifier ? `${quoteIdent(qualifier)}.${quoteIdent(n)}` : quoteIdent(n));
  return conds.map((c) => `${q(c.column)} ${c.op} ${renderMark(c.value)}`).join(' AND ');
}

/** The ORDER BY of a copy: the new table's sort key columns, by the old columns they come from (added ones skipped). */
function orderBy(next: TableDef, mapping: readonly ColumnSource[]): string[] {
  const out: string[] = [];
  for (const col of next.sortKey.columns) {
    const m = mapping.find((x) => x.target === col);
    if (m && m.kind !== 'default') out.push(quoteIdent(m.from));
  }
  return out;
}

export interface CopyOptions {
  /** table read (bare name, in current.schema) */
  from: string;
  /** table written (bare name, in next.schema) */
  to: string;
  where?: readonly RowCondition[];
  /** sort the rows by the new sort key (default true) */
  ordered?: boolean;
}

/**
 * `INSERT INTO <to> (<every new column>) SELECT <its source expression> FROM <from> [WHERE …] ORDER BY <new sort key>`:
 * renamed columns read their old name, added columns their default, changed types a cast (casts.ts).
 */
export function copyRows(current: TableDef, next: TableDef, mapping: readonly ColumnSource[], opts: CopyOptions): string {
  checkMapping(next, mapping);
  const targets = mapping.map((m) => quoteIdent(m.target));
  const exprs = mapping.map((m) => sourceExpr(current, next, m));
  const lines = [
    `INSERT INTO ${qualified(next.schema, opts.to)} (${wrap(targets, '  ')})`,
    `SELECT ${wrap(exprs, '       ')}`,
    `FROM ${qualified(current.schema, opts.from)}`,
  ];
  const where = whereSql(opts.where);
  if (where) lines.push(`WHERE ${where}`);
  const order = opts.ordered === false ? [] : orderBy(next, mapping);
  if (order.length) lines.push(`ORDER BY ${order.join(', ')}`);
  return lines.join('\n');
}

/** The mapping must give every column of `next` a source, in order. */
export function checkMapping(next: TableDef, mapping: readonly ColumnSource[]): void {
  const want = next.columns.map((c) => c.name).join(',');
  const got = mapping.map((m) => m.target).join(',');
  if (want !== got) throw new Error(`column mapping (${got}) does not match the columns of ${next.name} (${want})`);
}

// ─── narrowing checks ────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * For each type change that could fail or lose data, a query counting the offending rows of the old table (`table`,
 * default current.name). Each returns one row: `offending`, `worst`. Block checks refuse the change while offending > 0.
 */
export function narrowingChecks(current: TableDef, mapping: readonly ColumnSource[], opts: { table?: string } = {}): NarrowingCheck[] {
  const table = opts.table ?? current.name;
  const out: NarrowingCheck[] = [];
  for (const m of mapping) {
    if (m.kind !== 'cast') continue;
    const rule = ruleFor(current, m);
    const col = quoteIdent(m.from);
    for (const c of rule.checks) {
      const worst = c.worst ? c.worst(col) : 'CAST(NULL AS varchar(64))';
      out.push({
        table,
        column: m.from,
        target: m.target,
        from: column(current, m.from).type,
        to: m.type,
        kind: c.kind,
        severity: c.severity,
        sql: `SELECT count(*) AS offending, ${worst} AS worst FROM ${qualified(current.schema, table)} WHERE ${col} IS NOT NULL AND (${c.predicate(col)})`,
        limit: c.limit,
      });
    }
  }
  return out;
}

/** The refusal (or warning) for a check's result row; undefined when no row offends. */
export function narrowingMessage(check: NarrowingCheck, row: { offending: unknown; worst?: unknown }): string | undefined {
  const n = Number(row.offending ?? 0);
  if (!Number.isFinite(n) || n <= 0) return undefined;
  const rows = `${n.toLocaleString('en-US')} row${n === 1 ? '' : 's'} of ${check.table}.${check.column}`;
  const are = n === 1 ? 'is' : 'are';
  const have = n === 1 ? 'has' : 'have';
  const worst = row.worst === null || row.worst === undefined ? undefined : String(row.worst);
  let text: string;
  switch (check.kind) {
    case 'length':
      text = `${rows} ${are} longer than ${check.limit}${worst ? `; the longest is ${worst} bytes` : ''}`;
      break;
    case 'range':
      text = `${rows} ${are} outside the range of ${check.limit}${worst ? `; the largest magnitude is ${worst}` : ''}`;
      break;
    case 'magnitude':
      text = `${rows} do${n === 1 ? 'es' : ''} not fit ${check.limit}${worst ? `; the largest magnitude is ${worst}` : ''}`;
      break;
    case 'scale':
      text = check.limit === 'whole numbers' ? `${rows} ${are} not whole numbers and would be rounded` : `${rows} ${have} more than ${check.limit} and would be rounded`;
      break;
    case 'format':
      text = `${rows} ${are} not ${check.limit}`;
      break;
    case 'time-of-day':
      text = `${rows} ${have} a time of day other than midnight, which ${check.to} drops`;
      break;
  }
  return check.severity === 'block'
    ? `${text}: ${check.from} → ${check.to} would ${check.kind === 'format' || check.kind === 'range' || check.kind === 'magnitude' ? 'fail' : 'change the data'}; fix those rows or choose a wider type`
    : `${text} (warning: the change goes ahead)`;
}

// ─── verification ────────────────────────────────────────────────────────────────────────────────────────────────────

const UNHASHABLE = new Set(['super', 'geometry', 'geography', 'hllsketch', 'varbyte']);

/**
 * Can a column of this type be grouped and compared (GROUP BY, EXCEPT) on Redshift? Not SUPER, the spatial types,
 * HLLSKETCH or VARBYTE — the same types FNV_HASH refuses: a delta comparing rows then falls back to re-copying them.
 */
export function comparableInSetOps(type: string): boolean {
  const p = parseRedshiftType(type);
  return p.ok && !UNHASHABLE.has(p.type.kind);
}
const INT_KINDS = new Set(['smallint', 'integer', 'bigint']);

export interface VerifyColumn {
  target: string;
  /** aliases in the checksum query's rows */
  count: string;
  hash?: string;
}

export interface VerifySpec {
  /**
   * Two rows (`side` = 'old' / 'new'): `row_count`, and per column `nK` = COUNT(col) and `hK` = SUM of FNV_HASH(col)
   * as numeric(38,0). Equal rows = same row count and the same multiset of values per column.
   */
  checksums: string;
  /** the two halves of `checksums`, each a one-row query on its own (the 'old' and the 'new' row) */
  oldSide: string;
  newSide: string;
  columns: VerifyColumn[];
  sampled: boolean;
  /** up to 5 primary-key values that occur more than once in the new / old table (none expected in new beyond old) */
  duplicatesNew?: string;
  duplicatesOld?: string;
  notes: string[];
}

export interface VerifyOptions {
  /** bare names of the tables compared: the old one (current's columns) and the new one (next's columns) */
  oldTable: string;
  newTable: string;
  /** compare only rows whose integer primary key is a multiple of this (a sample); whole table when absent or when
   *  the primary key is not a single integer column */
  sampleEvery?: number;
  /**
   * Live copy (cdc): compare only rows that cannot have changed since the copy mark — old rows with `column op mark`
   * (updated_at < mark; for an append-only table id <= mark) whose key is in the new table, and the new rows with those
   * keys. `column` is the old table's column.
   */
  stable?: { column: string; op: '<' | '<='; mark: SqlMark };
  /**
   * After the swap: compare only rows with `column op value` (old table) and `target op value` (new table); `value` is
   * SQL the planner wrote around a bound parameter (`CAST(:swap_mark AS bigint)`, optionally minus an INTERVAL).
   * `sameKeys`: also only rows whose key the other table has under the same condition (rows changed or deleted since
   * are then left out on both sides — an updated_at table, where a changed row keeps its key).
   */
  range?: { column: string; target: string; op: '<' | '<='; value: string; sameKeys?: boolean };
}

const RANGE_VALUE = /^CAST\(:[a-z_]+ AS (timestamp|bigint)\)( - INTERVAL '\d+ seconds')?$/;

/**
 * Queries that check a copy: row counts and per-column checksums of old vs new, and primary-key duplicates.
 * FNV_HASH is Redshift's (64-bit FNV-1a of the value's binary form, so both sides are typed as the new column);
 * the sandbox provides a compatible fnv_hash function over PostgreSQL.
 */
export function verifyQueries(current: TableDef, next: TableDef, mapping: readonly ColumnSource[], opts: VerifyOptions): VerifySpec {
  checkMapping(next, mapping);
  const notes: string[] = [];
  const columns: VerifyColumn[] = [];
  const oldItems: string[] = [`'old' AS side`, 'count(*) AS row_count'];
  const newItems: string[] = [`'new' AS side`, 'count(*) AS row_count'];
  mapping.forEach((m, i) => {
    const c = column(next, m.target);
    const kind = parseRedshiftType(c.type);
    if (m.kind === 'default' && isVolatileDefault(c)) {
      notes.push(`${m.target} is not compared: its default ${c.default} differs between the copy and the check`);
      return;
    }
    const oldExpr = typedSourceExpr(current, next, m);
    const newExpr = quoteIdent(m.target);
    const vc: VerifyColumn = { target: m.target, count: `n${i + 1}` };
    oldItems.push(`COUNT(${oldExpr}) AS n${i + 1}`);
    newItems.push(`COUNT(${newExpr}) AS n${i + 1}`);
    if (kind.ok && !UNHASHABLE.has(kind.type.kind)) {
      vc.hash = `h${i + 1}`;
      oldItems.push(`SUM(CAST(FNV_HASH(${oldExpr}) AS numeric(38,0))) AS h${i + 1}`);
      newItems.push(`SUM(CAST(FNV_HASH(${newExpr}) AS numeric(38,0))) AS h${i + 1}`);
    } else notes.push(`${m.target} (${c.type}) is compared by count only: FNV_HASH does not take that type`);
    columns.push(vc);
  });

  const pk = (next.primaryKey ?? []).map((target) => {
    const m = mapping.find((x) => x.target === target)!;
    return { target, from: m.kind === 'default' ? undefined : m.from };
  });
  const pkOk = pk.length > 0 && pk.every((p) => p.from !== undefined);
  const oldConds: string[] = [];
  const newConds: string[] = [];
  let sampled = false;
  if (opts.sampleEvery !== undefined && opts.sampleEvery > 1) {
    const single = pk.length === 1 ? pk[0]! : undefined;
    const oldType = single?.from ? parseRedshiftType(column(current, single.from).type) : undefined;
    const newType = single ? parseRedshiftType(column(next, single.target).type) : undefined;
    if (single?.from && oldType?.ok && newType?.ok && INT_KINDS.has(oldType.type.kind) && INT_KINDS.has(newType.type.kind)) {
      const n = Math.floor(opts.sampleEvery);
      oldConds.push(`MOD(${quoteIdent(single.from)}, ${n}) = 0`);
      newConds.push(`MOD(${quoteIdent(single.target)}, ${n}) = 0`);
      sampled = true;
    } else notes.push('the whole table is compared: sampling needs a single integer primary key');
  }
  if (opts.stable) {
    if (!pkOk) throw new Error(`${next.name}: comparing a live copy needs a primary key`);
    const s = opts.stable;
    const mark = renderMark(s.mark);
    // keys matched with EXISTS on column equality (Redshift's IN takes a one-column subquery), the old key typed as the new
    const match = (newQ: string, oldQ: string): string =>
      pk
        .map((p) => `${quoteIdent(newQ)}.${quoteIdent(p.target)} = ${typedSourceExpr(current, next, mapping.find((m) => m.target === p.target)!, oldQ)}`)
        .join(' AND ');
    oldConds.push(
      `${quoteIdent(s.column)} ${s.op} ${mark}`,
      `EXISTS (SELECT 1 FROM ${qualified(next.schema, opts.newTable)} AS n WHERE ${match('n', opts.oldTable)})`,
    );
    newConds.push(`EXISTS (SELECT 1 FROM ${qualified(current.schema, opts.oldTable)} AS o WHERE o.${quoteIdent(s.column)} ${s.op} ${mark} AND ${match(opts.newTable, 'o')})`);
    notes.push('rows changed since the copy began are left out: the locked swap brings them over');
  }
  if (opts.range) {
    const r = opts.range;
    if (!RANGE_VALUE.test(r.value)) throw new Error(`verify range "${r.value}" is not a value the planner writes`);
    oldConds.push(`${quoteIdent(r.column)} ${r.op} ${r.value}`);
    newConds.push(`${quoteIdent(r.target)} ${r.op} ${r.value}`);
    if (r.sameKeys) {
      if (!pkOk) throw new Error(`${next.name}: comparing rows by key needs a primary key`);
      const oldBare = quoteIdent(opts.oldTable);
      const newBare = quoteIdent(opts.newTable);
      const onNew = pk.map((p) => `x.${quoteIdent(p.target)} = ${oldBare}.${quoteIdent(p.from!)}`).join(' AND ');
      const onOld = pk.map((p) => `x.${quoteIdent(p.from!)} = ${newBare}.${quoteIdent(p.target)}`).join(' AND ');
      oldConds.push(`EXISTS (SELECT 1 FROM ${qualified(next.schema, opts.newTable)} AS x WHERE ${onNew} AND x.${quoteIdent(r.target)} ${r.op} ${r.value})`);
      newConds.push(`EXISTS (SELECT 1 FROM ${qualified(current.schema, opts.oldTable)} AS x WHERE ${onOld} AND x.${quoteIdent(r.column)} ${r.op} ${r.value})`);
    }
  }
  const w = (conds: string[]): string => (conds.length ? `\nWHERE ${conds.join(' AND ')}` : '');
  const oldSide = `SELECT ${wrap(oldItems, '       ')}\nFROM ${qualified(current.schema, opts.oldTable)}${w(oldConds)}`;
  const newSide = `SELECT ${wrap(newItems, '       ')}\nFROM ${qualified(next.schema, opts.newTable)}${w(newConds)}`;
  const checksums = [oldSide, 'UNION ALL', newSide].join('\n');

  const spec: VerifySpec = { checksums, oldSide, newSide, columns, sampled, notes };
  if (pkOk) {
    const newCols = pk.map((p) => quoteIdent(p.target)).join(', ');
    const oldCols = pk.map((p) => quoteIdent(p.from!)).join(', ');
    spec.duplicatesNew = `SELECT ${newCols}, count(*) AS copies FROM ${qualified(next.schema, opts.newTable)} GROUP BY ${newCols} HAVING count(*) > 1 ORDER BY ${pk.length + 1} DESC LIMIT 5`;
    spec.duplicatesOld = `SELECT ${oldCols}, count(*) AS copies FROM ${qualified(current.schema, opts.oldTable)} GROUP BY ${oldCols} HAVING count(*) > 1 ORDER BY ${pk.length + 1} DESC LIMIT 5`;
  } else notes.push(`${next.name} has no primary key: duplicates are not checked`);
  return spec;
}

/** Differences between the two checksum rows (empty = the copy matches). */
export function compareChecksums(spec: VerifySpec, rows: ReadonlyArray<Record<string, unknown>>): string[] {
  const old = rows.find((r) => r.side === 'old');
  const neu = rows.find((r) => r.side === 'new');
  if (!old || !neu) return ['the checksum query did not return one row for each table'];
  const norm = (v: unknown): string => (v === null || v === undefined ? 'NULL' : String(v).replace(/\.0+$/, ''));
  const problems: string[] = [];
  if (norm(old.row_count) !== norm(neu.row_count)) problems.push(`row counts differ: old ${norm(old.row_count)}, new ${norm(neu.row_count)}`);
  for (const c of spec.columns) {
    if (norm(old[c.count]) !== norm(neu[c.count])) problems.push(`column ${c.target}: ${norm(old[c.count])} non-NULL values in the old table, ${norm(neu[c.count])} in the new`);
    else if (c.hash && norm(old[c.hash]) !== norm(neu[c.hash])) problems.push(`column ${c.target}: the values differ (checksums ${norm(old[c.hash])} vs ${norm(neu[c.hash])})`);
  }
  return problems;
}

// ─── batch size ──────────────────────────────────────────────────────────────────────────────────────────────────────

/** BatchExecuteStatement takes 1 to 40 SQL statements (Data API reference, `Sqls`); a batch is one transaction. */
export const BATCH_STATEMENTS_MAX = 40;
/** Statements the runbook puts around the locked swap's LOCK TABLE (SET statement_timeout before it and after it). */
export const LOCK_WAIT_STATEMENTS = 2;

/**
 * The refusal when a swap would not fit one batch. The swap is never split (a name is never missing longer than the
 * swap: invariant 2), so the way out is fewer GRANT statements — grantees sharing a privilege set share one GRANT.
 */
export function swapBatchProblem(statements: number, grants: readonly AclGrant[], schema: string, table: string): string | undefined {
  if (statements <= BATCH_STATEMENTS_MAX) return undefined;
  const sets = new Set(grants.map((g) => `${g.privileges.join(',')}|${g.granteeKind === 'user' ? g.grantable.join(',') : ''}`)).size;
  return (
    `the swap of ${schema}.${table} would be ${statements} statements in one transaction: the renames and the change delta, plus the re-grants for ` +
    `${grants.length} grantee${grants.length === 1 ? '' : 's'} with ${sets} different privilege set${sets === 1 ? '' : 's'} (one GRANT per set). ` +
    `The Data API runs at most ${BATCH_STATEMENTS_MAX} statements in one batch, and the swap must stay one transaction so ${table} is never missing. ` +
    `Give the grantees fewer distinct privilege sets (or grant through a group: GRANT … TO GROUP …) so their GRANTs combine, then try again.`
  );
}

// ─── swap, drop, foreign keys ────────────────────────────────────────────────────────────────────────────────────────

export interface SwapOptions extends RegrantOptions {
  /** grants read from the old table's ACL, re-granted on the new table in the same transaction */
  grants?: readonly AclGrant[];
}

/** Both renames (+ the re-grants) as ONE batch: `t → old_t`, `new_t → t`. */
export function swapBatch(schema: string, table: string, opts: SwapOptions = {}): string[] {
  return [
    `ALTER TABLE ${qualified(schema, table)} RENAME TO ${quoteIdent(oldTableName(table))}`,
    `ALTER TABLE ${qualified(schema, newTableName(table))} RENAME TO ${quoteIdent(table)}`,
    ...regrantStatements(opts.grants ?? [], schema, table, opts),
  ];
}

/**
 * Rollback before the drop, as ONE batch: `t → new_t`, `old_t → t` — back to the pre-swap state (the old table keeps
 * its grants through renames; `new_<t>` stays for inspection and is dropped by recover). `before`: statements that
 * bring changes made to the new table since the swap back into the old one (delta.ts reverseDelta), run first.
 */
export function swapBackBatch(schema: string, table: string, before: readonly string[] = []): string[] {
  return [
    ...before,
    `ALTER TABLE ${qualified(schema, table)} RENAME TO ${quoteIdent(newTableName(table))}`,
    `ALTER TABLE ${qualified(schema, oldTableName(table))} RENAME TO ${quoteIdent(table)}`,
  ];
}

/** Rename-first (cdc fallback): the table leaves its name before the copy, so no change lands in the table copied. */
export function renameAwayBatch(schema: string, table: string): string[] {
  return [`ALTER TABLE ${qualified(schema, table)} RENAME TO ${quoteIdent(oldTableName(table))}`];
}

/** Rename-first: the new table takes the name (+ the re-grants). */
export function renameInBatch(schema: string, table: string, opts: SwapOptions = {}): string[] {
  return [
    `ALTER TABLE ${qualified(schema, newTableName(table))} RENAME TO ${quoteIdent(table)}`,
    ...regrantStatements(opts.grants ?? [], schema, table, opts),
  ];
}

/**
 * The other tables' foreign keys that point at the table: after the swap they point at `old_<t>` (a constraint binds
 * to the table, not its name), and `DROP TABLE old_<t> CASCADE` drops them; these re-create them on the new table,
 * with the command's renames applied to the referenced columns. The table's references to itself are excluded (the
 * new table's CREATE has them).
 */
export function recreatedForeignKeys(
  current: TableDef,
  mapping: readonly ColumnSource[],
  referencing: ReadonlyArray<{ table: TableDef; fk: { columns: string[]; references: { schema?: string; table: string; columns: string[] } } }>,
): { ok: true; fks: RecreatedForeignKey[] } | { ok: false; error: string } {
  const fks: RecreatedForeignKey[] = [];
  for (const { table, fk } of referencing) {
    if (table.schema === current.schema && table.name === current.name) continue;
    const refs: string[] = [];
    for (const c of fk.references.columns) {
      const m = mapping.find((x) => x.kind !== 'default' && x.from === c);
      if (!m) return { ok: false, error: `${table.schema}.${table.name} (${fk.columns.join(', ')}) references ${current.name}.${c}, which this change drops; change ${table.name} first` };
      refs.push(m.target);
    }
    fks.push({
      schema: table.schema,
      table: table.name,
      columns: [...fk.columns],
      references: refs,
      sql: `ALTER TABLE ${qualified(table.schema, table.name)} ADD FOREIGN KEY (${fk.columns.map(quoteIdent).join(', ')}) REFERENCES ${qualified(current.schema, current.name)} (${refs.map(quoteIdent).join(', ')})`,
    });
  }
  return { ok: true, fks };
}

/** ONE batch: drop `old_<t>` (CASCADE drops the foreign keys still bound to it) and re-create them on `<t>`. */
export function dropOldAndRecreateFks(schema: string, table: string, fks: readonly RecreatedForeignKey[]): string[] {
  return [`DROP TABLE ${qualified(schema, oldTableName(table))}${fks.length ? ' CASCADE' : ''}`, ...fks.map((f) => f.sql)];
}

/** Views that depend on a table (bound parameters :schema, :table): `DROP … CASCADE` would drop them. */
export const DEPENDENT_VIEWS_QUERY =
  'SELECT DISTINCT vn.nspname AS view_schema, vc.relname AS view_name FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class vc ON vc.oid = r.ev_class JOIN pg_namespace vn ON vn.oid = vc.relnamespace JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace WHERE tn.nspname = :schema AND t.relname = :table AND vc.oid <> t.oid';

/** Drop the work table (recover / a failed copy). */
export function dropNewTable(schema: string, table: string): string {
  return `DROP TABLE IF EXISTS ${qualified(schema, newTableName(table))}`;
}

/** Empty the work table before a (re)copy, in the copy's own transaction (TRUNCATE would commit on its own). */
export function clearNewTable(schema: string, table: string): string {
  return `DELETE FROM ${qualified(schema, newTableName(table))}`;
}
