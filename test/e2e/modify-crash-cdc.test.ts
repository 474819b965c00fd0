/**
 * Crash test, cdc live copy (DESIGN.md §4 invariants 1, 2, 4): a deep-copy `modify core_action` runs while the CDC
 * apply loop keeps writing the table, and the worker PROCESS is SIGKILLed at every step boundary — before each step
 * acts and after it acted but before the engine recorded it — and in the middle of the copy (the copy statement still
 * running in the warehouse) and of the swap. Each time another worker process takes the job over after BullMQ's lock
 * expires. The job must finish with every change the loop made in the table (counted, not sampled), no duplicate row,
 * every statement submitted once, and the table's name present throughout (the live-copy swap is one transaction, so
 * a reader never finds it missing).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModifyCrashHarness, SCHEMA, startModifyCrashHarness } from '../support/modify-crash.js';

let h: ModifyCrashHarness;

beforeAll(async () => {
  h = await startModifyCrashHarness({ name: 'cdc', table: 'core_action' });
}, 60_000);
afterAll(async () => {
  await h?.close();
}, 60_000);

describe('modify crash: cdc live copy', () => {
  it('a worker killed at every step boundary and mid-copy: the job finishes, no change lost, the name never missing', async () => {
    const run = await h.runWithKills('modify core_action alter column link type bigint', { submitted: ['copy:sent', 'copy:submitted', 'swap:sent', 'swap:submitted'] });
    const { job } = run;
    const steps = job.steps.map((s) => s.name);
    expect(steps).toEqual(['preflight', 'read-grants', 'create', 'mark', 'copy', 'pre-sync', 'verify', 'catch-up', 'swap', 'post-sync', 'late-writes', 'freshness', 'post-verify', 'approve-drop', 'drop', 'schema-file']);
    expect(job.state, run.outputs()).toBe('succeeded');

    // every kill point was reached, in order: each by a different worker process
    const expected = steps.flatMap((s) => [`${s}:before`, ...(s === 'copy' || s === 'swap' ? [`${s}:sent`, `${s}:submitted`] : []), `${s}:after`]);
    expect(run.killed).toEqual(expected);
    expect(run.skipped).toEqual([]);
    expect(run.workers).toBeGreaterThan(expected.length);
    // mid-copy: the copy statement was still running in the warehouse when its worker died
    expect(['SUBMITTED', 'PICKED', 'STARTED']).toContain(run.copyStatusAtKill);
    // the drop waited for the approver
    expect(job.approvals).toEqual([expect.objectContaining({ step: 'approve-drop', decision: 'approved', by: 'U0CRASHAPP' })]);

    // invariant 4: no statement of the job ran twice, however often the job was resumed
    const stmts = await h.statements(`job ${job.id} `);
    const byName = new Map<string, string[]>();
    for (const s of stmts) byName.set(s.name, [...(byName.get(s.name) ?? []), s.status]);
    for (const step of ['create', 'copy', 'pre-sync', 'swap', 'post-sync', 'drop'])
      expect(byName.get(`job ${job.id} ${step} ${SCHEMA}.core_action`), `statements of step ${step}`).toEqual(['FINISHED']);
    // killed after the Data API accepted the copy / swap but before the id was recorded: the next worker sent it again
    // with the same ClientToken and got the same statement back — two submits, one statement
    for (const step of ['copy', 'swap']) {
      const sent = h.submissions(`job ${job.id} ${step} ${SCHEMA}.core_action`);
      expect(sent.length, `submits of step ${step}`).toBeGreaterThanOrEqual(2);
      expect(sent.filter((x) => !x.deduplicated), `statements created by step ${step}`).toHaveLength(1);
      expect(new Set(sent.map((x) => x.id)).size).toBe(1);
      expect(new Set(sent.map((x) => x.clientToken)).size).toBe(1);
    }

    // invariant 2: the name was never missing (the swap renames both tables in one transaction)
    const gaps = await h.watcher.stop();
    expect(h.watcher.lookups).toBeGreaterThan(1000);
    expect(gaps).toEqual([]);

    // invariant 1: every change the loop made is in the new table, counted, no duplicate, no extra
    h.loop.stopGenerating();
    await h.loop.idle(60_000);
    const v = await h.loop.verify();
    expect(v.summary).toMatch(/matches the source/);
    expect(v).toMatchObject({ ok: true, missingCount: 0, extraCount: 0, duplicateCount: 0, mismatchedCount: 0 });
    const stats = h.loop.stats();
    expect(stats.generated).toBeGreaterThan(200);
    expect(stats.failed).toBe(0);
    expect(h.loopErrors).toEqual([]);

    // the new shape, no leftovers, the schemas/ file rewritten
    const cols = await h.pg("SELECT data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'core_action' AND column_name = 'link'", [SCHEMA]);
    expect(cols).toEqual([{ data_type: 'bigint' }]);
    const left = await h.pg("SELECT to_regclass('ak_sumofus.new_core_action')::text AS n, to_regclass('ak_sumofus.old_core_action')::text AS o");
    expect(left).toEqual([{ n: null, o: null }]);
    const yml = await readFile(path.join(h.schemasDir, SCHEMA, 'core_action.yml'), 'utf8');
    expect(yml).toMatch(/name: link, type: bigint/);
    expect(await h.rt.jobs.locks.holder(`${SCHEMA}.core_action`)).toBeUndefined();
  }, 900_000);
});
