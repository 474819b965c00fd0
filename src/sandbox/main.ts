/**
 * `npm run sandbox`: the loopback AWS sandbox as a process, for trying `npm start` and the CLI without AWS or Slack.
 *
 *   npm run sandbox                          the Data API, DMS and CloudWatch Logs, empty
 *   npm run sandbox -- --seed [--rows 200]   … with schemas/'s tables created and rows in them, the DMS tasks running,
 *                                            and replication writing core_usermailing (DMS) and core_action (CDC)
 *   npm run sandbox -- --seed --static       … without the replication loops
 *
 * It prints the `export …` lines to paste into the shell that runs `npm start` (and `npm run cli`), then every message
 * the bot sends to Slack (the sandbox stands in for the Slack Web API: SLACK_API_URL).
 *
 *   PORT          port to listen on (default: the first free one from 4566)
 *   HOST          default 127.0.0.1 (0.0.0.0 in a container)
 *   DATABASE_URL  postgres://… for a PostgreSQL database the sandbox owns, or pglite:<dir>; default: in-memory PGlite
 *   SOURCE_DATABASE_URL  mysql://user:password@host:3306/db — replication writes its changes to this MariaDB database
 *                 (created if needed; seeded tables recreated there with the same rows); default: an embedded stand-in
 *   PAGE_SIZE     rows per GetStatementResult page (default 1000)
 *   LOG_LEVEL     pino level (default info)
 */
import { parseArgs } from 'node:util';
import { createServer } from 'node:net';
import pino from 'pino';
import { seedRows } from '../console/seed.js';
import { applySchema } from '../schema/apply.js';
import { loadRegistry } from '../schema/registry.js';
import { createWarehouse } from '../warehouse/redshift-data.js';
import { redactUrl } from './db.js';
import { startSandbox, type Sandbox } from './server.js';
import { EmbeddedSourceDb, MariaDbSourceDb, type SourceDb } from './source-db.js';
import { formatSlackRecord } from './slack.js';

/** What the bot needs to talk to this sandbox; the trial's Slack user may run and approve (see README). */
function sandboxExports(endpoint: string): [string, string][] {
  return [
    ['AWS_ENDPOINT_URL', endpoint],
    ['AWS_REGION', 'us-west-2'],
    ['REDSHIFT_CLUSTER_ID', 'sandbox'],
    ['REDSHIFT_DB_USER', 'sandbox'],
    ['REDSHIFT_DATABASE', 'dev'],
    ['SLACK_SIGNING_SECRET', 'sandbox-signing-secret'],
    ['SLACK_BOT_TOKEN', 'xoxb-sandbox'],
    ['SLACK_API_URL', `${endpoint}/_sandbox/slack/api/`],
    ['OPERATORS', 'U0TRIAL'],
    ['APPROVERS', 'U0TRIAL'],
    ['ALLOW_SELF_APPROVAL', 'true'],
  ];
}


/** `endpoint`: where to call the sandbox from this process (127.0.0.1 when it listens on 0.0.0.0, e.g. in a container) */
async function seed(sandbox: Sandbox, endpoint: string, rows: number, replicate: boolean, source: SourceDb, out: (line: string) => void): Promise<void> {
  const registry = await loadRegistry(); // the repository's schemas/, read only
  const wh = createWarehouse({ warehouse: { target: { kind: 'provisioned', clusterId: 'sandbox', dbUser: 'sandbox' }, database: 'dev' }, aws: { region: 'us-west-2', endpoint } }, { env: {} });
  try {
    const applied = await applySchema(wh, registry, {}, () => undefined);
    // rows only in the tables created now: a second --seed on the same DATABASE_URL adds no duplicates
    const created = new Set(applied.created);
    const n = await seedRows(sandbox, registry, rows, (t) => created.has(`${t.schema}.${t.name}`), source);
    out(`Seeded: ${registry.names().length} tables in ${registry.defaultSchema} (${applied.created.length} created now, ${applied.existing.length} already there), ${n.toLocaleString('en-US')} rows added.`);
  } finally {
    wh.close();
  }
  if (replicate) {
    const cdc = registry.find('core_action') !== undefined ? [{ table: 'core_action', rate: 5 }] : [];
    const r = await sandbox.startReplication(registry, { dms: { rate: 5 }, cdc, tickMs: 200, source });
    const parts = [...r.tasks.map((t) => `DMS task ${t.identifier} ${t.status} (${t.tables.map((x) => x.table).join(', ')})`), ...[...r.cdcLoops.keys()].map((k) => `CDC on ${k.split('.')[1]}`)];
    if (parts.length > 0) out(`Replication is live, ~5 changes/s per table: ${parts.join('; ')}.`);
  }
}

function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

async function choosePort(host: string): Promise<number> {
  const env = process.env.PORT;
  if (env !== undefined && env !== '') {
    const p = Number(env);
    if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`PORT must be a port number 0–65535, got "${env}"`);
    return p;
  }
  for (let p = 4566; p < 4600; p++) if (await portFree(p, host)) return p;
  return 0;
}

async function main(): Promise<void> {
  // a trial tool: the AWS SDK's notice about Node 22 (for releases after Jan 2027) is noise here
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({
    options: { seed: { type: 'boolean', default: false }, rows: { type: 'string', default: '200' }, static: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) {
    process.stdout.write('npm run sandbox [-- --seed [--rows N] [--static]]\n');
    return;
  }
  const rows = Number(values.rows);
  if (!Number.isInteger(rows) || rows < 0) throw new Error(`--rows must be a whole number ≥ 0, got "${values.rows}"`);
  const log = pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const host = process.env.HOST ?? '127.0.0.1';
  const pageSize = process.env.PAGE_SIZE ? Number(process.env.PAGE_SIZE) : undefined;
  if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize < 1)) throw new Error(`PAGE_SIZE must be a whole number ≥ 1, got "${process.env.PAGE_SIZE}"`);
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const sandbox = await startSandbox({
    port: await choosePort(host),
    host,
    logger: log,
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(pageSize !== undefined ? { pageSize } : {}),
    onSlackMessage: (m) => out(formatSlackRecord(m)),
  });
  // 0.0.0.0 (a container) is where it listens, not an address to call
  const endpoint = sandbox.endpoint.replace('//0.0.0.0:', '//127.0.0.1:');
  out(`Sandbox endpoint: ${endpoint}`);
  out(`Backend: ${sandbox.backend}${databaseUrl ? ` (${redactUrl(databaseUrl)})` : ' (in memory; set DATABASE_URL to keep data)'}`);
  const sourceUrl = process.env.SOURCE_DATABASE_URL?.trim() || undefined;
  const source: SourceDb = sourceUrl !== undefined ? await MariaDbSourceDb.open({ url: sourceUrl, createDatabase: true }) : new EmbeddedSourceDb();
  if (values.seed) {
    out(`Replication source: ${source.describe()}`);
    await seed(sandbox, endpoint, rows, !values.static, source, out);
  }
  out('');
  out('# Paste into the shell where you run `npm start` and `npm run cli` (the bot then uses this sandbox):');
  for (const [k, v] of sandboxExports(endpoint)) out(`export ${k}=${v}`);
  // not echoed: the URL may hold a password
  if (sourceUrl !== undefined) out('# and the same SOURCE_DATABASE_URL, so `/redshift compare` reads the MariaDB the replication writes to');
  out('');
  out('Messages the bot sends to Slack are printed below. Ctrl-C stops the sandbox.');
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping the sandbox');
    sandbox
      .close()
      .then(() => source.close())
      .then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  process.stderr.write(`sandbox: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
