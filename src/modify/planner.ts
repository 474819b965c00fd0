/**
 * The modify planner (pure: no I/O). current TableDef + ops → new TableDef + a plan:
 *
 * - in place, when every op is an ALTER Redshift runs safely on a live table (one statement each, autocommit, each with
 *   a DoneCheck so a resumed job looks before it acts);
 * - otherwise (or with --deep-copy) a deep copy into `new_<t>` with an explicit column mapping, checked on the data
 *   first (narrowing casts), verified, swapped in one transaction, grants and other tables' foreign keys restored.
 *
 * Redshift's in-place rules (ALTER TABLE reference, checked against the AWS docs):
 * - ADD COLUMN: one column per statement; not declared as DISTKEY/SORTKEY (a later ALTER DISTKEY/SORTKEY may pick it);
 *   no PRIMARY KEY/UNIQUE/REFERENCES; NOT NULL needs a DEFAULT (the op grammar enforces it).
 * - DROP COLUMN: not the distribution key, not a sort key column, not the last column; RESTRICT (the default) refuses a
 *   column in a primary/unique/foreign key, so such a drop is a deep copy here.
 * - RENAME COLUMN: always (constraints follow the column).
 * - ALTER COLUMN TYPE: only a VARCHAR made longer; not for BYTEDICT/RUNLENGTH/TEXT255/TEXT32K columns, columns with a
 *   default, or columns in a UNIQUE/PRIMARY/FOREIGN key (the docs); not for dist/sort key columns (kept conservative
 *   here); never inside a transaction block.
 * - ALTER COLUMN ENCODE: not to the current encoding; not on a table with an interleaved sort key.
 * - ALTER DISTKEY / DISTSTYLE ALL|EVEN: not on a table with an interleaved sort key (DISTSTYLE AUTO is allowed).
 * - ALTER [COMPOUND] SORTKEY / SORTKEY AUTO|NONE: never to INTERLEAVED; a table whose sort key is interleaved is
 *   deep-copied (older Redshift releases cannot alter an interleaved sort key at all).
 */
import type { Op } from '../commands/types.js';
import { qualified, quoteIdent } from '../schema/identifiers.js';
import { formatDrifts, type Drift } from '../schema/diff.js';
import { changeTrackingText, type ForeignKeyDef, type TableDef } from '../schema/model.js';
import { renderColumnDef } from '../schema/render.js';
import { parseRedshiftType } from '../schema/types.js';
import { applyOps, describeOp } from './apply-ops.js';
import { castRule } from './casts.js';
import { applyDelta, DEFAULT_CATCHUP, DEFAULT_MARGIN_SECONDS, deltaPlan, freshnessQuery, lateWritesToOld, lockedSwapBatch, postSwapDeleteSync, preSwapDeleteSync, reverseDelta, reverseFull } from './delta.js';
import { ACL_QUERY, SESSION_QUERY } from './grants.js';
import { REGRANTS, placeholder } from './run-values.js';
import {
  DEPENDENT_VIEWS_QUERY,
  LOCK_WAIT_STATEMENTS,
  clearNewTable,
  copyRows,
  createNewTable,
  dropNewTable,
  dropOldAndRecreateFks,
  narrowingChecks,
  newTableName,
  oldTableName,
  recreatedForeignKeys,
  renameAwayBatch,
  renameInBatch,
  swapBackBatch,
  swapBatch,
  swapBatchProblem,
  verifyQueries,
  type SwapOptions,
  type VerifySpec,
} from './sql.js';
import type { AclGrant, ColumnSource, DoneCheck, Expectation, ModifyPlan, PlanAction, PlanError, PlanStep } from './types.js';

export interface PlanInput {
  current: TableDef;
  ops: readonly Op[];
  deepCopy: boolean;
  /**
   * Deep copy to exactly this definition (recover: a table the CDC service recreated in its own shape, brought to its
   * schemas/ definition — keys, constraints, dist/sort keys, column attributes). Every column of `target` is copied by
   * name from `current` (cast where the type differs); `ops` only describe the change; no in-place plan is considered.
   */
  target?: TableDef;
  /** cdc tables; default live-copy */
  strategy?: 'live-copy' | 'rename-first';
  /** every (table, foreign key) that references the table (registry.ts referencingTables) */
  referencing: ReadonlyArray<{ table: TableDef; fk: ForeignKeyDef }>;
  /** the old table's grants (grants.ts parseAcl of ACL_QUERY's result), when already read: shown as exact GRANTs */
  grants?: readonly AclGrant[];
  /** the old table's owner, with `grants`: the new table is given to it (`ALTER TABLE … OWNER TO`) unless it is skipped */
  owner?: string;
  /** users whose ACL entries need no GRANT (the bot's own user, owner of new_<t>) */
  skipGrantees?: readonly string[];
  /** the table's size (svv_table_info tbl_rows and size in MB), when read: the expected lock time is computed from it */
  tableSize?: TableSize;
  /** why the size could not be read (svv_table_info is visible to superusers only): the lock estimate says so */
  tableSizeUnknown?: string;
  /** the rates the lock estimate uses (settings SCAN_MB_PER_SECOND / COPY_MB_PER_SECOND); DEFAULT_THROUGHPUT otherwise */
  throughput?: Throughput;
  /** cdc live copy: seconds subtracted from max(updated_at) for the copy mark */
  marginSeconds?: number;
  /** cdc live copy: catch-up rounds before the lock — stop once a round applied fewer rows than `rows`, or after `rounds` */
  catchUp?: { rows: number; rounds: number };
  /** verify a sample (every Nth key) instead of the whole table */
  sampleEvery?: number;
  /** cdc live copy: the swap batch waits at most this long for its table lock (SET statement_timeout around the LOCK) */
  swapLockTimeoutMs?: number;
  /** dms: minutes of CloudWatch logs to read after the resume (default 10) */
  logCheckMinutes?: number;
  /** how far each log search re-reads, and how long the check searches past its window (ms; default min(2 min, the check)) */
  logLagMs?: number;
  /** differences between schemas/ and the live table (schema/diff.ts diffTable): refused unless forceDrift */
  drift?: readonly Drift[];
  forceDrift?: boolean;
}

/** The table's size (bound :schema, :table): the preflight and the plan's lock estimate read it. */
export const TABLE_SIZE_QUERY = 'SELECT "size" AS size_mb, tbl_rows FROM svv_table_info WHERE "schema" = :schema AND "table" = :table';

export interface TableSize {
  rows: number;
  sizeMb: number;
}

export interface Throughput {
  /** MB/s Redshift reads (and compares, hashes, aggregates) in one pass over a table */
  scanMbPerSecond: number;
  /** MB/s an INSERT … SELECT … ORDER BY writes a copy */
  copyMbPerSecond: number;
}

/**
 * The rates the lock estimate uses when the settings do not say. Deliberate assumptions for a small provisioned cluster,
 * NOT measurements of yours: the copy step reports the MB/s it reached, so set SCAN_MB_PER_SECOND / COPY_MB_PER_SECOND
 * from what your copies show.
 */
export const DEFAULT_THROUGHPUT: Throughput = { scanMbPerSecond: 100, copyMbPerSecond: 25 };

const FRAGILE_ENCODINGS = new Set(['bytedict', 'runlength', 'text255', 'text32k']);

/** Does the live table (read back from the catalog) already show what the step does? */
export function isStepDone(done: DoneCheck, live: TableDef): boolean {
  return done.expect.every((e) => holds(e, live));
}

