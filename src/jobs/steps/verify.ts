/**
 * Deep copy: verify new_<t> against the table before the swap, with the plan's own checksum queries (marks filled),
 * plus the duplicate-key check. Says exactly what it compared; 0 rows compared is a warning. For dms and rename-first
 * it records new_<t>'s checksum (`verifyNew`): nothing writes new_<t> until the swap, so post-verify compares old_<t>
 * with it.
 */
import { fillStatement } from '../../modify/run-values.js';
import { compareChecksums } from '../../modify/sql.js';
import { num, type DeepCopyStep } from './deep-copy-context.js';

export const verifyStep: DeepCopyStep = (c, s) => ({
  ...c.base(s),
  isDone: async (ctx) => (await c.swapped(ctx)) || c.dropped(ctx),
  run: async (ctx) => {
    const { plan, live, name, newTable } = c;
    const d = plan.delta;
    const from = c.renameFirst ? c.oldTable : name;
    const spec = plan.verify;
    if (!spec) throw new Error('the plan has no verify queries');
    const wh = ctx.deps.warehouse;
    const v = c.values(ctx);
    const opts = { name: c.stmtName(ctx, 'verify') };
    const sums = await wh.query(fillStatement(spec.checksums, v), undefined, opts);
    const problems = compareChecksums(spec, sums.rows);
    const whileWriting = live && d?.kind === 'full';
    // rows changing during a full-delta live copy are reconciled under the lock: a difference here is reported, not fatal
    if (!whileWriting && problems.length) throw new Error(`the copy does not match ${name}; nothing was swapped:\n${problems.join('\n')}`);
    // the new table's checksum: nothing writes new_<t> between here and the swap when the task is stopped (dms) or
    // the name is missing (rename-first), so the post-swap verification compares old_<t> with it
    const newRow = sums.rows.find((r) => r.side === 'new');
    if (!live && newRow) await ctx.setHandle('verifyNew', JSON.stringify(newRow));
    if (spec.duplicatesNew) {
      const dupNew = await wh.query(fillStatement(spec.duplicatesNew, v), undefined, opts);
      const dupOld = spec.duplicatesOld ? await wh.query(fillStatement(spec.duplicatesOld, v), undefined, opts) : { rows: [] };
      const oldKeys = new Set(dupOld.rows.map((r) => JSON.stringify(Object.values(r).slice(0, -1))));
      const fresh = dupNew.rows.filter((r) => !oldKeys.has(JSON.stringify(Object.values(r).slice(0, -1))));
      if (fresh.length) throw new Error(`the copy has duplicate primary keys the old table does not have: ${fresh.map((r) => JSON.stringify(r)).join(', ')}`);
      if (dupOld.rows.length) await ctx.note(`warning: ${name} itself has duplicate primary keys (${dupOld.rows.length}+ keys); the copy keeps them`);
    }
    const n = num(sums.rows.find((r) => r.side === 'old')?.row_count);
    const rows = n.toLocaleString('en-US');
    const cols = `${spec.columns.length} column${spec.columns.length === 1 ? '' : 's'}`;
    const notes = spec.notes.length ? ` (${spec.notes.join('; ')})` : '';
    const range =
      live && d?.kind === 'updated_at'
        ? ` (${d.column} < copy mark ${ctx.handles['copyMark'] ?? '?'})`
        : live && d?.kind === 'append-id'
          ? ` (${d.column} ≤ copy mark ${ctx.handles['copyMark'] ?? '?'})`
          : '';
    if (n === 0) {
      const why = range ? `every row of ${from} changed after the copy mark` : `${from} is empty`;
      return { status: 'warn', detail: `compared 0 rows of ${from} with ${newTable}${range}: nothing was verified before the swap — ${why}; the post-swap verification compares the rows` };
    }
    if (whileWriting && problems.length)
      return {
        status: 'warn',
        detail: `compared all ${rows} rows of ${from} with ${newTable} while replication kept writing, ${cols}: they differ (${problems.join('; ')}) — expected for rows changed during the copy: the locked swap reconciles them and the post-swap verification compares every row`,
      };
    const all = range ? '' : 'all ';
    return `compared ${all}${rows} rows of ${from} with ${newTable}${range}${whileWriting ? ' while replication kept writing' : ''}, ${cols}: row counts and per-column checksums match${notes}`;
  },
});
