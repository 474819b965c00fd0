/**
 * `/redshift setup` end to end: signed Slack HTTP → Bolt → BullMQ (real Redis) → the in-process worker → AWS SDK v3 →
 * the sandbox on PostgreSQL (Data API, DMS, CloudWatch Logs), the replication source on MariaDB (the sandbox's loops
 * write it; the bot's compare reads it read-only through mysql2), the CDC sync confirmed by an approver's signed click.
 *
 * Proves: `setup --dry-run` lists every statement and AWS call and nothing runs; setup on an empty database builds all
 * 26 tables, creates and starts the DMS task, reaches `Table completed`; a second run changes nothing (no DDL statement,
 * no create/start AWS call: the Data API's ListStatements and a recorder on the sandbox's DMS service; catalogs
 * compared before/after) and its log check reads the task's past window at once (the default 10-min window, a load
 * DMS recorded 15 min ago); a half-built instance (some tables, no task) is finished — a cdc table in the service's
 * shape with an interleaved sort key gets modify's deep copy to the definition (approved drop of old_<t>), one fixable
 * in place gets ALTERs — and a run after that changes nothing.
 */
import { randomBytes } from 'node:crypto';
import { CreateEndpointCommand, DatabaseMigrationServiceClient } from '@aws-sdk/client-database-migration-service';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/jobs/types.js';
import type { Replication } from '../../src/sandbox/replication.js';
import { MariaDbSourceDb } from '../../src/sandbox/source-db.js';
import { renderCreateTable } from '../../src/schema/render.js';
import { createMysqlSource, type MysqlSource } from '../../src/source/mysql.js';
import { SCHEMA, USERS, startBotHarness, type BotHarness, type BotHarnessOptions } from '../support/bot-harness.js';
import { approveAs, catalogSnapshot, liveTable, parkedOn, rejectAs, succeeded, tableExists, threadOf } from '../support/modify-flow.js';
import { readTable } from '../../src/schema/catalog.js';
import { diffTable, formatDrift } from '../../src/schema/diff.js';

const MYSQL = 'mysql://root@127.0.0.1:3306';
const DDL = /^\s*(CREATE|ALTER|DROP|TRUNCATE|INSERT|UPDATE|DELETE|GRANT|REVOKE|VACUUM)\b/i;

interface World {
  h: BotHarness;
  srcDb: MariaDbSourceDb;
  source: MysqlSource;
  /** every DMS operation the bot called (X-Amz-Target suffix), in order */
  awsCalls: string[];
  /** the CDC service's loops (started at the initial sync) */
  rep?: Replication;
  /** the DMS task's apply loop, attached when the bot creates the task */
  dmsRep?: Replication;
  /** the source endpoint's MySQL user (SELECT only) */
  mysqlUser: string;
}

