/**
 * The DmsPort over AWS DMS (@aws-sdk/client-database-migration-service). Runs unchanged against the loopback sandbox
 * (src/sandbox/dms.ts) with `endpoint` set.
 *
 * - Every call is retried on throttling (ThrottlingException / ThrottlingFault / 429), 5xx and connection resets with
 *   full-jitter exponential backoff; createDms() sets the SDK's maxAttempts to 1 so this one policy applies (as the
 *   Data API adapter does). Responses the adapter depends on are validated with zod.
 * - stopTask / resumeTask look at the task first and act only when needed (invariant 4): stop is a no-op when the task
 *   is stopped, stopping, failed or has never run; resume is a no-op when it is running or starting. A task that is in
 *   the middle of another transition (starting, stopping, modifying…) is waited for first. A race with someone else
 *   (InvalidResourceStateFault) is resolved by looking again.
 * - waitForStatus polls DescribeReplicationTasks with backoff (no fixed sleeps), is abortable and has a timeout;
 *   `failed` is an error carrying LastFailureMessage and StopReason.
 */
import {
  CreateEndpointCommand,
  CreateReplicationTaskCommand,
  DatabaseMigrationServiceClient,
  DescribeConnectionsCommand,
  DescribeEndpointsCommand,
  DescribeReplicationInstancesCommand,
  DescribeReplicationTasksCommand,
  DescribeTableStatisticsCommand,
  ReloadTablesCommand,
  StartReplicationTaskCommand,
  StopReplicationTaskCommand,
  TestConnectionCommand,
} from '@aws-sdk/client-database-migration-service';
import { z } from 'zod';
import type { AwsConfig, Env } from '../config.js';
import { sdkClientConfig } from '../util/aws-sdk.js';
import { AwsCaller, type AwsCallStats, type AwsClientLike, type RetryOptions, abortError, awsCode, errorText, parseResponse, serviceEndpoint } from './aws-call.js';
import {
  type DmsConnection,
  type DmsEndpoint,
  type DmsEndpointType,
  type DmsInstance,
  type DmsPort,
  type DmsStartType,
  type DmsTableStat,
  type DmsTask,
  type DmsTaskSpec,
  type RedshiftTargetEndpointSpec,
  ReplicationError,
} from './port.js';

export type DmsCommand =
  | DescribeReplicationTasksCommand
  | DescribeTableStatisticsCommand
  | ReloadTablesCommand
  | StartReplicationTaskCommand
  | StopReplicationTaskCommand
  | CreateReplicationTaskCommand
  | CreateEndpointCommand
  | DescribeEndpointsCommand
  | DescribeConnectionsCommand
  | TestConnectionCommand
  | DescribeReplicationInstancesCommand;

export interface DmsPollOptions {
  /** first sleep after the immediate first poll, ms (default 100) */
  initialMs: number;
  /** growth per poll (default 1.5) */
  factor: number;
  /** longest sleep between polls, ms (default 10 000) */
  maxMs: number;
}

export const DEFAULT_DMS_POLL: DmsPollOptions = { initialMs: 100, factor: 1.5, maxMs: 10_000 };

