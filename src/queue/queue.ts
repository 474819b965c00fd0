/**
 * The BullMQ side: the `runbooks` queue, `enqueueJob` (record + lock + BullMQ job) and the worker that runs runbooks.
 *
 * One BullMQ job per run attempt of a job record: id `<record id>-<attempt>` (BullMQ refuses integer custom ids). The
 * record, not BullMQ, is the source of truth for where a job is; BullMQ only decides which worker runs it when.
 *
 * Parking (approval gates): the processor moves its BullMQ job to the delayed set far in the future and throws
 * `DelayedError` (BullMQ's documented "manually delay an active job" pattern), so no worker slot is held while people
 * decide. A decision promotes the delayed job. If the decision lands while the processor is still between "report the
 * buttons" and "move to delayed", the processor sees it on its re-read and shortens the delay instead. (What remains is
 * the one Redis read between "moved to delayed" and the processor returning: a promote landing exactly there could
 * let a second worker start the job while the first one is still returning — harmless, as the first does no more work.)
 *
 * Waits (a step that waits for the world: freshness, the DMS log watch, another VACUUM) park the same way, delayed
 * until the time the step named; `cancel`/`rollback` promote the delayed job, so they act at once, and a worker shutting
 * down (SIGTERM) never waits out a long check — there is no active job to wait for.
 *
 * Crashes: a killed worker stops renewing its BullMQ lock; after `lockDuration` the stalled checker of another worker
 * moves the job back to wait and it resumes from the record's cursor — `isDone` skips what already happened.
 */
import { DelayedError, Job, Queue, QueueEvents, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ZodType } from 'zod';
import { type EngineOptions, type Logger, isSettled, runJob } from '../jobs/engine.js';
import type { RunbookRegistry } from '../jobs/runbook.js';
import type { JobRecord, Reporter } from '../jobs/types.js';
import { AuditLog } from './audit.js';
import { JobsStore, type NewJob } from './jobs-store.js';
import { DEFAULT_PREFIX } from './keys.js';
import { TableLocks } from './locks.js';

export const DEFAULT_QUEUE_NAME = 'runbooks';
/** How far in the future a parked job is scheduled: a year; a wake-up after that re-parks it without asking again. */
export const PARK_MS = 365 * 24 * 3600 * 1000;

export interface RunbookJobData {
  jobId: string;
}

export type EnqueueResult =
  | { ok: true; job: JobRecord; deduplicated: boolean }
  | { ok: false; reason: 'table-locked'; holder: string; message: string }
  | { ok: false; reason: 'unknown-kind' | 'bad-params'; message: string };

export interface EnqueueHooks {
  /**
   * Runs once the record is stored and the table lock taken, before the BullMQ job exists — so no worker can start the
   * job yet. The Slack front end posts the job's progress message here: its ts is in the record before any worker
   * (possibly another process) looks, so the thread gets exactly one parent. A failure is ignored (the job still runs;
   * the worker's reporter posts the message then).
   */
  beforeDispatch?: (job: JobRecord) => Promise<void>;
}

export interface JobQueueOptions {
  connection: Redis;
  /** Redis key prefix for records, locks, audit and BullMQ (default `rso`) */
  prefix?: string;
  queueName?: string;
  /** when set, `enqueueJob` refuses unknown kinds and params the runbook's schema rejects — nothing is queued */
  registry?: { get(kind: string): { paramsSchema: ZodType } | undefined; kinds(): string[] };
}

export class JobQueue {
  readonly prefix: string;
  readonly queueName: string;
  readonly store: JobsStore;
  readonly audit: AuditLog;
  readonly locks: TableLocks;
  readonly queue: Queue<RunbookJobData>;

  constructor(readonly opts: JobQueueOptions) {
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.queueName = opts.queueName ?? DEFAULT_QUEUE_NAME;
    if (['job', 'jobs', 'lock', 'audit', 'trigger'].includes(this.queueName)) {
      throw new Error(`queue name "${this.queueName}" would share Redis keys with the job store; pick another`);
    }
    this.store = new JobsStore(opts.connection, this.prefix);
    this.audit = new AuditLog(opts.connection, this.prefix);
    this.locks = new TableLocks(opts.connection, this.prefix);
    this.queue = new Queue<RunbookJobData>(this.queueName, { connection: opts.connection, prefix: this.prefix });
  }

  static bullJobId(job: Pick<JobRecord, 'id' | 'attempt'>): string {
    return `${job.id}-${job.attempt ?? 1}`;
  }

