/**
 * SlackThreadReporter: a job's life as a Slack thread.
 *
 *   jobStarted        → posts the live progress message (unless the origin already has one) and saves its ts
 *   stepStarted/…     → chat.update of the progress message, throttled per channel (≈1/s, latest state wins)
 *   stepFinished      → + a thread reply (duration, detail); steps of one phase (Step.phase) that pass or are skipped
 *                       one after another share ONE reply, edited as each finishes (throttled like the progress
 *                       message); a warning, failure, note or approval ends the phase's message and has its own
 *   stepFailed        → + a thread reply with the error and Retry / Roll back / Cancel buttons
 *   approvalRequested → + the approval message (Approve / Reject) in the thread; its ts is saved in the origin
 *   approvalResolved  → the approval message is replaced (buttons gone, "approved by <@U> at <time>")
 *   note              → a thread reply (a note of a phase's running step is shown with that step instead)
 *   jobFinished       → the final progress update (always sent, awaited) + a closing thread reply
 *
 * It never throws into the engine: every failure is logged. Rate limits (HTTP 429) are retried by the WebClient after
 * Retry-After; the retry policy is bounded so a Slack outage cannot park a job for half an hour.
 */
import { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ApprovalRecord, JobOrigin, JobRecord, Reporter, StepRecord } from '../jobs/types.js';
import {
  approvalMessage,
  approvalResolvedMessage,
  jobFinishedMessage,
  noteMessage,
  PHASE_MESSAGE_MAX_STEPS,
  phaseMessage,
  progressMessage,
  stepFailedMessage,
  stepFinishedMessage,
  type FailureOptions,
  type SlackMessage,
} from './blocks.js';
import { slackLogger } from './log.js';

type WebClient = webApi.WebClient;

/** A pending approval's message, kept in the origin so another process (or a restarted one) can replace it. */
export interface ApprovalMessageRef {
  ts: string;
  nonce?: string;
  prompt?: string;
}

/** JobOrigin plus what this reporter needs to find its messages again (stored through `saveOrigin`). */
export interface SlackJobOrigin extends JobOrigin {
  /** step name → its approval message */
  approvals?: Record<string, ApprovalMessageRef>;
}

const approvalsSchema = z.record(
  z.string(),
  z.object({ ts: z.string().min(1), nonce: z.string().optional(), prompt: z.string().optional() }),
);

export interface SlackThreadReporterOptions {
  /** a ready WebClient; or `token` (+ `apiUrl`) to build one */
  client?: WebClient;
  token?: string;
  /** Slack Web API base (SLACK_API_URL); default https://slack.com/api/ */
  apiUrl?: string;
  /** persist the origin (channel, thread/progress ts, approval message ts) in the job record */
  saveOrigin: (jobId: string, origin: SlackJobOrigin) => Promise<void> | void;
  logger: Logger;
  /** minimum spacing of chat.update calls per channel, default 1000 ms */
  minUpdateIntervalMs?: number;
  /** which buttons a failure reply offers; default: retry + cancel, and roll back once any step is done */
  failureOptions?: (job: JobRecord, step: StepRecord) => FailureOptions;
  now?: () => number;
}

/** Retry policy for the reporter's WebClient: a few quick tries (429s wait Retry-After in between). */
export const REPORTER_RETRY = { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 5_000 } as const;

export class SlackThreadReporter implements Reporter {
  private readonly client: WebClient;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly throttle: UpdateThrottle;
  /** the freshest origin we know per job (the engine's copy of the record may lag behind saveOrigin) */
  private readonly origins = new Map<string, SlackJobOrigin>();
  /** in-flight progress-message posts, so two events never post two parents */
  private readonly posting = new Map<string, Promise<SlackJobOrigin | undefined>>();
  /** per job: the thread reply the finished steps of the current phase share (in memory: another worker starts anew) */
  private readonly phases = new Map<string, { phase: string; ts: string; steps: { step: StepRecord; notes: string[] }[] }>();
  /** per job: the notes of the running step of a phase, shown with its line (or posted before its own message) */
  private readonly heldNotes = new Map<string, { step: string; notes: string[] }>();

