/**
 * Shared steps: duplicate primary keys. Redshift does not enforce primary keys, so a replayed change or a reload over
 * rows already there leaves two rows with one key; recovery must never leave them.
 *
 *   duplicateKeysCheckStep  counts the keys that have more than one row (and a sample of them) — says what it compared:
 *                           the table, its rows, the key columns; 0 rows compared (or no key declared) is a warning.
 *   dedupeSteps             an approval gate (asked only when the check found duplicates; it names the table, the
 *                           counts, the sample and the rule) and the dedupe: ONE batch — one transaction — that locks the
 *                           table (replication may write meanwhile), keeps ONE row per duplicated key and puts it back.
 *                           The rule: the newest by the table's declared `changeTracking: { updated_at: <col> }`; without
 *                           one, any one of the rows (they are usually identical copies: a replay). Counts before and
 *                           after go to the thread; after it, no key may have two rows or the step fails.
 *
 * The key comes from schemas/ (`primaryKey`), the columns from the table's definition; the live table must have the
 * same columns (checked before the batch: a table whose shape differs is refused, nothing changed). No user text is
 * in the SQL: identifiers are schemas/ names, quoted.
 */
import type { RunbookDeps } from '../deps.js';
import type { PlannedAction, Step, StepContext } from '../runbook.js';
import { readTable } from '../../schema/catalog.js';
import { qualified, quoteIdent } from '../../schema/identifiers.js';
import { changeColumn, type TableDef } from '../../schema/model.js';
import { runOnce } from '../statements.js';

const SAMPLE = 10;
const KEEP = 'rso_dedupe_keep';
const KEYS = 'rso_dedupe_keys';

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const n = (x: number): string => x.toLocaleString('en-US');

export interface DuplicateKeySql {
  /** the key columns (schemas/ primaryKey) */
  key: string[];
  /** counts: total rows, keys with more than one row, rows of those keys */
  count: string;
  /** up to 10 duplicated keys with their row counts */
  sample: string;
  /** the dedupe batch (one transaction) */
  dedupe: string[];
  /** which row is kept, in words */
  rule: string;
}

/** The SQL of the check and the dedupe for `t` (undefined when schemas/ declares no primary key). */
export function duplicateKeySql(t: TableDef): DuplicateKeySql | undefined {
  const key = t.primaryKey;
  if (!key || key.length === 0) return undefined;
  const table = qualified(t.schema, t.name);
  const k = key.map(quoteIdent).join(', ');
  const cols = t.columns.map((c) => quoteIdent(c.name));
  const ct = changeColumn(t.changeTracking);
  const newest = ct?.kind === 'updated_at' ? ct.column : undefined;
  // Redshift sorts NULL as the largest value, so DESC alone would keep a row without a timestamp as the "newest"
  const order = newest ? `${quoteIdent(newest)} DESC NULLS LAST` : key.map(quoteIdent).join(', ');
  const on = key.map((c) => `t.${quoteIdent(c)} = d.${quoteIdent(c)}`).join(' AND ');
  return {
    key,
    count: `SELECT (SELECT COUNT(*) FROM ${table}) AS total_rows, COUNT(*) AS dup_keys, COALESCE(SUM(n), 0) AS dup_rows FROM (SELECT ${k}, COUNT(*) AS n FROM ${table} GROUP BY ${k} HAVING COUNT(*) > 1) d`,
    sample: `SELECT ${k}, COUNT(*) AS n FROM ${table} GROUP BY ${k} HAVING COUNT(*) > 1 ORDER BY ${k} LIMIT ${SAMPLE}`,
    dedupe: [
      `LOCK TABLE ${table}`,
      `CREATE TEMP TABLE ${KEYS} AS SELECT ${k} FROM ${table} GROUP BY ${k} HAVING COUNT(*) > 1`,
      `CREATE TEMP TABLE ${KEEP} AS SELECT ${cols.join(', ')} FROM (SELECT ${cols.map((c) => `t.${c}`).join(', ')}, ROW_NUMBER() OVER (PARTITION BY ${key.map((c) => `t.${quoteIdent(c)}`).join(', ')} ORDER BY ${order.split(', ').map((o) => `t.${o}`).join(', ')}) AS rso_rn FROM ${table} t JOIN ${KEYS} d ON ${on}) x WHERE rso_rn = 1`,
      `DELETE FROM ${table} USING ${KEYS} d WHERE ${key.map((c) => `${table}.${quoteIdent(c)} = d.${quoteIdent(c)}`).join(' AND ')}`,
      `INSERT INTO ${table} (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM ${KEEP}`,
      `DROP TABLE ${KEEP}`,
      `DROP TABLE ${KEYS}`,
    ],
    rule: newest
      ? `keeps the newest row of each key by ${newest} (the table declares changeTracking { updated_at: ${newest} })`
      : `keeps any one row of each key (the table declares no updated_at change column, so there is no newest: replayed rows are copies)`,
  };
}

