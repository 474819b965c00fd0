/**
 * The shared step library (src/jobs/steps/): the generic steps recover and setup build from must not need a ModifyPlan —
 * none of them may import src/modify or the modify runbook, even indirectly (an import-graph walk over the real source
 * files) — and the guards they carry hold on their own: a drop never runs without its approval on record, a start with
 * a type is called once and says so when the DMS port cannot do it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RunbookDeps } from '../../src/jobs/deps.js';
import type { StepContext } from '../../src/jobs/runbook.js';
import type { JobRecord } from '../../src/jobs/types.js';
import type { DmsPort, DmsTask } from '../../src/replication/port.js';
import type { Registry } from '../../src/schema/registry.js';
import type { Warehouse } from '../../src/warehouse/port.js';
import { dropTableStep, approveDropStep } from '../../src/jobs/steps/drop-table.js';
import { startTaskStep } from '../../src/jobs/steps/dms-task.js';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');
const GENERIC = ['dms-task', 'table-names', 'create-table', 'log-check', 'freshness', 'drop-table', 'compare', 'dms-full-load', 'dms-applies', 'cdc-reload', 'duplicate-keys', 'create-schema', 'create-from-schemas', 'verify-schemas'];

/** every src file `file` imports, transitively (relative imports only; `.js` specifiers resolve to the `.ts` source) */
async function importClosure(file: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const todo = [file];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const text = await readFile(f, 'utf8');
    for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+'(\.{1,2}\/[^']+)'|import\s+'(\.{1,2}\/[^']+)'/g)) {
      const spec = m[1] ?? m[2]!;
      todo.push(path.resolve(path.dirname(f), spec.replace(/\.js$/, '.ts')));
    }
  }
  return seen;
}

const rel = (f: string) => path.relative(SRC, f);

describe('generic steps are importable without src/modify', () => {
  for (const name of GENERIC) {
    it(`steps/${name}.ts reaches neither src/modify, the modify runbook nor the deep-copy context`, async () => {
      const closure = [...(await importClosure(path.join(SRC, 'jobs/steps', `${name}.ts`)))].map(rel);
      // the walk followed real imports: every generic step reaches the runbook model or the statements helper
      expect(closure.some((f) => f === 'jobs/runbook.ts' || f === 'jobs/statements.ts' || f === 'jobs/deps.ts')).toBe(true);
      const bad = closure.filter((f) => f.startsWith('modify/') || f.startsWith('jobs/runbooks/') || f === 'jobs/steps/deep-copy-context.ts');
      expect(bad).toEqual([]);
    });
  }

  it('the walk does see such an import where there is one (the deep-copy context needs src/modify)', async () => {
    const closure = [...(await importClosure(path.join(SRC, 'jobs/steps/deep-copy-context.ts')))].map(rel);
    expect(closure.filter((f) => f.startsWith('modify/')).length).toBeGreaterThan(0);
  });
});

function job(approvals: JobRecord['approvals'] = []): JobRecord {
  return { id: 'j1', createdAt: 1, approvals, handles: {}, requester: 'U1' } as unknown as JobRecord;
}

function ctxOf(deps: RunbookDeps, j: JobRecord, calls: string[]): StepContext<RunbookDeps> & { handles: Record<string, string> } {
  const handles: Record<string, string> = {};
  return {
    job: j,
    deps,
    handles,
    setHandle: async (k, v) => {
      calls.push(`setHandle ${k}`);
      handles[k] = v;
    },
    note: async () => undefined,
    audit: async (a) => void calls.push(`audit ${a.text ?? ''}`),
    signal: new AbortController().signal,
    fence: 0,
  };
}

