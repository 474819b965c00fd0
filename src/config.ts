/**
 * Configuration from the environment, validated with zod. One section per concern (`warehouse`, `aws`, `schemas`, …) so
 * later features (Slack, Redis, approval policy) add a section without touching the others.
 *
 * Errors are values a person can act on: each names the variable, what was wrong and what to set. Secrets (the secret ARN
 * is not a secret, but treat credentials-like values with care) are never logged: use `describeConfig()` for a loggable view.
 */
import { z } from 'zod';
import { DEFAULT_RUNBOOK_SETTINGS, type DmsSetupSettings, type RunbookSettings } from './jobs/deps.js';
import { parseSourceUrl } from './source/url.js';
import { DEFAULT_COMPARE_LAG_SECONDS } from './source/checksum-sql.js';
export { DEFAULT_COMPARE_LAG_SECONDS };
import { DEFAULT_THRESHOLDS, type HealthThresholds } from './health/thresholds.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** Where the Data API should run statements: a provisioned cluster or a Serverless workgroup. */
export type WarehouseTarget =
  | {
      kind: 'provisioned';
      clusterId: string;
      /** Secrets Manager ARN holding the database user's credentials (preferred) … */
      secretArn?: string;
      /** … or a database user for temporary credentials (redshift:GetClusterCredentials). */
      dbUser?: string;
    }
  | {
      kind: 'serverless';
      workgroup: string;
      /** optional: without it the Data API uses IAM temporary credentials for the caller */
      secretArn?: string;
    };

export interface WarehouseConfig {
  target: WarehouseTarget;
  database: string;
}

export interface AwsConfig {
  region: string;
  /** AWS_ENDPOINT_URL: a loopback sandbox (npm run sandbox) or a VPC endpoint; undefined = the SDK's default endpoint */
  endpoint?: string;
  /** AWS_ENDPOINT_URL_DATABASE_MIGRATION_SERVICE: the DMS endpoint when it differs; default `endpoint` */
  dmsEndpoint?: string;
  /** AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: the CloudWatch Logs endpoint when it differs; default `endpoint` */
  logsEndpoint?: string;
}

export interface Config {
  /** undefined when no Redshift target is configured (commands that need one say which variables to set) */
  warehouse?: WarehouseConfig;
  aws: AwsConfig;
  schemas: { dir: string };
  /** runbook settings (LOG_CHECK_MINUTES, LOG_CHECK_LAG_SECONDS, FRESHNESS_MINUTES, DISK_FACTOR, SWAP_LOCK_TIMEOUT_MS, CATCHUP_ROWS, CATCHUP_ROUNDS, SCHEMA_GIT_DIR, HYGIENE_*) */
  runbooks: RunbookSettings;
  /** the MySQL read replica (SOURCE_DATABASE_URL); undefined when none is configured (compare then says so) */
  source?: SourceConfig;
  /** `compare`: COMPARE_LAG_SECONDS (default 300) */
  compare: CompareConfig;
  /** `setup`'s DMS task: DMS_SOURCE_ENDPOINT_ARN, DMS_SOURCE_SCHEMA, DMS_TARGET_ENDPOINT_ID + DMS_TARGET_* (all optional) */
  dmsSetup: DmsSetupSettings;
  /** the watch: ALERT_CHANNEL (no channel = no watch) and WATCH_INTERVAL (default 5 min) */
  watch: { channel?: string; intervalMs: number };
  /** when status and the watch call a fact a problem (CDC_STALE_MINUTES, APPROVAL_WAIT_MINUTES, LOG_WINDOW_MINUTES, SKEW_ROWS; unsorted and stats off from HYGIENE_UNSORTED_PCT / HYGIENE_STATS_OFF_PCT) */
  health: HealthThresholds;
}

export interface SourceConfig {
  /** mysql://user:password@host:3306/database — holds a password: never log it (describeConfig shows host and database) */
  url: string;
  database: string;
  host: string;
}