export interface DuplicateCounts {
  totalRows: number;
  dupKeys: number;
  dupRows: number;
  sample: string[];
}

/** Count the duplicated keys of `t` now (and a sample: "id 12 ×2"). */
export async function countDuplicates(ctx: { deps: RunbookDeps }, t: TableDef, sql: DuplicateKeySql): Promise<DuplicateCounts> {
  const c = (await ctx.deps.warehouse.query(sql.count)).rows[0] ?? {};
  const dupKeys = num(c.dup_keys);
  const sample = dupKeys === 0 ? [] : (await ctx.deps.warehouse.query(sql.sample)).rows.map((r) => `${sql.key.map((k) => `${k} ${String(r[k])}`).join(', ')} ×${num(r.n)}`);
  return { totalRows: num(c.total_rows), dupKeys, dupRows: num(c.dup_rows), sample };
}

function describeCounts(t: TableDef, sql: DuplicateKeySql, c: DuplicateCounts): string {
  const what = `compared ${n(c.totalRows)} rows of ${t.schema}.${t.name} by primary key (${sql.key.join(', ')})`;
  if (c.dupKeys === 0) return `${what}: no duplicate keys`;
  return `${what}: ${n(c.dupKeys)} key(s) have more than one row (${n(c.dupRows)} rows, ${n(c.dupRows - c.dupKeys)} extra) — e.g. ${c.sample.join('; ')}`;
}

export interface DuplicateStepOptions {
  /** step name (default `duplicate-keys`); the dedupe steps read its handles */
  name?: string;
}

/** The check: what it compared, the count and a sample; handles `<name>.keys`, `<name>.rows`, `<name>.summary`. */
export function duplicateKeysCheckStep(t: TableDef, o: DuplicateStepOptions = {}): Step<RunbookDeps> {
  const name = o.name ?? 'duplicate-keys';
  const sql = duplicateKeySql(t);
  return {
    name,
    title: `Check ${t.schema}.${t.name} for duplicate primary keys`,
    plan: (): PlannedAction[] => (sql ? [{ kind: 'sql', text: sql.count }, { kind: 'sql', text: `${sql.sample}   -- only when there are duplicates` }] : [{ kind: 'check', text: `${t.schema}.${t.name} declares no primary key in schemas/: nothing to compare` }]),
    isDone: async () => false,
    async run(ctx) {
      if (!sql) {
        await ctx.setHandle(`${name}.keys`, '0');
        return { status: 'warn', detail: `${t.schema}.${t.name} declares no primary key in schemas/: duplicates were not looked for` };
      }
      const c = await countDuplicates(ctx, t, sql);
      const detail = describeCounts(t, sql, c);
      await ctx.setHandle(`${name}.keys`, String(c.dupKeys));
      await ctx.setHandle(`${name}.rows`, String(c.dupRows));
      await ctx.setHandle(`${name}.summary`, detail);
      if (c.totalRows === 0) return { status: 'warn', detail: `${detail} (the table is empty: nothing was compared)` };
      return detail;
    },
  };
}

/**
 * The approval gate and the dedupe, after `duplicateKeysCheckStep` (named `checkName`). The gate is asked only when the
 * check found duplicated keys (otherwise it is skipped as done); the dedupe is done when no key has two rows.
 */
