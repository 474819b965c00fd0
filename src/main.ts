/**
 * redshift-ops entry point. Roles:
 *   npm start                    bot (Slack receiver) + worker in one process
 *   npm start -- --role bot      only the Slack receiver (acks, parses, queues, approvals)
 *   npm start -- --role worker   only a worker (runs runbooks; scale out on the same Redis)
 * Configuration comes from the environment, checked in one pass before anything connects (src/startup-config.ts over
 * src/config.ts, src/slack/config.ts, src/policy.ts): every problem is reported at once, one line per variable, exit
 * code 2. Secrets are never logged. Production runs the compiled build: `npm start` = `npm run build` + `exec node
 * dist/main.js`, so SIGTERM/SIGINT sent to npm reach this process.
 *
 * HTTP on PORT: /slack/events, /healthz, /readyz and (BULL_BOARD_USER/PASSWORD) /admin/queues on the Slack receiver; a
 * worker or a Socket Mode bot serves /healthz and /readyz on a small server of its own when PORT is set.
 *
 * Process knobs (all optional): REDIS_PREFIX (default `rso`: every key, BullMQ's too, lives under it),
 * ALERT_CHANNEL (the watch posts alerts there; unset = no watch) and WATCH_INTERVAL (default 5 min),
 * WORKER_CONCURRENCY (default 2), WORKER_LOCK_DURATION_MS (default 30000: how long a killed worker's job waits before
 * another worker resumes it), WORKER_STALLED_INTERVAL_MS (default: the lock duration), LOG_LEVEL (default info).
 * Once everything listens, the log line `redshift-ops started` is written (workers: after BullMQ is connected).
 */
import { parseArgs } from 'node:util';
import { webApi } from '@slack/bolt';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { buildRuntime } from './bot/runtime.js';
import { ConfigError } from './config.js';
import { createPolicy } from './policy.js';
import { connectRedis } from './queue/connection.js';
import type { JobsStore } from './queue/jobs-store.js';
import { registryReloader } from './schema/registry-reload.js';
import { loadRegistry } from './schema/registry.js';
import { schemasForProcess } from './schema/working-copy.js';
import { createSlackApp } from './slack/app.js';
import { healthzRoute, readyzRoute, startOpsServer } from './bot/http-routes.js';
import { readinessCheck } from './bot/readiness.js';
import { loadStartupConfig, type Role } from './startup-config.js';
import { SlackThreadReporter, type SlackJobOrigin } from './slack/reporter.js';
import type { ReplayGuard } from './slack/replay-guard.js';
import { createWarehouse } from './warehouse/redshift-data.js';
import { lazyDms, lazyLogs } from './replication/lazy.js';
import { createMysqlSource } from './source/mysql.js';
import { slackAlertPoster } from './watch/slack-poster.js';
import { slackPermalinks } from './slack/permalink.js';

/**
 * How the Slack reporter persists where a job's messages are (channel, thread/progress ts, approval messages): merged
 * into the job record with a compare-and-set, so a bot process and a worker process (or a restarted worker) find them.
 */
export function slackOriginSaver(store: JobsStore): (jobId: string, origin: SlackJobOrigin) => Promise<void> {
  return async (jobId, origin) => {
    await store.update(jobId, (j) => void (j.origin = { ...j.origin, ...origin }));
  };
}

/** The replay guard shared by every bot process on this Redis: `SET NX PX` answers "first seen" atomically. */
export function redisReplayGuard(redis: Redis, prefix: string): ReplayGuard {
  return {
    firstSeen: async (key, ttlMs) => (await redis.set(`${prefix}:slack:seen:${key}`, '1', 'PX', ttlMs, 'NX')) === 'OK',
  };
}

