/**
 * steps/dms-full-load.ts on the engine's in-memory ports with a scripted DMS: the load is started once however often
 * the job wakes, FullLoadRows is the wait's live figure (waitProgress, one ⏳ note), a stale `Table completed` does not
 * end the wait, and Table error / a failed task fail the step saying why.
 */
import { describe, expect, it } from 'vitest';
import type { RunbookDeps } from '../../src/jobs/deps.js';
import { runJob } from '../../src/jobs/engine.js';
import type { Runbook } from '../../src/jobs/runbook.js';
import { dmsFullLoadStep, type FullLoadStart } from '../../src/jobs/steps/dms-full-load.js';
import type { JobRecord, Reporter } from '../../src/jobs/types.js';
import type { DmsPort, DmsTableStat, DmsTask } from '../../src/replication/port.js';
import { MemoryAuditLog, MemoryJobStore, MemoryTableLocks } from '../support/memory-ports.js';

interface Script {
  task: DmsTask;
  stats: DmsTableStat | undefined;
  calls: string[];
}

function fakeDms(s: Script): DmsPort {
  const fake: Pick<DmsPort, 'findTask' | 'describeTask' | 'stopTask' | 'resumeTask' | 'waitForStatus' | 'tableStats' | 'reloadTable' | 'startTask'> = {
    findTask: async () => ({ ...s.task }),
    describeTask: async () => ({ ...s.task }),
    stopTask: async () => ({ ...s.task }),
    resumeTask: async () => ({ ...s.task }),
    waitForStatus: async () => ({ ...s.task }),
    tableStats: async () => (s.stats ? { ...s.stats } : undefined),
    reloadTable: async (_arn, schema, table) => {
      s.calls.push(`ReloadTables ${schema}.${table}`);
      s.stats = stat('Table is being reloaded', 0);
    },
    startTask: async (_arn, type) => {
      s.calls.push(`StartReplicationTask ${type}`);
      s.task = { ...s.task, status: 'starting' };
      return { ...s.task };
    },
  };
  // the calls a full load makes; anything else is not for this step
  return new Proxy(fake, { get: (t, k) => (k in t ? t[k as keyof typeof t] : () => Promise.reject(new Error(`unexpected DMS call ${String(k)}`))) }) as DmsPort;
}

function job(id: string): JobRecord {
  return { id, kind: 'fl', table: 'ak.t', requester: 'U1', commandText: 'x', summary: 'x', params: {}, state: 'queued', cursor: 0, steps: [], handles: {}, approvals: [], origin: { kind: 'console' }, createdAt: 0, updatedAt: 0 };
}

function reporter(): Reporter & { notes: string[]; progress: string[] } {
  const notes: string[] = [];
  const progress: string[] = [];
  const nop = async (): Promise<void> => {};
  return {
    notes,
    progress,
    jobStarted: nop,
    stepStarted: nop,
    stepFinished: nop,
    stepFailed: nop,
    approvalRequested: nop,
    approvalResolved: nop,
    note: async (_j, t) => void notes.push(t),
    waitProgress: async (j) => void progress.push(j.waiting?.progress ?? ''),
    jobFinished: nop,
  };
}

function setup(start: FullLoadStart, s: Script) {
  const store = new MemoryJobStore();
  const rep = reporter();
  const deps = { warehouse: {} as RunbookDeps['warehouse'], registry: {} as RunbookDeps['registry'], dms: fakeDms(s), settings: { fullLoadPollMs: 50 } } satisfies RunbookDeps;
  const rb: Runbook<RunbookDeps> = { kind: 'fl', steps: [dmsFullLoadStep({ taskId: 'task-1', schema: 'ak', table: 't', start })] };
  store.put(job('1'));
  const opts = { store, locks: new MemoryTableLocks(store), audit: new MemoryAuditLog(), reporter: rep, deps };
  return { rep, store, wake: () => runJob(rb, '1', opts), audit: opts.audit };
}

function stat(state: string, rows: number): DmsTableStat {
  return { schema: 'ak', table: 't', state, fullLoadRows: rows, fullLoadErrorRows: 0, fullLoadReloaded: false, inserts: 0, updates: 0, deletes: 0, ddls: 0 };
}

