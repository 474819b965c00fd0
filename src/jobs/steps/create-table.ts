/**
 * Generic "create a table" step (shared step library): runs the CREATE TABLE it is given (the caller's planned SQL —
 * modify's plan, a rendered schemas/ definition) once, under a statement handle, after looking at the catalog.
 *
 * isDone: the table exists — and, when `columns` is given, with exactly those columns (else it is a leftover of another
 * job: an error, never silently reused) — or the job is already past this point (`pastIf`).
 * undo, by policy:
 *  - `if-empty`: drop the table only if this job created it and it holds no row (a rollback never destroys rows loaded
 *    meanwhile; it says so and leaves the table);
 *  - `while`: drop it with the given SQL while `when` holds (e.g. "new_<t> is not the only copy of the data").
 */
import type { RunbookDeps } from '../deps.js';
import type { PlannedAction, Step, StepContext } from '../runbook.js';
import { readTable } from '../../schema/catalog.js';
import { qualified } from '../../schema/identifiers.js';
import { runOnce, tableExists } from '../statements.js';

type D = RunbookDeps;
type Ctx = StepContext<D>;

export type CreateTableUndo =
  | { kind: 'if-empty'; handle: string }
  | { kind: 'while'; when: (ctx: Ctx) => Promise<boolean>; sql: string | (() => string); handle: string; statementName: (ctx: Ctx) => string; note: string };

export interface CreateTableStepOptions {
  name: string;
  title: string;
  schema: string;
  /** the table the SQL creates */
  table: string;
  /** the CREATE TABLE statement, as planned (identifiers already checked and quoted) */
  sql: string;
  /** the statement's handle in the job (its ClientToken derives from it) */
  handle: string;
  /** the Data API statement name */
  statementName: (ctx: Ctx) => string;
  /** default: the SQL */
  plan?: () => PlannedAction[];
  /** the columns (name and type as the catalog shows them) an existing table must have to count as this step's */
  columns?: ReadonlyArray<{ name: string; type: string }>;
  /** the job is already past this point (e.g. swapped, dropped): done even though the table is absent */
  pastIf?: (ctx: Ctx) => Promise<boolean>;
  /** a handle set to '1' once this job created the table (the `if-empty` undo reads it) */
  createdHandle?: string;
  /** the detail line from the statement id (default "statement <id>") */
  detail?: (statementId: string) => string;
  undo?: CreateTableUndo;
}

export function createTableStep(o: CreateTableStepOptions): Step<D> {
  const key = `${o.schema}.${o.table}`;
  const step: Step<D> = {
    name: o.name,
    title: o.title,
    plan: o.plan ?? (() => [{ kind: 'sql', text: o.sql }]),
    isDone: async (ctx) => {
      if (await tableExists(ctx, o.schema, o.table)) {
        if (o.columns) {
          const live = await readTable(ctx.deps.warehouse, o.schema, o.table);
          const shape = (cs: ReadonlyArray<{ name: string; type: string }>) => cs.map((c) => `${c.name} ${c.type}`).join(',');
          if (live && shape(live.columns) !== shape(o.columns))
            throw new Error(`${o.table} exists with other columns than this job would create (left over from another job?); drop it or use recover, then retry`);
        }
        return true;
      }
      return o.pastIf ? o.pastIf(ctx) : false;
    },
    run: async (ctx) => {
      const info = await runOnce(ctx, o.handle, { sql: o.sql }, o.statementName(ctx));
      if (o.createdHandle) await ctx.setHandle(o.createdHandle, '1');
      return o.detail ? o.detail(info.id) : `statement ${info.id}`;
    },
  };
  const u = o.undo;
  if (u?.kind === 'while') {
    step.undo = async (ctx) => {
      if (!(await tableExists(ctx, o.schema, o.table)) || !(await u.when(ctx))) return;
      await runOnce(ctx, u.handle, { sql: typeof u.sql === 'string' ? u.sql : u.sql() }, u.statementName(ctx));
      await ctx.note(u.note);
    };
  } else if (u?.kind === 'if-empty') {
    if (!o.createdHandle) throw new Error(`create step ${o.name}: the if-empty undo needs createdHandle`);
    const created = o.createdHandle;
    step.undo = async (ctx) => {
      if (ctx.handles[created] !== '1' || !(await tableExists(ctx, o.schema, o.table))) return;
      const rows = await ctx.deps.warehouse.query(`SELECT count(*) AS n FROM ${qualified(o.schema, o.table)}`);
      const n = Number(rows.rows[0]?.n ?? 0);
      if (n > 0) {
        await ctx.note(`${key} now holds ${n} rows; it is left in place (drop it by hand if that is really wanted)`);
        return;
      }
      await runOnce(ctx, u.handle, { sql: `DROP TABLE ${qualified(o.schema, o.table)}` }, `job ${ctx.job.id} undo create ${key}`);
      await ctx.note(`dropped the empty ${key} this job had created`);
    };
  }
  return step;
}
