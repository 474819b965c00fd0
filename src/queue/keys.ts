/**
 * Every Redis key this project writes, under one configurable prefix (default `rso`), so tests and several bots can
 * share one Redis without touching each other. BullMQ's own keys live under `<prefix>:<queue name>:…`.
 */
export const DEFAULT_PREFIX = 'rso';

export interface Keys {
  prefix: string;
  /** hash { json, ver } — one JobRecord with its optimistic-concurrency version */
  job(id: string): string;
  /** `job(id)` without the id, for Lua scripts that find a holder's record */
  jobPrefix: string;
  /** INCR counter giving human-friendly job ids */
  jobSeq: string;
  /** sorted set of job ids by creation time */
  jobsRecent: string;
  /** Slack trigger → job id (dedupe of a retried or double-submitted command) */
  trigger(triggerId: string): string;
  /** hash { job, fence, since } — the per-table lock */
  lock(table: string): string;
  /** INCR counter giving fencing tokens */
  fenceSeq: string;
  /** the append-only audit stream */
  audit: string;
  /** per-job index of the audit stream */
  auditOf(jobId: string): string;
}

export function keysFor(prefix: string = DEFAULT_PREFIX): Keys {
  if (!/^[A-Za-z0-9_.:-]+$/.test(prefix)) throw new Error(`Redis key prefix "${prefix}" may only contain letters, digits and _ . : -`);
  return {
    prefix,
    job: (id) => `${prefix}:job:${id}`,
    jobPrefix: `${prefix}:job:`,
    jobSeq: `${prefix}:jobs:seq`,
    jobsRecent: `${prefix}:jobs:recent`,
    trigger: (t) => `${prefix}:trigger:${t}`,
    lock: (table) => `${prefix}:lock:${table}`,
    fenceSeq: `${prefix}:lock:fence`,
    audit: `${prefix}:audit`,
    auditOf: (jobId) => `${prefix}:audit:job:${jobId}`,
  };
}
