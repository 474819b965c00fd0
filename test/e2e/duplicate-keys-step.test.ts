/**
 * steps/duplicate-keys.ts through the real Data API adapter → sandbox on PostgreSQL (engine on in-memory ports): the
 * check counts duplicated keys and samples them; the dedupe keeps one row per key — the newest by updated_at where the
 * table declares it, any one otherwise — in one batch that locks the table, and the gate is skipped when nothing
 * was found.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunbookDeps } from '../../src/jobs/deps.js';
import { runJob } from '../../src/jobs/engine.js';
import type { Runbook } from '../../src/jobs/runbook.js';
import { dedupeSteps, duplicateKeysCheckStep } from '../../src/jobs/steps/duplicate-keys.js';
import type { JobRecord, Reporter } from '../../src/jobs/types.js';
import { applySchema } from '../../src/schema/apply.js';
import { loadRegistry, type Registry } from '../../src/schema/registry.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { createWarehouse, type RedshiftDataWarehouse } from '../../src/warehouse/redshift-data.js';
import { MemoryAuditLog, MemoryJobStore, MemoryTableLocks } from '../support/memory-ports.js';
import { createTestDatabase, type TestDatabase } from '../support/sandbox.js';
import { REPO } from '../support/bot-harness.js';
import path from 'node:path';

let db: TestDatabase;
let sandbox: Sandbox;
let wh: RedshiftDataWarehouse;
let registry: Registry;

beforeAll(async () => {
  db = await createTestDatabase('dupkeys');
  sandbox = await startSandbox({ databaseUrl: db.url });
  wh = createWarehouse({ warehouse: { target: { kind: 'provisioned', clusterId: 'sandbox-cluster', dbUser: 'awsuser' }, database: 'dev' }, aws: { region: 'us-west-2', endpoint: sandbox.endpoint } }, { env: {} });
  registry = await loadRegistry(path.join(REPO, 'schemas'));
  await applySchema(wh, registry, {}, () => undefined);
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
  await db?.drop();
}, 60_000);

const nop = async (): Promise<void> => {};
function reporter(notes: string[]): Reporter {
  return { jobStarted: nop, stepStarted: nop, stepFinished: nop, stepFailed: nop, approvalRequested: nop, approvalResolved: nop, note: async (_j, t) => void notes.push(t), jobFinished: nop };
}

function job(id: string, approved: boolean): JobRecord {
  return {
    id, kind: 'dup', table: 'ak_sumofus.x', requester: 'U1', commandText: 'x', summary: 'x', params: {}, state: 'queued', cursor: 0, steps: [], handles: {},
    approvals: approved ? [{ step: 'approve-dedupe', decision: 'approved', by: 'U2', at: 1 }] : [], origin: { kind: 'console' }, createdAt: Date.now(), updatedAt: 0,
  };
}

async function run(table: string, id: string, approved: boolean) {
  const t = registry.find(table)!;
  const store = new MemoryJobStore();
  const notes: string[] = [];
  const rb: Runbook<RunbookDeps> = { kind: 'dup', steps: [duplicateKeysCheckStep(t), ...dedupeSteps(t)] };
  store.put(job(id, approved));
  const deps: RunbookDeps = { warehouse: wh, registry };
  const out = await runJob(rb, id, { store, locks: new MemoryTableLocks(store), audit: new MemoryAuditLog(), reporter: reporter(notes), deps });
  return { out, notes };
}

describe('duplicate-keys steps on the sandbox', () => {
  it('core_tag (updated_at declared): keeps the newest row of each key, one locked batch; counts before/after', async () => {
    await sandbox.sql(`INSERT INTO ak_sumofus.core_tag (id, created_at, updated_at, hidden, name, times_used, order_index)
      SELECT g, now(), timestamp '2026-01-01' + g * interval '1 minute', 0, 'tag' || g, 0, g FROM generate_series(1, 30) g`);
    // duplicates: ids 3 and 7 twice (an older copy), id 9 three times
    await sandbox.sql(`INSERT INTO ak_sumofus.core_tag (id, created_at, updated_at, hidden, name, times_used, order_index)
      SELECT id, created_at, updated_at - interval '1 day', hidden, 'old-' || name, times_used, order_index FROM ak_sumofus.core_tag WHERE id IN (3, 7, 9)`);
    await sandbox.sql(`INSERT INTO ak_sumofus.core_tag (id, created_at, updated_at, hidden, name, times_used, order_index)
      SELECT id, created_at, updated_at - interval '2 day', hidden, 'older-' || name, times_used, order_index FROM ak_sumofus.core_tag WHERE id = 9 AND name LIKE 'tag%'`);

    const waiting = await run('core_tag', '1', false);
    expect(waiting.out.kind).toBe('parked');
    const check = waiting.out.job.steps[0]!;
    expect(check.detail).toBe('compared 34 rows of ak_sumofus.core_tag by primary key (id): 3 key(s) have more than one row (7 rows, 4 extra) — e.g. id 3 ×2; id 7 ×2; id 9 ×3');
    expect(waiting.out.job.pendingApproval?.prompt).toContain('keeps the newest row of each key by updated_at');

    const { out, notes } = await run('core_tag', '2', true);
    expect(out.job.state).toBe('succeeded');
    expect(notes).toContain('before the dedupe: 34 rows; 3 key(s) with 7 rows');
    expect(out.job.steps[2]?.detail).toMatch(/^before: 34 rows, 3 duplicated key\(s\); deleted 7 rows of those keys and put back 3 \(keeps the newest row of each key by updated_at\), statement \S+; after: 30 rows, 0 duplicate keys$/);
    const names = (await sandbox.sql(`SELECT name FROM ak_sumofus.core_tag WHERE id IN (3, 7, 9) ORDER BY id`)).rows.map((r) => r.name);
    expect(names).toEqual(['tag3', 'tag7', 'tag9']);
    const batch = (await sandbox.sql(`SELECT count(*)::int AS n FROM ak_sumofus.core_tag`)).rows[0]?.n;
    expect(batch).toBe(30);

    // nothing left: the gate and the dedupe are skipped as done
    const again = await run('core_tag', '3', false);
    expect(again.out.job.state).toBe('succeeded');
    expect(again.out.job.steps.map((s) => `${s.name}:${s.state}`)).toEqual(['duplicate-keys:done', 'approve-dedupe:skipped', 'dedupe:skipped']);
    expect(again.out.job.steps[0]?.detail).toBe('compared 30 rows of ak_sumofus.core_tag by primary key (id): no duplicate keys');
    // skipped, saying why (not "already done": nothing was ever removed)
    expect(again.out.job.steps.slice(1).map((s) => s.detail)).toEqual(['no duplicate keys were found: nothing to approve', 'no duplicate keys were found: nothing removed']);
  }, 60_000);

  it('core_usermailing (changeTracking none): any one row of each key; an empty table is a warning', async () => {
    const empty = await run('core_usermailing', '4', false);
    expect(empty.out.job.steps[0]?.status).toBe('warn');
    await sandbox.sql(`INSERT INTO ak_sumofus.core_usermailing (id, mailing_id, user_id, subject_id, created_at) SELECT g, 1, g, NULL, now() FROM generate_series(1, 12) g`);
    await sandbox.sql(`INSERT INTO ak_sumofus.core_usermailing SELECT * FROM ak_sumofus.core_usermailing WHERE id > 10`);
    const { out } = await run('core_usermailing', '5', true);
    expect(out.job.state).toBe('succeeded');
    expect(out.job.steps[2]?.detail).toMatch(/keeps any one row of each key\), statement \S+; after: 12 rows, 0 duplicate keys$/);
  }, 60_000);
});