export interface CompareConfig {
  /** rows changed this recently (updated_at, else created_at) may not be replicated yet: left out on both sides */
  lagSeconds: number;
}


/** What a user must set to let `compare` and `schema diff --source` reach the source. */
export const SOURCE_ENV_HELP =
  'Set SOURCE_DATABASE_URL=mysql://user:password@host:3306/database (a read-only user on the MySQL read replica is enough: the bot only runs SELECTs, in a read-only session).';

export const DEFAULT_WATCH_INTERVAL_MS = 5 * 60_000;

/** A configuration problem: one line per variable, each saying what to set. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`${problems.length === 1 ? 'a configuration problem' : `${problems.length} configuration problems`} (fix them all, then start again):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** What a user must set to point the bot at a warehouse (used by the CLI and error messages). */
export const WAREHOUSE_ENV_HELP = [
  'Set one of:',
  '  provisioned cluster: REDSHIFT_CLUSTER_ID plus REDSHIFT_SECRET_ARN (Secrets Manager) or REDSHIFT_DB_USER (temporary credentials)',
  '  Redshift Serverless: REDSHIFT_WORKGROUP (plus REDSHIFT_SECRET_ARN, optional)',
  'and optionally REDSHIFT_DATABASE (default dev), AWS_REGION (default us-west-2), AWS_ENDPOINT_URL.',
  'To try it locally without AWS: `npm run sandbox` prints an AWS_ENDPOINT_URL and the variables to export.',
].join('\n');

const dmsEndpointArn = z.string().regex(/^arn:aws[a-z-]*:dms:[a-z0-9-]+:\d{12}:endpoint:[A-Za-z0-9-]+$/, 'expected arn:aws:dms:<region>:<account>:endpoint:<id>');
const dmsIdentifier = z.string().regex(/^(?!.*--)[A-Za-z](?:[A-Za-z0-9-]{0,253}[A-Za-z0-9])?$/, 'a DMS identifier is letters, digits and hyphens, starts with a letter, no trailing or double hyphen');
const hostName = z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, 'expected a host name such as my-cluster.abc123.us-west-2.redshift.amazonaws.com');
const port = z.coerce.number({ error: 'expected a port number such as 5439' }).int('expected a port number such as 5439').min(1).max(65_535);
const iamRoleArn = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'expected arn:aws:iam::<account>:role/<name>');

/** setup's DMS settings from DMS_* variables (each optional; what setup then cannot do, it says when it runs). */
function dmsSetupSettings(get: (k: string) => string | undefined, problems: string[], defaults: { database?: string }): DmsSetupSettings {
  const out: DmsSetupSettings = {};
  const src = get('DMS_SOURCE_ENDPOINT_ARN');
  if (src !== undefined) {
    const v = check(dmsEndpointArn, 'DMS_SOURCE_ENDPOINT_ARN', src, problems);
    if (v !== undefined) out.sourceEndpointArn = v;
  }
  const schema = get('DMS_SOURCE_SCHEMA');
  if (schema !== undefined) {
    const v = check(database, 'DMS_SOURCE_SCHEMA', schema, problems);
    if (v !== undefined) out.sourceSchema = v;
  }
  const id = get('DMS_TARGET_ENDPOINT_ID');
  const server = get('DMS_TARGET_SERVER_NAME');
  if (id === undefined) {
    if (server !== undefined) problems.push('DMS_TARGET_SERVER_NAME is set but DMS_TARGET_ENDPOINT_ID is not: set the identifier setup finds (or creates) the Redshift target endpoint by');
    return out;
  }
  const i = check(dmsIdentifier, 'DMS_TARGET_ENDPOINT_ID', id, problems);
  const sv = server === undefined ? undefined : check(hostName, 'DMS_TARGET_SERVER_NAME', server, problems);
  const pt = check(port, 'DMS_TARGET_PORT', get('DMS_TARGET_PORT') ?? '5439', problems);
  const db = check(database, 'DMS_TARGET_DATABASE', get('DMS_TARGET_DATABASE') ?? defaults.database ?? 'dev', problems);
  const sa = get('DMS_TARGET_SECRET_ARN');
  const sec = sa === undefined ? undefined : check(secretArn, 'DMS_TARGET_SECRET_ARN', sa, problems);
  const ra = get('DMS_TARGET_SECRET_ACCESS_ROLE_ARN');
  const role = ra === undefined ? undefined : check(iamRoleArn, 'DMS_TARGET_SECRET_ACCESS_ROLE_ARN', ra, problems);
  if ((sa === undefined) !== (ra === undefined)) problems.push('DMS_TARGET_SECRET_ARN and DMS_TARGET_SECRET_ACCESS_ROLE_ARN go together: DMS reads the Redshift credentials from the secret with that role');
  if (i !== undefined) out.targetEndpointId = i;
  if (sv !== undefined && pt !== undefined && db !== undefined)
    out.targetConnection = { serverName: sv, port: pt, databaseName: db, ...(sec !== undefined ? { secretArn: sec } : {}), ...(role !== undefined ? { secretAccessRoleArn: role } : {}) };
  return out;
}

