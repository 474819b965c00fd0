/**
 * The DMS sandbox's endpoints, replication instances and connection tests (CreateEndpoint, DescribeEndpoints,
 * TestConnection, DescribeConnections, DescribeReplicationInstances), validated as AWS documents them:
 *  - identifiers: 1–255 letters, digits and hyphens, starting with a letter, no trailing hyphen and no two in a row;
 *  - EndpointType `source` | `target` (answered upper-case, `SOURCE` / `TARGET`, as the service does); EngineName from
 *    the documented list; ServerName, Port, Username and Password required unless a Secrets Manager secret is named;
 *    a Redshift target needs DatabaseName; a second endpoint with the same identifier is ResourceAlreadyExistsFault;
 *  - TestConnection answers Status `testing` and settles later in `successful` or `failed` with a LastFailureMessage in
 *    the service's words; a connection is one endpoint × one replication instance.
 * What a test connection reaches is decided by `probe` (server.ts): a MySQL/MariaDB source is really connected to with
 * mysql2 (SELECT 1), the embedded stand-in answers at ServerName `sandbox-source`, and a Redshift target is the
 * sandbox's own warehouse (fails while the warehouse is unreachable by the fault knob).
 */
import { z } from 'zod';
import { SandboxFault, parseInput } from './aws-fault.js';

const INVALID = 'InvalidParameterValueException';
const COMBINATION = 'InvalidParameterCombinationException';
const NOT_FOUND = 'ResourceNotFoundFault';
const EXISTS = 'ResourceAlreadyExistsFault';

/** AWS DMS identifier rules (endpoints, tasks, instances). */
export const DMS_IDENTIFIER_RULE = /^(?!.*--)[A-Za-z](?:[A-Za-z0-9-]{0,253}[A-Za-z0-9])?$/;

export function checkIdentifier(field: string, id: string): void {
  if (!DMS_IDENTIFIER_RULE.test(id))
    throw new SandboxFault(INVALID, `${field} "${id}" is invalid: it must be 1–255 letters, digits or hyphens, start with a letter, and not end with a hyphen or contain two consecutive hyphens`);
}

/** The EngineName values CreateEndpoint documents. */
export const DMS_ENGINES = [
  'mysql',
  'oracle',
  'postgres',
  'mariadb',
  'aurora',
  'aurora-postgresql',
  'opensearch',
  'redshift',
  'redshift-serverless',
  's3',
  'db2',
  'db2-zos',
  'azuredb',
  'sybase',
  'dynamodb',
  'mongodb',
  'kinesis',
  'kafka',
  'elasticsearch',
  'docdb',
  'sqlserver',
  'neptune',
  'babelfish',
  'timestream',
] as const;

const MYSQL_LIKE = new Set(['mysql', 'mariadb', 'aurora']);

export interface EndpointRec {
  identifier: string;
  arn: string;
  type: 'source' | 'target';
  engine: string;
  serverName?: string;
  port?: number;
  databaseName?: string;
  username?: string;
  /** kept for the probe; never rendered */
  password?: string;
  extraConnectionAttributes?: string;
  secretId?: string;
}

export interface InstanceRec {
  identifier: string;
  arn: string;
  instanceClass: string;
}

type ConnStatus = 'testing' | 'successful' | 'failed';
interface ConnectionRec {
  endpointArn: string;
  instanceArn: string;
  status: ConnStatus;
  lastFailureMessage?: string;
  /** bumped by every TestConnection: an older probe's answer does not overwrite a newer test */
  generation: number;
}

/** Connects to an endpoint from a replication instance: undefined when it answers, else the failure text. */
export type EndpointProbe = (e: Readonly<EndpointRec>) => Promise<string | undefined>;

const filter = z.object({ Name: z.string(), Values: z.array(z.string()) });
const secretSettings = z.looseObject({ SecretsManagerSecretId: z.string().optional(), SecretsManagerAccessRoleArn: z.string().optional() }).optional();
export const createEndpointInput = z.object({
  EndpointIdentifier: z.string().min(1),
  EndpointType: z.enum(['source', 'target']),
  EngineName: z.enum(DMS_ENGINES),
  Username: z.string().optional(),
  Password: z.string().optional(),
  ServerName: z.string().optional(),
  Port: z.number().int().min(1).max(65535).optional(),
  DatabaseName: z.string().optional(),
  ExtraConnectionAttributes: z.string().optional(),
  SslMode: z.enum(['none', 'require', 'verify-ca', 'verify-full']).optional(),
  MySQLSettings: secretSettings,
  RedshiftSettings: secretSettings,
  Tags: z.array(z.object({ Key: z.string().optional(), Value: z.string().optional() })).optional(),
});
const describeInput = z.object({ Filters: z.array(filter).optional(), MaxRecords: z.number().int().min(20).max(100).optional(), Marker: z.string().optional() });
const testInput = z.object({ ReplicationInstanceArn: z.string().min(1), EndpointArn: z.string().min(1) });

