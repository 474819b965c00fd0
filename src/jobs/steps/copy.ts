/** Deep copy: copy the rows into new_<t> (the plan's batch), reporting the rate reached (what COPY_MB_PER_SECOND should be set from). */
import { batchOf, type DeepCopyStep } from './deep-copy-context.js';
import { finishedBefore, runOnce } from '../statements.js';

export const copyStep: DeepCopyStep = (c, s) => ({
  ...c.base(s),
  isDone: async (ctx) => (await finishedBefore(ctx, 'stmt:copy')) || (await c.swapped(ctx)) || c.dropped(ctx),
  run: async (ctx) => {
    const t0 = Date.now();
    const info = await runOnce(ctx, 'stmt:copy', { batch: batchOf(s) }, c.stmtName(ctx, 'copy'));
    const rows = info.subStatements?.[1]?.resultRows ?? -1;
    // the rate this copy reached: what COPY_MB_PER_SECOND (the plan's lock estimate) should be set from
    const sizeMb = Number(ctx.handles['sizeMb'] ?? 'NaN');
    const secs = (Date.now() - t0) / 1000;
    const rate = Number.isFinite(sizeMb) && sizeMb > 0 && secs > 0 ? `; ${sizeMb.toLocaleString('en-US')} MB in ${secs < 1 ? secs.toFixed(2) : secs.toFixed(1)} s ≈ ${(sizeMb / secs).toFixed(1)} MB/s` : '';
    return `${rows >= 0 ? `${rows.toLocaleString('en-US')} rows` : 'rows'} copied (statement ${info.id}${rate})`;
  },
});