/** What the live table shows for each expectation of `done` it does not meet (empty when the step is done). */
export function unmetExpectations(done: DoneCheck, live: TableDef): string[] {
  const out: string[] = [];
  for (const e of done.expect) {
    if (holds(e, live)) continue;
    switch (e.kind) {
      case 'column': {
        const c = live.columns.find((x) => x.name === e.column);
        if (!e.present) out.push(`column ${e.column} should be gone, the catalog still has it (${c?.type ?? '?'})`);
        else if (!c) out.push(`column ${e.column} should exist, the catalog has no such column (columns: ${live.columns.map((x) => x.name).join(', ')})`);
        else out.push(`column ${e.column} should be ${[e.type, e.encode ? `ENCODE ${e.encode}` : undefined].filter(Boolean).join(' ')}, the catalog says ${c.type}${c.encode ? ` ENCODE ${c.encode}` : ''}`);
        break;
      }
      case 'dist':
        out.push(`the table should be DISTSTYLE ${e.distStyle}${e.distKey ? ` DISTKEY (${e.distKey})` : ''}, the catalog says ${live.distStyle}${live.distKey ? ` DISTKEY (${live.distKey})` : ''}`);
        break;
      case 'sort':
        out.push(`the sort key should be ${e.style}${e.columns.length ? ` (${e.columns.join(', ')})` : ''}, the catalog says ${live.sortKey.style}${live.sortKey.columns.length ? ` (${live.sortKey.columns.join(', ')})` : ''}`);
        break;
    }
  }
  return out;
}

function holds(e: Expectation, live: TableDef): boolean {
  switch (e.kind) {
    case 'column': {
      const c = live.columns.find((x) => x.name === e.column);
      if (!e.present) return c === undefined;
      if (!c) return false;
      if (e.type !== undefined && c.type !== e.type) return false;
      if (e.encode !== undefined && c.encode !== e.encode) return false;
      return true;
    }
    case 'dist':
      return live.distStyle === e.distStyle && (e.distKey === undefined || live.distKey === e.distKey);
    case 'sort':
      return live.sortKey.style === e.style && live.sortKey.columns.join(',') === e.columns.join(',');
  }
}

interface InPlaceStep {
  ok: true;
  sql: string;
  outsideTransaction?: boolean;
  done: DoneCheck;
  notes: string[];
}

const keyText = (t: TableDef): string =>
  t.sortKey.style === 'NONE' || t.sortKey.style === 'AUTO' ? t.sortKey.style : `${t.sortKey.style} (${t.sortKey.columns.join(', ')})`;

/** Can this op run as an ALTER on the table as `cur` is? The statement, or why not. */
function inPlace(cur: TableDef, op: Op, referencedCols: ReadonlySet<string>): InPlaceStep | { ok: false; reason: string } {
  const t = qualified(cur.schema, cur.name);
  const what = describeOp(op);
  const no = (why: string): { ok: false; reason: string } => ({ ok: false, reason: `${what}: ${why}` });
  const interleaved = cur.sortKey.style === 'INTERLEAVED';
  const inConstraint = (c: string): string | undefined =>
    cur.primaryKey?.includes(c)
      ? 'the primary key'
      : cur.unique.some((u) => u.includes(c))
        ? 'a UNIQUE key'
        : cur.foreignKeys.some((f) => f.columns.includes(c))
          ? 'a foreign key'
          : referencedCols.has(c)
            ? "another table's foreign key"
            : undefined;
  switch (op.op) {
    case 'add_column': {
      const c = op.column;
      const expect: Expectation = { kind: 'column', column: c.name, present: true, type: c.type, ...(c.encode ? { encode: c.encode } : {}) };
      return {
        ok: true,
        sql: `ALTER TABLE ${t} ADD COLUMN ${renderColumnDef(c)}`,
        done: { description: `column ${c.name} exists with type ${c.type}${c.encode ? ` and encoding ${c.encode}` : ''}`, expect: [expect] },
        notes: c.default !== undefined && c.default !== 'NULL' ? [`existing rows get the default ${c.default}`] : [],
      };
    }
    case 'drop_column': {
      const c = op.column;
      if (cur.distKey === c) return no(`${c} is the distribution key (Redshift cannot drop it in place)`);
      if (cur.sortKey.columns.includes(c)) return no(`${c} is in the sort key ${keyText(cur)} (Redshift cannot drop it in place)`);
      const k = inConstraint(c);
      if (k) return no(`${c} is part of ${k}; DROP COLUMN would need CASCADE, which could also drop views`);
      return {
        ok: true,
        sql: `ALTER TABLE ${t} DROP COLUMN ${quoteIdent(c)}`,
        done: { description: `column ${c} no longer exists`, expect: [{ kind: 'column', column: c, present: false }] },
        notes: ['views that select the column stop the DROP (RESTRICT): the step fails and nothing changes'],
      };
    }
    case 'rename_column':
      return {
        ok: true,
        sql: `ALTER TABLE ${t} RENAME COLUMN ${quoteIdent(op.from)} TO ${quoteIdent(op.to)}`,
        done: {
          description: `column ${op.to} exists and ${op.from} does not`,
          expect: [
            { kind: 'column', column: op.to, present: true },
            { kind: 'column', column: op.from, present: false },
          ],
        },
        notes: [],
      };
    case 'alter_column_type': {
      const col = cur.columns.find((c) => c.name === op.column)!;
      const from = parseRedshiftType(col.type);
      const to = parseRedshiftType(op.type);
      if (!from.ok || !to.ok || from.type.kind !== 'varchar' || to.type.kind !== 'varchar')
        return no(`${col.type} → ${op.type} is not a VARCHAR widening (Redshift only makes VARCHAR columns longer in place)`);
      if (to.type.length < from.type.length) return no(`${col.type} → ${op.type} makes the column shorter; that is a deep copy, after checking the data`);
      if (col.encode && FRAGILE_ENCODINGS.has(col.encode)) return no(`${op.column} has encoding ${col.encode.toUpperCase()}, which Redshift cannot resize in place`);
      if (col.default !== undefined && col.default !== 'NULL') return no(`${op.column} has a default (${col.default}); Redshift cannot resize a column with a default in place`);
      const k = inConstraint(op.column);
      if (k) return no(`${op.column} is part of ${k}; Redshift cannot resize it in place`);
      if (cur.distKey === op.column || cur.sortKey.columns.includes(op.column)) return no(`${op.column} is a distribution or sort key column`);
      return {
        ok: true,
        sql: `ALTER TABLE ${t} ALTER COLUMN ${quoteIdent(op.column)} TYPE ${op.type}`,
        outsideTransaction: true,
        done: { description: `column ${op.column} has type ${op.type}`, expect: [{ kind: 'column', column: op.column, present: true, type: op.type }] },
        notes: ['Redshift runs ALTER COLUMN TYPE only outside a transaction block: submitted on its own'],
      };
    }
    case 'alter_column_encode':
      if (interleaved) return no(`${cur.name} has an interleaved sort key; Redshift cannot change column encodings on it in place`);
      return {
        ok: true,
        sql: `ALTER TABLE ${t} ALTER COLUMN ${quoteIdent(op.column)} ENCODE ${op.encode}`,
        done: { description: `column ${op.column} has encoding ${op.encode}`, expect: [{ kind: 'column', column: op.column, present: true, encode: op.encode }] },
        notes: [
          'the table stays readable while Redshift re-encodes the column',
          ...(cur.sortKey.columns.includes(op.column) && op.encode !== 'raw' ? [`${op.column} is a sort key column; Redshift recommends RAW for those`] : []),
        ],
      };
    case 'set_distkey':
      if (interleaved) return no(`${cur.name} has an interleaved sort key; Redshift cannot ALTER DISTKEY on it`);
      return {
        ok: true,
        sql: cur.distStyle === 'KEY' ? `ALTER TABLE ${t} ALTER DISTKEY ${quoteIdent(op.column)}` : `ALTER TABLE ${t} ALTER DISTSTYLE KEY DISTKEY ${quoteIdent(op.column)}`,
        done: { description: `the table is distributed by ${op.column}`, expect: [{ kind: 'dist', distStyle: 'KEY', distKey: op.column }] },
        notes: ['Redshift redistributes the rows in the background; VACUUM cannot run on the table meanwhile'],
      };
    case 'set_diststyle':
      if (interleaved && op.style !== 'AUTO') return no(`${cur.name} has an interleaved sort key; Redshift cannot ALTER DISTSTYLE ${op.style} on it`);
      return {
        ok: true,
        sql: `ALTER TABLE ${t} ALTER DISTSTYLE ${op.style}`,
        done: { description: `the table has DISTSTYLE ${op.style}`, expect: [{ kind: 'dist', distStyle: op.style }] },
        notes: [],
      };
    case 'set_sortkey': {
      if (op.style === 'INTERLEAVED') return no('Redshift cannot ALTER a sort key to INTERLEAVED');
      if (interleaved) return no(`${cur.name} has an interleaved sort key (${cur.sortKey.columns.join(', ')}); ALTER SORTKEY needs a compound one`);
      const sql =
        op.style === 'COMPOUND'
          ? `ALTER TABLE ${t} ALTER COMPOUND SORTKEY (${op.columns.map(quoteIdent).join(', ')})`
          : `ALTER TABLE ${t} ALTER SORTKEY ${op.style}`;
      return {
        ok: true,
        sql,
        done: {
          description: op.columns.length ? `the sort key is ${op.style} (${op.columns.join(', ')})` : `the sort key is ${op.style}`,
          expect: [{ kind: 'sort', style: op.style, columns: [...op.columns] }],
        },
        notes: ['Redshift re-sorts the rows; the table stays readable'],
      };
    }
  }
}

