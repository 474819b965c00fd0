/**
 * The DMS port's setup/recover surface (startTask, endpoints, connections, instances, createTask) with the REAL SDK
 * client (createDms from config) against startSandbox on a PostgreSQL database of this file's own, and a MariaDB
 * database of its own as a real source. Also `schema export-dms`: its JSON is checked against the DMS API's shapes — at
 * compile time (CreateReplicationTaskCommandInput), by the sandbox's zod of CreateReplicationTask, and by sending it
 * through the SDK client and getting a task back that then runs. Every wait is a condition with a timeout.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  CreateEndpointCommand,
  type CreateReplicationTaskCommandInput,
  CreateReplicationTaskCommand,
  DatabaseMigrationServiceClient,
  StartReplicationTaskCommand,
} from '@aws-sdk/client-database-migration-service';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import type { DmsAdapter } from '../../src/replication/dms.js';
import { buildDmsTaskSpec } from '../../src/replication/dms-task-spec.js';
import { type DmsConnection, isKnownTableState } from '../../src/replication/port.js';
import { createTaskInput } from '../../src/sandbox/dms.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { type Registry, loadRegistry } from '../../src/schema/registry.js';
import { type TestDatabase, createTestDatabase } from '../support/sandbox.js';
import { poller, replicationFailure } from '../support/poll.js';
import { postFaults, sandboxAdapters } from '../support/sandbox-adapters.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const MY_DB = `rso_dmsapi_${process.pid}_${randomBytes(3).toString('hex')}`;
const MYSQL = 'mysql://root@127.0.0.1:3306';
const INSTANCE = 'core-usermailing-replication';
const MY_USER = `rso_dms_${process.pid}`;
const MY_PASSWORD = `pw-${randomBytes(6).toString('hex')}`;

let db: TestDatabase;
let sandbox: Sandbox;
let registry: Registry;
let dms: DmsAdapter;
let sdk: DatabaseMigrationServiceClient;
let instanceArn: string;
let sourceArn: string;
let targetArn: string;

const until = poller({ timeoutMs: 15_000, pauseMs: 25 });

async function sdkError(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to fail');
}

async function mysql(sql: string): Promise<void> {
  const c = await createConnection(MYSQL);
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function settledConnection(endpointArn: string): Promise<DmsConnection> {
  const all = await until(
    `the connection test of ${endpointArn} to settle`,
    () => dms.describeConnections({ endpointArn, instanceArn }),
    (cs) => cs.length === 1 && cs[0]!.status !== 'testing',
  );
  return all[0]!;
}

beforeAll(async () => {
  db = await createTestDatabase('dms_api');
  sandbox = await startSandbox({ databaseUrl: db.url, dmsDelays: { createMs: 50, startMs: 80, stopMs: 80, fullLoadMs: 80 } });
  registry = await loadRegistry(path.join(REPO, 'schemas'));
  dms = sandboxAdapters(sandbox).dms();
  sdk = new DatabaseMigrationServiceClient({ region: 'us-west-2', endpoint: sandbox.endpoint, credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' }, maxAttempts: 1 });
  // what the account already has: a replication instance and the read-only source + warehouse target endpoints
  const seeded = sandbox.dms.seedTask({ identifier: 'existing-usermailing', replicationInstance: INSTANCE, tables: [{ schema: 'ak_sumofus', table: 'core_usermailing' }] });
  expect(seeded.status).toBe('running');
  // the source on MariaDB has a column schemas/ does not list (legacy_flag): export-dms must remove it
  await mysql(`CREATE DATABASE ${MY_DB}`);
  await mysql(`CREATE USER '${MY_USER}'@'%' IDENTIFIED BY '${MY_PASSWORD}'`);
  await mysql(`GRANT SELECT ON ${MY_DB}.* TO '${MY_USER}'@'%'`);
  await mysql(
    `CREATE TABLE ${MY_DB}.core_usermailing (id bigint NOT NULL PRIMARY KEY, mailing_id int NOT NULL, user_id int NOT NULL, legacy_flag tinyint(1) DEFAULT 0, subject_id int DEFAULT NULL, created_at datetime NOT NULL)`,
  );
}, 60_000);

afterAll(async () => {
  dms?.close();
  sdk?.destroy();
  await mysql(`DROP DATABASE IF EXISTS ${MY_DB}`).catch(() => undefined);
  await mysql(`DROP USER IF EXISTS '${MY_USER}'@'%'`).catch(() => undefined);
  await sandbox?.close();
  await db?.drop();
}, 60_000);

describe('instances and endpoints', () => {
  it('describeInstances and describeEndpoints show what the account has; nothing matching is an empty list', async () => {
    const inst = await dms.describeInstances({ id: INSTANCE });
    expect(inst).toHaveLength(1);
    expect(inst[0]).toMatchObject({ id: INSTANCE, status: 'available' });
    instanceArn = inst[0]!.arn;
    expect(instanceArn).toMatch(/^arn:aws:dms:us-west-2:\d{12}:rep:[A-Z2-7]{26}$/);
    expect(await dms.describeInstances({ id: 'no-such-instance' })).toEqual([]);

    const sources = await dms.describeEndpoints({ type: 'source' });
    const targets = await dms.describeEndpoints({ type: 'target' });
    expect(sources.map((e) => [e.id, e.type, e.engine, e.status])).toEqual([['existing-usermailing-source', 'source', 'mysql', 'active']]);
    expect(targets.map((e) => [e.id, e.type, e.engine, e.status])).toEqual([['existing-usermailing-target', 'target', 'redshift', 'active']]);
    sourceArn = sources[0]!.arn;
    targetArn = targets[0]!.arn;
    expect(await dms.describeEndpoints({ id: 'no-such-endpoint' })).toEqual([]);
    // no password comes back
    expect(JSON.stringify(sources)).not.toMatch(/sandbox"/);
  });

  it('testConnection: testing → successful; the embedded source unreachable (knob) → failed with a LastFailureMessage; a real MariaDB endpoint connects, a closed port does not', async () => {
    const started = await dms.testConnection(instanceArn, sourceArn);
    expect(started.status).toBe('testing');
    expect((await settledConnection(sourceArn)).status).toBe('successful');
    expect((await settledConnection(sourceArn)).lastFailureMessage).toBeUndefined();

    expect((await postFaults(sandbox, { sourceUnreachable: true })).status).toBe(200);
    await dms.testConnection(instanceArn, sourceArn);
    const down = await settledConnection(sourceArn);
    expect(down.status).toBe('failed');
    expect(down.lastFailureMessage).toMatch(/Can't connect to MySQL server on 'sandbox-source'/);
    expect((await postFaults(sandbox, { sourceUnreachable: false })).status).toBe(200);

    // the warehouse target follows the warehouse knob
    await dms.testConnection(instanceArn, targetArn);
    expect((await settledConnection(targetArn)).status).toBe('successful');
    expect((await postFaults(sandbox, { warehouseUnreachableForMs: 60_000 })).status).toBe(200);
    await dms.testConnection(instanceArn, targetArn);
    const whDown = await settledConnection(targetArn);
    expect(whDown.status).toBe('failed');
    expect(whDown.lastFailureMessage).toMatch(/Amazon Redshift.*could not connect/);
    expect((await postFaults(sandbox, { warehouseUnreachableForMs: 0 })).status).toBe(200);

    // a MariaDB source endpoint is connected to for real (a read-only user of this file's own)
    const real = await sdk.send(
      new CreateEndpointCommand({ EndpointIdentifier: 'mariadb-source', EndpointType: 'source', EngineName: 'mariadb', ServerName: '127.0.0.1', Port: 3306, Username: MY_USER, Password: MY_PASSWORD, DatabaseName: MY_DB }),
    );
    expect(real.Endpoint).toMatchObject({ EndpointIdentifier: 'mariadb-source', EndpointType: 'SOURCE', EngineName: 'mariadb', Status: 'active' });
    expect(JSON.stringify(real.Endpoint)).not.toContain(MY_PASSWORD);
    await dms.testConnection(instanceArn, real.Endpoint!.EndpointArn!);
    expect((await settledConnection(real.Endpoint!.EndpointArn!)).status).toBe('successful');

    const closed = await sdk.send(
      new CreateEndpointCommand({ EndpointIdentifier: 'mariadb-closed-port', EndpointType: 'source', EngineName: 'mysql', ServerName: '127.0.0.1', Port: 1, Username: MY_USER, Password: MY_PASSWORD, DatabaseName: MY_DB }),
    );
    await dms.testConnection(instanceArn, closed.Endpoint!.EndpointArn!);
    const refused = await settledConnection(closed.Endpoint!.EndpointArn!);
    expect(refused.status).toBe('failed');
    expect(refused.lastFailureMessage).toMatch(/^Test Endpoint failed: .*Can't connect to MySQL server on '127\.0\.0\.1' \(ECONNREFUSED\)/);

    const wrongPassword = await sdk.send(
      new CreateEndpointCommand({ EndpointIdentifier: 'mariadb-wrong-password', EndpointType: 'source', EngineName: 'mariadb', ServerName: '127.0.0.1', Port: 3306, Username: MY_USER, Password: 'not-it', DatabaseName: MY_DB }),
    );
    await dms.testConnection(instanceArn, wrongPassword.Endpoint!.EndpointArn!);
    const denied = await settledConnection(wrongPassword.Endpoint!.EndpointArn!);
    expect(denied.status).toBe('failed');
    expect(denied.lastFailureMessage).toMatch(/NativeError: 1045 .*Access denied/);

    // unknown endpoint / instance
    expect((await replicationFailure(dms.testConnection(instanceArn, `${sourceArn}X`))).kind).toBe('not-found');
  });

  it('createRedshiftTarget creates an active target; the same identifier again is already-exists; bad input is refused as AWS refuses it', async () => {
    const t = await dms.createRedshiftTarget({ id: 'warehouse-target-2', serverName: 'sandbox.redshift.local', port: 5439, databaseName: 'dev', username: 'dms_user', password: 'pw-123' });
    expect(t).toMatchObject({ id: 'warehouse-target-2', type: 'target', engine: 'redshift', status: 'active', databaseName: 'dev' });
    expect((await dms.describeEndpoints({ arn: t.arn })).map((e) => e.id)).toEqual(['warehouse-target-2']);
    const again = await replicationFailure(dms.createRedshiftTarget({ id: 'warehouse-target-2', serverName: 'x', port: 5439, databaseName: 'dev', username: 'u', password: 'p' }));
    expect(again.kind).toBe('already-exists');
    expect(again.details.awsCode).toBe('ResourceAlreadyExistsFault');
    for (const id of ['2starts-with-digit', 'double--hyphen', 'trailing-', 'under_score', 'x'.repeat(256)]) {
      const e = await replicationFailure(dms.createRedshiftTarget({ id, serverName: 'x', port: 5439, databaseName: 'dev', username: 'u', password: 'p' }));
      expect(e.details.awsCode, id).toBe('InvalidParameterValueException');
      expect(e.message).toMatch(/start with a letter/);
    }
    const noDb = await sdkError(sdk.send(new CreateEndpointCommand({ EndpointIdentifier: 'no-db', EndpointType: 'target', EngineName: 'redshift', ServerName: 'x', Port: 5439, Username: 'u', Password: 'p' })));
    expect(noDb.name).toBe('InvalidParameterCombinationException');
    expect(noDb.message).toMatch(/DatabaseName is required/);
    const noPassword = await sdkError(sdk.send(new CreateEndpointCommand({ EndpointIdentifier: 'no-password', EndpointType: 'source', EngineName: 'mysql', ServerName: 'x', Port: 3306, Username: 'u' })));
    expect(noPassword.name).toBe('InvalidParameterCombinationException');
    expect(noPassword.message).toMatch(/Password is required/);
    const badEngine = await sdkError(sdk.send(new CreateEndpointCommand({ EndpointIdentifier: 'bad-engine', EndpointType: 'source', EngineName: 'mysqlx', ServerName: 'x', Port: 3306, Username: 'u', Password: 'p' })));
    expect(badEngine.name).toBe('InvalidParameterValueException');
    expect(badEngine.message).toMatch(/EngineName/);
  });
});

describe('schema export-dms → CreateReplicationTask → startTask', () => {
  let taskArn: string;

  it('prints JSON the DMS API accepts: typed as CreateReplicationTaskCommandInput, valid for the sandbox zod, and sent through the SDK it becomes a task', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const env = {
      SOURCE_DATABASE_URL: `${MYSQL}/${MY_DB}`,
      DMS_SOURCE_ENDPOINT_ARN: sourceArn,
      DMS_TARGET_ENDPOINT_ARN: targetArn,
      DMS_REPLICATION_INSTANCE_ARN: instanceArn,
    };
    const code = await runCli(['schema', 'export-dms', 'core_usermailing'], { out: (l) => out.push(l), err: (l) => err.push(l), env, cwd: REPO });
    expect(err.join('\n')).toMatch(/legacy_flag not in schemas\/: removed by remove-column rules/);
    expect(code).toBe(0);
    const parsed: unknown = JSON.parse(out.join('\n'));
    // the sandbox's own zod of CreateReplicationTask (required fields, MigrationType enum); its output is the SDK's input type
    const input: CreateReplicationTaskCommandInput = createTaskInput.parse(parsed);
    expect(Object.keys(parsed as object).sort()).toEqual(
      ['MigrationType', 'ReplicationInstanceArn', 'ReplicationTaskIdentifier', 'ReplicationTaskSettings', 'SourceEndpointArn', 'TableMappings', 'TargetEndpointArn'].sort(),
    );
    expect(input).toMatchObject({ ReplicationTaskIdentifier: 'flydata-core-usermailing', MigrationType: 'full-load-and-cdc', SourceEndpointArn: sourceArn, TargetEndpointArn: targetArn, ReplicationInstanceArn: instanceArn });

    const mappings = JSON.parse(input.TableMappings!) as { rules: Record<string, unknown>[] };
    expect(mappings.rules).toEqual([
      { 'rule-type': 'selection', 'rule-id': '1', 'rule-name': 'select-core_usermailing', 'object-locator': { 'schema-name': MY_DB, 'table-name': 'core_usermailing' }, 'rule-action': 'include', filters: [] },
      { 'rule-type': 'transformation', 'rule-id': '2', 'rule-name': 'schema-to-ak_sumofus', 'rule-target': 'schema', 'object-locator': { 'schema-name': MY_DB }, 'rule-action': 'rename', value: 'ak_sumofus' },
      {
        'rule-type': 'transformation',
        'rule-id': '3',
        'rule-name': 'drop-core_usermailing-legacy_flag',
        'rule-target': 'column',
        'object-locator': { 'schema-name': MY_DB, 'table-name': 'core_usermailing', 'column-name': 'legacy_flag' },
        'rule-action': 'remove-column',
      },
    ]);
    const settings = JSON.parse(input.ReplicationTaskSettings!) as Record<string, Record<string, unknown>>;
    expect(settings.FullLoadSettings).toEqual({ TargetTablePrepMode: 'TRUNCATE_BEFORE_LOAD' });
    expect(settings.TargetMetadata).toMatchObject({ SupportLobs: true, FullLobMode: false, LimitedSizeLobMode: true, LobMaxSize: 32, BatchApplyEnabled: true });
    expect(settings.Logging).toEqual({
      EnableLogging: true,
      LogComponents: ['SOURCE_UNLOAD', 'SOURCE_CAPTURE', 'TARGET_LOAD', 'TARGET_APPLY'].map((Id) => ({ Id, Severity: 'LOGGER_SEVERITY_DEFAULT' })),
    });

    // through the real SDK client to the sandbox: a task comes back, creating → ready
    const created = await sdk.send(new CreateReplicationTaskCommand(input));
    expect(created.ReplicationTask).toMatchObject({ ReplicationTaskIdentifier: 'flydata-core-usermailing', Status: 'creating', MigrationType: 'full-load-and-cdc' });
    taskArn = created.ReplicationTask!.ReplicationTaskArn!;
    const found = await dms.findTask('flydata-core-usermailing');
    expect(found.arn).toBe(taskArn);
    await until('the task to be ready', () => dms.describeTask(taskArn), (t) => t.status === 'ready');

    // the same identifier again: already-exists, through the port
    const again = await replicationFailure(dms.createTask(input as Parameters<DmsAdapter['createTask']>[0]));
    expect(again.kind).toBe('already-exists');
  });

  it('the builder gives the same input; a cdc table is a clear error, from the builder and from the CLI', async () => {
    const def = registry.find('core_usermailing')!;
    const built = buildDmsTaskSpec(def, { sourceSchema: 'ak_sumofus', sourceEndpointArn: sourceArn, targetEndpointArn: targetArn, replicationInstanceArn: instanceArn });
    expect(JSON.parse(built.input.TableMappings).rules).toHaveLength(1); // same schema name: no rename; columns unknown: no removal
    expect(built.notes.join(' ')).toMatch(/source's columns were not read/);
    expect(() => buildDmsTaskSpec(registry.find('core_action')!, { sourceSchema: 'x', sourceEndpointArn: 'a', targetEndpointArn: 'b', replicationInstanceArn: 'c' })).toThrow(
      /replicated by the CDC service \(flydata\), not DMS/,
    );
    const err: string[] = [];
    const out: string[] = [];
    const code = await runCli(['schema', 'export-dms', 'core_action'], { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, cwd: REPO });
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join('\n')).toMatch(/core_action is replicated by the CDC service/);
    // without ARNs: placeholders, and the user is told which to fill
    const err2: string[] = [];
    const out2: string[] = [];
    expect(await runCli(['schema', 'export-dms', 'core_usermailing'], { out: (l) => out2.push(l), err: (l) => err2.push(l), env: {}, cwd: REPO })).toBe(0);
    expect(JSON.parse(out2.join('\n')).SourceEndpointArn).toBe('FILL-IN-source-endpoint-arn');
    expect(err2.join('\n')).toMatch(/fill in before aws dms create-replication-task.*SourceEndpointArn.*TargetEndpointArn.*ReplicationInstanceArn/);
  });

  it('startTask: start-replication only on the first run; reload-target after; typed table statistics follow the loads', async () => {
    // a never-run task: reload-target is refused by the port, and by the sandbox when sent anyway
    const wrongFirst = await replicationFailure(dms.startTask(taskArn, 'reload-target'));
    expect(wrongFirst.kind).toBe('invalid-state');
    expect(wrongFirst.message).toMatch(/never run starts with start-replication/);
    expect((await sdkError(sdk.send(new StartReplicationTaskCommand({ ReplicationTaskArn: taskArn, StartReplicationTaskType: 'reload-target' })))).name).toBe('InvalidResourceStateFault');

    const starting = await dms.startTask(taskArn, 'start-replication');
    expect(starting.status).toBe('starting');
    await dms.waitForStatus(taskArn, 'running', { timeoutMs: 10_000 });
    // table statistics name the table as the SOURCE has it (the MariaDB database), not the renamed target schema
    const first = await until('the full load to complete', () => dms.tableStats(taskArn, MY_DB, 'core_usermailing'), (s) => s?.state === 'Table completed');
    expect(await dms.tableStats(taskArn, 'ak_sumofus', 'core_usermailing')).toBeUndefined();
    expect(first).toMatchObject({ schema: MY_DB, table: 'core_usermailing', fullLoadReloaded: false, fullLoadErrorRows: 0, inserts: 0, updates: 0, deletes: 0, ddls: 0 });
    expect(isKnownTableState(first!.state)).toBe(true);
    expect(first!.fullLoadEnd).toBeInstanceOf(Date);

    // running: neither type starts it
    expect((await replicationFailure(dms.startTask(taskArn, 'reload-target'))).message).toMatch(/already running: stop it first/);

    await dms.stopTask(taskArn);
    await dms.waitForStatus(taskArn, 'stopped', { timeoutMs: 10_000 });
    // stopped after a run: start-replication is refused (the port says to use reload-target; the sandbox as AWS does)
    const again = await replicationFailure(dms.startTask(taskArn, 'start-replication'));
    expect(again.kind).toBe('invalid-state');
    expect(again.message).toMatch(/reload-target/);
    const raw = await sdkError(sdk.send(new StartReplicationTaskCommand({ ReplicationTaskArn: taskArn, StartReplicationTaskType: 'start-replication' })));
    expect(raw.name).toBe('InvalidParameterCombinationException');
    expect(raw.message).toMatch(/valid only for tasks running for the first time/);

    await dms.startTask(taskArn, 'reload-target');
    await dms.waitForStatus(taskArn, 'running', { timeoutMs: 10_000 });
    const reloaded = await until('the reload to complete', () => dms.tableStats(taskArn, MY_DB, 'core_usermailing'), (s) => s?.state === 'Table completed' && s.fullLoadReloaded);
    expect(reloaded!.fullLoadReloaded).toBe(true);
  });

  it('CreateReplicationTask refuses what AWS refuses: bad identifier, invalid JSON, unknown settings values, an endpoint of the wrong side', async () => {
    const base = buildDmsTaskSpec(registry.find('core_usermailing')!, { sourceSchema: 'ak_sumofus', sourceEndpointArn: sourceArn, targetEndpointArn: targetArn, replicationInstanceArn: instanceArn }).input;
    const cases: Array<[string, CreateReplicationTaskCommandInput, string, RegExp]> = [
      ['identifier', { ...base, ReplicationTaskIdentifier: 'a--b' }, 'InvalidParameterValueException', /start with a letter/],
      ['mappings JSON', { ...base, ReplicationTaskIdentifier: 'bad-json', TableMappings: '{"rules": [' }, 'InvalidParameterValueException', /TableMappings is not valid JSON/],
      ['settings JSON', { ...base, ReplicationTaskIdentifier: 'bad-settings', ReplicationTaskSettings: 'nope' }, 'InvalidParameterValueException', /ReplicationTaskSettings is not valid JSON/],
      [
        'prep mode',
        { ...base, ReplicationTaskIdentifier: 'bad-prep', ReplicationTaskSettings: JSON.stringify({ FullLoadSettings: { TargetTablePrepMode: 'TRUNCATE' } }) },
        'InvalidParameterValueException',
        /TargetTablePrepMode/,
      ],
      ['sides swapped', { ...base, ReplicationTaskIdentifier: 'swapped', SourceEndpointArn: targetArn, TargetEndpointArn: sourceArn }, 'InvalidParameterCombinationException', /is a target endpoint, not a source/],
      ['migration type', { ...base, ReplicationTaskIdentifier: 'bad-type', MigrationType: 'full' as 'cdc' }, 'InvalidParameterValueException', /MigrationType/],
    ];
    for (const [what, input, code, message] of cases) {
      const e = await sdkError(sdk.send(new CreateReplicationTaskCommand(input)));
      expect(e.name, what).toBe(code);
      expect(e.message, what).toMatch(message);
    }
  });
});
