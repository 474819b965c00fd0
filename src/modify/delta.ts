/**
 * Live copy for cdc tables: copy while the table stays readable and replicated; catch up without a lock (rounds, each
 * applying the changes since the previous round's mark, until a round is small); then in ONE transaction lock it, apply
 * the changes since the last round (the rows of the margin window that differ), and swap the names. The read-unavailability is the locked batch only, and every
 * delta statement reaches its rows through a range on the change column and the keys of the rows so found
 * (applyDelta), so the lock lasts as long as the last round's changes, not as the table.
 *
 * How the changed rows are found (deltaPlan):
 * - `updated_at` (the table has an `updated_at` timestamp kept as is): the copy mark is max(updated_at) read just before
 *   the copy minus a safety margin (rows committed late at the source carry an older updated_at); each catch-up round
 *   and the lock compare the window updated_at ≥ mark of t with that of new_t and re-copy only the rows that differ (by
 *   primary key) — the margin keeps the window wide enough for late commits, and the compare keeps the writes (and the
 *   lock) down to the rows that changed. Deletes during the copy are found by key: before the lock (preSwapDeleteSync:
 *   keys of new_t no longer in t) and after the swap for the window in between (postSwapDeleteSync: keys of t older than
 *   the mark that old_t no longer has).
 * Which one is the table's declared `changeTracking` (schemas/): `{ updated_at: <column> }` → `updated_at`;
 * `{ append_only: <id> }` → `append-id`; `none` (or nothing declared) → `full`. Nothing is guessed from column names.
 * - `append-id` (declared append-only): rows with id > max(id) at the copy start. Updates and deletes are NOT covered
 *   (the post-swap verification would find them: counts differ).
 * - `full`: no change column: under the lock the whole tables are compared (rows of new_t that differ from t go, rows
 *   of t missing in new_t come) — correct but the lock lasts as long as two scans of the table.
 * After the swap, lateWritesToOld finds rows written to old_t after the swap (a writer that had resolved the name
 * before the rename) and moves them over; reverseDelta brings the new table's changes back on a rollback.
 */
import { qualified, quoteIdent } from '../schema/identifiers.js';
import { changeColumn, type ColumnDef, type TableDef } from '../schema/model.js';
import { parseRedshiftType } from '../schema/types.js';
import { checkMapping, comparableInSetOps, defaultSql, newTableName, oldTableName, renderMark, sourceExpr, swapBatch, typedSourceExpr, verifyQueries, type SwapOptions } from './sql.js';
import type { ColumnSource, DeltaPlan, SqlMark } from './types.js';

export const DEFAULT_MARGIN_SECONDS = 300;
/** live copy: catch-up rounds stop once a round applied fewer rows than this, or after this many rounds */
export const DEFAULT_CATCHUP = { rows: 1_000, rounds: 5 } as const;
const NO_ROWS_MARK = '1900-01-01 00:00:00';

export interface DeltaOptions {
  /** subtracted from max(updated_at) for the copy mark (default 300) */
  marginSeconds?: number;
}

type Key = DeltaPlan['primaryKey'];

function primaryKeyMap(current: TableDef, mapping: readonly ColumnSource[]): Key | undefined {
  if (!current.primaryKey || current.primaryKey.length === 0) return undefined;
  const out: Key = [];
  for (const c of current.primaryKey) {
    const m = mapping.find((x) => x.kind !== 'default' && x.from === c);
    if (!m || m.kind === 'default') return undefined;
    out.push(m.kind === 'cast' ? { column: c, target: m.target, cast: m.type } : { column: c, target: m.target });
  }
  return out;
}

// ─── key comparisons ─────────────────────────────────────────────────────────────────────────────────────────────────
// Redshift fidelity: no `NOT IN (SELECT key …)` (one NULL key in the subquery makes it match nothing — a silent no-op)
// and no `(a, b) IN (SELECT a, b …)` (Redshift's IN takes a one-column subquery): keys are matched with [NOT] EXISTS /
// joins on column equality. A key column whose type the change converts is compared as the NEW type on both sides
// (CAST of the old column), so an integer id becoming varchar never meets `character varying = integer`.

