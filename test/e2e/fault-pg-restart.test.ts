/**
 * Fault: the PostgreSQL behind the sandbox's Data API (the warehouse's database) restarts in the middle of the copy
 * (issue 10 item 1). The test creates its OWN cluster in a temporary directory (initdb as the postgres user, a free port,
 * its socket in /tmp) — never the shared server on 5432 — and points the harness at it. The copy statement is held in
 * STARTED for 3 s (slowStatements) and the cluster is stopped (`pg_ctl stop -m immediate`, a crash) 1 s into it and
 * started again 5 s later, so the statement cannot reach its database: it ends FAILED, as a Redshift statement does
 * when the cluster restarts under it.
 * Safe state: the job stops at the copy with Retry / Roll back buttons, never half-swapped (the table has its old shape
 * and every row, no old_<t>); Retry runs the copy again and the job finishes with every row.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotHarness, SCHEMA, USERS, startBotHarness } from '../support/bot-harness.js';
import { approveAs, columnsOf, liveTable, queueModify, succeeded, tableExists } from '../support/modify-flow.js';

const BIN = '/usr/lib/postgresql/15/bin';
let h: BotHarness;
let dir: string;
let port: number;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Run a PostgreSQL tool as the postgres user when we are root (initdb refuses root). */
function asPostgres(tool: string, args: string[]): void {
  const cmd = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', `${BIN}/${tool}`, ...args]] : [`${BIN}/${tool}`, args];
  const r = spawnSync(cmd[0] as string, cmd[1] as string[], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.status}): ${r.stdout}\n${r.stderr}`);
}

const pgStart = () => asPostgres('pg_ctl', ['-D', path.join(dir, 'data'), '-l', path.join(dir, 'log'), '-o', `-p ${port} -k /tmp -c listen_addresses=127.0.0.1`, '-w', 'start']);
const pgStop = () => asPostgres('pg_ctl', ['-D', path.join(dir, 'data'), '-m', 'immediate', '-w', 'stop']);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rso-pg-restart-'));
  chmodSync(dir, 0o755);
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  port = await freePort();
  asPostgres('initdb', ['-D', path.join(dir, 'data'), '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  pgStart();
  h = await startBotHarness({
    name: 'pgrst',
    pgAdminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    inProcessWorker: { concurrency: 2 },
    copySchemas: true,
    rowsPerTable: 20,
    settings: { logCheckMs: 1_500, freshnessMs: 3_000 },
  });
}, 120_000);

afterAll(async () => {
  await h?.close();
  try {
    pgStop();
  } catch {
    /* already down */
  }
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('PostgreSQL restarted mid-copy', () => {
  it('the copy statement FAILS, the job stops with Retry / Roll back, never half-swapped; Retry finishes it', async () => {
    const T = 'core_tag';
    const rows = Number((await h.sandbox.sql(`select count(*)::int as n from ${SCHEMA}.${T}`)).rows[0]?.n);
    const before = columnsOf(await liveTable(h, T));
    h.sandbox.faults.slowStatements = [{ match: `/INSERT INTO\\s+${SCHEMA}\\.new_${T}\\b/`, ms: 3_000, times: 1 }];
    const jobId = await queueModify(h, `${T} add column pg_note varchar(16) --deep-copy`);
    await h.waitJob(jobId, (j) => j.steps.some((s) => s.name === 'copy' && s.state === 'running'), 'the copy step to start', 30_000);
    await new Promise((r) => setTimeout(r, 1_000));
    pgStop();
    await new Promise((r) => setTimeout(r, 5_000));
    pgStart();

    const failed = await h.waitJob(jobId, (j) => j.state === 'failed', 'to stop at the copy', 60_000);
    expect(failed.steps.find((s) => s.state === 'failed')?.name).toBe('copy');
    // never half-swapped: the table has its old shape and every row; nothing was renamed
    expect(columnsOf(await liveTable(h, T))).toEqual(before);
    expect(Number((await h.sandbox.sql(`select count(*)::int as n from ${SCHEMA}.${T}`)).rows[0]?.n)).toBe(rows);
    expect(await tableExists(h, `old_${T}`)).toBe(false);
    expect((await h.rt.jobs.locks.holder(`${SCHEMA}.${T}`))?.jobId).toBe(jobId);
    const threadTs = (await h.progressMessage(jobId))!.ts;
    await h.waitUntil(() => h.fake.messages().some((m) => m.thread_ts === threadTs && JSON.stringify(m.blocks ?? []).includes('"block_id":"rso_failure"')), 'the failure reply with its buttons');
    const failure = h.fake.messages().find((m) => m.thread_ts === threadTs && JSON.stringify(m.blocks ?? []).includes('"block_id":"rso_failure"'))!;
    const actions = (failure.blocks ?? []).find((b) => (b as { block_id?: string }).block_id === 'rso_failure') as { elements: Array<{ action_id: string; value: string }> };
    expect(actions.elements.map((e) => e.action_id)).toEqual(['rso_retry', 'rso_rollback', 'rso_cancel']);

    const retry = actions.elements.find((e) => e.action_id === 'rso_retry')!;
    expect((await h.click('rso_retry', retry.value, { userId: USERS.lead, messageTs: failure.ts, threadTs })).status).toBe(200);
    await approveAs(h, jobId, 'approve-drop');
    await succeeded(h, jobId, 60_000);
    const copies = await h.statements({ sql: new RegExp(`^DELETE FROM ${SCHEMA}\\.new_${T};\\s*INSERT INTO`) });
    expect(copies.map((c) => c.status).sort()).toEqual(['FAILED', 'FINISHED']);
    expect(columnsOf(await liveTable(h, T))).toContain('pg_note varchar(16)');
    expect(Number((await h.sandbox.sql(`select count(*)::int as n from ${SCHEMA}.${T}`)).rows[0]?.n)).toBe(rows);
    expect(await tableExists(h, `old_${T}`)).toBe(false);
  }, 180_000);
});