/** a warehouse where every looked-up table exists and every submitted statement finishes */
function warehouse(calls: string[]): Warehouse {
  return {
    query: async () => ({ statementId: 'q', columns: [], rows: [{ relname: 'x' }] }),
    submit: async (sql: string) => {
      calls.push(`submit ${sql}`);
      return 'st-1';
    },
    submitBatch: async (batch: readonly string[]) => {
      calls.push(`submitBatch ${batch.join('; ')}`);
      return 'st-1';
    },
    wait: async (id: string) => ({ id, status: 'FINISHED', resultRows: 0 }),
    describe: async (id: string) => ({ id, status: 'FINISHED', resultRows: 0 }),
  } as unknown as Warehouse;
}

describe('drop-table', () => {
  const opts = {
    name: 'drop',
    title: 'Drop old_t',
    schema: 's',
    table: 'old_t',
    keep: 't',
    approvalStep: 'approve-drop',
    sql: { sql: 'DROP TABLE s.old_t' },
    handle: 'stmt:drop',
    statementName: () => 'job j1 drop',
  };

  it('refuses to drop without the approval on record, and submits nothing', async () => {
    const calls: string[] = [];
    const deps = { warehouse: warehouse(calls), registry: {} as Registry };
    await expect(dropTableStep(opts).run(ctxOf(deps, job(), calls))).rejects.toThrow(/no approval of step approve-drop on record/);
    await expect(dropTableStep(opts).run(ctxOf(deps, job([{ step: 'approve-drop', decision: 'rejected', by: 'U2', at: 1 }]), calls))).rejects.toThrow(/no approval/);
    expect(calls.filter((c) => c.startsWith('submit'))).toEqual([]);
  });

  it('drops once approved, records the handle, and the approval prompt names the table', async () => {
    const calls: string[] = [];
    const deps = { warehouse: warehouse(calls), registry: {} as Registry };
    const c = ctxOf(deps, job([{ step: 'approve-drop', decision: 'approved', by: 'U2', at: 1 }]), calls);
    expect(await dropTableStep(opts).run(c)).toBe('dropped old_t (statement st-1)');
    expect(calls).toContain('submit DROP TABLE s.old_t');
    expect(c.handles['dropped']).toBe('1');
    const gate = approveDropStep({ name: 'approve-drop', title: 'Approval', schema: 's', table: 'old_t', prompt: { after: () => 'Because.' } });
    expect(gate.approval?.prompt({ job: job(), deps, handles: {} })).toBe('Drop s.old_t? Because.');
  });
});

describe('dms-task startTaskStep', () => {
  const task = (status: string): DmsTask => ({ arn: 'arn:task', id: 'ak-core', status });
  const unused = async (): Promise<never> => {
    throw new Error('not used by startTaskStep');
  };
  function port(calls: string[], status: { now: string }): DmsPort {
    return {
      findTask: async () => task(status.now),
      describeTask: async () => task(status.now),
      stopTask: async () => task(status.now),
      resumeTask: async () => task(status.now),
      waitForStatus: async (_arn: string, s: string) => task(s),
      tableStats: async () => undefined,
      reloadTable: async () => undefined,
      startTask: async (_arn: string, type: string) => {
        calls.push(`startTask ${type}`);
        status.now = 'starting';
        return task('starting');
      },
      createTask: unused,
      describeEndpoints: unused,
      createRedshiftTarget: unused,
      describeConnections: unused,
      testConnection: unused,
      describeInstances: unused,
    };
  }
  const step = startTaskStep({ name: 'start-task', title: 'Start', taskId: 'ak-core', type: 'reload-target' });

  it('records the start time before the call, and a resumed run of a running task does not start it again', async () => {
    const calls: string[] = [];
    const status = { now: 'stopped' };
    const c = ctxOf({ warehouse: warehouse(calls), registry: {} as Registry, dms: port(calls, status) }, job(), calls);
    expect(await step.run(c)).toBe('task ak-core is running (StartReplicationTask reload-target)');
    expect(calls.indexOf('setHandle startedAt')).toBeLessThan(calls.indexOf('startTask reload-target'));
    status.now = 'running';
    expect(await step.isDone(c)).toBe(true);
    await step.run(c);
    expect(calls.filter((x) => x.startsWith('startTask'))).toEqual(['startTask reload-target']);
  });
});
