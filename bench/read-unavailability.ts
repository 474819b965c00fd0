/**
 * read-unavailability: how long `ak_sumofus.core_action` cannot be read during a deep-copy `modify`, and what the job
 * machinery costs over the bare SQL.
 *
 * For each size (BENCH_RU_ROWS, default "100000,1000000"; BENCH_ROWS is used when it is set and BENCH_RU_ROWS is not)
 * and strategy (BENCH_RU_STRATEGIES, default "live-copy,rename-first"):
 *  1. a new PostgreSQL database behind the loopback sandbox; the 26 tables created through the Data API; core_action
 *     filled straight in PostgreSQL with INSERT … SELECT generate_series (updated_at spread over the past 5 days, so the
 *     live copy's delta — rows changed since max(updated_at) − 300 s — is small); then a byte-for-byte copy of that
 *     database (CREATE DATABASE … TEMPLATE) for the psql replay;
 *  2. a CdcApplyLoop writing core_action (BENCH_RU_RATE changes/s, default 50) and a READER: its own connection running
 *     `SELECT id FROM ak_sumofus.core_action LIMIT 1` in a tight loop (no short statement_timeout: a
 *     long lock wait is one gap, not several), watched by a monitor
 *     connection that samples the reader's pg_stat_activity row every ~2 ms;
 *  3. `modify core_action alter column link type bigint [--strategy rename-first]` through the real runtime: the bot
 *     parses, plans, checks and queues it; a worker in this process runs it; the drop is approved by calling
 *     control.decide as an approver as soon as it is asked;
 *  4. the statements the job sent to the sandbox (ListStatements) translated to PostgreSQL exactly as the sandbox runs
 *     them and replayed with one `psql -f` on the copy, under the same load (the apply loop and the reader run there).
 * Prints, per run: the longest read gap — a stretch in which the reader's query waited on a lock or failed (the table
 * missing, or a timeout) — with the lock-wait and failure parts; the swap transaction's duration (and the time under
 * the lock); the job's wall time against the psql replay (ratio; and without the job's deliberate waits: the approval
 * round trip and the freshness check, which waits for replication to write the table again). Goals: gap ≤ 1 s and flat
 * from 100 k to 1 M rows for live-copy; job / psql ≤ 1.15. The replay runs for live-copy only unless BENCH_RU_REPLAY=all
 * (or =rename-first; =0 skips it). BENCH_VERBOSE=1 prints the job's progress and each step's time.
 *
 * The worker (BENCH_RU_WORKER): `process` (default) runs the compiled worker as production does — `npm run build` once,
 * then `node dist/main.js --role worker` per run, configured from the environment (this run's sandbox, Redis prefix and
 * schemas/ copy, the bench bot's runbook settings) — and its peak RSS is the process's own VmHWM read from
 * /proc/<pid>/status when the job ends (its RSS once started is printed beside it); `inline` runs a worker in this
 * process (the peak RSS then includes the bench harness). BENCH_RU_TRACKING (default "updated_at"; "updated_at,none")
 * runs core_action as declared and/or declared `changeTracking: none` in the run's schemas/ copy, whose locked swap
 * compares the whole tables: what a table without change tracking costs (no replay for none unless BENCH_RU_REPLAY=all;
 * none runs above BENCH_RU_NONE_MAX_ROWS, default 1 M, are skipped). Sizes above BENCH_RU_REPLAY_MAX_ROWS (default 1 M) run
 * without the psql replay.
 * BENCH_RU_FRESHNESS_MS (default 60000) is the freshness window of the bench's bot and worker; the freshness step looks
 * after 250 ms, doubling, up to a twentieth of it (src/jobs/waits.ts freshnessPollMs).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DescribeStatementCommand, ListStatementsCommand, RedshiftDataClient, type SqlParameter } from '@aws-sdk/client-redshift-data';
import pg from 'pg';
import pino from 'pino';
import { buildRuntime } from '../src/bot/runtime.js';
import { ConsoleReporter } from '../src/jobs/console-reporter.js';
import type { RunbookDeps } from '../src/jobs/deps.js';
import type { JobRecord } from '../src/jobs/types.js';
import { createPolicy } from '../src/policy.js';
import { connectRedis, deleteKeysWithPrefix } from '../src/queue/connection.js';
import { createWorker } from '../src/queue/queue.js';
import { type Sandbox, startSandbox } from '../src/sandbox/server.js';
import { DEFAULT_SEARCH_PATH, bindNamedParams, splitStatements, tokenize, translateStatement } from '../src/sandbox/translate.js';
import { applySchema } from '../src/schema/apply.js';
import { loadRegistry } from '../src/schema/registry.js';
import { createWarehouse } from '../src/warehouse/redshift-data.js';
import type { Bench, BenchResult } from './run.js';

const ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TABLE = 'ak_sumofus.core_action';
const READ_COLUMN = 'id';
const USERS = { operator: 'U0BENCHOPS', approver: 'U0BENCHAPP' } as const;
/** the freshness window (FRESHNESS_MINUTES) of the bench's bot and worker: BENCH_RU_FRESHNESS_MS, default 60 s */
const FRESHNESS_MS = Number(process.env.BENCH_RU_FRESHNESS_MS ?? 60_000);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const fmt = (n: number) => n.toLocaleString('en-US');
const ms = (x: number) => `${Math.round(x)} ms`;
const secs = (x: number) => `${(x / 1000).toFixed(2)} s`;