  /**
   * Create the job record, take the table lock (refused → the record is removed and the holder named), audit the
   * request and add the BullMQ job. The same `triggerId` returns the job created the first time.
   */
  async enqueueJob(input: NewJob, hooks: EnqueueHooks = {}): Promise<EnqueueResult> {
    if (this.opts.registry) {
      const factory = this.opts.registry.get(input.kind);
      if (!factory) {
        return { ok: false, reason: 'unknown-kind', message: `no runbook for job kind "${input.kind}" (known: ${this.opts.registry.kinds().join(', ') || 'none'})` };
      }
      const parsed = factory.paramsSchema.safeParse(input.params);
      if (!parsed.success) return { ok: false, reason: 'bad-params', message: describeParamsError(input.kind, parsed.error) };
    }
    const { job, created } = await this.store.create(input);
    if (!created) {
      if (job.state === 'queued') await this.dispatch(job);
      return { ok: true, job, deduplicated: true };
    }
    let current = job;
    if (job.table) {
      const lock = await this.locks.acquire(job.table, job.id);
      if (!lock.ok) {
        await this.store.remove(job.id);
        await this.audit.append({ jobId: job.id, event: 'refused', actor: job.requester, detail: `${job.commandText} — ${lock.message}` });
        return { ok: false, reason: 'table-locked', holder: lock.holder, message: lock.message };
      }
      const covered = await this.coveringConflict(job.table, job.id);
      if (covered) {
        await this.locks.release(job.table, job.id);
        await this.store.remove(job.id);
        await this.audit.append({ jobId: job.id, event: 'refused', actor: job.requester, detail: `${job.commandText} — ${covered.message}` });
        return { ok: false, reason: 'table-locked', holder: covered.holder, message: covered.message };
      }
      current = await this.store.update(job.id, (j) => void (j.fence = lock.fence));
      await this.audit.append({
        jobId: job.id,
        event: lock.takenOverFrom ? 'lock-taken-over' : 'lock-acquired',
        ref: String(lock.fence),
        detail: lock.takenOverFrom ? `${job.table} from job ${lock.takenOverFrom.jobId} (${lock.takenOverFrom.state})` : job.table,
      });
    }
    await this.audit.append({ jobId: job.id, event: 'requested', actor: job.requester, detail: job.commandText });
    if (hooks.beforeDispatch) {
      try {
        await hooks.beforeDispatch(current);
        current = (await this.store.get(job.id)) ?? current;
      } catch {
        // the hook only decorates (posts a message); the job must be dispatched whatever happened there
      }
    }
    await this.dispatch(current);
    return { ok: true, job: current, deduplicated: false };
  }

