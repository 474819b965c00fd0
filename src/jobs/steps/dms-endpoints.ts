/**
 * Shared steps: the DMS endpoints a replication task needs, checked (and the Redshift target created when missing).
 *
 *   dmsSourceEndpointStep  the replication instance (DescribeReplicationInstances: exists, `available`) and the source
 *                          endpoint (DescribeEndpoints by ARN: a `source` endpoint of a MySQL-family engine) — never
 *                          created or changed here: it is the read-only MySQL the team set up. Whether its user is
 *                          read-only is a grant in MySQL, which DMS's API does not show; the detail says so.
 *   dmsTargetEndpointStep  the Redshift target endpoint, found by identifier (DescribeEndpoints); created with
 *                          CreateEndpoint (Secrets Manager credentials) when missing and a connection is configured,
 *                          else a readable error naming the variables to set.
 * Both then make sure the endpoint's connection from the instance was tested successfully (DescribeConnections; a
 * TestConnection when there is no successful test yet), parking the job between looks (waitUntil) while DMS tests it.
 * A failed test fails the step with DMS's LastFailureMessage. ARNs go to handles (`dms.instanceArn`,
 * `dms.sourceEndpointArn`, `dms.targetEndpointArn`) for the task step.
 *
 * No undo: a created target endpoint is left in place on rollback (DeleteEndpoint is not in the DmsPort; an unused
 * endpoint costs nothing and a re-run finds it).
 */
import type { RunbookDeps } from '../deps.js';
import { type PlannedAction, type Step, type StepContext, waitUntil } from '../runbook.js';
import type { DmsEndpoint } from '../../replication/port.js';
import { dmsOf } from './dms-task.js';

type Ctx = StepContext<RunbookDeps>;

export const INSTANCE_ARN = 'dms.instanceArn';
export const SOURCE_ENDPOINT_ARN = 'dms.sourceEndpointArn';
export const TARGET_ENDPOINT_ARN = 'dms.targetEndpointArn';

/** how often a running TestConnection is looked at (the job parked in between) */
const connectionPollMs = (ctx: { deps: RunbookDeps }): number => Math.max(50, Math.min(5_000, ctx.deps.settings?.fullLoadPollMs ?? 5_000));

const MYSQL_ENGINES = new Set(['mysql', 'mariadb', 'aurora', 'aurora-mysql']);

/** The replication instance's ARN by identifier (recorded in handles); a readable error when it is missing or not available. */
export async function instanceArnOf(ctx: Ctx, instanceId: string): Promise<string> {
  const known = ctx.handles[INSTANCE_ARN];
  if (known) return known;
  const found = await dmsOf(ctx).describeInstances({ id: instanceId });
  await ctx.audit({ kind: 'aws-call', ref: instanceId, outcome: found.length ? found.map((i) => i.status).join(',') : 'not found', text: 'DescribeReplicationInstances' });
  const inst = found[0];
  if (!inst) throw new Error(`DMS replication instance ${instanceId} (schemas/ replication.replicationInstance) does not exist in this account/region: create it (aws dms create-replication-instance), then retry`);
  if (inst.status !== 'available') throw new Error(`DMS replication instance ${instanceId} is ${inst.status}, not available: wait for it (aws dms describe-replication-instances), then retry`);
  await ctx.setHandle(INSTANCE_ARN, inst.arn);
  return inst.arn;
}

/**
 * The endpoint's connection from the instance is tested successfully: done (a detail), or a TestConnection started /
 * still running (the job parks and looks again), or failed (an error with DMS's message).
 */
