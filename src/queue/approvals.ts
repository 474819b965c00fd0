/**
 * Deciding and steering jobs: approve / reject a gated step, ask again, cancel, retry, roll back, unlock a table.
 *
 * Every check happens HERE, on the server, at click time, against the job's current record (DESIGN.md §4 invariant 3):
 * the job exists and is awaiting approval of exactly that step, the button's one-time nonce is the current one, the
 * user is an approver and not the requester (unless allowed). The decision is written with a compare-and-set on the
 * record, which clears the nonce — so of two simultaneous clicks exactly one wins and the other is told who decided.
 * The parked BullMQ job is then promoted; the worker runs the gated step (approved) or unwinds (rejected).
 */
import { decisionFor, isSettled, newNonce } from '../jobs/engine.js';
import type { ApprovalRecord, JobRecord, Reporter } from '../jobs/types.js';
import type { Policy } from '../policy.js';
import type { JobQueue } from './queue.js';

export interface DecideInput {
  jobId: string;
  /** the step name carried by the button */
  step: string;
  /** the one-time nonce carried by the button */
  nonce: string;
  /** Slack user id who clicked (body.user.id — never a value from the button) */
  userId: string;
  decision: 'approved' | 'rejected';
}

export type DecideRefusal = 'not-found' | 'stale' | 'already-decided' | 'not-approver' | 'self-approval';

export type DecideResult =
  | { ok: true; job: JobRecord; approval: ApprovalRecord; message: string }
  | { ok: false; reason: DecideRefusal; message: string };

export type ControlRefusal = 'not-found' | 'not-allowed' | 'wrong-state' | 'table-locked';

export type ControlResult = { ok: true; job: JobRecord; message: string } | { ok: false; reason: ControlRefusal; message: string };

export interface JobControlOptions {
  jobs: JobQueue;
  policy: Policy;
  /** told about decisions (so the UI removes the buttons) and re-asked approvals */
  reporter?: Reporter;
  now?: () => number;
}