function list(name: string, dflt: string): string[] {
  const v = process.env[name];
  return (v === undefined || v.trim() === '' ? dflt : v)
    .split(',')
    .map((s) => s.trim().replace(/_/g, ''))
    .filter(Boolean);
}

function positiveInt(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: "${raw}" is not a whole number ≥ 1`);
  return n;
}

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function dbUrl(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

// ───────────────────────────── the reader ─────────────────────────────

interface Interval {
  from: number;
  to: number;
  kind: 'lock-wait' | 'failed';
}

interface ProbeResult {
  reads: number;
  failures: number;
  /** median duration of the reads that succeeded without waiting on a lock */
  readMs: number;
  /** the merged stretches in which the reader waited on a lock or failed */
  gaps: Array<{ from: number; to: number; lockMs: number; failedMs: number }>;
  longest: { ms: number; lockMs: number; failedMs: number };
  errors: string[];
}

/** A reader in a tight loop on its own connection, and a monitor sampling the reader's wait state. */
class ReadProbe {
  private readonly reader: pg.Client;
  private readonly monitor: pg.Client;
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly reads: Array<{ start: number; end: number; ok: boolean }> = [];
  private readonly waits: Interval[] = [];
  private readonly errors = new Map<string, number>();
  private waitingSince: number | undefined;

  constructor(private readonly url: string) {
    this.reader = new pg.Client({ connectionString: url });
    this.monitor = new pg.Client({ connectionString: url });
  }

  async start(): Promise<void> {
    await this.reader.connect();
    await this.monitor.connect();
    // no short statement_timeout: a timeout would end a long lock wait, and the retry would start a second, shorter gap —
    // the reader waits as long as the table is unreadable, so the longest gap is measured whole (10 min only stops a hang)
    await this.reader.query("SET statement_timeout = '10min'");
    const pid = Number((await this.reader.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
    this.running = true;
    this.loops.push(
      (async () => {
        while (this.running) {
          const start = performance.now();
          let ok = true;
          try {
            // a read that needs the table (ACCESS SHARE, which the swap's lock blocks) but not a scan of it: count(*) at
            // 10 M rows takes a second of its own and would hide the gap's edges
            await this.reader.query(`SELECT ${READ_COLUMN} FROM ${TABLE} LIMIT 1`);
          } catch (e) {
            ok = false;
            const m = (e instanceof Error ? e.message : String(e)).replace(/\d+/g, 'N');
            this.errors.set(m, (this.errors.get(m) ?? 0) + 1);
          }
          this.reads.push({ start, end: performance.now(), ok });
          if (!ok) await sleep(1);
        }
      })(),
      (async () => {
        while (this.running) {
          const r = await this.monitor.query<{ w: string | null }>('SELECT wait_event_type AS w FROM pg_stat_activity WHERE pid = $1', [pid]);
          const now = performance.now();
          const lock = r.rows[0]?.w === 'Lock';
          if (lock) this.waitingSince ??= now;
          else if (this.waitingSince !== undefined) {
            this.waits.push({ from: this.waitingSince, to: now, kind: 'lock-wait' });
            this.waitingSince = undefined;
          }
          await sleep(1);
        }
      })(),
    );
  }

  async stop(): Promise<ProbeResult> {
    this.running = false;
    await Promise.all(this.loops);
    const end = performance.now();
    if (this.waitingSince !== undefined) this.waits.push({ from: this.waitingSince, to: end, kind: 'lock-wait' });
    await this.reader.end();
    await this.monitor.end();
    // failure streaks: from the first failing read's start to the start of the next read that succeeded
    const fails: Interval[] = [];
    for (let i = 0; i < this.reads.length; i++) {
      if (this.reads[i]!.ok) continue;
      const from = this.reads[i]!.start;
      let j = i;
      while (j < this.reads.length && !this.reads[j]!.ok) j++;
      fails.push({ from, to: j < this.reads.length ? this.reads[j]!.start : end, kind: 'failed' });
      i = j;
    }
    const all = [...this.waits, ...fails].sort((a, b) => a.from - b.from);
    const gaps: ProbeResult['gaps'] = [];
    for (const iv of all) {
      const last = gaps.at(-1);
      const part = { lockMs: iv.kind === 'lock-wait' ? iv.to - iv.from : 0, failedMs: iv.kind === 'failed' ? iv.to - iv.from : 0 };
      if (last && iv.from <= last.to) {
        last.to = Math.max(last.to, iv.to);
        last.lockMs += part.lockMs;
        last.failedMs += part.failedMs;
      } else gaps.push({ from: iv.from, to: iv.to, ...part });
    }
    const longest = gaps.reduce((a, g) => (g.to - g.from > a.ms ? { ms: g.to - g.from, lockMs: g.lockMs, failedMs: g.failedMs } : a), { ms: 0, lockMs: 0, failedMs: 0 });
    const clean = this.reads.filter((r) => r.ok && !this.waits.some((w) => w.from < r.end && w.to > r.start)).map((r) => r.end - r.start).sort((a, b) => a - b);
    return {
      reads: this.reads.length,
      failures: this.reads.filter((r) => !r.ok).length,
      readMs: clean.length ? clean[Math.floor(clean.length / 2)]! : 0,
      gaps,
      longest,
      errors: [...this.errors].map(([m, n]) => `${n}× ${m}`),
    };
  }
}

// ───────────────────────────── data ─────────────────────────────

/** core_action rows 1..n, deterministic; updated_at spread over the 5 days before now. */
function seedSql(n: number): string {
  return `INSERT INTO ${TABLE} (id, created_at, updated_at, user_id, mailing_id, page_id, link, source, opq_id, created_user, subscribed_user, referring_user_id, referring_mailing_id, taf_emails_sent, status, is_forwarded, ip_address)
SELECT g,
       (now() AT TIME ZONE 'UTC') - make_interval(secs => 432000 + (g::bigint * 7919) % 2592000),
       (now() AT TIME ZONE 'UTC') - make_interval(secs => 300 + (g::bigint * 104729) % 432000),
       1 + g % 50000, CASE WHEN g % 3 = 0 THEN NULL ELSE 1 + g % 1000 END, 1 + g % 500,
       CASE WHEN g % 5 = 0 THEN NULL ELSE g % 97 END,
       (ARRAY['website', 'mailing', 'facebook', 'twitter', 'widget'])[1 + g % 5], md5(g::text),
       (g % 2)::smallint, ((g / 2) % 2)::smallint, CASE WHEN g % 11 = 0 THEN 1 + g % 40000 END, NULL,
       CASE WHEN g % 13 = 0 THEN g % 7 END, 'complete', 0::smallint, '10.' || (g % 256) || '.' || ((g / 256) % 256) || '.1'
FROM generate_series(1, ${n}) AS g`;
}

// ───────────────────────────── psql replay ─────────────────────────────

interface ListedStatement {
  id: string;
  sqls: string[];
  batch: boolean;
  params: SqlParameter[];
}

function literal(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  return `'${String(v).replace(/'/g, "''")}'`;
}