  /**
   * A lock on `<schema>.*` (setup, `schema apply --all`) covers every table of the schema: while a live job (not settled;
   * a failed one keeps its locks, as for one table) holds it, no job may take a table of that schema, and it is not
   * granted while a live job holds a table of the schema. Checked AFTER taking the job's own lock, by both sides, so two
   * jobs racing are both refused rather than both let in.
   */
  private async coveringConflict(table: string, jobId: string): Promise<{ holder: string; message: string } | undefined> {
    const dot = table.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const schema = table.slice(0, dot);
    const live = async (holder: string): Promise<string | undefined> => {
      if (holder === jobId) return undefined;
      const j = await this.store.get(holder);
      return j && !isSettled(j.state) ? j.state : undefined;
    };
    if (table.endsWith('.*')) {
      for (const l of await this.locks.list()) {
        if (l.table === table || !l.table.startsWith(`${schema}.`)) continue;
        const state = await live(l.jobId);
        if (state)
          return {
            holder: l.jobId,
            message: `${l.table} is locked by job ${l.jobId} (${state}), and this job needs every table of ${schema} to itself: ${state === 'failed' ? `retry or roll back job ${l.jobId} first` : `wait for job ${l.jobId} to finish (see \`/redshift jobs\`)`}, then ask again.`,
          };
      }
      return undefined;
    }
    const wide = `${schema}.*`;
    const h = await this.locks.holder(wide);
    const state = h ? await live(h.jobId) : undefined;
    if (!h || !state) return undefined;
    const kind = (await this.store.get(h.jobId))?.kind ?? 'a job';
    return {
      holder: h.jobId,
      message: `${table} cannot be changed now: job ${h.jobId} (${kind}, ${state}) holds ${wide}, which keeps every other job off ${schema} while it runs. ${state === 'failed' ? `Retry or roll back job ${h.jobId} first.` : `Wait for job ${h.jobId} to finish (\`/redshift job ${h.jobId}\`), then ask again.`}`,
    };
  }

  /** Add the BullMQ job for the record's current attempt (a no-op if it exists). */
  async dispatch(job: JobRecord): Promise<void> {
    await this.queue.add(
      job.kind,
      { jobId: job.id },
      { jobId: JobQueue.bullJobId(job), attempts: 1, removeOnComplete: { age: 7 * 24 * 3600 }, removeOnFail: { age: 30 * 24 * 3600 } },
    );
  }

  /** BullMQ's view of the record's current attempt ('unknown' when there is no BullMQ job). */
  async bullState(job: Pick<JobRecord, 'id' | 'attempt'>): Promise<string> {
    return this.queue.getJobState(JobQueue.bullJobId(job));
  }

  /**
   * Make sure a worker looks at `job` soon: promote its parked BullMQ job; if there is none (removed, or finished while
   * the record still needs work), start a new attempt. Active or waiting jobs need nothing.
   */
  async wake(jobId: string): Promise<void> {
    const job = await this.store.get(jobId);
    if (!job || isSettled(job.state) || job.state === 'failed') return;
    const state = await this.bullState(job);
    if (state === 'delayed') {
      const bull = await Job.fromId(this.queue, JobQueue.bullJobId(job));
      try {
        await bull?.promote();
      } catch {
        // moved on between our look and the promote (already promoted / being processed): nothing to do
      }
      return;
    }
    if (state === 'unknown') return this.dispatch(job);
    if (state === 'completed' || state === 'failed') {
      const next = await this.store.update(jobId, (j) => void (j.attempt = (j.attempt ?? 1) + 1));
      await this.dispatch(next);
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

export interface RunbookWorkerOptions<D> extends JobQueueOptions {
  registry: RunbookRegistry<D>;
  deps: D;
  reporter: Reporter;
  /** jobs run in parallel by this worker (default 2) */
  concurrency?: number;
  /** ms a worker's hold on a running job lasts without renewal; a crashed worker's job resumes after this (default 30 s) */
  lockDuration?: number;
  /** ms between stalled-job checks (default: lockDuration) */
  stalledInterval?: number;
  /** crashes tolerated per run before BullMQ fails the job (default 5; each resume is idempotent) */
  maxStalledCount?: number;
  /** close gracefully on SIGTERM / SIGINT (default false; the process roles turn it on) */
  closeOnSignals?: boolean;
  logger?: Logger & { info?(obj: object, msg?: string): void; error?(obj: object, msg?: string): void };
}

export interface RunbookWorker {
  worker: Worker<RunbookJobData>;
  events: QueueEvents;
  jobs: JobQueue;
  close(): Promise<void>;
}

function describeParamsError(kind: string, err: unknown): string {
  if (err && typeof err === 'object' && 'issues' in err && Array.isArray(err.issues)) {
    const issues = (err.issues as { path?: unknown[]; message?: string }[]).map(
      (i) => `${i.path && i.path.length ? i.path.join('.') : '(params)'}: ${i.message ?? 'invalid'}`,
    );
    return `bad parameters for runbook "${kind}": ${issues.join('; ')}`;
  }
  return `bad parameters for runbook "${kind}": ${err instanceof Error ? err.message : String(err)}`;
}

/** Start a BullMQ worker that runs runbooks. */
export function createWorker<D>(opts: RunbookWorkerOptions<D>): RunbookWorker {
  const jobs = new JobQueue(opts);
  const { store } = jobs;
  const lockDuration = opts.lockDuration ?? 30_000;

  /** Mark a job failed unless it already settled/failed (or moved on to a later attempt than `attempt`). */
  const failRecord = async (jobId: string, error: string | ((j: JobRecord) => string), attempt?: number): Promise<void> => {
    const now = Date.now();
    const r = await store.transact(jobId, (j) => {
      if (isSettled(j.state) || j.state === 'failed') return { result: false };
      if (attempt !== undefined && (j.attempt ?? 1) !== attempt) return { result: false };
      const msg = typeof error === 'string' ? error : error(j);
      const step = j.steps[j.cursor];
      if (step?.state === 'running') j.steps[j.cursor] = { ...step, state: 'failed', error: msg, finishedAt: now };
      j.state = 'failed';
      j.error = msg;
      j.finishedAt = now;
      return { write: j, result: true };
    });
    if (r.found && r.written) {
      await jobs.audit.append({ jobId, event: 'finished', outcome: 'failed', detail: r.job.error ?? '' });
      try {
        await opts.reporter.jobFinished(r.job);
      } catch (e) {
        opts.logger?.warn({ err: String(e) }, 'reporter failed');
      }
    }
  };

  const worker = new Worker<RunbookJobData>(
    jobs.queueName,
    async (bullJob, token, signal) => {
      const { jobId } = bullJob.data;
      const record = await store.get(jobId);
      if (!record) throw new UnrecoverableError(`job ${jobId} not found in the job store (prefix ${jobs.prefix})`);
      const factory = opts.registry.get(record.kind);
      if (!factory) {
        const error = `no runbook for job kind "${record.kind}" in this worker (it knows: ${opts.registry.kinds().join(', ') || 'none'})`;
        await failRecord(jobId, error);
        throw new UnrecoverableError(error);
      }
      const parsed = factory.paramsSchema.safeParse(record.params);
      if (!parsed.success) {
        const error = describeParamsError(record.kind, parsed.error);
        await failRecord(jobId, error);
        throw new UnrecoverableError(error);
      }
      const engineOpts: EngineOptions<D> = {
        store,
        audit: jobs.audit,
        locks: jobs.locks,
        reporter: opts.reporter,
        deps: opts.deps,
        ...(signal ? { signal } : {}),
        ...(opts.logger ? { logger: opts.logger } : {}),
      };
      const outcome = await runJob(factory.build(parsed.data, opts.deps), jobId, engineOpts);
      if (outcome.kind === 'parked') {
        try {
          await bullJob.moveToDelayed(Date.now() + PARK_MS, token);
        } catch (e) {
          // Our BullMQ lock is gone (another worker took the job after a stall) or Redis hiccuped: either way the record
          // says where the job is, and whoever runs it next re-parks it. Failing the BullMQ job would be wrong.
          opts.logger?.warn({ err: e instanceof Error ? e.message : String(e), jobId }, 'could not park job');
          throw new DelayedError(`job ${jobId} could not be parked`);
        }
        const fresh = await store.get(jobId);
        if (!fresh || fresh.state !== 'awaiting-approval' || fresh.pendingApproval?.nonce !== outcome.nonce || fresh.cancelRequested) {
          // decided (or cancelled) while we were parking: the decider's promote may have found us still active
          await bullJob.changeDelay(100).catch(() => undefined);
        }
        throw new DelayedError(`job ${jobId} awaits approval of step "${outcome.job.pendingApproval?.step ?? '?'}"`);
      }
      if (outcome.kind === 'waiting') {
        try {
          await bullJob.moveToDelayed(Math.max(Date.now() + 1, outcome.untilMs), token);
        } catch (e) {
          opts.logger?.warn({ err: e instanceof Error ? e.message : String(e), jobId }, 'could not park waiting job');
          throw new DelayedError(`job ${jobId} could not be parked`);
        }
        const fresh = await store.get(jobId);
        // cancelled / rolled back while we were parking: the promote may have found us still active
        if (!fresh || fresh.cancelRequested || fresh.rollbackRequested) await bullJob.changeDelay(100).catch(() => undefined);
        throw new DelayedError(`job ${jobId} waits until ${new Date(outcome.untilMs).toISOString()} (step "${outcome.job.waiting?.step ?? '?'}")`);
      }
      if (outcome.job.state === 'failed') throw new UnrecoverableError(outcome.job.error ?? `job ${jobId} failed`);
      return { state: outcome.job.state };
    },
    {
      connection: opts.connection,
      prefix: jobs.prefix,
      concurrency: opts.concurrency ?? 2,
      lockDuration,
      stalledInterval: opts.stalledInterval ?? lockDuration,
      maxStalledCount: opts.maxStalledCount ?? 5,
    },
  );

  // BullMQ may fail a job outside our processor — above all "job stalled more than allowable limit", decided by the
  // stalled checker of whichever worker notices. Those failures only show in the queue's event stream; without this
  // the record would stay 'running' forever. (Our own failures already marked the record: those are no-ops here.)
  const events = new QueueEvents(jobs.queueName, { connection: opts.connection, prefix: jobs.prefix });
  events.on('failed', ({ jobId: bullId, failedReason }) => {
    const m = /^(.+)-(\d+)$/.exec(bullId);
    if (!m?.[1]) return;
    const jobId = m[1];
    void failRecord(
      jobId,
      (j) => `BullMQ gave up on job ${jobId} (${failedReason}); \`retry ${jobId}\` resumes at step ${j.cursor + 1}`,
      Number(m[2]),
    ).catch((e: unknown) => opts.logger?.warn({ err: String(e), jobId }, 'could not mark job failed'));
  });
  events.on('error', (err) => opts.logger?.warn({ err: err.message }, 'queue events error'));
  worker.on('error', (err) => opts.logger?.warn({ err: err.message }, 'worker error'));

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await worker.close();
      await events.close();
      await jobs.close();
    })();
    return closing;
  };
  if (opts.closeOnSignals) {
    const onSignal = (sig: NodeJS.Signals): void => {
      opts.logger?.info?.({ signal: sig }, 'closing worker: waiting for running steps to finish');
      void close().then(() => process.exit(0));
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return { worker, events, jobs, close };
}
