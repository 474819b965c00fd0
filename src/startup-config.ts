/**
 * Everything `npm start` (src/main.ts) reads from the environment, checked in one pass: the warehouse and runbook
 * settings (src/config.ts), Slack (src/slack/config.ts), the approval policy (src/policy.ts) and the process knobs
 * (Redis, worker, logging, Bull Board). Every problem is collected and thrown as one ConfigError, so a new install is
 * fixed in one edit of `.env`, not one failed start per variable. Nothing here connects to anything.
 */
import { ConfigError, loadConfig, requireWarehouse, type Config, type Env, type WarehouseConfig } from './config.js';
import { policyFromEnv, PolicyConfigError, type PolicyConfig } from './policy.js';
import { DEFAULT_REDIS_URL } from './queue/connection.js';
import { slackConfigFromEnv, SlackConfigError, type SlackConfig } from './slack/config.js';

export type Role = 'all' | 'bot' | 'worker';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface BullBoardAuth {
  user: string;
  password: string;
}

export interface StartupConfig {
  config: Config;
  warehouse: WarehouseConfig;
  slack: SlackConfig;
  policy: PolicyConfig;
  redisUrl: string;
  /** REDIS_PREFIX (default `rso`): every key, BullMQ's too, lives under it */
  prefix: string;
  logLevel: LogLevel;
  worker: { concurrency: number; lockDuration?: number; stalledInterval?: number };
  /** BULL_BOARD_USER + BULL_BOARD_PASSWORD: the queue dashboard at /admin/queues; undefined = off */
  bullBoard?: BullBoardAuth;
}

const blank = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v.trim());

/** A positive whole number from `env[name]`, or `dflt`; a bad value adds a problem naming the variable. */
function positiveInt(env: Env, name: string, dflt: number | undefined, problems: string[]): number | undefined {
  const raw = blank(env[name]);
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) {
    problems.push(`${name} (got "${raw}"): expected a whole number of 1 or more`);
    return dflt;
  }
  return n;
}

function problemsOf(e: unknown): string[] {
  if (e instanceof ConfigError || e instanceof SlackConfigError || e instanceof PolicyConfigError) return e.problems;
  throw e;
}

/** Read and check the whole start-up environment for `role`; throws one ConfigError listing every problem. */
export function loadStartupConfig(env: Env, role: Role): StartupConfig {
  const problems: string[] = [];
  let config: Config | undefined;
  let warehouse: WarehouseConfig | undefined;
  try {
    config = loadConfig(env);
    if (config.warehouse !== undefined) warehouse = requireWarehouse(config);
  } catch (e) {
    problems.push(...problemsOf(e));
  }
  // no target at all (a half-set target is loadConfig's problem, reported above)
  if (['REDSHIFT_CLUSTER_ID', 'REDSHIFT_WORKGROUP', 'REDSHIFT_SECRET_ARN', 'REDSHIFT_DB_USER'].every((k) => blank(env[k]) === undefined))
    problems.push(
      'REDSHIFT_CLUSTER_ID (or REDSHIFT_WORKGROUP) is not set: no Redshift warehouse is configured. Set REDSHIFT_CLUSTER_ID plus REDSHIFT_SECRET_ARN or REDSHIFT_DB_USER (provisioned), or REDSHIFT_WORKGROUP (Serverless); to try it locally, `npm run sandbox` prints the variables to export',
    );

  let slack: SlackConfig | undefined;
  try {
    slack = slackConfigFromEnv(env, { needSigningSecret: role !== 'worker' });
    if (slack === undefined)
      problems.push('SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN are not set: copy them from the Slack app (manifest.yml says where), or try `npm run demo`, which needs neither');
  } catch (e) {
    problems.push(...problemsOf(e));
  }

  let policy: PolicyConfig | undefined;
  try {
    policy = policyFromEnv(env);
  } catch (e) {
    problems.push(...problemsOf(e));
  }

  const redisUrl = blank(env.REDIS_URL) ?? DEFAULT_REDIS_URL;
  if (!/^rediss?:\/\/[^\s]+$/.test(redisUrl)) {
    const shown = redisUrl.replace(/\/\/[^@/]*@/, '//***@');
    problems.push(`REDIS_URL (got "${shown}"): expected redis://host:port (or rediss:// for TLS), e.g. ${DEFAULT_REDIS_URL}`);
  }
  const prefix = blank(env.REDIS_PREFIX) ?? 'rso';
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) problems.push(`REDIS_PREFIX (got "${prefix}"): use letters, digits, _ . and - only`);

  const level = blank(env.LOG_LEVEL) ?? 'info';
  const logLevel = (LOG_LEVELS as readonly string[]).includes(level) ? (level as LogLevel) : undefined;
  if (logLevel === undefined) problems.push(`LOG_LEVEL (got "${level}"): use one of ${LOG_LEVELS.join(', ')}`);

  const concurrency = positiveInt(env, 'WORKER_CONCURRENCY', 2, problems) ?? 2;
  const lockDuration = positiveInt(env, 'WORKER_LOCK_DURATION_MS', undefined, problems);
  const stalledInterval = positiveInt(env, 'WORKER_STALLED_INTERVAL_MS', undefined, problems);

  const bbUser = blank(env.BULL_BOARD_USER);
  const bbPassword = blank(env.BULL_BOARD_PASSWORD);
  let bullBoard: BullBoardAuth | undefined;
  if ((bbUser === undefined) !== (bbPassword === undefined)) {
    problems.push(`${bbUser === undefined ? 'BULL_BOARD_USER' : 'BULL_BOARD_PASSWORD'} is not set: the queue dashboard needs both BULL_BOARD_USER and BULL_BOARD_PASSWORD (or neither, to keep it off)`);
  } else if (bbUser !== undefined && bbPassword !== undefined) {
    if (bbPassword.length < 12) problems.push('BULL_BOARD_PASSWORD: use at least 12 characters (the dashboard can retry and remove jobs)');
    else if (bbUser.includes(':')) problems.push('BULL_BOARD_USER: a basic-auth user name cannot contain ":"');
    else bullBoard = { user: bbUser, password: bbPassword };
  }

  if (problems.length > 0 || config === undefined || warehouse === undefined || slack === undefined || policy === undefined || logLevel === undefined) {
    throw new ConfigError(problems);
  }
  return {
    config,
    warehouse,
    slack,
    policy,
    redisUrl,
    prefix,
    logLevel,
    worker: { concurrency, ...(lockDuration !== undefined ? { lockDuration } : {}), ...(stalledInterval !== undefined ? { stalledInterval } : {}) },
    ...(bullBoard !== undefined ? { bullBoard } : {}),
  };
}