describe('steps/dms-full-load', () => {
  it('ReloadTables once, FullLoadRows as a live figure, done at Table completed', async () => {
    const s: Script = { task: { arn: 'arn:t', id: 'task-1', status: 'running' }, stats: stat('Table completed', 10), calls: [] };
    const t = setup('reload-table', s);
    expect((await t.wake()).kind).toBe('waiting');
    // a wake before DMS moved: the reload is not requested again
    expect((await t.wake()).kind).toBe('waiting');
    s.stats = stat('Full load', 500);
    expect((await t.wake()).kind).toBe('waiting');
    s.stats = stat('Full load', 1200);
    expect((await t.wake()).kind).toBe('waiting');
    s.stats = stat('Table completed', 2000);
    const out = await t.wake();
    expect(out.job.state).toBe('succeeded');
    expect(s.calls).toEqual(['ReloadTables ak.t']);
    expect(out.job.steps[0]?.detail).toMatch(/^Table completed: FullLoadRows 2,000 in [\d.]+ s \(ReloadTables for ak\.t\); task task-1 is running$/);
    expect(t.rep.notes.filter((n) => n.startsWith('⏳'))).toHaveLength(1);
    expect(t.rep.progress).toEqual(['ak.t: load requested (ReloadTables for ak.t)', 'ak.t: FullLoadRows 0 · Table is being reloaded', 'ak.t: FullLoadRows 500 · Full load', 'ak.t: FullLoadRows 1,200 · Full load']);
    expect(t.audit.entries.filter((e) => e.event === 'aws-call').map((e) => e.detail)).toEqual(['DescribeReplicationTasks task-1', 'ReloadTables ak.t']);
  });

  it('a stale Table completed right after the start does not end the wait', async () => {
    const s: Script = { task: { arn: 'arn:t', id: 'task-1', status: 'stopped' }, stats: stat('Table completed', 7), calls: [] };
    const t = setup('reload-target', s);
    await t.wake();
    s.task.status = 'running'; // DMS has not reset the table's statistics yet
    expect((await t.wake()).kind).toBe('waiting');
    s.stats = stat('Before load', 0);
    expect((await t.wake()).kind).toBe('waiting');
    s.stats = stat('Table completed', 9);
    expect((await t.wake()).job.state).toBe('succeeded');
    expect(s.calls).toEqual(['StartReplicationTask reload-target']);
  });

  it('Table error fails the step saying what to do', async () => {
    const s: Script = { task: { arn: 'arn:t', id: 'task-1', status: 'running' }, stats: stat('Table completed', 1), calls: [] };
    const t = setup('reload-table', s);
    await t.wake();
    await t.wake(); // sees the reload under way
    s.stats = stat('Table error', 40);
    const out = await t.wake();
    expect(out.job.state).toBe('failed');
    expect(out.job.error).toMatch(/DMS reports Table error for ak\.t during its full load \(FullLoadRows 40; task task-1 is running\).*CloudWatch log.*Retry requests the load again/);
    // the failed load is forgotten: a retry requests a new one instead of waiting on the old
    expect(out.job.handles['full-load.started']).toBe('');
    expect(out.job.handles['full-load.requestedAt']).toBe('');
  });

  it('a task that failed under the load: its LastFailureMessage in the error', async () => {
    const s: Script = { task: { arn: 'arn:t', id: 'task-1', status: 'failed', lastFailureMessage: 'Last Error binlog gone', stopReason: 'Stop Reason FATAL_ERROR' }, stats: undefined, calls: [] };
    const t = setup('reload-target', s);
    await t.wake();
    s.task = { ...s.task, status: 'failed' };
    const out = await t.wake();
    expect(out.job.state).toBe('failed');
    expect(out.job.error).toContain('DMS task task-1 failed during the full load of ak.t: LastFailureMessage: Last Error binlog gone; StopReason: Stop Reason FATAL_ERROR');
  });

  it('a Table error from before the start is stale: the step waits for the load instead of failing', async () => {
    const s: Script = { task: { arn: 'arn:t', id: 'task-1', status: 'failed' }, stats: stat('Table error', 3), calls: [] };
    const t = setup('reload-target', s);
    await t.wake();
    expect((await t.wake()).kind).toBe('waiting');
    expect(t.rep.progress.at(-1)).toMatch(/still Table error from before the start \(task starting\)/);
    s.task.status = 'running';
    s.stats = stat('Full load', 2);
    expect((await t.wake()).kind).toBe('waiting');
    s.stats = stat('Table completed', 5);
    expect((await t.wake()).job.state).toBe('succeeded');
  });

  it('reload-target refuses a running task (nothing started)', async () => {
    const s: Script = { task: { arn: 'arn:t', id: 'task-1', status: 'running' }, stats: undefined, calls: [] };
    const out = await setup('reload-target', s).wake();
    expect(out.job.state).toBe('failed');
    expect(out.job.error).toMatch(/needs a stopped or failed task/);
    expect(s.calls).toEqual([]);
  });
});
