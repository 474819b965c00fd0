/**
 * The modify crash tests' world: a PostgreSQL database of their own behind the loopback sandbox (the 26 ak_sumofus tables
 * created through the Data API, rows seeded), a COPY of schemas/ (the runbook rewrites the table's file), real Redis under
 * a unique prefix, the bot runtime WITHOUT a worker (it parses and queues the modify and takes the approval), the
 * sandbox's apply loop writing the table throughout, a watcher that looks up the table's name from its own PostgreSQL
 * connection every ~5 ms, and a pool of worker PROCESSES (modify-worker-child.ts) that SIGKILL themselves at the kill
 * points the test lists.
 *
 *   const h = await startModifyCrashHarness({ name: 'cdc', table: 'core_action' });
 *   const r = await h.runWithKills('modify core_action alter column link type bigint', { submitted: ['copy:submitted'] });
 *   expect(r.job.state).toBe('succeeded'); expect(r.killed).toEqual([...every point, in order]);
 *
 * `runWithKills` queues the command, builds the job's kill points (every step `:before` and `:after`, plus the
 * `:submitted` points asked for), starts the pool, approves the drop when asked and waits for the job to settle. For
 * `copy:submitted` it holds an ACCESS EXCLUSIVE lock on new_<t> from a separate connection, so the copy statement is
 * certainly running in the warehouse when its worker dies; the lock is let go once the next worker waits on it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ListStatementsCommand } from '@aws-sdk/client-redshift-data';
import type { Redis } from 'ioredis';
import pg from 'pg';
import pino from 'pino';
import { buildRuntime, type Runtime } from '../../src/bot/runtime.js';
import { seedRows } from '../../src/console/seed.js';
import { ConsoleReporter } from '../../src/jobs/console-reporter.js';
import type { JobRecord } from '../../src/jobs/types.js';
import { createPolicy } from '../../src/policy.js';
import { connectRedis, deleteKeysWithPrefix } from '../../src/queue/connection.js';
import { createDms } from '../../src/replication/dms.js';
import { createLogs } from '../../src/replication/logs.js';
import type { ApplyLoop, Replication } from '../../src/sandbox/replication.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { applySchema } from '../../src/schema/apply.js';
import { loadRegistry, type Registry } from '../../src/schema/registry.js';
import { createWarehouse, type RedshiftDataWarehouse } from '../../src/warehouse/redshift-data.js';
import { createTestDatabase, dataClient, type TestDatabase } from './sandbox.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHILD = fileURLToPath(new URL('./modify-worker-child.ts', import.meta.url));
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const SCHEMA = 'ak_sumofus';
export const USERS = { operator: 'U0CRASHOPS', approver: 'U0CRASHAPP' } as const;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface NameGap {
  /** ms since epoch: the first lookup that did not find the name, and the next one that did */
  from: number;
  to: number;
}

/** Looks `schema.table` up with to_regclass every `everyMs` from its own connection; records when it was missing. */
export class NameWatcher {
  readonly gaps: NameGap[] = [];
  lookups = 0;
  private missingSince: number | undefined;
  private running = false;
  private done: Promise<void> | undefined;
  private readonly client: pg.Client;

  constructor(
    url: string,
    private readonly name: string,
    private readonly everyMs = 5,
  ) {
    this.client = new pg.Client({ connectionString: url });
  }

  async start(): Promise<void> {
    await this.client.connect();
    this.running = true;
    this.done = (async () => {
      while (this.running) {
        const r = await this.client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [this.name]);
        const now = Date.now();
        this.lookups++;
        if (!r.rows[0]?.present) this.missingSince ??= now;
        else if (this.missingSince !== undefined) {
          this.gaps.push({ from: this.missingSince, to: now });
          this.missingSince = undefined;
        }
        await sleep(this.everyMs);
      }
    })();
  }

  /** Stop looking; a name still missing counts as a gap up to now. */
  async stop(): Promise<NameGap[]> {
    this.running = false;
    await this.done;
    if (this.missingSince !== undefined) this.gaps.push({ from: this.missingSince, to: Date.now() });
    this.missingSince = undefined;
    await this.client.end();
    return this.gaps;
  }
}

export interface WorkerChild {
  child: ChildProcess;
  pid: number;
  output(): string;
}

export interface KillRun {
  job: JobRecord;
  /** the kill points, in the order the workers died at them */
  killed: string[];
  /** points that could not be reached because the engine found their step already done after an earlier kill */
  skipped: string[];
  /** how many worker processes were started (whether or not they got the job) */
  workers: number;
  /** the status of the copy statement when its worker was killed at copy:submitted */
  copyStatusAtKill?: string;
  /** outputs of every worker process, for failure messages */
  outputs(): string;
}

