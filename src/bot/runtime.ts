/**
 * Assembles the parts every role shares: the runbook registry, the queue, approvals, the bot core and (optionally) a
 * worker. src/main.ts, the terminal console and the e2e tests all build the bot through here, so they run the same code.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DmsSetupSettings, RunbookDeps } from '../jobs/deps.js';
import { RunbookRegistry, type RunbookFactory } from '../jobs/runbook.js';
import { schemaApplyRunbook } from '../jobs/runbooks/schema-apply.js';
import { setupRunbook } from '../jobs/runbooks/setup.js';
import { modifyRunbook } from '../jobs/runbooks/modify.js';
import { maintenanceRunbook } from '../jobs/runbooks/maintenance.js';
import { recoverRunbook } from '../jobs/runbooks/recover.js';
import { HygieneService } from '../hygiene/schedule.js';
import { DEFAULT_RUNBOOK_SETTINGS } from '../jobs/deps.js';
import type { DmsPort, LogsPort } from '../replication/port.js';
import type { RunbookSettings } from '../jobs/deps.js';
import type { Reporter } from '../jobs/types.js';
import type { Policy } from '../policy.js';
import { createJobControl, type JobControl } from '../queue/approvals.js';
import { createWorker, JobQueue, type RunbookWorker } from '../queue/queue.js';
import type { Registry } from '../schema/registry.js';
import type { Source } from '../source/port.js';
import type { Warehouse } from '../warehouse/port.js';
import { createBotServices, type Bot } from './services.js';
import type { HealthThresholds } from '../health/index.js';
import type { Permalinks } from '../slack/permalink.js';
import { IncidentStore } from '../watch/incidents.js';
import { startWatchScheduler, type WatchScheduler } from '../watch/scheduler.js';
import { runWatch, type AlertPoster, type WatchResult } from '../watch/watch.js';

export interface RuntimeOptions {
  redis: Redis;
  /** Redis key prefix (records, locks, audit, BullMQ); default `rso` */
  prefix?: string;
  registry: Registry;
  warehouse: Warehouse;
  /** DMS and CloudWatch Logs (runbooks on dms tables) */
  dms?: DmsPort;
  logs?: LogsPort;
  settings?: Partial<RunbookSettings>;
  /** the MySQL read replica: `compare`, `schema diff --source` and compare steps */
  source?: Source;
  /** COMPARE_LAG_SECONDS */
  compare?: { lagSeconds: number };
  /** setup's DMS endpoints (DMS_SOURCE_ENDPOINT_ARN, DMS_TARGET_*) */
  dmsSetup?: DmsSetupSettings;
  /** re-read schemas/ (a job rewrites files); the bot calls it before each command */
  reloadRegistry?: () => Promise<Registry>;
  policy: Policy;
  /** how jobs show their life (Slack thread, console) */
  reporter: Reporter;
  front: 'slack' | 'console';
  /** run a worker in this process (omit for the bot-only role) */
  worker?: { concurrency?: number; lockDuration?: number; stalledInterval?: number; closeOnSignals?: boolean };
  /** links to job threads for status and alerts (chat.getPermalink) */
  permalink?: Permalinks;
  /** when status and the watch call a fact a problem (src/health/thresholds.ts) */
  thresholds?: Partial<HealthThresholds>;
  /** the watch: alerts to `channel` (ALERT_CHANNEL) every `intervalMs` (WATCH_INTERVAL); started by `startWatch()` */
  watch?: { channel: string; intervalMs: number; poster: AlertPoster; now?: () => number };
  /** extra runbooks (tests) */
  extraRunbooks?: RunbookFactory<RunbookDeps>[];
  logger?: Logger;
}

export interface Runtime {
  bot: Bot;
  jobs: JobQueue;
  control: JobControl;
  runbooks: RunbookRegistry<RunbookDeps>;
  deps: RunbookDeps;
  worker?: RunbookWorker;
  /** `hygiene schedule`: the weekly BullMQ job scheduler, its sweeps (run by the worker role) and their timeline */
  hygiene: HygieneService;
  /** one watch run now (the repeatable job calls the same); throws when no watch is configured */
  watchOnce(): Promise<WatchResult>;
  /** register the repeatable watch job (one schedule per Redis prefix) and process its runs in this process */
  startWatch(): Promise<WatchScheduler>;
  close(): Promise<void>;
}

