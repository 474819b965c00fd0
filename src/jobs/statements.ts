/**
 * Running SQL from a step so that a resumed step never runs it twice (invariant 4): the statement id is recorded in the
 * job's handles BEFORE waiting; a resumed step finds the id, and waits for it (still running), takes its result
 * (finished), or submits again only when it FAILED/ABORTED or the warehouse no longer knows it.
 */
import type { StatementInfo } from '../warehouse/port.js';
import type { StepContext } from './runbook.js';
import type { RunbookDeps } from './deps.js';

export type Sql = { sql: string } | { batch: readonly string[] };

function firstLine(s: Sql): string {
  const text = 'sql' in s ? s.sql : s.batch.join('; ');
  const line = text.split('\n')[0] ?? text;
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** Has the statement recorded under `handle` finished? (A look at the world for isDone.) */
export async function finishedBefore(ctx: StepContext<RunbookDeps>, handle: string): Promise<boolean> {
  const id = ctx.handles[handle];
  if (id === undefined) return false;
  const info = await ctx.deps.warehouse.describe(id).catch(() => undefined);
  return info?.status === 'FINISHED';
}

/** Submit (once) and wait; returns the finished statement. Audits the id and outcome. */
export async function runOnce(ctx: StepContext<RunbookDeps>, handle: string, what: Sql, name: string): Promise<StatementInfo> {
  const wh = ctx.deps.warehouse;
  let id: string | undefined = ctx.handles[handle];
  if (id !== undefined) {
    const info = await wh.describe(id).catch(() => undefined);
    if (!info || info.status === 'FAILED' || info.status === 'ABORTED') id = undefined;
  }
  if (id === undefined) {
    id = 'sql' in what ? await wh.submit(what.sql, undefined, { name }) : await wh.submitBatch(what.batch, { name });
    await ctx.setHandle(handle, id);
  }
  try {
    const info = await wh.wait(id, { signal: ctx.signal });
    await ctx.audit({ kind: 'statement', ref: id, outcome: info.status, text: firstLine(what) });
    return info;
  } catch (err) {
    await ctx.audit({ kind: 'statement', ref: id, outcome: `FAILED: ${err instanceof Error ? err.message : String(err)}`, text: firstLine(what) });
    throw err;
  }
}

/** Does schema.name exist as a table? Bound parameters, valid on Redshift and the sandbox. */
export async function tableExists(ctx: { deps: RunbookDeps }, schema: string, name: string): Promise<boolean> {
  const r = await ctx.deps.warehouse.query(
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :schema AND c.relname = :name AND c.relkind = 'r'",
    { schema, name },
  );
  return r.rows.length > 0;
}
