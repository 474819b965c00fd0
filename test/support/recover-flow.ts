/**
 * Driving `/redshift recover` end to end through the bot harness, with the sandbox's replication writing its changes
 * to a MariaDB source of the test file's own (the bot compares with it through the real mysql2 adapter): the harness,
 * the source, the command and the checks every recover test makes (the whole table equal to the source, no duplicate
 * key, what the thread said).
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { RunbookSettings } from '../../src/jobs/deps.js';
import type { JobRecord } from '../../src/jobs/types.js';
import type { ApplyLoop, Replication, ReplicationOptions } from '../../src/sandbox/replication.js';
import { MariaDbSourceDb } from '../../src/sandbox/source-db.js';
import { createMysqlSource, type MysqlSource } from '../../src/source/mysql.js';
import { type BotHarness, type BotHarnessOptions, SCHEMA, startBotHarness } from './bot-harness.js';
import { REQUESTER } from './modify-flow.js';

export const MYSQL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

export interface RecoverWorld {
  h: BotHarness;
  replication: Replication;
  /** the sandbox's replication writes here (MariaDB) */
  sourceDb: MariaDbSourceDb;
  /** the bot reads it (SOURCE_DATABASE_URL's adapter) */
  source: MysqlSource;
  /** SOURCE_DATABASE_URL of it (for worker processes) */
  sourceUrl: string;
  loopErrors: string[];
  close(): Promise<void>;
}

/** Short waits for tests (each at least 3× what the sandbox needs). */
export const RECOVER_SETTINGS: Partial<RunbookSettings> & { marginSeconds: number } = {
  logCheckMs: 1_500,
  freshnessMs: 4_000,
  fullLoadPollMs: 150,
  cdcReloadPollMs: 200,
  marginSeconds: 2,
};

export async function startRecoverWorld(name: string, o: { harness?: Partial<BotHarnessOptions>; replication?: ReplicationOptions } = {}): Promise<RecoverWorld> {
  const db = `rso_${name}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const sourceDb = await MariaDbSourceDb.open({ url: `${MYSQL}/${db}`, createDatabase: true });
  const source = createMysqlSource({ url: `${MYSQL}/${db}` });
  const loopErrors: string[] = [];
  let h: BotHarness | undefined;
  try {
    h = await startBotHarness({ name, inProcessWorker: { concurrency: 2 }, copySchemas: true, aws: true, settings: RECOVER_SETTINGS, rowsPerTable: 40, source, compare: { lagSeconds: 2 }, ...(o.harness ?? {}) });
    const replication = await h.sandbox.startReplication(h.registry, { dms: { rate: 20 }, tickMs: 40, source: sourceDb, onError: (t, e) => loopErrors.push(`${t}: ${e.message}`), ...(o.replication ?? {}) });
    const hh = h;
    return {
      h: hh,
      replication,
      sourceDb,
      source,
      sourceUrl: `${MYSQL}/${db}`,
      loopErrors,
      async close() {
        await replication.stop();
        await hh.close();
        await source.close();
        await sourceDb.close({ dropDatabase: true });
      },
    };
  } catch (e) {
    await h?.close();
    await source.close();
    await sourceDb.close({ dropDatabase: true });
    throw e;
  }
}

/** `/redshift recover <text>`; the bot's ephemeral reply. */
export async function recoverReply(h: BotHarness, text: string, userId: string = REQUESTER): Promise<string> {
  const r = await h.slash(`recover ${text}`, { userId });
  expect(r.status).toBe(200);
  expect(r.ms).toBeLessThan(3_000);
  const reply = await h.waitForResponse(r.responseId, undefined, 30_000);
  // read as a person does: Slack shows &lt; &gt; &amp; as < > &
  return String(reply.body.text).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export async function queueRecover(h: BotHarness, table: string): Promise<string> {
  const said = await recoverReply(h, table);
  const m = /^Queued job (\d+): /.exec(said);
  expect(m, `the bot did not queue the job:\n${said}`).not.toBeNull();
  return m![1]!;
}

/** Duplicated keys of a table (id), straight from the sandbox's database. */
export async function duplicateIds(h: BotHarness, table: string): Promise<number> {
  const r = await h.sandbox.sql(`select count(*)::int as n from (select id from ${SCHEMA}.${table} group by id having count(*) > 1) d`);
  return Number(r.rows[0]?.n ?? 0);
}

/** Stop generating, let every change reach the table, compare the whole table with the source row by row. */
export async function settle(loop: ApplyLoop, stallMs = 20_000): Promise<void> {
  loop.stopGenerating();
  await loop.idle(stallMs);
}

/** A job's step states, "name:state". */
export const stepStates = (j: JobRecord): string[] => j.steps.map((s) => `${s.name}:${s.state}${s.status === 'warn' ? '(warn)' : ''}`);

/** Wait until the job's step `name` reached one of `states`. */
export async function stepReached(h: BotHarness, jobId: string, name: string, states: ReadonlyArray<string> = ['done', 'skipped'], timeoutMs = 60_000): Promise<JobRecord> {
  return h.waitJob(jobId, (j) => states.includes(j.steps.find((s) => s.name === name)?.state ?? '') || j.state === 'failed', `step ${name} to be ${states.join('/')}`, timeoutMs);
}

/** The environment a worker process needs for recover jobs against this world (the same short waits as RECOVER_SETTINGS). */
export function recoverWorkerEnv(w: RecoverWorld): Record<string, string> {
  return {
    SOURCE_DATABASE_URL: w.sourceUrl,
    COMPARE_LAG_SECONDS: '2',
    LOG_CHECK_MINUTES: String(1.5 / 60),
    FRESHNESS_MINUTES: String(4 / 60),
    FULL_LOAD_POLL_SECONDS: '0.15',
    CDC_RELOAD_POLL_SECONDS: '0.2',
  };
}
