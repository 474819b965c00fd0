/** Deep copy, live copy: after the swap, remove the rows deleted at the source just before the lock (the plan's statement, swap mark filled). */
import { fillStatement } from '../../modify/run-values.js';
import { sqlOf, type DeepCopyStep } from './deep-copy-context.js';
import { finishedBefore, runOnce } from '../statements.js';

export const postSyncStep: DeepCopyStep = (c, s) => ({
  ...c.base(s),
  isDone: async (ctx) => (await finishedBefore(ctx, 'stmt:post-sync')) || c.dropped(ctx),
  run: async (ctx) => {
    const info = await runOnce(ctx, 'stmt:post-sync', { sql: fillStatement(sqlOf(s), c.values(ctx)) }, c.stmtName(ctx, 'post-sync'));
    return `${Math.max(0, info.resultRows)} row(s) deleted at the source just before the lock removed`;
  },
});
