/** Deep copy, live copy: the copy mark — the change column's maximum before the copy (the catch-up and the swap apply the delta since it). */
import { queryOf, type DeepCopyStep } from './deep-copy-context.js';

export const markStep: DeepCopyStep = (c, s) => ({
  ...c.base(s),
  isDone: async (ctx) => ctx.handles['copyMark'] !== undefined,
  run: async (ctx) => {
    const d = c.plan.delta;
    if (!d || d.kind === 'full') return 'no mark needed';
    const r = await ctx.deps.warehouse.query(queryOf(s), undefined, { name: c.stmtName(ctx, 'mark') });
    const v = r.rows[0]?.mark;
    const markValue = v === null || v === undefined ? (d.kind === 'append-id' ? '0' : '1900-01-01 00:00:00') : String(v);
    await ctx.setHandle('copyMark', markValue);
    return `copy mark ${markValue}`;
  },
});