export interface RunWithKillsOptions {
  /** extra kill points to insert right after `<step>:before`, e.g. ['copy:sent', 'copy:submitted'] (in that order) */
  submitted?: string[];
  /** keep this many worker processes alive (one runs the job, the others wait to take it over); default 2 */
  pool?: number;
  /** give up after this long (default 60 s + 24 s per kill point: ≥ 3× what a kill cost on a loaded 2-core machine with both crash files running, ~6.5 s) */
  timeoutMs?: number;
}

export interface ModifyCrashHarness {
  readonly prefix: string;
  readonly redis: Redis;
  readonly db: TestDatabase;
  readonly sandbox: Sandbox;
  readonly registry: Registry;
  readonly schemasDir: string;
  readonly warehouse: RedshiftDataWarehouse;
  readonly rt: Runtime;
  readonly replication: Replication;
  readonly loop: ApplyLoop;
  readonly watcher: NameWatcher;
  /** errors of the apply loops other than the table being missing (data errors, connection trouble) */
  readonly loopErrors: string[];
  /** the statements the sandbox ran whose StatementName starts with `namePrefix` */
  statements(namePrefix: string): Promise<Array<{ id: string; name: string; status: string; sql: string }>>;
  /** the submit requests the sandbox's Data API accepted whose StatementName starts with `namePrefix` (deduplicated ones too) */
  submissions(namePrefix: string): Array<{ name: string; id: string; clientToken?: string; deduplicated: boolean }>;
  /** queue a command as the operator; returns the job id */
  submit(text: string): Promise<string>;
  runWithKills(text: string, opts?: RunWithKillsOptions): Promise<KillRun>;
  /** start one worker process (no kill point unless `env` sets one); `env` overrides the defaults, e.g. FRESHNESS_MS */
  spawnWorker(env?: Record<string, string>): WorkerChild;
  /** a direct query on the test database (not through the sandbox) */
  pg(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export interface ModifyCrashOptions {
  name: string;
  table: 'core_action' | 'core_usermailing';
  /** rows seeded per table before replication starts (default 200) */
  rows?: number;
  /** apply-loop changes per second (default 40) */
  rate?: number;
}

export async function startModifyCrashHarness(o: ModifyCrashOptions): Promise<ModifyCrashHarness> {
  const prefix = `rsotest-modcrash-${o.name}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const logger = pino({ level: 'silent' });
  const cleanups: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        /* best effort on the way out */
      }
    }
  };
  try {
    const redis = await connectRedis(REDIS_URL);
    cleanups.push(async () => {
      await deleteKeysWithPrefix(redis, prefix);
      await redis.quit();
    });
    const tmp = await mkdtemp(path.join(tmpdir(), `rso-modcrash-${o.name}-`));
    cleanups.push(() => rm(tmp, { recursive: true, force: true }));
    const schemasDir = path.join(tmp, 'schemas');
    await cp(path.join(REPO, 'schemas'), schemasDir, { recursive: true });
    const db = await createTestDatabase(`modcrash_${o.name}`);
    cleanups.push(() => db.drop());
    const sandbox = await startSandbox({ databaseUrl: db.url, logger });
    cleanups.push(() => sandbox.close());
    const client = dataClient(sandbox.endpoint);
    cleanups.push(async () => client.destroy());

    const registry = await loadRegistry(schemasDir);
    const aws = { region: 'us-west-2', endpoint: sandbox.endpoint };
    const warehouse = createWarehouse({ warehouse: { target: { kind: 'provisioned', clusterId: 'sandbox-cluster', dbUser: 'awsuser' }, database: 'dev' }, aws }, { env: {} });
    cleanups.push(async () => warehouse.close());
    await applySchema(warehouse, registry, {}, () => undefined);
    await seedRows(sandbox, registry, o.rows ?? 200);

    const reporter = new ConsoleReporter(new PassThrough().resume());
    const rt = buildRuntime({
      redis,
      prefix,
      registry,
      warehouse,
      dms: createDms({ aws }),
      logs: createLogs({ aws }),
      settings: { logCheckMs: 500, freshnessMs: 5_000 },
      policy: createPolicy({ operators: [USERS.operator], approvers: [USERS.approver], allowSelfApproval: false }),
      reporter,
      front: 'console',
      logger,
    });
    cleanups.push(async () => {
      await rt.jobs.queue.obliterate({ force: true }).catch(() => undefined);
      await rt.close();
    });

    const def = registry.get(SCHEMA, o.table);
    if (!def) throw new Error(`${o.table} is not in schemas/`);
    const loopErrors: string[] = [];
    const replication = await sandbox.startReplication(registry, {
      dms: def.replication.provider === 'dms' ? { rate: o.rate ?? 40 } : false,
      cdc: def.replication.provider === 'cdc' ? [o.table] : [],
      rate: o.rate ?? 40,
      tickMs: 50,
      onError: (t, e) => loopErrors.push(`${t}: ${e.message}`),
    });
    cleanups.push(() => replication.stop());
    const loop = replication.loop(o.table);
    if (!loop) throw new Error(`no apply loop on ${o.table}`);

    const watcher = new NameWatcher(db.url, `${SCHEMA}.${o.table}`);
    await watcher.start();
    cleanups.push(async () => {
      await watcher.stop().catch(() => undefined);
    });

    const direct = new pg.Client({ connectionString: db.url });
    await direct.connect();
    cleanups.push(() => direct.end());

    const children: WorkerChild[] = [];
    cleanups.push(async () => {
      for (const c of children) {
        if (c.child.exitCode !== null || c.child.signalCode !== null) continue;
        const exited = new Promise<void>((r) => c.child.once('exit', () => r()));
        c.child.kill('SIGKILL');
        await exited;
      }
    });

    const spawnWorker = (killList: string, extraEnv: Record<string, string> = {}): WorkerChild => {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
        cwd: REPO,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? tmp,
          REDIS_URL,
          RSO_PREFIX: prefix,
          AWS_ENDPOINT_URL: sandbox.endpoint,
          SCHEMAS_DIR: schemasDir,
          LOCK_MS: '1500',
          STALLED_MS: '500',
          MAX_STALLED: '1000',
          LOG_CHECK_MS: '500',
          FRESHNESS_MS: '5000',
          RSO_TEST_KILL_LIST: killList,
          ...extraEnv,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      const w: WorkerChild = { child, pid: child.pid ?? -1, output: () => out };
      children.push(w);
      return w;
    };

    const h: ModifyCrashHarness = {
      prefix,
      redis,
      db,
      sandbox,
      registry,
      schemasDir,
      warehouse,
      rt,
      replication,
      loop,
      watcher,
      loopErrors,
      async statements(namePrefix) {
        const out: Array<{ id: string; name: string; status: string; sql: string }> = [];
        let token: string | undefined;
        do {
          const r = await client.send(new ListStatementsCommand({ MaxResults: 100, NextToken: token, StatementName: namePrefix }));
          for (const s of r.Statements ?? []) out.push({ id: s.Id ?? '', name: s.StatementName ?? '', status: s.Status ?? '', sql: s.QueryString ?? (s.QueryStrings ?? []).join(';\n') });
          token = r.NextToken;
        } while (token);
        return out;
      },
      submissions(namePrefix) {
        return sandbox
          .submissions()
          .filter((x) => (x.name ?? '').startsWith(namePrefix))
          .map((x) => ({ name: x.name ?? '', id: x.id, deduplicated: x.deduplicated, ...(x.clientToken !== undefined ? { clientToken: x.clientToken } : {}) }));
      },
      async submit(text) {
        const said: string[] = [];
        const reply = {
          ephemeral: async (t: string) => void said.push(t),
          inChannel: async (t: string) => (said.push(t), {}),
        };
        const r = await rt.bot.run({ text, userId: USERS.operator, channelId: 'C0CRASH001' }, reply);
        if (!r.ok || !r.jobId) throw new Error(`"${text}" was not queued:\n${said.join('\n')}`);
        return r.jobId;
      },
      async runWithKills(text, ro = {}) {
        const jobId = await h.submit(text);
        const queued = await rt.jobs.store.get(jobId);
        if (!queued) throw new Error(`job ${jobId} vanished`);
        const factory = rt.runbooks.get(queued.kind);
        if (!factory) throw new Error(`no runbook ${queued.kind}`);
        const stepNames = factory.build(factory.paramsSchema.parse(queued.params), rt.deps).steps.map((s) => s.name);
        const submitted = new Set(ro.submitted ?? []);
        const points = stepNames.flatMap((s) => [`${s}:before`, ...[`${s}:sent`, `${s}:submitted`].filter((p) => submitted.has(p)), `${s}:after`]);
        const killKey = `${prefix}:test:kill:${jobId}`;
        await redis.del(killKey, `${killKey}:killed`, `${killKey}:skipped`);
        await redis.rpush(killKey, ...points);

        const mine: WorkerChild[] = [];
        let stopping = false;
        const size = ro.pool ?? 2;
        const keep = (): void => {
          while (!stopping && mine.filter((c) => c.child.exitCode === null && c.child.signalCode === null).length < size) {
            const w = spawnWorker(killKey);
            mine.push(w);
            w.child.once('exit', () => keep());
          }
        };
        keep();

        const outputs = () => mine.map((c) => `--- worker ${c.pid} (${c.child.signalCode ?? c.child.exitCode ?? 'running'})\n${c.output()}`).join('\n');
        let copyStatusAtKill: string | undefined;
        let copyLock: pg.Client | undefined;
        let seenKills = 0;
        // each kill costs BullMQ's lock expiry + a stalled check (~2 s) and a new worker process; much more on a busy machine
        const timeoutMs = ro.timeoutMs ?? 60_000 + points.length * 24_000;
        const deadline = Date.now() + timeoutMs;
        let job: JobRecord | undefined;
        try {
          for (;;) {
            job = await rt.jobs.store.get(jobId);
            if (!job) throw new Error(`job ${jobId} vanished`);
            if (['succeeded', 'rolled-back', 'rejected', 'cancelled'].includes(job.state)) break;
            if (job.state === 'failed') throw new Error(`job ${jobId} failed: ${job.error}\n${outputs()}`);
            if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.state} at step ${job.cursor + 1} after ${timeoutMs} ms; kill points left: ${(await redis.lrange(killKey, 0, -1)).join(', ')}\n${outputs()}`);
            if (job.state === 'awaiting-approval' && job.pendingApproval) {
              const d = await rt.control.decide({ jobId, step: job.pendingApproval.step, nonce: job.pendingApproval.nonce, userId: USERS.approver, decision: 'approved' });
              if (!d.ok && d.reason !== 'stale') throw new Error(`approval refused: ${d.message}`);
            }
            const killed = await redis.lrange(`${killKey}:killed`, 0, -1);
            for (; seenKills < killed.length; seenKills++) {
              const point = killed[seenKills]!.split(' ')[0];
              if (point === 'copy:before' && submitted.has('copy:submitted')) {
                // the next worker's copy statement must still be running when that worker dies: block it on new_<t>
                copyLock = new pg.Client({ connectionString: db.url });
                await copyLock.connect();
                await copyLock.query('BEGIN');
                await copyLock.query(`LOCK TABLE ${SCHEMA}.new_${o.table} IN ACCESS EXCLUSIVE MODE`);
              }
              if (point === 'copy:submitted' && copyLock) {
                const j = await rt.jobs.store.get(jobId);
                const id = j?.handles['stmt:copy'];
                copyStatusAtKill = id ? (await warehouse.describe(id)).status : 'no statement id';
              }
            }
            if (copyLock && copyStatusAtKill !== undefined) {
              // let the copy run once a worker has resumed the step and waits on the statement: the start after the
              // ones killed at copy:before, copy:sent (when asked) and copy:submitted
              const starts = (await rt.jobs.audit.readAudit(jobId)).filter((e) => e.event === 'step-start' && e.step === 'copy').length;
              if (starts >= (submitted.has('copy:sent') ? 4 : 3)) {
                await copyLock.query('ROLLBACK');
                await copyLock.end();
                copyLock = undefined;
              }
            }
            await sleep(20);
          }
        } finally {
          stopping = true;
          if (copyLock) await copyLock.end().catch(() => undefined);
          for (const c of mine) {
            if (c.child.exitCode !== null || c.child.signalCode !== null) continue;
            const exited = new Promise<void>((r) => c.child.once('exit', () => r()));
            c.child.kill('SIGTERM');
            await Promise.race([exited, sleep(5_000)]);
            if (c.child.exitCode === null && c.child.signalCode === null) {
              c.child.kill('SIGKILL');
              await exited;
            }
          }
        }
        const killed = (await redis.lrange(`${killKey}:killed`, 0, -1)).map((l) => l.split(' ')[0]!);
        const skipped = await redis.lrange(`${killKey}:skipped`, 0, -1);
        return { job, killed, skipped, workers: mine.length, ...(copyStatusAtKill !== undefined ? { copyStatusAtKill } : {}), outputs };
      },
      spawnWorker(env = {}) {
        return spawnWorker(`${prefix}:test:kill:none`, env);
      },
      async pg(sql, params) {
        return (await direct.query(sql, params)).rows as Record<string, unknown>[];
      },
      close: closeAll,
    };
    return h;
  } catch (e) {
    await closeAll();
    throw e;
  }
}
