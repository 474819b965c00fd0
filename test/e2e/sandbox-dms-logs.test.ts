/**
 * DMS + CloudWatch Logs sandbox, driven by the REAL AWS SDK clients over HTTP, and the replication apply loops on a real
 * PostgreSQL database of this file's own. Every wait is a condition with a timeout (no timed assertions).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateReplicationTaskCommand,
  DatabaseMigrationServiceClient,
  DescribeReplicationTasksCommand,
  ReloadTablesCommand,
  StartReplicationTaskCommand,
  StopReplicationTaskCommand,
} from '@aws-sdk/client-database-migration-service';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  type FilteredLogEvent,
  type FilterLogEventsCommandInput,
  PutLogEventsCommand,
  paginateFilterLogEvents,
} from '@aws-sdk/client-cloudwatch-logs';
import { DmsSandbox } from '../../src/sandbox/dms.js';
import { LogsSandbox, LOGS_TARGET_PREFIX } from '../../src/sandbox/logs.js';
import { CdcApplyLoop, DmsApplyLoop, tableGenerator } from '../../src/sandbox/apply-loop.js';
import { CORE_USERMAILING_COLUMNS, type DmsLogsServer, dmsTaskProbes, serveDmsAndLogs } from '../support/dms-logs-server.js';
import { poller } from '../support/poll.js';
import { type TestDatabase, createTestDatabase } from '../support/sandbox.js';

const logs = new LogsSandbox({ pageSize: 4, emptyPageEvery: 3 });
const dms = new DmsSandbox({ logs, delays: { createMs: 20, startMs: 40, stopMs: 40, fullLoadMs: 40 } });
let server: DmsLogsServer;
let dmsClient: DatabaseMigrationServiceClient;
let logsClient: CloudWatchLogsClient;
let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  server = await serveDmsAndLogs(dms, logs);
  dmsClient = new DatabaseMigrationServiceClient(server.clientConfig);
  logsClient = new CloudWatchLogsClient(server.clientConfig);

  db = await createTestDatabase('sandbox_dms');
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  // pool.end() resolves before every socket is closed; DROP DATABASE … WITH (FORCE) may then terminate one (57P01)
  pool.on('error', () => {});
});

afterAll(async () => {
  dms.close();
  dmsClient?.destroy();
  logsClient?.destroy();
  await server?.close();
  await pool?.end();
  await db?.drop();
});

const until = poller({ timeoutMs: 10_000, pauseMs: 15 });
const { describeTask, waitStatus, tableStats } = dmsTaskProbes(() => dmsClient, until);

async function sdkError(p: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error;
    return { name: err.name, message: err.message };
  }
  throw new Error('expected the call to fail');
}

async function allEvents(input: FilterLogEventsCommandInput): Promise<{ events: FilteredLogEvent[]; pages: number; emptyPagesWithToken: number }> {
  const events: FilteredLogEvent[] = [];
  let pages = 0;
  let emptyPagesWithToken = 0;
  for await (const page of paginateFilterLogEvents({ client: logsClient }, input)) {
    pages++;
    if ((page.events ?? []).length === 0 && page.nextToken) emptyPagesWithToken++;
    events.push(...(page.events ?? []));
  }
  return { events, pages, emptyPagesWithToken };
}

async function createUsermailing(schema: string, table = 'core_usermailing'): Promise<void> {
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  // no PRIMARY KEY: Redshift does not enforce one, and neither does the sandbox target
  await pool.query(`CREATE TABLE ${schema}.${table} (id bigint NOT NULL, mailing_id integer NOT NULL, user_id integer NOT NULL, subject_id integer, created_at timestamp NOT NULL)`);
}

async function dump(qualifiedTable: string): Promise<string> {
  const r = await pool.query<{ d: string | null }>(`SELECT string_agg(t::text, '|' ORDER BY id) AS d FROM ${qualifiedTable} t`);
  return r.rows[0]?.d ?? '';
}

describe('DMS sandbox over the real SDK', () => {
  it('walks running → stopping → stopped → starting → running and refuses starts/reloads in the wrong state', async () => {
    const seeded = dms.seedTask({
      identifier: 'flydata-core-usermailing',
      replicationInstance: 'core-usermailing-replication',
      tables: [{ schema: 'ak_sumofus', table: 'core_usermailing', fullLoadRows: 1000 }],
    });
    expect(seeded.logGroup).toBe('dms-tasks-core-usermailing-replication');
    expect(seeded.logStream).toBe(`dms-task-${seeded.resourceId}`);

    const t0 = await describeTask('flydata-core-usermailing');
    expect(t0.Status).toBe('running');
    expect(t0.ReplicationTaskArn).toBe(seeded.arn);
    expect(t0.ReplicationTaskCreationDate).toBeInstanceOf(Date);
    expect(JSON.parse(t0.TableMappings ?? '{}').rules[0]['object-locator']['table-name']).toBe('core_usermailing');
    const settings = JSON.parse(t0.ReplicationTaskSettings ?? '{}');
    expect(settings.FullLoadSettings.TargetTablePrepMode).toBe('TRUNCATE_BEFORE_LOAD');
    expect(settings.Logging.CloudWatchLogGroup).toBe('dms-tasks-core-usermailing-replication');
    // the ARN filter finds the same task
    const byArn = await dmsClient.send(new DescribeReplicationTasksCommand({ Filters: [{ Name: 'replication-task-arn', Values: [seeded.arn] }] }));
    expect(byArn.ReplicationTasks?.map((t) => t.ReplicationTaskIdentifier)).toEqual(['flydata-core-usermailing']);

    const started = await sdkError(dmsClient.send(new StartReplicationTaskCommand({ ReplicationTaskArn: seeded.arn, StartReplicationTaskType: 'resume-processing' })));
    expect(started.name).toBe('InvalidResourceStateFault');
    expect(started.message).toMatch(/running/);

    const stopping = await dmsClient.send(new StopReplicationTaskCommand({ ReplicationTaskArn: seeded.arn }));
    expect(stopping.ReplicationTask?.Status).toBe('stopping');
    const stopped = await waitStatus('flydata-core-usermailing', 'stopped');
    expect(stopped.StopReason).toBe('Stop Reason NORMAL');
    expect(stopped.ReplicationTaskStats?.StopDate).toBeInstanceOf(Date);

    expect((await sdkError(dmsClient.send(new StopReplicationTaskCommand({ ReplicationTaskArn: seeded.arn })))).name).toBe('InvalidResourceStateFault');
    const reloadStopped = await sdkError(
      dmsClient.send(new ReloadTablesCommand({ ReplicationTaskArn: seeded.arn, TablesToReload: [{ SchemaName: 'ak_sumofus', TableName: 'core_usermailing' }] })),
    );
    expect(reloadStopped.name).toBe('InvalidResourceStateFault');
    expect(reloadStopped.message).toMatch(/running/);

    const starting = await dmsClient.send(new StartReplicationTaskCommand({ ReplicationTaskArn: seeded.arn, StartReplicationTaskType: 'resume-processing' }));
    expect(starting.ReplicationTask?.Status).toBe('starting');
    const running = await waitStatus('flydata-core-usermailing', 'running');
    expect(running.StopReason).toBeUndefined();

    await dmsClient.send(new ReloadTablesCommand({ ReplicationTaskArn: seeded.arn, TablesToReload: [{ SchemaName: 'ak_sumofus', TableName: 'core_usermailing' }] }));
    const queued = await tableStats(seeded.arn, 'core_usermailing');
    // queued for reload — the console's "Table is being reloaded" (DMS user guide, Reloading tables during a task); on a
    // loaded machine the 40 ms load may already have run by the time we look
    expect(['Table is being reloaded', 'Table completed']).toContain(queued.TableState);
    const done = await until('reload to complete', () => tableStats(seeded.arn, 'core_usermailing'), (s) => s.TableState === 'Table completed');
    expect(done.FullLoadReloaded).toBe(true);
    expect(done.LastUpdateTime).toBeInstanceOf(Date);

    // the task's stream got the TASK_MANAGER lines of each transition
    const lines = logs.events(seeded.logGroup, seeded.logStream).map((e) => e.message);
    expect(lines.some((l) => /\[TASK_MANAGER {4}\]I: {2}Task '.*' running CDC only in resume mode/.test(l))).toBe(true);
    expect(lines.some((l) => /stopped: Stop Reason NORMAL/.test(l))).toBe(true);
  });

  it('creates a task (creating → ready), starts it with start-replication and lists its tables; unknown tasks are ResourceNotFoundFault', async () => {
    const created = await dmsClient.send(
      new CreateReplicationTaskCommand({
        ReplicationTaskIdentifier: 'created-task',
        SourceEndpointArn: 'arn:aws:dms:us-west-2:123456789012:endpoint:SRC',
        TargetEndpointArn: 'arn:aws:dms:us-west-2:123456789012:endpoint:TGT',
        ReplicationInstanceArn: 'arn:aws:dms:us-west-2:123456789012:rep:my-instance',
        MigrationType: 'full-load-and-cdc',
        TableMappings: JSON.stringify({
          rules: [{ 'rule-type': 'selection', 'rule-id': '1', 'rule-name': '1', 'object-locator': { 'schema-name': 'ak_sumofus', 'table-name': 'core_open' }, 'rule-action': 'include' }],
        }),
      }),
    );
    expect(created.ReplicationTask?.Status).toBe('creating');
    const arn = created.ReplicationTask?.ReplicationTaskArn ?? '';
    expect(arn).toMatch(/^arn:aws:dms:us-west-2:123456789012:task:[A-Z2-7]{26}$/);
    await waitStatus('created-task', 'ready');

    const resumeFirst = await sdkError(dmsClient.send(new StartReplicationTaskCommand({ ReplicationTaskArn: arn, StartReplicationTaskType: 'resume-processing' })));
    expect(resumeFirst.name).toBe('InvalidResourceStateFault');
    expect(resumeFirst.message).toMatch(/start-replication/);

    await dmsClient.send(new StartReplicationTaskCommand({ ReplicationTaskArn: arn, StartReplicationTaskType: 'start-replication' }));
    const running = await waitStatus('created-task', 'running');
    expect(running.ReplicationTaskStats?.FreshStartDate).toBeInstanceOf(Date);
    const loaded = await until('full load', () => tableStats(arn, 'core_open'), (s) => s.TableState === 'Table completed');
    expect(loaded.SchemaName).toBe('ak_sumofus');

    const missing = await sdkError(dmsClient.send(new DescribeReplicationTasksCommand({ Filters: [{ Name: 'replication-task-id', Values: ['no-such-task'] }] })));
    expect(missing.name).toBe('ResourceNotFoundFault');
    const dup = await sdkError(
      dmsClient.send(
        new CreateReplicationTaskCommand({
          ReplicationTaskIdentifier: 'created-task',
          SourceEndpointArn: 'a',
          TargetEndpointArn: 'b',
          ReplicationInstanceArn: 'c',
          MigrationType: 'cdc',
          TableMappings: '{"rules":[{"rule-type":"selection","object-locator":{"schema-name":"s","table-name":"t"},"rule-action":"include"}]}',
        }),
      ),
    );
    expect(dup.name).toBe('ResourceAlreadyExistsFault');
  });

  it('a resume that is set to fail ends in failed with LastFailureMessage, and can be resumed again', async () => {
    const t = dms.seedTask({ identifier: 'fail-resume-task', tables: [{ schema: 'ak_sumofus', table: 'core_click' }] });
    await dmsClient.send(new StopReplicationTaskCommand({ ReplicationTaskArn: t.arn }));
    await waitStatus('fail-resume-task', 'stopped');
    dms.failNextResume(t.arn, 'Last Error binlog position no longer exists (sandbox). Stop Reason FATAL_ERROR Error Level FATAL');
    await dmsClient.send(new StartReplicationTaskCommand({ ReplicationTaskArn: t.arn, StartReplicationTaskType: 'resume-processing' }));
    const failed = await waitStatus('fail-resume-task', 'failed');
    expect(failed.LastFailureMessage).toMatch(/binlog position no longer exists/);
    expect(failed.StopReason).toBe('Stop Reason FATAL_ERROR');
    await dmsClient.send(new StartReplicationTaskCommand({ ReplicationTaskArn: t.arn, StartReplicationTaskType: 'resume-processing' }));
    const running = await waitStatus('fail-resume-task', 'running');
    expect(running.LastFailureMessage).toBeUndefined();
  });

  it('retries through throttling (the SDK sees ThrottlingException and retries)', async () => {
    dms.throttleNext(1);
    const r = await dmsClient.send(new DescribeReplicationTasksCommand({ Filters: [{ Name: 'replication-task-id', Values: ['flydata-core-usermailing'] }] }));
    expect(r.ReplicationTasks?.[0]?.ReplicationTaskIdentifier).toBe('flydata-core-usermailing');
    expect(r.$metadata.attempts).toBe(2);
  });
});

describe('CloudWatch Logs sandbox over the real SDK', () => {
  const group = 'dms-tasks-paging-test';
  const stream = 'dms-task-PAGING';

  it('pages FilterLogEvents with empty pages that carry a nextToken; the paginator follows them', async () => {
    await logsClient.send(new CreateLogGroupCommand({ logGroupName: group }));
    await logsClient.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
    await logsClient.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 'other-stream' }));
    const t0 = Date.now() - 60_000;
    const events = Array.from({ length: 40 }, (_, i) => {
      const sev = i % 10 === 3 ? 'E' : i % 10 === 7 ? 'W' : 'I';
      const comp = sev === 'E' ? 'TARGET_APPLY' : 'SOURCE_CAPTURE';
      return { timestamp: t0 + i * 100, message: `2030-01-01T00:00:${String(i).padStart(2, '0')} [${comp.padEnd(16)}]${sev}:  event ${i}` };
    });
    const put = await logsClient.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents: events }));
    expect(put.rejectedLogEventsInfo).toBeUndefined();
    await logsClient.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: 'other-stream', logEvents: [{ timestamp: t0 + 5, message: '[TARGET_APPLY    ]E:  from the other stream' }] }));

    // one call is not enough: the first page is empty and carries a nextToken
    const first = await logsClient.send(new FilterLogEventsCommand({ logGroupName: group, logStreamNames: [stream], filterPattern: '"]E:"' }));
    expect(first.events).toEqual([]);
    expect(first.nextToken).toBeTruthy();

    const errs = await allEvents({ logGroupName: group, logStreamNames: [stream], filterPattern: '"]E:"', startTime: t0, endTime: t0 + 60_000 });
    expect(errs.events.map((e) => e.message?.match(/event (\d+)/)?.[1])).toEqual(['3', '13', '23', '33']);
    expect(errs.emptyPagesWithToken).toBeGreaterThan(0);
    expect(errs.events.every((e) => e.logStreamName === stream)).toBe(true);

    // no filter: every event once, in time order, across many pages
    const all = await allEvents({ logGroupName: group, logStreamNames: [stream] });
    expect(all.events).toHaveLength(40);
    expect(all.pages).toBeGreaterThan(10);
    expect(new Set(all.events.map((e) => e.eventId)).size).toBe(40);

    // whole group: both streams
    const groupWide = await allEvents({ logGroupName: group, filterPattern: '"]E:"' });
    expect(groupWide.events).toHaveLength(5);
    // interleaved by time: the other stream's line (t0+5) comes before event 3 (t0+300)
    expect(groupWide.events.map((e) => e.logStreamName)).toEqual(['other-stream', stream, stream, stream, stream]);
  });

  it('supports ?OR terms, plain AND terms and exclusions; refuses unsupported patterns and foreign tokens', async () => {
    const or = await allEvents({ logGroupName: group, logStreamNames: [stream], filterPattern: '?"]E:" ?"]W:"' });
    expect(or.events).toHaveLength(8);
    const and = await allEvents({ logGroupName: group, logStreamNames: [stream], filterPattern: 'SOURCE_CAPTURE "]W:"' });
    expect(and.events).toHaveLength(4);
    const not = await allEvents({ logGroupName: group, logStreamNames: [stream], filterPattern: 'event -"]I:"' });
    expect(not.events).toHaveLength(8);
    const unsupported = await sdkError(logsClient.send(new FilterLogEventsCommand({ logGroupName: group, filterPattern: '{ $.level = "E" }' })));
    expect(unsupported.name).toBe('InvalidParameterException');
    const badToken = await sdkError(logsClient.send(new FilterLogEventsCommand({ logGroupName: group, nextToken: 'bm9wZQ' })));
    expect(badToken.name).toBe('InvalidParameterException');
  });

  it('late ingestion (fault knob): an event is returned only once stored, under its own earlier timestamp', async () => {
    let clock = 1_700_000_000_000;
    let delay = 5_000;
    const late = new LogsSandbox({ now: () => clock, ingestionDelayMs: () => delay, emptyPageEvery: 0 });
    late.append('g', 's', ['[TARGET_APPLY    ]E:  stored late']);
    const search = async () => {
      const r = await late.handle(`${LOGS_TARGET_PREFIX}.FilterLogEvents`, { logGroupName: 'g', startTime: clock - 60_000, endTime: clock + 60_000 });
      expect(r.status).toBe(200);
      return (r.body as { events: { timestamp: number; ingestionTime: number; message: string }[] }).events;
    };
    const stamped = clock;
    expect(await search()).toEqual([]);
    clock += 4_999;
    expect(await search()).toEqual([]);
    clock += 1;
    expect(await search()).toEqual([expect.objectContaining({ timestamp: stamped, ingestionTime: stamped + 5_000, message: '[TARGET_APPLY    ]E:  stored late' })]);
    delay = 0;
    late.append('g', 's', ['[TARGET_APPLY    ]W:  at once']);
    expect((await search()).map((e) => e.message)).toEqual(['[TARGET_APPLY    ]E:  stored late', '[TARGET_APPLY    ]W:  at once']);
  });

  it('filters by an exact time window (inclusive) and describes streams', async () => {
    const g = 'window-group';
    await logsClient.send(new CreateLogGroupCommand({ logGroupName: g }));
    await logsClient.send(new CreateLogStreamCommand({ logGroupName: g, logStreamName: 's' }));
    const t0 = Date.now() - 10_000;
    await logsClient.send(
      new PutLogEventsCommand({ logGroupName: g, logStreamName: 's', logEvents: Array.from({ length: 10 }, (_, i) => ({ timestamp: t0 + i * 1000, message: `m${i}` })) }),
    );
    const w = await allEvents({ logGroupName: g, startTime: t0 + 2000, endTime: t0 + 5000 });
    expect(w.events.map((e) => e.message)).toEqual(['m2', 'm3', 'm4', 'm5']);
    const streams = await logsClient.send(new DescribeLogStreamsCommand({ logGroupName: g }));
    expect(streams.logStreams?.[0]?.logStreamName).toBe('s');
    expect(streams.logStreams?.[0]?.lastEventTimestamp).toBe(t0 + 9000);
    const dupGroup = await sdkError(logsClient.send(new CreateLogGroupCommand({ logGroupName: g })));
    expect(dupGroup.name).toBe('ResourceAlreadyExistsException');
    const noGroup = await sdkError(logsClient.send(new FilterLogEventsCommand({ logGroupName: 'nope' })));
    expect(noGroup.name).toBe('ResourceNotFoundException');
  });
});

describe('apply loops on PostgreSQL', () => {
  it('DMS loop: counts move while running, nothing lands while stopped, pending changes apply in order after resume; a swap while stopped loses nothing', async () => {
    await createUsermailing('ak_sumofus');
    const task = dms.seedTask({
      identifier: 'loop-usermailing',
      replicationInstance: 'core-usermailing-replication',
      tables: [{ schema: 'ak_sumofus', table: 'core_usermailing' }],
    });
    const loop = new DmsApplyLoop({
      db: pool,
      dms,
      task: task.arn,
      schema: 'ak_sumofus',
      table: 'core_usermailing',
      generator: tableGenerator(CORE_USERMAILING_COLUMNS),
      seed: 42,
      rate: 300,
      tickMs: 10,
    });
    try {
      await loop.seed(50);
      loop.start();
      await loop.until(() => loop.stats().applied >= 20);
      const s1 = await tableStats(task.arn, 'core_usermailing');
      const moved = await until(
        'table statistics to move',
        () => tableStats(task.arn, 'core_usermailing'),
        (s) => (s.Inserts ?? 0) + (s.Updates ?? 0) + (s.Deletes ?? 0) > (s1.Inserts ?? 0) + (s1.Updates ?? 0) + (s1.Deletes ?? 0),
      );
      expect(moved.TableState).toBe('Table completed');
      expect(moved.FullLoadRows).toBe(50);

      await dmsClient.send(new StopReplicationTaskCommand({ ReplicationTaskArn: task.arn }));
      await waitStatus('loop-usermailing', 'stopped');
      const appliedAtStop = loop.stats().applied;
      const before = await dump('ak_sumofus.core_usermailing');
      const pendingAtStop = loop.pendingCount();
      await loop.until(() => loop.pendingCount() >= pendingAtStop + 40, 10_000, 'changes to pile up while stopped');
      expect(loop.stats().applied).toBe(appliedAtStop);
      expect(await dump('ak_sumofus.core_usermailing')).toBe(before);

      // the dms runbook's swap while the task is stopped: copy, then both RENAMEs in one transaction
      await pool.query('CREATE TABLE ak_sumofus.new_core_usermailing (LIKE ak_sumofus.core_usermailing)');
      await pool.query('INSERT INTO ak_sumofus.new_core_usermailing SELECT * FROM ak_sumofus.core_usermailing');
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query('ALTER TABLE ak_sumofus.core_usermailing RENAME TO old_core_usermailing');
        await c.query('ALTER TABLE ak_sumofus.new_core_usermailing RENAME TO core_usermailing');
        await c.query('COMMIT');
      } finally {
        c.release();
      }
      expect(loop.stats().applied).toBe(appliedAtStop);

      await dmsClient.send(new StartReplicationTaskCommand({ ReplicationTaskArn: task.arn, StartReplicationTaskType: 'resume-processing' }));
      await waitStatus('loop-usermailing', 'running');
      await loop.until(() => loop.stats().applied > appliedAtStop);
      loop.stopGenerating();
      await loop.idle();

      const hist = loop.history();
      expect(hist.every((h) => h.fate === 'applied')).toBe(true);
      // applied in generation order, the ones held back by the stop included
      expect(hist.map((h) => h.order)).toEqual(hist.map((_, i) => i + 1));
      expect(hist.every((h) => h.via === 'apply')).toBe(true);
      const v = await loop.verify();
      expect(v.summary).toMatch(/matches the source/);
      expect(v.ok).toBe(true);
      expect(v.targetRows).toBe(loop.stats().liveRows);
      expect(loop.stats().failed).toBe(0);
      // and the old table got nothing after the swap: it still holds exactly the rows at stop time
      expect(await dump('ak_sumofus.old_core_usermailing')).toBe(before);
    } finally {
      await loop.stop();
    }
  });

  it('DMS loop: a missing table logs ]E: lines, loses the changes (Table error) until ReloadTables; a failed resume keeps changes pending', async () => {
    await createUsermailing('ak_other');
    const task = dms.seedTask({
      identifier: 'loop-missing',
      replicationInstance: 'other-replication',
      tables: [{ schema: 'ak_other', table: 'core_usermailing' }],
    });
    const loop = new DmsApplyLoop({
      db: pool,
      dms,
      task: 'loop-missing',
      schema: 'ak_other',
      table: 'core_usermailing',
      generator: tableGenerator(CORE_USERMAILING_COLUMNS),
      seed: 7,
      rate: 300,
      tickMs: 10,
    });
    try {
      await loop.seed(20);
      loop.start();
      await loop.until(() => loop.stats().applied >= 10);
      const resumeAt = Date.now();
      await pool.query('ALTER TABLE ak_other.core_usermailing RENAME TO gone_core_usermailing');
      await loop.until(() => loop.stats().failed >= 5);
      const st = await tableStats(task.arn, 'core_usermailing');
      expect(st.TableState).toBe('Table error');

      const errs = await allEvents({ logGroupName: task.logGroup, logStreamNames: [task.logStream], filterPattern: '"]E:"', startTime: resumeAt - 1000 });
      expect(errs.events.some((e) => /\[TARGET_APPLY {4}\]E: {2}Table 'ak_other'\.'core_usermailing' does not exist/.test(e.message ?? ''))).toBe(true);
      expect(errs.events.some((e) => /SqlState: 42P01/.test(e.message ?? ''))).toBe(true);
      const lost = loop.history().filter((h) => h.fate === 'failed');
      expect(lost[0]?.error).toMatch(/does not exist/);

      // the name comes back, but a suspended table stays behind until it is reloaded
      await pool.query('ALTER TABLE ak_other.gone_core_usermailing RENAME TO core_usermailing');
      const failedBefore = loop.stats().failed;
      await loop.until(() => loop.stats().failed > failedBefore);
      expect((await loop.verify()).ok).toBe(false);
      await dmsClient.send(new ReloadTablesCommand({ ReplicationTaskArn: task.arn, TablesToReload: [{ SchemaName: 'ak_other', TableName: 'core_usermailing' }] }));
      await until('the reload', () => tableStats(task.arn, 'core_usermailing'), (s) => s.TableState === 'Table completed' && s.FullLoadReloaded === true);
      await loop.until(() => loop.stats().loads >= 1);

      // a resume set to fail: the task fails, nothing is applied, changes stay pending; the next resume applies them
      await dmsClient.send(new StopReplicationTaskCommand({ ReplicationTaskArn: task.arn }));
      await waitStatus('loop-missing', 'stopped');
      const applied = loop.stats().applied + loop.stats().appliedByLoad;
      loop.failResume();
      await dmsClient.send(new StartReplicationTaskCommand({ ReplicationTaskArn: task.arn, StartReplicationTaskType: 'resume-processing' }));
      const failed = await waitStatus('loop-missing', 'failed');
      expect(failed.LastFailureMessage).toMatch(/failed to resume/);
      await loop.until(() => loop.pendingCount() >= 10);
      expect(loop.stats().applied + loop.stats().appliedByLoad).toBe(applied);

      const injectedFrom = Date.now();
      loop.injectLogErrors(2);
      await dmsClient.send(new StartReplicationTaskCommand({ ReplicationTaskArn: task.arn, StartReplicationTaskType: 'resume-processing' }));
      await waitStatus('loop-missing', 'running');
      loop.stopGenerating();
      await loop.idle();
      const injected = await allEvents({ logGroupName: task.logGroup, logStreamNames: [task.logStream], filterPattern: '"]E:" injected', startTime: injectedFrom - 1000 });
      expect(injected.events).toHaveLength(2);

      const v = await loop.verify();
      expect(v.summary).toMatch(/matches the source/);
      expect(v.ok).toBe(true);
    } finally {
      await loop.stop();
    }
  });

  it('DMS loop with TableErrorPolicy STOP_TASK: a missing table fails the task, the change stays pending and applies after resume', async () => {
    await createUsermailing('ak_stop');
    const task = dms.seedTask({
      identifier: 'loop-stop-task',
      replicationInstance: 'stop-replication',
      tables: [{ schema: 'ak_stop', table: 'core_usermailing' }],
      settings: { ErrorBehavior: { TableErrorPolicy: 'STOP_TASK' } },
    });
    const loop = new DmsApplyLoop({ db: pool, dms, task: task.arn, schema: 'ak_stop', table: 'core_usermailing', generator: tableGenerator(CORE_USERMAILING_COLUMNS), seed: 11, rate: 300, tickMs: 10 });
    try {
      loop.start();
      await loop.until(() => loop.stats().applied >= 10);
      await pool.query('ALTER TABLE ak_stop.core_usermailing RENAME TO away');
      const failed = await waitStatus('loop-stop-task', 'failed');
      expect(failed.LastFailureMessage).toMatch(/Table 'ak_stop'\.'core_usermailing' does not exist/);
      expect(loop.stats().failed).toBe(0);
      await pool.query('ALTER TABLE ak_stop.away RENAME TO core_usermailing');
      await dmsClient.send(new StartReplicationTaskCommand({ ReplicationTaskArn: task.arn, StartReplicationTaskType: 'resume-processing' }));
      await waitStatus('loop-stop-task', 'running');
      loop.stopGenerating();
      await loop.idle();
      expect(loop.history().every((h) => h.fate === 'applied')).toBe(true);
      expect((await loop.verify()).ok).toBe(true);
    } finally {
      await loop.stop();
    }
  });

  it('CDC loop buffers while the table is renamed away and applies the buffer in order after the rename back', async () => {
    await pool.query('CREATE SCHEMA IF NOT EXISTS ak_cdc');
    await pool.query(
      'CREATE TABLE ak_cdc.core_list (id integer NOT NULL, created_at timestamp NOT NULL, updated_at timestamp NOT NULL, hidden smallint NOT NULL, name varchar(765) NOT NULL, notes varchar(765), is_default smallint NOT NULL)',
    );
    const loop = new CdcApplyLoop({
      db: pool,
      schema: 'ak_cdc',
      table: 'core_list',
      generator: tableGenerator([
        { name: 'id', type: 'integer', notNull: true },
        { name: 'created_at', type: 'datetime', notNull: true },
        { name: 'updated_at', type: 'datetime', notNull: true },
        { name: 'hidden', type: 'smallint', notNull: true },
        { name: 'name', type: 'varchar(765)', notNull: true },
        { name: 'notes', type: 'varchar(765)' },
        { name: 'is_default', type: 'smallint', notNull: true },
      ]),
      seed: 3,
      rate: 300,
      tickMs: 10,
    });
    try {
      await loop.seed(30);
      loop.start();
      await loop.until(() => loop.stats().applied >= 15);
      await pool.query('ALTER TABLE ak_cdc.core_list RENAME TO old_core_list');
      await loop.until(() => loop.stats().missingSince !== undefined);
      const appliedWhileMissing = loop.stats().applied;
      const oldContent = await dump('ak_cdc.old_core_list');
      await loop.until(() => loop.pendingCount() >= 30, 10_000, 'a buffer of changes');
      expect(loop.stats().applied).toBe(appliedWhileMissing);
      expect(loop.stats().failed).toBe(0);
      expect(await dump('ak_cdc.old_core_list')).toBe(oldContent);

      await pool.query('ALTER TABLE ak_cdc.old_core_list RENAME TO core_list');
      loop.stopGenerating();
      await loop.idle();
      const st = loop.stats();
      expect(st.failed).toBe(0);
      expect(st.maxPending).toBeGreaterThanOrEqual(30);
      expect(st.missingEpisodes).toBe(1);
      expect(st.missingSince).toBeUndefined();
      const hist = loop.history();
      expect(hist.every((h) => h.fate === 'applied')).toBe(true);
      expect(hist.map((h) => h.order)).toEqual(hist.map((_, i) => i + 1));
      const v = await loop.verify();
      expect(v.summary).toMatch(/matches the source/);
      expect(v.ok).toBe(true);
      expect(v.targetRows).toBe(st.liveRows);
      const expected = loop.expectedRows();
      expect([...expected.values()].filter((r) => r === 'deleted').length).toBe(st.byKind.delete);
    } finally {
      await loop.stop();
    }
  });
});