export function runbookRegistry(extra: RunbookFactory<RunbookDeps>[] = []): RunbookRegistry<RunbookDeps> {
  return new RunbookRegistry<RunbookDeps>([
    schemaApplyRunbook as RunbookFactory<RunbookDeps>,
    modifyRunbook as RunbookFactory<RunbookDeps>,
    maintenanceRunbook as RunbookFactory<RunbookDeps>,
    recoverRunbook as RunbookFactory<RunbookDeps>,
    setupRunbook as RunbookFactory<RunbookDeps>,
    ...extra,
  ]);
}

export function buildRuntime(o: RuntimeOptions): Runtime {
  const runbooks = runbookRegistry(o.extraRunbooks);
  const prefix = o.prefix ?? 'rso';
  const jobs = new JobQueue({ connection: o.redis, prefix, registry: runbooks });
  const control = createJobControl({ jobs, policy: o.policy, reporter: o.reporter });
  const deps: RunbookDeps = {
    warehouse: o.warehouse,
    registry: o.registry,
    ...(o.dms ? { dms: o.dms } : {}),
    ...(o.logs ? { logs: o.logs } : {}),
    ...(o.settings ? { settings: o.settings } : {}),
    ...(o.source ? { source: o.source } : {}),
    ...(o.compare ? { compare: o.compare } : {}),
    ...(o.dmsSetup ? { dmsSetup: o.dmsSetup } : {}),
  };
  const worker = o.worker
    ? createWorker<RunbookDeps>({
        connection: o.redis,
        prefix,
        registry: runbooks,
        deps,
        reporter: o.reporter,
        ...o.worker,
        ...(o.logger ? { logger: o.logger } : {}),
      })
    : undefined;
  const hygiene = new HygieneService({
    connection: o.redis,
    prefix,
    jobs,
    warehouse: o.warehouse,
    registry: () => deps.registry,
    settings: () => ({ ...DEFAULT_RUNBOOK_SETTINGS, ...(deps.settings ?? {}) }),
    worker: o.worker !== undefined,
    ...(o.logger ? { logger: o.logger } : {}),
  });
  const bot = createBotServices({
    hygiene,
    registry: o.registry,
    warehouse: o.warehouse,
    jobs,
    control,
    policy: o.policy,
    runbooks,
    runbookDeps: deps,
    reporter: o.reporter,
    front: o.front,
    ...(o.reloadRegistry ? { reloadRegistry: o.reloadRegistry } : {}),
    ...(o.thresholds ? { thresholds: o.thresholds } : {}),
    ...(o.permalink ? { permalink: o.permalink } : {}),
    ...(o.logger ? { logger: o.logger } : {}),
  });
  const incidents = new IncidentStore(o.redis, prefix);
  const watchOnce = (): Promise<WatchResult> => {
    const w = o.watch;
    if (!w) throw new Error('the watch is not configured: set ALERT_CHANNEL');
    return runWatch({
      health: {
        warehouse: o.warehouse,
        registry: deps.registry,
        jobs,
        ...(o.dms ? { dms: o.dms } : {}),
        ...(o.logs ? { logs: o.logs } : {}),
        ...(o.source ? { source: o.source } : {}),
        ...(o.compare ? { compareLagSeconds: o.compare.lagSeconds } : {}),
      },
      incidents,
      poster: w.poster,
      channel: w.channel,
      ...(o.thresholds ? { thresholds: o.thresholds } : {}),
      ...(w.now ? { now: w.now } : {}),
      ...(o.permalink ? { permalink: o.permalink } : {}),
      ...(o.logger ? { logger: o.logger } : {}),
    });
  };
  let scheduler: WatchScheduler | undefined;
  return {
    bot,
    jobs,
    control,
    runbooks,
    deps,
    ...(worker ? { worker } : {}),
    hygiene,
    watchOnce,
    async startWatch() {
      if (!o.watch) throw new Error('the watch is not configured: set ALERT_CHANNEL');
      scheduler ??= await startWatchScheduler({ connection: o.redis, prefix, intervalMs: o.watch.intervalMs, run: watchOnce, ...(o.logger ? { logger: o.logger } : {}) });
      return scheduler;
    },
    async close() {
      if (scheduler) await scheduler.close();
      if (worker) await worker.close();
      await hygiene.close();
      await jobs.close();
    },
  };
}