/** `$n` → the n-th value as a literal (outside strings and comments). */
function inline(text: string, values: readonly unknown[] | undefined): string {
  if (!values || values.length === 0) return text;
  return tokenize(text)
    .map((t) => (t.kind === 'posparam' ? literal(values[Number(t.text.slice(1)) - 1]) : t.text))
    .join('');
}

/** The PostgreSQL the sandbox ran for a Data API statement (translated the same way), as a psql script fragment. */
function pgScript(s: ListedStatement): string {
  const values = new Map(s.params.map((p) => [p.name ?? '', p.value ?? '']));
  const out: string[] = [];
  const state = { inTx: s.batch };
  if (s.batch) out.push('BEGIN;');
  for (const text of s.sqls) {
    for (const stmt of splitStatements(text)) {
      const t = translateStatement(stmt, { inTransaction: state.inTx });
      if (t.implicitCommit && state.inTx) out.push('COMMIT;');
      const wrap = (t.atomic ?? false) && !state.inTx;
      if (wrap) out.push('BEGIN;');
      for (const step of t.steps) {
        if (step.user && step.params === undefined) {
          const b = bindNamedParams(step.sql, values);
          out.push(`${inline(b.text, b.values)};`);
        } else out.push(`${inline(step.sql, step.params)};`);
      }
      if (wrap) out.push('COMMIT;');
      if (t.implicitCommit && state.inTx) out.push('BEGIN;');
      if (t.txEffect === 'begin') state.inTx = true;
      else if (t.txEffect === 'end') state.inTx = false;
    }
  }
  if (s.batch) out.push('COMMIT;');
  else if (state.inTx) out.push('ROLLBACK;');
  return out.join('\n');
}

function psqlFile(url: string, file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(new Error(`could not run psql (is the PostgreSQL client installed?): ${e.message}`)));
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`psql exited ${code}: ${err.trim()}`))));
  });
}