/** The old key column of a row qualified by `q`, typed as the new key column. */
function oldKey(k: Key[number], q: string): string {
  const col = `${quoteIdent(q)}.${quoteIdent(k.column)}`;
  return k.cast ? `CAST(${col} AS ${k.cast})` : col;
}

/** `n.k1 = o.k1 AND …`: the new table's row (alias `n`) has the old table's row's key (alias `o`). */
export function keyMatch(key: Key, newAlias: string, oldAlias: string): string {
  return key.map((k) => `${quoteIdent(newAlias)}.${quoteIdent(k.target)} = ${oldKey(k, oldAlias)}`).join(' AND ');
}

/** `[NOT] EXISTS (SELECT 1 FROM <table> AS <alias> WHERE <match>[ AND <extra>])` */
function exists(not: boolean, table: string, alias: string, match: string, extra?: string): string {
  return `${not ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${table} AS ${quoteIdent(alias)} WHERE ${match}${extra ? ` AND ${extra}` : ''})`;
}

const isTimestamp = (c: ColumnDef): boolean => {
  const p = parseRedshiftType(c.type);
  return p.ok && (p.type.kind === 'timestamp' || p.type.kind === 'timestamptz');
};
const isTimestamptz = (c: ColumnDef): boolean => {
  const p = parseRedshiftType(c.type);
  return p.ok && p.type.kind === 'timestamptz';
};
/**
 * A change-column value as the bot reads it back (a mark): timestamptz in UTC without the zone (`YYYY-MM-DD HH:MM:SS`,
 * what renderMark accepts; Data API sessions run in UTC, so the mark compares with the column as the same instant).
 */
function markValue(expr: string, c: ColumnDef): string {
  return isTimestamptz(c) ? `(${expr} AT TIME ZONE 'UTC')` : expr;
}
const isInteger = (c: ColumnDef): boolean => {
  const p = parseRedshiftType(c.type);
  return p.ok && (p.type.kind === 'smallint' || p.type.kind === 'integer' || p.type.kind === 'bigint');
};

/**
 * Choose how the live copy finds the rows that changed while it ran — from the table's declared `changeTracking`
 * (schemas/), never from a column's name.
 */
export function deltaPlan(current: TableDef, next: TableDef, mapping: readonly ColumnSource[], opts: DeltaOptions = {}): DeltaPlan {
  checkMapping(next, mapping);
  const t = qualified(current.schema, current.name);
  const pk = primaryKeyMap(current, mapping);
  if (!pk)
    return {
      kind: 'full',
      primaryKey: [],
      notes: [
        `${current.name} has no primary key the new table keeps: under the lock new_${current.name} is emptied and copied again in full — the table is locked for a whole copy`,
      ],
    };
  const full = (why: string): DeltaPlan => ({
    kind: 'full',
    primaryKey: pk,
    notes: [`${why}: the changes made during the copy are found by comparing the whole tables under the lock, so the table is unreadable for several scans of both tables (the plan shows the expected lock time; --strategy rename-first avoids the lock)`],
  });
  const declared = changeColumn(current.changeTracking);
  if (current.changeTracking === undefined)
    return full(
      `${current.name} declares no changeTracking in schemas/: treated as none (declare changeTracking: { updated_at: <column> } when every change sets a timestamp, { append_only: <id> } when it only gets inserts, or none)`,
    );
  if (!declared) return full(`${current.name} declares changeTracking none`);
  const col = current.columns.find((c) => c.name === declared.column);
  const colMap = col ? mapping.find((m) => m.kind === 'column' && m.from === col.name) : undefined;
  if (!col || !colMap) return full(`${current.name}'s change column ${declared.column} is not copied unchanged into the new table`);
  if (declared.kind === 'updated_at') {
    if (!isTimestamp(col)) return full(`${current.name}'s change column ${col.name} is not a timestamp`);
    const margin = Math.max(0, Math.floor(opts.marginSeconds ?? DEFAULT_MARGIN_SECONDS));
    const q = quoteIdent(col.name);
    return {
      kind: 'updated_at',
      column: col.name,
      target: colMap.target,
      primaryKey: pk,
      marginSeconds: margin,
      markQuery: `SELECT CAST(COALESCE(${markValue(`MAX(${q})`, col)} - INTERVAL '${margin} seconds', CAST('${NO_ROWS_MARK}' AS timestamp)) AS varchar(32)) AS mark FROM ${t}`,
      notes: [
        `rows changed during the copy are found by ${col.name} ≥ (its max before the copy − ${margin} s) and re-copied under the lock`,
        `rows deleted during the copy are found by primary key (${pk.map((k) => k.column).join(', ')})`,
        `a source transaction that commits more than ${margin} s after it set ${col.name} could slip past the mark: raise the margin for tables with long transactions`,
      ],
    };
  }
  if (pk.length !== 1 || pk[0]!.column !== col.name || !isInteger(col))
    return full(`${current.name} declares append_only: ${col.name}, but the id delta needs ${col.name} to be its single integer primary key`);
  return {
    kind: 'append-id',
    column: col.name,
    target: pk[0]!.target,
    primaryKey: pk,
    markQuery: `SELECT CAST(COALESCE(MAX(${quoteIdent(col.name)}), 0) AS varchar(20)) AS mark FROM ${t}`,
    notes: [`rows added during the copy are found by ${col.name} > its max before the copy; updates and deletes during the copy are NOT covered (the table is declared append-only)`],
  };
}