async function mysqlAdmin(sql: string): Promise<void> {
  const c = await createConnection(MYSQL);
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const INSTANCE = 'core-usermailing-replication';
const TARGET_ID = 'setup-redshift-target';

async function startWorld(name: string): Promise<World> {
  const db = `rso_setup_${name}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const srcDb = await MariaDbSourceDb.open({ url: `${MYSQL}/${db}`, createDatabase: true });
  const source = createMysqlSource({ url: `${MYSQL}/${db}` });
  const h = await startBotHarness({
    name: `setup_${name}`,
    applySchema: false,
    rowsPerTable: 0,
    inProcessWorker: true,
    aws: true,
    source,
    compare: { lagSeconds: 0 },
    settings: { logCheckMs: 1_500, logLagMs: 300, fullLoadPollMs: 100, freshnessMs: 4_000, marginSeconds: 2 } as BotHarnessOptions['settings'],
  });
  const w: World = { h, srcDb, source, awsCalls: [], mysqlUser: `rso_su_${name}_${process.pid}` };
  // what the account already has: the replication instance and the read-only MySQL source endpoint (on MariaDB, a user
  // with SELECT only)
  const password = `pw-${randomBytes(6).toString('hex')}`;
  await mysqlAdmin(`CREATE USER '${w.mysqlUser}'@'%' IDENTIFIED BY '${password}'`);
  await mysqlAdmin(`GRANT SELECT ON \`${db}\`.* TO '${w.mysqlUser}'@'%'`);
  h.sandbox.dms.seedInstance(INSTANCE);
  const sdk = new DatabaseMigrationServiceClient({ region: 'us-west-2', endpoint: h.sandbox.endpoint, credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } });
  const src = await sdk.send(
    new CreateEndpointCommand({ EndpointIdentifier: `setup-${name}-mysql-source`, EndpointType: 'source', EngineName: 'mysql', ServerName: '127.0.0.1', Port: 3306, DatabaseName: db, Username: w.mysqlUser, Password: password }),
  );
  sdk.destroy();
  // the worker's DMS settings (DMS_SOURCE_ENDPOINT_ARN, DMS_TARGET_*). DMS_SOURCE_SCHEMA names the runbook's schema: the
  // sandbox's DMS attaches its apply loop by the target schema, so a schema-rename rule would leave the loop unattached
  h.rt.deps.dmsSetup = {
    sourceEndpointArn: src.Endpoint!.EndpointArn!,
    sourceSchema: SCHEMA,
    targetEndpointId: TARGET_ID,
    targetConnection: {
      serverName: 'sandbox-cluster.sandbox.us-west-2.redshift.amazonaws.com',
      port: 5439,
      databaseName: 'dev',
      secretArn: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:dms-redshift',
      secretAccessRoleArn: 'arn:aws:iam::123456789012:role/dms-secrets-access',
    },
  };
  // a recorder on the sandbox's DMS service: every call the bot makes; when the bot creates the task, the sandbox's
  // replication attaches its apply loop to it and writes the source before the bot can start it
  const dms = h.sandbox.dms;
  const handle = dms.handle.bind(dms);
  dms.handle = async (target, body) => {
    const op = target.split('.').pop() ?? target;
    w.awsCalls.push(op);
    const r = await handle(target, body);
    if (op === 'CreateReplicationTask' && r.status === 200 && !w.dmsRep) {
      w.dmsRep = await h.sandbox.startReplication(h.registry, { dms: { rate: 20 }, source: w.srcDb, tickMs: 50 });
      const loop = w.dmsRep.dmsLoops.get(`${SCHEMA}.core_usermailing`)!;
      await h.waitUntil(() => loop.stats().generated >= 20, 'the DMS loop to write the source', 20_000);
    }
    return r;
  };
  return w;
}

async function stopWorld(w: World | undefined): Promise<void> {
  await w?.rep?.stop();
  await w?.dmsRep?.stop();
  await w?.h.close();
  await w?.source.close();
  await w?.srcDb.close({ dropDatabase: true });
  if (w) await mysqlAdmin(`DROP USER IF EXISTS '${w.mysqlUser}'@'%'`).catch(() => undefined);
}

const cdcTables = (h: BotHarness): string[] => [...h.registry.tables.values()].filter((t) => t.schema === SCHEMA && t.replication.provider === 'cdc').map((t) => t.name).sort();

/** `/redshift setup` as the lead (operator); returns the job id from the ephemeral reply. */
async function queueSetup(h: BotHarness): Promise<string> {
  const r = await h.slash('setup', { userId: USERS.lead });
  expect(r.status).toBe(200);
  expect(r.ms).toBeLessThan(3_000);
  const said = String((await h.waitForResponse(r.responseId, undefined, 30_000)).body.text);
  const m = /^Queued job (\d+): /.exec(said);
  expect(m, said).not.toBeNull();
  return m![1]!;
}

/**
 * The CDC service's initial sync, as its dashboard would run it: the loops write the source for a while (and, the
 * tables existing, apply their changes), then — writes paused, so no apply is in flight — every table is reloaded
 * (emptied and loaded from the source). The loops' own verify() proves each table equals the source.
 */
