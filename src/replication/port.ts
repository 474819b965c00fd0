/**
 * Replication ports: what a runbook asks of the service that feeds a table.
 *   - DMS (core_usermailing): a task that must be STOPPED before its table is swapped and RESUMED after, whose
 *     CloudWatch log must then be read for `]E:` / `]W:` lines.
 *   - CDC (the other 25, FlyData-like): buffers changes while the table name is missing and applies them when it
 *     reappears; nothing to stop. Its health is judged from the table itself (freshness: max(updated_at) / max(id)).
 * Adapters: src/replication/dms.ts (DMS SDK), src/replication/logs.ts (CloudWatch Logs SDK). Both run unchanged against
 * the loopback sandbox (src/sandbox/dms.ts, src/sandbox/logs.ts).
 */

export type DmsTaskStatus =
  | 'creating'
  | 'ready'
  | 'starting'
  | 'running'
  | 'stopping'
  | 'stopped'
  | 'failed'
  | 'deleting'
  | 'modifying'
  | 'moving'
  | 'failed-move'
  | 'testing';

export interface DmsTask {
  arn: string;
  id: string;
  status: DmsTaskStatus | string;
  stopReason?: string;
  lastFailureMessage?: string;
  /** the replication instance ARN */
  instanceArn?: string;
  /** ReplicationTaskStats.FullLoadProgressPercent */
  fullLoadProgressPercent?: number;
  /** what the task was created with (DescribeReplicationTasks; setup compares them with the registry's settings) */
  sourceEndpointArn?: string;
  targetEndpointArn?: string;
  migrationType?: string;
  /** JSON text, as DMS returns it */
  tableMappings?: string;
  /** ReplicationTaskSettings: JSON text, the whole settings document as DMS returns it (defaults included) */
  settings?: string;
}

/**
 * DescribeTableStatistics' TableState values the runbooks act on (DMS user guide, "Monitoring tasks — table state"):
 * `Before load` (queued), `Full load` (loading), `Table completed` (loaded; CDC applies), `Table is being reloaded`
 * (ReloadTables / reload-target accepted), `Table error` (suspended: nothing applies until a reload), `Table cancelled`.
 * Any other text AWS may add passes through as a plain string.
 */
export const DMS_TABLE_STATES = ['Before load', 'Full load', 'Table completed', 'Table is being reloaded', 'Table error', 'Table cancelled'] as const;
export type DmsTableState = (typeof DMS_TABLE_STATES)[number];

export function isKnownTableState(s: string): s is DmsTableState {
  return (DMS_TABLE_STATES as readonly string[]).includes(s);
}

export interface DmsTableStat {
  schema: string;
  table: string;
  /** `Table completed`, `Table error`, `Before load`, `Full load`, `Table is being reloaded`, … (`unknown` when absent) */
  state: DmsTableState | 'unknown' | (string & {});
  /** rows copied by the current / last full load */
  fullLoadRows: number;
  /** rows the full load could not load */
  fullLoadErrorRows: number;
  /** whether the last full load was a reload (ReloadTables / reload-target) */
  fullLoadReloaded: boolean;
  /** CDC counters since the task's last fresh start: they move while changes apply */
  inserts: number;
  updates: number;
  deletes: number;
  ddls: number;
  fullLoadStart?: Date;
  fullLoadEnd?: Date;
  lastUpdate?: Date;
}

/**
 * StartReplicationTask types the port uses to start fresh (resumeTask covers resume-processing):
 *  - `start-replication`: the ONLY valid type for a task's first run (status `ready`). A full-load(-and-cdc) task that
 *    has run cannot be started with it again (AWS: "valid only for tasks running for the first time").
 *  - `reload-target`: for a task that ran before (`stopped` / `failed`): truncates (TargetTablePrepMode) and loads every
 *    selected table again, then captures changes from now — a restart from the beginning.
 */
export type DmsStartType = 'start-replication' | 'reload-target';

export type DmsEndpointType = 'source' | 'target';

export interface DmsEndpoint {
  arn: string;
  id: string;
  type: DmsEndpointType;
  /** mysql, mariadb, aurora, redshift, … */
  engine: string;
  /** `active`, `creating`, `deleting`, … */
  status: string;
  serverName?: string;
  port?: number;
  databaseName?: string;
  username?: string;
}