export class DmsEndpoints {
  private readonly endpoints = new Map<string, EndpointRec>();
  private readonly connections = new Map<string, ConnectionRec>();
  private readonly pendingProbes = new Set<Promise<void>>();

  constructor(
    private readonly ctx: {
      region: string;
      accountId: string;
      resourceIdFor: (seed: string) => string;
      instances: () => ReadonlyMap<string, InstanceRec>;
      probe: () => EndpointProbe | undefined;
    },
  ) {}

  // ── operations ──

  createEndpoint(body: unknown): Record<string, unknown> {
    const i = parseInput(createEndpointInput, body, 'CreateEndpoint', INVALID);
    checkIdentifier('EndpointIdentifier', i.EndpointIdentifier);
    const secret = i.MySQLSettings?.SecretsManagerSecretId ?? i.RedshiftSettings?.SecretsManagerSecretId;
    if (secret === undefined && (MYSQL_LIKE.has(i.EngineName) || i.EngineName === 'redshift' || i.EngineName === 'postgres')) {
      const missing = (['ServerName', 'Port', 'Username', 'Password'] as const).filter((k) => i[k] === undefined || i[k] === '');
      if (missing.length > 0)
        throw new SandboxFault(COMBINATION, `CreateEndpoint: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} required for a ${i.EngineName} endpoint unless the connection comes from a Secrets Manager secret (SecretsManagerSecretId)`);
    }
    if (i.EngineName === 'redshift' && i.EndpointType !== 'target') throw new SandboxFault(COMBINATION, 'CreateEndpoint: Amazon Redshift can only be a target endpoint');
    if (i.EngineName === 'redshift' && (i.DatabaseName === undefined || i.DatabaseName === '') && secret === undefined)
      throw new SandboxFault(COMBINATION, 'CreateEndpoint: DatabaseName is required for a redshift target endpoint');
    if ([...this.endpoints.values()].some((e) => e.identifier.toLowerCase() === i.EndpointIdentifier.toLowerCase()))
      throw new SandboxFault(EXISTS, `Endpoint with identifier ${i.EndpointIdentifier} already exists`);
    const rec: EndpointRec = {
      identifier: i.EndpointIdentifier,
      arn: `arn:aws:dms:${this.ctx.region}:${this.ctx.accountId}:endpoint:${this.ctx.resourceIdFor(`endpoint:${i.EndpointIdentifier}`)}`,
      type: i.EndpointType,
      engine: i.EngineName,
      ...(i.ServerName !== undefined ? { serverName: i.ServerName } : {}),
      ...(i.Port !== undefined ? { port: i.Port } : {}),
      ...(i.DatabaseName !== undefined ? { databaseName: i.DatabaseName } : {}),
      ...(i.Username !== undefined ? { username: i.Username } : {}),
      ...(i.Password !== undefined ? { password: i.Password } : {}),
      ...(i.ExtraConnectionAttributes !== undefined ? { extraConnectionAttributes: i.ExtraConnectionAttributes } : {}),
      ...(secret !== undefined ? { secretId: secret } : {}),
    };
    this.endpoints.set(rec.arn, rec);
    return { Endpoint: renderEndpoint(rec) };
  }

  describeEndpoints(body: unknown): Record<string, unknown> {
    const i = parseInput(describeInput, body, 'DescribeEndpoints', INVALID);
    let list = [...this.endpoints.values()];
    for (const f of i.Filters ?? []) {
      const values = new Set(f.Values.map((v) => v.toLowerCase()));
      const pick: ((e: EndpointRec) => string) | undefined = {
        'endpoint-arn': (e: EndpointRec) => e.arn,
        'endpoint-type': (e: EndpointRec) => e.type,
        'endpoint-id': (e: EndpointRec) => e.identifier,
        'engine-name': (e: EndpointRec) => e.engine,
      }[f.Name];
      if (pick === undefined) throw new SandboxFault(INVALID, `DescribeEndpoints: unknown filter "${f.Name}" (use endpoint-arn, endpoint-type, endpoint-id or engine-name)`);
      list = list.filter((e) => values.has(pick(e).toLowerCase()));
    }
    if (list.length === 0) throw new SandboxFault(NOT_FOUND, 'No Endpoints found matching provided filters');
    return { Endpoints: list.map(renderEndpoint) };
  }