function replicationWarnings(current: TableDef, ops: readonly Op[]): string[] {
  const out: string[] = [];
  const who = current.replication.provider === 'dms' ? `DMS task ${current.replication.taskId}` : `the ${current.replication.service} replication`;
  for (const op of ops) {
    if (op.op === 'rename_column' || op.op === 'drop_column')
      out.push(`${describeOp(op)}: ${who} still sends the source's column ${op.op === 'rename_column' ? op.from : op.column}; change its column mapping too, or replication errors follow`);
    if (op.op === 'alter_column_type') {
      // a widening takes every value the old type held; anything else must also fit what replication keeps sending
      const col = current.columns.find((c) => c.name === op.column);
      const rule = col ? castRule(col.type, op.type, op.column) : undefined;
      if (!rule || rule.kind === 'refuse' || rule.checks.length > 0) out.push(`${describeOp(op)}: values ${who} sends must fit ${op.type}`);
    }
  }
  return out;
}

/** A type change of a key column: what else it touches (distribution, sort order, joins). */
function keyColumnWarnings(current: TableDef, ops: readonly Op[]): string[] {
  const out: string[] = [];
  for (const op of ops) {
    if (op.op !== 'alter_column_type') continue;
    const c = op.column;
    const roles = [
      ...(current.primaryKey?.includes(c) ? ['the primary key'] : []),
      ...(current.distKey === c ? ['the distribution key'] : []),
      ...(current.sortKey.columns[0] === c ? ['the first sort key column'] : current.sortKey.columns.includes(c) ? ['a sort key column'] : []),
    ];
    if (roles.length === 0) continue;
    const list = roles.length === 1 ? roles[0]! : `${roles.slice(0, -1).join(', ')} and ${roles.at(-1)!}`;
    const moved = [...(current.distKey === c ? ['redistributed'] : []), ...(current.sortKey.columns.includes(c) ? ['re-sorted'] : [])];
    out.push(`${describeOp(op)}: ${c} is ${list}: ${moved.length ? `every row is ${moved.join(' and ')} by the copy, and ` : ''}joins on it now compare ${op.type}`);
  }
  return out;
}

/** Types that compare with each other without a cast (a join of an integer and a varchar key fails in Redshift). */
function typeFamily(type: string): string {
  const p = parseRedshiftType(type);
  if (!p.ok) return type;
  switch (p.type.kind) {
    case 'smallint':
    case 'integer':
    case 'bigint':
    case 'numeric':
    case 'real':
    case 'double precision':
      return 'number';
    case 'varchar':
    case 'char':
      return 'text';
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return 'time';
    default:
      return p.type.kind;
  }
}

/**
 * A type change of a column other tables' foreign keys reference, into a type their columns no longer compare with
 * (integer id → varchar): every join along those keys would fail (`character varying = integer`). Refused, naming each
 * foreign key and the commands that change the referencing columns first.
 */