export type DmsConnectionStatus = 'successful' | 'failed' | 'testing' | 'deleting';

/** One endpoint tested from one replication instance (DescribeConnections). */
export interface DmsConnection {
  endpointArn: string;
  instanceArn: string;
  status: DmsConnectionStatus | (string & {});
  endpointId?: string;
  instanceId?: string;
  lastFailureMessage?: string;
}

export interface DmsInstance {
  arn: string;
  id: string;
  /** `available`, `creating`, `modifying`, … */
  status: string;
  instanceClass?: string;
}

/** CreateEndpoint for the warehouse side: a Redshift target (credentials by Secrets Manager or user/password). */
export interface RedshiftTargetEndpointSpec {
  id: string;
  serverName: string;
  port: number;
  databaseName: string;
  username?: string;
  password?: string;
  /** Secrets Manager secret with the connection (then username/password are not sent) */
  secretArn?: string;
  secretAccessRoleArn?: string;
}

/** CreateReplicationTask input, as the API names it (built from schemas/ by dms-task-spec.ts). */
export interface DmsTaskSpec {
  ReplicationTaskIdentifier: string;
  SourceEndpointArn: string;
  TargetEndpointArn: string;
  ReplicationInstanceArn: string;
  MigrationType: 'full-load' | 'cdc' | 'full-load-and-cdc';
  /** JSON text: {"rules": [...]} */
  TableMappings: string;
  /** JSON text: the task settings document */
  ReplicationTaskSettings?: string;
}

export interface DmsPort {
  /** the task by identifier (e.g. flydata-core-usermailing); a readable error when there is none */
  /** `withSettings`: also TableMappings and ReplicationTaskSettings (DescribeReplicationTasks WithoutSettings=false; large, so off by default) */
  findTask(taskId: string, opts?: { withSettings?: boolean }): Promise<DmsTask>;
  describeTask(arn: string): Promise<DmsTask>;
  /**
   * StopReplicationTask; a no-op when the task is already stopped/stopping — and when it is `failed` or `ready` (it
   * applies nothing then: check the returned status). A task in another transition (starting…) is waited for first.
   */
  stopTask(arn: string): Promise<DmsTask>;
  /**
   * StartReplicationTask with resume-processing (continue CDC where it stopped, also from `failed`); a no-op when already
   * running/starting; a task still `stopping` is waited for first; a task that never ran (`ready`) is an error.
   */
  resumeTask(arn: string): Promise<DmsTask>;
  /** poll DescribeReplicationTasks with backoff until `status`; throws on `failed` (with LastFailureMessage) or timeout */
  waitForStatus(arn: string, status: 'stopped' | 'running', opts?: { signal?: AbortSignal; timeoutMs?: number }): Promise<DmsTask>;
  /**
   * DescribeTableStatistics for one table, named as the SOURCE has it (schema = the MySQL database, which a schema
   * rename rule may map to another Redshift schema); undefined when the task has no such table
   */
  tableStats(arn: string, schema: string, table: string): Promise<DmsTableStat | undefined>;
  /** ReloadTables (task must be running) */
  reloadTable(arn: string, schema: string, table: string): Promise<void>;
  /**
   * StartReplicationTask with `start-replication` (a task in `ready`: never run) or `reload-target` (a task in `stopped`
   * or `failed`: truncate and load every table again). A task already `starting`/`running` is an invalid-state error
   * (nothing is done: stop it first for a reload); a wrong type for the state is an invalid-state error that says which
   * type fits. Returns the task as StartReplicationTask answered (usually `starting`).
   */
  startTask(arn: string, type: DmsStartType): Promise<DmsTask>;
  /** CreateReplicationTask (the task is `creating`, then `ready`); an identifier in use is kind 'already-exists' */
  createTask(spec: DmsTaskSpec): Promise<DmsTask>;
  /** DescribeEndpoints, optionally only one type; [] when there is none */
  describeEndpoints(filter?: { type?: DmsEndpointType; id?: string; arn?: string }): Promise<DmsEndpoint[]>;
  /** CreateEndpoint for a Redshift target; an identifier in use is kind 'already-exists' */
  createRedshiftTarget(spec: RedshiftTargetEndpointSpec): Promise<DmsEndpoint>;
  /** DescribeConnections (each endpoint × instance tested so far), optionally for one endpoint or instance */
  describeConnections(filter?: { endpointArn?: string; instanceArn?: string }): Promise<DmsConnection[]>;
  /** TestConnection: starts a test (status `testing`); poll describeConnections until successful / failed */
  testConnection(instanceArn: string, endpointArn: string): Promise<DmsConnection>;
  /** DescribeReplicationInstances, optionally by identifier; [] when there is none */
  describeInstances(filter?: { id?: string }): Promise<DmsInstance[]>;
}