export interface LockedSwapOptions extends SwapOptions {
  /** where the delta starts: the last catch-up mark (updated_at / append-id); ignored for full */
  mark: SqlMark;
}

export interface LockedSwap {
  sql: string[];
  /** index of the sub-statement returning `swap_mark` (max change mark of t under the lock), when there is one */
  swapMarkIndex?: number;
  /**
   * full delta: index of the sub-statement returning the checksum row of new_t after the delta, under the lock (the
   * state the table has when it takes the name): the post-swap verification compares old_t with it
   */
  checksumIndex?: number;
}

const cols = (key: Key, side: 'column' | 'target'): string[] => key.map((k) => quoteIdent(k[side]));

/** Session-temporary table holding a delta (dropped at the end of the batch). */
export const DELTA_TABLE = 'rso_swap_delta';
/** Which table a row of the compared windows came from (0: new_t, 1: t). */
const SIDE_COLUMN = 'rso_delta_side';

/**
 * The statements that bring new_t level with t for the rows changed since `mark` — the same under the swap's lock and
 * in an unlocked catch-up round. Every statement finds its rows through a range on the change column (Redshift's zone
 * maps skip the blocks outside it; the sandbox has an index standing for them) or through the primary key of the few
 * rows so found: the work is proportional to the changes since the mark, not to the table.
 * - updated_at: the window (change column ≥ mark) of t and of new_t, grouped by every copied column (t's side typed as
 *   the new columns): a group whose rows all come from one side is a row the other side lacks — a change not copied yet,
 *   a late commit inside the margin, a second change with the same stamp, a stale copy. Those rows are kept in a temp
 *   table with their side; new_t loses their keys and gets t's version back: the delta's row of t's side, or t's current
 *   row by key when only the copy was in the window (its change column went back, or is NULL; a key t no longer has
 *   stays gone). Rows the same on both sides are not written: the writes, and so the lock, follow the changes; the
 *   reads are the two windows, on the zone maps. `swapMark` adds the statement returning swap_mark (t's newest change
 *   in the window, read under the lock). Compared with Redshift's equality, which ignores trailing blanks of a
 *   VARCHAR (and case, under a case-insensitive collation): a change of only those, stamped with the same updated_at as
 *   the copied version, is not seen — any other change sets updated_at (the declared contract) or differs. Tables with
 *   a column Redshift cannot group by (SUPER, spatial, HLLSKETCH, VARBYTE) re-copy the whole window instead (the rows
 *   changed since the mark plus the current version of every row whose copy changed since the mark, two branches of a
 *   UNION ALL, never `a OR EXISTS (…)`).
 * - append-id: rows with id > mark (and ≤ `upper`, in a catch-up round, so the next round does not insert them again).
 * Returns the statements and the index of the swap_mark statement, when asked for.
 */
