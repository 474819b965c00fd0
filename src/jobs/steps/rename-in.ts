/** Deep copy, cdc rename-first: new_<t> → <t> (the CDC service finds its name again); undo locks, carries the changes since back and swaps back. */
import { fillBatch } from '../../modify/run-values.js';
import { runOnce } from '../statements.js';
import { batchOf, type DeepCopyStep } from './deep-copy-context.js';
import { swapBack } from './swap.js';

export const renameInStep: DeepCopyStep = (c, s) => ({
  ...c.base(s),
  isDone: async (ctx) => (await c.swapped(ctx)) || c.dropped(ctx),
  run: async (ctx) => {
    const info = await runOnce(ctx, 'stmt:rename-in', { batch: fillBatch(batchOf(s), c.values(ctx)) }, c.stmtName(ctx, 'rename-in'));
    await ctx.setHandle('swappedAt', String(Date.now()));
    const away = Number(ctx.handles['renamedAwayAt'] ?? Date.now());
    return `${c.name} is back (statement ${info.id}); it was missing for ${((Date.now() - away) / 1000).toFixed(1)} s`;
  },
  undo: async (ctx) => {
    const n = await c.names(ctx);
    if (c.dropped(ctx)) throw new Error(`${c.oldTable} was dropped: the old data is gone and there is nothing to swap back to`);
    if (!(n.t && n.ot && !n.nt)) return;
    // the CDC service keeps writing the new table: lock it, carry its changes since rename-in back, swap back
    await swapBack(c, ctx);
  },
});