/** What went wrong in a replication call, so a runbook can decide (retry later, tell the user, roll back). */
export type ReplicationErrorKind =
  /** the task / table / log group / endpoint does not exist */
  | 'not-found'
  /** a task / endpoint with that identifier exists already (ResourceAlreadyExistsFault) */
  | 'already-exists'
  /** the task is in a state the operation cannot run in (and waiting would not help) */
  | 'invalid-state'
  /** the task ended `failed` (LastFailureMessage, StopReason in the message and in `task`) */
  | 'failed'
  /** a wait ran past its timeout (the task may still get there: a resumed job waits again) */
  | 'timeout'
  /** AWS refused the call (access denied, validation, throttling after every retry, network) */
  | 'aws'
  /** AWS answered with a shape the adapter cannot use */
  | 'bad-response';

export class ReplicationError extends Error {
  constructor(
    message: string,
    readonly kind: ReplicationErrorKind,
    readonly details: { task?: DmsTask; operation?: string; awsCode?: string } = {},
  ) {
    super(message);
    this.name = 'ReplicationError';
  }
}

export type LogSeverity = 'E' | 'W' | 'I' | 'D' | 'T' | '?';

export interface DmsLogLine {
  timestamp: number;
  stream: string;
  /** e.g. TARGET_APPLY, SOURCE_CAPTURE, TASK_MANAGER */
  component: string;
  severity: LogSeverity;
  text: string;
  raw: string;
  /** CloudWatch's event id, when the line came from CloudWatch (lets a re-scan of an overlapping window skip it) */
  eventId?: string;
}

export interface LogsPort {
  /**
   * Every event of `group` (optionally only `streams`) in [startMs, endMs) matching `pattern` (CloudWatch filter
   * syntax), following nextToken through empty pages. Parsed into DMS log lines.
   */
  scan(opts: { group: string; streams?: string[]; startMs: number; endMs: number; pattern?: string; signal?: AbortSignal }): Promise<DmsLogLine[]>;
}

/** Parse a DMS log message: `[TARGET_APPLY    ]E:  text` → component, severity, text. */
export function parseDmsLogLine(raw: string, timestamp: number, stream: string): DmsLogLine {
  const m = /\[([A-Z_]+)\s*\]([EWIDT]):\s*(.*)$/s.exec(raw);
  if (!m) return { timestamp, stream, component: 'UNKNOWN', severity: '?', text: raw.trim(), raw };
  return { timestamp, stream, component: m[1] ?? 'UNKNOWN', severity: (m[2] ?? '?') as LogSeverity, text: (m[3] ?? '').trim(), raw };
}

/** `]E:` and `]W:` lines grouped by component, for the thread: "TARGET_APPLY: 3 errors, 1 warning". */
export function groupLogLines(lines: readonly DmsLogLine[]): Array<{ component: string; errors: DmsLogLine[]; warnings: DmsLogLine[] }> {
  const by = new Map<string, { component: string; errors: DmsLogLine[]; warnings: DmsLogLine[] }>();
  for (const l of lines) {
    if (l.severity !== 'E' && l.severity !== 'W') continue;
    const g = by.get(l.component) ?? { component: l.component, errors: [], warnings: [] };
    (l.severity === 'E' ? g.errors : g.warnings).push(l);
    by.set(l.component, g);
  }
  return [...by.values()].sort((a, b) => b.errors.length - a.errors.length || a.component.localeCompare(b.component));
}
