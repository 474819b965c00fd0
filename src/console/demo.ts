/**
 * `npm run demo`: the whole bot in a terminal, no Slack and no AWS account. Starts the loopback sandbox (embedded PGlite
 * unless DATABASE_URL is set), creates ak_sumofus with its 26 tables and some rows, starts a worker on Redis, and reads
 * `/redshift …` commands from a prompt — or runs `--exec` commands in order and exits (non-zero if one failed).
 * Approvals are prompts: answer y/n, or pass --approve / --reject for scripts. While a step runs, a timer shows how long
 * it has been running (in the prompt, or on its own line with --exec). The job works on a temporary copy of schemas/,
 * removed on exit (also on Ctrl-C).
 * Replication is live: the DMS task flydata-core-usermailing runs with an apply loop writing core_usermailing, and a
 * CDC loop writes core_action (about 5 changes/s each; `--static` turns them off). Both stop on exit.
 *
 *   npm run demo
 *   npm run demo -- --exec "/redshift status" --exec "/redshift schema diff"
 *   npm run demo -- --user U0APPROVER --exec "/redshift schema apply core_user" --approve
 */
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { buildRuntime } from '../bot/runtime.js';
import type { JobRecord } from '../jobs/types.js';
import { DemoReporter, type Pending } from './demo-reporter.js';
import { createPolicy } from '../policy.js';
import { connectRedis, deleteKeysWithPrefix, RedisUnreachableError, redisUrlFromEnv } from '../queue/connection.js';
import { redactUrl } from '../sandbox/db.js';
import { applySchema } from '../schema/apply.js';
import { registryReloader } from '../schema/registry-reload.js';
import { defaultSchemasDir, loadRegistry, type Registry } from '../schema/registry.js';
import { rmSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSandbox, type Sandbox } from '../sandbox/server.js';
import type { Replier } from '../slack/app.js';
import { createWarehouse } from '../warehouse/redshift-data.js';
import { createDms } from '../replication/dms.js';
import { createLogs } from '../replication/logs.js';
import type { Replication } from '../sandbox/replication.js';
import { EmbeddedSourceDb, MariaDbSourceDb, type SourceDb } from '../sandbox/source-db.js';
import { seedRows } from './seed.js';
import { demoCache, demoCacheDir, demoCacheKey } from './demo-cache.js';
import { createMysqlSource } from '../source/mysql.js';
import { DEFAULT_COMPARE_LAG_SECONDS } from '../source/checksum-sql.js';

/** COMPARE_LAG_SECONDS for the demo's compare (whole seconds ≥ 0; anything else keeps the default, and says so) */
function compareLag(): { lagSeconds: number } {
  const raw = process.env.COMPARE_LAG_SECONDS?.trim();
  if (raw === undefined || raw === '') return { lagSeconds: DEFAULT_COMPARE_LAG_SECONDS };
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 0) return { lagSeconds: n };
  process.stderr.write(`COMPARE_LAG_SECONDS=${raw} is not whole seconds ≥ 0: using ${DEFAULT_COMPARE_LAG_SECONDS}\n`);
  return { lagSeconds: DEFAULT_COMPARE_LAG_SECONDS };
}

const SETTLED = new Set(['succeeded', 'failed', 'cancelled', 'rejected', 'rolled-back']);

function consoleReplier(out: NodeJS.WritableStream): Replier {
  return {
    async ephemeral(text) {
      out.write(`${text}\n`);
    },
    async inChannel(text) {
      out.write(`${text}\n`);
      return {};
    },
  };
}

export interface DemoIo {
  out?: Writable & { isTTY?: boolean };
  input?: Readable;
  /** told the temporary schemas/ copy's path (tests check it is gone after exit) */
  onSchemasCopy?: (dir: string) => void;
}