async function listStatements(client: RedshiftDataClient): Promise<ListedStatement[]> {
  const out: ListedStatement[] = [];
  let token: string | undefined;
  do {
    const r = await client.send(new ListStatementsCommand({ MaxResults: 100, NextToken: token }));
    for (const s of r.Statements ?? [])
      out.push({ id: s.Id ?? '', sqls: s.IsBatchStatement ? (s.QueryStrings ?? []) : [s.QueryString ?? ''], batch: s.IsBatchStatement ?? false, params: s.QueryParameters ?? [] });
    token = r.NextToken;
  } while (token);
  return out.reverse(); // ListStatements is newest first
}

// ───────────────────────────── the compiled worker ─────────────────────────────

/** `npm run build` once per bench run: the worker process runs dist/main.js, as production does. */
let built = false;
function buildOnce(print: (l: string) => void): void {
  if (built) return;
  const started = performance.now();
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed (${r.status}): ${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
  built = true;
  print(`npm run build: ${secs(performance.now() - started)}`);
}

/** VmRSS / VmHWM (peak resident set since the process started) of a process, in bytes, from /proc/<pid>/status. */
async function procMemory(pid: number): Promise<{ rss: number; hwm: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined; // the process has ended
  }
}

interface WorkerProcess {
  pid: number;
  /** VmRSS once it said `redshift-ops started` (idle: nothing run yet) */
  idleRss: number;
  stop(): Promise<void>;
}

/**
 * `node dist/main.js --role worker`, configured from the environment like production (the sandbox's endpoint, this run's
 * Redis prefix and schemas/ copy, the same runbook settings as the bench's bot); resolves once it logged
 * `redshift-ops started` (BullMQ connected).
 */
async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(process.execPath, [path.join(REPO, 'dist', 'main.js'), '--role', 'worker'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the worker process did not start in 60 s: ${err || out.slice(-2000)}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out = (out + d.toString()).slice(-20_000);
      if (out.includes('"msg":"redshift-ops started"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the worker process exited ${code} before it started: ${err.trim() || out.slice(-2000)}`));
    });
  });
  const pid = child.pid!;
  const idleRss = (await procMemory(pid))?.rss ?? NaN;
  return {
    pid,
    idleRss,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(t);
    },
  };
}

// ───────────────────────────── one run ─────────────────────────────

interface RunResult {
  rows: number;
  strategy: string;
  probe: ProbeResult;
  swapMs?: number;
  underLockMs?: number;
  jobMs: number;
  waitsMs: number;
  /** the sum of the job's statements' durations in the warehouse */
  statementsMs: number;
  statements: number;
  replay?: { ms: number; probe: ProbeResult };
  detail: string[];
  /** the worker's peak RSS (MB): the compiled worker process's VmHWM, or (inline) this process's while the job ran */
  peakRssMb: number;
  /** the worker process's RSS once started, before the job (MB; process mode only) */
  idleRssMb?: number;
  /** 'process': node dist/main.js --role worker; 'inline': a worker in this process (with the bench harness) */
  workerMode: 'process' | 'inline';
  /** core_action's declared changeTracking for the run */
  tracking: 'updated_at' | 'none';
  /** the 1-minute load average when the job ended */
  load1: number;
}

