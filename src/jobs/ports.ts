/**
 * The engine's ports: what the runbook engine (engine.ts) needs from the outside world to run a job, defined here so
 * `src/jobs` can be read and tested without BullMQ or Redis. `src/queue` implements them on Redis (JobsStore,
 * TableLocks, AuditLog); tests may use in-memory ones (test/support/memory-ports.ts). The engine never imports
 * src/queue; the queue runs the engine and hands it these.
 */
import type { JobRecord } from './types.js';

/** The states in which a job will never run again and has left no partial change behind. */
export const SETTLED_STATES = ['succeeded', 'rejected', 'rolled-back', 'cancelled'] as const;

// ─── job store ───────────────────────────────────────────────────────────────────────────────────────────────────────

/** Result of `transact`: what the function decided, and the record as stored afterwards. */
export type TransactResult<R> = { found: false } | { found: true; job: JobRecord; result: R; written: boolean };

/** A function run against the current record: return `write` to store a new version. Must be pure: it may run again. */
export type Transaction<R> = (job: JobRecord) => { write?: JobRecord; result: R };

/** Where job records live. Every write is a read-check-write on the current record (optimistic concurrency). */
export interface JobStore {
  get(id: string): Promise<JobRecord | undefined>;
  /**
   * `fn` sees the current record and decides; if it returns `write`, that record is stored only if nobody changed the
   * job meanwhile — otherwise `fn` runs again on the fresh record. `fn` must be pure.
   */
  transact<R>(id: string, fn: Transaction<R>): Promise<TransactResult<R>>;
  /** Change a job with `mutate` (edit the draft in place or return a new record); throws when the job is missing. */
  update(id: string, mutate: (draft: JobRecord) => JobRecord | void): Promise<JobRecord>;
}

// ─── table locks ─────────────────────────────────────────────────────────────────────────────────────────────────────

export interface LockHolder {
  jobId: string;
  fence: number;
  since: number;
}

export type AcquireResult =
  | { ok: true; fence: number; reentrant: boolean; takenOverFrom?: { jobId: string; fence: number; state: string } }
  | { ok: false; holder: string; holderState: string; holderFence: number; message: string };

/**
 * Per-table locks with fencing tokens, held by a JOB (not a worker) until it settles; a failed job keeps its lock.
 * A lock whose holder is missing or settled is stale and taken over by the next job.
 */
export interface TableLocks {
  /** take (or re-take: `reentrant`) the table's lock for `jobId`, with a new fencing token unless reentrant */
  acquire(table: string, jobId: string): Promise<AcquireResult>;
  holder(table: string): Promise<LockHolder | undefined>;
  /** does `jobId` still hold the lock with `fence`? */
  check(table: string, jobId: string, fence: number): Promise<boolean>;
  /** release the lock if `jobId` holds it; true when it did */
  release(table: string, jobId: string): Promise<boolean>;
}

// ─── audit ───────────────────────────────────────────────────────────────────────────────────────────────────────────

export type AuditEvent =
  | 'requested'
  | 'refused'
  | 'lock-acquired'
  | 'lock-taken-over'
  | 'lock-released'
  | 'unlocked'
  | 'started'
  | 'step-start'
  | 'step-end'
  | 'step-skip'
  | 'step-fail'
  | 'wait'
  | 'handle'
  | 'statement'
  | 'aws-call'
  | 'approval-requested'
  | 'approved'
  | 'rejected'
  | 'approval-refused'
  | 'cancel-requested'
  | 'retry-requested'
  | 'rollback-requested'
  | 'undo-start'
  | 'undo-end'
  | 'undo-fail'
  | 'finished';

export interface AuditEntry {
  /** stream entry id (set when read) */
  id?: string;
  at: number;
  jobId: string;
  event: AuditEvent;
  /** Slack user id of who did it (requester, approver, operator); absent for the worker's own events */
  actor?: string;
  step?: string;
  /** statement id, AWS request id / ARN, nonce… */
  ref?: string;
  outcome?: string;
  detail?: string;
}

/** The append-only audit log: who asked and decided, every step, statement and AWS call with its outcome. */
export interface AuditLog {
  append(entry: Omit<AuditEntry, 'at' | 'id'> & { at?: number }): Promise<string>;
}