  constructor(private readonly opts: SlackThreadReporterOptions) {
    this.log = opts.logger.child({ component: 'slack-reporter' });
    this.now = opts.now ?? Date.now;
    if (opts.client) this.client = opts.client;
    else {
      if (!opts.token) throw new Error('SlackThreadReporter needs a WebClient or a bot token');
      const clientOpts: webApi.WebClientOptions = { retryConfig: { ...REPORTER_RETRY }, logger: slackLogger(this.log) };
      if (opts.apiUrl) clientOpts.slackApiUrl = opts.apiUrl.endsWith('/') ? opts.apiUrl : `${opts.apiUrl}/`;
      this.client = new webApi.WebClient(opts.token, clientOpts);
    }
    this.throttle = new UpdateThrottle(
      async (channel, ts, m) => {
        await this.client.chat.update({ channel, ts, text: m.text, blocks: m.blocks });
      },
      opts.minUpdateIntervalMs ?? 1_000,
      this.now,
      this.log,
    );
  }

  // ---- Reporter -----------------------------------------------------------------------------------------------------

  async jobStarted(job: JobRecord): Promise<void> {
    await this.guard('jobStarted', job, async () => {
      const ensured = await this.ensureProgressMessage(job);
      // a message we just posted already shows this state; an existing one (resume, command reply) is brought up to date
      if (ensured && !ensured.posted) this.scheduleProgress(job, ensured.origin);
      // a step still marked running when a worker (re)starts the job: the worker that ran it died or lost its lock
      const interrupted = job.steps[job.cursor];
      this.phases.delete(job.id);
      if (ensured && interrupted?.state === 'running' && !job.rollbackRequested && !job.cancelRequested) {
        const n = job.steps.length;
        await this.reply(
          ensured.origin,
          noteMessage(
            `Resumed at step ${job.cursor + 1}/${n} "${interrupted.title}": the worker running it stopped before finishing (crash or restart). Finished steps are not run again; this one checks what already happened first.`,
          ),
        );
      }
    });
  }

  async stepStarted(job: JobRecord, _step: StepRecord): Promise<void> {
    await this.guard('stepStarted', job, async () => {
      const origin = await this.ensureProgress(job);
      if (origin) this.scheduleProgress(job, origin);
    });
  }

  async stepFinished(job: JobRecord, step: StepRecord): Promise<void> {
    await this.guard('stepFinished', job, async () => {
      const origin = await this.ensureProgress(job);
      if (!origin) return;
      this.scheduleProgress(job, origin);
      const phase = step.phase;
      const grouped = phase !== undefined && (step.state === 'skipped' || (step.state === 'done' && step.status !== 'warn'));
      const notes = this.takeNotes(job.id, step.name);
      if (!grouped) {
        this.phases.delete(job.id);
        for (const n of notes) await this.reply(origin, noteMessage(n));
        await this.reply(origin, stepFinishedMessage(job, step, this.now()));
        return;
      }
      const entry = { step: structuredClone(step), notes };
      const g = this.phases.get(job.id);
      if (g && g.phase === phase && g.steps.length < PHASE_MESSAGE_MAX_STEPS && origin.channel) {
        g.steps.push(entry);
        const snapshot = structuredClone(job);
        const steps = [...g.steps];
        // edited, not posted; the latest state wins (the throttle coalesces)
        this.throttle.schedule(origin.channel, g.ts, () => phaseMessage(snapshot, steps, this.now())).catch(() => undefined);
        return;
      }
      const ts = await this.reply(origin, phaseMessage(job, [entry], this.now()));
      if (ts) this.phases.set(job.id, { phase, ts, steps: [entry] });
      else this.phases.delete(job.id);
    });
  }