async function initialSync(w: World): Promise<void> {
  const rep = w.rep!;
  for (const loop of rep.cdcLoops.values()) loop.start();
  await w.h.waitUntil(async () => {
    for (const loop of rep.cdcLoops.values()) if (loop.stats().generated < 10) return false;
    return true;
  }, 'every cdc loop to write the source', 30_000);
  for (const loop of rep.cdcLoops.values()) loop.stopGenerating();
  for (const loop of rep.cdcLoops.values()) await loop.idle(30_000);
  for (const loop of rep.cdcLoops.values()) await loop.reload();
  for (const [name, loop] of rep.cdcLoops) {
    const v = await loop.verify();
    expect(v.ok, `${name}: ${JSON.stringify(v).slice(0, 300)}`).toBe(true);
  }
}

/** Park on the sync gate, sync, then an approver's signed click (the requester's own click is refused). */
async function confirmSync(w: World, jobId: string, o: { whileParked?: () => Promise<void> } = {}): Promise<void> {
  const { h } = w;
  const job = await h
    .waitJob(jobId, (j) => j.state === 'awaiting-approval' && j.pendingApproval?.step === 'cdc-initial-sync', 'to park on the CDC sync gate', 60_000)
    .catch((e: unknown) => {
      if (process.env.SETUP_DEBUG) console.log(w.awsCalls.join(' '), JSON.stringify(h.sandbox.dms.listTasks().map((t) => [t.identifier, t.arn])));
      throw e;
    });
  await h.waitUntil(() => h.approvalButtons(jobId)?.value.step === 'cdc-initial-sync', 'the gate buttons', 10_000);
  if (o.whileParked) await o.whileParked();
  await initialSync(w);
  const buttons = h.approvalButtons(jobId)!;
  const threadTs = job.origin.threadTs;
  const click = await h.click('rso_approve', buttons.raw, { userId: USERS.approver, messageTs: buttons.message.ts, ...(threadTs ? { threadTs } : {}) });
  expect(click.status).toBe(200);
  expect(String((await h.waitForResponse(click.responseId, undefined, 10_000)).body.text)).toBe(`job ${jobId}: step "cdc-initial-sync" approved by <@${USERS.approver}>`);
}

const stepOf = (job: JobRecord, name: string) => job.steps.find((s) => s.name === name);

