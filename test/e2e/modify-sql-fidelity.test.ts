/**
 * Redshift fidelity of the deep copy's SQL, run for real through the sandbox (Data API over PostgreSQL, which refuses
 * what Redshift refuses): NULL keys (NOT IN (subquery) with a NULL matches nothing — a silent no-op), multi-column
 * keys (Redshift's IN takes a one-column subquery), timestamptz change columns, key columns whose type the change
 * converts (every comparison across old and new keys casts to the new type), and the swap batch with many grantees
 * (BatchExecuteStatement takes at most 40 statements; the swap stays ONE transaction).
 *
 * Each table is a copy of core_list's definition under another name, changed where the case needs it.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Op } from '../../src/commands/types.js';
import { applyOps } from '../../src/modify/apply-ops.js';
import { deltaPlan, lateWritesToOld, lockedSwapBatch, postSwapDeleteSync, preSwapDeleteSync, reverseDelta, reverseFull } from '../../src/modify/delta.js';
import { ACL_QUERY, parseAcl } from '../../src/modify/grants.js';
import { compareChecksums, copyRows, createNewTable, swapBackBatch, swapBatch, verifyQueries } from '../../src/modify/sql.js';
import type { ColumnSource, DeltaPlan } from '../../src/modify/types.js';
import type { TableDef } from '../../src/schema/model.js';
import { renderCreateTable } from '../../src/schema/render.js';
import { loadRegistry } from '../../src/schema/registry.js';
import { ADMIN_URL, withSandbox } from '../support/sandbox.js';

const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;
const roles = Array.from({ length: 45 }, (_, i) => `rso_fid_${tag}_${i}`);

// registered before withSandbox: after-hooks run in reverse order, so the roles are dropped after the database
afterAll(async () => {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    for (const r of roles) await admin.query(`drop role if exists ${r}`);
  } finally {
    await admin.end();
  }
});

const sb = withSandbox('postgres', { purpose: 'modify_fidelity' });
let base: TableDef;

beforeAll(async () => {
  const reg = await loadRegistry();
  base = structuredClone(reg.find('core_list')!);
  base.unique = [];
  await sb.run('CREATE SCHEMA ak_sumofus');
});

/** core_list's definition as `name`, changed by `edit`, created and filled with ids 1..n (updated in 2024). */
async function table(name: string, edit: (t: TableDef) => void = () => {}, n = 20): Promise<TableDef> {
  const t = structuredClone(base);
  t.name = name;
  edit(t);
  await sb.run(renderCreateTable(t).replace(/;\s*$/, ''));
  await sb.sandbox.sql(`
    insert into ak_sumofus.${name} (id, created_at, updated_at, hidden, name, notes, is_default)
    select g, timestamp '2024-01-01' + g * interval '1 hour', timestamp '2024-01-01' + g * interval '1 hour', 0, 'list ' || g, null, 0
    from generate_series(1, ${n}) g`);
  return t;
}

function change(current: TableDef, ops: Op[]): { next: TableDef; mapping: ColumnSource[] } {
  const r = applyOps(current, ops);
  if (!r.ok) throw new Error(r.error);
  return { next: r.next, mapping: r.mapping };
}

const addNote: Op = { op: 'add_column', column: { name: 'note', type: 'varchar(20)', notNull: false, default: "'n/a'" } };