  async stepFailed(job: JobRecord, step: StepRecord, error: string): Promise<void> {
    await this.guard('stepFailed', job, async () => {
      const origin = await this.ensureProgress(job);
      if (!origin) return;
      this.scheduleProgress(job, origin);
      this.phases.delete(job.id);
      for (const n of this.takeNotes(job.id, step.name)) await this.reply(origin, noteMessage(n));
      const opts = this.opts.failureOptions?.(job, step) ?? {};
      await this.reply(origin, stepFailedMessage(job, step, error, opts, this.now()));
    });
  }

  async approvalRequested(job: JobRecord, step: StepRecord, prompt: string, nonce: string): Promise<void> {
    await this.guard('approvalRequested', job, async () => {
      const origin = await this.ensureProgress(job);
      if (!origin) return;
      this.scheduleProgress(job, origin);
      this.phases.delete(job.id);
      const ts = await this.reply(origin, approvalMessage(job, step, prompt, nonce));
      if (!ts) return;
      const next: SlackJobOrigin = { ...origin, approvals: { ...(origin.approvals ?? {}), [step.name]: { ts, nonce, prompt } } };
      await this.remember(job.id, next);
    });
  }

  async approvalResolved(job: JobRecord, approval: ApprovalRecord): Promise<void> {
    await this.guard('approvalResolved', job, async () => {
      const origin = await this.ensureProgress(job);
      if (!origin?.channel) return;
      const ref = origin.approvals?.[approval.step];
      const message = approvalResolvedMessage(job, approval, ref?.prompt);
      // queued before the progress update: the clicker is waiting for the buttons to go
      const replaced = ref ? this.throttle.schedule(origin.channel, ref.ts, () => message) : undefined;
      this.scheduleProgress(job, origin);
      if (replaced) {
        await replaced; // when this returns, the buttons are gone
      } else {
        this.log.warn({ jobId: job.id, step: approval.step }, 'approval message not known; posting the decision as a reply');
        await this.reply(origin, message);
      }
    });
  }

  /** a waiting step's live figure (FullLoadRows…): the progress message is edited (throttled), no thread line */
  async waitProgress(job: JobRecord): Promise<void> {
    await this.guard('waitProgress', job, async () => {
      const origin = await this.ensureProgress(job);
      if (origin) this.scheduleProgress(job, origin);
    });
  }

  async note(job: JobRecord, text: string): Promise<void> {
    await this.guard('note', job, async () => {
      const origin = await this.ensureProgress(job);
      // a note of a running step of a phase is shown with that step (its line of the phase message)
      const running = job.steps.find((st) => st.state === 'running');
      if (running?.phase !== undefined) {
        const held = this.heldNotes.get(job.id);
        if (held && held.step === running.name) held.notes.push(text);
        else this.heldNotes.set(job.id, { step: running.name, notes: [text] });
        return;
      }
      this.phases.delete(job.id);
      if (origin) await this.reply(origin, noteMessage(text));
    });
  }

  async jobFinished(job: JobRecord): Promise<void> {
    await this.guard('jobFinished', job, async () => {
      const origin = await this.ensureProgress(job);
      if (!origin?.channel || !origin.progressTs) return;
      // the final state is always sent (coalescing keeps only the latest), and we wait for it
      await this.scheduleProgress(job, origin);
      await this.reply(origin, jobFinishedMessage(job, this.now()));
    });
    this.origins.delete(job.id);
    this.phases.delete(job.id);
    this.heldNotes.delete(job.id);
  }

  /** Wait until every scheduled progress update has been sent (shutdown, tests). */
  async flush(): Promise<void> {
    await this.throttle.flush();
  }

  // ---- internals ----------------------------------------------------------------------------------------------------

  /** the notes held for a step of this job (none when another step's are held: those are stale — a resumed job) */
  private takeNotes(jobId: string, step: string): string[] {
    const held = this.heldNotes.get(jobId);
    this.heldNotes.delete(jobId);
    return held && held.step === step ? held.notes : [];
  }

