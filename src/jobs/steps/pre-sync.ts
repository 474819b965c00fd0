/** Deep copy, live copy: remove from new_<t> the rows deleted at the source during the copy (the plan's statement). */
import { sqlOf, type DeepCopyStep } from './deep-copy-context.js';
import { finishedBefore, runOnce } from '../statements.js';

export const preSyncStep: DeepCopyStep = (c, s) => ({
  ...c.base(s),
  isDone: async (ctx) => (await finishedBefore(ctx, 'stmt:pre-sync')) || (await c.swapped(ctx)),
  run: async (ctx) => {
    const info = await runOnce(ctx, 'stmt:pre-sync', { sql: sqlOf(s) }, c.stmtName(ctx, 'pre-sync'));
    return `${Math.max(0, info.resultRows)} row(s) deleted at the source during the copy removed`;
  },
});