async function connectionOk(ctx: Ctx, instanceArn: string, e: DmsEndpoint): Promise<string> {
  const dms = dmsOf(ctx);
  const testedKey = `dms.tested:${e.id}`;
  const conns = await dms.describeConnections({ endpointArn: e.arn, instanceArn });
  const c = conns[0];
  await ctx.audit({ kind: 'aws-call', ref: e.arn, outcome: c?.status ?? 'no test yet', text: 'DescribeConnections' });
  if (c?.status === 'successful') return `connection from the instance tested: successful`;
  if (c?.status === 'testing') waitUntil(Date.now() + connectionPollMs(ctx), `DMS is testing the connection of endpoint ${e.id} (TestConnection)`);
  if (c?.status === 'failed' && ctx.handles[testedKey] !== undefined)
    throw new Error(`DMS could not connect to endpoint ${e.id} (${e.engine} ${e.serverName ?? ''}${e.port ? `:${e.port}` : ''}): ${c.lastFailureMessage ?? 'no LastFailureMessage'}. Fix the endpoint or the network path, then retry`);
  // no successful test on record (none yet, or an old failure): test now, then look again
  await ctx.setHandle(testedKey, String(Date.now()));
  const started = await dms.testConnection(instanceArn, e.arn);
  await ctx.audit({ kind: 'aws-call', ref: e.arn, outcome: started.status, text: 'TestConnection' });
  return waitUntil(Date.now() + connectionPollMs(ctx), `DMS is testing the connection of endpoint ${e.id} (TestConnection)`);
}

const endpointText = (e: DmsEndpoint): string => `${e.id} (${e.type}, ${e.engine}${e.serverName ? `, ${e.serverName}${e.port ? `:${e.port}` : ''}` : ''}${e.databaseName ? `/${e.databaseName}` : ''}, ${e.status})`;

export interface DmsEndpointStepOptions {
  name: string;
  /** the replication instance identifier (schemas/ replication.replicationInstance) */
  instanceId: string;
}

export function dmsSourceEndpointStep(o: DmsEndpointStepOptions): Step<RunbookDeps> {
  return {
    name: o.name,
    title: 'Check the DMS replication instance and the source endpoint (the read-only MySQL)',
    plan: (ctx): PlannedAction[] => {
      const arn = ctx.deps.dmsSetup?.sourceEndpointArn ?? '<DMS_SOURCE_ENDPOINT_ARN: not set>';
      return [
        { kind: 'aws', text: `DescribeReplicationInstances Filters=[{Name: replication-instance-id, Values: [${o.instanceId}]}]` },
        { kind: 'aws', text: `DescribeEndpoints Filters=[{Name: endpoint-arn, Values: [${arn}]}] — must be a source endpoint, engine mysql/mariadb/aurora` },
        { kind: 'aws', text: `DescribeConnections Filters=[{Name: endpoint-arn, Values: [${arn}]}, {Name: replication-instance-arn, Values: [<arn of ${o.instanceId}>]}]` },
        { kind: 'aws', text: `TestConnection ReplicationInstanceArn=<arn of ${o.instanceId}> EndpointArn=${arn} — only when no successful test is on record; DescribeConnections until it settles` },
      ];
    },
    isDone: async () => false,
    run: async (ctx) => {
      const arn = ctx.deps.dmsSetup?.sourceEndpointArn;
      if (!arn) throw new Error('DMS_SOURCE_ENDPOINT_ARN is not set: setup needs the read-only MySQL source endpoint the task reads (aws dms describe-endpoints --filters Name=endpoint-type,Values=source); set it and restart the worker, then retry');
      const instanceArn = await instanceArnOf(ctx, o.instanceId);
      const found = await dmsOf(ctx).describeEndpoints({ arn });
      await ctx.audit({ kind: 'aws-call', ref: arn, outcome: found.length ? found[0]!.status : 'not found', text: 'DescribeEndpoints' });
      const e = found[0];
      if (!e) throw new Error(`the source endpoint ${arn} (DMS_SOURCE_ENDPOINT_ARN) does not exist: check the ARN (aws dms describe-endpoints), then retry`);
      if (e.type !== 'source') throw new Error(`endpoint ${endpointText(e)} is a ${e.type} endpoint, not a source: DMS_SOURCE_ENDPOINT_ARN must name the MySQL source`);
      if (!MYSQL_ENGINES.has(e.engine)) throw new Error(`source endpoint ${endpointText(e)} is not MySQL-family (mysql, mariadb, aurora): the registry's task reads MySQL`);
      await ctx.setHandle(SOURCE_ENDPOINT_ARN, e.arn);
      const conn = await connectionOk(ctx, instanceArn, e);
      return `instance ${o.instanceId} available; source endpoint ${endpointText(e)}; ${conn} (read-only is the MySQL user's grants, which DMS's API does not show)`;
    },
  };
}