export function applyDelta(
  current: TableDef,
  next: TableDef,
  mapping: readonly ColumnSource[],
  delta: Extract<DeltaPlan, { kind: 'updated_at' | 'append-id' }>,
  mark: SqlMark,
  opts: { swapMark?: boolean; upper?: SqlMark } = {},
): { sql: string[]; swapMarkIndex?: number } {
  const t = qualified(current.schema, current.name);
  const nt = qualified(next.schema, newTableName(current.name));
  const targets = mapping.map((m) => quoteIdent(m.target)).join(', ');
  const exprs = mapping.map((m) => sourceExpr(current, next, m)).join(', ');
  const m = renderMark(mark);
  const out: string[] = [];
  let swapMarkIndex: number | undefined;
  if (delta.kind === 'updated_at') {
    const upd = quoteIdent(delta.column);
    const nUpd = quoteIdent(delta.target);
    const key = delta.primaryKey;
    const updCol = current.columns.find((c) => c.name === delta.column)!;
    const copied = mapping.filter((x) => x.kind !== 'default');
    const comparable = copied.every((x) => {
      const c = next.columns.find((n) => n.name === x.target);
      return c !== undefined && comparableInSetOps(c.type);
    });
    if (comparable) {
      // only the rows that differ: the window (change column ≥ mark) of both tables, grouped by every copied column —
      // a group with rows from one side only is a row the other side lacks (kept in the temp table with its side). The
      // margin still decides the window; the writes are only the rows that actually differ.
      const d = quoteIdent(DELTA_TABLE);
      const side = quoteIdent(SIDE_COLUMN);
      const newSide = copied.map((x) => quoteIdent(x.target)).join(', ');
      const oldSide = copied.map((x) => `${typedSourceExpr(current, next, x)} AS ${quoteIdent(x.target)}`).join(', ');
      const ntBare = newTableName(current.name);
      const sameKey = key.map((c) => `${quoteIdent(ntBare)}.${quoteIdent(c.target)} = o.${quoteIdent(c.target)}`).join(' AND ');
      // t's rows found in the window, as the delta holds them (typed as the new table's columns; added columns their default)
      const fromDelta = mapping.map((x) => (x.kind === 'default' ? sourceExpr(current, next, x) : quoteIdent(x.target))).join(', ');
      out.push(
        `CREATE TEMP TABLE ${d} AS SELECT ${newSide}, MIN(${side}) AS ${side} FROM (SELECT ${newSide}, 0 AS ${side} FROM ${nt} WHERE ${nUpd} >= ${m} UNION ALL SELECT ${oldSide}, 1 AS ${side} FROM ${t} WHERE ${upd} >= ${m}) AS w GROUP BY ${newSide} HAVING MIN(${side}) = MAX(${side})`,
        // every key that differs goes: a row of new_t's side only is stale (or deleted at the source), of t's side new
        `DELETE FROM ${nt} USING ${d} AS o WHERE ${sameKey}`,
        // and comes back: t's row of the window from the delta, or — a copy in the window whose row in t is not (its
        // change column went back, or is NULL) — t's current row by key (a key t no longer has stays gone)
        `INSERT INTO ${nt} (${targets}) SELECT ${fromDelta} FROM ${d} WHERE ${side} = 1 UNION ALL SELECT ${mapping.map((x) => sourceExpr(current, next, x, 'o')).join(', ')} FROM ${t} AS o JOIN ${d} AS n ON ${keyMatch(key, 'n', 'o')} WHERE n.${side} = 0 AND (o.${upd} < ${m} OR o.${upd} IS NULL)`,
      );
      if (opts.swapMark) {
        // under the lock t does not change: its newest change is the swap mark (a range: the zone maps answer it)
        out.push(`SELECT CAST(MAX(${markValue(upd, updCol)}) AS varchar(32)) AS swap_mark FROM ${t} WHERE ${upd} >= ${m}`);
        swapMarkIndex = out.length - 1;
      }
      out.push(`DROP TABLE ${d}`);
    } else {
      const d = quoteIdent(DELTA_TABLE);
      const oldCols = current.columns.map((c) => `o.${quoteIdent(c.name)}`).join(', ');
      const changedCopies = `SELECT DISTINCT ${key.map((c) => quoteIdent(c.target)).join(', ')} FROM ${nt} WHERE ${nUpd} >= ${m}`;
      out.push(
        `CREATE TEMP TABLE ${d} AS SELECT ${oldCols} FROM ${t} AS o WHERE o.${upd} >= ${m} UNION ALL SELECT ${oldCols} FROM ${t} AS o JOIN (${changedCopies}) AS n ON ${keyMatch(key, 'n', 'o')} WHERE (o.${upd} < ${m} OR o.${upd} IS NULL)`,
        `DELETE FROM ${nt} WHERE ${nUpd} >= ${m}`,
        `DELETE FROM ${nt} USING ${d} AS o WHERE ${keyMatch(key, newTableName(current.name), 'o')}`,
        `INSERT INTO ${nt} (${targets}) SELECT ${exprs} FROM ${d}`,
      );
      if (opts.swapMark) {
        out.push(`SELECT CAST(MAX(${markValue(upd, updCol)}) AS varchar(32)) AS swap_mark FROM ${d}`);
        swapMarkIndex = out.length - 1;
      }
      out.push(`DROP TABLE ${d}`);
    }
  } else {
    const id = quoteIdent(delta.column);
    const upTo = (col: string): string => (opts.upper ? ` AND ${col} <= ${renderMark(opts.upper)}` : '');
    // the copy (or an earlier round) read t after the mark was taken: rows above the mark may be in new_t already;
    // replace them all, or the insert would duplicate them (found by the post-swap verification: counts differed)
    out.push(
      `DELETE FROM ${nt} WHERE ${quoteIdent(delta.target)} > ${m}${upTo(quoteIdent(delta.target))}`,
      `INSERT INTO ${nt} (${targets}) SELECT ${exprs} FROM ${t} WHERE ${id} > ${m}${upTo(id)}`,
    );
    if (opts.swapMark) {
      // the range keeps it on the zone maps; an empty delta leaves the mark where it was (COALESCE)
      out.push(`SELECT CAST(COALESCE(MAX(${id}), ${m}) AS varchar(20)) AS swap_mark FROM ${t} WHERE ${id} >= ${m}`);
      swapMarkIndex = out.length - 1;
    }
  }
  return swapMarkIndex === undefined ? { sql: out } : { sql: out, swapMarkIndex };
}

