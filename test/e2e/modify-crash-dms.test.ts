/**
 * Crash test, DMS runbook (DESIGN.md §4 invariants 1, 2, 4): a deep-copy `modify core_usermailing` runs while the
 * DmsApplyLoop writes the table whenever the DMS task runs, and the worker PROCESS is SIGKILLed at every step boundary
 * — before each step acts and after it acted but before the engine recorded it — and in the middle of the copy (the copy
 * statement still running in the warehouse) and of the swap. Each time another worker process takes the job over after
 * BullMQ's lock expires. The job must finish with the DMS task running again, every change the task applied in the
 * table (counted, not sampled), no duplicate row, no `]E:` line in the task's log, every statement submitted once, and
 * the table's name present throughout (both renames are one transaction).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModifyCrashHarness, SCHEMA, startModifyCrashHarness } from '../support/modify-crash.js';

let h: ModifyCrashHarness;

beforeAll(async () => {
  h = await startModifyCrashHarness({ name: 'dms', table: 'core_usermailing' });
}, 60_000);
afterAll(async () => {
  await h?.close();
}, 60_000);

describe('modify crash: dms', () => {
  it('a worker killed at every step boundary and mid-copy: the job finishes, the task runs, no change lost, the name never missing', async () => {
    const task = h.sandbox.dms.getTask('flydata-core-usermailing');
    const run = await h.runWithKills('modify core_usermailing alter column subject_id type bigint', { submitted: ['copy:sent', 'copy:submitted', 'swap:submitted'] });
    const { job } = run;
    const steps = job.steps.map((s) => s.name);
    expect(steps).toEqual(['preflight', 'read-grants', 'stop-task', 'create', 'copy', 'verify', 'swap', 'resume-task', 'log-check', 'post-verify', 'approve-drop', 'drop', 'schema-file']);
    expect(job.state, run.outputs()).toBe('succeeded');

    const expected = steps.flatMap((s) => [`${s}:before`, ...(s === 'copy' ? ['copy:sent'] : []), ...(s === 'copy' || s === 'swap' ? [`${s}:submitted`] : []), `${s}:after`]);
    // killed at swap:submitted: the one-transaction swap finishes on its own, so the next worker finds it done (isDone)
    // and skips the step — swap:after can then not be reached; every other point killed a worker
    expect(run.skipped.filter((p) => p !== 'swap:after')).toEqual([]);
    expect(run.killed).toEqual(expected.filter((p) => !run.skipped.includes(p)));
    expect(run.workers).toBeGreaterThan(expected.length);
    expect(['SUBMITTED', 'PICKED', 'STARTED']).toContain(run.copyStatusAtKill);
    expect(job.approvals).toEqual([expect.objectContaining({ step: 'approve-drop', decision: 'approved', by: 'U0CRASHAPP' })]);

    // invariant 4: no statement of the job ran twice
    const stmts = await h.statements(`job ${job.id} `);
    const byName = new Map<string, string[]>();
    for (const s of stmts) byName.set(s.name, [...(byName.get(s.name) ?? []), s.status]);
    for (const step of ['create', 'copy', 'swap', 'drop'])
      expect(byName.get(`job ${job.id} ${step} ${SCHEMA}.core_usermailing`), `statements of step ${step}`).toEqual(['FINISHED']);
    // killed after the Data API accepted the copy but before its id was recorded: resent with the same ClientToken
    const sent = h.submissions(`job ${job.id} copy ${SCHEMA}.core_usermailing`);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(sent.filter((x) => !x.deduplicated)).toHaveLength(1);
    expect(new Set(sent.map((x) => x.id)).size).toBe(1);

    // invariant 2: the name was never missing
    const gaps = await h.watcher.stop();
    expect(h.watcher.lookups).toBeGreaterThan(1000);
    expect(gaps).toEqual([]);

    // the task runs again and applied every change the source made: the whole table compared with the source
    expect(h.sandbox.dms.getTask(task.arn).status).toBe('running');
    h.loop.stopGenerating();
    await h.loop.idle(60_000);
    const v = await h.loop.verify();
    expect(v.summary).toMatch(/matches the source/);
    expect(v).toMatchObject({ ok: true, missingCount: 0, extraCount: 0, duplicateCount: 0, mismatchedCount: 0 });
    const stats = h.loop.stats();
    expect(stats.generated).toBeGreaterThan(200);
    expect(stats.failed).toBe(0);
    expect(h.loopErrors).toEqual([]);
    const errorLines = h.sandbox.logs.events(task.logGroup).filter((e) => /\]E:/.test(e.message));
    expect(errorLines).toEqual([]);

    const cols = await h.pg("SELECT data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'core_usermailing' AND column_name = 'subject_id'", [SCHEMA]);
    expect(cols).toEqual([{ data_type: 'bigint' }]);
    const left = await h.pg("SELECT to_regclass('ak_sumofus.new_core_usermailing')::text AS n, to_regclass('ak_sumofus.old_core_usermailing')::text AS o");
    expect(left).toEqual([{ n: null, o: null }]);
    const yml = await readFile(path.join(h.schemasDir, SCHEMA, 'core_usermailing.yml'), 'utf8');
    expect(yml).toMatch(/name: subject_id, type: bigint/);
    expect(await h.rt.jobs.locks.holder(`${SCHEMA}.core_usermailing`)).toBeUndefined();
  }, 900_000);
});
