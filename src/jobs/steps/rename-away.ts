/** Deep copy, cdc rename-first: <t> → old_<t> (the CDC service buffers its changes while the name is missing); undo renames it back. */
import { batchOf, sqlOf, type DeepCopyStep } from './deep-copy-context.js';
import { runOnce } from '../statements.js';

export const renameAwayStep: DeepCopyStep = (c, s) => ({
  ...c.base(s),
  isDone: async (ctx) => (await c.exists(ctx, c.oldTable)) || c.dropped(ctx),
  run: async (ctx) => {
    const n = await c.names(ctx);
    if (!n.t) throw new Error(`${c.name} is missing and ${c.oldTable} does not exist: look at the table by hand (recover) before retrying`);
    const info = await runOnce(ctx, 'stmt:rename-away', { batch: batchOf(s) }, c.stmtName(ctx, 'rename-away'));
    await ctx.setHandle('renamedAwayAt', String(Date.now()));
    return `statement ${info.id}: ${c.name} is now ${c.oldTable}; the CDC service buffers its changes`;
  },
  undo: async (ctx) => {
    const n = await c.names(ctx);
    if (n.ot && !n.t) {
      await runOnce(ctx, 'stmt:undo-rename-away', { sql: sqlOf(c.rollbackOf('rename-back')) }, c.stmtName(ctx, 'undo rename-away'));
      await ctx.note(`${c.oldTable} renamed back to ${c.name}`);
    }
  },
});