export function dedupeSteps(t: TableDef, o: DuplicateStepOptions & { checkName?: string } = {}): Step<RunbookDeps>[] {
  const check = o.checkName ?? 'duplicate-keys';
  const name = o.name ?? 'dedupe';
  const sql = duplicateKeySql(t);
  const key = `${t.schema}.${t.name}`;
  const found = (ctx: { handles: Readonly<Record<string, string>> }): number => num(ctx.handles[`${check}.keys`]);
  const stmtName = (ctx: StepContext<RunbookDeps>): string => `job ${ctx.job.id} ${name} ${key}`;
  if (!sql) return [];
  const approve: Step<RunbookDeps> = {
    name: `approve-${name}`,
    title: `Approve removing duplicate rows from ${key}`,
    plan: () => [{ kind: 'approval', text: `asked only if duplicate keys were found: delete the extra rows of ${key} (${sql.rule})` }],
    isDone: async (ctx) => (ctx.handles[`${check}.keys`] !== undefined && found(ctx) === 0 ? { nothingToDo: `no duplicate keys were found: nothing to approve` } : false),
    approval: {
      prompt: (ctx) =>
        `${ctx.handles[`${check}.summary`] ?? `${key} has duplicate primary keys`}.\nDedupe ${key}: in ONE transaction with the table locked (replication waits), it ${sql.rule}, and deletes the other rows of those keys. Approve to remove them; Reject stops the job and changes nothing.`,
    },
    run: async () => 'approved',
  };
  const dedupe: Step<RunbookDeps> = {
    name,
    title: `Remove duplicate rows from ${key} (one row kept per key, one locked transaction)`,
    plan: () => [{ kind: 'sql', text: sql.count }, { kind: 'sql-batch', text: sql.dedupe.join(';\n') }, { kind: 'sql', text: `${sql.count}   -- after: must find 0 duplicate keys` }],
    isDone: async (ctx) =>
      ctx.handles[`${name}.done`] !== undefined || (ctx.handles[`${check}.keys`] !== undefined && found(ctx) === 0 ? { nothingToDo: `no duplicate keys were found: nothing removed` } : false),
    async run(ctx) {
      const before = await countDuplicates(ctx, t, sql);
      if (before.dupKeys === 0 && ctx.handles[`stmt:${name}`] === undefined) {
        await ctx.setHandle(`${name}.done`, '1');
        return `${key} has no duplicate keys now (${n(before.totalRows)} rows compared by ${sql.key.join(', ')}): nothing removed`;
      }
      const live = await readTable(ctx.deps.warehouse, t.schema, t.name);
      if (!live) throw new Error(`${key} does not exist: nothing to dedupe`);
      const want = t.columns.map((c) => c.name).join(', ');
      const have = live.columns.map((c) => c.name).join(', ');
      if (want !== have) throw new Error(`${key} has columns (${have}) but schemas/ defines (${want}): the dedupe copies rows by the definition's columns, so it was not run — nothing changed`);
      await ctx.note(`before the dedupe: ${n(before.totalRows)} rows; ${n(before.dupKeys)} key(s) with ${n(before.dupRows)} rows`);
      const info = await runOnce(ctx, `stmt:${name}`, { batch: sql.dedupe }, stmtName(ctx));
      const deleted = Math.max(0, info.subStatements?.[3]?.resultRows ?? -1);
      const kept = Math.max(0, info.subStatements?.[4]?.resultRows ?? -1);
      const after = await countDuplicates(ctx, t, sql);
      if (after.dupKeys > 0) throw new Error(`after the dedupe ${key} still has ${n(after.dupKeys)} duplicated key(s) (${after.sample.join('; ')}): a writer added them meanwhile? Run recover again`);
      await ctx.setHandle(`${name}.done`, '1');
      return `before: ${n(before.totalRows)} rows, ${n(before.dupKeys)} duplicated key(s); deleted ${n(deleted)} rows of those keys and put back ${n(kept)} (${sql.rule.replace(/ \(.*\)$/, '')}), statement ${info.id}; after: ${n(after.totalRows)} rows, 0 duplicate keys`;
    },
  };
  return [approve, dedupe];
}