function at(ts: number): string {
  return new Date(ts).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function who(user: string): string {
  return `<@${user}>`;
}

/** Why the job cannot take this click, judged on its current record; undefined when it can. */
function decideStateProblem(job: JobRecord, input: DecideInput): { reason: 'stale' | 'already-decided'; message: string } | undefined {
  const pending = job.pendingApproval;
  const past = decisionFor(job, input.step);
  if (past && pending?.step !== input.step) {
    return { reason: 'already-decided', message: `job ${job.id}: step "${input.step}" was already ${past.decision} by ${who(past.by)} at ${at(past.at)}` };
  }
  if (isSettled(job.state) || job.state === 'failed') return { reason: 'stale', message: `job ${job.id} is ${job.state}; there is nothing to approve` };
  if (job.cancelRequested) return { reason: 'stale', message: `job ${job.id} is being cancelled; there is nothing to approve` };
  if (job.state !== 'awaiting-approval' || !pending) {
    return { reason: 'stale', message: `job ${job.id} is ${job.state}; it is not waiting for an approval` };
  }
  if (pending.step !== input.step) {
    return { reason: 'stale', message: `these buttons are for step "${input.step}", but job ${job.id} is waiting on step "${pending.step}"; use the latest message` };
  }
  if (pending.nonce !== input.nonce) {
    return { reason: 'stale', message: `these buttons are out of date (job ${job.id} asked again at ${at(pending.askedAt)}); use the latest message` };
  }
  return undefined;
}

export class JobControl {
  private readonly now: () => number;

  constructor(private readonly o: JobControlOptions) {
    this.now = o.now ?? Date.now;
  }

  private async tell(fn: (r: Reporter) => Promise<void>): Promise<void> {
    if (!this.o.reporter) return;
    try {
      await fn(this.o.reporter);
    } catch {
      // reporters must not break a decision that is already recorded
    }
  }

  async decide(input: DecideInput): Promise<DecideResult> {
    const { store, audit } = this.o.jobs;
    const refuse = async (reason: DecideRefusal, message: string): Promise<DecideResult> => {
      await audit.append({ jobId: input.jobId, event: 'approval-refused', actor: input.userId, step: input.step, outcome: reason, detail: message });
      return { ok: false, reason, message };
    };

    const pre = await store.get(input.jobId);
    if (!pre) return refuse('not-found', `job ${input.jobId} not found`);
    const early = decideStateProblem(pre, input);
    if (early) return refuse(early.reason, early.message);

    // Withdrawing one's own request is always allowed; every other decision needs an approver.
    if (!(input.decision === 'rejected' && input.userId === pre.requester)) {
      const may = await this.o.policy.canApprove(input.userId, pre);
      if (!may.ok) return refuse(may.code ?? 'not-approver', may.reason);
    }

    const approval: ApprovalRecord = { step: input.step, decision: input.decision, by: input.userId, at: this.now() };
    const r = await store.transact(input.jobId, (j) => {
      const problem = decideStateProblem(j, input);
      if (problem) return { result: problem };
      j.approvals.push(approval);
      delete j.pendingApproval;
      j.state = 'queued';
      return { write: j, result: undefined };
    });
    if (!r.found) return refuse('not-found', `job ${input.jobId} not found`);
    if (r.result) return refuse(r.result.reason, r.result.message);

    await audit.append({ jobId: input.jobId, event: input.decision, actor: input.userId, step: input.step, ref: input.nonce });
    await this.tell((rep) => rep.approvalResolved(r.job, approval));
    await this.o.jobs.wake(input.jobId);
    const verb = input.decision === 'approved' ? 'approved' : 'rejected (completed steps will be undone)';
    return { ok: true, job: r.job, approval, message: `job ${input.jobId}: step "${input.step}" ${verb} by ${who(input.userId)}` };
  }

  /** May `user` steer (cancel/retry/rollback/re-ask) `job`? Its requester, operators and approvers may. */
  private async maySteer(user: string, job: JobRecord): Promise<{ ok: true } | { ok: false; message: string }> {
    if (user === job.requester) return { ok: true };
    const run = await this.o.policy.canRun(user, true);
    if (run.ok) return { ok: true };
    const appr = await this.o.policy.canApprove(user, { id: job.id, requester: '' });
    if (appr.ok) return { ok: true };
    return { ok: false, message: `${who(user)} may not steer job ${job.id}: only its requester, operators and approvers may (${run.reason})` };
  }

  private async steer(
    jobId: string,
    userId: string,
    event: 'cancel-requested' | 'retry-requested' | 'rollback-requested' | 'approval-requested',
    change: (j: JobRecord) => { problem: string } | { message: string },
  ): Promise<ControlResult> {
    const { store, audit } = this.o.jobs;
    const pre = await store.get(jobId);
    if (!pre) return { ok: false, reason: 'not-found', message: `job ${jobId} not found` };
    const may = await this.maySteer(userId, pre);
    if (!may.ok) return { ok: false, reason: 'not-allowed', message: may.message };
    const r = await store.transact<{ problem: string } | { message: string }>(jobId, (j) => {
      const out = change(j);
      if ('problem' in out) return { result: out };
      j.controlledBy = userId;
      return { write: j, result: out };
    });
    if (!r.found) return { ok: false, reason: 'not-found', message: `job ${jobId} not found` };
    if ('problem' in r.result) return { ok: false, reason: 'wrong-state', message: r.result.problem };
    await audit.append({ jobId, event, actor: userId });
    return { ok: true, job: r.job, message: r.result.message };
  }

  /**
   * Stop the job between steps and undo what it did (reverse order); final state 'cancelled'. A parked job is woken
   * so it unwinds now; its approval buttons become stale.
   */
  async cancelJob(jobId: string, userId: string): Promise<ControlResult> {
    const res = await this.steer(jobId, userId, 'cancel-requested', (j) => {
      if (isSettled(j.state)) return { problem: `job ${j.id} already ${j.state}` };
      if (j.state === 'failed') return { problem: `job ${j.id} failed; \`rollback ${j.id}\` undoes its completed steps, \`retry ${j.id}\` resumes it` };
      if (j.cancelRequested) return { message: `job ${j.id}: cancel was already requested` };
      j.cancelRequested = true;
      delete j.pendingApproval;
      if (j.waiting) return { message: `job ${j.id} was waiting (${j.waiting.note}); it stops now and undoes its completed steps` };
      return { message: j.state === 'running' ? `job ${j.id} stops after its current step, then undoes its completed steps` : `job ${j.id} is being cancelled` };
    });
    if (res.ok) await this.o.jobs.wake(jobId);
    return res;
  }

  /** Resume a failed job at the step that failed (or continue its interrupted rollback). */
  async retryJob(jobId: string, userId: string): Promise<ControlResult> {
    const pre = await this.o.jobs.store.get(jobId);
    if (pre?.table && pre.state === 'failed') {
      const lock = await this.o.jobs.locks.acquire(pre.table, pre.id);
      if (!lock.ok) return { ok: false, reason: 'table-locked', message: lock.message };
    }
    const res = await this.steer(jobId, userId, 'retry-requested', (j) => {
      if (j.state !== 'failed') return { problem: `job ${j.id} is ${j.state}; only a failed job can be retried` };
      j.state = 'queued';
      j.attempt = (j.attempt ?? 1) + 1;
      delete j.error;
      const step = j.steps[j.cursor];
      return { message: j.rollbackRequested ? `job ${j.id}: resuming its rollback` : `job ${j.id}: resuming at step ${j.cursor + 1}${step ? ` "${step.title}"` : ''}` };
    });
    if (res.ok) await this.o.jobs.dispatch(res.job);
    return res;
  }

  /**
   * Undo a job's completed steps in reverse; final state 'rolled-back'. A failed job, or one parked on an approval (the
   * approval is withdrawn and its buttons go stale): `/redshift rollback` of a modify waiting for "Drop old_<t>?" swaps
   * back before anything is dropped.
   */
  async requestRollback(jobId: string, userId: string): Promise<ControlResult> {
    let parked = false;
    const res = await this.steer(jobId, userId, 'rollback-requested', (j) => {
      parked = j.state === 'awaiting-approval';
      if (parked) {
        if (j.cancelRequested) return { problem: `job ${j.id} is being cancelled already (its completed steps are being undone)` };
        j.rollbackRequested = true;
        j.state = 'queued';
        delete j.pendingApproval;
        return { message: `job ${j.id}: rolling back its completed steps, last first (the pending approval is withdrawn)` };
      }
      if (j.state !== 'failed') return { problem: `job ${j.id} is ${j.state}; only a failed job or one waiting for an approval can be rolled back` };
      j.state = 'queued';
      j.rollbackRequested = true;
      j.attempt = (j.attempt ?? 1) + 1;
      delete j.error;
      return { message: `job ${j.id}: rolling back its completed steps, last first` };
    });
    if (res.ok) {
      if (parked) await this.o.jobs.wake(jobId);
      else await this.o.jobs.dispatch(res.job);
    }
    return res;
  }

  /** Ask for the pending approval again with a new nonce: the old buttons stop working. */
  async reask(jobId: string, userId: string): Promise<ControlResult> {
    const nonce = newNonce();
    const now = this.now();
    const res = await this.steer(jobId, userId, 'approval-requested', (j) => {
      if (j.state !== 'awaiting-approval' || !j.pendingApproval) return { problem: `job ${j.id} is ${j.state}; it is not waiting for an approval` };
      j.pendingApproval = { ...j.pendingApproval, nonce, askedAt: now };
      delete j.pendingApproval.notifiedAt;
      return { message: `job ${j.id}: approval of step "${j.pendingApproval.step}" asked again` };
    });
    if (!res.ok) return res;
    const pending = res.job.pendingApproval;
    const step = res.job.steps.find((s) => s.name === pending?.step);
    if (pending && step) {
      await this.tell((rep) => rep.approvalRequested(res.job, step, pending.prompt ?? step.title, nonce));
      await this.o.jobs.store.transact(jobId, (j) => {
        if (j.pendingApproval?.nonce !== nonce) return { result: undefined };
        j.pendingApproval = { ...j.pendingApproval, notifiedAt: this.now() };
        return { write: j, result: undefined };
      });
    }
    return res;
  }

  /** Operator override: release a table's lock unless its holder is running. */
  async unlockTable(table: string, userId: string): Promise<{ ok: true; message: string } | { ok: false; reason: 'not-allowed' | 'wrong-state'; message: string }> {
    const may = await this.o.policy.canRun(userId, true);
    if (!may.ok) return { ok: false, reason: 'not-allowed', message: may.reason };
    const r = await this.o.jobs.locks.unlock(table);
    if (!r.ok) return { ok: false, reason: 'wrong-state', message: r.message };
    if (!r.released) return { ok: true, message: `${table} was not locked` };
    await this.o.jobs.audit.append({ jobId: r.released.jobId, event: 'unlocked', actor: userId, detail: table, ref: String(r.released.fence) });
    return { ok: true, message: `${table} unlocked (was held by job ${r.released.jobId}, ${r.released.state}); if job ${r.released.jobId} resumes it will take the lock again or stop` };
  }
}

export function createJobControl(opts: JobControlOptions): JobControl {
  return new JobControl(opts);
}
