/**
 * Running SQL from a step so that a resumed step never runs it twice (invariant 4): the statement id is recorded in the
 * job's handles BEFORE waiting; a resumed step finds the id, and waits for it (still running), takes its result
 * (finished), or submits again only when it FAILED/ABORTED or the warehouse no longer knows it.
 *
 * A worker can die after the Data API accepted a statement and before its id was recorded. The submit therefore carries
 * a ClientToken derived from (job, handle, attempt) — not a random one — so the resumed step's submit gets the SAME
 * statement back instead of running it again (the Data API keeps a token for hours; the sandbox for 8 h). A statement
 * that FAILED or was ABORTED is submitted again on purpose with the next attempt number, hence a new token (the same
 * token would only return the failed statement); so is one a step lets go of on purpose (forgetStatement). Those ids are
 * recorded (`<handle>:retired`) before the new submit, so a crash between that submit and recording its id resubmits the
 * same attempt, not a third one.
 *
 * A token names one logical statement (job, handle, attempt), and a resumed step builds that statement again from the
 * same plan and the same recorded values, so the same token never comes with other SQL — except when workers of one
 * job run with different settings (e.g. SWAP_LOCK_TIMEOUT_MS) or code. The Data API documents no check of that case;
 * the sandbox answers with the statement the token first named, which is also the safe answer (it ran already).
 */
import { createHash } from 'node:crypto';
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

/**
 * The ClientToken of a job's statement: the same (job, handle, attempt) always gives the same token, anything else a
 * different one. The job's creation time is in it, so jobs of two deployments (or a Redis that was reset) that share a
 * job id never share tokens. 4 + 48 hex characters, within the Data API's 64.
 */
export function statementToken(job: { id: string; createdAt: number }, handle: string, attempt: number): string {
  const digest = createHash('sha256').update(`${job.id}\n${job.createdAt}\n${handle}\n${attempt}`).digest('hex');
  return `rso-${digest.slice(0, 48)}`;
}

/** The ids recorded under `handle` that must not be reused (they FAILED, or a step let go of them). */
const retiredKey = (handle: string): string => `${handle}:retired`;
const retiredOf = (ctx: StepContext<RunbookDeps>, handle: string): string[] => (ctx.handles[retiredKey(handle)] ?? '').split(',').filter((x) => x !== '');

/**
 * Let go of the statement recorded under `handle` on purpose (e.g. it FINISHED but did not do what the plan said): the
 * next runOnce submits it again under the next attempt's token — the old token would only return the old statement.
 */
export async function forgetStatement(ctx: StepContext<RunbookDeps>, handle: string): Promise<void> {
  const id = ctx.handles[handle];
  const retired = retiredOf(ctx, handle);
  if (id !== undefined && id !== '' && !retired.includes(id)) await ctx.setHandle(retiredKey(handle), [...retired, id].join(','));
  await ctx.setHandle(handle, '');
}

/** Submit (once) and wait; returns the finished statement. Audits the id and outcome. */
export async function runOnce(ctx: StepContext<RunbookDeps>, handle: string, what: Sql, name: string): Promise<StatementInfo> {
  const wh = ctx.deps.warehouse;
  const retired = retiredOf(ctx, handle);
  let id: string | undefined = ctx.handles[handle];
  if (id === '' || (id !== undefined && retired.includes(id))) id = undefined;
  if (id !== undefined) {
    const info = await wh.describe(id).catch(() => undefined);
    if (info?.status === 'FAILED' || info?.status === 'ABORTED') {
      // deliberately run it again: the next attempt, with its own token; recorded before the submit
      retired.push(id);
      await ctx.setHandle(retiredKey(handle), retired.join(','));
      id = undefined;
    } else if (!info) id = undefined; // unknown to the warehouse: submit again — the same token returns it if the Data API still knows it
  }
  if (id === undefined) {
    const opts = { name, clientToken: statementToken(ctx.job, handle, retired.length + 1) };
    id = 'sql' in what ? await wh.submit(what.sql, undefined, opts) : await wh.submitBatch(what.batch, opts);
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
