/**
 * `hygiene schedule`: a weekly timeline kept as ONE BullMQ job scheduler (`upsertJobScheduler`, cron pattern in UTC) on
 * the `hygiene` queue. Each run (a "sweep") reads the same numbers `hygiene` lists and queues one maintenance job per
 * table that needs it — as the requester who set the schedule, reported in the channel it was set from — skipping a
 * table whose lock another job holds (said in the run's record, never queued behind it). BullMQ creates one job per
 * occurrence whatever the number of workers, so a sweep runs once per week across the whole deployment.
 *
 * The last runs are kept in Redis (`<prefix>:hygiene:runs`, newest first, 20) for the timeline `hygiene schedule` shows.
 */
import { Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { WEEKDAYS } from '../commands/types.js';
import type { RunbookSettings } from '../jobs/deps.js';
import type { JobOrigin } from '../jobs/types.js';
import type { JobQueue } from '../queue/queue.js';
import type { Registry } from '../schema/registry.js';
import type { Warehouse } from '../warehouse/port.js';
import { readHygiene } from './read.js';
import { type Finding, type HygieneThresholds, findingLine } from './recommend.js';

export const HYGIENE_QUEUE = 'hygiene';
export const SCHEDULER_ID = 'hygiene-weekly';
const RUNS_KEPT = 20;

const scheduleData = z.strictObject({
  requester: z.string().min(1).max(64),
  channel: z.string().min(1).max(64).optional(),
  weekday: z.number().int().min(0).max(6),
  time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/),
});
export type ScheduleData = z.output<typeof scheduleData>;

const runRecord = z.strictObject({
  at: z.number(),
  trigger: z.enum(['schedule', 'now']),
  queued: z.array(z.strictObject({ table: z.string(), jobId: z.string(), what: z.string() })),
  skipped: z.array(z.strictObject({ table: z.string(), reason: z.string() })),
  withinThresholds: z.number().int(),
  problems: z.array(z.string()),
});
export type SweepRecord = z.output<typeof runRecord>;

export interface ScheduleInfo {
  pattern: string;
  weekday: number;
  time: string;
  /** epoch ms of the next run */
  next?: number;
  requester?: string;
  channel?: string;
}

/** "sun" 03:30 → cron `30 3 * * 0` */
export function cronFor(weekday: number, time: string): string {
  const [h = '0', m = '0'] = time.split(':');
  return `${Number(m)} ${Number(h)} * * ${weekday}`;
}

export function dayName(weekday: number): string {
  const d = WEEKDAYS[weekday] ?? 'sunday';
  return d[0]!.toUpperCase() + d.slice(1);
}

