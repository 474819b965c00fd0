/**
 * The runbook engine on its own ports (src/jobs/ports.ts) with in-memory implementations: no Redis, no BullMQ. Also
 * the import boundary that makes this possible: nothing in src/jobs imports src/queue, BullMQ or ioredis.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runJob } from '../../src/jobs/engine.js';
import { type Runbook, type Step, waitUntil } from '../../src/jobs/runbook.js';
import type { JobRecord, Reporter } from '../../src/jobs/types.js';
import { MemoryAuditLog, MemoryJobStore, MemoryTableLocks } from '../support/memory-ports.js';

const SRC_JOBS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/jobs');

function newJob(id: string): JobRecord {
  return {
    id,
    kind: 'mem',
    table: 'public.t',
    requester: 'U1',
    commandText: 'mem',
    summary: 'in-memory job',
    params: {},
    state: 'queued',
    cursor: 0,
    steps: [],
    handles: {},
    approvals: [],
    origin: { kind: 'console' },
    createdAt: 0,
    updatedAt: 0,
  };
}

function recorder(): Reporter & { lines: string[] } {
  const lines: string[] = [];
  const r = (name: string) => async (job: JobRecord, x?: unknown) => void lines.push(`${name} ${job.id}${typeof x === 'string' ? ` ${x}` : x && typeof x === 'object' && 'name' in x ? ` ${String(x.name)}` : ''}`);
  return {
    lines,
    jobStarted: r('jobStarted'),
    stepStarted: r('stepStarted'),
    stepFinished: r('stepFinished'),
    stepFailed: r('stepFailed'),
    approvalRequested: r('approvalRequested'),
    approvalResolved: r('approvalResolved'),
    note: r('note'),
    jobFinished: r('jobFinished'),
  };
}

function ports() {
  const store = new MemoryJobStore();
  return { store, locks: new MemoryTableLocks(store), audit: new MemoryAuditLog() };
}

describe('engine on in-memory ports', () => {
  it('runs a job to the end: steps, lock taken and released, audit', async () => {
    const p = ports();
    const reporter = recorder();
    const ran: string[] = [];
    const step = (name: string): Step<null> => ({ name, title: name, plan: () => [], isDone: async () => false, run: async () => void ran.push(name) });
    const rb: Runbook<null> = { kind: 'mem', steps: [step('a'), step('b')] };
    p.store.put(newJob('1'));
    const out = await runJob(rb, '1', { ...p, reporter, deps: null });
    expect(out.kind).toBe('finished');
    expect(out.job.state).toBe('succeeded');
    expect(ran).toEqual(['a', 'b']);
    expect(p.locks.held.size).toBe(0);
    expect(p.audit.entries.map((e) => e.event)).toEqual(['lock-acquired', 'started', 'step-start', 'step-end', 'step-start', 'step-end', 'lock-released', 'finished']);
  });

  it('a waiting step parks the job (no loop in the engine), is announced once, and a cancel while parked unwinds it', async () => {
    const p = ports();
    const reporter = recorder();
    let looks = 0;
    const undone: string[] = [];
    const rb: Runbook<null> = {
      kind: 'mem',
      steps: [
        { name: 'change', title: 'change', plan: () => [], isDone: async () => false, run: async () => 'changed', undo: async () => void undone.push('change') },
        {
          name: 'watch',
          title: 'watch',
          plan: () => [],
          isDone: async () => false,
          run: async (ctx) => {
            looks++;
            await ctx.setHandle('looks', String(looks));
            return waitUntil(Date.now() - 1, 'waiting for the world');
          },
        },
      ],
    };
    p.store.put(newJob('2'));
    const first = await runJob(rb, '2', { ...p, reporter, deps: null });
    expect(first).toMatchObject({ kind: 'waiting' });
    expect(first.job.waiting).toMatchObject({ step: 'watch', note: 'waiting for the world' });
    const second = await runJob(rb, '2', { ...p, reporter, deps: null });
    expect(second.kind).toBe('waiting');
    expect(looks).toBe(2);
    expect((await p.store.get('2'))?.handles['looks']).toBe('2');
    // one "started", one step start, one note however often the step looked
    expect(reporter.lines.filter((l) => l.startsWith('jobStarted'))).toHaveLength(1);
    expect(reporter.lines.filter((l) => l === 'stepStarted 2 watch')).toHaveLength(1);
    expect(reporter.lines.filter((l) => l.startsWith('note'))).toEqual(['note 2 ⏳ waiting for the world']);

    await p.store.update('2', (j) => void (j.cancelRequested = true));
    const cancelled = await runJob(rb, '2', { ...p, reporter, deps: null });
    expect(cancelled.job.state).toBe('cancelled');
    expect(cancelled.job.waiting).toBeUndefined();
    expect(undone).toEqual(['change']);
    expect(looks).toBe(2);
  });

  it('src/jobs imports neither src/queue nor BullMQ nor ioredis', async () => {
    const files: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(path.join(d, e.name));
        else if (e.name.endsWith('.ts')) files.push(path.join(d, e.name));
      }
    };
    await walk(SRC_JOBS);
    const offenders: string[] = [];
    for (const f of files) {
      const text = await readFile(f, 'utf8');
      for (const m of text.matchAll(/from '([^']+)'/g)) {
        const spec = m[1] ?? '';
        if (spec === 'bullmq' || spec === 'ioredis' || /(^|\/)queue\//.test(spec)) offenders.push(`${path.relative(SRC_JOBS, f)} → ${spec}`);
      }
    }
    expect(files.length).toBeGreaterThan(5);
    expect(offenders).toEqual([]);
  });
});
