/**
 * The updated_at delta's margin, through the sandbox: the catch-up rounds and the locked swap re-copy only the rows of the
 * margin window (updated_at ≥ the last mark) that DIFFER between t and new_t — and still catch every change the margin
 * exists for:
 *  - a source transaction that commits after a catch-up round with an updated_at older than the newest one the round saw
 *    (but inside the margin): it is in the window, differs, and is re-copied under the lock;
 *  - a second change stamped with the same updated_at as the one already copied (timestamps have a resolution): the
 *    row's other columns differ, so it is re-copied;
 *  - a row whose updated_at went backwards out of the window (its copy is in the window: found from new_t's side);
 *  - a row deleted at the source whose copy is in the window (found from new_t's side, not re-inserted).
 * Rows of the window that are the same on both sides are not written again: the round and the lock write as many rows
 * as changed, not as many as the margin holds.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Op } from '../../src/commands/types.js';
import { applyOps } from '../../src/modify/apply-ops.js';
import { applyDelta, deltaPlan, lockedSwapBatch } from '../../src/modify/delta.js';
import { copyRows, createNewTable } from '../../src/modify/sql.js';
import type { TableDef } from '../../src/schema/model.js';
import { renderCreateTable } from '../../src/schema/render.js';
import { loadRegistry } from '../../src/schema/registry.js';
import { withSandbox } from '../support/sandbox.js';

const sb = withSandbox('postgres', { purpose: 'modify_margin' });
let current: TableDef;

beforeAll(async () => {
  const reg = await loadRegistry();
  current = structuredClone(reg.find('core_list')!);
  current.name = 'margin_list';
  current.unique = [];
  await sb.run('CREATE SCHEMA ak_sumofus');
  await sb.run(renderCreateTable(current).replace(/;\s*$/, ''));
  // 20 rows stamped in January; 11..20 then share one recent stamp (the margin window after the copy mark)
  await sb.sandbox.sql(`
    insert into ak_sumofus.margin_list (id, created_at, updated_at, hidden, name, notes, is_default)
    select g, timestamp '2024-01-01' + g * interval '1 hour', timestamp '2024-01-01' + g * interval '1 hour', 0, 'list ' || g, null, 0
    from generate_series(1, 20) g`);
  await sb.sandbox.sql(`update ak_sumofus.margin_list set updated_at = timestamp '2024-02-01 12:00:00' where id > 10`);
});

const addNote: Op = { op: 'add_column', column: { name: 'note', type: 'varchar(20)', notNull: false, default: "'n/a'" } };

async function mark(sql: string): Promise<string> {
  const rows = await sb.query(sql);
  return String(rows[0]!.mark);
}

/** rows written by the batch's INSERT (the sub-statement's row count, as the Data API reports it) */
function inserted(sqls: string[], out: Awaited<ReturnType<typeof sb.batch>>): number {
  const i = sqls.findIndex((q) => q.startsWith('INSERT'));
  return Number(out.SubStatements?.[i]?.ResultRows ?? -1);
}

const CMP = 'id, created_at, updated_at, hidden, name, notes, is_default';

describe('the updated_at delta re-copies only the rows of the margin window that differ', () => {
  it('catches late commits inside the margin, same-stamp changes, stamps gone backwards and deletes — and writes only those', async () => {
    const r = applyOps(current, [addNote]);
    if (!r.ok) throw new Error(r.error);
    const { next, mapping } = r;
    const d = deltaPlan(current, next, mapping, { marginSeconds: 300 });
    if (d.kind !== 'updated_at') throw new Error(`expected an updated_at delta, got ${d.kind}`);

    // the copy: its mark is max(updated_at) − 300 s = 11:55, so the ten rows stamped 12:00 are in its window
    await sb.run(createNewTable(next, 'new_margin_list'));
    const copyMark = await mark(d.markQuery);
    expect(copyMark).toBe('2024-02-01 11:55:00');
    await sb.batch([copyRows(current, next, mapping, { from: 'margin_list', to: 'new_margin_list' })]);

    // during the copy two rows change (12:01)
    await sb.sandbox.sql(`update ak_sumofus.margin_list set notes = 'during copy', updated_at = timestamp '2024-02-01 12:01:00' where id = 3`);
    await sb.sandbox.sql(`update ak_sumofus.margin_list set notes = 'first', updated_at = timestamp '2024-02-01 12:01:00' where id = 6`);

    // a catch-up round: its next mark first (12:01 − 300 s), then the changes since the copy mark
    const roundMark = await mark(d.markQuery);
    expect(roundMark).toBe('2024-02-01 11:56:00');
    const round = applyDelta(current, next, mapping, d, { ts: copyMark }).sql;
    // the window holds 12 rows (11..20 unchanged, 3 and 6 changed): only the 2 that differ are written
    expect(inserted(round, await sb.batch(round))).toBe(2);

    // after the round, before the lock:
    // - a transaction that set updated_at to 11:58 commits late (older than the 12:01 the round saw, inside the margin)
    await sb.sandbox.sql(`update ak_sumofus.margin_list set notes = 'late', updated_at = timestamp '2024-02-01 11:58:00' where id = 5`);
    // - a second change within the same stamp as the copied one
    await sb.sandbox.sql(`update ak_sumofus.margin_list set notes = 'second' where id = 6`);
    // - a stamp that went backwards, out of the window (its copy, stamped 12:01, is in it)
    await sb.sandbox.sql(`update ak_sumofus.margin_list set notes = 'backwards', updated_at = timestamp '2024-01-01 03:00:00' where id = 3`);
    // - a row of the window deleted at the source
    await sb.sandbox.sql(`delete from ak_sumofus.margin_list where id = 12`);

    const locked = lockedSwapBatch(current, next, mapping, d, { mark: { ts: roundMark } });
    const out = await sb.batch(locked.sql);
    // under the lock: the 3 rows that differ are written again (3, 5, 6) — not the window's 11 unchanged rows
    expect(inserted(locked.sql, out)).toBe(3);
    const keysStatement = locked.sql.findIndex((q) => q.startsWith('DELETE FROM'));
    expect(Number(out.SubStatements?.[keysStatement]?.ResultRows)).toBe(4); // 3, 5, 6 and the deleted 12
    const swapMark = String((await sb.rows(`${out.Id}:${locked.swapMarkIndex! + 1}`)).rows[0]!.swap_mark);
    expect(swapMark).toBe('2024-02-01 12:01:00');

    // the swapped-in table holds exactly what t held under the lock (copied columns; the added one took its default)
    expect(await sb.query('SELECT id, notes, note FROM ak_sumofus.margin_list WHERE id IN (3, 5, 6, 12) ORDER BY id')).toEqual([
      { id: 3, notes: 'backwards', note: 'n/a' },
      { id: 5, notes: 'late', note: 'n/a' },
      { id: 6, notes: 'second', note: 'n/a' },
    ]);
    const differ = await sb.query(
      `SELECT count(*) AS n FROM ((SELECT ${CMP} FROM ak_sumofus.margin_list EXCEPT SELECT ${CMP} FROM ak_sumofus.old_margin_list) UNION ALL (SELECT ${CMP} FROM ak_sumofus.old_margin_list EXCEPT SELECT ${CMP} FROM ak_sumofus.margin_list)) AS x`,
    );
    expect(Number(differ[0]!.n)).toBe(0);
    expect(Number((await sb.query('SELECT count(*) AS n FROM ak_sumofus.margin_list'))[0]!.n)).toBe(19);
  });

});