async function one(sql: string, params?: Record<string, string>): Promise<Record<string, unknown>> {
  const rows = await sb.query(sql, params);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

/** create new_<t>, read the copy mark, copy: the live copy up to the locked swap */
async function copyLive(current: TableDef, next: TableDef, mapping: ColumnSource[]): Promise<{ d: DeltaPlan; mark: string }> {
  await sb.run(createNewTable(next, `new_${current.name}`));
  const d = deltaPlan(current, next, mapping, { marginSeconds: 0 });
  const mark = d.kind === 'full' ? '' : String((await one(d.markQuery)).mark);
  await sb.batch([`DELETE FROM ak_sumofus.new_${current.name}`, copyRows(current, next, mapping, { from: current.name, to: `new_${current.name}` })]);
  return { d, mark };
}

describe('deep-copy SQL on Redshift terms, through the sandbox', () => {
  it('a NULL key in the table does not turn the delete syncs into silent no-ops', async () => {
    const current = await table('fid_nullkey', (t) => {
      t.columns[0]!.notNull = false;
    });
    const { next, mapping } = change(current, [addNote]);
    const { d, mark } = await copyLive(current, next, mapping);
    // during the copy the source deletes id 5, and a row with no id arrives
    await sb.sandbox.sql(`delete from ak_sumofus.fid_nullkey where id = 5`);
    await sb.sandbox.sql(`insert into ak_sumofus.fid_nullkey (id, created_at, updated_at, hidden, name, is_default) values (null, now(), timestamp '2025-01-01', 0, 'no id', 0)`);
    await sb.run(preSwapDeleteSync(current, next, d)!);
    expect((await one('SELECT count(*) AS n FROM ak_sumofus.new_fid_nullkey WHERE id = 5')).n).toBe(0);

    // the swap, then a delete at the source just before the lock: the post-swap sync still finds it
    const locked = lockedSwapBatch(current, next, mapping, d, { mark: { ts: mark } });
    await sb.sandbox.sql(`delete from ak_sumofus.fid_nullkey where id = 6`);
    await sb.batch(locked.sql);
    await sb.run(postSwapDeleteSync(current, next, d, { ts: mark })!);
    expect((await one('SELECT count(*) AS n FROM ak_sumofus.fid_nullkey WHERE id = 6')).n).toBe(0);

    // a rollback's reverse statements: a key the new table no longer has leaves the old one
    await sb.sandbox.sql(`delete from ak_sumofus.fid_nullkey where id = 7`);
    const rev = reverseFull(current, next, mapping);
    if (!rev.ok) throw new Error(rev.reason);
    await sb.batch(swapBackBatch('ak_sumofus', 'fid_nullkey', rev.sql));
    expect((await one('SELECT count(*) AS n FROM ak_sumofus.fid_nullkey WHERE id = 7')).n).toBe(0);
    expect((await one('SELECT count(*) AS n FROM ak_sumofus.fid_nullkey WHERE id IS NOT NULL')).n).toBe(17);
  });

  it('a two-column primary key runs through pre-sync, verify, the locked swap, late writes and the reverse delta', async () => {
    const current = await table('fid_pair', (t) => {
      t.primaryKey = ['id', 'name'];
    });
    const { next, mapping } = change(current, [addNote]);
    const { d, mark } = await copyLive(current, next, mapping);
    if (d.kind !== 'updated_at') throw new Error('expected an updated_at delta');
    await sb.sandbox.sql(`update ak_sumofus.fid_pair set notes = 'changed', updated_at = timestamp '2025-01-01' where id = 3`);
    await sb.sandbox.sql(`delete from ak_sumofus.fid_pair where id = 4`);
    await sb.run(preSwapDeleteSync(current, next, d)!);
    const v = verifyQueries(current, next, mapping, { oldTable: 'fid_pair', newTable: 'new_fid_pair', stable: { column: 'updated_at', op: '<', mark: { ts: mark } } });
    expect(compareChecksums(v, await sb.query(v.checksums))).toEqual([]);
    const locked = lockedSwapBatch(current, next, mapping, d, { mark: { ts: mark } });
    const b = await sb.batch(locked.sql);
    const swapMark = String((await sb.rows(`${b.Id}:${locked.swapMarkIndex! + 1}`)).rows[0]!.swap_mark);
    expect(await sb.query('SELECT id, notes, note FROM ak_sumofus.fid_pair WHERE id IN (3, 4) ORDER BY id')).toEqual([{ id: 3, notes: 'changed', note: 'n/a' }]);
    const late = lateWritesToOld(current, next, mapping, d, { ts: swapMark })!;
    await sb.sandbox.sql(`update ak_sumofus.old_fid_pair set notes = 'late', updated_at = timestamp '2026-01-01' where id = 8`);
    expect((await one(late.check)).late_rows).toBe(1);
    await sb.batch(late.move);
    expect((await one('SELECT notes FROM ak_sumofus.fid_pair WHERE id = 8')).notes).toBe('late');
    const rev = reverseDelta(current, next, mapping, d, { ts: swapMark });
    if (!rev.ok) throw new Error(rev.reason);
    await sb.sandbox.sql(`update ak_sumofus.fid_pair set notes = 'after swap', updated_at = timestamp '2027-01-01' where id = 9`);
    await sb.batch([`LOCK TABLE ak_sumofus.fid_pair`, ...swapBackBatch('ak_sumofus', 'fid_pair', rev.sql)]);
    expect((await one('SELECT notes FROM ak_sumofus.fid_pair WHERE id = 9')).notes).toBe('after swap');
  });

  it('a timestamptz updated_at gives marks the bot can use, and the live swap finds the changed rows by it', async () => {
    const current = await table('fid_tz', (t) => {
      t.columns.find((c) => c.name === 'updated_at')!.type = 'timestamptz';
    });
    const { next, mapping } = change(current, [addNote]);
    const { d, mark } = await copyLive(current, next, mapping);
    expect(mark).toBe('2024-01-01 20:00:00');
    await sb.sandbox.sql(`update ak_sumofus.fid_tz set notes = 'changed', updated_at = timestamptz '2025-01-01 12:00:00+00' where id = 2`);
    const locked = lockedSwapBatch(current, next, mapping, d, { mark: { ts: mark } });
    const b = await sb.batch(locked.sql);
    const swapMark = String((await sb.rows(`${b.Id}:${locked.swapMarkIndex! + 1}`)).rows[0]!.swap_mark);
    expect(swapMark).toBe('2025-01-01 12:00:00');
    expect((await one('SELECT notes FROM ak_sumofus.fid_tz WHERE id = 2')).notes).toBe('changed');
    const late = lateWritesToOld(current, next, mapping, d, { ts: swapMark })!;
    expect((await one(late.check)).late_rows).toBe(0);
    await sb.run(postSwapDeleteSync(current, next, d, { ts: mark })!);
    expect((await one('SELECT count(*) AS n FROM ak_sumofus.fid_tz')).n).toBe(20);
  });

  it('a key column changed from integer to varchar is compared as varchar on both sides', async () => {
    const current = await table('fid_castkey');
    const { next, mapping } = change(current, [{ op: 'alter_column_type', column: 'id', type: 'varchar(10)' }]);
    const { d, mark } = await copyLive(current, next, mapping);
    if (d.kind !== 'updated_at') throw new Error('expected an updated_at delta');
    await sb.sandbox.sql(`update ak_sumofus.fid_castkey set notes = 'changed', updated_at = timestamp '2025-01-01' where id = 3`);
    await sb.sandbox.sql(`delete from ak_sumofus.fid_castkey where id = 4`);
    await sb.run(preSwapDeleteSync(current, next, d)!);
    expect((await one(`SELECT count(*) AS n FROM ak_sumofus.new_fid_castkey WHERE id = '4'`)).n).toBe(0);
    const v = verifyQueries(current, next, mapping, { oldTable: 'fid_castkey', newTable: 'new_fid_castkey', stable: { column: 'updated_at', op: '<', mark: { ts: mark } } });
    expect(compareChecksums(v, await sb.query(v.checksums))).toEqual([]);

    // the full compare (no change column) casts too
    const full: DeltaPlan = { kind: 'full', primaryKey: d.primaryKey, notes: [] };
    const fullSwap = lockedSwapBatch(current, next, mapping, full, { mark: { int: '0' } }).sql;
    await sb.batch(fullSwap.slice(0, -2)); // the delta statements, not the renames
    expect((await one(`SELECT notes FROM ak_sumofus.new_fid_castkey WHERE id = '3'`)).notes).toBe('changed');

    const locked = lockedSwapBatch(current, next, mapping, d, { mark: { ts: mark } });
    const b = await sb.batch(locked.sql);
    const swapMark = String((await sb.rows(`${b.Id}:${locked.swapMarkIndex! + 1}`)).rows[0]!.swap_mark);
    await sb.run(postSwapDeleteSync(current, next, d, { ts: mark })!);
    const late = lateWritesToOld(current, next, mapping, d, { ts: swapMark })!;
    await sb.sandbox.sql(`update ak_sumofus.old_fid_castkey set notes = 'late', updated_at = timestamp '2026-01-01' where id = 8`);
    expect((await one(late.check)).late_rows).toBe(1);
    await sb.batch(late.move);
    expect((await one(`SELECT notes FROM ak_sumofus.fid_castkey WHERE id = '8'`)).notes).toBe('late');
    const all = verifyQueries(current, next, mapping, { oldTable: 'old_fid_castkey', newTable: 'fid_castkey' });
    expect(compareChecksums(all, await sb.query(all.checksums))).toEqual([]);

    await sb.sandbox.sql(`update ak_sumofus.fid_castkey set notes = 'after swap', updated_at = timestamp '2027-01-01' where id = '9'`);
    const rev = reverseDelta(current, next, mapping, d, { ts: swapMark });
    if (!rev.ok) throw new Error(rev.reason);
    await sb.batch([`LOCK TABLE ak_sumofus.fid_castkey`, ...swapBackBatch('ak_sumofus', 'fid_castkey', rev.sql)]);
    expect((await one('SELECT notes FROM ak_sumofus.fid_castkey WHERE id = 9')).notes).toBe('after swap');
    const revFull = reverseFull(current, next, mapping);
    expect(revFull.ok).toBe(true);
  });

  it('re-grants 45 grantees inside the 40-statement swap batch, in one transaction', async () => {
    const current = await table('fid_grants');
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      for (const r of roles) await admin.query(`create role ${r} nologin`);
    } finally {
      await admin.end();
    }
    // two privilege sets: SELECT for 30 roles, SELECT + INSERT for 15
    await sb.sandbox.sql(`grant select on ak_sumofus.fid_grants to ${roles.slice(0, 30).join(', ')}`);
    await sb.sandbox.sql(`grant select, insert on ak_sumofus.fid_grants to ${roles.slice(30).join(', ')}`);
    const row = await one(ACL_QUERY, { schema: 'ak_sumofus', table: 'fid_grants' });
    const acl = parseAcl(String(row.acl), 'postgres');
    if (!acl.ok) throw new Error(acl.error);
    expect(acl.grants.filter((g) => roles.includes(g.grantee))).toHaveLength(45);
    const { next, mapping } = change(current, [addNote]);
    await copyLive(current, next, mapping);
    const batch = swapBatch('ak_sumofus', 'fid_grants', { grants: acl.grants, skip: [String(row.owner)] });
    expect(batch.length).toBeLessThanOrEqual(40);
    await sb.batch(batch);
    for (const r of [roles[0]!, roles[44]!])
      expect((await one(`SELECT has_table_privilege('${r}', 'ak_sumofus.fid_grants', 'SELECT') AS ok`)).ok).toBe(true);
    expect((await one(`SELECT has_table_privilege('${roles[44]!}', 'ak_sumofus.fid_grants', 'INSERT') AS ok`)).ok).toBe(true);
    expect((await one(`SELECT has_table_privilege('${roles[0]!}', 'ak_sumofus.fid_grants', 'INSERT') AS ok`)).ok).toBe(false);
  });
});