const nonEmpty = (v: string | undefined): string | undefined => {
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
};

// Formats checked up front so a typo is reported at start-up, not as an AWS error halfway through a job.
const clusterId = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'a cluster identifier is lower-case letters, digits and hyphens, starting with a letter (max 63)')
  .refine((s) => !s.endsWith('-') && !s.includes('--'), 'a cluster identifier cannot end with a hyphen or contain two hyphens in a row');
const workgroup = z.string().regex(/^[a-z0-9-]{3,64}$/, 'a workgroup name is 3–64 lower-case letters, digits and hyphens');
const secretArn = z.string().regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, 'expected arn:aws:secretsmanager:<region>:<account>:secret:<name>');
const dbUser = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$.@+-]{0,126}$/, 'not a valid database user name');
const database = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,126}$/, 'a database name is letters, digits, _ and $, starting with a letter or _');
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected a region name such as us-west-2');
const endpoint = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://127.0.0.1:4599' });
const dir = z.string().min(1);
const minutes = z.coerce
  .number({ error: 'expected a number of minutes such as 10 or 0.5' })
  .min(0, 'cannot be negative')
  .max(24 * 60, 'at most 1440 (a day)');
const lagSeconds = z.coerce
  .number({ error: 'expected a number of seconds such as 120' })
  .min(0, 'cannot be negative')
  .max(3_600, 'at most 3600 (an hour)');
const pollSeconds = z.coerce
  .number({ error: 'expected a number of seconds such as 30 or 0.5' })
  .min(0.05, 'at least 0.05')
  .max(3_600, 'at most 3600 (an hour)');
const waitHours = z.coerce
  .number({ error: 'expected a number of hours such as 48' })
  .positive('must be more than 0')
  .max(24 * 30, 'at most 720 (30 days)');
const diskFactor = z.coerce.number({ error: 'expected a number such as 2.5' }).min(1, 'must be at least 1 (the copy needs the table\'s size again)').max(100, 'at most 100');
const compareLagSeconds = z.coerce
  .number({ error: 'expected whole seconds such as 300' })
  .int('expected whole seconds such as 300')
  .min(0, 'cannot be negative')
  .max(7 * 24 * 3600, 'at most 604800 (a week)');
const mbPerSecond = z.coerce.number({ error: 'expected MB per second such as 100' }).positive('must be more than 0').max(1_000_000, 'at most 1000000');
const lockTimeoutMs = z.coerce
  .number({ error: 'expected whole milliseconds such as 2000' })
  .int('expected whole milliseconds such as 2000')
  .min(1, 'must be at least 1 ms')
  .max(600_000, 'at most 600000 (10 minutes)');

const wholeCount = z.coerce.number({ error: 'expected a whole number such as 1000' }).int('expected a whole number such as 1000').min(1, 'must be at least 1').max(100_000_000, 'at most 100000000');