export function utcMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export interface HygieneServiceOptions {
  connection: Redis;
  prefix: string;
  jobs: JobQueue;
  warehouse: Warehouse;
  registry: () => Registry;
  settings: () => Pick<RunbookSettings, 'hygiene'>;
  /** process sweeps in this process (the worker role) */
  worker?: boolean;
  logger?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

export class HygieneService {
  readonly queue: Queue<ScheduleData>;
  private readonly worker?: Worker<ScheduleData, SweepRecord>;
  private events?: QueueEvents;
  private readonly runsKey: string;

  constructor(private readonly o: HygieneServiceOptions) {
    this.queue = new Queue<ScheduleData>(HYGIENE_QUEUE, { connection: o.connection, prefix: o.prefix });
    this.runsKey = `${o.prefix}:hygiene:runs`;
    if (o.worker) {
      this.worker = new Worker<ScheduleData, SweepRecord>(
        HYGIENE_QUEUE,
        async (job) => this.sweep(scheduleData.parse(job.data), job.name === 'hygiene-now' ? 'now' : 'schedule'),
        { connection: o.connection, prefix: o.prefix, concurrency: 1 },
      );
      this.worker.on('error', (err) => o.logger?.warn({ err: err.message }, 'hygiene worker error'));
    }
  }

  /** Set (or replace) the weekly run. */
  async set(weekday: number, time: string, by: { requester: string; channel?: string }): Promise<ScheduleInfo> {
    const data = scheduleData.parse({ weekday, time, requester: by.requester, ...(by.channel ? { channel: by.channel } : {}) });
    const pattern = cronFor(weekday, time);
    await this.queue.upsertJobScheduler(SCHEDULER_ID, { pattern, tz: 'UTC' }, { name: 'hygiene-sweep', data, opts: { removeOnComplete: 50, removeOnFail: 50 } });
    return (await this.scheduler()) ?? { pattern, weekday, time };
  }

  /** Remove the weekly run; false when there was none. */
  async remove(): Promise<boolean> {
    return this.queue.removeJobScheduler(SCHEDULER_ID);
  }

  async scheduler(): Promise<ScheduleInfo | undefined> {
    const s = await this.queue.getJobScheduler(SCHEDULER_ID);
    if (!s?.pattern) return undefined;
    const data = scheduleData.safeParse(s.template?.data);
    const [m = '0', h = '0', , , d = '0'] = s.pattern.split(' ');
    return {
      pattern: s.pattern,
      weekday: data.success ? data.data.weekday : Number(d),
      time: data.success ? data.data.time : `${h.padStart(2, '0')}:${m.padStart(2, '0')}`,
      ...(s.next !== undefined ? { next: Number(s.next) } : {}),
      ...(data.success ? { requester: data.data.requester, ...(data.data.channel ? { channel: data.data.channel } : {}) } : {}),
    };
  }

  /** The last sweeps, newest first. */
  async history(n = 5): Promise<SweepRecord[]> {
    const raw = await this.o.connection.lrange(this.runsKey, 0, Math.max(0, n - 1));
    return raw.flatMap((r) => {
      try {
        const p = runRecord.safeParse(JSON.parse(r));
        return p.success ? [p.data] : [];
      } catch {
        return [];
      }
    });
  }

  /** Run a sweep now through the queue (a worker runs it, as it runs the scheduled ones) and wait for its record. */
  async sweepNow(by: { requester: string; channel?: string } = { requester: 'hygiene' }, timeoutMs = 60_000): Promise<SweepRecord> {
    this.events ??= new QueueEvents(HYGIENE_QUEUE, { connection: this.o.connection, prefix: this.o.prefix });
    await this.events.waitUntilReady();
    const s = await this.scheduler();
    const job = await this.queue.add(
      'hygiene-now',
      scheduleData.parse({ weekday: s?.weekday ?? 0, time: s?.time ?? '00:00', requester: by.requester, ...(by.channel ? { channel: by.channel } : {}) }),
      { removeOnComplete: 50, removeOnFail: 50 },
    );
    return runRecord.parse(await job.waitUntilFinished(this.events, timeoutMs));
  }

  /** One run: read, recommend, queue one maintenance job per table that needs it. */
  async sweep(data: ScheduleData, trigger: 'schedule' | 'now'): Promise<SweepRecord> {
    const registry = this.o.registry();
    const schema = registry.defaultSchema;
    const thresholds: HygieneThresholds = this.o.settings().hygiene;
    const report = await readHygiene(this.o.warehouse, registry, schema, thresholds);
    const rec: SweepRecord = { at: Date.now(), trigger, queued: [], skipped: [], withinThresholds: report.health.length - report.findings.length, problems: [...report.problems] };
    const origin: JobOrigin = data.channel ? { kind: 'slack', channel: data.channel } : { kind: 'console' };
    for (const f of report.findings) {
      const table = `${f.schema}.${f.table}`;
      const r = await this.o.jobs.enqueueJob({
        kind: 'maintenance',
        table,
        requester: data.requester,
        commandText: `hygiene run ${table} (weekly hygiene)`,
        summary: `hygiene run ${table}`,
        params: maintenanceParamsOf(f, thresholds),
        origin,
      });
      if (r.ok) rec.queued.push({ table, jobId: r.job.id, what: findingLine(f) });
      else rec.skipped.push({ table, reason: r.message });
    }
    await this.o.connection.multi().lpush(this.runsKey, JSON.stringify(rec)).ltrim(this.runsKey, 0, RUNS_KEPT - 1).exec();
    this.o.logger?.info({ trigger, queued: rec.queued.length, skipped: rec.skipped.length }, 'hygiene sweep');
    return rec;
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.events?.close();
    await this.queue.close();
  }
}

/** The maintenance job's params for one finding (the runbook re-validates them). */
export function maintenanceParamsOf(f: Finding, thresholds: HygieneThresholds): unknown {
  return { table: { schema: f.schema, name: f.table }, actions: f.actions, reasons: f.reasons, thresholds: { ...thresholds } };
}
