/**
 * Fault: Redis restarts in the middle of a modify job (issue 10 item 1). The test runs its OWN redis-server on a free port
 * (never the shared one on 6379), points the whole bot at it (job records, locks, approvals, audit, BullMQ), and while the
 * job waits for its copy statement restarts it: `SHUTDOWN SAVE` (a maintenance restart / failover that keeps the data:
 * production Redis for BullMQ runs with persistence) and a new redis-server on the same port and data directory.
 * Safe state: the clients reconnect, the job resumes where it was — the copy statement submitted once, no step started
 * twice —, parks on its drop approval, and a second restart while it is parked loses neither the parked state nor the
 * approval clicked after it; the job finishes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotHarness, startBotHarness } from '../support/bot-harness.js';
import { approveAs, columnsOf, liveTable, parkedOn, queueModify, succeeded, tableExists } from '../support/modify-flow.js';

let h: BotHarness;
let dir: string;
let port: number;
let server: ChildProcess | undefined;

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

async function startRedis(): Promise<void> {
  const child = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--dbfilename', 'dump.rdb'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = child;
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const until = Date.now() + 15_000;
  for (;;) {
    if (out.includes('Ready to accept connections')) return;
    if (child.exitCode !== null) throw new Error(`redis-server exited:\n${out}`);
    if (Date.now() > until) throw new Error(`redis-server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SHUTDOWN SAVE (the data is written to dump.rdb) and start again on the same port and directory. */
async function restartRedis(downMs: number): Promise<void> {
  const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  await c.connect();
  const exited = new Promise<void>((r) => server?.once('exit', () => r()));
  await c.call('SHUTDOWN', 'SAVE').catch(() => undefined); // the server closes the connection as it exits
  c.disconnect();
  await exited;
  await new Promise((r) => setTimeout(r, downMs));
  await startRedis();
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rso-redis-restart-'));
  port = await freePort();
  await startRedis();
  h = await startBotHarness({
    name: 'redisrst',
    redisUrl: `redis://127.0.0.1:${port}`,
    inProcessWorker: { concurrency: 2 },
    copySchemas: true,
    rowsPerTable: 20,
    settings: { logCheckMs: 1_500, freshnessMs: 3_000 },
  });
}, 90_000);

afterAll(async () => {
  await h?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise<void>((r) => server?.once('exit', () => r()));
    server.kill('SIGKILL');
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('Redis restarted mid-job', () => {
  it('the job resumes, no step runs twice, the parked approval and the click after a second restart are kept', async () => {
    const T = 'core_tag';
    const rows = Number((await h.sandbox.sql(`select count(*)::int as n from ak_sumofus.${T}`)).rows[0]?.n);
    h.sandbox.faults.slowStatements = [{ match: `/INSERT INTO\\s+ak_sumofus\\.new_${T}\\b/`, ms: 4_000, times: 1 }];
    const jobId = await queueModify(h, `${T} add column redis_note varchar(16) --deep-copy`);
    await h.waitJob(jobId, (j) => j.steps.some((s) => s.name === 'copy' && s.state === 'running'), 'the copy step to start', 30_000);
    await restartRedis(1_000);

    const parked = await parkedOn(h, jobId, 'approve-drop', 60_000);
    expect(parked.steps.find((s) => s.name === 'copy')?.state).toBe('done');
    await restartRedis(500);
    const still = await h.rt.jobs.store.get(jobId);
    expect(still?.state).toBe('awaiting-approval');
    expect(still?.pendingApproval?.nonce).toBe(parked.pendingApproval?.nonce);

    await approveAs(h, jobId, 'approve-drop');
    const done = await succeeded(h, jobId, 60_000);
    expect(done.steps.every((s) => s.state === 'done')).toBe(true);
    expect(done.approvals.filter((a) => a.step === 'approve-drop')).toHaveLength(1);
    const copies = await h.statements({ sql: new RegExp(`^DELETE FROM ak_sumofus\\.new_${T};\\s*INSERT INTO`) });
    expect(copies.map((c) => c.status)).toEqual(['FINISHED']);
    const starts = (await h.rt.jobs.audit.readAudit(jobId)).filter((e) => e.event === 'step-start').map((e) => e.step);
    expect(starts).toEqual([...new Set(starts)]);
    expect(columnsOf(await liveTable(h, T))).toContain('redis_note varchar(16)');
    expect(Number((await h.sandbox.sql(`select count(*)::int as n from ak_sumofus.${T}`)).rows[0]?.n)).toBe(rows);
    expect(await tableExists(h, `old_${T}`)).toBe(false);
  }, 150_000);
});