const percent = z.coerce.number({ error: 'expected a percent such as 10 or 2.5' }).min(0, 'cannot be negative').max(100, 'at most 100');
const skew = z.coerce.number({ error: 'expected a ratio such as 5' }).min(1, 'must be at least 1 (1.00 means no skew)').max(1000, 'at most 1000');
const channel = z.string().regex(/^#?[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/, 'expected a Slack channel id such as C0123456789 (or a channel name)');
/** WATCH_INTERVAL: plain minutes (5), or a number with s / m / h (30s, 5m, 1h); 10 s to 24 h */
const interval = z
  .string()
  .transform((v, ctx) => {
    const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|min)?$/i.exec(v.trim());
    if (!m?.[1]) {
      ctx.addIssue({ code: 'custom', message: 'expected minutes (5) or a duration such as 30s, 5m, 1h' });
      return z.NEVER;
    }
    const unit = (m[2] ?? 'm').toLowerCase();
    return Math.round(Number(m[1]) * (unit === 's' ? 1000 : unit === 'h' ? 3_600_000 : 60_000));
  })
  .pipe(z.number().min(10_000, 'at least 10 seconds').max(24 * 3_600_000, 'at most 24 hours'));

function check<T>(schema: z.ZodType<T>, variable: string, value: string, problems: string[]): T | undefined {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  // never echo the value of a secret-ish variable back
  const shown = /SECRET|PASSWORD|TOKEN|KEY/.test(variable) ? '' : ` (got "${value}")`;
  problems.push(`${variable}${shown}: ${r.error.issues.map((i) => i.message).join('; ')}`);
  return undefined;
}