  private async guard(what: string, job: JobRecord, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.log.error({ jobId: job.id, event: what, err: describe(err) }, 'Slack reporter failed; the job goes on');
    }
  }

  /** Merge what the job record says with what we saved since (ours is newer). */
  private originOf(job: JobRecord): SlackJobOrigin {
    const fromJob: SlackJobOrigin = { ...job.origin };
    const approvals = approvalsSchema.safeParse((job.origin as { approvals?: unknown }).approvals);
    if (approvals.success) fromJob.approvals = approvals.data;
    else delete fromJob.approvals;
    const mine = this.origins.get(job.id);
    if (!mine) return fromJob;
    return { ...fromJob, ...mine, approvals: { ...(fromJob.approvals ?? {}), ...(mine.approvals ?? {}) } };
  }

  private async remember(jobId: string, origin: SlackJobOrigin): Promise<void> {
    this.origins.set(jobId, origin);
    try {
      await this.opts.saveOrigin(jobId, origin);
    } catch (err) {
      this.log.error({ jobId, err: describe(err) }, 'could not save the Slack origin of the job');
    }
  }

  /**
   * Make sure the job has a progress message: reuse the origin's (or the thread parent the command reply posted),
   * otherwise post one. Returns undefined for jobs that are not shown in Slack.
   */
  private async ensureProgress(job: JobRecord): Promise<SlackJobOrigin | undefined> {
    return (await this.ensureProgressMessage(job))?.origin;
  }

  /** As ensureProgress; `posted` tells whether the progress message was posted just now (so it is up to date). */
  private async ensureProgressMessage(job: JobRecord): Promise<{ origin: SlackJobOrigin; posted: boolean } | undefined> {
    const origin = this.originOf(job);
    if (origin.kind !== 'slack' || !origin.channel) return undefined;
    if (origin.progressTs) return { origin, posted: false };
    const inflight = this.posting.get(job.id);
    if (inflight) {
      const o = await inflight;
      return o ? { origin: o, posted: false } : undefined;
    }
    const channel = origin.channel;
    let posted = false;
    const p = (async (): Promise<SlackJobOrigin | undefined> => {
      if (origin.threadTs) {
        // the in-channel command reply is the thread parent: it becomes the live progress message
        const next: SlackJobOrigin = { ...origin, progressTs: origin.threadTs };
        await this.remember(job.id, next);
        return next;
      }
      const m = progressMessage(job, this.now());
      const res = await this.client.chat.postMessage({ channel, text: m.text, blocks: m.blocks });
      if (!res.ts) throw new Error('chat.postMessage returned no ts');
      posted = true;
      const next: SlackJobOrigin = { ...origin, threadTs: res.ts, progressTs: res.ts };
      await this.remember(job.id, next);
      return next;
    })();
    this.posting.set(job.id, p);
    try {
      const o = await p;
      return o ? { origin: o, posted } : undefined;
    } finally {
      this.posting.delete(job.id);
    }
  }

  private scheduleProgress(job: JobRecord, origin: SlackJobOrigin): Promise<void> {
    if (!origin.channel || !origin.progressTs) return Promise.resolve();
    const snapshot = structuredClone(job);
    const p = this.throttle.schedule(origin.channel, origin.progressTs, () => progressMessage(snapshot, this.now()));
    p.catch(() => undefined); // failures are logged by the throttle
    return p;
  }

  /** A reply in the job's thread; returns its ts. */
  private async reply(origin: SlackJobOrigin, m: SlackMessage): Promise<string | undefined> {
    if (!origin.channel) return undefined;
    const res = await this.client.chat.postMessage({
      channel: origin.channel,
      text: m.text,
      blocks: m.blocks,
      ...(origin.threadTs ? { thread_ts: origin.threadTs } : {}),
    });
    return res.ts;
  }
}