function brokenForeignKeys(current: TableDef, mapping: readonly ColumnSource[], others: ReadonlyArray<{ table: TableDef; fk: ForeignKeyDef }>): string | undefined {
  const lines: string[] = [];
  const fixes: string[] = [];
  const ownTypeList: string[] = [];
  let changed: { from: string; type: string; was: string } | undefined;
  for (const { table, fk } of others) {
    fk.references.columns.forEach((refCol, i) => {
      const m = mapping.find((x) => x.kind === 'cast' && x.from === refCol);
      if (!m || m.kind !== 'cast') return;
      const own = table.columns.find((c) => c.name === fk.columns[i]);
      if (!own || typeFamily(own.type) === typeFamily(m.type)) return;
      changed ??= { from: refCol, type: m.type, was: current.columns.find((c) => c.name === refCol)?.type ?? '?' };
      lines.push(`  • ${table.schema}.${table.name} (${fk.columns[i]} ${own.type}) → ${current.name}.${refCol}`);
      ownTypeList.push(own.type);
      fixes.push(`/redshift modify ${table.name} alter column ${fk.columns[i]} type ${m.type}`);
    });
  }
  if (!changed || lines.length === 0) return undefined;
  const n = lines.length;
  const ownTypes = [...new Set(ownTypeList)].join(' / ');
  return (
    `${current.schema}.${current.name}.${changed.from} (${changed.was}) is referenced by ${n} foreign key${n === 1 ? '' : 's'} whose column${n === 1 ? ' keeps its type' : 's keep their types'}:\n${lines.join('\n')}\n` +
    `Changing it to ${changed.type} would break ${n === 1 ? 'that key' : 'those keys'}: ${changed.type} does not compare with ${ownTypes} (every join on them would fail). ` +
    `Change the referencing column${n === 1 ? '' : 's'} first (${[...new Set(fixes)].map((f) => `\`${f}\``).join(', ')}), or remove ${n === 1 ? 'that foreign key' : 'those foreign keys'} from schemas/, then run this again.`
  );
}

/** Plan a `modify`: in place when every op allows it, else a deep copy (see the module comment). */
/** The mapping of a deep copy from `current` to the definition `target`: columns by name, cast where the type differs. */
function conformTo(current: TableDef, target: TableDef): { ok: true; next: TableDef; mapping: ColumnSource[]; notes: string[] } | PlanError {
  const key = `${current.schema}.${current.name}`;
  const missing = target.columns.filter((c) => !current.columns.some((x) => x.name === c.name)).map((c) => c.name);
  if (missing.length) return { ok: false, error: `${key} lacks column(s) ${missing.join(', ')} of its schemas/ definition: a copy cannot fill them (reload the table, or change schemas/)` };
  const mapping = target.columns.map((c): ColumnSource => {
    const from = current.columns.find((x) => x.name === c.name)!;
    return from.type === c.type ? { target: c.name, kind: 'column', from: c.name } : { target: c.name, kind: 'cast', from: c.name, type: c.type };
  });
  const dropped = current.columns.filter((c) => !target.columns.some((x) => x.name === c.name)).map((c) => c.name);
  const notes = dropped.length ? [`column(s) ${dropped.join(', ')} of ${key} are not in schemas/ and are not copied`] : [];
  return { ok: true, next: structuredClone(target), mapping, notes };
}

export function planModify(input: PlanInput): ModifyPlan | PlanError {
  const { current, ops } = input;
  const key = `${current.schema}.${current.name}`;
  if (ops.length === 0) return { ok: false, error: `modify ${key}: no change given` };
  const drift = formatDrifts(input.drift ?? []);
  if (drift.length > 0 && !input.forceDrift)
    return {
      ok: false,
      error: `${key} in the warehouse differs from schemas/:\n${drift.map((d) => `  • ${d}`).join('\n')}\nFix schemas/ (\`schema diff ${current.name}\` shows it) or run again with --force-drift to plan from schemas/ anyway.`,
    };
  const applied = input.target ? conformTo(current, input.target) : applyOps(current, ops);
  if (!applied.ok) return { ok: false, error: applied.error };
  const { next, mapping } = applied;
  const warnings = [...(input.forceDrift ? drift.map((d) => `drift (--force-drift): ${d}`) : []), ...applied.notes];

  // other tables' foreign keys into this one must still find their columns
  const others = input.referencing.filter(({ table }) => !(table.schema === current.schema && table.name === current.name));
  const referencedCols = new Set(others.flatMap(({ fk }) => fk.references.columns));
  const fkCheck = recreatedForeignKeys(current, mapping, others);
  if (!fkCheck.ok) return { ok: false, error: fkCheck.error };
  const broken = brokenForeignKeys(current, mapping, others);
  if (broken) return { ok: false, error: broken };
  const referencingUpdates: TableDef[] = [];
  for (const { table, fk } of others) {
    const renamed = fk.references.columns.map((c) => mapping.find((m) => m.kind !== 'default' && m.from === c)!.target);
    const m = mapping.find((x) => x.kind === 'cast' && fk.references.columns.includes(x.from));
    if (m && m.kind === 'cast') warnings.push(`${table.name} (${fk.columns.join(', ')}) references ${current.name}.${m.from}, which becomes ${m.type}; its own column keeps its type (the two still compare)`);
    if (renamed.join(',') !== fk.references.columns.join(',')) {
      const base = referencingUpdates.find((x) => x.schema === table.schema && x.name === table.name) ?? structuredClone(table);
      const i = table.foreignKeys.indexOf(fk);
      base.foreignKeys[i] = { columns: [...fk.columns], references: { ...fk.references, columns: renamed } };
      if (!referencingUpdates.includes(base)) referencingUpdates.push(base);
    }
  }
  warnings.push(...replicationWarnings(current, ops), ...keyColumnWarnings(current, ops));

  // in place?
  const reasons: string[] = [];
  const inPlaceSteps: PlanStep[] = [];
  let cur = current;
  if (input.target) reasons.push(`the table is brought to its schemas/ definition as a whole (keys, constraints, dist/sort keys, column attributes): a deep copy`);
  for (const op of input.target ? [] : ops) {
    const r = inPlace(cur, op, referencedCols);
    if (!r.ok) reasons.push(r.reason);
    else
      inPlaceSteps.push({
        name: `alter-${inPlaceSteps.length + 1}`,
        title: describeOp(op),
        actions: [r.outsideTransaction ? { kind: 'sql', sql: r.sql, outsideTransaction: true } : { kind: 'sql', sql: r.sql }],
        notes: r.notes,
        done: r.done,
      });
    const step = applyOps(cur, [op]);
    if (!step.ok) {
      // e.g. a key column dropped before the command sets a new key: fine for a deep copy, not for ALTERs in this order
      if (r.ok) reasons.push(`${describeOp(op)}: ${step.error}`);
      break;
    }
    cur = step.next;
  }
  if (input.deepCopy) reasons.unshift('--deep-copy was given');

  const base = {
    ok: true as const,
    table: { schema: current.schema, name: current.name },
    current,
    next,
    mapping,
    provider: current.replication.provider,
    warnings,
    referencingUpdates,
  };
  const schemaFile: PlanStep = {
    name: 'schema-file',
    title: 'Rewrite the table in schemas/',
    actions: [
      { kind: 'note', text: `rewrite schemas/${current.schema}/${current.name}.yml with the new definition (and commit it when SCHEMA_GIT_DIR is set)` },
      ...referencingUpdates.map((t): PlanAction => ({ kind: 'note', text: `rewrite schemas/${t.schema}/${t.name}.yml: its foreign key names the renamed column` })),
    ],
    notes: [],
  };

  if (reasons.length === 0) {
    return {
      ...base,
      mode: 'in-place',
      reasons: [],
      names: { table: current.name, newTable: current.name, oldTable: current.name },
      steps: [...inPlaceSteps, schemaFile],
      rollback: [],
      narrowingChecks: [],
      foreignKeys: [],
    };
  }
  return deepCopyPlan(input, { ...base, reasons, schemaFile, fks: fkCheck.fks });
}

type Base = Omit<ModifyPlan, 'mode' | 'reasons' | 'names' | 'steps' | 'rollback' | 'narrowingChecks' | 'foreignKeys' | 'strategy' | 'delta'>;

