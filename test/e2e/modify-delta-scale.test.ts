/**
 * Read-unavailability flat in table size (issue 10 item 3): the statements the live copy's locked swap runs, and the
 * catch-up rounds before it, find their rows through a range on the change column and the keys of the rows so found —
 * never a scan of the table. Checked with PostgreSQL's own plans in the sandbox, where an index stands for the zone
 * maps Redshift keeps on every block (catalog.ts _zone_map_indexes): a plan with a sequential scan of core_action or
 * new_core_action would grow with the table, and the lock with it.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/commands/index.js';
import { fillBatch } from '../../src/modify/run-values.js';
import { planModify } from '../../src/modify/planner.js';
import type { ModifyPlan, PlanStep } from '../../src/modify/types.js';
import { DEFAULT_SEARCH_PATH, translateStatement } from '../../src/sandbox/translate.js';
import { renderCreateTable } from '../../src/schema/render.js';
import { loadRegistry, referencingTables, type Registry } from '../../src/schema/registry.js';
import { withSandbox } from '../support/sandbox.js';

const ROWS = 200_000;
const sb = withSandbox('postgres', { purpose: 'delta_scale' });
let reg: Registry;
let plan: ModifyPlan;
let client: pg.Client;
let url: string;

const step = (name: string): PlanStep => {
  const s = plan.steps.find((x) => x.name === name);
  if (!s) throw new Error(`the plan has no step ${name}: ${plan.steps.map((x) => x.name).join(', ')}`);
  return s;
};
const actions = (name: string, kind: 'sql' | 'batch' | 'query'): string[] =>
  step(name).actions.flatMap((a) => (a.kind !== kind ? [] : a.kind === 'batch' ? a.sql : a.kind === 'sql' || a.kind === 'query' ? [a.sql] : []));

/** EXPLAIN each statement (translated as the sandbox runs it), then run it, in one transaction rolled back at the end. */
async function plansOf(sqls: readonly string[]): Promise<Array<{ sql: string; plan: string }>> {
  const out: Array<{ sql: string; plan: string }> = [];
  await client.query('BEGIN');
  try {
    for (const sql of sqls) {
      const t = translateStatement(sql, { inTransaction: true });
      for (const s of t.steps.filter((x) => x.user)) {
        const isDml = /^\s*(select|insert|delete|update|create\s+temp)/i.test(s.sql);
        if (isDml) {
          const r = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${s.sql}`);
          out.push({ sql, plan: r.rows.map((x) => x['QUERY PLAN']).join('\n') });
        }
        await client.query(s.sql);
      }
    }
  } finally {
    await client.query('ROLLBACK');
  }
  return out;
}

beforeAll(async () => {
  reg = await loadRegistry();
  await sb.run('CREATE SCHEMA ak_sumofus');
  await sb.run(renderCreateTable(reg.find('core_action')!).replace(/;\s*$/, ''));
  await sb.sandbox.sql(`
    insert into ak_sumofus.core_action (id, created_at, updated_at, user_id, mailing_id, page_id, link, source, opq_id, created_user,
      subscribed_user, referring_user_id, referring_mailing_id, taf_emails_sent, status, is_forwarded, ip_address)
    select g, timestamp '2024-01-01' + g * interval '1 second', timestamp '2024-01-01' + ((g * 7919) % ${ROWS}) * interval '1 second', g % 37, nullif(g % 5, 0),
      g % 11, g * 10, 'src', 'opq' || g, g % 2, 1, null, null, null, 'complete', 0, '10.0.0.1'
    from generate_series(1, ${ROWS}) g`);
  const r = parseCommand('modify core_action alter column link type bigint', { registry: reg });
  if (!r.ok || r.command.kind !== 'modify') throw new Error('not a modify');
  const current = reg.find('core_action')!;
  const p = planModify({ current, ops: r.command.ops, deepCopy: r.command.deepCopy, referencing: referencingTables(reg, current.schema, current.name) });
  if (!p.ok) throw new Error(p.error);
  plan = p;
  // create, copy, statistics — as the job does before the catch-up
  for (const sql of actions('create', 'sql')) await sb.run(sql);
  await sb.batch(actions('copy', 'batch'));
  await sb.sandbox.sql('ANALYZE ak_sumofus.core_action');
  for (const sql of actions('catch-up', 'sql')) await sb.run(sql);
  // changes after the copy: updates (two with updated_at set back), deletes, inserts
  await sb.sandbox.sql(`update ak_sumofus.core_action set updated_at = timestamp '2024-06-01', source = 'upd' where id between 100 and 130`);
  await sb.sandbox.sql(`update ak_sumofus.core_action set updated_at = timestamp '2023-01-01' where id in (500, 501)`);
  await sb.sandbox.sql(`delete from ak_sumofus.core_action where id between 1000 and 1004`);
  await sb.sandbox.sql(`insert into ak_sumofus.core_action (id, created_at, updated_at, user_id, page_id, source, opq_id, created_user, subscribed_user, status, is_forwarded)
    select g, timestamp '2024-06-01', timestamp '2024-06-01', 1, 1, 'new', 'o', 0, 1, 'complete', 0 from generate_series(${ROWS + 1}, ${ROWS + 20}) g`);
  await sb.sandbox.sql(`update ak_sumofus.new_core_action set updated_at = timestamp '2024-06-01' where id in (500, 501)`);
  url = String((await sb.sandbox.sql('select current_database() as d')).rows[0]?.d);
  client = new pg.Client({ connectionString: `${(process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres').replace(/\/[^/]*$/, '')}/${url}` });
  await client.connect();
  await client.query(`SET search_path TO ${DEFAULT_SEARCH_PATH}`);
}, 120_000);

afterAll(async () => {
  await client?.end();
});

const MARK = { ts: '2024-05-01 00:00:00' } as const;
const scans = (plans: Array<{ sql: string; plan: string }>) =>
  plans.filter((p) => /Seq Scan on (new_)?core_action\b/.test(p.plan)).map((p) => `${p.sql.slice(0, 120)}…\n${p.plan}`);

describe(`the live copy's delta on ${ROWS.toLocaleString('en-US')} rows`, () => {
  it('the locked swap finds the changed rows by the change column and the key: no scan of either table under the lock', async () => {
    const batch = fillBatch(actions('swap', 'batch').filter((s) => s !== '{{regrants}}'), { catchup_mark: MARK, copy_mark: MARK });
    const lockedDelta = batch.slice(batch.findIndex((s) => /^LOCK TABLE/.test(s)) + 1, batch.findIndex((s) => /RENAME TO/.test(s)));
    expect(lockedDelta.length).toBeGreaterThanOrEqual(4);
    const plans = await plansOf(lockedDelta);
    expect(plans.length).toBeGreaterThanOrEqual(4);
    expect(scans(plans)).toEqual([]);
  });

  it('a catch-up round does the same without the lock, bounded by the mark it read', async () => {
    const plans = await plansOf(fillBatch(actions('catch-up', 'batch'), { catchup_mark: MARK, catchup_next: MARK }));
    expect(plans.length).toBeGreaterThanOrEqual(3);
    expect(scans(plans)).toEqual([]);
  });

  it('the delta is right: the changed, set-back, deleted and inserted rows all end up as in the table', async () => {
    await sb.batch(fillBatch(actions('catch-up', 'batch'), { catchup_mark: MARK }));
    const diff = await sb.query(`select count(*) as n from (
      (select id, updated_at, source from ak_sumofus.core_action except select id, updated_at, source from ak_sumofus.new_core_action)
      union all
      (select id, updated_at, source from ak_sumofus.new_core_action except select id, updated_at, source from ak_sumofus.core_action)) x`);
    // rows deleted at the source stay in new_core_action until the post-sync (their copy is older than the mark)
    const deleted = await sb.query(`select count(*) as n from ak_sumofus.new_core_action n where not exists (select 1 from ak_sumofus.core_action o where o.id = n.id)`);
    expect(Number(diff[0]?.n)).toBe(Number(deleted[0]?.n));
    expect(await sb.query(`select count(*) as n from ak_sumofus.new_core_action where id in (500, 501) and updated_at = timestamp '2023-01-01'`)).toEqual([{ n: 2 }]);
  });
});
