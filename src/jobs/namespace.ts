/**
 * Compose one runbook's steps several times in one job (setup: modify's deep copy to the definition for each cdc table
 * that needs one). A runbook's steps name their handles (`stmt:copy`, `conform.needed`) and approval steps
 * (`approve-drop`) as if they had the job to themselves; `namespaced(prefix, steps)` gives them that:
 *  - each step's name becomes `<prefix><name>` (the job record, the thread and the approval buttons show that name);
 *  - the step sees only the handles under `<prefix>` — read, written (setHandle) and listed without the prefix;
 *  - it sees the job's approvals of its own namespace, by their names without the prefix (drop-table's "is there an
 *    approval of `approve-drop` on record" reads its own, never another table's).
 * Everything else (the job id, the requester, note, audit, the signal, the lock's fence) is the job's.
 */
import type { JobRecord } from './types.js';
import type { PlanContext, Step, StepContext } from './runbook.js';

/** A view of `handles` holding only the keys under `prefix`, without it; writes land under the prefix. */
function handleView(handles: Record<string, string>, prefix: string): Record<string, string> {
  const inner = (k: string | symbol): string | undefined => (typeof k === 'string' ? prefix + k : undefined);
  return new Proxy(handles, {
    get: (t, k) => {
      const key = inner(k);
      return key === undefined ? undefined : t[key];
    },
    set: (t, k, v: string) => {
      const key = inner(k);
      if (key === undefined) return false;
      t[key] = v;
      return true;
    },
    deleteProperty: (t, k) => {
      const key = inner(k);
      if (key !== undefined) delete t[key];
      return true;
    },
    has: (t, k) => {
      const key = inner(k);
      return key !== undefined && key in t;
    },
    ownKeys: (t) => Object.keys(t).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)),
    getOwnPropertyDescriptor: (t, k) => {
      const key = inner(k);
      return key !== undefined && key in t ? { value: t[key], writable: true, enumerable: true, configurable: true } : undefined;
    },
  });
}

function jobView(job: JobRecord, prefix: string): JobRecord {
  return { ...job, approvals: job.approvals.filter((a) => a.step.startsWith(prefix)).map((a) => ({ ...a, step: a.step.slice(prefix.length) })) };
}

function planView<D>(ctx: PlanContext<D>, prefix: string): PlanContext<D> {
  return { ...ctx, job: jobView(ctx.job, prefix), handles: handleView({ ...ctx.handles }, prefix) };
}

function stepView<D>(ctx: StepContext<D>, prefix: string): StepContext<D> {
  return {
    ...ctx,
    job: jobView(ctx.job, prefix),
    handles: handleView(ctx.handles, prefix),
    setHandle: (key, value) => ctx.setHandle(prefix + key, value),
  };
}

/** The steps under `prefix` (letters, digits, . _ - ; ending in `.` reads best: `conform-core_tag.`). */
export function namespaced<D>(prefix: string, steps: readonly Step<D>[]): Step<D>[] {
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(prefix)) throw new Error(`step namespace "${prefix}" must be letters, digits, . _ -`);
  return steps.map((s): Step<D> => {
    const approval = s.approval;
    const undo = s.undo;
    return {
      name: prefix + s.name,
      title: s.title,
      plan: (ctx) => s.plan(planView(ctx, prefix)),
      isDone: (ctx) => s.isDone(stepView(ctx, prefix)),
      run: (ctx) => s.run(stepView(ctx, prefix)),
      ...(undo ? { undo: (ctx: StepContext<D>) => undo.call(s, stepView(ctx, prefix)) } : {}),
      ...(approval ? { approval: { prompt: (ctx: PlanContext<D>) => approval.prompt(planView(ctx, prefix)) } } : {}),
    };
  });
}
