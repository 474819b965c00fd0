/**
 * The watch as a repeatable BullMQ job: `upsertJobScheduler` keeps ONE schedule per Redis prefix however many workers
 * register it (the same scheduler id is updated, not added), and each run is one BullMQ job that exactly one worker
 * takes. Runs never overlap on a worker (concurrency 1); incidents are claimed in Redis (src/watch/incidents.ts), so
 * even a slow run overlapping the next one on another worker posts each incident once.
 */
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { WatchResult } from './watch.js';

export const WATCH_QUEUE = 'watch';
export const WATCH_SCHEDULER_ID = 'health-watch';

export interface WatchSchedulerOptions {
  connection: Redis;
  prefix: string;
  /** WATCH_INTERVAL */
  intervalMs: number;
  run: () => Promise<WatchResult>;
  logger?: Logger;
}

export interface WatchScheduler {
  queue: Queue;
  worker: Worker;
  close(): Promise<void>;
}

export async function startWatchScheduler(o: WatchSchedulerOptions): Promise<WatchScheduler> {
  const queue = new Queue(WATCH_QUEUE, { connection: o.connection, prefix: o.prefix });
  await queue.upsertJobScheduler(WATCH_SCHEDULER_ID, { every: o.intervalMs }, { name: 'watch', opts: { removeOnComplete: 20, removeOnFail: 50 } });
  const worker = new Worker(
    WATCH_QUEUE,
    async () => {
      const r = await o.run();
      o.logger?.info({ problems: r.problems.length, opened: r.opened, resolved: r.resolved, keptUnknown: r.keptUnknown }, 'watch run');
      return { opened: r.opened, resolved: r.resolved };
    },
    { connection: o.connection, prefix: o.prefix, concurrency: 1 },
  );
  worker.on('failed', (_job, err) => o.logger?.error({ err: err.message }, 'watch run failed'));
  return {
    queue,
    worker,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
