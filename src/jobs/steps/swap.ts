/**
 * Deep copy: the swap in ONE batch (dms, rename-first: renames; live copy: lock, apply the delta since the last mark,
 * record swap mark / checksum under the lock, renames). Only the LOCK TABLE timing out is retried. Undo swaps back,
 * carrying the changes made to the new table since the swap into old_<t> first (the plan's swap-back), and refuses
 * after the drop: the old data is gone.
 */
import { reverseFull } from '../../modify/delta.js';
import { fillBatch } from '../../modify/run-values.js';
import { swapBackBatch } from '../../modify/sql.js';
import { qualified } from '../../schema/identifiers.js';
import { lockWaitTimedOut } from '../lock-timeout.js';
import { runOnce } from '../statements.js';
import { batchOf, type DeepCopyContext, type DeepCopyStep, type Ctx } from './deep-copy-context.js';

/** The plan's swap-back batch (warnings said), under handle stmt:swap-back; shared by swap and rename-in. */
export async function swapBack(c: DeepCopyContext, ctx: Ctx, batch?: string[]): Promise<void> {
  let b = batch;
  if (b === undefined) {
    const back = c.rollbackOf('swap-back');
    for (const w of back.warnings ?? []) await ctx.note(`warning: ${w}`);
    b = fillBatch(batchOf(back), c.values(ctx));
  }
  const info = await runOnce(ctx, 'stmt:swap-back', { batch: b }, c.stmtName(ctx, 'swap back'));
  await ctx.note(`swapped back: ${c.name} is the old table again (statement ${info.id})`);
}

export const swapStep: DeepCopyStep = (c, s) => ({
  ...c.base(s),
  isDone: async (ctx) => {
    if (c.dropped(ctx)) return true;
    if (!(await c.swapped(ctx))) return false;
    // swapped, but a worker died before reading its swap mark (even before recording the statement id): run again —
    // runOnce finds the finished statement by its recorded id, or resubmits with the same ClientToken and gets the
    // same statement back (nothing runs twice), and the mark is read from it
    const needsMark = c.live && c.plan.delta !== undefined && c.plan.delta.kind !== 'full' && ctx.handles['swapMark'] === undefined;
    const needsChecksum = c.live && c.plan.delta?.kind === 'full' && ctx.handles['swapChecksum'] === undefined;
    return !(needsMark || needsChecksum);
  },
  run: async (ctx) => {
    const wh = ctx.deps.warehouse;
    const batch = fillBatch(batchOf(s), c.values(ctx));
    if (!c.live) {
      const info = await runOnce(ctx, 'stmt:swap', { batch }, c.stmtName(ctx, 'swap'));
      await ctx.setHandle('swappedAt', String(Date.now()));
      return `swapped in one transaction (statement ${info.id})`;
    }
    const markIndex = c.plan.swapMarkIndex;
    const checksumIndex = c.plan.checksumIndex;
    let info;
    for (let attempt = 1; ; attempt++) {
      try {
        info = await runOnce(ctx, 'stmt:swap', { batch }, c.stmtName(ctx, 'swap'));
        break;
      } catch (e) {
        if (ctx.signal.aborted || attempt >= 10) throw e;
        // only the LOCK TABLE (the batch's 2nd statement, under the statement_timeout) timing out is retried
        const failedId = ctx.handles['stmt:swap'];
        const failed = failedId === undefined ? undefined : await wh.describe(failedId).catch(() => undefined);
        if (!lockWaitTimedOut(failed, 1)) throw e;
        await ctx.note(`the lock on ${c.name} waited more than ${c.settings.swapLockTimeoutMs} ms behind other sessions; retrying (${attempt}/10)`);
        await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * 2 ** attempt)));
      }
    }
    await ctx.setHandle('swappedAt', String(Date.now()));
    if (markIndex !== undefined) {
      const res = await wh.fetch(`${info.id}:${markIndex + 1}`);
      const v = res.rows[0]?.swap_mark;
      await ctx.setHandle('swapMark', v === null || v === undefined ? (ctx.handles['copyMark'] ?? '1900-01-01 00:00:00') : String(v));
    }
    if (checksumIndex !== undefined) {
      const res = await wh.fetch(`${info.id}:${checksumIndex + 1}`);
      if (!res.rows[0]) throw new Error(`the swap batch's checksum of ${c.newTable} (sub-statement ${checksumIndex + 1}) returned no row`);
      await ctx.setHandle('swapChecksum', JSON.stringify(res.rows[0]));
    }
    const sub = info.subStatements ?? [];
    const lockMs = sub.slice(1, -2).reduce((a, x) => a + (x.durationMs ?? 0), 0);
    return `locked, applied the delta and swapped in one transaction (statement ${info.id}; ≈${Math.round(lockMs)} ms under the lock)`;
  },
  undo: async (ctx) => {
    const n = await c.names(ctx);
    if (c.dropped(ctx) || (!n.ot && n.t && !n.nt && ctx.handles['swappedAt'])) throw new Error(`${c.oldTable} was dropped: the old data is gone and there is nothing to swap back to`);
    if (!(n.t && n.ot && !n.nt)) return; // not swapped (or already swapped back)
    // the plan's swap-back: the changes replication applied to the new table since the swap go back into old_<t>
    // first, in the same transaction — by updated_at since the swap mark when the live copy has it, else by
    // comparing the tables on the primary key (a DMS task is stopped by now — resume-task was undone — and a live
    // cdc table is locked by the batch)
    if (c.live && c.plan.delta?.kind === 'updated_at' && ctx.handles['swapMark'] === undefined) {
      // swapped, but the worker died before recording the swap mark: not the printed statements — compare instead
      const rev = reverseFull(c.plan.current, c.plan.next, c.plan.mapping);
      if (!rev.ok) await ctx.note(`warning: changes made to the new ${c.name} since the swap are not carried back: ${rev.reason}`);
      else await ctx.note(`the swap mark was not recorded: changes made since the swap are found by comparing the tables`);
      await swapBack(c, ctx, [`LOCK TABLE ${qualified(c.schema, c.name)}`, ...swapBackBatch(c.schema, c.name, rev.ok ? rev.sql : [])]);
      return;
    }
    await swapBack(c, ctx);
  },
});
