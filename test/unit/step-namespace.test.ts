/**
 * namespaced(): one runbook's steps composed several times in one job (setup: a deep copy per cdc table). Each copy
 * sees only its own handles and its own approvals, by the names it was written with; the job sees prefixed names.
 */
import { describe, expect, it } from 'vitest';
import { namespaced } from '../../src/jobs/namespace.js';
import type { Step, StepContext } from '../../src/jobs/runbook.js';
import type { JobRecord } from '../../src/jobs/types.js';

type D = Record<string, never>;

/** the shape modify's drop has: a handle written before acting, an approval of `approve-drop` required */
const drop: Step<D> = {
  name: 'drop',
  title: 'drop old',
  plan: (ctx) => [{ kind: 'sql', text: `DROP (seen before: ${ctx.handles['stmt:drop'] ?? 'none'})` }],
  isDone: async (ctx) => ctx.handles['stmt:drop'] !== undefined,
  run: async (ctx) => {
    if (![...ctx.job.approvals].reverse().find((a) => a.step === 'approve-drop' && a.decision === 'approved')) throw new Error('no approval of approve-drop');
    await ctx.setHandle('stmt:drop', 'stmt-1');
    return `dropped; handles seen: ${Object.keys(ctx.handles).sort().join(',')}`;
  },
  undo: async (ctx) => {
    await ctx.setHandle('undone', '1');
  },
};
const gate: Step<D> = { name: 'approve-drop', title: 'approve', plan: () => [], isDone: async () => false, run: async () => 'ok', approval: { prompt: (ctx) => `drop? (${ctx.handles['stmt:drop'] ?? 'not yet'})` } };

function job(approvals: JobRecord['approvals']): JobRecord {
  return { id: '7', kind: 'setup', params: {}, state: 'running', requester: 'U1', steps: [], cursor: 0, handles: {}, approvals, createdAt: 0, updatedAt: 0, origin: { kind: 'console' } } as unknown as JobRecord;
}

function ctxOf(j: JobRecord, handles: Record<string, string>): StepContext<D> {
  return {
    job: j,
    deps: {},
    handles,
    setHandle: async (k, v) => {
      handles[k] = v;
    },
    note: async () => {},
    audit: async () => {},
    signal: new AbortController().signal,
    fence: 0,
  };
}

describe('namespaced()', () => {
  it('prefixes names, keeps each copy to its own handles and approvals', async () => {
    const a = namespaced('conform-a.', [gate, drop]);
    const b = namespaced('conform-b.', [gate, drop]);
    expect([...a, ...b].map((s) => s.name)).toEqual(['conform-a.approve-drop', 'conform-a.drop', 'conform-b.approve-drop', 'conform-b.drop']);
    expect(a[0]!.approval).toBeDefined();
    expect(a[1]!.approval).toBeUndefined();

    // only a's drop was approved: b's drop refuses, a's runs and writes its handle under its prefix
    const handles: Record<string, string> = { 'logcheck.state': '{}' };
    const j = job([{ step: 'conform-a.approve-drop', decision: 'approved', by: 'U2', at: 1 }]);
    await expect(b[1]!.run(ctxOf(j, handles))).rejects.toThrow('no approval of approve-drop');
    expect(await a[1]!.isDone(ctxOf(j, handles))).toBe(false);
    expect(await a[1]!.run(ctxOf(j, handles))).toBe('dropped; handles seen: stmt:drop');
    expect(handles).toEqual({ 'logcheck.state': '{}', 'conform-a.stmt:drop': 'stmt-1' });
    expect(await a[1]!.isDone(ctxOf(j, handles))).toBe(true);
    expect(await b[1]!.isDone(ctxOf(j, handles))).toBe(false);

    // plan / the approval prompt read the namespace's handles too; undo writes under the prefix
    expect(a[1]!.plan({ job: j, deps: {}, handles })).toEqual([{ kind: 'sql', text: 'DROP (seen before: stmt-1)' }]);
    expect(b[0]!.approval!.prompt({ job: j, deps: {}, handles })).toBe('drop? (not yet)');
    await b[1]!.undo!(ctxOf(j, handles));
    expect(handles['conform-b.undone']).toBe('1');
    expect(handles['undone']).toBeUndefined();
  });

  it('refuses a prefix a step name cannot carry', () => {
    expect(() => namespaced('conform a', [drop])).toThrow('must be letters, digits');
  });
});