/**
 * Read the configuration from `env` (default process.env). Throws ConfigError listing every problem found.
 * A missing warehouse target is not an error here (`config.warehouse` is undefined); `requireWarehouse` makes it one.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const get = (k: string): string | undefined => nonEmpty(env[k]);

  const awsRegion = check(region, 'AWS_REGION', get('AWS_REGION') ?? get('AWS_DEFAULT_REGION') ?? 'us-west-2', problems);
  const ep = get('AWS_ENDPOINT_URL');
  const awsEndpoint = ep === undefined ? undefined : check(endpoint, 'AWS_ENDPOINT_URL', ep, problems);

  const cid = get('REDSHIFT_CLUSTER_ID');
  const wg = get('REDSHIFT_WORKGROUP');
  const sa = get('REDSHIFT_SECRET_ARN');
  const du = get('REDSHIFT_DB_USER');
  const db = check(database, 'REDSHIFT_DATABASE', get('REDSHIFT_DATABASE') ?? 'dev', problems);

  let target: WarehouseTarget | undefined;
  if (cid !== undefined && wg !== undefined) {
    problems.push('REDSHIFT_CLUSTER_ID and REDSHIFT_WORKGROUP are both set: set REDSHIFT_CLUSTER_ID for a provisioned cluster or REDSHIFT_WORKGROUP for Serverless, not both');
  } else if (cid !== undefined) {
    const c = check(clusterId, 'REDSHIFT_CLUSTER_ID', cid, problems);
    const s = sa === undefined ? undefined : check(secretArn, 'REDSHIFT_SECRET_ARN', sa, problems);
    const u = du === undefined ? undefined : check(dbUser, 'REDSHIFT_DB_USER', du, problems);
    if (sa === undefined && du === undefined) {
      problems.push(
        'REDSHIFT_CLUSTER_ID is set but the cluster needs credentials: set REDSHIFT_SECRET_ARN (a Secrets Manager secret with the database user and password) or REDSHIFT_DB_USER (temporary credentials via redshift:GetClusterCredentials)',
      );
    } else if (sa !== undefined && du !== undefined) {
      problems.push('REDSHIFT_SECRET_ARN and REDSHIFT_DB_USER are both set: the Data API takes one of them; unset one');
    } else if (c !== undefined && (s !== undefined || u !== undefined)) {
      target = { kind: 'provisioned', clusterId: c, ...(s !== undefined ? { secretArn: s } : {}), ...(u !== undefined ? { dbUser: u } : {}) };
    }
  } else if (wg !== undefined) {
    const w = check(workgroup, 'REDSHIFT_WORKGROUP', wg, problems);
    const s = sa === undefined ? undefined : check(secretArn, 'REDSHIFT_SECRET_ARN', sa, problems);
    if (du !== undefined) problems.push('REDSHIFT_DB_USER is for provisioned clusters; Serverless (REDSHIFT_WORKGROUP) takes REDSHIFT_SECRET_ARN or IAM credentials: unset REDSHIFT_DB_USER');
    else if (w !== undefined) target = { kind: 'serverless', workgroup: w, ...(s !== undefined ? { secretArn: s } : {}) };
  } else if (sa !== undefined || du !== undefined) {
    const which = sa !== undefined ? 'REDSHIFT_SECRET_ARN' : 'REDSHIFT_DB_USER';
    problems.push(`${which} is set but no warehouse is: also set REDSHIFT_CLUSTER_ID (provisioned) or REDSHIFT_WORKGROUP (Serverless)`);
  }

  const dmsEp = get('AWS_ENDPOINT_URL_DATABASE_MIGRATION_SERVICE');
  const dmsEndpoint = dmsEp === undefined ? undefined : check(endpoint, 'AWS_ENDPOINT_URL_DATABASE_MIGRATION_SERVICE', dmsEp, problems);
  const logsEp = get('AWS_ENDPOINT_URL_CLOUDWATCH_LOGS');
  const logsEndpoint = logsEp === undefined ? undefined : check(endpoint, 'AWS_ENDPOINT_URL_CLOUDWATCH_LOGS', logsEp, problems);

  const schemasDir = check(dir, 'SCHEMAS_DIR', get('SCHEMAS_DIR') ?? 'schemas', problems);
  const runbooks = runbookSettings(get, problems);
  const watch = watchSettings(get, problems);
  const health = healthThresholds(get, problems, runbooks.hygiene);

  const srcUrl = get('SOURCE_DATABASE_URL');
  let source: SourceConfig | undefined;
  if (srcUrl !== undefined) {
    const p = parseSourceUrl(srcUrl);
    // the URL carries a password: say what is wrong, never echo it
    if (!p.ok) problems.push(`SOURCE_DATABASE_URL: ${p.error}`);
    else source = { url: srcUrl, database: p.database, host: p.host };
  }
  const lagText = get('COMPARE_LAG_SECONDS');
  const lag = lagText === undefined ? DEFAULT_COMPARE_LAG_SECONDS : check(compareLagSeconds, 'COMPARE_LAG_SECONDS', lagText, problems);

  const dmsSetup = dmsSetupSettings(get, problems, { ...(db !== undefined ? { database: db } : {}) });

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    ...(target !== undefined && db !== undefined ? { warehouse: { target, database: db } } : {}),
    aws: {
      region: awsRegion!,
      ...(awsEndpoint !== undefined ? { endpoint: awsEndpoint } : {}),
      ...(dmsEndpoint !== undefined ? { dmsEndpoint } : {}),
      ...(logsEndpoint !== undefined ? { logsEndpoint } : {}),
    },
    schemas: { dir: schemasDir! },
    runbooks,
    ...(source !== undefined ? { source } : {}),
    compare: { lagSeconds: lag ?? DEFAULT_COMPARE_LAG_SECONDS },
    dmsSetup,
    watch,
    health,
  };
}

function watchSettings(get: (k: string) => string | undefined, problems: string[]): Config['watch'] {
  const out: Config['watch'] = { intervalMs: DEFAULT_WATCH_INTERVAL_MS };
  const ch = get('ALERT_CHANNEL');
  if (ch !== undefined) {
    const c = check(channel, 'ALERT_CHANNEL', ch, problems);
    if (c !== undefined) out.channel = c;
  }
  const iv = get('WATCH_INTERVAL');
  if (iv !== undefined) {
    const ms = check(interval, 'WATCH_INTERVAL', iv, problems);
    if (ms !== undefined) out.intervalMs = ms;
  }
  return out;
}

function healthThresholds(get: (k: string) => string | undefined, problems: string[], hygiene: { unsortedPct: number; statsOffPct: number }): HealthThresholds {
  const out: HealthThresholds = { ...DEFAULT_THRESHOLDS };
  const ms = (v: string, k: 'staleMs' | 'approvalWaitMs' | 'logWindowMs') => {
    const raw = get(v);
    if (raw === undefined) return;
    const m = check(minutes, v, raw, problems);
    if (m !== undefined) out[k] = Math.round(m * 60_000);
  };
  ms('CDC_STALE_MINUTES', 'staleMs');
  ms('APPROVAL_WAIT_MINUTES', 'approvalWaitMs');
  ms('LOG_WINDOW_MINUTES', 'logWindowMs');
  const sk = get('SKEW_ROWS');
  if (sk !== undefined) {
    const n = check(skew, 'SKEW_ROWS', sk, problems);
    if (n !== undefined) out.skewRows = n;
  }
  // unsorted / stats off: the same numbers `hygiene` recommends VACUUM / ANALYZE by (HYGIENE_UNSORTED_PCT, HYGIENE_STATS_OFF_PCT)
  out.unsortedPct = hygiene.unsortedPct;
  out.statsOffPct = hygiene.statsOffPct;
  return out;
}

/** Runbook settings from the environment; every unset variable keeps DEFAULT_RUNBOOK_SETTINGS' value. */
function runbookSettings(get: (k: string) => string | undefined, problems: string[]): RunbookSettings {
  const out: RunbookSettings = { ...DEFAULT_RUNBOOK_SETTINGS };
  const logCheck = get('LOG_CHECK_MINUTES');
  if (logCheck !== undefined) {
    const m = check(minutes, 'LOG_CHECK_MINUTES', logCheck, problems);
    if (m !== undefined) out.logCheckMs = Math.round(m * 60_000);
  }
  const lag = get('LOG_CHECK_LAG_SECONDS');
  if (lag !== undefined) {
    const sec = check(lagSeconds, 'LOG_CHECK_LAG_SECONDS', lag, problems);
    if (sec !== undefined) out.logLagMs = Math.round(sec * 1000);
  }
  const fresh = get('FRESHNESS_MINUTES');
  if (fresh !== undefined) {
    const m = check(minutes, 'FRESHNESS_MINUTES', fresh, problems);
    if (m !== undefined) out.freshnessMs = Math.round(m * 60_000);
  }
  // recover's long waits (parked, no worker held): how often they look, and when they give up
  for (const [variable, field] of [
    ['FULL_LOAD_POLL_SECONDS', 'fullLoadPollMs'],
    ['CDC_RELOAD_POLL_SECONDS', 'cdcReloadPollMs'],
  ] as const) {
    const v = get(variable);
    if (v === undefined) continue;
    const sec = check(pollSeconds, variable, v, problems);
    if (sec !== undefined) out[field] = Math.round(sec * 1000);
  }
  for (const [variable, field] of [
    ['FULL_LOAD_TIMEOUT_HOURS', 'fullLoadTimeoutMs'],
    ['CDC_RELOAD_TIMEOUT_HOURS', 'cdcReloadTimeoutMs'],
  ] as const) {
    const v = get(variable);
    if (v === undefined) continue;
    const h = check(waitHours, variable, v, problems);
    if (h !== undefined) out[field] = Math.round(h * 3_600_000);
  }
  const disk = get('DISK_FACTOR');
  if (disk !== undefined) {
    const f = check(diskFactor, 'DISK_FACTOR', disk, problems);
    if (f !== undefined) out.diskFactor = f;
  }
  const lock = get('SWAP_LOCK_TIMEOUT_MS');
  if (lock !== undefined) {
    const ms = check(lockTimeoutMs, 'SWAP_LOCK_TIMEOUT_MS', lock, problems);
    if (ms !== undefined) out.swapLockTimeoutMs = ms;
  }
  for (const [variable, field] of [
    ['CATCHUP_ROWS', 'catchUpRows'],
    ['CATCHUP_ROUNDS', 'catchUpRounds'],
  ] as const) {
    const v = get(variable);
    if (v === undefined) continue;
    const n = check(wholeCount, variable, v, problems);
    if (n !== undefined) out[field] = n;
  }
  out.hygiene = { ...out.hygiene };
  const pcts = [
    ['HYGIENE_UNSORTED_PCT', 'unsortedPct'],
    ['HYGIENE_STATS_OFF_PCT', 'statsOffPct'],
    ['HYGIENE_DELETED_PCT', 'deletedPct'],
  ] as const;
  for (const [variable, field] of pcts) {
    const v = get(variable);
    if (v === undefined) continue;
    const n = check(percent, variable, v, problems);
    if (n !== undefined) out.hygiene[field] = n;
  }
  const sk = get('HYGIENE_REINDEX_SKEW');
  if (sk !== undefined) {
    const n = check(skew, 'HYGIENE_REINDEX_SKEW', sk, problems);
    if (n !== undefined) out.hygiene.reindexSkew = n;
  }
  const vw = get('HYGIENE_VACUUM_WAIT_MINUTES');
  if (vw !== undefined) {
    const m = check(minutes, 'HYGIENE_VACUUM_WAIT_MINUTES', vw, problems);
    if (m !== undefined) out.vacuumWaitMs = Math.round(m * 60_000);
  }
  for (const [variable, field] of [
    ['SCAN_MB_PER_SECOND', 'scanMbPerSecond'],
    ['COPY_MB_PER_SECOND', 'copyMbPerSecond'],
  ] as const) {
    const v = get(variable);
    if (v === undefined) continue;
    const n = check(mbPerSecond, variable, v, problems);
    if (n !== undefined) out[field] = n;
  }
  const git = get('SCHEMA_GIT_DIR');
  if (git !== undefined) {
    const d = check(dir, 'SCHEMA_GIT_DIR', git, problems);
    if (d !== undefined) out.schemaGitDir = d;
  }
  return out;
}