/**
 * ONE batch: LOCK t; apply the delta since the last catch-up mark to new_t; read the swap mark; t → old_t; new_t → t;
 * re-grants.
 */
export function lockedSwapBatch(current: TableDef, next: TableDef, mapping: readonly ColumnSource[], delta: DeltaPlan, opts: LockedSwapOptions): LockedSwap {
  checkMapping(next, mapping);
  const s = current.schema;
  const t = qualified(s, current.name);
  const nt = qualified(next.schema, newTableName(current.name));
  const targets = mapping.map((m) => quoteIdent(m.target)).join(', ');
  const exprs = mapping.map((m) => sourceExpr(current, next, m)).join(', ');
  const out: string[] = [`LOCK TABLE ${t}`];
  let swapMarkIndex: number | undefined;
  if (delta.kind === 'updated_at' || delta.kind === 'append-id') {
    const a = applyDelta(current, next, mapping, delta, opts.mark, { swapMark: true });
    if (a.swapMarkIndex !== undefined) swapMarkIndex = out.length + a.swapMarkIndex;
    out.push(...a.sql);
  } else if (delta.primaryKey.length > 0) {
    // (checksum added below, after the delta)
    // full compare on the copied columns (added columns are not in t; their values in new_t are kept)
    const copied = mapping.filter((m) => m.kind !== 'default');
    const newSide = copied.map((m) => quoteIdent(m.target)).join(', ');
    const oldSide = copied.map((m) => typedSourceExpr(current, next, m)).join(', ');
    const nk = cols(delta.primaryKey, 'target');
    const ntBare = newTableName(current.name);
    const sameKey = delta.primaryKey.map((k) => `${quoteIdent(ntBare)}.${quoteIdent(k.target)} = changed.${quoteIdent(k.target)}`).join(' AND ');
    out.push(
      `DELETE FROM ${nt} USING (SELECT ${nk.join(', ')} FROM (SELECT ${newSide} FROM ${nt} EXCEPT SELECT ${oldSide} FROM ${t}) AS diff) AS changed WHERE ${sameKey}`,
      `INSERT INTO ${nt} (${targets}) SELECT ${mapping.map((m) => sourceExpr(current, next, m, 'o')).join(', ')} FROM ${t} AS o WHERE ${exists(true, nt, 'n', keyMatch(delta.primaryKey, 'n', 'o'))}`,
    );
  } else {
    out.push(`DELETE FROM ${nt}`, `INSERT INTO ${nt} (${targets}) SELECT ${exprs} FROM ${t}`);
  }
  let checksumIndex: number | undefined;
  if (delta.kind === 'full') {
    // nothing else can write either table now: the new table's checksum here is what the table holds when it takes the
    // name, and old_<t> must still match it after the swap (post-swap verification; no change column to go by)
    out.push(verifyQueries(current, next, mapping, { oldTable: current.name, newTable: newTableName(current.name) }).newSide);
    checksumIndex = out.length - 1;
  }
  out.push(...swapBatch(s, current.name, opts));
  return { sql: out, ...(swapMarkIndex !== undefined ? { swapMarkIndex } : {}), ...(checksumIndex !== undefined ? { checksumIndex } : {}) };
}

