/**
 * Queue facts from Redis: jobs running or queued, jobs parked on an approval (with where their thread is), and the
 * table locks held. Also: which DMS tasks one of our jobs has stopped on purpose (a modify records the task's ARN in
 * its handles before StopReplicationTask and `resumedAt` after resuming it), so the watch does not alert on them.
 */
import type { JobRecord } from '../jobs/types.js';
import type { LockHolder } from '../queue/locks.js';
import type { JobQueue } from '../queue/queue.js';

export interface QueueFacts {
  active: JobRecord[];
  awaiting: JobRecord[];
  locks: Array<LockHolder & { table: string }>;
  /** the latest jobs, newest first (for `status <table>`'s recent jobs and the DMS stop check) */
  recent: JobRecord[];
}

const ACTIVE = new Set(['queued', 'running']);

export async function gatherQueue(jobs: JobQueue, limit = 200): Promise<QueueFacts> {
  const [recent, locks] = await Promise.all([jobs.store.listRecent(limit), jobs.locks.list()]);
  return {
    active: recent.filter((j) => ACTIVE.has(j.state)),
    awaiting: recent.filter((j) => j.state === 'awaiting-approval'),
    locks,
    recent,
  };
}

/**
 * The job that stopped this DMS task on purpose and has not resumed it yet: a job that is not finished, recorded the
 * task's ARN, and has no `resumedAt`. A failed job that left the task stopped is returned too, with `failed: true`
 * (the stop was ours, but nobody is going to resume it).
 */
export function stoppedByJob(recent: readonly JobRecord[], taskArn: string): { job: JobRecord; failed: boolean } | undefined {
  for (const j of recent) {
    if (j.handles['taskArn'] !== taskArn || j.handles['resumedAt'] !== undefined) continue;
    if (j.state === 'queued' || j.state === 'running' || j.state === 'awaiting-approval') return { job: j, failed: false };
    if (j.state === 'failed') return { job: j, failed: true };
  }
  return undefined;
}
