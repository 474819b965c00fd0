/**
 * The modify planner's SQL run for real: core_action (and core_list for a rollback) created from schemas/ in the sandbox
 * (Redshift Data API over PostgreSQL), driven through the real RedshiftDataClient, step by step as a runbook would:
 * narrowing check → create new_<t> → copy mark → copy → (changes while live) → pre-sync → verify → locked swap with the
 * delta and the re-grants → post-sync → late-writes check → full comparison → drop old_<t> + re-created foreign keys;
 * and a rollback that carries the new table's changes back.
 *
 * FNV_HASH: Redshift's is a 64-bit FNV-1a of the value's binary form; the sandbox does not provide one (yet), so this
 * file installs a type-aware stand-in (md5 of type + text → bigint) in the test database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/commands/index.js';
import { deltaPlan, lateWritesToOld, lockedSwapBatch, postSwapDeleteSync, preSwapDeleteSync, reverseDelta } from '../../src/modify/delta.js';
import { planModify } from '../../src/modify/planner.js';
import { ACL_QUERY, parseAcl } from '../../src/modify/grants.js';
import {
  compareChecksums,
  copyRows,
  createNewTable,
  dropOldAndRecreateFks,
  narrowingChecks,
  narrowingMessage,
  swapBackBatch,
  verifyQueries,
} from '../../src/modify/sql.js';
import type { ModifyPlan } from '../../src/modify/types.js';
import { renderCreateTable } from '../../src/schema/render.js';
import { loadRegistry, referencingTables, type Registry } from '../../src/schema/registry.js';
import { temporaryRole, withSandbox } from '../support/sandbox.js';

const role = temporaryRole('rso_analysts');

const sb = withSandbox('postgres', { purpose: 'modify_sql' });
let reg: Registry;

beforeAll(async () => {
  reg = await loadRegistry();
  await sb.sandbox.sql(`
    create or replace function public.fnv_hash(v anyelement) returns bigint language sql immutable as $$
      select ('x' || substr(md5(pg_typeof(v)::text || ':' || v::text), 1, 16))::bit(64)::bigint
    $$`);
  await sb.run('CREATE SCHEMA ak_sumofus');
  for (const t of ['core_action', 'core_list']) await sb.run(renderCreateTable(reg.find(t)!).replace(/;\s*$/, ''));
  // without its foreign key: the sandbox's DROP TABLE … CASCADE does not yet drop the foreign keys of other tables that
  // point at the dropped table (Redshift's does), so a re-created key would collide with the stale one there
  await sb.run(renderCreateTable(reg.find('core_actionfield')!, { constraints: false }).replace(/;\s*$/, ''));
  // 300 actions, 2 fields each; created/updated in 2024, some links NULL, sources of varying length
  await sb.sandbox.sql(`
    insert into ak_sumofus.core_action (id, created_at, updated_at, user_id, mailing_id, page_id, link, source, opq_id, created_user,
      subscribed_user, referring_user_id, referring_mailing_id, taf_emails_sent, status, is_forwarded, ip_address)
    select g, timestamp '2024-01-01' + g * interval '1 minute', timestamp '2024-01-01' + g * interval '1 minute', g % 37, nullif(g % 5, 0),
      g % 11, case when g % 3 = 0 then null else g * 1000 end, 'src-' || repeat('x', g % 30), 'opq' || g, g % 2, 1, null, null, null,
      'complete', 0, '10.0.0.' || (g % 250)
    from generate_series(1, 300) g`);
  await sb.sandbox.sql(`insert into ak_sumofus.core_actionfield (id, parent_id, name, value) select g, (g + 1) / 2, 'f' || (g % 2), 'v' || g from generate_series(1, 600) g`);
  await sb.sandbox.sql(`
    insert into ak_sumofus.core_list (id, created_at, updated_at, hidden, name, notes, is_default)
    select g, timestamp '2024-01-01' + g * interval '1 hour', timestamp '2024-01-01' + g * interval '1 hour', 0, 'list ' || g, null, 0
    from generate_series(1, 20) g`);
  await sb.sandbox.sql(`grant select on ak_sumofus.core_action to ${role}`);
});

function planOf(text: string): ModifyPlan {
  const r = parseCommand(text, { registry: reg });
  if (!r.ok || r.command.kind !== 'modify') throw new Error(`${text}: ${r.ok ? 'not a modify' : r.error.message}`);
  const current = reg.find(r.command.table.name)!;
  const p = planModify({ current, ops: r.command.ops, deepCopy: r.command.deepCopy, referencing: referencingTables(reg, current.schema, current.name) });
  if (!p.ok) throw new Error(p.error);
  return p;
}

const one = async (sql: string, params?: Record<string, string>): Promise<Record<string, unknown>> => {
  const rows = await sb.query(sql, params);
  expect(rows).toHaveLength(1);
  return rows[0]!;
};

describe('deep copy of core_action through the sandbox', () => {
  const text = "modify core_action alter column link type bigint, rename column opq_id to opaque_id, alter column source type varchar(40), add column note varchar(20) default 'n/a'";

  it('runs create → copy → verify → locked swap → syncs → drop, losing no change', async () => {
    const p = planOf(text);
    expect(p.mode).toBe('deep-copy');
    expect(p.delta?.kind).toBe('updated_at');
    const { current, next, mapping } = p;

    // the narrowing check finds the one row too long for varchar(40), then passes once it is fixed
    await sb.sandbox.sql(`update ak_sumofus.core_action set source = repeat('y', 50) where id = 7`);
    const checks = narrowingChecks(current, mapping);
    expect(checks).toHaveLength(1);
    const bad = await one(checks[0]!.sql);
    expect(narrowingMessage(checks[0]!, { offending: bad.offending, worst: bad.worst })).toMatch(/^1 row of core_action\.source is longer than 40 bytes; the longest is 50 bytes/);
    await sb.sandbox.sql(`update ak_sumofus.core_action set source = 'short' where id = 7`);
    const good = await one(checks[0]!.sql);
    expect(narrowingMessage(checks[0]!, { offending: good.offending, worst: good.worst })).toBeUndefined();

    // grants as the catalog reports them (PostgreSQL letters in the sandbox)
    const aclRow = await one(ACL_QUERY, { schema: 'ak_sumofus', table: 'core_action' });
    const acl = parseAcl(aclRow.acl as string, 'postgres');
    expect(acl.ok).toBe(true);
    if (!acl.ok) return;
    expect(acl.grants.map((g) => g.grantee)).toContain(role);

    // create, mark, copy
    await sb.run(createNewTable(next, 'new_core_action'));
    const d = deltaPlan(current, next, mapping, { marginSeconds: 60 });
    if (d.kind !== 'updated_at') throw new Error('expected an updated_at delta');
    const mark = String((await one(d.markQuery)).mark);
    expect(mark).toMatch(/^2024-01-01 04:\d\d:00$/); // max(updated_at) 05:00 minus 60 s
    const copy = p.steps.find((s) => s.name === 'copy')!.actions[0]!;
    expect(copy.kind).toBe('batch');
    if (copy.kind === 'batch') await sb.batch(copy.sql);
    expect((await one('SELECT count(*) AS n FROM ak_sumofus.new_core_action')).n).toBe(300);

    // replication keeps writing while the copy is "running": an update, an insert, a delete, an old row touched
    await sb.sandbox.sql(`update ak_sumofus.core_action set status = 'refunded', updated_at = timestamp '2024-02-01' where id = 10`);
    await sb.sandbox.sql(`
      insert into ak_sumofus.core_action (id, created_at, updated_at, user_id, page_id, link, source, opq_id, created_user, subscribed_user, status, is_forwarded)
      values (301, timestamp '2024-02-01', timestamp '2024-02-01 00:00:01', 5, 3, 2147483647, 'late', 'opq301', 0, 1, 'complete', 0)`);
    await sb.sandbox.sql(`delete from ak_sumofus.core_action where id in (20, 21)`);

    // pre-sync (no lock) removes what the source deleted; verify compares the rows that cannot have changed
    const pre = preSwapDeleteSync(current, next, d)!;
    await sb.run(pre);
    expect((await one('SELECT count(*) AS n FROM ak_sumofus.new_core_action WHERE id IN (20, 21)')).n).toBe(0);
    const v = verifyQueries(current, next, mapping, { oldTable: 'core_action', newTable: 'new_core_action', stable: { column: 'updated_at', op: '<', mark: { ts: mark } } });
    expect(compareChecksums(v, await sb.query(v.checksums))).toEqual([]);
    expect(await sb.query(v.duplicatesNew!)).toEqual([]);

    // a copy gone wrong is caught: corrupt one value in new_core_action, verify names the column, repair it
    await sb.sandbox.sql(`update ak_sumofus.new_core_action set opaque_id = 'tampered' where id = 2`);
    expect(compareChecksums(v, await sb.query(v.checksums))).toEqual([expect.stringMatching(/^column opaque_id: the values differ/)]);
    await sb.sandbox.sql(`update ak_sumofus.new_core_action set opaque_id = 'opq2' where id = 2`);

    // the locked swap: delta + renames + re-grants in ONE batch; the swap mark comes back from sub-statement 4
    const locked = lockedSwapBatch(current, next, mapping, d, { mark: { ts: mark }, grants: acl.grants, skip: [String(aclRow.owner)] });
    const batch = await sb.batch(locked.sql);
    const swapMark = String((await sb.rows(`${batch.Id}:${locked.swapMarkIndex! + 1}`)).rows[0]!.swap_mark);
    expect(swapMark).toBe('2024-02-01 00:00:01');
    const names = await sb.query("SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'ak_sumofus' AND relname LIKE '%core_action' ORDER BY 1");
    expect(names.map((r) => r.relname)).toEqual(['core_action', 'old_core_action']);
    expect((await one(`SELECT has_table_privilege('${role}', 'ak_sumofus.core_action', 'SELECT') AS ok`)).ok).toBe(true);

    // after the swap: post-sync, no late writes to old_core_action, then old and new agree row for row
    await sb.run(postSwapDeleteSync(current, next, d, { ts: mark })!);
    const late = lateWritesToOld(current, next, mapping, d, { ts: swapMark })!;
    expect((await one(late.check)).late_rows).toBe(0);
    const all = verifyQueries(current, next, mapping, { oldTable: 'old_core_action', newTable: 'core_action' });
    expect(compareChecksums(all, await sb.query(all.checksums))).toEqual([]);
    const row10 = await one("SELECT status, opaque_id, note, link FROM ak_sumofus.core_action WHERE id = 10");
    expect(row10).toEqual({ status: 'refunded', opaque_id: 'opq10', note: 'n/a', link: 10000 });
    expect((await one('SELECT count(*) AS n FROM ak_sumofus.core_action')).n).toBe(299);
    expect((await one("SELECT data_type FROM information_schema.columns WHERE table_schema = 'ak_sumofus' AND table_name = 'core_action' AND column_name = 'link'")).data_type).toBe('bigint');

    // a write that lands in old_core_action after the swap is found and moved over
    await sb.sandbox.sql(`update ak_sumofus.old_core_action set status = 'late-fix', updated_at = timestamp '2024-03-01' where id = 11`);
    expect((await one(late.check)).late_rows).toBe(1);
    await sb.batch(late.move);
    expect((await one('SELECT status FROM ak_sumofus.core_action WHERE id = 11')).status).toBe('late-fix');
    expect((await one('SELECT count(*) AS n FROM ak_sumofus.core_action')).n).toBe(299);

    // drop old_core_action and (re-)create core_actionfield's foreign key on the new table, in one batch
    expect(p.foreignKeys.map((f) => f.table)).toContain('core_actionfield');
    const present = p.foreignKeys.filter((f) => f.table === 'core_actionfield');
    await sb.batch(dropOldAndRecreateFks('ak_sumofus', 'core_action', present));
    const fks = await sb.query("SELECT ref_table, ref_columns FROM svv_sandbox_constraints WHERE \"table\" = 'core_actionfield' AND kind = 'f'");
    expect(fks).toContainEqual({ ref_table: 'core_action', ref_columns: 'id' });
  });
});

describe('rollback of a live swap of core_list through the sandbox', () => {
  it('carries the rows changed since the swap back into the old table and swaps the names back', async () => {
    const p = planOf('modify core_list rename column notes to remarks, alter column id type bigint');
    const { current, next, mapping } = p;
    const d = deltaPlan(current, next, mapping);
    await sb.run(createNewTable(next, 'new_core_list'));
    const mark = String((await one(d.kind === 'updated_at' ? d.markQuery : 'SELECT 1')).mark);
    await sb.batch([`DELETE FROM ak_sumofus.new_core_list`, copyRows(current, next, mapping, { from: 'core_list', to: 'new_core_list' })]);
    const locked = lockedSwapBatch(current, next, mapping, d, { mark: { ts: mark } });
    const b = await sb.batch(locked.sql);
    const swapMark = String((await sb.rows(`${b.Id}:${locked.swapMarkIndex! + 1}`)).rows[0]!.swap_mark);

    // replication writes to the new table after the swap
    await sb.sandbox.sql(`update ak_sumofus.core_list set remarks = 'after swap', updated_at = timestamp '2025-01-01' where id = 3`);
    await sb.sandbox.sql(`insert into ak_sumofus.core_list (id, created_at, updated_at, hidden, name, remarks, is_default) values (21, now(), timestamp '2025-01-02', 0, 'list 21', 'new', 0)`);

    const rev = reverseDelta(current, next, mapping, d, { ts: swapMark });
    expect(rev.ok).toBe(true);
    if (!rev.ok) return;
    await sb.batch([`LOCK TABLE ak_sumofus.core_list`, ...swapBackBatch('ak_sumofus', 'core_list', rev.sql)]);
    expect(await sb.query("SELECT id, notes FROM ak_sumofus.core_list WHERE id IN (3, 21) ORDER BY id")).toEqual([
      { id: 3, notes: 'after swap' },
      { id: 21, notes: 'new' },
    ]);
    expect((await one('SELECT count(*) AS n FROM ak_sumofus.core_list')).n).toBe(21);
    expect((await one("SELECT count(*) AS n FROM pg_class WHERE relname = 'new_core_list'")).n).toBe(1);
  });
});