function deepCopyPlan(
  input: PlanInput,
  b: Base & { reasons: string[]; schemaFile: PlanStep; fks: ModifyPlan['foreignKeys'] },
): ModifyPlan | PlanError {
  const { current, next, mapping } = b;
  const schema = current.schema;
  const name = current.name;
  let newName: string;
  let oldName: string;
  try {
    newName = newTableName(name);
    oldName = oldTableName(name);
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
  if (input.strategy !== undefined && b.provider !== 'cdc')
    return { ok: false, error: `--strategy applies to cdc tables; ${name} is replicated by DMS, whose task is stopped for the swap` };
  const strategy = b.provider === 'cdc' ? (input.strategy ?? 'live-copy') : undefined;
  const warnings = [...b.warnings];
  const t = qualified(schema, name);

  for (const m of mapping) {
    if (m.kind !== 'cast') continue;
    const rule = castRule(current.columns.find((c) => c.name === m.from)!.type, m.type, m.from);
    if (rule.kind === 'ok') warnings.push(...rule.warnings);
  }

  const owner = input.owner !== undefined && input.owner !== '' && !(input.skipGrantees ?? []).includes(input.owner) ? input.owner : undefined;
  const grantOpts: SwapOptions = input.grants ? { grants: input.grants, ...(input.skipGrantees ? { skip: input.skipGrantees } : {}), ...(owner !== undefined ? { owner } : {}) } : {};
  // grants not known yet: the batch ends with the {{regrants}} placeholder, filled from step read-grants at run time
  const regrants = input.grants ? [] : [REGRANTS];
  const grantNote = input.grants
    ? input.grants.length
      ? `re-grants what ${name} had (${input.grants.length} grantee${input.grants.length === 1 ? '' : 's'}) in the same transaction`
      : `${name} has no grants beyond its owner's`
    : `${REGRANTS}: the owner and GRANT statements for what ${name} had (read in step read-grants), in the same transaction`;

  const steps: PlanStep[] = [];
  const params = { schema, table: name };
  steps.push({
    name: 'preflight',
    title: 'Preflight: free disk, table size, no view bound to the table, no other job on it',
    actions: [
      { kind: 'query', sql: TABLE_SIZE_QUERY, params, expect: 'free disk ≥ 2.5 × size_mb (stv_partitions; both views are superuser-only and Serverless has no STV tables: then free disk is "unknown (why)", a warning, not a refusal)' },
      { kind: 'query', sql: DEPENDENT_VIEWS_QUERY, params, expect: `no rows: a view bound to ${name} would follow old_${name} after the swap and be dropped with it (late-binding views are fine)` },
    ],
    notes: ['the table lock (one job per table) is taken when the job is queued'],
  });
  const checks = narrowingChecks(current, mapping);
  if (checks.length)
    steps.push({
      name: 'check-types',
      title: 'Check the data fits the new types',
      actions: checks.map((c): PlanAction => ({
        kind: 'query',
        sql: c.sql,
        expect: c.severity === 'block' ? `offending = 0 (${c.column}: ${c.from} → ${c.to}, ${c.limit})` : `reported as a warning (${c.column}: ${c.from} → ${c.to})`,
      })),
      notes: ['a block check with offending rows refuses the change before anything is created'],
    });
  steps.push({
    name: 'read-grants',
    title: `Read the grants of ${name}`,
    actions: [
      { kind: 'query', sql: SESSION_QUERY, expect: 'v: Redshift or PostgreSQL (how to read the ACL letters); u: the bot’s user, which owns new_<t> and needs no GRANT' },
      { kind: 'query', sql: ACL_QUERY, params, expect: 'acl (aclitems) and owner: re-granted on the new table at the swap' },
    ],
    notes: ['grants to Redshift roles are not in relacl and are not re-granted'],
  });
  const create: PlanStep = {
    name: 'create',
    title: `Create ${newName}`,
    actions: [{ kind: 'sql', sql: createNewTable(next, newName) }],
    notes: [`skipped when ${newName} already exists with the new definition (a resumed job)`],
  };
  let verifySpec: VerifySpec | undefined;
  let swapMarkIndex: number | undefined;
  let checksumIndex: number | undefined;
  const verify = (spec: VerifySpec, when: string, rows = 'whole table'): PlanStep => {
    verifySpec = spec;
    return verifyStep(spec, when, rows);
  };
  const verifyStep = (spec: VerifySpec, when: string, rows: string): PlanStep => ({
    name: 'verify',
    title: `Verify the copy (${spec.sampled ? `a sample: every ${input.sampleEvery}th key` : rows})`,
    actions: [
      { kind: 'query', sql: spec.checksums, expect: `the 'old' and 'new' rows are equal (row count, per-column counts and checksums)${when}` },
      ...(spec.duplicatesNew ? [{ kind: 'query' as const, sql: spec.duplicatesNew, expect: 'no rows (no duplicate primary key), or only keys the old table already duplicates' }] : []),
      ...(spec.duplicatesOld ? [{ kind: 'query' as const, sql: spec.duplicatesOld, expect: 'the old table’s own duplicates, for comparison' }] : []),
    ],
    notes: ['FNV_HASH is Redshift’s; the sandbox provides a compatible fnv_hash', ...spec.notes],
  });
  const countOld: PlanAction = { kind: 'query', sql: `SELECT count(*) AS old_rows FROM ${qualified(schema, oldName)}`, expect: `old_rows: how many rows ${oldName} holds, to say how many were compared` };
  /** old_<t> now against the checksum of the new table recorded when it took the name (`where`) */
  const postVerifySnapshot = (where: string): PlanStep => {
    const spec = verifyQueries(current, next, mapping, { oldTable: oldName, newTable: name });
    return {
      name: 'post-verify',
      title: `Verify after the swap: every row of ${oldName} against ${name} as it was at the swap`,
      actions: [{ kind: 'query', sql: spec.oldSide, expect: `the same row count and per-column counts and checksums as ${where}` }],
      notes: [
        `${oldName} gets no write after the swap, and what ${name} held at the swap was checksummed then: equal sums prove the swap lost no row and changed no value, while the changes replication made to ${name} since stay out of the comparison`,
      ],
    };
  };
  const approve: PlanStep = {
    name: 'approve-drop',
    title: `Approval: drop ${oldName}?`,
    actions: [{ kind: 'gate', text: `an allowed approver who is not the requester clicks "Drop ${oldName}" (or Rollback)` }],
    notes: [],
  };
  const drop: PlanStep = {
    name: 'drop',
    title: `Drop ${oldName}${b.fks.length ? ' and re-create the foreign keys that pointed at it' : ''}`,
    actions: [{ kind: 'batch', sql: dropOldAndRecreateFks(schema, name, b.fks) }],
    notes: b.fks.length ? [`the foreign keys of ${[...new Set(b.fks.map((f) => f.table))].join(', ')} bound to ${oldName} since the swap; CASCADE drops them and the same transaction re-creates them on ${name}`] : [],
  };
  const rollback: PlanStep[] = [];
  let delta: ModifyPlan['delta'];
  const revFull = reverseFull(current, next, mapping);

  const copy = (from: string): PlanStep => ({
    name: 'copy',
    title: `Copy the rows into ${newName} (ordered by the new sort key)`,
    actions: [{ kind: 'batch', sql: [clearNewTable(schema, name), copyRows(current, next, mapping, { from, to: newName })] }],
    notes: ['the DELETE empties a partly filled table of an earlier attempt in the same transaction (TRUNCATE would commit)'],
  });

  if (b.provider === 'dms') {
    const rep = current.replication.provider === 'dms' ? current.replication : undefined;
    const minutes = input.logCheckMinutes ?? 10;
    const lagS = Math.round((input.logLagMs ?? Math.min(120_000, minutes * 60_000)) / 1000);
    steps.push(
      {
        name: 'stop-task',
        title: `Stop DMS task ${rep?.taskId}`,
        actions: [
          { kind: 'aws', text: `DMS StopReplicationTask ${rep?.taskId}; DescribeReplicationTasks until Status = stopped` },
        ],
        notes: ['no change reaches the table while the task is stopped; the source keeps them'],
      },
      create,
      copy(name),
      verify(verifyQueries(current, next, mapping, { oldTable: name, newTable: newName, ...(input.sampleEvery ? { sampleEvery: input.sampleEvery } : {}) }), ''),
      {
        name: 'swap',
        title: `Swap: ${name} → ${oldName}, ${newName} → ${name} (one transaction)`,
        actions: [{ kind: 'batch', sql: [...swapBatch(schema, name, grantOpts), ...regrants] }],
        notes: [grantNote],
      },
      {
        name: 'resume-task',
        title: `Resume DMS task ${rep?.taskId}`,
        actions: [{ kind: 'aws', text: `DMS StartReplicationTask ${rep?.taskId} StartReplicationTaskType=resume-processing; DescribeReplicationTasks until Status = running` }],
        notes: [],
      },
      {
        name: 'log-check',
        title: `Read the task's CloudWatch logs for ${minutes >= 1 ? `${Number(minutes.toFixed(1))} minute${minutes === 1 ? '' : 's'}` : `${Math.round(minutes * 60)} seconds`}`,
        actions: [{ kind: 'aws', text: `CloudWatch Logs FilterLogEvents group ${rep?.logGroup}${rep?.logStream ? ` stream ${rep.logStream}` : ''} from the resume time: ]E: and ]W: lines, grouped by component; every search re-reads the last ${lagS} s and the check searches ${lagS} s past its window (CloudWatch stores events late), lines deduplicated by event id` }],
        notes: ['errors stop the job at the approval with Rollback highlighted'],
      },
      postVerifySnapshot('the verify step recorded for new_' + name + ' while the task was stopped (nothing writes it before the swap)'),
      approve,
      drop,
      b.schemaFile,
    );
    rollback.push(
      { name: 'stop-task', title: `Stop DMS task ${rep?.taskId}`, actions: [{ kind: 'aws', text: `DMS StopReplicationTask ${rep?.taskId}; wait for stopped` }], notes: [] },
      {
        name: 'swap-back',
        title: `Swap back: ${name} → ${newName}, ${oldName} → ${name}`,
        actions: [{ kind: 'batch', sql: swapBackBatch(schema, name, revFull.ok ? revFull.sql : []) }],
        notes: [revFull.ok ? `the rows DMS changed in the new table since the swap go back into ${oldName} first (compared by primary key; the task is stopped)` : `changes DMS applied to the new table since the swap are not carried back: ${revFull.reason}`],
        ...(revFull.ok ? {} : { warnings: [`changes made to the new ${name} since the swap are not carried back: ${revFull.reason}`] }),
      },
      { name: 'resume-task', title: `Resume DMS task ${rep?.taskId}`, actions: [{ kind: 'aws', text: `DMS StartReplicationTask resume-processing; wait for running` }], notes: [] },
    );
  } else if (strategy === 'rename-first') {
    steps.push(
      {
        name: 'rename-away',
        title: `Rename ${name} → ${oldName} (the table is unreadable until the new one takes the name)`,
        actions: [{ kind: 'batch', sql: renameAwayBatch(schema, name) }],
        notes: [`${current.replication.provider === 'cdc' ? current.replication.service : 'the replication'} buffers the changes while ${name} is missing and applies them when it reappears`],
      },
      create,
      copy(oldName),
      verify(verifyQueries(current, next, mapping, { oldTable: oldName, newTable: newName, ...(input.sampleEvery ? { sampleEvery: input.sampleEvery } : {}) }), ''),
      {
        name: 'rename-in',
        title: `Rename ${newName} → ${name}`,
        actions: [{ kind: 'batch', sql: [...renameInBatch(schema, name, grantOpts), ...regrants] }],
        notes: [grantNote],
      },
      ...freshness(next),
      postVerifySnapshot(`the verify step recorded for ${newName} while ${name} was missing (nothing writes it before it takes the name)`),
      approve,
      drop,
      b.schemaFile,
    );
    rollback.push(
      {
        name: 'rename-back',
        title: `Before rename-in: rename ${oldName} → ${name}`,
        actions: [{ kind: 'sql', sql: `ALTER TABLE ${qualified(schema, oldName)} RENAME TO ${quoteIdent(name)}` }],
        notes: [],
      },
      {
        name: 'swap-back',
        title: `After rename-in: swap back: ${name} → ${newName}, ${oldName} → ${name}`,
        actions: [{ kind: 'batch', sql: [`LOCK TABLE ${t}`, ...swapBackBatch(schema, name, revFull.ok ? revFull.sql : [])] }],
        notes: [
          revFull.ok ? `the rows the CDC service changed in the new table go back into ${oldName} first (compared by primary key, under the lock)` : `changes applied to the new table after rename-in are not carried back: ${revFull.reason}`,
        ],
        ...(revFull.ok ? {} : { warnings: [`changes the CDC service applied to the new ${name} since it took the name are not carried back: ${revFull.reason}`] }),
      },
    );
  } else {
    const d = deltaPlan(current, next, mapping, { marginSeconds: input.marginSeconds ?? DEFAULT_MARGIN_SECONDS });
    delta = d;
    if (d.kind === 'full') warnings.push(...d.notes);
    const mark = placeholder('copy_mark');
    const swapMark = placeholder('swap_mark');
    /** live copy: old_<t> and <t> on the rows not changed since the swap (by the change column), or against the swap's checksum */
    const postVerifyLive = (dp: typeof d): PlanStep => {
      if (dp.kind === 'full') return postVerifySnapshot(`the checksum of ${newName} the swap batch took under the lock`);
      const updated = dp.kind === 'updated_at';
      const value = updated ? `CAST(:swap_mark AS timestamp) - INTERVAL '${dp.marginSeconds} seconds'` : 'CAST(:swap_mark AS bigint)';
      const spec = verifyQueries(current, next, mapping, {
        oldTable: oldName,
        newTable: name,
        range: { column: dp.column, target: dp.target, op: updated ? '<' : '<=', value, ...(updated ? { sameKeys: true } : {}) },
      });
      return {
        name: 'post-verify',
        title: updated
          ? `Verify after the swap: ${oldName} and ${name} agree on every row not changed since the swap (${dp.column} < swap mark − ${dp.marginSeconds} s)`
          : `Verify after the swap: ${oldName} and ${name} agree on every row with ${dp.column} ≤ the swap mark`,
        actions: [
          { kind: 'query', sql: spec.checksums, expect: `the 'old' and 'new' rows are equal (row count, per-column counts and checksums); :swap_mark is bound to the swap step's swap_mark` },
          countOld,
        ],
        notes: [
          `no lock: ${oldName} no longer receives writes once the late writes are moved`,
          updated
            ? `rows changed since the swap (and rows deleted since: their key is gone from ${name}) are left out on both sides; the margin covers changes applied late with an older ${dp.column}`
            : `${name} is declared append-only: every row up to the swap mark must be in both tables; a difference means rows were updated or deleted after all, or lost`,
        ],
      };
    };
    steps.push(create);
    if (d.kind !== 'full')
      steps.push({
        name: 'mark',
        title: `Read the copy mark (max ${d.column}${d.kind === 'updated_at' ? ` − ${d.marginSeconds} s` : ''})`,
        actions: [{ kind: 'query', sql: d.markQuery, expect: `mark: kept in the job as {{copy_mark}}` }],
        notes: ['read just before the copy, so every row changed after it is in the delta'],
      });
    steps.push(copy(name));
    const pre = preSwapDeleteSync(current, next, d);
    if (pre)
      steps.push({
        name: 'pre-sync',
        title: `Remove from ${newName} the rows deleted at the source during the copy`,
        actions: [{ kind: 'sql', sql: pre }],
        notes: ['no lock: only the bot writes the new table'],
      });
    const spec = verifyQueries(current, next, mapping, {
      oldTable: name,
      newTable: newName,
      ...(input.sampleEvery ? { sampleEvery: input.sampleEvery } : {}),
      ...(d.kind === 'updated_at' ? { stable: { column: d.column, op: '<' as const, mark } } : d.kind === 'append-id' ? { stable: { column: d.column, op: '<=' as const, mark } } : {}),
    });
    steps.push(
      verify(
        spec,
        d.kind === 'full' ? ' — except rows changed during the copy, which the locked swap reconciles' : '',
        d.kind === 'updated_at' ? `rows with ${d.column} < the copy mark` : d.kind === 'append-id' ? `rows with ${d.column} ≤ the copy mark` : 'whole table, while replication writes',
      ),
    );
    // catch up unlocked until the delta left is small: the lock then applies only the changes since the last round
    const lastMark = placeholder('catchup_mark');
    if (d.kind !== 'full') {
      const cu = input.catchUp ?? DEFAULT_CATCHUP;
      steps.push({
        name: 'catch-up',
        title: `Catch up ${newName} with the changes made since the copy mark, without a lock (repeated)`,
        actions: [
          { kind: 'sql', sql: `ANALYZE ${qualified(schema, newName)}` },
          { kind: 'query', sql: d.markQuery, expect: 'mark: kept in the job as {{catchup_next}}, then as {{catchup_mark}} once the round below is applied' },
          { kind: 'batch', sql: applyDelta(current, next, mapping, d, lastMark, d.kind === 'append-id' ? { upper: placeholder('catchup_next') } : {}).sql },
        ],
        notes: [
          `the first round starts at {{copy_mark}}; each round reads the next mark first, then applies the changes since the last one`,
          `rounds repeat until one applied fewer than ${cu.rows.toLocaleString('en-US')} rows, at most ${cu.rounds} rounds; the locked swap then applies only the changes since the last round's mark`,
          `the statistics of ${newName} (ANALYZE) let the delta's key lookups use the zone maps instead of scanning the table`,
        ],
      });
    }
    const locked = lockedSwapBatch(current, next, mapping, d, { mark: lastMark, ...grantOpts });
    // bound the wait for the ACCESS EXCLUSIVE lock (readers queue behind a waiting lock), then lift the bound
    const timeout = input.swapLockTimeoutMs === undefined ? undefined : Math.max(1, Math.round(input.swapLockTimeoutMs));
    const lockSql = timeout === undefined ? locked.sql : [`SET statement_timeout TO ${timeout}`, locked.sql[0]!, 'SET statement_timeout TO 0', ...locked.sql.slice(1)];
    if (locked.swapMarkIndex !== undefined) swapMarkIndex = locked.swapMarkIndex + (timeout === undefined ? 0 : 2);
    if (locked.checksumIndex !== undefined) checksumIndex = locked.checksumIndex + (timeout === undefined ? 0 : 2);
    steps.push({
      name: 'swap',
      title: `Lock ${name}, apply the changes made during the copy, swap the names (one transaction)`,
      actions: [{ kind: 'batch', sql: [...lockSql, ...regrants] }],
      notes: [
        grantNote,
        ...(swapMarkIndex !== undefined ? [`statement ${swapMarkIndex + 1} returns swap_mark, kept in the job as {{swap_mark}}`] : []),
        ...(timeout !== undefined ? [`the lock waits at most ${timeout} ms behind other sessions; the step retries the batch when it times out`] : []),
        ...(checksumIndex !== undefined ? [`statement ${checksumIndex + 1} returns the checksum of ${newName} as it takes the name, kept in the job for the post-swap verification`] : []),
        `${name} is unreadable only while this transaction holds the lock`,
        ...(d.kind === 'full' ? [] : d.notes),
      ],
    });
    const post = postSwapDeleteSync(current, next, d, lastMark);
    if (post)
      steps.push({
        name: 'post-sync',
        title: `Remove rows deleted at the source between the pre-sync and the lock`,
        actions: [{ kind: 'sql', sql: post }],
        notes: [`no lock: ${oldName} no longer changes`],
      });
    const late = lateWritesToOld(current, next, mapping, d, swapMark);
    if (late)
      steps.push({
        name: 'late-writes',
        title: `Check that ${oldName} got no write after the swap (move any over)`,
        actions: [
          { kind: 'query', sql: late.check, expect: 'late_rows = 0; otherwise the batch below moves them' },
          { kind: 'batch', sql: late.move },
        ],
        notes: ['a newer version of a row already in the table wins'],
      });
    steps.push(...freshness(next), postVerifyLive(d), approve, drop, b.schemaFile);
    const rev = d.kind === 'updated_at' ? reverseDelta(current, next, mapping, d, swapMark) : revFull;
    rollback.push({
      name: 'swap-back',
      title: `Swap back: ${name} → ${newName}, ${oldName} → ${name} (one transaction)`,
      actions: [{ kind: 'batch', sql: [`LOCK TABLE ${t}`, ...swapBackBatch(schema, name, rev.ok ? rev.sql : [])] }],
      notes: [rev.ok ? `rows the new table got since the swap go back into ${oldName} first${d.kind === 'updated_at' ? '' : ' (compared by primary key)'}` : rev.reason],
      ...(rev.ok ? {} : { warnings: [`changes made to the new ${name} since the swap are not carried back: ${rev.reason}`] }),
    });
  }
  if (input.grants) {
    // the re-grants are known: the swap must fit one BatchExecuteStatement (never split: invariant 2)
    const swapStep = steps.find((s) => s.name === 'swap' || s.name === 'rename-in');
    const batch = swapStep?.actions.find((a) => a.kind === 'batch');
    // the plan's batch is the one the job sends; without the worker's lock timeout it lacks the two SET statement_timeout
    const n = (batch?.kind === 'batch' ? batch.sql.length : 0) + (strategy === 'live-copy' && input.swapLockTimeoutMs === undefined ? LOCK_WAIT_STATEMENTS : 0);
    const problem = swapBatchProblem(n, input.grants.filter((g) => !(g.granteeKind === 'user' && input.skipGrantees?.includes(g.grantee))), schema, name);
    if (problem) return { ok: false, error: problem };
  }
  rollback.push({
    name: 'drop-new',
    title: `Drop ${newName} (after the swap back, or when the copy failed)`,
    actions: [{ kind: 'sql', sql: dropNewTable(schema, name) }],
    notes: [],
  });

  const strategyWhy = explainStrategy(input, b.provider, strategy, delta);
  return {
    ...b,
    mode: 'deep-copy',
    reasons: b.reasons,
    ...(strategy ? { strategy } : {}),
    strategyWhy,
    names: { table: name, newTable: newName, oldTable: oldName },
    steps,
    rollback,
    warnings,
    narrowingChecks: checks,
    ...(delta ? { delta } : {}),
    ...(verifySpec ? { verify: verifySpec } : {}),
    ...(swapMarkIndex !== undefined ? { swapMarkIndex } : {}),
    ...(checksumIndex !== undefined ? { checksumIndex } : {}),
    foreignKeys: b.fks,
  } as ModifyPlan;
}

const seconds = (s: number): string => (s >= 10 ? `${Math.round(s)} s` : s >= 0.1 ? `${Number(s.toFixed(1))} s` : s >= 0.01 ? `${s.toFixed(2)} s` : 'under 0.01 s');
const mb = (n: number): string => `${n.toLocaleString('en-US')} MB`;

/**
 * Why this strategy, from the table's declared changeTracking, and what it costs: the expected lock time of the live
 * copy's locked swap (passes over the table × its size ÷ the scan rate) and, for a table without change tracking, the
 * time rename-first would leave the name missing — offered when that is shorter. Estimates, and they say so.
 */
function explainStrategy(input: PlanInput, provider: 'dms' | 'cdc', strategy: ModifyPlan['strategy'], d: ModifyPlan['delta']): string[] {
  const t = input.current;
  const file = `schemas/${t.schema}/${t.name}.yml`;
  const declared = `changeTracking ${changeTrackingText(t.changeTracking)} in ${file}`;
  if (provider === 'dms') return [`strategy: the DMS task is stopped for the copy and the swap; ${declared} is not needed for it`];
  const rate = input.throughput ?? DEFAULT_THROUGHPUT;
  const size = input.tableSize;
  const sizeText = size ? `size from svv_table_info (${size.rows.toLocaleString('en-US')} rows, ${mb(size.sizeMb)})` : '';
  const lock = (passes: number, what: string): string =>
    size
      ? `  • expected lock: ≈ ${seconds((passes * size.sizeMb) / rate.scanMbPerSecond)} = ${passes} scans × ${mb(size.sizeMb)} ÷ ${rate.scanMbPerSecond} MB/s (${what}); ${sizeText}; scan rate from the setting SCAN_MB_PER_SECOND`
      : `  • expected lock: unknown (${input.tableSizeUnknown ?? 'the table size was not read from svv_table_info'})`;
  // the catch-up rounds leave the lock only the last changes, reached through the zone maps (delta.ts applyDelta)
  const changesOnly = (which: string, how: string): string =>
    `  • expected lock: the rows ${which} found by ${how} (zone maps), not by scanning the table — it does not grow with the table${size ? ` (${sizeText.replace('size from svv_table_info (', 'size from svv_table_info: ').replace(/\)$/, '')})` : ''}`;
  const renameFirst = size ? size.sizeMb / rate.copyMbPerSecond + (4 * size.sizeMb) / rate.scanMbPerSecond : undefined;
  const renameText =
    size && renameFirst !== undefined
      ? `rename-first would leave ${t.name} missing for ≈ ${seconds(renameFirst)} (copy ${mb(size.sizeMb)} ÷ ${rate.copyMbPerSecond} MB/s + verify 4 scans × ${mb(size.sizeMb)} ÷ ${rate.scanMbPerSecond} MB/s; the CDC service buffers meanwhile)`
      : undefined;
  if (strategy === 'rename-first')
    return [
      `strategy: rename-first (--strategy rename-first): the CDC service buffers while ${t.name} is missing, so ${declared} is not needed for it`,
      `  • ${renameText ?? `${t.name} is missing for the copy and the verification (size unknown: ${input.tableSizeUnknown ?? 'the table size was not read from svv_table_info'})`}`,
    ];
  const head = `strategy: live-copy, from ${declared}`;
  if (!d) return [head];
  switch (d.kind) {
    case 'updated_at':
      return [
        head,
        `  • every change sets ${d.column}: the rows changed during the copy are those with ${d.column} ≥ max(${d.column}) − ${d.marginSeconds} s read before the copy, re-copied under the lock`,
        changesOnly(`that differ from new_${t.name} in the margin window (the last ${d.marginSeconds} s of changes before the last catch-up round, read by a ${d.column} range on both tables; only the rows that differ are written)`, `${d.column} ranges and keys`),
      ];
    case 'append-id':
      return [
        head,
        `  • ${t.name} only gets inserts: the rows added during the copy are those with ${d.column} > max(${d.column}) read before the copy, inserted under the lock`,
        changesOnly('added since the last catch-up round only,', `${d.column} ranges`),
      ];
    case 'full': {
      const out = [
        head,
        `  • nothing tells a changed row from an unchanged one: under the lock the whole tables are compared (rows of new_${t.name} that differ are replaced, missing ones inserted)`,
        lock(6, 'the whole-table compare under the lock and the checksum for the post-swap verification'),
      ];
      if (size && renameText !== undefined && renameFirst !== undefined) {
        const lockS = (6 * size.sizeMb) / rate.scanMbPerSecond;
        out.push(renameFirst < lockS ? `  • ${renameText}: shorter than the lock — add --strategy rename-first` : `  • ${renameText}: longer than the lock, so the live copy stays`);
      }
      return out;
    }
  }
}