export async function main(argv: string[] = process.argv.slice(2), io: DemoIo = {}): Promise<number> {
  // the demo runs on the sandbox; the SDK's notice about Node 22 (for releases after Jan 2027) is noise here
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({
    args: argv,
    options: {
      user: { type: 'string', default: 'U0DEMOUSER' },
      exec: { type: 'string', multiple: true },
      approve: { type: 'boolean', default: false },
      reject: { type: 'boolean', default: false },
      rows: { type: 'string', default: '200' },
      static: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  });
  const out = io.out ?? process.stdout;
  const input = io.input ?? process.stdin;
  if (values.help) {
    out.write('npm run demo [-- --user U123] [--exec "<command>" …] [--approve | --reject] [--rows N] [--static (no replication loops)]\n');
    return 0;
  }
  if (values.approve && values.reject) {
    process.stderr.write('demo: --approve and --reject exclude each other\n');
    return 2;
  }
  const user = values.user ?? 'U0DEMOUSER';
  const rowsPerTable = Number(values.rows);
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

  let redis: Redis;
  try {
    redis = await connectRedis(redisUrlFromEnv());
  } catch (e) {
    process.stderr.write(`${e instanceof RedisUnreachableError ? e.message : `Redis: ${String(e)}`}\n`);
    return 1;
  }
  const prefix = `rso-demo-${randomBytes(4).toString('hex')}`;
  let sandbox: Sandbox | undefined;
  let closeRuntime: (() => Promise<void>) | undefined;
  let replication: Replication | undefined;
  const closers: (() => void)[] = [];
  let schemasCopy: string | undefined;
  try {
    const databaseUrl = process.env.DATABASE_URL;
    const t0 = performance.now();
    // the demo's jobs rewrite schemas/ files: work on a copy, never on the repository's own
    schemasCopy = await mkdtemp(path.join(tmpdir(), 'rso-demo-schemas-'));
    io.onSchemasCopy?.(schemasCopy);
    const copyDir = schemasCopy;
    // removed in `finally`; this covers an exit that skips it (Ctrl-C during --exec ends the process)
    process.once('exit', () => rmSync(copyDir, { recursive: true, force: true }));
    await cp(defaultSchemasDir(), schemasCopy, { recursive: true });
    const registry: Registry = await loadRegistry(schemasCopy);
    // embedded PGlite: start from the prepared database of an earlier start (tables created, rows seeded) when there is one
    const cache = databaseUrl ? undefined : demoCache(demoCacheDir(process.env, path.dirname(defaultSchemasDir())), await demoCacheKey(schemasCopy, rowsPerTable));
    const prepared = cache ? await cache.load() : undefined;
    out.write(`Starting the sandbox on ${databaseUrl ? 'PostgreSQL' : prepared ? 'embedded PGlite (prepared database from the cache)' : 'embedded PGlite (first start: the database is built, then cached)'}…\n`);
    sandbox = await startSandbox({ ...(databaseUrl ? { databaseUrl } : {}), ...(prepared ? { pgliteDataDir: prepared.data } : {}), logger });
    const warehouse = createWarehouse(
      {
        warehouse: { target: { kind: 'provisioned', clusterId: 'flydata-cluster', dbUser: 'demo' }, database: 'dev' },
        aws: { region: 'us-west-2', endpoint: sandbox.endpoint },
      },
      { env: {} },
    );
    // the replication's source: MariaDB when SOURCE_DATABASE_URL is set (its tables are recreated from schemas/ and
    // seeded with the warehouse's rows), else the embedded stand-in
    const sourceUrl = process.env.SOURCE_DATABASE_URL?.trim();
    const sourceDb: SourceDb = sourceUrl ? await MariaDbSourceDb.open({ url: sourceUrl, createDatabase: true }) : new EmbeddedSourceDb();
    closers.push(() => void sourceDb.close());
    let seeded: number;
    if (prepared) {
      // the warehouse's rows came with the prepared database: the source gets the same rows (same stamps)
      await seedRows(sandbox, registry, rowsPerTable, () => true, sourceDb, { now: prepared.meta.seededAt, sourceOnly: true });
      seeded = prepared.meta.rows;
    } else {
      await applySchema(warehouse, registry, {}, () => undefined);
      const seededAt = Date.now();
      seeded = await seedRows(sandbox, registry, rowsPerTable, () => true, sourceDb, { now: seededAt });
      if (cache) {
        try {
          const data = await sandbox.dumpDataDir();
          if (data) await cache.save(data, { rows: seeded, tables: registry.names().length, seededAt });
        } catch (e) {
          out.write(`(could not cache the prepared database in ${cache.file}: ${e instanceof Error ? e.message : String(e)}; the next start builds it again)\n`);
        }
      }
    }
    out.write(`Sandbox ready in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${registry.names().length} tables in ${registry.defaultSchema}, ${seeded.toLocaleString('en-US')} rows. You are ${user}.\n`);
    const awsHere = { region: 'us-west-2', endpoint: sandbox.endpoint };
    const dms = createDms({ aws: awsHere }, { env: {} });
    const logs = createLogs({ aws: awsHere }, { env: {} });
    closers.push(() => dms.close(), () => logs.close());
    if (!values.static) {
      const cdcTable = registry.find('core_action') !== undefined ? ['core_action'] : [];
      replication = await sandbox.startReplication(registry, {
        dms: { rate: 5 },
        cdc: cdcTable.map((table) => ({ table, rate: 5 })),
        tickMs: 200,
        source: sourceDb,
        onError: (table, err) => logger.warn({ table, err: err.message }, 'replication apply error'),
      });
      const parts = [
        ...replication.tasks.map((t) => `DMS task ${t.identifier} ${t.status} (${t.tables.map((x) => x.table).join(', ')})`),
        ...[...replication.cdcLoops.keys()].map((k) => `CDC on ${k.split('.')[1]}`),
      ];
      if (parts.length > 0) out.write(`Replication is live, ~5 changes/s per table: ${parts.join('; ')}.\n`);
    }

    const interactive = !(values.exec && values.exec.length > 0);
    const decideHint = (): string =>
      interactive ? 'answer y or n at the prompt' : values.approve ? 'answered by --approve' : values.reject ? 'answered by --reject' : 'run the command again with --approve or --reject';
    let onOutput: () => void = () => {};
    const reporter = new DemoReporter(out, { decideHint, onOutput: () => onOutput() });
    const operators = process.env.OPERATORS ? undefined : [user];
    const policy = createPolicy({
      operators: operators ?? (process.env.OPERATORS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
      approvers: process.env.APPROVERS ? process.env.APPROVERS.split(',').map((s) => s.trim()).filter(Boolean) : [user],
      allowSelfApproval: process.env.ALLOW_SELF_APPROVAL ? process.env.ALLOW_SELF_APPROVAL === 'true' : true,
    });
    // the MySQL source for compare / schema diff --source: the one SOURCE_DATABASE_URL names, if any (the bot reads it
    // read-only; the embedded stand-in is not a MySQL server, so compare has no source without it)
    const source = sourceUrl ? createMysqlSource({ url: sourceUrl }) : undefined;
    if (source) closers.push(() => void source.close());
    out.write(
      `Backends: warehouse = sandbox Redshift Data API on ${sandbox.backend === 'pglite' ? 'embedded PGlite' : 'PostgreSQL (DATABASE_URL)'} at ${sandbox.endpoint}; ` +
        `DMS + CloudWatch Logs = sandbox; replication writes ${sourceDb.describe()}${sourceDb.kind === 'mariadb' ? ' (its tables recreated and seeded with the same rows)' : ''}; ` +
        `queue = Redis ${redactUrl(redisUrlFromEnv())}; ` +
        `compare source = ${source ? `MySQL ${source.database} (SOURCE_DATABASE_URL)` : 'none (set SOURCE_DATABASE_URL for compare and schema diff --source)'}.\n`,
    );
    const rt = buildRuntime({ redis, prefix, registry, reloadRegistry: registryReloader(registry), warehouse, policy, reporter, front: 'console', worker: { concurrency: 2 }, dms, logs, settings: { logCheckMs: 5_000, freshnessMs: 10_000 }, ...(source ? { source, compare: compareLag() } : {}), logger });
    closeRuntime = () => rt.close();
    const reply = consoleReplier(out);

    const answer = async (p: Pending, approve: boolean): Promise<void> => {
      const r = await rt.control.decide({ jobId: p.job.id, step: p.step.name, nonce: p.nonce, userId: user, decision: approve ? 'approved' : 'rejected' });
      // a decision that went through is shown by the job's own ✔/✘ line
      if (!r.ok) out.write(`Refused: ${r.message}\n`);
    };

    /** Wait until the job settles, answering its approvals as --approve/--reject say (or refusing when neither). */
    const follow = async (jobId: string): Promise<JobRecord | undefined> => {
      for (;;) {
        const p = reporter.pending.shift();
        if (p) {
          if (values.approve || values.reject) await answer(p, values.approve === true);
          else {
            out.write(`job ${jobId} waits for an approval; run again with --approve or --reject\n`);
            return rt.jobs.store.get(jobId);
          }
          continue;
        }
        const job = await rt.jobs.store.get(jobId);
        if (!job || SETTLED.has(job.state)) return job;
        await reporter.next(500);
      }
    };

    if (!interactive && values.exec) {
      const ticker = setInterval(() => reporter.tick(), 1000);
      closers.push(() => clearInterval(ticker));
      let failed = false;
      for (const text of values.exec) {
        out.write(`> ${text}\n`);
        const outcome = await rt.bot.run({ text: text.replace(/^\s*\/redshift\b/, '').trim(), userId: user, channelId: 'console' }, reply);
        if (!outcome.ok) failed = true;
        if (outcome.jobId) {
          const job = await follow(outcome.jobId);
          if (!job || job.state !== 'succeeded') failed = true;
        }
      }
      return failed ? 1 : 0;
    }

    // interactive
    out.write('Type /redshift help. Approvals are asked here; answer y or n. Ctrl-D (or Ctrl-C) quits.\n');
    const rl = createInterface({ input, output: out, prompt: 'redshift> ', terminal: out.isTTY === true });
    let busy = false;
    const promptText = (): string => {
      const p = reporter.pending[0];
      if (p) return `approve job ${p.job.id} (${p.prompt})? [y/n] `;
      const t = reporter.timerText();
      return t ? `[${t}] redshift> ` : 'redshift> ';
    };
    const ask = () => {
      rl.setPrompt(promptText());
      rl.prompt(true);
    };
    // the job's lines arrive while the prompt waits: draw it again below them, keeping what was typed
    onOutput = () => {
      if (!busy) ask();
    };
    const timer = setInterval(() => {
      if (!busy && (reporter.timerText() !== '' || rl.getPrompt() !== promptText())) ask();
    }, 1000);
    const quit = () => rl.close();
    rl.on('SIGINT', quit);
    process.once('SIGTERM', quit);
    ask();
    for await (const line of rl) {
      busy = true;
      const p = reporter.pending[0];
      if (p && /^(y|yes|n|no)$/i.test(line.trim())) {
        reporter.pending.shift();
        await answer(p, /^y/i.test(line.trim()));
      } else if (line.trim() !== '') {
        await rt.bot.run({ text: line.replace(/^\s*\/redshift\b/, '').trim(), userId: user, channelId: 'console' }, reply);
      }
      busy = false;
      ask();
    }
    process.off('SIGTERM', quit);
    clearInterval(timer);
    return 0;
  } finally {
    if (replication) await replication.stop();
    if (closeRuntime) await closeRuntime();
    for (const c of closers) c();
    await deleteKeysWithPrefix(redis, prefix); // the demo's keys are its own (random prefix)
    redis.disconnect();
    if (sandbox) await sandbox.close();
    if (schemasCopy) await rm(schemasCopy, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  // Ctrl-C / SIGTERM outside the interactive prompt (which handles them itself): exit, removing the schemas/ copy
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
