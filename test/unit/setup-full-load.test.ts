/**
 * setup's full-load step (runbooks/setup-dms.ts setupFullLoadStep: the library's dms-full-load composed with what setup
 * may do) on the engine's in-memory ports with a scripted DMS: a task that ran before is never started again, a running
 * one with the table loaded is done without a call, a load an earlier run started is waited for (not started twice),
 * and once the step asked for a load that load decides.
 */
import { describe, expect, it } from 'vitest';
import type { RunbookDeps } from '../../src/jobs/deps.js';
import { runJob } from '../../src/jobs/engine.js';
import type { Runbook } from '../../src/jobs/runbook.js';
import { setupFullLoadStep } from '../../src/jobs/runbooks/setup-dms.js';
import type { JobRecord, Reporter } from '../../src/jobs/types.js';
import type { DmsPort, DmsTableStat, DmsTask } from '../../src/replication/port.js';
import { MemoryAuditLog, MemoryJobStore, MemoryTableLocks } from '../support/memory-ports.js';

interface Script {
  task: DmsTask;
  stats: DmsTableStat | undefined;
  calls: string[];
}

function fakeDms(s: Script): DmsPort {
  const fake: Pick<DmsPort, 'findTask' | 'describeTask' | 'tableStats' | 'startTask'> = {
    findTask: async () => ({ ...s.task }),
    describeTask: async () => ({ ...s.task }),
    tableStats: async () => (s.stats ? { ...s.stats } : undefined),
    startTask: async (_arn, type) => {
      s.calls.push(`StartReplicationTask ${type}`);
      s.task = { ...s.task, status: 'starting' };
      return { ...s.task };
    },
  };
  return new Proxy(fake, { get: (t, k) => (k in t ? t[k as keyof typeof t] : () => Promise.reject(new Error(`unexpected DMS call ${String(k)}`))) }) as DmsPort;
}

const stat = (state: string, rows: number): DmsTableStat => ({ schema: 'ak', table: 't', state, fullLoadRows: rows, fullLoadErrorRows: 0, fullLoadReloaded: false, inserts: 0, updates: 0, deletes: 0, ddls: 0 });

function world(s: Script) {
  const store = new MemoryJobStore();
  const nop = async (): Promise<void> => {};
  const reporter: Reporter = { jobStarted: nop, stepStarted: nop, stepFinished: nop, stepFailed: nop, approvalRequested: nop, approvalResolved: nop, note: nop, waitProgress: nop, jobFinished: nop };
  const deps = { warehouse: {} as RunbookDeps['warehouse'], registry: {} as RunbookDeps['registry'], dms: fakeDms(s), settings: { fullLoadPollMs: 50 } } satisfies RunbookDeps;
  const rb: Runbook<RunbookDeps> = { kind: 'su', steps: [setupFullLoadStep({ name: 'full-load-t', taskId: 'task-1', schema: 'ak', table: 't' })] };
  const job: JobRecord = { id: '1', kind: 'su', requester: 'U1', commandText: 'setup', summary: 'setup', params: {}, state: 'queued', cursor: 0, steps: [], handles: {}, approvals: [], origin: { kind: 'console' }, createdAt: 0, updatedAt: 0 };
  store.put(job);
  const opts = { store, locks: new MemoryTableLocks(store), audit: new MemoryAuditLog(), reporter, deps };
  return { wake: () => runJob(rb, '1', opts) };
}

describe('setup full load', () => {
  it('a new task (ready): start-replication once, done at Table completed', async () => {
    const s: Script = { task: { arn: 'arn:t', id: 'task-1', status: 'ready' }, stats: undefined, calls: [] };
    const w = world(s);
    expect((await w.wake()).kind).toBe('waiting');
    s.task.status = 'running';
    s.stats = stat('Full load', 3);
    expect((await w.wake()).kind).toBe('waiting');
    s.stats = stat('Table completed', 8);
    const out = await w.wake();
    expect(out.job.state).toBe('succeeded');
    expect(out.job.steps[0]?.detail).toMatch(/^Table completed: FullLoadRows 8 /);
    expect(s.calls).toEqual(['StartReplicationTask start-replication']);
  });

  it('a task that ran before (stopped) is never started again: done without a call', async () => {
    const s: Script = { task: { arn: 'arn:t', id: 'task-1', status: 'stopped' }, stats: stat('Table completed', 5), calls: [] };
    const out = await world(s).wake();
    expect(out.job.state).toBe('succeeded');
    expect(out.job.steps[0]?.state).toBe('skipped');
    expect(s.calls).toEqual([]);
  });

  it('running with the table loaded: done without a call', async () => {
    const s: Script = { task: { arn: 'arn:t', id: 'task-1', status: 'running' }, stats: stat('Table completed', 5), calls: [] };
    const out = await world(s).wake();
    expect(out.job.steps[0]?.state).toBe('skipped');
    expect(s.calls).toEqual([]);
  });

  it('running with the table still loading (an earlier run started it): waits for that load, starts nothing', async () => {
    const s: Script = { task: { arn: 'arn:t', id: 'task-1', status: 'running' }, stats: stat('Full load', 10), calls: [] };
    const w = world(s);
    expect((await w.wake()).kind).toBe('waiting');
    expect((await w.wake()).kind).toBe('waiting');
    s.stats = stat('Table completed', 20);
    const out = await w.wake();
    expect(out.job.state).toBe('succeeded');
    expect(out.job.steps[0]?.detail).toMatch(/^Table completed: FullLoadRows 20 /);
    expect(s.calls).toEqual([]);
  });
});