export interface DmsAdapterOptions {
  client: AwsClientLike<DmsCommand>;
  /** for messages ("… in us-west-2") */
  region?: string;
  retry?: Partial<RetryOptions>;
  poll?: Partial<DmsPollOptions>;
  /** waitForStatus's timeout when the caller gives none (default 30 min: a real stop with a big batch can take long) */
  waitTimeoutMs?: number;
  /**
   * how long a wait tolerates the task sitting in a settled state that is not the one awaited (running while waiting for
   * stopped, stopped/ready while waiting for running) before saying nothing is moving it (default 10 s: AWS may show
   * the old status for a moment after a Stop/Start call)
   */
  settleGraceMs?: number;
  /** for tests: sleeping, jitter and the clock */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

// ── response shapes the adapter depends on (zod; anything else passes through untouched) ──

const taskShape = z.object({
  ReplicationTaskArn: z.string().min(1),
  ReplicationTaskIdentifier: z.string().min(1),
  Status: z.string().min(1),
  StopReason: z.string().optional(),
  LastFailureMessage: z.string().optional(),
  ReplicationInstanceArn: z.string().optional(),
  SourceEndpointArn: z.string().optional(),
  TargetEndpointArn: z.string().optional(),
  MigrationType: z.string().optional(),
  TableMappings: z.string().optional(),
  ReplicationTaskSettings: z.string().optional(),
  ReplicationTaskStats: z.object({ FullLoadProgressPercent: z.number().optional() }).optional(),
});
type TaskShape = z.infer<typeof taskShape>;
const describeTasksOutput = z.object({ ReplicationTasks: z.array(taskShape).optional(), Marker: z.string().optional() });
const taskOutput = z.object({ ReplicationTask: taskShape });
const count = z.number().int().nonnegative().optional();
const tableStatShape = z.object({
  SchemaName: z.string(),
  TableName: z.string(),
  TableState: z.string().optional(),
  FullLoadRows: count,
  FullLoadErrorRows: count,
  FullLoadReloaded: z.boolean().optional(),
  Inserts: count,
  Updates: count,
  Deletes: count,
  Ddls: count,
  FullLoadStartTime: z.date().optional(),
  FullLoadEndTime: z.date().optional(),
  LastUpdateTime: z.date().optional(),
});
const endpointShape = z.object({
  EndpointArn: z.string().min(1),
  EndpointIdentifier: z.string().min(1),
  // the service answers SOURCE / TARGET (upper case) although requests send source / target
  EndpointType: z.string().transform((v, ctx) => {
    const t = v.toLowerCase();
    if (t === 'source' || t === 'target') return t;
    ctx.addIssue({ code: 'custom', message: `EndpointType "${v}" is neither SOURCE nor TARGET` });
    return z.NEVER;
  }),
  EngineName: z.string().min(1),
  Status: z.string().optional(),
  ServerName: z.string().optional(),
  Port: z.number().int().optional(),
  DatabaseName: z.string().optional(),
  Username: z.string().optional(),
});
type EndpointShape = z.infer<typeof endpointShape>;
const describeEndpointsOutput = z.object({ Endpoints: z.array(endpointShape).optional(), Marker: z.string().optional() });
const endpointOutput = z.object({ Endpoint: endpointShape });
const connectionShape = z.object({
  ReplicationInstanceArn: z.string().min(1),
  EndpointArn: z.string().min(1),
  Status: z.string().min(1),
  LastFailureMessage: z.string().optional(),
  EndpointIdentifier: z.string().optional(),
  ReplicationInstanceIdentifier: z.string().optional(),
});
type ConnectionShape = z.infer<typeof connectionShape>;
const describeConnectionsOutput = z.object({ Connections: z.array(connectionShape).optional(), Marker: z.string().optional() });
const connectionOutput = z.object({ Connection: connectionShape });
const instanceShape = z.object({
  ReplicationInstanceArn: z.string().min(1),
  ReplicationInstanceIdentifier: z.string().min(1),
  ReplicationInstanceStatus: z.string().min(1),
  ReplicationInstanceClass: z.string().optional(),
});
const describeInstancesOutput = z.object({ ReplicationInstances: z.array(instanceShape).optional(), Marker: z.string().optional() });
const tableStatsOutput = z.object({ TableStatistics: z.array(tableStatShape).optional(), Marker: z.string().optional() });

const SERVICE = 'DMS';
/** transitions the adapter waits out before acting */
const TRANSITIONAL = new Set(['starting', 'stopping', 'creating', 'modifying', 'moving', 'testing']);

const RACED = Symbol('raced');
class Raced extends Error {}
/** DMS answers "nothing matches the filters" with ResourceNotFoundFault on its Describe* calls: an empty list here */
class NoneFound extends Error {}

/** A Describe* call's Filters: one per given value (none: no Filters at all). */
function filtersOf(filters: ReadonlyArray<readonly [name: string, value: string | undefined]>): { Filters?: Array<{ Name: string; Values: string[] }> } {
  const given = filters.flatMap(([Name, value]) => (value !== undefined ? [{ Name, Values: [value] }] : []));
  return given.length > 0 ? { Filters: given } : {};
}

/** The Marker of the next page, when there is one. */
function markerOf(marker: string | undefined): { Marker?: string } {
  return marker !== undefined ? { Marker: marker } : {};
}

function toTask(t: TaskShape): DmsTask {
  return {
    arn: t.ReplicationTaskArn,
    id: t.ReplicationTaskIdentifier,
    status: t.Status,
    ...(t.StopReason !== undefined && t.StopReason !== '' ? { stopReason: t.StopReason } : {}),
    ...(t.LastFailureMessage !== undefined && t.LastFailureMessage !== '' ? { lastFailureMessage: t.LastFailureMessage } : {}),
    ...(t.ReplicationInstanceArn !== undefined ? { instanceArn: t.ReplicationInstanceArn } : {}),
    ...(t.ReplicationTaskStats?.FullLoadProgressPercent !== undefined ? { fullLoadProgressPercent: t.ReplicationTaskStats.FullLoadProgressPercent } : {}),
    ...(t.SourceEndpointArn !== undefined ? { sourceEndpointArn: t.SourceEndpointArn } : {}),
    ...(t.TargetEndpointArn !== undefined ? { targetEndpointArn: t.TargetEndpointArn } : {}),
    ...(t.MigrationType !== undefined ? { migrationType: t.MigrationType } : {}),
    ...(t.TableMappings !== undefined ? { tableMappings: t.TableMappings } : {}),
    ...(t.ReplicationTaskSettings !== undefined ? { settings: t.ReplicationTaskSettings } : {}),
  };
}

function toEndpoint(e: EndpointShape): DmsEndpoint {
  return {
    arn: e.EndpointArn,
    id: e.EndpointIdentifier,
    type: e.EndpointType,
    engine: e.EngineName,
    status: e.Status ?? 'unknown',
    ...(e.ServerName !== undefined ? { serverName: e.ServerName } : {}),
    ...(e.Port !== undefined ? { port: e.Port } : {}),
    ...(e.DatabaseName !== undefined ? { databaseName: e.DatabaseName } : {}),
    ...(e.Username !== undefined ? { username: e.Username } : {}),
  };
}

function toConnection(c: ConnectionShape): DmsConnection {
  return {
    endpointArn: c.EndpointArn,
    instanceArn: c.ReplicationInstanceArn,
    status: c.Status,
    ...(c.EndpointIdentifier !== undefined ? { endpointId: c.EndpointIdentifier } : {}),
    ...(c.ReplicationInstanceIdentifier !== undefined ? { instanceId: c.ReplicationInstanceIdentifier } : {}),
    ...(c.LastFailureMessage !== undefined && c.LastFailureMessage !== '' ? { lastFailureMessage: c.LastFailureMessage } : {}),
  };
}

/** "failed: <LastFailureMessage> (StopReason …)" — what a person needs to see about a task that stopped working. */
export function describeFailure(t: DmsTask): string {
  const parts = [t.lastFailureMessage ? `LastFailureMessage: ${t.lastFailureMessage}` : 'no LastFailureMessage', t.stopReason ? `StopReason: ${t.stopReason}` : undefined];
  return parts.filter((p) => p !== undefined).join('; ');
}

export class DmsAdapter implements DmsPort {
  private readonly caller: AwsCaller<DmsCommand>;
  private readonly poll: DmsPollOptions;
  private readonly region: string | undefined;
  private readonly waitTimeoutMs: number;
  private readonly settleGraceMs: number;
  private readonly now: () => number;