function describe(err: unknown): string {
  if (err && typeof err === 'object' && 'data' in err) {
    const data = (err as { data: unknown }).data;
    if (data && typeof data === 'object' && 'error' in data) return `slack error: ${String((data as { error: unknown }).error)}`;
  }
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------------------------------

interface Pending {
  render: () => SlackMessage;
  waiters: Array<() => void>;
  /** update calls that gave up on rate limiting / connection trouble for this message's state so far */
  failedRounds?: number;
}

/**
 * How many times one message's state is tried again after its chat.update call gave up on a 429 or connection trouble
 * (each call already rides out REPORTER_RETRY.retries Retry-Afters): the last state of a job must reach Slack.
 */
export const UPDATE_RETRY_ROUNDS = 5;

/** A chat.update failure worth trying again later (rate limited past the WebClient's retries, network, HTTP 5xx). */
function transientSlackError(err: unknown): boolean {
  const code = err && typeof err === 'object' && 'code' in err ? (err as { code: unknown }).code : undefined;
  return code === 'slack_webapi_request_error' || code === 'slack_webapi_http_error' || code === 'slack_webapi_rate_limited_error';
}

interface ChannelState {
  pending: Map<string, Pending>;
  /** when the last update finished (ms) */
  lastSentAt: number;
  timer: NodeJS.Timeout | undefined;
  inflight: Promise<void> | undefined;
}

/**
 * Per-channel chat.update throttle: at most one update per `intervalMs` per channel (counted from the end of the
 * previous one, so a 429 + Retry-After also slows us down); for each message only the latest state is kept
 * (coalescing); messages of one channel take turns. `schedule` resolves once that message's state (or a newer one)
 * has been sent — or has failed, which is logged.
 */
export class UpdateThrottle {
  private readonly channels = new Map<string, ChannelState>();

  constructor(
    private readonly send: (channel: string, ts: string, message: SlackMessage) => Promise<void>,
    private readonly intervalMs: number,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  schedule(channel: string, ts: string, render: () => SlackMessage): Promise<void> {
    let state = this.channels.get(channel);
    if (!state) {
      state = { pending: new Map(), lastSentAt: -Infinity, timer: undefined, inflight: undefined };
      this.channels.set(channel, state);
    }
    const s = state;
    return new Promise<void>((resolve) => {
      const existing = s.pending.get(ts);
      if (existing) {
        existing.render = render;
        existing.waiters.push(resolve);
      } else {
        s.pending.set(ts, { render, waiters: [resolve] });
      }
      this.pump(channel, s);
    });
  }

  /** Resolves when nothing is pending or in flight. */
  async flush(): Promise<void> {
    for (;;) {
      const waits: Promise<void>[] = [];
      for (const s of this.channels.values()) {
        for (const p of s.pending.values()) waits.push(new Promise<void>((r) => p.waiters.push(r)));
        if (s.inflight) waits.push(s.inflight);
      }
      if (waits.length === 0) return;
      await Promise.all(waits);
    }
  }

  private pump(channel: string, s: ChannelState): void {
    if (s.inflight || s.timer || s.pending.size === 0) return;
    const wait = s.lastSentAt + this.intervalMs - this.now();
    if (wait > 0) {
      s.timer = setTimeout(() => {
        s.timer = undefined;
        this.pump(channel, s);
      }, wait);
      return;
    }
    const next = s.pending.entries().next();
    if (next.done) return;
    const [ts, item] = next.value;
    s.pending.delete(ts);
    s.inflight = (async () => {
      let again = false;
      try {
        await this.send(channel, ts, item.render());
      } catch (err) {
        const rounds = (item.failedRounds ?? 0) + 1;
        again = transientSlackError(err) && rounds <= UPDATE_RETRY_ROUNDS;
        this.log.warn({ channel, ts, err: describe(err), willRetry: again, rounds }, 'chat.update failed');
        if (again) {
          // keep the state (or the newer one scheduled meanwhile) and its waiters for the next turn: never lose the last state
          const newer = s.pending.get(ts);
          if (newer) newer.waiters.push(...item.waiters);
          else s.pending.set(ts, { ...item, failedRounds: rounds });
        }
      } finally {
        s.lastSentAt = this.now();
        s.inflight = undefined;
        if (!again) for (const w of item.waiters) w();
        this.pump(channel, s);
      }
    })();
  }
}