/**
 * Before the lock, no lock needed (only the bot writes new_t): rows of new_t whose key is no longer in t were deleted
 * at the source during the copy.
 */
export function preSwapDeleteSync(current: TableDef, next: TableDef, delta: DeltaPlan): string | undefined {
  if (delta.primaryKey.length === 0) return undefined;
  const ntBare = newTableName(current.name);
  return `DELETE FROM ${qualified(next.schema, ntBare)} WHERE ${exists(true, qualified(current.schema, current.name), 'o', keyMatch(delta.primaryKey, ntBare, 'o'))}`;
}

/**
 * After the swap (updated_at delta): rows of t older than the last catch-up mark whose key old_t does not have were
 * deleted at the source between the pre-swap sync (or the catch-up round that last had them) and the lock. old_t no longer changes, so no lock is needed.
 */
export function postSwapDeleteSync(current: TableDef, next: TableDef, delta: DeltaPlan, mark: SqlMark): string | undefined {
  if (delta.kind !== 'updated_at') return undefined;
  return `DELETE FROM ${qualified(next.schema, current.name)} WHERE ${quoteIdent(delta.target)} < ${renderMark(mark)} AND ${exists(true, qualified(current.schema, oldTableName(current.name)), 'o', keyMatch(delta.primaryKey, current.name, 'o'))}`;
}

export interface LateWrites {
  /** returns `late_rows`: rows written to old_t after the swap */
  check: string;
  /** ONE batch moving them into t (a newer version already in t wins) */
  move: string[];
}