  constructor(opts: DmsAdapterOptions) {
    this.caller = new AwsCaller(opts.client, {
      service: SERVICE,
      ...(opts.retry !== undefined ? { retry: opts.retry } : {}),
      ...(opts.sleep !== undefined ? { sleep: opts.sleep } : {}),
      ...(opts.random !== undefined ? { random: opts.random } : {}),
    });
    this.poll = { ...DEFAULT_DMS_POLL, ...opts.poll };
    this.region = opts.region;
    this.waitTimeoutMs = opts.waitTimeoutMs ?? 30 * 60_000;
    this.settleGraceMs = opts.settleGraceMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** calls, retries and throttled retries so far */
  get stats(): AwsCallStats {
    return this.caller.stats;
  }

  /** Release the client's sockets. */
  close(): void {
    this.caller.close();
  }

  private where(): string {
    return this.region !== undefined ? ` in ${this.region}` : '';
  }

  async findTask(taskId: string, opts: { withSettings?: boolean } = {}): Promise<DmsTask> {
    const tasks = await this.describeTasks('replication-task-id', taskId, undefined, () =>
      new ReplicationError(
        `DMS task "${taskId}" was not found${this.where()} (DescribeReplicationTasks, filter replication-task-id): check replication.taskId in the table's schemas/ file and the AWS region`,
        'not-found',
        { operation: 'DescribeReplicationTasks' },
      ),
      opts.withSettings === true,
    );
    const t = tasks.find((x) => x.ReplicationTaskIdentifier.toLowerCase() === taskId.toLowerCase());
    if (t === undefined)
      throw new ReplicationError(
        `DMS task "${taskId}" was not found${this.where()}: DescribeReplicationTasks returned ${tasks.map((x) => x.ReplicationTaskIdentifier).join(', ')} instead`,
        'not-found',
        { operation: 'DescribeReplicationTasks' },
      );
    return toTask(t);
  }

  async describeTask(arn: string, signal?: AbortSignal): Promise<DmsTask> {
    const tasks = await this.describeTasks('replication-task-arn', arn, signal, () =>
      new ReplicationError(`DMS task ${arn} was not found${this.where()} (was it deleted?): find it again by its identifier`, 'not-found', { operation: 'DescribeReplicationTasks' }),
    );
    const t = tasks.find((x) => x.ReplicationTaskArn === arn) ?? tasks[0];
    if (t === undefined) throw new ReplicationError(`DMS task ${arn} was not found${this.where()}`, 'not-found', { operation: 'DescribeReplicationTasks' });
    return toTask(t);
  }

  private async describeTasks(filter: string, value: string, signal: AbortSignal | undefined, notFound: () => ReplicationError, withSettings = false): Promise<TaskShape[]> {
    const out = await this.describeAll(
      'DescribeReplicationTasks',
      signal,
      (marker) => new DescribeReplicationTasksCommand({ ...filtersOf([[filter, value]]), WithoutSettings: !withSettings, ...markerOf(marker) }),
      (raw) => {
        const page = parseResponse(describeTasksOutput, raw, SERVICE, 'DescribeReplicationTasks');
        return { items: page.ReplicationTasks ?? [], marker: page.Marker };
      },
      notFound,
    );
    if (out.length === 0) throw notFound();
    return out;
  }

  async stopTask(arn: string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<DmsTask> {
    const deadline = this.now() + (opts.timeoutMs ?? this.waitTimeoutMs);
    let delay = this.poll.initialMs;
    for (;;) {
      const t = await this.describeTask(arn, opts.signal);
      switch (t.status) {
        case 'stopped':
        case 'stopping':
        case 'failed':
        case 'ready':
          // nothing is being applied (or soon will not be): nothing to do
          return t;
        case 'running': {
          const raw = await this.act(new StopReplicationTaskCommand({ ReplicationTaskArn: arn }), 'StopReplicationTask', arn, opts.signal);
          if (raw === RACED) break; // someone else changed it meanwhile: look again
          return toTask(parseResponse(taskOutput, raw, SERVICE, 'StopReplicationTask').ReplicationTask);
        }
        default:
          if (!TRANSITIONAL.has(t.status))
            throw new ReplicationError(`DMS task ${t.id} is ${t.status}: it cannot be stopped in that state (see the AWS console)`, 'invalid-state', { task: t, operation: 'StopReplicationTask' });
      }
      delay = await this.pause(delay, deadline, opts.signal, () => `DMS task ${t.id} was still ${t.status} when the stop gave up`);
    }
  }

  async resumeTask(arn: string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<DmsTask> {
    const deadline = this.now() + (opts.timeoutMs ?? this.waitTimeoutMs);
    let delay = this.poll.initialMs;
    for (;;) {
      const t = await this.describeTask(arn, opts.signal);
      switch (t.status) {
        case 'running':
        case 'starting':
          return t;
        case 'ready':
          throw new ReplicationError(
            `DMS task ${t.id} has never run, so it cannot resume processing: start it once (start-replication) from the AWS console or CLI, then try again`,
            'invalid-state',
            { task: t, operation: 'StartReplicationTask' },
          );
        case 'stopped':
        case 'failed': {
          const raw = await this.act(new StartReplicationTaskCommand({ ReplicationTaskArn: arn, StartReplicationTaskType: 'resume-processing' }), 'StartReplicationTask', arn, opts.signal);
          if (raw === RACED) break;
          return toTask(parseResponse(taskOutput, raw, SERVICE, 'StartReplicationTask').ReplicationTask);
        }
        default:
          if (!TRANSITIONAL.has(t.status))
            throw new ReplicationError(`DMS task ${t.id} is ${t.status}: it cannot be resumed in that state (see the AWS console)`, 'invalid-state', { task: t, operation: 'StartReplicationTask' });
      }
      delay = await this.pause(delay, deadline, opts.signal, () => `DMS task ${t.id} was still ${t.status} when the resume gave up`);
    }
  }

  async waitForStatus(arn: string, status: 'stopped' | 'running', opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<DmsTask> {
    const started = this.now();
    const timeoutMs = opts.timeoutMs ?? this.waitTimeoutMs;
    const deadline = started + timeoutMs;
    let delay = this.poll.initialMs;
    let wrongSince: number | undefined;
    for (;;) {
      const t = await this.describeTask(arn, opts.signal);
      if (t.status === status) return t;
      if (t.status === 'failed')
        throw new ReplicationError(`DMS task ${t.id} failed while the job waited for it to be ${status} — ${describeFailure(t)}`, 'failed', { task: t, operation: 'DescribeReplicationTasks' });
      if (t.status === 'deleting' || t.status === 'failed-move')
        throw new ReplicationError(`DMS task ${t.id} is ${t.status}; it will not become ${status}`, 'invalid-state', { task: t });
      const settledElsewhere = status === 'running' ? t.status === 'stopped' || t.status === 'ready' : t.status === 'running' || t.status === 'ready';
      if (settledElsewhere) {
        wrongSince ??= this.now();
        if (this.now() - wrongSince >= this.settleGraceMs) {
          const what = status === 'running' ? 'resume it first (resumeTask)' : 'stop it first (stopTask)';
          const why = t.stopReason !== undefined || t.lastFailureMessage !== undefined ? ` — ${describeFailure(t)}` : '';
          throw new ReplicationError(`DMS task ${t.id} is ${t.status} and nothing is making it ${status}: ${what}${why}`, 'invalid-state', { task: t });
        }
      } else {
        wrongSince = undefined;
      }
      delay = await this.pause(
        delay,
        deadline,
        opts.signal,
        () => `DMS task ${t.id} is still ${t.status} after ${Math.round((this.now() - started) / 1000)} s (waited for ${status}); the task may still get there — the job can wait again`,
        t,
      );
    }
  }

  /** Stop / Start: InvalidResourceStateFault means the task changed under us (RACED: the caller looks again). */
  private async act(command: DmsCommand, op: string, arn: string, signal: AbortSignal | undefined): Promise<unknown> {
    try {
      return await this.caller.send(command, op, {
        signal,
        onError: (err) => {
          const code = awsCode(err);
          if (code === 'InvalidResourceStateFault') return new Raced();
          if (code === 'ResourceNotFoundFault') return new ReplicationError(`DMS task ${arn} was not found${this.where()} (${op})`, 'not-found', { operation: op, awsCode: code });
          return undefined;
        },
      });
    } catch (e) {
      if (e instanceof Raced) return RACED;
      throw e;
    }
  }

  /** Sleep the next backoff step, or throw a timeout when the deadline has passed. Returns the next step. */
  private async pause(delay: number, deadline: number, signal: AbortSignal | undefined, timeoutMessage: () => string, task?: DmsTask): Promise<number> {
    const left = deadline - this.now();
    if (left <= 0) throw new ReplicationError(timeoutMessage(), 'timeout', task !== undefined ? { task } : {});
    if (signal?.aborted) throw abortError(signal);
    await this.caller.doSleep(Math.min(delay, left), signal);
    return Math.min(this.poll.maxMs, delay * this.poll.factor);
  }

  async tableStats(arn: string, schema: string, table: string, signal?: AbortSignal): Promise<DmsTableStat | undefined> {
    let marker: string | undefined;
    const seen = new Set<string>();
    do {
      const raw = await this.caller.send(
        new DescribeTableStatisticsCommand({
          ReplicationTaskArn: arn,
          MaxRecords: 500,
          Filters: [
            { Name: 'schema-name', Values: [schema] },
            { Name: 'table-name', Values: [table] },
          ],
          ...(marker !== undefined ? { Marker: marker } : {}),
        }),
        'DescribeTableStatistics',
        {
          signal,
          onError: (err) =>
            awsCode(err) === 'ResourceNotFoundFault'
              ? new ReplicationError(`DMS task ${arn} was not found${this.where()} (DescribeTableStatistics): ${errorText(err)}`, 'not-found', { operation: 'DescribeTableStatistics' })
              : undefined,
        },
      );
      const page = parseResponse(tableStatsOutput, raw, SERVICE, 'DescribeTableStatistics');
      const hit = (page.TableStatistics ?? []).find((s) => s.SchemaName === schema && s.TableName === table);
      if (hit !== undefined)
        return {
          schema: hit.SchemaName,
          table: hit.TableName,
          state: hit.TableState ?? 'unknown',
          fullLoadRows: hit.FullLoadRows ?? 0,
          fullLoadErrorRows: hit.FullLoadErrorRows ?? 0,
          fullLoadReloaded: hit.FullLoadReloaded ?? false,
          inserts: hit.Inserts ?? 0,
          updates: hit.Updates ?? 0,
          deletes: hit.Deletes ?? 0,
          ddls: hit.Ddls ?? 0,
          ...(hit.FullLoadStartTime !== undefined ? { fullLoadStart: hit.FullLoadStartTime } : {}),
          ...(hit.FullLoadEndTime !== undefined ? { fullLoadEnd: hit.FullLoadEndTime } : {}),
          ...(hit.LastUpdateTime !== undefined ? { lastUpdate: hit.LastUpdateTime } : {}),
        };
      marker = page.Marker !== undefined && page.Marker !== '' ? page.Marker : undefined;
      if (marker !== undefined) {
        if (seen.has(marker)) throw new ReplicationError(`${SERVICE} returned the same DescribeTableStatistics Marker twice`, 'bad-response', { operation: 'DescribeTableStatistics' });
        seen.add(marker);
      }
    } while (marker !== undefined);
    return undefined;
  }

  async reloadTable(arn: string, schema: string, table: string, signal?: AbortSignal): Promise<void> {
    await this.caller.send(
      new ReloadTablesCommand({ ReplicationTaskArn: arn, TablesToReload: [{ SchemaName: schema, TableName: table }], ReloadOption: 'data-reload' }),
      'ReloadTables',
      {
        signal,
        onError: (err) => {
          const code = awsCode(err);
          if (code === 'InvalidResourceStateFault')
            return new ReplicationError(`cannot reload ${schema}.${table}: ReloadTables needs a running task (${errorText(err)}); resume the task first`, 'invalid-state', {
              operation: 'ReloadTables',
              awsCode: code,
            });
          if (code === 'ResourceNotFoundFault')
            return new ReplicationError(`cannot reload ${schema}.${table}: ${errorText(err)}`, 'not-found', { operation: 'ReloadTables', awsCode: code });
          return undefined;
        },
      },
    );
  }

  async startTask(arn: string, type: DmsStartType, signal?: AbortSignal): Promise<DmsTask> {
    const t = await this.describeTask(arn, signal);
    const fits = type === 'start-replication' ? t.status === 'ready' : t.status === 'stopped' || t.status === 'failed';
    if (!fits) {
      const hint =
        t.status === 'ready'
          ? 'a task that has never run starts with start-replication'
          : t.status === 'stopped' || t.status === 'failed'
            ? 'a task that has run before is loaded again with reload-target (start-replication is only for its first run)'
            : t.status === 'running' || t.status === 'starting'
              ? 'it is already running: stop it first (and wait for stopped) to restart it with reload-target'
              : 'wait until it is stopped, failed or ready';
      throw new ReplicationError(`DMS task ${t.id} is ${t.status}: it cannot be started with ${type} — ${hint}`, 'invalid-state', { task: t, operation: 'StartReplicationTask' });
    }
    const raw = await this.caller.send(new StartReplicationTaskCommand({ ReplicationTaskArn: arn, StartReplicationTaskType: type }), 'StartReplicationTask', {
      signal,
      onError: (err) => {
        const code = awsCode(err);
        if (code === 'InvalidResourceStateFault' || code === 'InvalidParameterCombinationException')
          return new ReplicationError(`DMS refused to start task ${t.id} with ${type}: ${errorText(err)}`, 'invalid-state', { task: t, operation: 'StartReplicationTask', awsCode: code });
        if (code === 'ResourceNotFoundFault') return new ReplicationError(`DMS task ${arn} was not found${this.where()} (StartReplicationTask)`, 'not-found', { operation: 'StartReplicationTask', awsCode: code });
        return undefined;
      },
    });
    return toTask(parseResponse(taskOutput, raw, SERVICE, 'StartReplicationTask').ReplicationTask);
  }

  async createTask(spec: DmsTaskSpec, signal?: AbortSignal): Promise<DmsTask> {
    const raw = await this.caller.send(new CreateReplicationTaskCommand({ ...spec }), 'CreateReplicationTask', {
      signal,
      onError: (err) => this.createError(err, 'CreateReplicationTask', `task ${spec.ReplicationTaskIdentifier}`),
    });
    return toTask(parseResponse(taskOutput, raw, SERVICE, 'CreateReplicationTask').ReplicationTask);
  }

  async describeEndpoints(filter: { type?: DmsEndpointType; id?: string; arn?: string } = {}, signal?: AbortSignal): Promise<DmsEndpoint[]> {
    const filters = filtersOf([
      ['endpoint-type', filter.type],
      ['endpoint-id', filter.id],
      ['endpoint-arn', filter.arn],
    ]);
    return this.describeAll(
      'DescribeEndpoints',
      signal,
      (marker) => new DescribeEndpointsCommand({ ...filters, ...markerOf(marker) }),
      (raw) => {
        const page = parseResponse(describeEndpointsOutput, raw, SERVICE, 'DescribeEndpoints');
        return { items: (page.Endpoints ?? []).map(toEndpoint), marker: page.Marker };
      },
    );
  }

  async createRedshiftTarget(spec: RedshiftTargetEndpointSpec, signal?: AbortSignal): Promise<DmsEndpoint> {
    const bySecret = spec.secretArn !== undefined;
    const raw = await this.caller.send(
      new CreateEndpointCommand({
        EndpointIdentifier: spec.id,
        EndpointType: 'target',
        EngineName: 'redshift',
        ServerName: spec.serverName,
        Port: spec.port,
        DatabaseName: spec.databaseName,
        ...(bySecret
          ? { RedshiftSettings: { SecretsManagerSecretId: spec.secretArn, ...(spec.secretAccessRoleArn !== undefined ? { SecretsManagerAccessRoleArn: spec.secretAccessRoleArn } : {}) } }
          : { ...(spec.username !== undefined ? { Username: spec.username } : {}), ...(spec.password !== undefined ? { Password: spec.password } : {}) }),
      }),
      'CreateEndpoint',
      { signal, onError: (err) => this.createError(err, 'CreateEndpoint', `endpoint ${spec.id}`) },
    );
    return toEndpoint(parseResponse(endpointOutput, raw, SERVICE, 'CreateEndpoint').Endpoint);
  }

  async describeConnections(filter: { endpointArn?: string; instanceArn?: string } = {}, signal?: AbortSignal): Promise<DmsConnection[]> {
    const filters = filtersOf([
      ['endpoint-arn', filter.endpointArn],
      ['replication-instance-arn', filter.instanceArn],
    ]);
    return this.describeAll(
      'DescribeConnections',
      signal,
      (marker) => new DescribeConnectionsCommand({ ...filters, ...markerOf(marker) }),
      (raw) => {
        const page = parseResponse(describeConnectionsOutput, raw, SERVICE, 'DescribeConnections');
        return { items: (page.Connections ?? []).map(toConnection), marker: page.Marker };
      },
    );
  }

  async testConnection(instanceArn: string, endpointArn: string, signal?: AbortSignal): Promise<DmsConnection> {
    const raw = await this.caller.send(new TestConnectionCommand({ ReplicationInstanceArn: instanceArn, EndpointArn: endpointArn }), 'TestConnection', {
      signal,
      onError: (err) => {
        const code = awsCode(err);
        if (code === 'ResourceNotFoundFault')
          return new ReplicationError(`cannot test the connection: ${errorText(err)} (check the replication instance and endpoint ARNs${this.where()})`, 'not-found', { operation: 'TestConnection', awsCode: code });
        if (code === 'InvalidResourceStateFault')
          return new ReplicationError(`cannot test the connection now: ${errorText(err)}; wait for the running test (describeConnections) and try again`, 'invalid-state', { operation: 'TestConnection', awsCode: code });
        return undefined;
      },
    });
    return toConnection(parseResponse(connectionOutput, raw, SERVICE, 'TestConnection').Connection);
  }

  async describeInstances(filter: { id?: string } = {}, signal?: AbortSignal): Promise<DmsInstance[]> {
    const filters = filtersOf([['replication-instance-id', filter.id]]);
    return this.describeAll(
      'DescribeReplicationInstances',
      signal,
      (marker) => new DescribeReplicationInstancesCommand({ ...filters, ...markerOf(marker) }),
      (raw) => {
        const page = parseResponse(describeInstancesOutput, raw, SERVICE, 'DescribeReplicationInstances');
        const items = (page.ReplicationInstances ?? []).map((r) => ({
          arn: r.ReplicationInstanceArn,
          id: r.ReplicationInstanceIdentifier,
          status: r.ReplicationInstanceStatus,
          ...(r.ReplicationInstanceClass !== undefined ? { instanceClass: r.ReplicationInstanceClass } : {}),
        }));
        return { items, marker: page.Marker };
      },
    );
  }

  /**
   * Every page of a Describe* call: `command(marker)` is sent, `read` parses one page into its items and next Marker (a
   * Marker seen twice is a bad response). A ResourceNotFoundFault — DMS's answer to "nothing matches the filters" —
   * ends with what was read, unless `notFound` makes it an error.
   */
  private async describeAll<T>(
    op: string,
    signal: AbortSignal | undefined,
    command: (marker: string | undefined) => DmsCommand,
    read: (raw: unknown) => { items: T[]; marker: string | undefined },
    notFound: () => Error = () => new NoneFound(),
  ): Promise<T[]> {
    const out: T[] = [];
    const seen = new Set<string>();
    let marker: string | undefined;
    do {
      if (signal?.aborted) throw abortError(signal);
      let page: { items: T[]; marker: string | undefined };
      try {
        page = read(await this.caller.send(command(marker), op, { signal, onError: (err) => (awsCode(err) === 'ResourceNotFoundFault' ? notFound() : undefined) }));
      } catch (e) {
        if (e instanceof NoneFound) return out;
        throw e;
      }
      out.push(...page.items);
      marker = page.marker !== undefined && page.marker !== '' ? page.marker : undefined;
      if (marker !== undefined) {
        if (seen.has(marker)) throw new ReplicationError(`${SERVICE} returned the same ${op} Marker twice`, 'bad-response', { operation: op });
        seen.add(marker);
      }
    } while (marker !== undefined);
    return out;
  }

  private createError(err: unknown, op: string, what: string): ReplicationError | undefined {
    const code = awsCode(err);
    if (code === 'ResourceAlreadyExistsFault') return new ReplicationError(`${what} already exists${this.where()}: ${errorText(err)}`, 'already-exists', { operation: op, awsCode: code });
    if (code === 'ResourceNotFoundFault') return new ReplicationError(`cannot create ${what}: ${errorText(err)}`, 'not-found', { operation: op, awsCode: code });
    if (code === 'InvalidParameterValueException' || code === 'InvalidParameterCombinationException' || code === 'InvalidResourceStateFault')
      return new ReplicationError(`DMS refused to create ${what}: ${errorText(err)}`, 'aws', { operation: op, awsCode: code });
    return undefined;
  }
}

export interface CreateDmsOptions {
  /** use this client instead of building one (its own retry settings then apply on top of the adapter's) */
  client?: AwsClientLike<DmsCommand>;
  retry?: Partial<RetryOptions>;
  poll?: Partial<DmsPollOptions>;
  waitTimeoutMs?: number;
  settleGraceMs?: number;
  /** environment for the placeholder-credential check (default process.env) */
  env?: Env;
}

/**
 * Build the adapter from configuration: region, `aws.dmsEndpoint ?? aws.endpoint`, SDK maxAttempts 1 (the adapter
 * retries), placeholder credentials against a loopback endpoint when the environment has none (the sandbox).
 */
export function createDms(config: { aws: AwsConfig }, opts: CreateDmsOptions = {}): DmsAdapter {
  const client = opts.client ?? new DatabaseMigrationServiceClient(sdkClientConfig(config.aws.region, serviceEndpoint(config.aws, 'dms'), opts.env ?? process.env));
  return new DmsAdapter({
    client,
    region: config.aws.region,
    ...(opts.retry !== undefined ? { retry: opts.retry } : {}),
    ...(opts.poll !== undefined ? { poll: opts.poll } : {}),
    ...(opts.waitTimeoutMs !== undefined ? { waitTimeoutMs: opts.waitTimeoutMs } : {}),
    ...(opts.settleGraceMs !== undefined ? { settleGraceMs: opts.settleGraceMs } : {}),
  });
}
