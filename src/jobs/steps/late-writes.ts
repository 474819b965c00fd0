/** Deep copy, live copy: rows the CDC service wrote to old_<t> after the swap (it had the name cached) are moved into <t>. */
import { fillBatch, fillStatement } from '../../modify/run-values.js';
import { batchOf, num, queryOf, type DeepCopyStep } from './deep-copy-context.js';

export const lateWritesStep: DeepCopyStep = (c, s) => ({
  ...c.base(s),
  isDone: async (ctx) => c.dropped(ctx),
  run: async (ctx) => {
    const v = c.values(ctx);
    const r = await ctx.deps.warehouse.query(fillStatement(queryOf(s), v), undefined, { name: c.stmtName(ctx, 'late-writes') });
    const n = num(r.rows[0]?.late_rows);
    const d = c.plan.delta;
    const col = d && d.kind !== 'full' ? d.column : 'the change column';
    if (n === 0) return `${c.oldTable} got no write after the swap (0 rows with ${col} > swap mark ${ctx.handles['swapMark'] ?? '?'})`;
    const info = await ctx.deps.warehouse.executeBatch(fillBatch(batchOf(s), v), { name: c.stmtName(ctx, 'late-writes') });
    await ctx.audit({ kind: 'statement', ref: info.id, outcome: info.status, text: 'move late writes' });
    return `${n} row(s) written to ${c.oldTable} after the swap moved into ${c.name}`;
  },
});