/** Rows written to old_t after the swap (swapMark = the swap batch's swap_mark), and how to move them over. */
export function lateWritesToOld(current: TableDef, next: TableDef, mapping: readonly ColumnSource[], delta: DeltaPlan, swapMark: SqlMark): LateWrites | undefined {
  if (delta.kind === 'full') return undefined;
  checkMapping(next, mapping);
  const old = qualified(current.schema, oldTableName(current.name));
  const oldBare = quoteIdent(oldTableName(current.name));
  const t = qualified(next.schema, current.name);
  const tBare = quoteIdent(current.name);
  const mark = renderMark(swapMark);
  const col = quoteIdent(delta.column);
  const targets = mapping.map((m) => quoteIdent(m.target)).join(', ');
  const exprs = mapping.map((m) => sourceExpr(current, next, m)).join(', ');
  const check = `SELECT count(*) AS late_rows FROM ${old} WHERE ${col} > ${mark}`;
  const oldName = oldTableName(current.name);
  const insert = `INSERT INTO ${t} (${targets}) SELECT ${mapping.map((m) => sourceExpr(current, next, m, oldName)).join(', ')} FROM ${old} WHERE ${oldBare}.${col} > ${mark} AND ${exists(true, t, 'n', keyMatch(delta.primaryKey, 'n', oldName))}`;
  if (delta.kind === 'append-id') return { check, move: [insert] };
  const join = keyMatch(delta.primaryKey, current.name, oldName);
  const del = `DELETE FROM ${t} USING ${old} WHERE ${join} AND ${oldBare}.${col} > ${mark} AND ${tBare}.${quoteIdent(delta.target)} < ${oldBare}.${col}`;
  return { check, move: [del, insert] };
}

/**
 * Rollback after a live swap (updated_at delta): the rows the new table got since the swap go back into old_t, in the
 * old table's shape, before the names are swapped back (sql.ts swapBackBatch `before`): keys the new table no longer has
 * are deleted, rows changed since the swap mark are UPDATEd (columns the new table dropped keep their values) and new
 * keys inserted. Refused when a column of the old table cannot be rebuilt from the new one for a new row (a dropped
 * NOT NULL column without a default).
 */
export function reverseDelta(
  current: TableDef,
  next: TableDef,
  mapping: readonly ColumnSource[],
  delta: DeltaPlan,
  swapMark: SqlMark,
): { ok: true; sql: string[] } | { ok: false; reason: string } {
  if (delta.kind !== 'updated_at')
    return { ok: false, reason: `${current.name} has no updated_at: changes made to the new table after the swap cannot be found, so they cannot be carried back` };
  checkMapping(next, mapping);
  // >= : a change stamped in the same second as the swap mark came after it as often as before (re-copying a row the
  // swap already had is harmless; missing one loses it)
  return reverseStatements(current, next, mapping, delta.primaryKey, (tq) => `${tq}.${quoteIdent(delta.target)} >= ${renderMark(swapMark)}`);
}

/**
 * Rollback when the changed rows cannot be found by a change column (a DMS table, whose task is stopped by then; a cdc
 * table without updated_at or after a rename-first swap, under the swap-back's lock): the same statements, with the
 * changed rows found by comparing the copied columns of the two tables (EXCEPT) — costs a compare of the two tables.
 * Refused without a primary key the new table keeps, or as reverseDelta.
 */
export function reverseFull(current: TableDef, next: TableDef, mapping: readonly ColumnSource[]): { ok: true; sql: string[] } | { ok: false; reason: string } {
  checkMapping(next, mapping);
  const pk = primaryKeyMap(current, mapping);
  if (!pk) return { ok: false, reason: `${current.name} has no primary key the new table keeps, so the changes made to the new table since the swap cannot be matched with the old rows` };
  const copied = mapping.filter((m) => m.kind !== 'default');
  const newSide = copied.map((m) => quoteIdent(m.target)).join(', ');
  const oldSide = copied.map((m) => typedSourceExpr(current, next, m)).join(', ');
  const nk = cols(pk, 'target');
  const t = qualified(next.schema, current.name);
  const old = qualified(current.schema, oldTableName(current.name));
  const changedRows = `(SELECT ${nk.join(', ')} FROM (SELECT ${newSide} FROM ${t} EXCEPT SELECT ${oldSide} FROM ${old}) AS diff)`;
  return reverseStatements(current, next, mapping, pk, (tq) =>
    exists(false, changedRows, 'changed', pk.map((k) => `changed.${quoteIdent(k.target)} = ${tq}.${quoteIdent(k.target)}`).join(' AND ')),
  );
}

