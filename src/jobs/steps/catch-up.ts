/**
 * Deep copy, live copy: catch-up rounds before the locked swap — each round reads the next mark (recorded before the
 * delta is applied, so a retried round applies the same delta again and ends at the same mark) and applies the delta
 * since the last; rounds stop once one applied fewer rows than catchUp.rows, or after catchUp.rounds.
 */
import { fillBatch } from '../../modify/run-values.js';
import { batchOf, queryOf, sqlOf, type DeepCopyStep } from './deep-copy-context.js';
import { runOnce } from '../statements.js';

/** rows a catch-up round put into new_<t>: the row count of the batch's INSERT (the plan's statement of that index) */
function appliedRows(batch: readonly string[], subs: ReadonlyArray<{ resultRows: number }>): number {
  const i = batch.findIndex((x) => /^\s*INSERT\b/i.test(x));
  return Math.max(0, subs[i]?.resultRows ?? 0);
}

export const catchUpStep: DeepCopyStep = (c, s) => ({
  ...c.base(s),
  // a finished catch-up is recorded; after the swap there is nothing left to catch up
  isDone: async (ctx) => ctx.handles['catchupDone'] === '1' || (await c.swapped(ctx)) || c.dropped(ctx),
  run: async (ctx) => {
    const wh = ctx.deps.warehouse;
    const { rows: enough, rounds: most } = c.catchUp;
    await runOnce(ctx, 'stmt:catch-up-analyze', { sql: sqlOf(s) }, c.stmtName(ctx, 'catch-up'));
    const done: string[] = [];
    let round = Number(ctx.handles['catchupRound'] ?? '0');
    for (;;) {
      round++;
      // the mark first, recorded before the delta is applied: a retried round applies the same delta again
      // (deleting and re-inserting the same rows: idempotent) and ends at the same mark
      if (!ctx.handles['catchupNext']) {
        const r = await wh.query(queryOf(s), undefined, { name: c.stmtName(ctx, `catch-up ${round}`) });
        const v = r.rows[0]?.mark;
        await ctx.setHandle('catchupNext', v === null || v === undefined ? (c.plan.delta?.kind === 'append-id' ? '0' : '1900-01-01 00:00:00') : String(v));
      }
      // each round's marks stay on record: what the round sent can be read back against the plan
      await ctx.setHandle(`catchupFrom:${round}`, ctx.handles['catchupMark'] ?? ctx.handles['copyMark'] ?? '');
      await ctx.setHandle(`catchupTo:${round}`, ctx.handles['catchupNext']!);
      const info = await runOnce(ctx, `stmt:catch-up-${round}`, { batch: fillBatch(batchOf(s), c.values(ctx)) }, c.stmtName(ctx, `catch-up ${round}`));
      const applied = appliedRows(batchOf(s), info.subStatements ?? []);
      await ctx.setHandle('catchupMark', ctx.handles['catchupNext']!);
      await ctx.setHandle('catchupNext', '');
      await ctx.setHandle('catchupRound', String(round));
      done.push(`round ${round}: ${applied.toLocaleString('en-US')} row(s)`);
      if (applied < enough || round >= most) break;
    }
    await ctx.setHandle('catchupDone', '1');
    return `${done.join('; ')}; the locked swap applies the changes since ${ctx.handles['catchupMark']}`;
  },
});
