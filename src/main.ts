/**
 * redshift-ops entry point. Roles:
 *   npm start                    bot (Slack receiver) + worker in one process
 *   npm start -- --role bot      only the Slack receiver (acks, parses, queues, approvals)
 *   npm start -- --role worker   only a worker (runs runbooks; scale out on the same Redis)
 * Configuration comes from the environment (src/config.ts, src/slack/config.ts, src/policy.ts); each problem is
 * reported as one line naming the variable. Secrets are never logged.
 */
import { parseArgs } from 'node:util';
import { webApi } from '@slack/bolt';
import pino from 'pino';
import { buildRuntime } from './bot/runtime.js';
import { ConfigError, loadConfig, requireWarehouse } from './config.js';
import { createPolicy, policyFromEnv } from './policy.js';
import { connectRedis, redisUrlFromEnv } from './queue/connection.js';
import { loadRegistry } from './schema/registry.js';
import { createSlackApp } from './slack/app.js';
import { slackConfigFromEnv } from './slack/config.js';
import { SlackThreadReporter } from './slack/reporter.js';
import type { ReplayGuard } from './slack/replay-guard.js';
import { createWarehouse } from './warehouse/redshift-data.js';

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { role: { type: 'string', default: 'all' } } });
  const role = values.role ?? 'all';
  if (!['all', 'bot', 'worker'].includes(role)) throw new Error(`--role ${role}: use bot, worker, or leave it out for both`);
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info', redact: ['*.token', '*.secret', '*.signingSecret', '*.botToken'] });

  const config = loadConfig();
  const warehouseConfig = requireWarehouse(config);
  const slack = slackConfigFromEnv();
  if (!slack) throw new Error('Slack is not configured: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN (or try `npm run demo`, which needs neither)');
  const prefix = process.env.REDIS_PREFIX ?? 'rso';
  const redis = await connectRedis(redisUrlFromEnv());
  const registry = await loadRegistry(config.schemas.dir);
  const warehouse = createWarehouse({ warehouse: warehouseConfig, aws: config.aws });

  const web = new webApi.WebClient(slack.botToken, slack.apiUrl ? { slackApiUrl: slack.apiUrl.endsWith('/') ? slack.apiUrl : `${slack.apiUrl}/` } : {});
  const policy = createPolicy(policyFromEnv(), async (group) => {
    const r = await web.usergroups.users.list({ usergroup: group });
    return r.users ?? [];
  });

  // the runtime is built first so saveOrigin can write into its job store
  let saveOrigin: (jobId: string, origin: object) => Promise<void> = async () => undefined;
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
    warehouse,
    policy,
    reporter,
    front: 'slack',
    ...(role !== 'bot' ? { worker: { concurrency: Number(process.env.WORKER_CONCURRENCY ?? 2), closeOnSignals: true } } : {}),
    logger,
  });
  saveOrigin = async (jobId, origin) => {
    await rt.jobs.store.update(jobId, (j) => void (j.origin = { ...j.origin, ...origin }));
  };

  let stopSlack: (() => Promise<void>) | undefined;
  if (role !== 'worker') {
    const replayGuard: ReplayGuard = {
      firstSeen: async (key, ttlMs) => (await redis.set(`${prefix}:slack:seen:${key}`, '1', 'PX', ttlMs, 'NX')) === 'OK',
    };
    const app = createSlackApp({
      signingSecret: slack.signingSecret,
      botToken: slack.botToken,
      ...(slack.apiUrl ? { apiUrl: slack.apiUrl } : {}),
      ...(slack.appToken ? { appToken: slack.appToken } : {}),
      port: slack.port,
      services: rt.bot,
      logger,
      replayGuard,
    });
    const { port } = await app.start();
    logger.info({ port, socketMode: slack.appToken !== undefined }, 'slack receiver listening on /slack/events');
    stopSlack = () => app.stop();
  }
  logger.info({ role, tables: registry.tables.size }, 'redshift-ops started');

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    if (stopSlack) await stopSlack();
    await reporter.flush();
    await rt.close();
    redis.disconnect();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  main().catch((e: unknown) => {
    process.stderr.write(`redshift-ops: ${e instanceof ConfigError || e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