/** A mistake on the command line (exit code 2, like a configuration problem). */
class UsageError extends Error {}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { role: { type: 'string', default: 'all' } } });
  const roleArg = values.role ?? 'all';
  if (roleArg !== 'all' && roleArg !== 'bot' && roleArg !== 'worker') throw new UsageError(`--role ${roleArg}: use bot, worker, or leave it out for both`);
  const role: Role = roleArg;
  // every problem in the environment at once (ConfigError), before anything connects
  const { config, warehouse: warehouseConfig, slack, policy: policyConfig, redisUrl, prefix, logLevel, worker: workerKnobs, bullBoard } = loadStartupConfig(process.env, role);
  const logger = pino({ level: logLevel, redact: ['*.token', '*.secret', '*.signingSecret', '*.botToken', '*.password'] });
  // the AWS SDK prints a multi-line banner on Node < 22; say it once as a log line instead (the Docker image runs Node 22)
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (Number(process.versions.node.split('.')[0]) < 22)
    logger.warn({ node: process.version }, 'AWS SDK releases after early 2027 need Node 22; this runs, but plan the upgrade (the Docker image uses Node 22)');
  const { concurrency, lockDuration, stalledInterval } = workerKnobs;
  const redis = await connectRedis(redisUrl);
  // against the sandbox a job must not rewrite the repository's schemas/: a temporary copy unless SCHEMAS_DIR is set
  const schemasSet = (process.env.SCHEMAS_DIR ?? '').trim() !== '';
  const schemas = await schemasForProcess({
    configured: config.schemas.dir,
    explicitlySet: schemasSet,
    ...(config.aws.endpoint !== undefined ? { endpoint: config.aws.endpoint } : {}),
  });
  if (schemas.copied) logger.info({ dir: schemas.dir }, 'the warehouse is the sandbox: jobs rewrite a temporary copy of schemas/ (set SCHEMAS_DIR to choose)');
  const registry = await loadRegistry(schemas.dir);
  const warehouse = createWarehouse({ warehouse: warehouseConfig, aws: config.aws });
  // DMS + CloudWatch Logs: only runbooks on dms-replicated tables call them, so their SDK clients load on first use
  const dms = lazyDms(config);
  const logs = lazyLogs(config);
  // the MySQL read replica, when configured: compare and schema diff --source (read-only session, aggregates only)
  const source = config.source ? createMysqlSource({ url: config.source.url }) : undefined;

  const web = new webApi.WebClient(slack.botToken, slack.apiUrl ? { slackApiUrl: slack.apiUrl.endsWith('/') ? slack.apiUrl : `${slack.apiUrl}/` } : {});
  const policy = createPolicy(policyConfig, async (group) => {
    const r = await web.usergroups.users.list({ usergroup: group });
    return r.users ?? [];
  });

  // the reporter is built before the runtime (which needs it), so saveOrigin reaches the job store through this late binding
  let saveOrigin: (jobId: string, origin: SlackJobOrigin) => Promise<void> = async () => {
    throw new Error('the runtime is not built yet');
  };
  const reporter = new SlackThreadReporter({
    token: slack.botToken,
    ...(slack.apiUrl ? { apiUrl: slack.apiUrl } : {}),
    saveOrigin: (jobId, origin) => saveOrigin(jobId, origin),
    logger,
  });
  const rt = buildRuntime({
    redis,
    prefix,
    registry,
    reloadRegistry: registryReloader(registry),
    warehouse,
    dms,
    logs,
    settings: config.runbooks,
    ...(source ? { source } : {}),
    compare: config.compare,
    dmsSetup: { ...config.dmsSetup, ...(config.dmsSetup.sourceSchema === undefined && config.source ? { sourceSchema: config.source.database } : {}) },
    thresholds: config.health,
    permalink: slackPermalinks({ client: web }),
    ...(config.watch.channel !== undefined
      ? {
          watch: {
            channel: config.watch.channel,
            intervalMs: config.watch.intervalMs,
            poster: slackAlertPoster({ token: slack.botToken, ...(slack.apiUrl ? { apiUrl: slack.apiUrl } : {}) }),
          },
        }
      : {}),
    policy,
    reporter,
    front: 'slack',
    // signals are handled below (stop Slack, let running steps end, flush the thread updates, then exit); a worker that
    // exited on its own signal handler would drop the last progress updates
    ...(role !== 'bot'
      ? {
          worker: {
            concurrency,
            ...(lockDuration !== undefined ? { lockDuration } : {}),
            ...(stalledInterval !== undefined ? { stalledInterval } : {}),
            closeOnSignals: false,
          },
        }
      : {}),
    logger,
  });
  saveOrigin = slackOriginSaver(rt.jobs.store);

  // /healthz + /readyz on PORT: on the Slack receiver, or (worker, Socket Mode) on a small server of its own when PORT is set
  const ready = readinessCheck({ redis, warehouse });
  const opsRoutes = [readyzRoute(ready)];
  // the queue dashboard (read-only, basic auth) when BULL_BOARD_USER/PASSWORD are set; its packages load only then
  if (bullBoard !== undefined) {
    const { queueDashboardRoute, DASHBOARD_PATH } = await import('./bot/queue-dashboard.js');
    opsRoutes.push(await queueDashboardRoute({ queues: [rt.jobs.queue, rt.hygiene.queue], auth: bullBoard }));
    logger.info({ path: DASHBOARD_PATH }, 'queue dashboard enabled (basic auth)');
  }
  const httpReceiver = role !== 'worker' && slack.appToken === undefined;
  let stopSlack: (() => Promise<void>) | undefined;
  let stopOps: (() => Promise<void>) | undefined;
  if (!httpReceiver && (process.env.PORT ?? '').trim() !== '') {
    const ops = await startOpsServer(slack.port, [healthzRoute(), ...opsRoutes]);
    logger.info({ port: ops.port }, `serving /healthz and /readyz${bullBoard !== undefined ? ' and /admin/queues' : ''}`);
    stopOps = ops.close;
  }
  if (role !== 'worker') {
    const replayGuard = redisReplayGuard(redis, prefix);
    const app = createSlackApp({
      signingSecret: slack.signingSecret,
      botToken: slack.botToken,
      ...(slack.apiUrl ? { apiUrl: slack.apiUrl } : {}),
      ...(slack.appToken ? { appToken: slack.appToken } : {}),
      port: slack.port,
      services: rt.bot,
      logger,
      replayGuard,
      routes: opsRoutes,
    });
    const { port } = await app.start();
    logger.info({ port, socketMode: slack.appToken !== undefined }, 'slack receiver listening on /slack/events');
    stopSlack = () => app.stop();
  }
  if (rt.worker) await rt.worker.worker.waitUntilReady();
  // the watch runs where jobs run: every worker registers the same schedule (one per Redis prefix) and takes its runs
  if (rt.worker && config.watch.channel !== undefined) {
    await rt.startWatch();
    logger.info({ channel: config.watch.channel, intervalMs: config.watch.intervalMs }, 'watch scheduled');
  } else if (rt.worker) logger.info('watch off: set ALERT_CHANNEL to post alerts');
  logger.info({ role, prefix, tables: registry.tables.size, pid: process.pid }, 'redshift-ops started');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: running steps finish first');
    if (stopSlack) await stopSlack();
    if (stopOps) await stopOps();
    await rt.close(); // waits for the worker's running steps, which still report
    await source?.close();
    await reporter.flush(); // then the last thread updates go out
    await redis.quit().catch(() => redis.disconnect());
    await schemas.remove().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  main().catch((e: unknown) => {
    process.stderr.write(`redshift-ops: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(e instanceof ConfigError || e instanceof UsageError ? 2 : 1);
  });
}
