import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig, requireWarehouse } from '../../src/config.js';
import { DEFAULT_RUNBOOK_SETTINGS, logLagMsOf } from '../../src/jobs/deps.js';
import { DEFAULT_THRESHOLDS } from '../../src/health/thresholds.js';
import { serviceEndpoint } from '../../src/replication/aws-call.js';

const ARN = 'arn:aws:secretsmanager:us-west-2:123456789012:secret:redshift-admin-AbCdEf';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('uses the defaults when nothing is set, and has no warehouse', () => {
    const c = loadConfig({});
    expect(c).toEqual({ aws: { region: 'us-west-2' }, schemas: { dir: 'schemas' }, runbooks: DEFAULT_RUNBOOK_SETTINGS, compare: { lagSeconds: 300 }, dmsSetup: {}, watch: { intervalMs: 300_000 }, health: DEFAULT_THRESHOLDS });
    expect(c.runbooks).toEqual({
      logCheckMs: 600_000,
      freshnessMs: 600_000,
      diskFactor: 2.5,
      swapLockTimeoutMs: 2000,
      scanMbPerSecond: 100,
      copyMbPerSecond: 25,
      hygiene: { unsortedPct: 10, statsOffPct: 10, deletedPct: 10, reindexSkew: 5 },
      vacuumRetryMs: 10_000,
      vacuumWaitMs: 1_800_000,
    });
    expect(() => requireWarehouse(c)).toThrow(/REDSHIFT_CLUSTER_ID.*\n.*REDSHIFT_WORKGROUP[\s\S]*npm run sandbox/);
  });

  it("reads setup's DMS settings; each bad value is named, the secret's never echoed", () => {
    const c = loadConfig({
      DMS_SOURCE_ENDPOINT_ARN: 'arn:aws:dms:us-west-2:123456789012:endpoint:SRC',
      DMS_SOURCE_SCHEMA: 'actionkit',
      DMS_TARGET_ENDPOINT_ID: 'redshift-ops-target',
      DMS_TARGET_SERVER_NAME: 'c1.abc.us-west-2.redshift.amazonaws.com',
      DMS_TARGET_SECRET_ARN: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:dms',
      DMS_TARGET_SECRET_ACCESS_ROLE_ARN: 'arn:aws:iam::123456789012:role/dms-secrets',
      REDSHIFT_DATABASE: 'warehouse',
    });
    expect(c.dmsSetup).toEqual({
      sourceEndpointArn: 'arn:aws:dms:us-west-2:123456789012:endpoint:SRC',
      sourceSchema: 'actionkit',
      targetEndpointId: 'redshift-ops-target',
      targetConnection: {
        serverName: 'c1.abc.us-west-2.redshift.amazonaws.com',
        port: 5439,
        databaseName: 'warehouse',
        secretArn: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:dms',
        secretAccessRoleArn: 'arn:aws:iam::123456789012:role/dms-secrets',
      },
    });
    // an identifier alone: found, never created
    expect(loadConfig({ DMS_TARGET_ENDPOINT_ID: 't1' }).dmsSetup).toEqual({ targetEndpointId: 't1' });
    expect(() => loadConfig({ DMS_SOURCE_ENDPOINT_ARN: 'nope', DMS_TARGET_SERVER_NAME: 'h', DMS_TARGET_ENDPOINT_ID: 'a--b', DMS_TARGET_SECRET_ARN: 'not-an-arn' })).toThrow(
      /DMS_SOURCE_ENDPOINT_ARN \(got "nope"\): expected arn:aws:dms[\s\S]*DMS_TARGET_ENDPOINT_ID \(got "a--b"\)[\s\S]*DMS_TARGET_SECRET_ARN: expected arn:aws:secretsmanager[\s\S]*go together/,
    );
  });

  it('reads the MySQL source and the compare lag window; a bad URL is named without echoing its password', () => {
    const c = loadConfig({ SOURCE_DATABASE_URL: 'mysql://ro:s3cret@replica.internal:3306/actionkit', COMPARE_LAG_SECONDS: '120' });
    expect(c.source).toEqual({ url: 'mysql://ro:s3cret@replica.internal:3306/actionkit', database: 'actionkit', host: 'replica.internal' });
    expect(c.compare).toEqual({ lagSeconds: 120 });
    expect(describeConfig(c).source).toBe('replica.internal/actionkit');
    expect(JSON.stringify(describeConfig(c))).not.toContain('s3cret');
    const bad = () => loadConfig({ SOURCE_DATABASE_URL: 'postgres://ro:s3cret@replica:5432/ak', COMPARE_LAG_SECONDS: '-5' });
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain('SOURCE_DATABASE_URL: expected a mysql:// URL (got postgres://…)');
      expect(msg).toContain('COMPARE_LAG_SECONDS (got "-5"): cannot be negative');
      expect(msg).not.toContain('s3cret');
    }
    expect(() => loadConfig({ SOURCE_DATABASE_URL: 'mysql://ro@replica:3306/' })).toThrow(/name the database in the path/);
  });

  it('reads a provisioned cluster with a secret', () => {
    const c = loadConfig({ REDSHIFT_CLUSTER_ID: 'flydata-cluster', REDSHIFT_SECRET_ARN: ARN, REDSHIFT_DATABASE: 'ak', AWS_REGION: 'eu-west-1' });
    expect(c.warehouse).toEqual({ target: { kind: 'provisioned', clusterId: 'flydata-cluster', secretArn: ARN }, database: 'ak' });
    expect(c.aws.region).toBe('eu-west-1');
  });

  it('reads a provisioned cluster with a database user, database defaulting to dev', () => {
    const c = loadConfig({ REDSHIFT_CLUSTER_ID: 'flydata-cluster', REDSHIFT_DB_USER: 'awsuser' });
    expect(c.warehouse).toEqual({ target: { kind: 'provisioned', clusterId: 'flydata-cluster', dbUser: 'awsuser' }, database: 'dev' });
  });

  it('reads Serverless with and without a secret', () => {
    expect(loadConfig({ REDSHIFT_WORKGROUP: 'analytics' }).warehouse?.target).toEqual({ kind: 'serverless', workgroup: 'analytics' });
    expect(loadConfig({ REDSHIFT_WORKGROUP: 'analytics', REDSHIFT_SECRET_ARN: ARN }).warehouse?.target).toEqual({
      kind: 'serverless',
      workgroup: 'analytics',
      secretArn: ARN,
    });
  });

  it('honours AWS_ENDPOINT_URL and SCHEMAS_DIR; blank values count as unset', () => {
    const c = loadConfig({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4599', SCHEMAS_DIR: 'my/schemas', AWS_REGION: '  ' });
    expect(c.aws).toEqual({ region: 'us-west-2', endpoint: 'http://127.0.0.1:4599' });
    expect(c.schemas.dir).toBe('my/schemas');
  });

  it('DMS and CloudWatch Logs use AWS_ENDPOINT_URL unless their own endpoint variable is set', () => {
    const shared = loadConfig({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4599' });
    expect(shared.aws.dmsEndpoint).toBeUndefined();
    expect(serviceEndpoint(shared.aws, 'dms')).toBe('http://127.0.0.1:4599');
    expect(serviceEndpoint(shared.aws, 'logs')).toBe('http://127.0.0.1:4599');
    const own = loadConfig({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4599',
      AWS_ENDPOINT_URL_DATABASE_MIGRATION_SERVICE: 'http://127.0.0.1:4600',
      AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: 'https://logs.example.internal',
    });
    expect(own.aws).toEqual({ region: 'us-west-2', endpoint: 'http://127.0.0.1:4599', dmsEndpoint: 'http://127.0.0.1:4600', logsEndpoint: 'https://logs.example.internal' });
    expect(serviceEndpoint(own.aws, 'dms')).toBe('http://127.0.0.1:4600');
    expect(serviceEndpoint(own.aws, 'logs')).toBe('https://logs.example.internal');
    expect(serviceEndpoint(loadConfig({}).aws, 'dms')).toBeUndefined();
    expect(describeConfig(own)).toMatchObject({ dmsEndpoint: 'http://127.0.0.1:4600', logsEndpoint: 'https://logs.example.internal' });
    expect(problems({ AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: 'logs.local' })[0]).toMatch(/^AWS_ENDPOINT_URL_CLOUDWATCH_LOGS .*http/);
  });

  it('reads the live copy catch-up settings, and refuses what is not a whole number ≥ 1', () => {
    const c = loadConfig({ CATCHUP_ROWS: '5000', CATCHUP_ROUNDS: '3' });
    expect(c.runbooks).toMatchObject({ catchUpRows: 5000, catchUpRounds: 3 });
    expect(problems({ CATCHUP_ROWS: 'many', CATCHUP_ROUNDS: '0' }).map((l) => l.split(/[ :(]/)[0])).toEqual(['CATCHUP_ROWS', 'CATCHUP_ROUNDS']);
  });

  it('reads the runbook settings, minutes as milliseconds, fractions allowed', () => {
    const c = loadConfig({ LOG_CHECK_MINUTES: '0.5', LOG_CHECK_LAG_SECONDS: '90', FRESHNESS_MINUTES: '15', DISK_FACTOR: '3', SWAP_LOCK_TIMEOUT_MS: '500', SCHEMA_GIT_DIR: '/srv/warehouse', SCAN_MB_PER_SECOND: '250', COPY_MB_PER_SECOND: '40.5' });
    expect(c.runbooks).toEqual({
      logCheckMs: 30_000,
      logLagMs: 90_000,
      freshnessMs: 900_000,
      diskFactor: 3,
      swapLockTimeoutMs: 500,
      schemaGitDir: '/srv/warehouse',
      scanMbPerSecond: 250,
      copyMbPerSecond: 40.5,
      hygiene: { unsortedPct: 10, statsOffPct: 10, deletedPct: 10, reindexSkew: 5 },
      vacuumRetryMs: 10_000,
      vacuumWaitMs: 1_800_000,
    });
    expect(problems({ LOG_CHECK_LAG_SECONDS: '-1' })[0]).toMatch(/^LOG_CHECK_LAG_SECONDS \(got "-1"\): cannot be negative/);
    expect(problems({ SCAN_MB_PER_SECOND: '0' })[0]).toMatch(/^SCAN_MB_PER_SECOND .*more than 0/);
    expect(loadConfig({ LOG_CHECK_MINUTES: ' ' }).runbooks.logCheckMs).toBe(600_000);
    // the log check's lag: 2 minutes unless set, never longer than the check itself unless set
    expect(logLagMsOf(loadConfig({}).runbooks)).toBe(120_000);
    expect(logLagMsOf(loadConfig({ LOG_CHECK_MINUTES: '0.5' }).runbooks)).toBe(30_000);
    expect(logLagMsOf(c.runbooks)).toBe(90_000);
  });

  it('reads the hygiene thresholds and the VACUUM wait', () => {
    const c = loadConfig({ HYGIENE_UNSORTED_PCT: '20', HYGIENE_STATS_OFF_PCT: '5.5', HYGIENE_DELETED_PCT: '0', HYGIENE_REINDEX_SKEW: '2', HYGIENE_VACUUM_WAIT_MINUTES: '90' });
    expect(c.runbooks.hygiene).toEqual({ unsortedPct: 20, statsOffPct: 5.5, deletedPct: 0, reindexSkew: 2 });
    expect(c.runbooks.vacuumWaitMs).toBe(5_400_000);
    const p = problems({ HYGIENE_UNSORTED_PCT: '101', HYGIENE_STATS_OFF_PCT: 'lots', HYGIENE_DELETED_PCT: '-1', HYGIENE_REINDEX_SKEW: '0.5' });
    expect(p.map((l) => l.split(/[ :(]/)[0])).toEqual(['HYGIENE_UNSORTED_PCT', 'HYGIENE_STATS_OFF_PCT', 'HYGIENE_DELETED_PCT', 'HYGIENE_REINDEX_SKEW']);
    expect(p[3]).toMatch(/at least 1/);
  });

  it('refuses malformed runbook settings, one line per variable', () => {
    const p = problems({ LOG_CHECK_MINUTES: 'ten', FRESHNESS_MINUTES: '-1', DISK_FACTOR: '0.5', SWAP_LOCK_TIMEOUT_MS: '1.5' });
    expect(p.map((l) => l.split(/[ :(]/)[0])).toEqual(['LOG_CHECK_MINUTES', 'FRESHNESS_MINUTES', 'DISK_FACTOR', 'SWAP_LOCK_TIMEOUT_MS']);
    expect(p[0]).toContain('"ten"');
    expect(p[1]).toMatch(/negative/);
    expect(p[2]).toMatch(/at least 1/);
    expect(p[3]).toMatch(/whole milliseconds/);
  });

  it('reads the watch: ALERT_CHANNEL, WATCH_INTERVAL as minutes or with a unit, and the health thresholds (unsorted / stats off shared with hygiene)', () => {
    const c = loadConfig({
      ALERT_CHANNEL: 'C0ALERTS01',
      WATCH_INTERVAL: '90s',
      CDC_STALE_MINUTES: '45',
      APPROVAL_WAIT_MINUTES: '120',
      LOG_WINDOW_MINUTES: '30',
      HYGIENE_UNSORTED_PCT: '15',
      HYGIENE_STATS_OFF_PCT: '5',
      SKEW_ROWS: '3.5',
    });
    expect(c.watch).toEqual({ channel: 'C0ALERTS01', intervalMs: 90_000 });
    expect(c.health).toEqual({ staleMs: 45 * 60_000, approvalWaitMs: 120 * 60_000, logWindowMs: 30 * 60_000, unsortedPct: 15, statsOffPct: 5, skewRows: 3.5 });
    expect(loadConfig({ WATCH_INTERVAL: '10' }).watch.intervalMs).toBe(600_000);
    expect(loadConfig({ WATCH_INTERVAL: '2m' }).watch.intervalMs).toBe(120_000);
    expect(loadConfig({ WATCH_INTERVAL: '1h' }).watch.intervalMs).toBe(3_600_000);
  });

  it('refuses a malformed watch configuration, every variable at once', () => {
    const p = problems({ ALERT_CHANNEL: '<!everyone>', WATCH_INTERVAL: '5 parsecs', CDC_STALE_MINUTES: '-1', SKEW_ROWS: '0.5' });
    expect(p.map((l) => l.split(/[ :(]/)[0])).toEqual(['ALERT_CHANNEL', 'WATCH_INTERVAL', 'CDC_STALE_MINUTES', 'SKEW_ROWS']);
    expect(p[1]).toMatch(/WATCH_INTERVAL \(got "5 parsecs"\): expected minutes \(5\) or a duration such as 30s, 5m, 1h/);
    expect(problems({ WATCH_INTERVAL: '1s' })[0]).toMatch(/at least 10 seconds/);
  });

  it('a cluster without credentials names both variables that would fix it', () => {
    const p = problems({ REDSHIFT_CLUSTER_ID: 'flydata-cluster' });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/REDSHIFT_CLUSTER_ID is set.*REDSHIFT_SECRET_ARN.*REDSHIFT_DB_USER/);
  });

  it('refuses ambiguous targets and stray credentials', () => {
    expect(problems({ REDSHIFT_CLUSTER_ID: 'c1', REDSHIFT_WORKGROUP: 'wg1', REDSHIFT_DB_USER: 'u' })[0]).toMatch(/both set/);
    expect(problems({ REDSHIFT_CLUSTER_ID: 'c1', REDSHIFT_SECRET_ARN: ARN, REDSHIFT_DB_USER: 'u' })[0]).toMatch(/REDSHIFT_SECRET_ARN and REDSHIFT_DB_USER/);
    expect(problems({ REDSHIFT_DB_USER: 'u' })[0]).toMatch(/also set REDSHIFT_CLUSTER_ID .*REDSHIFT_WORKGROUP/);
    expect(problems({ REDSHIFT_WORKGROUP: 'wg1', REDSHIFT_DB_USER: 'u' })[0]).toMatch(/unset REDSHIFT_DB_USER/);
  });

  it('reports every malformed variable at once, naming it, without echoing secret values', () => {
    const p = problems({ REDSHIFT_CLUSTER_ID: 'Flydata_Cluster', REDSHIFT_SECRET_ARN: 'hunter2', AWS_REGION: 'west', AWS_ENDPOINT_URL: 'ftp://x' });
    expect(p.map((l) => l.split(/[ :(]/)[0])).toEqual(['AWS_REGION', 'AWS_ENDPOINT_URL', 'REDSHIFT_CLUSTER_ID', 'REDSHIFT_SECRET_ARN']);
    expect(p.join('\n')).not.toContain('hunter2');
    expect(p.find((l) => l.startsWith('REDSHIFT_CLUSTER_ID'))).toContain('"Flydata_Cluster"');
  });

  it('describeConfig identifies the target without credentials', () => {
    const d = describeConfig(loadConfig({ REDSHIFT_CLUSTER_ID: 'flydata-cluster', REDSHIFT_SECRET_ARN: ARN }));
    expect(d).toMatchObject({ cluster: 'flydata-cluster', auth: 'secret', database: 'dev', region: 'us-west-2' });
    expect(JSON.stringify(d)).not.toContain('secretsmanager');
  });
});