export function dmsTargetEndpointStep(o: DmsEndpointStepOptions): Step<RunbookDeps> {
  return {
    name: o.name,
    title: 'Check the DMS target endpoint (this Redshift); create it when missing',
    plan: (ctx): PlannedAction[] => {
      const s = ctx.deps.dmsSetup;
      const id = s?.targetEndpointId ?? '<DMS_TARGET_ENDPOINT_ID: not set>';
      const c = s?.targetConnection;
      return [
        { kind: 'aws', text: `DescribeEndpoints Filters=[{Name: endpoint-id, Values: [${id}]}]` },
        {
          kind: 'aws',
          text: c
            ? `CreateEndpoint EndpointIdentifier=${id} EndpointType=target EngineName=redshift ServerName=${c.serverName} Port=${c.port} DatabaseName=${c.databaseName}${c.secretArn ? ` RedshiftSettings={SecretsManagerSecretId: ${c.secretArn}, SecretsManagerAccessRoleArn: ${c.secretAccessRoleArn ?? '?'}}` : ''} — only when it does not exist`
            : `CreateEndpoint — only when it does not exist, and only with DMS_TARGET_SERVER_NAME set (not set: a missing target stops setup)`,
        },
        { kind: 'aws', text: `DescribeConnections / TestConnection of ${id} from <arn of ${o.instanceId}> — TestConnection only when no successful test is on record` },
      ];
    },
    isDone: async () => false,
    run: async (ctx) => {
      const s = ctx.deps.dmsSetup;
      const id = s?.targetEndpointId;
      if (!id) throw new Error('DMS_TARGET_ENDPOINT_ID is not set: setup finds the Redshift target endpoint by this identifier (and creates it with DMS_TARGET_SERVER_NAME …); set it and restart the worker, then retry');
      const instanceArn = await instanceArnOf(ctx, o.instanceId);
      const dms = dmsOf(ctx);
      let e = (await dms.describeEndpoints({ id }))[0];
      await ctx.audit({ kind: 'aws-call', ref: id, outcome: e ? e.status : 'not found', text: 'DescribeEndpoints' });
      if (!e) {
        const c = s?.targetConnection;
        if (!c) throw new Error(`the target endpoint ${id} does not exist and DMS_TARGET_SERVER_NAME is not set, so setup cannot create it: set DMS_TARGET_SERVER_NAME (and DMS_TARGET_SECRET_ARN + DMS_TARGET_SECRET_ACCESS_ROLE_ARN), or create the endpoint, then retry`);
        e = await dms.createRedshiftTarget({ id, ...c });
        await ctx.audit({ kind: 'aws-call', ref: e.arn, outcome: e.status, text: 'CreateEndpoint' });
        await ctx.setHandle(`dms.createdTarget`, e.arn);
      }
      const created = ctx.handles['dms.createdTarget'] === e.arn ? 'created; ' : '';
      if (e.type !== 'target' || e.engine !== 'redshift') throw new Error(`endpoint ${endpointText(e)} is not a Redshift target endpoint: DMS_TARGET_ENDPOINT_ID must name the Redshift target (or an unused identifier)`);
      await ctx.setHandle(TARGET_ENDPOINT_ARN, e.arn);
      const conn = await connectionOk(ctx, instanceArn, e);
      return `target endpoint ${created}${endpointText(e)}; ${conn}`;
    },
  };
}