/** The warehouse section, or a ConfigError saying exactly which variables to set. */
export function requireWarehouse(config: Config): WarehouseConfig {
  if (config.warehouse === undefined) throw new ConfigError([`no Redshift warehouse is configured.\n${WAREHOUSE_ENV_HELP}`]);
  return config.warehouse;
}

/** A loggable summary: identifies the target without credentials (a secret ARN is shown by its name only). */
export function describeConfig(config: Config): Record<string, string> {
  const out: Record<string, string> = { region: config.aws.region, schemasDir: config.schemas.dir };
  if (config.aws.endpoint !== undefined) out.endpoint = config.aws.endpoint;
  if (config.aws.dmsEndpoint !== undefined) out.dmsEndpoint = config.aws.dmsEndpoint;
  if (config.aws.logsEndpoint !== undefined) out.logsEndpoint = config.aws.logsEndpoint;
  if (config.source !== undefined) out.source = `${config.source.host}/${config.source.database}`;
  const w = config.warehouse;
  if (w !== undefined) {
    out.database = w.database;
    if (w.target.kind === 'provisioned') {
      out.cluster = w.target.clusterId;
      out.auth = w.target.secretArn !== undefined ? 'secret' : `db user ${w.target.dbUser ?? ''}`;
    } else {
      out.workgroup = w.target.workgroup;
      out.auth = w.target.secretArn !== undefined ? 'secret' : 'IAM';
    }
  }
  return out;
}
