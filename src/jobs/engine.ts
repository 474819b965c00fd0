/**
 * The runbook engine: runs one job's runbook from the job's cursor, persisting the cursor, the step records and the
 * handles in the job record after every step, and showing its life through a Reporter.
 *
 * For each step: stop if cancel was requested → check the table lock's fence → `isDone()` (already done: mark it
 * 'skipped', which is what makes a resumed job never run a step twice) → approval gate (no decision yet: park) →
 * `run()`. A failure leaves the job 'failed' with the cursor AT the failed step: `retry` resumes there, `rollback`
 * undoes the completed steps in reverse. Reject, cancel and rollback all unwind the same way (pgroll's model: every
 * operation knows how to take itself back).
 *
 * The engine knows nothing of BullMQ: parking returns `{ kind: 'parked' }` and the worker (src/queue/queue.ts) moves the
 * BullMQ job to the delayed set so no worker is held while people decide. A step that waits for the world throws
 * WaitSignal: the engine records `job.waiting` and returns `{ kind: 'waiting', untilMs }`, parked the same way; the
 * resumed run neither announces the job nor the step again (one "started" per job, one per step).
 */
import { randomBytes } from 'node:crypto';
import { type AuditLog, type JobStore, SETTLED_STATES, type TableLocks } from './ports.js';
import { type NothingToDo, type PlanContext, type PlannedAction, type Runbook, type Step, type StepContext, type StepResult, WaitSignal, runbookProblems } from './runbook.js';
import type { ApprovalRecord, JobRecord, JobState, Reporter, StepRecord } from './types.js';
import { withWaitNotices } from '../util/retry.js';

export interface Logger {
  warn(obj: object, msg?: string): void;
}

export interface EngineOptions<D> {
  store: JobStore;
  audit: AuditLog;
  locks: TableLocks;
  reporter: Reporter;
  deps: D;
  /** aborted when the worker shuts down or BullMQ cancels the job */
  signal?: AbortSignal;
  logger?: Logger;
}

export type EngineOutcome =
  | { kind: 'finished'; job: JobRecord }
  | { kind: 'parked'; job: JobRecord; nonce: string }
  /** a step waits for the world (WaitSignal): look again at `untilMs`; the queue parks the job until then */
  | { kind: 'waiting'; job: JobRecord; untilMs: number };

export interface PlannedStep {
  index: number;
  name: string;
  title: string;
  /** the gate's prompt when the step needs approval */
  approval?: string;
  actions: PlannedAction[];
}

export function isSettled(state: JobState): boolean {
  return (SETTLED_STATES as readonly string[]).includes(state);
}

export function initialSteps<D>(runbook: Runbook<D>): StepRecord[] {
  return runbook.steps.map((s): StepRecord => ({ name: s.name, title: s.title, state: 'pending', ...(s.phase !== undefined ? { phase: s.phase } : {}) }));
}

/** Dry-run: every step with the exact actions it would take. Runs nothing, writes nothing. */
export function planJob<D>(runbook: Runbook<D>, ctx: { job: JobRecord; deps: D; handles?: Record<string, string> }): PlannedStep[] {
  const pctx: PlanContext<D> = { job: ctx.job, deps: ctx.deps, handles: ctx.handles ?? ctx.job.handles };
  return runbook.steps.map((s, index) => {
    const prompt = s.approval?.prompt(pctx);
    const actions = s.plan(pctx);
    return {
      index,
      name: s.name,
      title: s.title,
      ...(prompt !== undefined ? { approval: prompt } : {}),
      actions: prompt !== undefined ? [{ kind: 'approval', text: prompt }, ...actions] : actions,
    };
  });
}

/** The decision recorded for a gated step, if any (the latest one counts). */
export function decisionFor(job: JobRecord, step: string): ApprovalRecord | undefined {
  return [...job.approvals].reverse().find((a) => a.step === step);
}

export function newNonce(): string {
  return randomBytes(12).toString('base64url');
}