async function runOne(rows: number, strategy: string, tracking: 'updated_at' | 'none', workerMode: 'process' | 'inline', print: (l: string) => void): Promise<RunResult> {
  const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const mainDb = `rso_bench_ru_${tag}`;
  const replayDb = `rso_bench_ru_${tag}_replay`;
  const prefix = `rsobench-ru-${tag}`;
  const logger = pino({ level: 'silent' });
  const cleanups: Array<() => Promise<void>> = [];
  active.add(cleanups);
  const verbose = process.env.BENCH_VERBOSE === '1';
  const replayKnob = (process.env.BENCH_RU_REPLAY ?? 'live-copy').trim();
  // a none table's run measures its lock; its replay only when asked for all
  // the ratio's goal is at 1 M rows: larger sizes skip the replay (it doubles their time) unless BENCH_RU_REPLAY_MAX_ROWS says
  const replayMax = Number(process.env.BENCH_RU_REPLAY_MAX_ROWS ?? 1_000_000);
  const replay = rows <= replayMax && (replayKnob === 'all' || ((replayKnob === '1' || replayKnob === strategy) && tracking === 'updated_at'));
  try {
    const tmp = await mkdtemp(path.join(tmpdir(), 'rso-bench-ru-'));
    cleanups.push(() => rm(tmp, { recursive: true, force: true }));
    const schemasDir = path.join(tmp, 'schemas');
    await cp(path.join(REPO, 'schemas'), schemasDir, { recursive: true });
    if (tracking === 'none') {
      // the same table declared without change tracking: the locked swap compares the whole tables (delta.ts 'full')
      const file = path.join(schemasDir, 'ak_sumofus', 'core_action.yml');
      const yml = await readFile(file, 'utf8');
      const patched = yml.replace(/^changeTracking: .*$/m, 'changeTracking: none');
      if (patched === yml) throw new Error(`${file}: no changeTracking line to replace`);
      await writeFile(file, patched);
    }
    const registry = await loadRegistry(schemasDir);

    await admin(`CREATE DATABASE "${mainDb}"`);
    cleanups.push(() => admin(`DROP DATABASE IF EXISTS "${mainDb}" WITH (FORCE)`));
    const aws = (sb: Sandbox) => ({ region: 'us-west-2', endpoint: sb.endpoint });
    const whFor = (sb: Sandbox) => createWarehouse({ warehouse: { target: { kind: 'provisioned', clusterId: 'bench-cluster', dbUser: 'bench' }, database: 'dev' }, aws: aws(sb) }, { env: {} });

    // 1. the table, filled in PostgreSQL directly; then the copy for the replay
    const t0 = performance.now();
    {
      const sb = await startSandbox({ databaseUrl: dbUrl(mainDb), logger });
      const wh = whFor(sb);
      try {
        await applySchema(wh, registry, {}, () => undefined);
        await sb.sql(seedSql(rows));
        await sb.sql(`VACUUM ANALYZE ${TABLE}`);
      } finally {
        wh.close();
        await sb.close();
      }
    }
    if (replay) {
      await admin(`CREATE DATABASE "${replayDb}" TEMPLATE "${mainDb}"`);
      cleanups.push(() => admin(`DROP DATABASE IF EXISTS "${replayDb}" WITH (FORCE)`));
    }
    const setupMs = performance.now() - t0;

    // 2. sandbox, runtime, replication, reader
    const sandbox = await startSandbox({ databaseUrl: dbUrl(mainDb), logger });
    cleanups.push(() => sandbox.close());
    const warehouse = whFor(sandbox);
    cleanups.push(async () => warehouse.close());
    const client = new RedshiftDataClient({ region: 'us-west-2', endpoint: sandbox.endpoint, credentials: { accessKeyId: 'AKIABENCH', secretAccessKey: 'bench' }, maxAttempts: 1 });
    cleanups.push(async () => client.destroy());
    const redis = await connectRedis(REDIS_URL);
    cleanups.push(async () => {
      await deleteKeysWithPrefix(redis, prefix);
      await redis.quit();
    });
    const out = new PassThrough();
    out.on('data', (d: Buffer) => {
      if (verbose) for (const l of d.toString().trimEnd().split('\n')) print(`    ${l}`);
    });
    const reporter = new ConsoleReporter(out);
    const rt = buildRuntime({
      redis,
      prefix,
      registry,
      warehouse,
      settings: { freshnessMs: FRESHNESS_MS, logCheckMs: 0 },
      policy: createPolicy({ operators: [USERS.operator], approvers: [USERS.approver], allowSelfApproval: false }),
      reporter,
      front: 'console',
      logger,
    });
    cleanups.push(async () => {
      await rt.jobs.queue.obliterate({ force: true }).catch(() => undefined);
      await rt.close();
    });
    const loopOpts = { cdc: [{ table: 'core_action' }], dms: false, adoptExisting: false, rate: Number(process.env.BENCH_RU_RATE ?? 50), tickMs: 50 } as const;
    const replication = await sandbox.startReplication(registry, loopOpts);
    cleanups.push(() => replication.stop());
    const probe = new ReadProbe(dbUrl(mainDb));
    await probe.start();
    let probeStopped = false;
    cleanups.push(async () => {
      if (!probeStopped) await probe.stop().catch(() => undefined);
    });
    await sleep(1_000);

    // 3. the command through the bot; the worker starts once the statements before the job are known
    const said: string[] = [];
    const text = `modify core_action alter column link type bigint${strategy === 'live-copy' ? '' : ` --strategy ${strategy}`}`;
    const outcome = await rt.bot.run({ text, userId: USERS.operator, channelId: 'C0BENCH001' }, { ephemeral: async (t) => void said.push(t), inChannel: async (t) => (said.push(t), {}) });
    if (!outcome.ok || !outcome.jobId) throw new Error(`"${text}" was not queued: ${said.join('\n')}`);
    const jobId = outcome.jobId;
    const before = new Set((await listStatements(client)).map((s) => s.id));
    let stopWorker: () => Promise<void>;
    let workerProc: WorkerProcess | undefined;
    if (workerMode === 'process') {
      workerProc = await startWorkerProcess({
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        AWS_ENDPOINT_URL: sandbox.endpoint,
        AWS_REGION: 'us-west-2',
        AWS_ACCESS_KEY_ID: 'AKIABENCH',
        AWS_SECRET_ACCESS_KEY: 'bench',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        REDSHIFT_CLUSTER_ID: 'bench-cluster',
        REDSHIFT_DB_USER: 'bench',
        REDSHIFT_DATABASE: 'dev',
        SLACK_BOT_TOKEN: 'xoxb-bench',
        SLACK_API_URL: `${sandbox.endpoint}/_sandbox/slack/api/`,
        OPERATORS: USERS.operator,
        APPROVERS: USERS.approver,
        REDIS_URL,
        REDIS_PREFIX: prefix,
        SCHEMAS_DIR: schemasDir,
        // the bench's bot settings (buildRuntime above): the worker rebuilds the same plan
        FRESHNESS_MINUTES: String(FRESHNESS_MS / 60_000),
        LOG_CHECK_MINUTES: '0',
        WORKER_CONCURRENCY: '1',
        LOG_LEVEL: 'info',
      });
      const wp = workerProc;
      stopWorker = () => wp.stop();
    } else {
      const worker = createWorker<RunbookDeps>({ connection: redis, prefix, registry: rt.runbooks, deps: rt.deps, reporter, concurrency: 1 });
      stopWorker = () => worker.close();
    }
    cleanups.push(() => stopWorker());
    let job: JobRecord | undefined;
    const deadline = Date.now() + 30 * 60_000;
    // inline: this process's peak RSS while the job runs (the worker plus this bench's harness); process: the worker
    // process's own peak (VmHWM, read from outside at the end)
    let peakRss = process.memoryUsage().rss;
    const rssTimer = setInterval(() => {
      if (!workerProc) peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 5);
    cleanups.push(async () => clearInterval(rssTimer));
    for (;;) {
      job = await rt.jobs.store.get(jobId);
      if (!job) throw new Error(`job ${jobId} vanished`);
      if (['succeeded', 'failed', 'rolled-back', 'rejected', 'cancelled'].includes(job.state)) break;
      if (job.state === 'awaiting-approval' && job.pendingApproval)
        await rt.control.decide({ jobId, step: job.pendingApproval.step, nonce: job.pendingApproval.nonce, userId: USERS.approver, decision: 'approved' });
      if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.state} after 30 minutes`);
      await sleep(10);
    }
    clearInterval(rssTimer);
    if (workerProc) {
      const m = await procMemory(workerProc.pid);
      if (!m) throw new Error(`the worker process ${workerProc.pid} ended during the job`);
      peakRss = m.hwm;
    }
    const load = loadavg();
    const probeResult = await probe.stop();
    probeStopped = true;
    if (job.state !== 'succeeded') throw new Error(`job ${jobId} ended ${job.state}: ${job.error ?? ''}`);
    await replication.stop();

    const detail = job.steps.map((s) => `${s.name} ${s.startedAt && s.finishedAt ? secs(s.finishedAt - s.startedAt) : '-'}${s.detail ? ` — ${s.detail}` : ''}`);
    const jobMs = (job.finishedAt ?? 0) - (job.startedAt ?? 0);
    const audit = await rt.jobs.audit.readAudit(jobId);
    const asked = audit.find((e) => e.event === 'approval-requested');
    const resumed = audit.find((e) => e.event === 'step-start' && e.step === 'approve-drop');
    const fresh = job.steps.find((s) => s.name === 'freshness');
    const waitsMs = (asked && resumed ? resumed.at - asked.at : 0) + (fresh?.startedAt && fresh.finishedAt ? fresh.finishedAt - fresh.startedAt : 0);

    let swapMs: number | undefined;
    let underLockMs: number | undefined;
    const swapId = job.handles[strategy === 'live-copy' ? 'stmt:swap' : 'stmt:rename-in'];
    if (swapId) {
      const info = await warehouse.describe(swapId);
      swapMs = info.durationMs;
      if (strategy === 'live-copy') underLockMs = (info.subStatements ?? []).slice(2).reduce((a, s) => a + (s.durationMs ?? 0), 0); // after SET + LOCK
    }

    // 4. the same statements through psql, on the copy taken before the job
    const stmts = (await listStatements(client)).filter((s) => !before.has(s.id));
    // where the job's time went: in the warehouse (each statement's Duration, as DescribeStatement reports it; the job runs
    // them one at a time) and the rest — polling, job records, the reporter, the step machinery
    let statementsMs = 0;
    for (const st of stmts) statementsMs += Number((await client.send(new DescribeStatementCommand({ Id: st.id }))).Duration ?? 0) / 1e6;
    // the sandbox's sessions run with the database's settings (work_mem …), which a TEMPLATE copy does not carry over
    const workMem = String((await sandbox.sql('SHOW work_mem')).rows[0]?.work_mem ?? '4MB');
    let replayResult: RunResult['replay'];
    if (replay) {
      await replication.stop();
      await stopWorker();
      await sandbox.close();
      const header = [`SET search_path TO ${DEFAULT_SEARCH_PATH};`, `SET work_mem TO '${workMem}';`, "SET TimeZone TO 'UTC';", "SET DateStyle TO 'ISO, MDY';", "SELECT set_config('redshift_sandbox.disk_capacity_mb', '1000000', false);"];
      const file = path.join(tmp, 'replay.sql');
      await writeFile(file, `${header.join('\n')}\n${stmts.map(pgScript).join('\n')}\n`);
      await admin(`ALTER DATABASE "${replayDb}" SET work_mem = '${workMem}'`); // the replay's reader too
      // the same load as during the job: the apply loop writing the table (each update or delete of a key is a scan of the
      // table here — the sandbox has no zone maps) and the reader
      const rsb = await startSandbox({ databaseUrl: dbUrl(replayDb), logger });
      cleanups.push(() => rsb.close());
      const rrep = await rsb.startReplication(registry, loopOpts);
      const rprobe = new ReadProbe(dbUrl(replayDb));
      await rprobe.start();
      await sleep(1_000);
      let replayMs: number;
      try {
        replayMs = await psqlFile(dbUrl(replayDb), file);
      } finally {
        const r = await rprobe.stop();
        await rrep.stop();
        await rsb.close();
        replayResult = { ms: 0, probe: r };
      }
      replayResult.ms = replayMs;
    }
    if (verbose) print(`    setup ${secs(setupMs)}; ${stmts.length} statements`);
    return { rows, strategy, probe: probeResult, ...(swapMs !== undefined ? { swapMs } : {}), ...(underLockMs !== undefined ? { underLockMs } : {}), jobMs, waitsMs, statementsMs, statements: stmts.length, ...(replayResult ? { replay: replayResult } : {}), detail, peakRssMb: Math.round(peakRss / 1048576), ...(workerProc ? { idleRssMb: Math.round(workerProc.idleRss / 1048576) } : {}), workerMode, tracking, load1: load[0] ?? 0 };
  } finally {
    await runCleanups(cleanups);
    active.delete(cleanups);
  }
}

/** Cleanups of the runs in progress: Ctrl-C drops the databases and Redis keys instead of leaving them behind. */
const active = new Set<Array<() => Promise<void>>>();

async function runCleanups(cleanups: Array<() => Promise<void>>): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch {
      /* best effort */
    }
  }
}

export const readUnavailability: Bench = {
  name: 'read-unavailability',
  description: 'deep-copy modify of core_action with a CDC loop and a reader: longest read gap per strategy and size (goal ≤ 1 s, flat), job wall / psql (goal ≤ 1.15)',
  async run(print) {
    const rowsList = (process.env.BENCH_RU_ROWS ? list('BENCH_RU_ROWS', '') : list('BENCH_ROWS', '100000,1000000')).map((r) => positiveInt('BENCH_RU_ROWS', r));
    const strategies = list('BENCH_RU_STRATEGIES', 'live-copy,rename-first');
    const runs = positiveInt('BENCH_RU_RUNS', process.env.BENCH_RU_RUNS ?? '1');
    for (const s of strategies) if (!['live-copy', 'rename-first'].includes(s)) throw new Error(`BENCH_RU_STRATEGIES: unknown strategy "${s}" (live-copy, rename-first)`);
    const trackings = list('BENCH_RU_TRACKING', 'updated_at').map((raw) => {
      const t = raw === 'updatedat' ? 'updated_at' : raw;
      if (t !== 'updated_at' && t !== 'none') throw new Error(`BENCH_RU_TRACKING: unknown "${t}" (updatedat, none — comma-separated)`);
      return t;
    });
    const workerMode = (process.env.BENCH_RU_WORKER ?? 'process').trim();
    if (workerMode !== 'process' && workerMode !== 'inline') throw new Error(`BENCH_RU_WORKER: "${workerMode}" (process: node dist/main.js --role worker; inline: a worker in this process)`);
    if (workerMode === 'process') buildOnce(print);
    print(`sizes ${rowsList.map(fmt).join(', ')} rows; strategies ${strategies.join(', ')}; apply loop ${process.env.BENCH_RU_RATE ?? 50} changes/s; reader: SELECT id … LIMIT 1 in a tight loop, no short timeout`);
    const results: RunResult[] = [];
    const onSignal = (sig: NodeJS.Signals): void => {
      process.stderr.write(`read-unavailability: ${sig}: cleaning up (databases, Redis keys)\n`);
      void Promise.all([...active].map(runCleanups)).finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await runAll();
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    async function runAll(): Promise<void> {
      for (const rows of rowsList) {
        for (let run = 1; run <= runs; run++) for (const tracking of trackings) for (const strategy of strategies) {
          // a none table's lock compares the whole tables: above BENCH_RU_NONE_MAX_ROWS (default 1 M) it is left out
          if (tracking === 'none' && rows > Number(process.env.BENCH_RU_NONE_MAX_ROWS ?? 1_000_000)) {
            print(`${strategy.padEnd(12)} (changeTracking none) ${fmt(rows).padStart(9)} rows: skipped (BENCH_RU_NONE_MAX_ROWS)`);
            continue;
          }
          // each run is its job then its psql replay: J R J R … alternates them, so load drift moves both alike
          const r = await runOne(rows, strategy, tracking, workerMode as 'process' | 'inline', print);
          results.push(r);
          const g = r.probe.longest;
          print(`${strategy.padEnd(12)} ${tracking === 'none' ? '(changeTracking none) ' : ''}${fmt(rows).padStart(9)} rows: longest read gap ${ms(g.ms)} (lock wait ${ms(g.lockMs)}, failed ${ms(g.failedMs)}); ${r.probe.gaps.length} gap(s), ${fmt(r.probe.reads)} reads (${fmt(r.probe.failures)} failed), a read takes ${ms(r.probe.readMs)}`);
          if (r.probe.errors.length) print(`    reader errors: ${r.probe.errors.slice(0, 3).join('; ')}`);
          if (r.swapMs !== undefined)
            print(`    ${strategy === 'live-copy' ? 'swap transaction (lock, delta, renames, grants)' : 'rename-in transaction'}: ${ms(r.swapMs)}${r.underLockMs !== undefined ? ` (${ms(r.underLockMs)} holding the lock)` : ''}`);
          print(`    of the job's ${secs(r.jobMs)}: ${secs(r.statementsMs)} in the warehouse (its ${r.statements} statements), ${secs(r.waitsMs)} waits, ${secs(r.jobMs - r.statementsMs - r.waitsMs)} the rest (polling, job records, reporter, steps)`);
          if (r.replay) {
            // the raw ratio is the headline: the freshness wait is job time a user waits for too
            print(`    job ${secs(r.jobMs)} vs psql replay of its ${r.statements} statements ${secs(r.replay.ms)}: ratio ${(r.jobMs / r.replay.ms).toFixed(3)} raw (goal ≤ 1.15); of the job, ${secs(r.waitsMs)} were waits (approval round trip + freshness check)`);
            print(`    during the psql replay the reader's longest gap was ${ms(r.replay.probe.longest.ms)} (lock wait ${ms(r.replay.probe.longest.lockMs)}, failed ${ms(r.replay.probe.longest.failedMs)})`);
          } else print(`    job ${secs(r.jobMs)} (of which waits ${secs(r.waitsMs)}); no psql replay for ${strategy} (BENCH_RU_REPLAY=all replays every strategy)`);
          print(
            r.workerMode === 'process'
              ? `    worker process (node dist/main.js --role worker): peak RSS (VmHWM) ${r.peakRssMb} MB, ${r.idleRssMb} MB once started; load average ${r.load1.toFixed(2)}`
              : `    peak RSS of this process (worker in-process, with the bench harness) ${r.peakRssMb} MB; load average ${r.load1.toFixed(2)}`,
          );
          if (process.env.BENCH_VERBOSE === '1') for (const d of r.detail) print(`      ${d}`);
        }
      }
    }
    if (results.length > 1) {
      print('summary (longest read gap):');
      for (const tracking of trackings) for (const strategy of strategies) print(`  ${strategy.padEnd(12)} ${tracking.padEnd(10)} ${results.filter((r) => r.strategy === strategy && r.tracking === tracking).map((r) => `${fmt(r.rows)}: ${ms(r.probe.longest.ms)}`).join('   ')}`);
    }
    const out: BenchResult = {
      runs: results.map((r) => ({
        strategy: r.strategy,
        tracking: r.tracking,
        workerMode: r.workerMode,
        rows: r.rows,
        longestGapMs: Math.round(r.probe.longest.ms),
        lockWaitMs: Math.round(r.probe.longest.lockMs),
        failedMs: Math.round(r.probe.longest.failedMs),
        ...(r.swapMs !== undefined ? { swapMs: r.swapMs } : {}),
        ...(r.underLockMs !== undefined ? { underLockMs: r.underLockMs } : {}),
        jobMs: r.jobMs,
        waitsMs: r.waitsMs,
        statementsMs: Math.round(r.statementsMs),
        ...(r.replay ? { replayMs: Math.round(r.replay.ms), rawRatio: Number((r.jobMs / r.replay.ms).toFixed(3)) } : {}),
        peakRssMb: r.peakRssMb,
        ...(r.idleRssMb !== undefined ? { idleRssMb: r.idleRssMb } : {}),
        load1: Number(r.load1.toFixed(2)),
        catchUp: r.detail.find((d) => d.startsWith('catch-up')) ?? null,
      })),
    };
    return out;
  },
};
