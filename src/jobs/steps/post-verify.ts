/**
 * Deep copy: the post-swap verification — old_<t> against <t> after the swap, with the plan's own queries: on the rows
 * not changed since the swap (by the change column, :swap_mark bound), or — no change column, or a swap the task/rename
 * kept writes away from — every row of old_<t> against the new table's checksum recorded when it took the name. Says
 * exactly what it compared; 0 rows compared is a warning; a difference fails the step, so the drop is never asked for.
 * Its line is recorded (`postVerify`, `postVerifyStatus`) for the drop's approval prompt.
 */
import { compareChecksums, verifyQueries } from '../../modify/sql.js';
import type { PlanStep } from '../../modify/types.js';
import { num, type Ctx, type DeepCopyContext, type DeepCopyStep } from './deep-copy-context.js';

async function postSwapVerification(c: DeepCopyContext, ctx: Ctx, s: PlanStep): Promise<{ detail: string; status: 'ok' | 'warn' }> {
  const { plan, live, name, oldTable } = c;
  const wh = ctx.deps.warehouse;
  const q = s.actions[0];
  if (!q || q.kind !== 'query') throw new Error('the post-verify step has no query');
  const spec = verifyQueries(plan.current, plan.next, plan.mapping, { oldTable, newTable: name });
  const cols = `${spec.columns.length} column${spec.columns.length === 1 ? '' : 's'}`;
  const d = plan.delta;
  if (live && d && d.kind !== 'full') {
    const swapMark = ctx.handles['swapMark'];
    if (swapMark === undefined) throw new Error('the swap mark was not recorded; retry the swap step');
    const sums = await wh.query(q.sql, { swap_mark: swapMark });
    const counted = s.actions[1];
    const total = counted?.kind === 'query' ? num((await wh.query(counted.sql)).rows[0]?.old_rows) : -1;
    const problems = compareChecksums(spec, sums.rows);
    const n = num(sums.rows.find((r) => r.side === 'old')?.row_count);
    const range = d.kind === 'updated_at' ? `${d.column} < swap mark ${swapMark} − ${d.marginSeconds} s, same key in both` : `${d.column} ≤ swap mark ${swapMark}`;
    if (problems.length)
      throw new Error(`${oldTable} and ${name} differ on the rows not changed since the swap (${range}): ${problems.join('; ')} — do not drop ${oldTable}: roll back, or find the rows first`);
    const of = n === total ? `all ${n.toLocaleString('en-US')}` : `${n.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`;
    const left =
      n === total ? '' : d.kind === 'updated_at' ? `; ${(total - n).toLocaleString('en-US')} left out (changed or deleted since, or within the margin)` : `; ${(total - n).toLocaleString('en-US')} written to ${oldTable} after the swap mark (moved over by late-writes)`;
    if (n === 0) return { status: 'warn', detail: `compared ${of} rows of ${oldTable} with ${name} (${range}): nothing was verified${left}` };
    return { status: 'ok', detail: `compared ${of} rows of ${oldTable} with ${name} (${range}), ${cols}: row counts and per-column checksums equal${left}` };
  }
  const key = live ? 'swapChecksum' : 'verifyNew';
  const recorded = ctx.handles[key];
  if (recorded === undefined) throw new Error(`the checksum of the new ${name} at the swap was not recorded (handle ${key}); this check cannot be made — compare ${oldTable} and ${name} by hand before approving`);
  const at = live ? 'checksum taken under the swap lock' : plan.current.replication.provider === 'dms' ? 'checksum taken by the verify step while the DMS task was stopped' : `checksum taken by the verify step while ${name} was missing`;
  const sums = await wh.query(q.sql);
  const newRow = { ...(JSON.parse(recorded) as Record<string, unknown>), side: 'new' };
  const problems = compareChecksums(spec, [...sums.rows, newRow]);
  if (problems.length)
    throw new Error(`${oldTable} differs from ${name} as it was at the swap: ${problems.join('; ')} — a write reached ${oldTable} after the swap, or the swap lost rows; do not drop ${oldTable}: roll back, or find the rows first`);
  const n = num(sums.rows.find((r) => r.side === 'old')?.row_count);
  if (n === 0) return { status: 'warn', detail: `compared 0 rows: ${oldTable} is empty (${at})` };
  return { status: 'ok', detail: `compared all ${n.toLocaleString('en-US')} rows of ${oldTable} with ${name} as it was at the swap (${at}), ${cols}: row counts and per-column checksums equal` };
}

export const postVerifyStep: DeepCopyStep = (c, s) => ({
  ...c.base(s),
  isDone: async (ctx) => c.dropped(ctx),
  run: async (ctx) => {
    const r = await postSwapVerification(c, ctx, s);
    await ctx.setHandle('postVerify', r.detail);
    await ctx.setHandle('postVerifyStatus', r.status);
    return r;
  },
});