function message(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/** Reporter calls must never break the job: a failing Slack update is logged and the job goes on. */
function safe(reporter: Reporter, logger: Logger | undefined): Reporter {
  const wrap =
    <A extends unknown[]>(name: string, fn: (...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      try {
        await fn(...args);
      } catch (e) {
        logger?.warn({ err: message(e), call: name }, 'reporter failed');
      }
    };
  return {
    jobStarted: wrap('jobStarted', reporter.jobStarted.bind(reporter)),
    stepStarted: wrap('stepStarted', reporter.stepStarted.bind(reporter)),
    stepFinished: wrap('stepFinished', reporter.stepFinished.bind(reporter)),
    stepFailed: wrap('stepFailed', reporter.stepFailed.bind(reporter)),
    approvalRequested: wrap('approvalRequested', reporter.approvalRequested.bind(reporter)),
    approvalResolved: wrap('approvalResolved', reporter.approvalResolved.bind(reporter)),
    note: wrap('note', reporter.note.bind(reporter)),
    ...(reporter.waitProgress ? { waitProgress: wrap('waitProgress', reporter.waitProgress.bind(reporter)) } : {}),
    jobFinished: wrap('jobFinished', reporter.jobFinished.bind(reporter)),
  };
}

export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

/** Steps that may have left a change behind and so are undone on rollback (in reverse). */
const UNDOABLE: ReadonlySet<StepRecord['state']> = new Set(['done', 'skipped', 'running', 'failed']);

class JobRun<D> {
  private readonly reporter: Reporter;

  constructor(
    private readonly runbook: Runbook<D>,
    private readonly o: EngineOptions<D>,
  ) {
    this.reporter = safe(o.reporter, o.logger);
  }

  private async load(id: string): Promise<JobRecord> {
    const job = await this.o.store.get(id);
    if (!job) throw new EngineError(`job ${id} not found`);
    return job;
  }

  private ctx(job: JobRecord, step: Step<D> | undefined): StepContext<D> {
    const handles = { ...job.handles };
    const stepName = step?.name;
    let current = job;
    return {
      job,
      deps: this.o.deps,
      handles,
      fence: job.fence ?? 0,
      signal: this.o.signal ?? new AbortController().signal,
      setHandle: async (key, value) => {
        current = await this.o.store.update(job.id, (j) => {
          j.handles[key] = value;
        });
        handles[key] = value;
        await this.o.audit.append({ jobId: job.id, event: 'handle', ...(stepName ? { step: stepName } : {}), ref: value, detail: key });
      },
      note: async (text) => {
        await this.reporter.note(current, text);
      },
      audit: async (call) => {
        await this.o.audit.append({
          jobId: job.id,
          event: call.kind,
          ...(stepName ? { step: stepName } : {}),
          ref: call.ref,
          outcome: call.outcome,
          ...(call.text !== undefined ? { detail: call.text } : {}),
        });
      },
    };
  }

  private async setStep(id: string, i: number, patch: Partial<StepRecord>, jobPatch: (j: JobRecord) => void = () => {}): Promise<JobRecord> {
    return this.o.store.update(id, (j) => {
      const cur = j.steps[i];
      if (cur) j.steps[i] = { ...cur, ...patch };
      jobPatch(j);
    });
  }

  /** Stop with state 'failed' (cursor kept), reporting and auditing. */
  private async fail(job: JobRecord, error: string, stepIndex?: number, extra: (j: JobRecord) => void = () => {}): Promise<EngineOutcome> {
    const now = Date.now();
    const failed = await this.o.store.update(job.id, (j) => {
      if (stepIndex !== undefined) {
        const s = j.steps[stepIndex];
        if (s) j.steps[stepIndex] = { ...s, state: 'failed', error, finishedAt: now };
        j.cursor = stepIndex;
      }
      j.state = 'failed';
      j.error = error;
      j.finishedAt = now;
      delete j.waiting;
      extra(j);
    });
    const stepRec = stepIndex !== undefined ? failed.steps[stepIndex] : undefined;
    if (stepRec) {
      await this.o.audit.append({ jobId: job.id, event: 'step-fail', step: stepRec.name, outcome: 'failed', detail: error });
      await this.reporter.stepFailed(failed, stepRec, error);
    }
    await this.o.audit.append({ jobId: job.id, event: 'finished', outcome: 'failed', detail: error });
    await this.reporter.jobFinished(failed);
    return { kind: 'finished', job: failed };
  }

  /** Does this job still hold its table's lock with its fence? (Always true for jobs without a table.) */
  private async fenceOk(job: JobRecord): Promise<string | undefined> {
    if (!job.table) return undefined;
    if (await this.o.locks.check(job.table, job.id, job.fence ?? -1)) return undefined;
    const h = await this.o.locks.holder(job.table);
    return h
      ? `the lock on ${job.table} now belongs to job ${h.jobId} (fence ${h.fence}, ours was ${job.fence ?? 'none'}); this job stops so it cannot write over that job's work`
      : `the lock on ${job.table} was released (by \`unlock\`?) while this job was not running; retry to take it again`;
  }

  async run(jobId: string): Promise<EngineOutcome> {
    let job = await this.load(jobId);
    if (isSettled(job.state) || job.state === 'failed') return { kind: 'finished', job };

    const problems = runbookProblems(this.runbook);
    if (problems.length) return this.fail(job, `runbook "${this.runbook.kind}" is malformed: ${problems.join('; ')}`);

    // Step records: filled on first run, and must match the runbook on every later run.
    if (job.steps.length === 0) {
      const steps = initialSteps(this.runbook);
      job = await this.o.store.update(jobId, (j) => {
        if (j.steps.length === 0) j.steps = steps;
      });
    }
    const want = this.runbook.steps.map((s) => s.name).join(',');
    const have = job.steps.map((s) => s.name).join(',');
    if (want !== have) {
      return this.fail(job, `the ${this.runbook.kind} runbook's steps changed since job ${jobId} was created (job: ${have}; runbook now: ${want}); roll it back or start a new job`);
    }

    // A spurious wake of a parked job (the park delay ran out, a stray promote): park again, same nonce.
    if (job.state === 'awaiting-approval' && job.pendingApproval && !job.cancelRequested && !job.rollbackRequested) {
      const i = this.runbook.steps.findIndex((s) => s.name === job.pendingApproval?.step);
      const step = this.runbook.steps[i];
      if (step && !decisionFor(job, step.name)) return this.park(job, step, i);
    }

    // Woken before a wait's time with nothing to do (a stray promote): park again, saying nothing.
    if (job.waiting && job.state === 'running' && !job.cancelRequested && !job.rollbackRequested && Date.now() < job.waiting.untilMs - 50) {
      return { kind: 'waiting', job, untilMs: job.waiting.untilMs };
    }
    const resumingWait = job.waiting !== undefined;

    // The table lock: taken at enqueue; re-taken here if it was released while the job was not running.
    if (job.table) {
      const lock = await this.o.locks.acquire(job.table, jobId);
      if (!lock.ok) {
        // We held it before (fence set): someone unlocked the table and another job took it meanwhile.
        const why =
          job.fence !== undefined
            ? `the lock on ${job.table} now belongs to job ${lock.holder} (${lock.holderState}, fence ${lock.holderFence}; ours was ${job.fence}); this job stops so it cannot write over that job's work — retry or roll it back once job ${lock.holder} is done`
            : lock.message;
        return this.fail(job, why);
      }
      if (!lock.reentrant) {
        await this.o.audit.append({
          jobId,
          event: lock.takenOverFrom ? 'lock-taken-over' : 'lock-acquired',
          ref: String(lock.fence),
          detail: lock.takenOverFrom ? `${job.table} from job ${lock.takenOverFrom.jobId} (${lock.takenOverFrom.state})` : job.table,
        });
      }
      if (job.fence !== lock.fence) job = await this.o.store.update(jobId, (j) => void (j.fence = lock.fence));
    }

    const now = Date.now();
    job = await this.o.store.update(jobId, (j) => {
      j.state = 'running';
      j.startedAt ??= now;
      delete j.error;
      delete j.finishedAt;
    });
    if (!resumingWait || job.cancelRequested || job.rollbackRequested) {
      await this.o.audit.append({ jobId, event: 'started', ref: String(job.attempt ?? 1), detail: job.rollbackRequested ? 'rollback' : job.cancelRequested ? 'cancel' : `from step ${job.cursor + 1}` });
    }
    if (job.cancelRequested) return this.unwind(job, 'cancelled');
    if (!resumingWait) await this.reporter.jobStarted(job);
    if (job.rollbackRequested) return this.unwind(job, 'rolled-back');
    return this.forward(job);
  }

  private async forward(start: JobRecord): Promise<EngineOutcome> {
    const jobId = start.id;
    for (let i = start.cursor; i < this.runbook.steps.length; i++) {
      const step = this.runbook.steps[i];
      if (!step) break;
      let job = await this.load(jobId);
      if (job.cancelRequested) return this.unwind(job, 'cancelled');
      if (job.rollbackRequested) return this.unwind(job, 'rolled-back');
      const lost = await this.fenceOk(job);
      if (lost) return this.fail(job, lost, i);

      const ctx = this.ctx(job, step);
      let done: boolean | NothingToDo;
      try {
        done = await withWaitNotices((text) => void ctx.note(text).catch(() => undefined), () => step.isDone(ctx));
      } catch (e) {
        return this.fail(job, `step ${i + 1} "${step.title}": could not check whether it is already done: ${message(e)}`, i);
      }
      if (done) {
        job = await this.setStep(jobId, i, { state: 'skipped', detail: typeof done === 'object' ? done.nothingToDo : 'already done', finishedAt: Date.now() }, (j) => {
          j.cursor = i + 1;
        });
        await this.o.audit.append({ jobId, event: 'step-skip', step: step.name, outcome: typeof done === 'object' ? 'nothing to do' : 'already done', ...(typeof done === 'object' ? { detail: done.nothingToDo } : {}) });
        const rec = job.steps[i];
        if (rec) await this.reporter.stepFinished(job, rec);
        continue;
      }

      if (step.approval) {
        const decision = decisionFor(job, step.name);
        if (!decision) return this.park(job, step, i);
        if (decision.decision === 'rejected') return this.unwind(job, 'rejected');
      }

      const wasWaiting = job.waiting?.step === step.name && job.steps[i]?.state === 'running' ? job.waiting : undefined;
      if (wasWaiting) {
        job = await this.setStep(jobId, i, {}, (j) => {
          j.cursor = i;
          j.state = 'running';
        });
      } else {
        job = await this.setStep(jobId, i, { state: 'running', startedAt: Date.now(), error: undefined, detail: undefined, status: undefined }, (j) => {
          j.cursor = i;
          j.state = 'running';
          delete j.waiting;
        });
        const startedRec = job.steps[i];
        if (startedRec) await this.reporter.stepStarted(job, startedRec);
        await this.o.audit.append({ jobId, event: 'step-start', step: step.name });
      }

      let result: StepResult;
      try {
        const runCtx = this.ctx(job, step);
        // an AWS call held back by throttling or an outage says so in the thread, while the step waits
        result = await withWaitNotices((text) => void runCtx.note(text).catch(() => undefined), () => step.run(runCtx));
      } catch (e) {
        if (e instanceof WaitSignal) return this.wait(job, step, i, e, wasWaiting);
        const why = this.o.signal?.aborted ? `interrupted (${message(this.o.signal.reason)}): ${message(e)}` : message(e);
        return this.fail(job, `step ${i + 1} "${step.title}" failed: ${why}`, i);
      }
      const detail = typeof result === 'object' ? result.detail : result;
      const warn = typeof result === 'object' && result.status === 'warn';
      job = await this.setStep(jobId, i, { state: 'done', finishedAt: Date.now(), status: warn ? 'warn' : undefined, ...(detail ? { detail } : {}) }, (j) => {
        j.cursor = i + 1;
        delete j.waiting;
      });
      await this.o.audit.append({ jobId, event: 'step-end', step: step.name, outcome: warn ? 'done with a warning' : 'done', ...(detail ? { detail } : {}) });
      const rec = job.steps[i];
      if (rec) await this.reporter.stepFinished(job, rec);
    }
    return this.settle(await this.load(jobId), 'succeeded');
  }

  /**
   * A step said "not yet" (WaitSignal): record the wait (the step stays 'running', the cursor on it) and hand the job
   * back to the queue to park until `untilMs`. The wait's note is shown once, and again only when it changes.
   */
  private async wait(job: JobRecord, step: Step<D>, i: number, w: WaitSignal, previous: JobRecord['waiting']): Promise<EngineOutcome> {
    const r = await this.o.store.transact(job.id, (j) => {
      j.cursor = i;
      j.waiting = { step: step.name, untilMs: w.untilMs, note: w.note, since: previous?.since ?? Date.now(), ...(w.progress !== undefined ? { progress: w.progress } : {}) };
      return { write: j, result: true };
    });
    if (!r.found) throw new EngineError(`job ${job.id} not found`);
    // a cancel/rollback that landed while the step looked: act on it now rather than after the wait
    if (r.job.cancelRequested) return this.unwind(r.job, 'cancelled');
    if (r.job.rollbackRequested) return this.unwind(r.job, 'rolled-back');
    if (previous?.note !== w.note) {
      await this.o.audit.append({ jobId: job.id, event: 'wait', step: step.name, ref: String(w.untilMs), detail: w.note });
      await this.reporter.note(r.job, `⏳ ${w.note}`);
    }
    // the live figure edits the progress message; it never adds a thread line
    if (w.progress !== undefined && w.progress !== previous?.progress) await this.reporter.waitProgress?.(r.job);
    return { kind: 'waiting', job: r.job, untilMs: w.untilMs };
  }

  private async park(job: JobRecord, step: Step<D>, i: number): Promise<EngineOutcome> {
    const pending = job.pendingApproval?.step === step.name ? job.pendingApproval : undefined;
    const nonce = pending?.nonce ?? newNonce();
    const prompt = pending?.prompt ?? step.approval?.prompt({ job, deps: this.o.deps, handles: job.handles }) ?? step.title;
    const r = await this.o.store.transact(job.id, (j) => {
      // a cancel/rollback that landed since our last read wins over parking
      if (j.cancelRequested || j.rollbackRequested) return { result: false };
      j.state = 'awaiting-approval';
      j.cursor = i;
      j.pendingApproval = pending ?? { step: step.name, nonce, askedAt: Date.now(), prompt };
      return { write: j, result: true };
    });
    if (!r.found) throw new EngineError(`job ${job.id} not found`);
    if (!r.result) return this.unwind(r.job, r.job.cancelRequested ? 'cancelled' : 'rolled-back');
    const parked = r.job;
    if (!pending || pending.notifiedAt === undefined) {
      await this.o.audit.append({ jobId: job.id, event: 'approval-requested', step: step.name, ref: nonce, detail: prompt });
      const rec = parked.steps[i];
      if (rec) await this.reporter.approvalRequested(parked, rec, prompt, nonce);
      const notified = await this.o.store.transact(job.id, (j) => {
        if (j.pendingApproval?.nonce !== nonce) return { result: j };
        j.pendingApproval = { ...j.pendingApproval, notifiedAt: Date.now() };
        return { write: j, result: j };
      });
      return { kind: 'parked', job: notified.found ? notified.job : parked, nonce };
    }
    return { kind: 'parked', job: parked, nonce };
  }

  /** Undo every step that may have changed something, last first; then settle in `target`. */
  private async unwind(start: JobRecord, target: 'rejected' | 'cancelled' | 'rolled-back'): Promise<EngineOutcome> {
    const jobId = start.id;
    let job = await this.o.store.update(jobId, (j) => {
      j.state = 'running';
      delete j.pendingApproval;
      delete j.waiting;
    });
    for (let i = job.steps.length - 1; i >= 0; i--) {
      const rec = job.steps[i];
      const step = this.runbook.steps[i];
      if (!rec || !step || !UNDOABLE.has(rec.state)) continue;
      if (!step.undo) continue;
      const lost = await this.fenceOk(job);
      if (lost) return this.fail(job, `rollback stopped: ${lost}`);
      await this.reporter.note(job, `↩ undoing step ${i + 1}: ${step.title}`);
      await this.o.audit.append({ jobId, event: 'undo-start', step: step.name });
      try {
        await step.undo(this.ctx(job, step));
      } catch (e) {
        const err = `rollback: undoing step ${i + 1} "${step.title}" failed: ${message(e)}; \`retry\` resumes the rollback`;
        await this.o.audit.append({ jobId, event: 'undo-fail', step: step.name, outcome: 'failed', detail: message(e) });
        return this.fail(job, err, undefined, (j) => {
          j.rollbackRequested = true;
        });
      }
      job = await this.setStep(jobId, i, { state: 'undone', finishedAt: Date.now() });
      await this.o.audit.append({ jobId, event: 'undo-end', step: step.name, outcome: 'undone' });
      const undone = job.steps[i];
      if (undone) await this.reporter.stepFinished(job, undone);
    }
    return this.settle(job, target);
  }

  private async settle(job: JobRecord, state: 'succeeded' | 'rejected' | 'cancelled' | 'rolled-back'): Promise<EngineOutcome> {
    const now = Date.now();
    const done = await this.o.store.update(job.id, (j) => {
      j.state = state;
      j.finishedAt = now;
      delete j.pendingApproval;
      delete j.waiting;
      delete j.error;
      if (state === 'rolled-back') delete j.rollbackRequested;
    });
    if (done.table && (await this.o.locks.release(done.table, done.id))) {
      await this.o.audit.append({ jobId: done.id, event: 'lock-released', detail: done.table, ref: String(done.fence ?? '') });
    }
    await this.o.audit.append({ jobId: done.id, event: 'finished', outcome: state });
    await this.reporter.jobFinished(done);
    return { kind: 'finished', job: done };
  }
}

/** Run (or resume) job `jobId` with `runbook` until it finishes, fails or parks on an approval gate. */
export async function runJob<D>(runbook: Runbook<D>, jobId: string, opts: EngineOptions<D>): Promise<EngineOutcome> {
  return new JobRun(runbook, opts).run(jobId);
}
