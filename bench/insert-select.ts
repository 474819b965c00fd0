/**
 * insert-select: the cost of going through the Data API adapter instead of talking to the database directly.
 *
 * Starts the sandbox on PostgreSQL (DATABASE_URL, or a new database `rso_bench_<pid>_<hex>` on localhost that is dropped
 * afterwards), creates a table with BENCH_ROWS (default 1,000,000) rows, then times the same statement
 *   INSERT INTO bench.new_t SELECT * FROM bench.old_t
 * sent through RedshiftDataWarehouse (SDK → HTTP → sandbox → PostgreSQL, polling DescribeStatement) and through `psql -c`
 * (wall time of the process, and psql's own `\timing`), alternating which goes first, BENCH_ROUNDS times (default 5)
 * after one warm-up round. Prints the medians, the ratio adapter / psql (goal ≤ 1.1) and the adapter's poll overhead:
 * polls per statement and the ms between the statement's end and the adapter noticing it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { startSandbox } from '../src/sandbox/server.js';
import { createWarehouse, type WaitRecord } from '../src/warehouse/redshift-data.js';
import type { Bench } from './run.js';

const ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function positiveInt(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number ≥ 1, got "${v}"`);
  return n;
}

async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

interface PsqlRun {
  wallMs: number;
  timingMs: number;
}

/** `psql -c '\timing on' -c <sql>`: wall time of the child process and the `Time: … ms` psql prints. */
function psql(url: string, sql: string): Promise<PsqlRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', '\\timing on', '-c', sql], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(new Error(`could not run psql (is the PostgreSQL client installed?): ${e.message}`)));
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`psql exited ${code}: ${err.trim()}`));
      const m = /Time:\s*([\d.]+)\s*ms/.exec(out);
      if (!m?.[1]) return reject(new Error(`psql printed no timing: ${out.trim()}`));
      resolve({ wallMs, timingMs: Number(m[1]) });
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const ms = (x: number): string => `${x.toFixed(1)} ms`;

export const insertSelect: Bench = {
  name: 'insert-select',
  description: 'INSERT … SELECT of 1M rows: adapter (Data API sandbox) vs psql; goal ratio ≤ 1.1, plus poll overhead',
  async run(print) {
    const rows = positiveInt('BENCH_ROWS', 1_000_000);
    const rounds = positiveInt('BENCH_ROUNDS', 5);
    let url = process.env.DATABASE_URL;
    let created: string | undefined;
    if (url === undefined || url === '') {
      created = `rso_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
      await adminQuery(`CREATE DATABASE "${created}"`);
      const u = new URL(ADMIN_URL);
      u.pathname = `/${created}`;
      url = u.toString();
    }
    print(`database: ${created !== undefined ? `${created} (new, dropped afterwards)` : 'DATABASE_URL'}; ${rows.toLocaleString('en-US')} rows; ${rounds} rounds + 1 warm-up`);

    const sandbox = await startSandbox({ databaseUrl: url, logger: pino({ level: 'silent' }) });
    const wh = createWarehouse(
      { warehouse: { target: { kind: 'provisioned', clusterId: 'bench-cluster', dbUser: 'bench' }, database: 'dev' }, aws: { region: 'us-west-2', endpoint: sandbox.endpoint } },
      { env: {} },
    );
    try {
      // setup (not timed), in Redshift DDL through the adapter
      await wh.execute('DROP SCHEMA IF EXISTS bench CASCADE');
      await wh.executeBatch([
        'CREATE SCHEMA bench',
        'CREATE TABLE bench.old_t (id bigint NOT NULL, user_id integer, email varchar(64), created_at timestamp, amount numeric(12,2), note varchar(max)) DISTKEY (id) COMPOUND SORTKEY (id)',
        'CREATE TABLE bench.new_t (LIKE bench.old_t)',
      ]);
      const t0 = performance.now();
      await wh.execute(
        `INSERT INTO bench.old_t SELECT g, g % 50000, md5(g::text) || '@example.org', timestamp '2024-01-01' + g * interval '1 second', (g % 10000) / 100.0, repeat('x', g % 40) FROM generate_series(1, ${rows}) g`,
      );
      await psql(url, 'VACUUM ANALYZE bench.old_t');
      print(`loaded bench.old_t in ${ms(performance.now() - t0)}`);

      const sql = 'INSERT INTO bench.new_t SELECT * FROM bench.old_t';
      const adapterMs: number[] = [];
      const psqlWall: number[] = [];
      const psqlTiming: number[] = [];
      const waits: WaitRecord[] = [];
      const truncate = (): Promise<PsqlRun> => psql(url, 'TRUNCATE bench.new_t');

      const viaAdapter = async (): Promise<number> => {
        await truncate();
        wh.resetStats();
        const s = performance.now();
        const info = await wh.execute(sql, undefined, { name: 'bench insert-select' });
        const took = performance.now() - s;
        if (info.resultRows !== rows) throw new Error(`adapter inserted ${info.resultRows} rows, expected ${rows}`);
        if (wh.stats.lastWait) waits.push(wh.stats.lastWait);
        return took;
      };
      const viaPsql = async (): Promise<PsqlRun> => {
        await truncate();
        return psql(url, sql);
      };

      await viaAdapter(); // warm-up: caches, connections, JIT
      await viaPsql();
      waits.length = 0;
      for (let i = 0; i < rounds; i++) {
        // alternate the order so neither side always runs on a warmer cache
        if (i % 2 === 0) {
          adapterMs.push(await viaAdapter());
          const p = await viaPsql();
          psqlWall.push(p.wallMs);
          psqlTiming.push(p.timingMs);
        } else {
          const p = await viaPsql();
          psqlWall.push(p.wallMs);
          psqlTiming.push(p.timingMs);
          adapterMs.push(await viaAdapter());
        }
        print(`round ${i + 1}: adapter ${ms(adapterMs[i]!)}, psql ${ms(psqlWall[i]!)} wall / ${ms(psqlTiming[i]!)} \\timing`);
      }

      const a = median(adapterMs);
      const pw = median(psqlWall);
      const pt = median(psqlTiming);
      print(`median adapter (submit → FINISHED):   ${ms(a)}`);
      print(`median psql -c (process wall time):   ${ms(pw)}`);
      print(`median psql \\timing (server round trip): ${ms(pt)}`);
      print(`ratio adapter / psql wall:    ${(a / pw).toFixed(3)}  (goal ≤ 1.1)`);
      print(`ratio adapter / psql \\timing: ${(a / pt).toFixed(3)}`);
      const polls = waits.map((w) => w.polls);
      const lag = waits.map((w) => w.noticeLagMs).filter((x): x is number => x !== undefined);
      const overhead = waits.filter((w) => w.statementMs !== undefined).map((w) => w.elapsedMs - w.statementMs!);
      print(`poll overhead: ${median(polls)} DescribeStatement polls per statement (median)`);
      if (lag.length > 0) print(`  statement end → adapter noticed (UpdatedAt to poll response): median ${ms(median(lag))}, max ${ms(Math.max(...lag))}`);
      if (overhead.length > 0) print(`  wait time beyond the statement's own run time (Duration): median ${ms(median(overhead))}`);
    } finally {
      await wh.execute('DROP SCHEMA IF EXISTS bench CASCADE').catch(() => undefined);
      wh.close();
      await sandbox.close();
      if (created !== undefined) await adminQuery(`DROP DATABASE IF EXISTS "${created}" WITH (FORCE)`);
    }
  },
};
