/**
 * The DMS and CloudWatch Logs adapters with the REAL SDK clients (built by createDms / createLogs from config) against
 * startSandbox on a PostgreSQL database of this file's own, while apply loops replicate core_usermailing (DMS) and
 * core_action (cdc). Every wait is a condition with a timeout; nothing asserts on elapsed time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CloudWatchLogsAdapter, watchLogs } from '../../src/replication/logs.js';
import type { DmsAdapter } from '../../src/replication/dms.js';
import { type DmsLogLine, groupLogLines } from '../../src/replication/port.js';
import type { DmsTransition } from '../../src/sandbox/dms.js';
import type { Replication } from '../../src/sandbox/replication.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { type Registry, loadRegistry } from '../../src/schema/registry.js';
import type { RedshiftDataWarehouse } from '../../src/warehouse/redshift-data.js';
import { type TestDatabase, createTestDatabase } from '../support/sandbox.js';
import { poller, replicationFailure } from '../support/poll.js';
import { createSeededTable, sandboxAdapters } from '../support/sandbox-adapters.js';

const TASK_ID = 'flydata-core-usermailing';
const LOG_GROUP = 'dms-tasks-core-usermailing-replication';

let db: TestDatabase;
let sandbox: Sandbox;
let registry: Registry;
let wh: RedshiftDataWarehouse;
let dms: DmsAdapter;
let logs: CloudWatchLogsAdapter;
let repl: Replication;
let arn: string;
const transitions: DmsTransition[] = [];

const until = poller({ timeoutMs: 10_000, pauseMs: 20 });

async function count(sql: string): Promise<number> {
  const r = await sandbox.sql(sql);
  return Number(r.rows[0]?.n ?? -1);
}

const loopOf = (t: string) => {
  const l = repl.loop(t);
  if (!l) throw new Error(`no loop on ${t}`);
  return l;
};
const dmsLoop = () => {
  const l = repl.dmsLoops.get('ak_sumofus.core_usermailing');
  if (!l) throw new Error('no DMS loop');
  return l;
};

beforeAll(async () => {
  db = await createTestDatabase('repl_adapters');
  sandbox = await startSandbox({ databaseUrl: db.url, dmsDelays: { startMs: 120, stopMs: 120, createMs: 50, fullLoadMs: 50 }, logs: { pageSize: 3, emptyPageEvery: 2 } });
  sandbox.dms.onTransition((t) => transitions.push(t));
  registry = await loadRegistry();

  // exactly what the bot does: environment → config → adapters (loopback endpoint, no credentials: placeholders)
  const aws = sandboxAdapters(sandbox);
  wh = aws.warehouse();
  dms = aws.dms();
  logs = aws.logs();

  // the two replicated tables, from schemas/, with some rows already there
  for (const name of ['core_usermailing', 'core_action']) await createSeededTable(sandbox, wh, registry.find(name)!, { rows: 25, seed: 5 });
  // a long column cache: the loops must notice a changed table from the write that fails, not from a timer
  repl = await sandbox.startReplication(registry, { dms: { rate: 60 }, cdc: [{ table: 'core_action', rate: 60 }], tickMs: 15, columnRefreshMs: 60_000 });
  arn = repl.tasks[0]!.arn;
}, 60_000);

afterAll(async () => {
  await repl?.stop();
  dms?.close();
  logs?.close();
  wh?.close();
  await sandbox?.close();
  await db?.drop();
}, 60_000);

describe('sandbox.startReplication', () => {
  it('seeds the DMS task of the registry running, with its log group, and adopts the rows already in the tables', async () => {
    expect(repl.tasks.map((t) => [t.identifier, t.status, t.logGroup])).toEqual([[TASK_ID, 'running', LOG_GROUP]]);
    expect(repl.tasks[0]!.tables.map((t) => `${t.schema}.${t.table}`)).toEqual(['ak_sumofus.core_usermailing']);
    expect([...repl.dmsLoops.keys()]).toEqual(['ak_sumofus.core_usermailing']);
    expect([...repl.cdcLoops.keys()]).toEqual(['ak_sumofus.core_action']);
    expect(loopOf('core_usermailing').stats().seeded).toBe(25);
    expect(loopOf('ak_sumofus.core_action').stats().seeded).toBe(25);
    await loopOf('core_action').until(() => loopOf('core_action').stats().byKind.update > 3 && loopOf('core_action').stats().applied > 20);
  });
});

describe('DmsAdapter over the real SDK', () => {
  it('finds the task; unknown tasks and ARNs are not-found errors that say what to check', async () => {
    const t = await dms.findTask(TASK_ID);
    expect(t).toMatchObject({ arn, id: TASK_ID, status: 'running' });
    expect(t.instanceArn).toMatch(/^arn:aws:dms:us-west-2:\d{12}:rep:/);
    const nf = await replicationFailure(dms.findTask('no-such-task'));
    expect(nf.kind).toBe('not-found');
    expect(nf.message).toMatch(/"no-such-task" was not found in us-west-2.*replication\.taskId/);
    expect((await replicationFailure(dms.describeTask(`${arn}X`))).kind).toBe('not-found');
  });

  it('tableStats moves while the DMS apply loop runs; an unknown table has none', async () => {
    const s1 = await dms.tableStats(arn, 'ak_sumofus', 'core_usermailing');
    expect(s1).toMatchObject({ schema: 'ak_sumofus', table: 'core_usermailing', state: 'Table completed', fullLoadRows: 25 });
    const total = (s: typeof s1) => (s ? s.inserts + s.updates + s.deletes : -1);
    const s2 = await until('the statistics to move', () => dms.tableStats(arn, 'ak_sumofus', 'core_usermailing'), (s) => total(s) > total(s1) + 10);
    expect(s2!.lastUpdate).toBeInstanceOf(Date);
    expect(s2!.inserts).toBeGreaterThan(0);
    expect(await dms.tableStats(arn, 'ak_sumofus', 'core_click')).toBeUndefined();
  });

  it('stop → wait stopped → resume → wait running; stop and resume are idempotent; nothing is applied while stopped', async () => {
    const loop = loopOf('core_usermailing');
    const mark = transitions.length;
    const stopping = await dms.stopTask(arn);
    expect(stopping.status).toBe('stopping');
    expect((await dms.stopTask(arn)).status).toMatch(/^stopp(ing|ed)$/); // a second stop is a no-op, not an error
    const stopped = await dms.waitForStatus(arn, 'stopped');
    expect(stopped).toMatchObject({ status: 'stopped', stopReason: 'Stop Reason NORMAL' });
    expect((await dms.stopTask(arn)).status).toBe('stopped');
    expect(await replicationFailure(dms.reloadTable(arn, 'ak_sumofus', 'core_usermailing'))).toMatchObject({ kind: 'invalid-state' });

    // stopped: changes pile up at the source, none reach the target
    const applied = loop.stats().applied;
    const pending = loop.pendingCount();
    await loop.until(() => loop.pendingCount() >= pending + 30, 10_000, 'changes to pile up while stopped');
    expect(loop.stats().applied).toBe(applied);

    const starting = await dms.resumeTask(arn);
    expect(starting.status).toBe('starting');
    expect((await dms.resumeTask(arn)).status).toMatch(/^(starting|running)$/);
    expect((await dms.waitForStatus(arn, 'running')).status).toBe('running');
    expect((await dms.resumeTask(arn)).status).toBe('running');
    await loop.until(() => loop.stats().applied > applied + 30);

    // exactly one stop and one resume reached DMS
    const mine = transitions.slice(mark).map((t) => `${t.from}>${t.to}:${t.cause}`);
    expect(mine).toEqual(['running>stopping:stop', 'stopping>stopped:stop', 'stopped>starting:resume-processing', 'starting>running:resume-processing']);
  });

  it('reloadTable on a running task reloads the table through the apply loop', async () => {
    const loop = loopOf('core_usermailing');
    const loads = loop.stats().loads;
    await dms.reloadTable(arn, 'ak_sumofus', 'core_usermailing');
    await loop.until(() => loop.stats().loads > loads);
    const s = await until('the reload to finish', () => dms.tableStats(arn, 'ak_sumofus', 'core_usermailing'), (x) => x?.state === 'Table completed');
    expect(s).toBeDefined();
  });

  it('a resume that fails surfaces LastFailureMessage and StopReason; waiting for a state nothing moves it to says so', async () => {
    await dms.stopTask(arn);
    await dms.waitForStatus(arn, 'stopped');
    const nothing = await replicationFailure(dms.waitForStatus(arn, 'running'));
    expect(nothing.kind).toBe('invalid-state');
    expect(nothing.message).toMatch(/is stopped and nothing is making it running: resume it first/);

    sandbox.dms.failNextResume(arn, 'Last Error binlog position mysql-bin.000042:1234 no longer exists (sandbox). Stop Reason FATAL_ERROR Error Level FATAL');
    await dms.resumeTask(arn);
    const failed = await replicationFailure(dms.waitForStatus(arn, 'running'));
    expect(failed.kind).toBe('failed');
    expect(failed.message).toContain('binlog position mysql-bin.000042:1234 no longer exists');
    expect(failed.message).toContain('StopReason: Stop Reason FATAL_ERROR');
    expect(failed.details.task).toMatchObject({ status: 'failed', stopReason: 'Stop Reason FATAL_ERROR' });
    // stopping a failed task is a no-op; resuming it works
    expect((await dms.stopTask(arn)).status).toBe('failed');
    await dms.resumeTask(arn);
    expect((await dms.waitForStatus(arn, 'running')).lastFailureMessage).toBeUndefined();
  });

  it('a wait times out with a readable error, and can be aborted', async () => {
    const saved = sandbox.dms.delays.stopMs;
    sandbox.dms.delays.stopMs = 1_500;
    try {
      await dms.stopTask(arn);
      const late = await replicationFailure(dms.waitForStatus(arn, 'stopped', { timeoutMs: 100 }));
      expect(late.kind).toBe('timeout');
      expect(late.message).toMatch(/still stopping after \d+ s \(waited for stopped\)/);
      const ac = new AbortController();
      const p = dms.waitForStatus(arn, 'stopped', { signal: ac.signal });
      ac.abort(new Error('job cancelled by U123'));
      await expect(p).rejects.toThrow('job cancelled by U123');
      expect((await dms.waitForStatus(arn, 'stopped')).status).toBe('stopped');
    } finally {
      sandbox.dms.delays.stopMs = saved;
    }
    await dms.resumeTask(arn);
    await dms.waitForStatus(arn, 'running');
  });

  it('retries throttling (server-wide knob and the DMS service knob) and gives up readably when it never ends', async () => {
    const before = dms.stats.throttled;
    sandbox.faults.throttleNext = 2;
    expect((await dms.describeTask(arn)).status).toBe('running');
    sandbox.dms.throttleNext(1);
    expect((await dms.findTask(TASK_ID)).arn).toBe(arn);
    expect(dms.stats.throttled - before).toBe(3);

    sandbox.faults.throttleNext = 1_000;
    try {
      const e = await replicationFailure(dms.describeTask(arn));
      expect(e.kind).toBe('aws');
      expect(e.message).toMatch(/DescribeReplicationTasks failed \(gave up after 9 attempts\): ThrottlingException/);
    } finally {
      sandbox.faults.throttleNext = 0;
    }
  });
});

describe('CloudWatchLogsAdapter over the real SDK', () => {
  it('scan finds the ]E: lines injected on resume across empty pages, and groupLogLines groups them', async () => {
    const loop = dmsLoop();
    const stream = sandbox.dms.getTask(arn).logStream;
    const from = Date.now() - 1;
    // noise first, so the matching lines sit behind pages the filter leaves empty
    sandbox.logs.append(LOG_GROUP, stream, Array.from({ length: 30 }, (_, i) => `[SOURCE_CAPTURE  ]I:  noise ${i}`));
    await dms.stopTask(arn);
    await dms.waitForStatus(arn, 'stopped');
    expect(loop.taskArn).toBe(arn);
    loop.injectLogErrors(3);
    sandbox.dms.log(arn, [{ component: 'SOURCE_CAPTURE', severity: 'W', text: 'Binlog read is slow (sandbox)' }]);
    await dms.resumeTask(arn);
    await dms.waitForStatus(arn, 'running');
    const emptyBefore = logs.stats.emptyPagesWithToken;

    const lines = await logs.scan({ group: LOG_GROUP, startMs: from, endMs: Date.now() + 1, pattern: '?"]E:" ?"]W:"' });
    expect(lines.filter((l) => l.severity === 'E')).toHaveLength(3);
    expect(lines.every((l) => l.stream === stream && l.eventId !== undefined)).toBe(true);
    expect(logs.stats.emptyPagesWithToken).toBeGreaterThan(emptyBefore);
    const groups = groupLogLines(lines);
    expect(groups.map((g) => [g.component, g.errors.length, g.warnings.length])).toEqual([
      ['TARGET_APPLY', 3, 0],
      ['SOURCE_CAPTURE', 0, 1],
    ]);
    expect(groups[0]!.errors[0]!.text).toMatch(/Failed to apply change 1\/3 to table 'ak_sumofus'\.'core_usermailing'/);

    // no pattern: everything, in time order, the resume's TASK_MANAGER line included; the same via the stream name
    const all = await logs.scan({ group: LOG_GROUP, streams: [stream], startMs: from, endMs: Date.now() + 1 });
    expect(all.length).toBeGreaterThanOrEqual(36);
    expect(all.some((l) => l.component === 'TASK_MANAGER' && /running CDC only in resume mode/.test(l.text))).toBe(true);
    expect(all.map((l) => l.timestamp)).toEqual([...all.map((l) => l.timestamp)].sort((a, b) => a - b));
    // an empty window is empty; a group that does not exist is an error, not "no errors"
    expect(await logs.scan({ group: LOG_GROUP, startMs: from, endMs: from })).toEqual([]);
    const nf = await replicationFailure(logs.scan({ group: 'dms-tasks-nope', startMs: from, endMs: Date.now() }));
    expect(nf.kind).toBe('not-found');
    expect(nf.message).toMatch(/dms-tasks-nope .*replication\.logGroup/);
  });

  it('watchLogs picks up lines written after it started, once each', async () => {
    const stream = sandbox.dms.getTask(arn).logStream;
    const start = Date.now();
    const seen: DmsLogLine[] = [];
    const pages0 = logs.stats.pages;
    const watch = watchLogs(
      logs,
      { group: LOG_GROUP, streams: [stream], startMs: start, pattern: '"]E:"' },
      { untilMs: start + 30_000, pollMs: 50, lagMs: 5_000, onLines: (l) => void seen.push(...l), stopWhen: (all) => all.length >= 2 },
    );
    await until('the watch to scan', () => logs.stats.pages, (p) => p > pages0);
    sandbox.dms.log(arn, [{ component: 'TARGET_APPLY', severity: 'E', text: 'written after the watch began' }]);
    await until('the watch to report it', () => seen.length, (n) => n === 1);
    // let it re-scan the overlapping window a few times: the line must not come back
    const pages1 = logs.stats.pages;
    await until('more scans', () => logs.stats.pages, (p) => p > pages1 + 6);
    sandbox.dms.log(arn, [{ component: 'TARGET_APPLY', severity: 'E', text: 'and another one' }]);
    const r = await watch;
    expect(r.stoppedEarly).toBe(true);
    expect(r.lines.map((l) => l.text)).toEqual(['written after the watch began', 'and another one']);
    expect(seen.map((l) => l.text)).toEqual(['written after the watch began', 'and another one']);
    expect(r.scans).toBeGreaterThan(2);
  });

  it('retries throttled FilterLogEvents calls', async () => {
    const before = logs.stats.throttled;
    sandbox.logs.throttleNext(2);
    sandbox.faults.throttleNext = 1;
    const lines = await logs.scan({ group: LOG_GROUP, startMs: 0, endMs: Date.now() + 1, pattern: 'written after the watch' });
    expect(lines).toHaveLength(1);
    expect(logs.stats.throttled - before).toBe(3);
  });
});

describe('apply loops follow a changing table', () => {
  it('DMS: a swap to a new shape while stopped (column dropped, columns added) — after the resume the loop writes the new shape, stamps updated_at, logs no ]E:', async () => {
    const loop = dmsLoop();
    await dms.stopTask(arn);
    await dms.waitForStatus(arn, 'stopped');
    // the modify's deep copy: subject_id dropped, updated_at (no default) and source (default) added
    await wh.execute(
      "CREATE TABLE ak_sumofus.new_core_usermailing (id bigint NOT NULL, mailing_id integer NOT NULL, user_id integer NOT NULL, created_at timestamp NOT NULL, updated_at timestamp, source varchar(20) DEFAULT 'dms' NOT NULL)",
    );
    await wh.execute('INSERT INTO ak_sumofus.new_core_usermailing (id, mailing_id, user_id, created_at, updated_at) SELECT id, mailing_id, user_id, created_at, created_at FROM ak_sumofus.core_usermailing');
    await wh.executeBatch(['ALTER TABLE ak_sumofus.core_usermailing RENAME TO old_core_usermailing', 'ALTER TABLE ak_sumofus.new_core_usermailing RENAME TO core_usermailing']);
    const oldRows = await count('SELECT count(*) AS n FROM ak_sumofus.old_core_usermailing');

    const resumedAt = Date.now();
    await dms.resumeTask(arn);
    await dms.waitForStatus(arn, 'running');
    const applied = loop.stats().applied;
    await loop.until(() => loop.stats().applied > applied + 40);
    const check = await watchLogs(logs, { group: LOG_GROUP, startMs: resumedAt, pattern: '"]E:"' }, { untilMs: Date.now() + 300, pollMs: 100 });
    expect(check.lines).toEqual([]);
    loop.stopGenerating();
    await loop.idle();

    const v = await loop.verify();
    expect(v.summary).toMatch(/matches the source/);
    expect(v.skippedColumns).toEqual(['subject_id']);
    expect(loop.stats().failed).toBe(0);
    expect(loop.columnRereads).toBeGreaterThanOrEqual(1);
    expect(await count('SELECT count(*) AS n FROM ak_sumofus.core_usermailing WHERE updated_at IS NULL')).toBe(0);
    expect(await count("SELECT count(*) AS n FROM ak_sumofus.core_usermailing WHERE source <> 'dms'")).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM ak_sumofus.core_usermailing WHERE updated_at >= '${new Date(resumedAt - 1000).toISOString().slice(0, 19).replace('T', ' ')}'`)).toBeGreaterThan(10);
    // nothing landed in the old table after the swap
    expect(await count('SELECT count(*) AS n FROM ak_sumofus.old_core_usermailing')).toBe(oldRows);
  });

  it('cdc: columns added and dropped while the loop runs — it keeps applying, nothing is lost, updates carry updated_at', async () => {
    const loop = loopOf('core_action');
    const applied = loop.stats().applied;
    await wh.execute("ALTER TABLE ak_sumofus.core_action ADD COLUMN note varchar(30) DEFAULT 'x'");
    await loop.until(() => loop.stats().applied > applied + 20);
    await wh.execute('ALTER TABLE ak_sumofus.core_action DROP COLUMN link');
    const applied2 = loop.stats().applied;
    await loop.until(() => loop.stats().applied > applied2 + 40);
    loop.stopGenerating();
    await loop.idle();
    const st = loop.stats();
    expect(st.failed).toBe(0);
    expect(st.pending).toBe(0);
    expect(loop.columnRereads).toBeGreaterThanOrEqual(1);
    const v = await loop.verify();
    expect(v.summary).toMatch(/matches the source/);
    expect(v.skippedColumns).toEqual(['link']);
    expect(v.columns).toContain('updated_at');
    expect(await count('SELECT count(*) AS n FROM ak_sumofus.core_action WHERE note IS NULL')).toBe(0);
    // every update moved updated_at to the time of the change (verify compared the value; here: it is recent)
    const updated = loop.history().filter((h) => h.kind === 'update' && h.fate === 'applied');
    expect(updated.length).toBeGreaterThan(5);
    expect(updated.every((h) => typeof h.row?.updated_at === 'string' && Date.parse(`${h.row.updated_at.replace(' ', 'T')}Z`) >= h.generatedAt - 1000)).toBe(true);
  });
});