describe('/redshift setup on an empty database', () => {
  let w: World;

  beforeAll(async () => {
    w = await startWorld('empty');
    w.rep = await w.h.sandbox.startReplication(w.h.registry, { dms: false, seedTasks: false, cdc: cdcTables(w.h), source: w.srcDb, start: false, rate: 20, tickMs: 50 });
  }, 120_000);
  afterAll(() => stopWorld(w));

  it('--dry-run lists every statement and AWS call, and runs nothing', async () => {
    const { h } = w;
    const before = (await h.statements()).length;
    const r = await h.slash('setup --dry-run', { userId: USERS.lead });
    expect(r.status).toBe(200);
    // the plan is longer than one Slack message (40,000 characters): it comes in parts, each under the limit, none cut
    await h.waitForResponse(r.responseId, undefined, 30_000);
    const done = (): boolean => {
      const all = h.responses(r.responseId);
      return all.length > 0 && !String(all[all.length - 1]!.body.text).includes('continued in the next message');
    };
    await h.waitUntil(done, 'every part of the dry-run reply', 30_000);
    const parts = h.responses(r.responseId);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) {
      expect(p.body.response_type).toBe('ephemeral');
      expect(String(p.body.text).length).toBeLessThan(40_000);
    }
    const text = parts.map((p) => String(p.body.text).replace(/^```|```$/g, '')).join('\n').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    if (process.env.SETUP_DEBUG) console.log(`dry-run reply: ${parts.map((p) => String(p.body.text).length).join(' + ')} characters`);
    expect(text).toContain(`CREATE SCHEMA IF NOT EXISTS "${SCHEMA}"`);
    for (const t of h.registry.tables.values()) {
      const first = renderCreateTable(t).split('\n')[0]!;
      expect(text, t.name).toContain(first);
    }
    for (const call of ['DescribeReplicationInstances', 'DescribeEndpoints', 'TestConnection', 'CreateEndpoint EndpointIdentifier=setup-redshift-target', 'CreateReplicationTask', '"TargetTablePrepMode": "TRUNCATE_BEFORE_LOAD"', '"LobMaxSize": 32', 'StartReplicationTask ReplicationTaskArn=<arn of flydata-core-usermailing> StartReplicationTaskType=start-replication', 'DescribeTableStatistics', 'logs filter-log-events --log-group-name dms-tasks-core-usermailing-replication'])
      expect(text, call).toContain(call);
    // nothing ran: no statement but planSetup's catalog read (which cdc tables need a deep copy), no AWS call, no job
    const ran = (await h.statements()).slice(before).map((s) => s.sql);
    expect(ran.length).toBeLessThanOrEqual(1);
    for (const sql of ran) for (const one of sql.split(/;\s*\n/)) expect(one).toMatch(/^\s*(SELECT|SET search_path)\b/i);
    expect(w.awsCalls).toEqual([]);
    expect(await h.rt.jobs.store.listRecent()).toEqual([]);
    for (const name of ['core_user', 'core_usermailing']) expect(await tableExists(h, name)).toBe(false);
  });

  it('builds all 26 tables, and the CDC keys after the confirmed sync', async () => {
    const { h } = w;
    const id = await queueSetup(h);
    await confirmSync(w, id, {
      // while setup runs it holds ak_sumofus.*: a change to any table of the schema is refused, naming the setup job
      whileParked: async () => {
        const r = await h.slash('modify core_tag add column note varchar(16)', { userId: USERS.lead });
        const said = String((await h.waitForResponse(r.responseId, undefined, 30_000)).body.text);
        expect(said).toBe(
          `Not queued: ak_sumofus.core_tag cannot be changed now: job ${id} (setup, awaiting-approval) holds ak_sumofus.*, which keeps every other job off ak_sumofus while it runs. Wait for job ${id} to finish (\`/redshift job ${id}\`), then ask again.`,
        );
      },
    });
    const job = await succeeded(h, id, 120_000);
    for (const t of h.registry.tables.values()) expect(await tableExists(h, t.name), t.name).toBe(true);
    expect(stepOf(job, 'tables-present')?.detail).toBe('26 of 26 tables exist');
    // DMS: the target endpoint and the task were created, the task started once, the load reached Table completed
    for (const op of ['CreateEndpoint', 'CreateReplicationTask', 'StartReplicationTask']) expect(w.awsCalls.filter((c) => c === op), op).toHaveLength(1);
    expect(stepOf(job, 'dms-target-endpoint-core_usermailing')?.detail).toMatch(/^target endpoint created; setup-redshift-target \(target, redshift/);
    expect(stepOf(job, 'dms-task-core_usermailing')?.detail).toMatch(/^task flydata-core-usermailing created \(arn:aws:dms:/);
    expect(stepOf(job, 'full-load-core_usermailing')?.detail).toMatch(/^Table completed: FullLoadRows [1-9][\d,]* in /);
    expect(stepOf(job, 'dms-replicating-core_usermailing')?.detail).toMatch(/^task flydata-core-usermailing running; ak_sumofus\.core_usermailing: Table completed/);
    expect(stepOf(job, 'log-check-core_usermailing')?.detail).toMatch(/^no \]E: lines/);
    expect(stepOf(job, 'duplicate-keys-core_usermailing')?.detail).toMatch(/^compared [1-9][\d,]* rows of ak_sumofus\.core_usermailing by primary key \(id\): no duplicate keys$/);
    expect(stepOf(job, 'match-core_user')?.detail).toMatch(/^ak_sumofus\.core_user matches schemas\//);
    const compares = job.steps.filter((s) => s.name.startsWith('compare-')).map((s) => `${s.name}: ${s.detail ?? ''}`);
    if (process.env.SETUP_DEBUG) console.log(compares.join('\n'), '\n', (await threadOf(h, id)).filter((t) => /differ|range/.test(t)).join('\n'));
    expect(stepOf(job, 'compare-core_user')?.detail).toMatch(/✓ equal/);
    // the thread: one message per phase of per-table steps (26 creates, 25 matches, 25 compares), each step a line of
    // it; a warning still has its own message
    await h.reporter.flush();
    const thread = await threadOf(h, id);
    const warned = job.steps.filter((s) => s.status === 'warn');
    if (process.env.SETUP_DEBUG) console.log(thread.map((t) => t.slice(0, 100)).join('\n'));
    console.log(`[setup] ${job.steps.length} steps, ${thread.length} thread messages (${warned.length} warning(s): ${warned.map((s) => s.name).join(', ')})`);
    expect(thread.length).toBeLessThanOrEqual(30 + warned.length);
    for (const s of warned) expect(thread.filter((t) => t.includes(s.title) && t.includes('finished with a warning')), s.name).toHaveLength(1);
    const creates = thread.filter((t) => /^Steps 3\/\d+–28\/\d+: 26 done — /.test(t));
    expect(creates, thread.map((t) => t.slice(0, 80)).join('\n')).toHaveLength(1);
    for (const t of h.registry.tables.values()) expect(creates[0], t.name).toContain(`Create ${SCHEMA}.${t.name}`);
  }, 240_000);

  it('a second run changes nothing: no DDL, no create/start AWS call, the same catalog', async () => {
    const { h } = w;
    const catalogBefore = await catalogSnapshot(h);
    const stmtsBefore = new Set((await h.statements()).map((s) => s.id));
    const callsBefore = w.awsCalls.length;
    // the worker's default log-check window (LOG_CHECK_MINUTES: 10 min, CloudWatch lag 2 min), and a task whose full
    // load DMS recorded as started 15 min ago: this run starts nothing, so its log check reads that past window at once
    const settings = h.rt.deps.settings;
    const { logCheckMs: _w, logLagMs: _l, ...rest } = settings ?? {};
    h.rt.deps.settings = rest;
    const started = h.sandbox.dms.backdate('flydata-core-usermailing', 15 * 60_000);
    const t0 = Date.now();
    const id = await queueSetup(h);
    const job = await succeeded(h, id, 120_000).finally(() => {
      h.rt.deps.settings = settings;
    });
    const logCheck = stepOf(job, 'log-check-core_usermailing')!;
    const loadStart = new Date(started.tables.find((t) => t.table === 'core_usermailing')!.fullLoadStartTime!).toISOString().slice(0, 19).replace('T', ' ');
    expect(logCheck.detail).toMatch(new RegExp(`^no \\]E: lines \\(\\d+ \\]W:\\) in 600 s after the full load's start \\(by this job, or the one DMS recorded: FullLoadStartTime\\), ${loadStart} – `));
    expect(logCheck.detail).toContain('already past: read at once (searched 1 time,');
    const logCheckMs = (logCheck.finishedAt ?? 0) - (logCheck.startedAt ?? 0);
    expect(logCheckMs).toBeLessThan(10_000);
    console.log(`[setup re-run] log check with the default 10-min window: ${logCheckMs} ms; whole re-run ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const newStatements = (await h.statements()).filter((s) => !stmtsBefore.has(s.id));
    expect(newStatements.length).toBeGreaterThan(0); // it looked
    expect(newStatements.filter((s) => DDL.test(s.sql)).map((s) => s.sql)).toEqual([]);
    expect(w.awsCalls.slice(callsBefore).filter((c) => /^(Create|Start|Stop|Reload|Modify|Delete)/.test(c))).toEqual([]);
    expect(await catalogSnapshot(h)).toBe(catalogBefore);
    // the gate was not asked again: the tables hold rows
    expect(job.approvals).toEqual([]);
    expect(stepOf(job, 'cdc-initial-sync')?.state).toBe('skipped');
  }, 240_000);
});

describe('/redshift setup on a half-built instance (some tables, no DMS task)', () => {
  let w: World;
  const first = ['core_user', 'core_mailing', 'core_tag', 'core_page', 'core_list'];

  beforeAll(async () => {
    w = await startWorld('half');
    const { h } = w;
    // what an interrupted attempt by hand left: the schema and five tables — three exactly as schemas/ defines them, two
    // in the CDC service's own shape (the same columns, no keys): core_list (compound sort key: ALTER fixes it in place)
    // and core_tag (interleaved sort key: only a deep copy can set it)
    await h.warehouse.query(`CREATE SCHEMA IF NOT EXISTS "${SCHEMA}"`);
    for (const name of first) {
      const def = h.registry.find(name)!;
      const serviceShape = name === 'core_list' || name === 'core_tag';
      const { distKey: _k, ...noKey } = def;
      const ddl = serviceShape ? renderCreateTable({ ...noKey, distStyle: 'EVEN', sortKey: { style: 'NONE', columns: [] } }, { constraints: false }) : renderCreateTable(def);
      await h.warehouse.query(ddl.trimEnd().replace(/;$/, ''));
    }
    w.rep = await h.sandbox.startReplication(h.registry, { dms: false, seedTasks: false, cdc: cdcTables(h), source: w.srcDb, start: false, rate: 20, tickMs: 50 });
  }, 120_000);
  afterAll(() => stopWorld(w));

  it('is refused while another job holds a table of the schema', async () => {
    const { h } = w;
    const r = await h.slash('schema apply core_order', { userId: USERS.lead });
    const other = /^Queued job (\d+): /.exec(String((await h.waitForResponse(r.responseId, undefined, 30_000)).body.text))![1]!;
    await parkedOn(h, other, 'approve-create');
    const s = await h.slash('setup', { userId: USERS.lead });
    expect(String((await h.waitForResponse(s.responseId, undefined, 30_000)).body.text)).toBe(
      `Not queued: ak_sumofus.core_order is locked by job ${other} (awaiting-approval), and this job needs every table of ak_sumofus to itself: wait for job ${other} to finish (see \`/redshift jobs\`), then ask again.`,
    );
    expect(w.awsCalls).toEqual([]);
    await rejectAs(h, other, 'approve-create');
    await h.waitJob(other, (j) => j.state === 'rejected', 'to be rejected');
  });

  it('creates only what is missing and finishes the instance', async () => {
    const { h } = w;
    const id = await queueSetup(h);
    await confirmSync(w, id);
    // core_tag's interleaved sort key needs a deep copy: modify's, to the definition (the steps recover uses), with its
    // own approval before old_core_tag is dropped
    await approveAs(h, id, 'conform-core_tag.approve-drop', {
      whileParked: async () => {
        expect(await tableExists(h, 'old_core_tag')).toBe(true);
      },
    });
    const job = await succeeded(h, id, 120_000);
    const creates = job.steps.filter((s) => s.name.startsWith('create-ak_sumofus.'));
    expect(creates).toHaveLength(26);
    expect(creates.filter((s) => s.state === 'skipped').map((s) => s.name.replace('create-ak_sumofus.', '')).sort()).toEqual([...first].sort());
    expect(creates.filter((s) => s.state === 'done')).toHaveLength(21);
    expect(stepOf(job, 'preflight')?.detail).toBe(`5 of 26 tables exist; to create: ${creates.filter((s) => s.state === 'done').map((s) => s.name.replace('create-ak_sumofus.', '')).join(', ')}`);
    // the statements setup ran: CREATE TABLE for the 21 missing tables only
    // (and core_tag's deep copy: new_core_tag)
    const created = (await h.statements({ sql: /^CREATE TABLE/ })).filter((s) => s.name?.startsWith(`job ${id} `) && !/^CREATE TABLE \S*new_core_tag\b/.test(s.sql));
    expect(created).toHaveLength(21);
    for (const name of first) expect(created.some((s) => s.sql.includes(`"${name}"`) && s.sql.startsWith(`CREATE TABLE "${SCHEMA}"."${name}"`))).toBe(false);
    expect(stepOf(job, 'tables-present')?.detail).toBe('26 of 26 tables exist');
    // the service-shaped tables after the sync: core_list fixed in place (ALTERs read back), core_tag reported, unchanged
    expect(stepOf(job, 'match-core_list')?.detail).toMatch(/^ak_sumofus\.core_list brought to schemas\/ in place \(set distkey id, set sortkey compound \(id\)\): statement /);
    expect(stepOf(job, 'match-core_list')?.status ?? 'ok').toBe('ok');
    expect((await liveTable(h, 'core_list')).distKey).toBe('id');
    expect((await liveTable(h, 'core_list')).sortKey).toEqual({ style: 'COMPOUND', columns: ['id'] });
    // core_tag: no match step; its deep copy ran — and only its: every other table is untouched by a deep copy
    expect(stepOf(job, 'match-core_tag')).toBeUndefined();
    expect(job.steps.filter((s) => s.name.startsWith('conform-') && !s.name.startsWith('conform-core_tag.'))).toEqual([]);
    expect(stepOf(job, 'conform-core_tag.conform-check')?.detail).toMatch(/^ak_sumofus\.core_tag has the shape it had when setup was queued \(\d+ difference\(s\) from schemas\/: /);
    for (const s of ['create', 'copy', 'swap', 'approve-drop', 'drop']) expect(stepOf(job, `conform-core_tag.${s}`)?.state, s).toBe('done');
    expect(stepOf(job, 'conform-core_tag.schema-file')).toBeUndefined();
    expect(job.approvals.map((a) => `${a.step}:${a.decision}`)).toEqual(['cdc-initial-sync:approved', 'conform-core_tag.approve-drop:approved']);
    expect((await liveTable(h, 'core_tag')).sortKey).toEqual({ style: 'INTERLEAVED', columns: ['id', 'name'] });
    expect(diffTable(h.registry.find('core_tag')!, await readTable(h.warehouse, SCHEMA, 'core_tag')).map(formatDrift)).toEqual([]);
    expect(await tableExists(h, 'old_core_tag')).toBe(false);
    expect(stepOf(job, 'compare-core_tag')?.detail).toMatch(/✓ equal/);
  }, 240_000);

  it('a second run on the finished instance changes nothing: no deep copy planned, no DDL', async () => {
    const { h } = w;
    const catalogBefore = await catalogSnapshot(h);
    const stmtsBefore = new Set((await h.statements()).map((s) => s.id));
    const id = await queueSetup(h);
    const job = await succeeded(h, id, 120_000);
    expect(job.steps.filter((s) => s.name.startsWith('conform-'))).toEqual([]);
    expect(stepOf(job, 'match-core_tag')?.detail).toMatch(/^ak_sumofus\.core_tag matches schemas\//);
    const newStatements = (await h.statements()).filter((s) => !stmtsBefore.has(s.id));
    expect(newStatements.filter((s) => DDL.test(s.sql)).map((s) => s.sql)).toEqual([]);
    expect(await catalogSnapshot(h)).toBe(catalogBefore);
    expect(job.approvals).toEqual([]);
  }, 240_000);
});

describe('/redshift setup when the DMS task exists with other settings', () => {
  let w: World;

  beforeAll(async () => {
    w = await startWorld('othertask');
    // a task made by hand earlier: the same identifier, its own endpoints, no LOB / logging settings
    w.h.sandbox.dms.seedTask({ identifier: 'flydata-core-usermailing', replicationInstance: INSTANCE, status: 'stopped', tables: [{ schema: SCHEMA, table: 'core_usermailing' }] });
  }, 120_000);
  afterAll(() => stopWorld(w));

  it('says what differs and changes nothing: no create, no start', async () => {
    const { h } = w;
    const id = await queueSetup(h);
    const job = await h.waitJob(id, (j) => j.state === 'failed', 'to fail on the existing task', 120_000);
    expect(job.error).toContain('DMS task flydata-core-usermailing exists with other settings than the registry\'s — nothing was changed:');
    expect(job.error).toMatch(/• SourceEndpointArn: the task has arn:aws:dms:\S+, the registry says arn:aws:dms:/);
    expect(job.error).toMatch(/• TargetEndpointArn: the task has arn:aws:dms:\S+, the registry says arn:aws:dms:/);
    // its selection rule selects the same table under another name: not a difference
    expect(job.error).not.toContain('TableMappings');
    expect(job.error).toContain('schema export-dms core_usermailing');
    expect(w.awsCalls.filter((c) => /^(CreateReplicationTask|StartReplicationTask|StopReplicationTask|ReloadTables)$/.test(c))).toEqual([]);
    expect(h.sandbox.dms.getTask('flydata-core-usermailing').status).toBe('stopped');
    // the tables were created before the DMS part
    expect(await tableExists(h, 'core_usermailing')).toBe(true);
  }, 240_000);
});