function freshness(next: TableDef): PlanStep[] {
  const q = freshnessQuery(next);
  if (!q) return [];
  return [
    {
      name: 'freshness',
      title: 'Check that replication keeps the table fresh',
      actions: [{ kind: 'query', sql: q, expect: 'max values keep advancing within N minutes; the lag is reported' }],
      notes: [],
    },
  ];
}

// ─── printing ────────────────────────────────────────────────────────────────────────────────────────────────────────

function indent(text: string, pad: string): string {
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

function formatAction(a: PlanAction, pad: string): string {
  switch (a.kind) {
    case 'sql':
      return `${pad}sql${a.outsideTransaction ? ' (alone, outside any transaction)' : ''}:\n${indent(`${a.sql};`, `${pad}  `)}`;
    case 'batch':
      return `${pad}batch (one transaction):\n${a.sql.map((s) => indent(`${s};`, `${pad}  `)).join('\n')}`;
    case 'query': {
      const params = a.params ? `  -- ${Object.entries(a.params).map(([k, v]) => `:${k} = ${JSON.stringify(v)}`).join(', ')}` : '';
      return `${pad}query:${params}\n${indent(`${a.sql};`, `${pad}  `)}\n${pad}  → expect ${a.expect}`;
    }
    case 'aws':
      return `${pad}aws: ${a.text}`;
    case 'gate':
      return `${pad}approval: ${a.text}`;
    case 'note':
      return `${pad}bot: ${a.text}`;
  }
}

function formatStep(s: PlanStep, i: number): string {
  const lines = [`${String(i + 1).padStart(2)}. ${s.title}  [${s.name}]`];
  if (s.done) lines.push(`    done when: ${s.done.description}`);
  for (const a of s.actions) lines.push(formatAction(a, '    '));
  for (const n of s.notes) lines.push(`    note: ${n}`);
  return lines.join('\n');
}

/** The whole plan for humans (plan / --dry-run): every step with its exact SQL and AWS calls. */
export function formatPlan(plan: ModifyPlan): string {
  const out: string[] = [];
  const how =
    plan.mode === 'in-place'
      ? 'in place'
      : `deep copy (${plan.provider}${plan.strategy ? `, ${plan.strategy}` : ''})`;
  out.push(`modify ${plan.table.schema}.${plan.table.name}: ${how}`);
  if (plan.reasons.length) out.push('why a deep copy:', ...plan.reasons.map((r) => `  • ${r}`));
  if (plan.strategyWhy?.length) out.push(...plan.strategyWhy);
  if (plan.mode === 'deep-copy') {
    out.push('column mapping:');
    for (const m of plan.mapping)
      out.push(
        `  ${m.target} ← ${m.kind === 'column' ? (m.from === m.target ? m.from : `${m.from} (renamed)`) : m.kind === 'cast' ? `${m.from} cast to ${m.type}` : `default ${plan.next.columns.find((c) => c.name === m.target)?.default ?? 'NULL'} (new column)`}`,
      );
    const dropped = plan.current.columns.filter((c) => !plan.mapping.some((m) => m.kind !== 'default' && m.from === c.name));
    for (const c of dropped) out.push(`  (${c.name} is dropped)`);
  }
  if (plan.warnings.length) out.push('warnings:', ...plan.warnings.map((w) => `  • ${w}`));
  out.push('steps:');
  plan.steps.forEach((s, i) => out.push(formatStep(s, i)));
  if (plan.rollback.length) {
    out.push(`rollback (before ${plan.names.oldTable} is dropped):`);
    plan.rollback.forEach((s, i) => out.push(formatStep(s, i)));
  }
  return `${out.join('\n')}\n`;
}

