/**
 * recover's long wait never holds a worker, and survives losing one — with real worker processes
 * (`node src/main.ts --role worker`) on the same Redis, sandbox and MariaDB source; the bot process runs no worker.
 *
 *   - a worker is SIGKILLed while the job waits for the DMS full load: another worker resumes the wait; no step starts
 *     twice and the load is requested once (one ReloadTables in the audit);
 *   - that one worker (concurrency 1) runs a modify of another table from start to end while the recover waits —
 *     proven by the job records' timestamps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DmsApplyLoop } from '../../src/sandbox/apply-loop.js';
import { SCHEMA } from '../support/bot-harness.js';
import { queueModify, succeeded } from '../support/modify-flow.js';
import { type RecoverWorld, duplicateIds, queueRecover, recoverWorkerEnv, settle, startRecoverWorld, stepReached } from '../support/recover-flow.js';

const T = 'core_usermailing';
let w: RecoverWorld;
let loop: DmsApplyLoop;

beforeAll(async () => {
  // no worker in the bot's process; a slow load: 5 rows per chunk, 800 ms apart
  w = await startRecoverWorld('rwrk', { harness: { inProcessWorker: false }, replication: { loadChunkRows: 5, loadChunkDelayMs: 800 } });
  loop = w.replication.dmsLoops.get(`${SCHEMA}.${T}`)!;
  await loop.until(() => loop.stats().applied >= 20, 15_000, 'the loop to apply its first changes');
}, 120_000);

afterAll(async () => {
  await w?.close();
}, 60_000);

describe('recover waits on workers', () => {
  it('a worker killed during the full-load wait: another resumes it (no step twice), and runs a modify of another table while the recover waits', async () => {
    const h = w.h;
    loop.injectTableError('a value did not fit (sandbox)');
    await h.waitUntil(async () => (await h.dms!.tableStats(h.sandbox.dms.getTask('flydata-core-usermailing').arn, SCHEMA, T))?.state === 'Table error', 'Table error', 10_000);
    const jobId = await queueRecover(h, T);
    const w1 = await h.spawnWorker({ ...recoverWorkerEnv(w), WORKER_CONCURRENCY: '1' });
    // parked in the full-load wait, after at least one look that saw the load under way
    await h.waitJob(jobId, (j) => j.waiting?.step === 'full-load' && j.handles['full-load.sawLoading'] !== undefined, 'to wait for the load', 60_000);
    await w1.kill9();
    const killedAt = Date.now();

    const w2 = await h.spawnWorker({ ...recoverWorkerEnv(w), WORKER_CONCURRENCY: '1' });
    // the one worker runs a whole modify of another table while the recover still waits for its load
    const modId = await queueModify(h, 'core_tag add column recover_note varchar(16)');
    const mod = await succeeded(h, modId, 60_000);
    const during = await h.rt.jobs.store.get(jobId);
    expect(during?.steps.find((s) => s.name === 'full-load')?.state, 'the recover is still waiting for its load').toBe('running');

    await stepReached(h, jobId, 'cdc-applies', ['done', 'failed'], 120_000);
    loop.stopGenerating();
    const job = await succeeded(h, jobId, 120_000);
    const load = job.steps.find((s) => s.name === 'full-load')!;
    // timestamps: the modify started after the load's wait began and finished before it ended
    expect(mod.startedAt!).toBeGreaterThan(load.startedAt!);
    expect(mod.finishedAt!).toBeLessThan(load.finishedAt!);
    expect(load.finishedAt!).toBeGreaterThan(killedAt);

    const audit = await h.rt.jobs.audit.readAudit(jobId);
    const starts = audit.filter((e) => e.event === 'step-start').map((e) => e.step);
    expect(starts).toEqual([...new Set(starts)]);
    expect(audit.filter((e) => e.event === 'aws-call' && e.detail === 'ReloadTables ak_sumofus.core_usermailing')).toHaveLength(1);
    expect(job.steps.find((s) => s.name === 'final-compare')?.detail).toMatch(/^ak_sumofus\.core_usermailing: ✓ equal/);
    await settle(loop);
    const v = await loop.verify();
    expect(v.ok, v.summary).toBe(true);
    expect(await duplicateIds(h, T)).toBe(0);
    await w2.stop();
    console.log(
      `[recover-workers] load waited ${((load.finishedAt! - load.startedAt!) / 1000).toFixed(1)} s across a SIGKILL; modify ${modId} ran ${((mod.finishedAt! - mod.startedAt!) / 1000).toFixed(1)} s inside it on the same single worker`,
    );
  }, 300_000);
});
