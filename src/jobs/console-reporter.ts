/**
 * A Reporter that prints one line per event to a stream: the terminal console's view of a job, and what tests read.
 *
 *   [job 42] started: add column core_user.note (asked by <@U1>)
 *   [job 42] ▶ 2/4 Copy rows into new_core_user
 *   [job 42] ✓ 2/4 Copy rows into new_core_user — 1,204 rows (3.1 s)
 *   [job 42] ⏸ 3/4 Swap tables needs approval: Swap core_user… — to decide: the Approve / Reject buttons in Slack
 *
 * The hint names only what the user can really do: there is no approve/reject command, so by default it points at the
 * buttons; the demo passes its own (its y/n prompt, or --approve / --reject).
 */
import type { Writable } from 'node:stream';
import type { ApprovalRecord, JobRecord, Reporter, StepRecord } from './types.js';

export interface ConsoleReporterOptions {
  /** how the user decides, after "to decide: " (default: the Approve / Reject buttons of the job's message in Slack) */
  decideHint?: (job: JobRecord, step: StepRecord, nonce: string) => string;
}

function position(job: JobRecord, step: StepRecord): string {
  const i = job.steps.findIndex((s) => s.name === step.name);
  return `${i + 1}/${job.steps.length}`;
}

function took(step: StepRecord): string {
  if (step.startedAt === undefined || step.finishedAt === undefined) return '';
  return ` (${((step.finishedAt - step.startedAt) / 1000).toFixed(1)} s)`;
}

export class ConsoleReporter implements Reporter {
  constructor(
    private readonly out: Writable,
    private readonly opts: ConsoleReporterOptions = {},
  ) {}

  private line(job: JobRecord, text: string): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.out.write(`[job ${job.id}] ${text}\n`, () => resolve());
      } catch {
        resolve(); // a closed stream must not break the job
      }
    });
  }

  jobStarted(job: JobRecord): Promise<void> {
    // resumed right after a decision on the step at its cursor: the ✔/✘ line already said so; no second "started"
    const decided = job.steps[job.cursor] && job.approvals.some((a) => a.step === job.steps[job.cursor]?.name);
    if (decided && !job.rollbackRequested) return Promise.resolve();
    const what = job.rollbackRequested ? 'rolling back' : job.cursor > 0 ? `resumed at step ${job.cursor + 1}` : 'started';
    return this.line(job, `${what}: ${job.summary} (asked by <@${job.requester}>)`);
  }

  stepStarted(job: JobRecord, step: StepRecord): Promise<void> {
    return this.line(job, `▶ ${position(job, step)} ${step.title}`);
  }

  stepFinished(job: JobRecord, step: StepRecord): Promise<void> {
    const warn = step.state === 'done' && step.status === 'warn';
    const mark = step.state === 'skipped' ? '↷' : step.state === 'undone' ? '↩' : warn ? '⚠' : '✓';
    const detail = step.detail ? ` — ${step.detail}` : '';
    const state = step.state === 'skipped' ? ' skipped' : step.state === 'undone' ? ' undone' : warn ? ' finished with a warning' : '';
    return this.line(job, `${mark} ${position(job, step)} ${step.title}${state}${detail}${step.state === 'done' ? took(step) : ''}`);
  }

  stepFailed(job: JobRecord, step: StepRecord, error: string): Promise<void> {
    return this.line(job, `✗ ${position(job, step)} ${step.title} failed: ${error}`);
  }

  approvalRequested(job: JobRecord, step: StepRecord, prompt: string, nonce: string): Promise<void> {
    const hint = this.opts.decideHint?.(job, step, nonce) ?? `the Approve / Reject buttons on job ${job.id}'s approval message in Slack`;
    return this.line(job, `⏸ ${position(job, step)} ${step.title} needs approval: ${prompt} — to decide: ${hint}`);
  }

  approvalResolved(job: JobRecord, approval: ApprovalRecord): Promise<void> {
    return this.line(job, `${approval.decision === 'approved' ? '✔' : '✘'} step ${approval.step} ${approval.decision} by <@${approval.by}>`);
  }

  note(job: JobRecord, text: string): Promise<void> {
    return this.line(job, `  ${text}`);
  }

  jobFinished(job: JobRecord): Promise<void> {
    const next = job.rollbackRequested
      ? `\`retry ${job.id}\` resumes the rollback`
      : `\`retry ${job.id}\` resumes at step ${job.cursor + 1}, \`rollback ${job.id}\` undoes completed steps`;
    const tail = job.state === 'failed' ? `: ${job.error ?? 'unknown error'} — ${next}` : '';
    return this.line(job, `finished: ${job.state}${tail}`);
  }
}