  testConnection(body: unknown): Record<string, unknown> {
    const i = parseInput(testInput, body, 'TestConnection', INVALID);
    const e = this.endpoints.get(i.EndpointArn);
    if (e === undefined) throw new SandboxFault(NOT_FOUND, `Endpoint ${i.EndpointArn} not found`);
    const inst = this.ctx.instances().get(i.ReplicationInstanceArn);
    if (inst === undefined) throw new SandboxFault(NOT_FOUND, `Replication instance ${i.ReplicationInstanceArn} not found`);
    const key = `${inst.arn} ${e.arn}`;
    const prev = this.connections.get(key);
    if (prev?.status === 'testing') throw new SandboxFault('InvalidResourceStateFault', `A test of the connection between ${inst.identifier} and ${e.identifier} is already running`);
    const c: ConnectionRec = { endpointArn: e.arn, instanceArn: inst.arn, status: 'testing', generation: (prev?.generation ?? 0) + 1 };
    this.connections.set(key, c);
    const gen = c.generation;
    const p = this.runProbe(e)
      .then((failure) => {
        if (c.generation !== gen) return;
        c.status = failure === undefined ? 'successful' : 'failed';
        if (failure !== undefined) c.lastFailureMessage = failure;
        else delete c.lastFailureMessage;
      })
      .finally(() => this.pendingProbes.delete(p));
    this.pendingProbes.add(p);
    return { Connection: this.renderConnection(c) };
  }

  describeConnections(body: unknown): Record<string, unknown> {
    const i = parseInput(describeInput, body, 'DescribeConnections', INVALID);
    let list = [...this.connections.values()];
    for (const f of i.Filters ?? []) {
      const values = new Set(f.Values);
      const pick: ((c: ConnectionRec) => string) | undefined = {
        'endpoint-arn': (c: ConnectionRec) => c.endpointArn,
        'replication-instance-arn': (c: ConnectionRec) => c.instanceArn,
      }[f.Name];
      if (pick === undefined) throw new SandboxFault(INVALID, `DescribeConnections: unknown filter "${f.Name}" (use endpoint-arn or replication-instance-arn)`);
      list = list.filter((c) => values.has(pick(c)));
    }
    return { Connections: list.map((c) => this.renderConnection(c)) };
  }

  describeInstances(body: unknown): Record<string, unknown> {
    const i = parseInput(describeInput, body, 'DescribeReplicationInstances', INVALID);
    let list = [...this.ctx.instances().values()];
    for (const f of i.Filters ?? []) {
      const values = new Set(f.Values);
      const pick: ((r: InstanceRec) => string) | undefined = {
        'replication-instance-arn': (r: InstanceRec) => r.arn,
        'replication-instance-id': (r: InstanceRec) => r.identifier,
        'replication-instance-class': (r: InstanceRec) => r.instanceClass,
      }[f.Name];
      if (pick === undefined)
        throw new SandboxFault(INVALID, `DescribeReplicationInstances: unknown filter "${f.Name}" (use replication-instance-arn, replication-instance-id or replication-instance-class)`);
      list = list.filter((r) => values.has(pick(r)));
    }
    if (list.length === 0) throw new SandboxFault(NOT_FOUND, 'No replication instances found matching provided filters');
    return {
      ReplicationInstances: list.map((r) => ({
        ReplicationInstanceIdentifier: r.identifier,
        ReplicationInstanceArn: r.arn,
        ReplicationInstanceClass: r.instanceClass,
        ReplicationInstanceStatus: 'available',
        EngineVersion: '3.5.3',
        MultiAZ: false,
        PubliclyAccessible: false,
      })),
    };
  }

  // ── direct API ──

  /** An endpoint that already exists in the account (startSandbox's seeded tasks); returns it when the ARN is taken. */
  seed(rec: EndpointRec): EndpointRec {
    const had = this.endpoints.get(rec.arn);
    if (had !== undefined) return had;
    this.endpoints.set(rec.arn, rec);
    return rec;
  }

  get(arn: string): EndpointRec | undefined {
    return this.endpoints.get(arn);
  }

  /** Resolves when every connection test started so far has settled (tests). */
  async settled(): Promise<void> {
    while (this.pendingProbes.size > 0) await Promise.allSettled([...this.pendingProbes]);
  }