/**
 * Bring old_t level with t by primary key, in the old table's shape: DELETE the keys t no longer has (the swap left both
 * with the same keys), UPDATE the rows `changed` selects (a condition on t, qualified by t's bare name), INSERT the keys
 * only t has.
 */
function reverseStatements(
  current: TableDef,
  next: TableDef,
  mapping: readonly ColumnSource[],
  pk: Key,
  changed: (tQualifier: string) => string,
): { ok: true; sql: string[] } | { ok: false; reason: string } {
  const oldName = oldTableName(current.name);
  const old = qualified(current.schema, oldName);
  const oldBare = quoteIdent(oldName);
  const t = qualified(next.schema, current.name);
  const tBare = quoteIdent(current.name);
  // the value of old column c from the new table's row (qualified by t's bare name where two tables are in scope)
  const back = (c: ColumnDef, qualifier?: string): string | undefined => {
    const m = mapping.find((x) => x.kind !== 'default' && x.from === c.name);
    if (!m || m.kind === 'default') return undefined;
    const col = qualifier ? `${qualifier}.${quoteIdent(m.target)}` : quoteIdent(m.target);
    return m.kind === 'cast' ? `CAST(${col} AS ${c.type})` : col;
  };
  const inserts: string[] = [];
  for (const c of current.columns) {
    const e = back(c);
    if (e !== undefined) inserts.push(e);
    else if ((c.default !== undefined && c.default !== 'NULL') || !c.notNull) inserts.push(`CAST(${defaultSql(c)} AS ${c.type})`);
    else return { ok: false, reason: `column ${c.name} (NOT NULL, no default) is not in the new table, so rows added after the swap cannot go back into the old one` };
  }
  const keyCols = new Set(pk.map((k) => k.column));
  const sets = current.columns.filter((c) => !keyCols.has(c.name) && back(c) !== undefined).map((c) => `${quoteIdent(c.name)} = ${back(c, tBare)!}`);
  const join = keyMatch(pk, current.name, oldName);
  const sql = [`DELETE FROM ${old} WHERE ${exists(true, t, 'n', keyMatch(pk, 'n', oldName))}`];
  if (sets.length) sql.push(`UPDATE ${old} SET ${sets.join(', ')} FROM ${t} WHERE ${join} AND ${changed(tBare)}`);
  sql.push(
    // a key old_t does not have was inserted after the swap (both had the same keys then): no need for `changed`
    `INSERT INTO ${old} (${current.columns.map((c) => quoteIdent(c.name)).join(', ')}) SELECT ${inserts.join(', ')} FROM ${t} WHERE ${exists(true, old, 'o', keyMatch(pk, current.name, 'o'))}`,
  );
  return { ok: true, sql };
}

/** After the swap: is the table still being fed? (max(change column) / max(id) should keep advancing) */
export function freshnessQuery(next: TableDef): string | undefined {
  const items: string[] = [];
  const ct = changeColumn(next.changeTracking);
  const upd = ct?.kind === 'updated_at' ? next.columns.find((c) => c.name === ct.column) : undefined;
  if (upd && isTimestamp(upd)) items.push(`CAST(MAX(${markValue(quoteIdent(upd.name), upd)}) AS varchar(32)) AS max_updated_at`);
  const id = next.primaryKey?.length === 1 ? next.columns.find((c) => c.name === next.primaryKey![0]) : undefined;
  if (id && isInteger(id)) items.push(`CAST(MAX(${quoteIdent(id.name)}) AS varchar(20)) AS max_id`);
  if (items.length === 0) return undefined;
  return `SELECT ${items.join(', ')} FROM ${qualified(next.schema, next.name)}`;
}
