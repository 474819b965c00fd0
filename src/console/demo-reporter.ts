/**
 * The demo's Reporter: the console reporter's lines, plus what the terminal needs around them —
 *   - the approvals waiting for an answer (the demo's y/n prompt, or --approve / --reject),
 *   - a wake-up for whoever waits for a job (`next`),
 *   - `onOutput` after every line, so the interactive prompt is drawn again below the job's output,
 *   - the steps running now with their elapsed time (`running`), for the live timer: `tick()` writes it — on a
 *     terminal as one line rewritten in place, elsewhere a plain line every `plainEveryMs`.
 */
import type { Writable } from 'node:stream';
import { ConsoleReporter, type ConsoleReporterOptions } from '../jobs/console-reporter.js';
import type { ApprovalRecord, JobRecord, Reporter, StepRecord } from '../jobs/types.js';

export interface Pending {
  job: JobRecord;
  step: StepRecord;
  nonce: string;
  prompt: string;
}

export interface RunningStep {
  jobId: string;
  position: string;
  title: string;
  startedAt: number;
  /** a waiting step's live figure (FullLoadRows…), shown on the timer line instead of as new lines */
  progress?: string;
}

export interface DemoReporterOptions extends ConsoleReporterOptions {
  /** called after every line the reporter wrote */
  onOutput?: () => void;
  /** the output is a terminal: the timer rewrites one line in place (default: the stream's isTTY) */
  tty?: boolean;
  /** not a terminal: a "still running" line this often (default 15 s) */
  plainEveryMs?: number;
  now?: () => number;
}

export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

export class DemoReporter implements Reporter {
  readonly pending: Pending[] = [];
  private readonly inner: ConsoleReporter;
  private readonly waiters = new Set<() => void>();
  private readonly steps = new Map<string, RunningStep>();
  private readonly tty: boolean;
  private readonly now: () => number;
  private liveShown = false;
  private lastPlain = 0;

  constructor(
    private readonly out: Writable & { isTTY?: boolean },
    private readonly opts: DemoReporterOptions = {},
  ) {
    this.tty = opts.tty ?? out.isTTY === true;
    this.now = opts.now ?? Date.now;
    // the live line is cleared before any other line is written
    const clearing = Object.assign(Object.create(out) as Writable, {
      write: (chunk: string, cb?: () => void): boolean => {
        this.clearLive();
        return out.write(chunk, cb);
      },
    });
    this.inner = new ConsoleReporter(clearing, opts);
  }

  private poke(): void {
    for (const w of this.waiters) w();
  }

  private after(): void {
    this.opts.onOutput?.();
  }

  private clearLive(): void {
    if (this.liveShown) {
      this.out.write('\r\x1b[K');
      this.liveShown = false;
    }
  }

  /** resolves on the next event (or after timeoutMs) */
  next(timeoutMs = 1000): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  /** the steps running now (one per job), oldest first */
  running(): RunningStep[] {
    return [...this.steps.values()].sort((a, b) => a.startedAt - b.startedAt);
  }

  /** "⏱ job 3 · 5/14 Copy the rows… · 12 s" for every running step; empty when none */
  timerText(): string {
    const now = this.now();
    return this.running()
      .map((s) => `⏱ job ${s.jobId} · ${s.position} ${s.title} · ${formatElapsed(now - s.startedAt)}${s.progress ? ` · ${s.progress}` : ''}`)
      .join('   ');
  }

  /** Show the timer: call it every second (the demo's --exec mode does; the interactive prompt shows it itself). */
  tick(): void {
    const text = this.timerText();
    if (text === '') return this.clearLive();
    if (this.tty) {
      this.out.write(`\r\x1b[K${text}`);
      this.liveShown = true;
      return;
    }
    const now = this.now();
    if (now - this.lastPlain >= (this.opts.plainEveryMs ?? 15_000)) {
      this.lastPlain = now;
      this.out.write(`  … still running: ${text}\n`);
    }
  }

  private stepOf(job: JobRecord, step: StepRecord): RunningStep {
    const i = job.steps.findIndex((s) => s.name === step.name);
    return { jobId: job.id, position: `${i + 1}/${job.steps.length}`, title: step.title, startedAt: step.startedAt ?? this.now() };
  }

  async jobStarted(job: JobRecord) {
    await this.inner.jobStarted(job);
    this.after();
    this.poke();
  }
  async stepStarted(job: JobRecord, step: StepRecord) {
    this.steps.set(job.id, this.stepOf(job, step));
    this.lastPlain = this.now();
    await this.inner.stepStarted(job, step);
    this.after();
  }
  async stepFinished(job: JobRecord, step: StepRecord) {
    this.steps.delete(job.id);
    await this.inner.stepFinished(job, step);
    this.after();
    this.poke();
  }
  async stepFailed(job: JobRecord, step: StepRecord, error: string) {
    this.steps.delete(job.id);
    await this.inner.stepFailed(job, step, error);
    this.after();
    this.poke();
  }
  async approvalRequested(job: JobRecord, step: StepRecord, prompt: string, nonce: string) {
    this.steps.delete(job.id);
    await this.inner.approvalRequested(job, step, prompt, nonce);
    this.pending.push({ job, step, nonce, prompt });
    this.after();
    this.poke();
  }
  async approvalResolved(job: JobRecord, approval: ApprovalRecord) {
    await this.inner.approvalResolved(job, approval);
    this.after();
    this.poke();
  }
  /** a waiting step's live figure: kept for the timer line (one line rewritten in place), never printed as a line of its own */
  async waitProgress(job: JobRecord) {
    const cur = this.steps.get(job.id);
    const progress = job.waiting?.progress;
    if (cur && progress !== undefined) this.steps.set(job.id, { ...cur, progress });
  }

  async note(job: JobRecord, text: string) {
    await this.inner.note(job, text);
    this.after();
  }
  async jobFinished(job: JobRecord) {
    this.steps.delete(job.id);
    await this.inner.jobFinished(job);
    this.after();
    this.poke();
  }
}