  private async runProbe(e: EndpointRec): Promise<string | undefined> {
    const probe = this.ctx.probe();
    if (probe === undefined) return undefined;
    try {
      return await probe(e);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  private renderConnection(c: ConnectionRec): Record<string, unknown> {
    const e = this.endpoints.get(c.endpointArn);
    const inst = this.ctx.instances().get(c.instanceArn);
    return {
      ReplicationInstanceArn: c.instanceArn,
      EndpointArn: c.endpointArn,
      Status: c.status,
      ...(c.lastFailureMessage !== undefined ? { LastFailureMessage: c.lastFailureMessage } : {}),
      ...(e !== undefined ? { EndpointIdentifier: e.identifier } : {}),
      ...(inst !== undefined ? { ReplicationInstanceIdentifier: inst.identifier } : {}),
    };
  }
}

function renderEndpoint(e: EndpointRec): Record<string, unknown> {
  return {
    EndpointIdentifier: e.identifier,
    EndpointType: e.type.toUpperCase(),
    EngineName: e.engine,
    EngineDisplayName: e.engine === 'redshift' ? 'Amazon Redshift' : e.engine === 'mariadb' ? 'MariaDB' : e.engine === 'mysql' ? 'MySQL' : e.engine,
    EndpointArn: e.arn,
    Status: 'active',
    SslMode: 'none',
    ...(e.serverName !== undefined ? { ServerName: e.serverName } : {}),
    ...(e.port !== undefined ? { Port: e.port } : {}),
    ...(e.databaseName !== undefined ? { DatabaseName: e.databaseName } : {}),
    ...(e.username !== undefined ? { Username: e.username } : {}),
    ...(e.extraConnectionAttributes !== undefined ? { ExtraConnectionAttributes: e.extraConnectionAttributes } : {}),
  };
}

/** The failure text DMS gives when a MySQL source does not answer (the ODBC driver's words, as the console shows them). */
export function mysqlConnectFailure(e: Readonly<EndpointRec>, detail: string): string {
  return `Test Endpoint failed: Application-Status: 1020912, Application-Message: Cannot connect to ODBC provider Network error has occurred, Application-Detailed-Message: RetCode: SQL_ERROR SqlState: HY000 NativeError: 2003 Message: [MySQL][ODBC 8.0(w) Driver]Can't connect to MySQL server on '${e.serverName ?? '?'}' (${detail})`;
}

export function isMysqlLike(engine: string): boolean {
  return MYSQL_LIKE.has(engine);
}

/** The host name a source endpoint uses for the sandbox's embedded source stand-in (source-db.ts). */
export const EMBEDDED_SOURCE_HOST = 'sandbox-source';

/**
 * The sandbox's probe: a MySQL/MariaDB/Aurora source is connected to for real (mysql2, SELECT 1, 5 s timeout) unless it
 * names the embedded stand-in (`sandbox-source`); a Redshift target is the sandbox's warehouse.
 */
export function sandboxProbe(o: { warehouseReachable: () => boolean; embeddedSourceReachable?: () => boolean; connectTimeoutMs?: number }): EndpointProbe {
  return async (e) => {
    if (isMysqlLike(e.engine)) {
      if (e.serverName === EMBEDDED_SOURCE_HOST) return (o.embeddedSourceReachable?.() ?? true) ? undefined : mysqlConnectFailure(e, '111 "Connection refused"');
      const { createConnection } = await import('mysql2/promise');
      try {
        const conn = await createConnection({
          host: e.serverName,
          ...(e.port !== undefined ? { port: e.port } : {}),
          ...(e.username !== undefined ? { user: e.username } : {}),
          ...(e.password !== undefined ? { password: e.password } : {}),
          ...(e.databaseName !== undefined ? { database: e.databaseName } : {}),
          connectTimeout: o.connectTimeoutMs ?? 5000,
        });
        try {
          await conn.query('SELECT 1');
        } finally {
          await conn.end().catch(() => undefined);
        }
        return undefined;
      } catch (err) {
        const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
        if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_BAD_DB_ERROR')
          return `Test Endpoint failed: Application-Status: 1020912, Application-Message: Cannot connect to ODBC provider ODBC general error., Application-Detailed-Message: RetCode: SQL_ERROR SqlState: HY000 NativeError: 1045 Message: [MySQL][ODBC 8.0(w) Driver]${err instanceof Error ? err.message : String(err)}`;
        return mysqlConnectFailure(e, code !== '' ? code : err instanceof Error ? err.message : String(err));
      }
    }
    if (e.engine === 'redshift' || e.engine === 'redshift-serverless') {
      return o.warehouseReachable()
        ? undefined
        : `Test Endpoint failed: Application-Status: 1020912, Application-Message: Failed to connect Network error has occurred, Application-Detailed-Message: RetCode: SQL_ERROR SqlState: 08001 NativeError: 101 Message: [Amazon][Amazon Redshift] (10) Error occurred while trying to connect: could not connect to server ${e.serverName ?? '?'}:${e.port ?? 5439}`;
    }
    return undefined;
  };
}
