/**
 * AWS DMS sandbox: replication tasks with real state transitions, table statistics and CloudWatch task logs, speaking
 * `AmazonDMSv20160101.*` awsJson1_1 exactly as @aws-sdk/client-database-migration-service sends it (PascalCase fields,
 * dates as epoch seconds).
 *
 * Transitions take time (configurable `delays`): creating → ready; ready/stopped/failed → starting → running;
 * running → stopping → stopped. A task does not reach `stopped` while an attached apply loop is in the middle of a write:
 * once a client sees `stopped`, nothing more lands in the target — the guarantee the bot's dms runbook relies on.
 * While `stopping`, changes still apply (as in the real service), so a runbook that does not wait for `stopped` loses data
 * in the sandbox too.
 *
 * The target writes themselves are done by apply loops (apply-loop.ts) that attach to a task's table with
 * `attachTable()`; tables nobody attached to go through Before load → Table completed on their own.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type AwsJsonResponse, SandboxFault, decodeToken, encodeToken, epochSeconds, faultResponse, ok, operationOf, parseInput } from './aws-fault.js';
import type { LogsSandbox } from './logs.js';
import { DmsEndpoints, EMBEDDED_SOURCE_HOST, type EndpointProbe, type InstanceRec, checkIdentifier, sandboxProbe } from './dms-endpoints.js';

export const DMS_TARGET_PREFIX = 'AmazonDMSv20160101';

export type DmsTaskStatus = 'creating' | 'ready' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed' | 'deleting';
export type DmsTableState = 'Before load' | 'Full load' | 'Table completed' | 'Table error' | 'Table cancelled' | 'Table is being reloaded';
export type StartType = 'start-replication' | 'resume-processing' | 'reload-target';
export type MigrationType = 'full-load' | 'cdc' | 'full-load-and-cdc';
export type TableErrorPolicy = 'SUSPEND_TABLE' | 'STOP_TASK';

const INVALID = 'InvalidParameterValueException';
const STATE = 'InvalidResourceStateFault';
const NOT_FOUND = 'ResourceNotFoundFault';
const EXISTS = 'ResourceAlreadyExistsFault';

export interface DmsDelays {
  /** creating → ready */
  createMs: number;
  /** starting → running */
  startMs: number;
  /** stopping → stopped (longer if an apply is in flight) */
  stopMs: number;
  /** Before load → Table completed, for tables no apply loop is attached to */
  fullLoadMs: number;
}

export const DEFAULT_DMS_DELAYS: DmsDelays = { createMs: 500, startMs: 1500, stopMs: 1500, fullLoadMs: 1000 };

export interface DmsSandboxOptions {
  region?: string;
  accountId?: string;
  now?: () => number;
  delays?: Partial<DmsDelays>;
  /** where task logs go (log group dms-tasks-<instance>, stream dms-task-<resource id>); no logs without it */
  logs?: LogsSandbox;
  /** replication instance ARN → instance identifier (names the log group); default: the ARN's last segment */
  instances?: Record<string, string>;
  /** what a TestConnection reaches (default: sandboxProbe with the warehouse always reachable) */
  probe?: EndpointProbe;
}

/** Task settings the sandbox starts from (the ones the ak_sumofus core_usermailing task uses); client settings merge over them. */
export const DEFAULT_TASK_SETTINGS = {
  TargetMetadata: {
    TargetSchema: '',
    SupportLobs: true,
    FullLobMode: false,
    LobChunkSize: 0,
    LimitedSizeLobMode: true,
    LobMaxSize: 32,
    BatchApplyEnabled: true,
  },
  FullLoadSettings: {
    TargetTablePrepMode: 'TRUNCATE_BEFORE_LOAD',
    CreatePkAfterFullLoad: false,
    StopTaskCachedChangesApplied: false,
    StopTaskCachedChangesNotApplied: false,
    MaxFullLoadSubTasks: 8,
    TransactionConsistencyTimeout: 600,
    CommitRate: 10000,
  },
  Logging: {
    EnableLogging: true,
    LogComponents: ['SOURCE_UNLOAD', 'SOURCE_CAPTURE', 'TARGET_LOAD', 'TARGET_APPLY', 'TASK_MANAGER'].map((Id) => ({ Id, Severity: 'LOGGER_SEVERITY_DEFAULT' })),
  },
  ErrorBehavior: {
    DataErrorPolicy: 'LOG_ERROR',
    DataTruncationErrorPolicy: 'LOG_ERROR',
    DataErrorEscalationPolicy: 'SUSPEND_TABLE',
    DataErrorEscalationCount: 0,
    TableErrorPolicy: 'SUSPEND_TABLE',
    TableErrorEscalationPolicy: 'STOP_TASK',
    TableErrorEscalationCount: 0,
    RecoverableErrorCount: -1,
    RecoverableErrorInterval: 5,
    ApplyErrorDeletePolicy: 'IGNORE_RECORD',
    ApplyErrorInsertPolicy: 'LOG_ERROR',
    ApplyErrorUpdatePolicy: 'LOG_ERROR',
  },
  ChangeProcessingTuning: { BatchApplyPreserveTransaction: true, BatchApplyTimeoutMin: 1, BatchApplyTimeoutMax: 30, BatchSplitSize: 0 },
} as const;

export interface DmsTableStatsView {
  schema: string;
  table: string;
  state: DmsTableState;
  fullLoadRows: number;
  fullLoadErrorRows: number;
  inserts: number;
  updates: number;
  deletes: number;
  ddls: number;
  fullLoadStartTime?: number;
  fullLoadEndTime?: number;
  fullLoadReloaded: boolean;
  lastUpdateTime: number;
}

interface TableRec extends DmsTableStatsView {
  /** +1 each time the table must be (re)loaded; an attached apply loop performs the load */
  loadGeneration: number;
  attached: boolean;
  /** writes in flight from the attached loop: the task cannot reach `stopped` until 0 */
  busy: number;
  /** for unattached tables: when the simulated full load finishes */
  loadDueAt?: number;
  /** rows the source held when the running full load started (FullLoadProgressPercent) */
  loadExpectedRows?: number;
}

interface TaskRec {
  identifier: string;
  resourceId: string;
  arn: string;
  instanceArn: string;
  sourceEndpointArn: string;
  targetEndpointArn: string;
  migrationType: MigrationType;
  tableMappings: string;
  selection: SelectionRule[];
  settings: Record<string, unknown>;
  status: DmsTaskStatus;
  stopReason?: string;
  lastFailureMessage?: string;
  createdAt: number;
  startDate?: number;
  freshStartDate?: number;
  stopDate?: number;
  fullLoadStartDate?: number;
  fullLoadFinishDate?: number;
  runningSince?: number;
  pending?: { to: DmsTaskStatus; at: number; cause: StartType | 'stop' | 'create'; failure?: string };
  failNextResume?: string;
  injectOnResume: string[];
  logGroup: string;
  logStream: string;
  tables: Map<string, TableRec>;
  /** +1 on a cdc-only start-replication: attached loops drop changes from before the new start point */
  cdcGeneration: number;
  timer?: NodeJS.Timeout;
}

interface SelectionRule {
  schema: RegExp;
  table: RegExp;
  include: boolean;
  explicit?: { schema: string; table: string };
}

export interface DmsTransition {
  arn: string;
  identifier: string;
  from: DmsTaskStatus;
  to: DmsTaskStatus;
  cause: StartType | 'stop' | 'create' | 'error';
  at: number;
}

export interface SeedTaskSpec {
  identifier: string;
  /** replication instance identifier (names the log group dms-tasks-<instance>) */
  replicationInstance?: string;
  status?: 'ready' | 'running' | 'stopped';
  migrationType?: MigrationType;
  /** JSON string or object; default: one include rule per `tables` entry */
  tableMappings?: string | object;
  /** merged over DEFAULT_TASK_SETTINGS */
  settings?: object;
  tables?: readonly { schema: string; table: string; fullLoadRows?: number }[];
  resourceId?: string;
  /** overrides the log group (default dms-tasks-<replicationInstance>) */
  logGroup?: string;
}

export interface DmsTaskView {
  identifier: string;
  arn: string;
  resourceId: string;
  status: DmsTaskStatus;
  stopReason?: string;
  lastFailureMessage?: string;
  migrationType: MigrationType;
  logGroup: string;
  logStream: string;
  tables: DmsTableStatsView[];
}

// ───────────────────────────── request shapes ─────────────────────────────

const filter = z.object({ Name: z.string(), Values: z.array(z.string()) });
export const createTaskInput = z.object({
  ReplicationTaskIdentifier: z.string(),
  SourceEndpointArn: z.string().min(1),
  TargetEndpointArn: z.string().min(1),
  ReplicationInstanceArn: z.string().min(1),
  MigrationType: z.enum(['full-load', 'cdc', 'full-load-and-cdc']),
  TableMappings: z.string().min(1),
  ReplicationTaskSettings: z.string().optional(),
  ResourceIdentifier: z.string().optional(),
});
const describeTasksInput = z.object({
  Filters: z.array(filter).optional(),
  MaxRecords: z.number().int().min(20).max(100).optional(),
  Marker: z.string().optional(),
  WithoutSettings: z.boolean().optional(),
});
const arnInput = z.object({ ReplicationTaskArn: z.string().min(1) });
const startInput = z.object({
  ReplicationTaskArn: z.string().min(1),
  StartReplicationTaskType: z.enum(['start-replication', 'resume-processing', 'reload-target']),
  CdcStartTime: z.number().optional(),
  CdcStartPosition: z.string().optional(),
  CdcStopPosition: z.string().optional(),
});
const reloadInput = z.object({
  ReplicationTaskArn: z.string().min(1),
  TablesToReload: z.array(z.object({ SchemaName: z.string().min(1), TableName: z.string().min(1) })).min(1),
  ReloadOption: z.enum(['data-reload', 'validate-only']).optional(),
});
const tableStatsInput = z.object({
  ReplicationTaskArn: z.string().min(1),
  MaxRecords: z.number().int().min(10).max(500).optional(),
  Marker: z.string().optional(),
  Filters: z.array(filter).optional(),
});

const mappingsShape = z.object({
  rules: z.array(
    z.looseObject({
      'rule-type': z.string(),
      'rule-action': z.string().optional(),
      'object-locator': z.looseObject({ 'schema-name': z.string().optional(), 'table-name': z.string().optional() }).optional(),
    }),
  ),
});

/** The task-settings fields the sandbox checks (DMS task settings reference: enum values and types); others pass through. */
const LOG_COMPONENTS = ['SOURCE_UNLOAD', 'SOURCE_CAPTURE', 'TARGET_LOAD', 'TARGET_APPLY', 'TASK_MANAGER', 'TRANSFORMATION', 'SORTER', 'FILE_FACTORY', 'METADATA_MANAGER', 'IO', 'PERFORMANCE', 'COMMON', 'ADDONS', 'DATA_STRUCTURE', 'COMMUNICATION', 'FILE_TRANSFER', 'REST_SERVER', 'SERVER', 'TABLES_MANAGER', 'UTILITIES', 'VALIDATOR', 'VALIDATOR_EXT'] as const;
const SEVERITIES = ['LOGGER_SEVERITY_ERROR', 'LOGGER_SEVERITY_WARNING', 'LOGGER_SEVERITY_INFO', 'LOGGER_SEVERITY_DEFAULT', 'LOGGER_SEVERITY_DEBUG', 'LOGGER_SEVERITY_DETAILED_DEBUG'] as const;
const taskSettingsShape = z.looseObject({
  TargetMetadata: z
    .looseObject({
      SupportLobs: z.boolean().optional(),
      FullLobMode: z.boolean().optional(),
      LimitedSizeLobMode: z.boolean().optional(),
      LobMaxSize: z.number().int().min(0).optional(),
      LobChunkSize: z.number().int().min(0).optional(),
      BatchApplyEnabled: z.boolean().optional(),
    })
    .refine((m) => !(m.FullLobMode === true && m.LimitedSizeLobMode === true), 'FullLobMode and LimitedSizeLobMode cannot both be true')
    .optional(),
  FullLoadSettings: z.looseObject({ TargetTablePrepMode: z.enum(['DO_NOTHING', 'DROP_AND_CREATE', 'TRUNCATE_BEFORE_LOAD']).optional() }).optional(),
  Logging: z
    .looseObject({
      EnableLogging: z.boolean().optional(),
      LogComponents: z.array(z.looseObject({ Id: z.enum(LOG_COMPONENTS), Severity: z.enum(SEVERITIES) })).optional(),
    })
    .optional(),
});

// ───────────────────────────── helpers ─────────────────────────────

function likePattern(s: string): RegExp {
  return new RegExp(`^${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*')}$`);
}

function parseSelection(json: string): SelectionRule[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new SandboxFault(INVALID, `TableMappings is not valid JSON: ${(e as Error).message}`);
  }
  const m = mappingsShape.safeParse(raw);
  if (!m.success) throw new SandboxFault(INVALID, `TableMappings must be {"rules": [...]}: ${m.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const rules: SelectionRule[] = [];
  for (const r of m.data.rules) {
    if (r['rule-type'] !== 'selection') continue;
    const s = r['object-locator']?.['schema-name'];
    const t = r['object-locator']?.['table-name'];
    if (s === undefined || t === undefined) throw new SandboxFault(INVALID, 'TableMappings: a selection rule needs object-locator.schema-name and table-name');
    const include = (r['rule-action'] ?? 'include') !== 'exclude';
    rules.push({
      schema: likePattern(s),
      table: likePattern(t),
      include,
      ...(!s.includes('%') && !t.includes('%') ? { explicit: { schema: s, table: t } } : {}),
    });
  }
  if (!rules.some((r) => r.include)) throw new SandboxFault(INVALID, 'TableMappings: at least one selection rule with rule-action "include" is required');
  return rules;
}

/** A table is replicated when an include rule matches it and no exclude rule does. */
function selects(rules: readonly SelectionRule[], schema: string, table: string): boolean {
  const m = rules.filter((r) => r.schema.test(schema) && r.table.test(table));
  return m.some((r) => r.include) && !m.some((r) => !r.include);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isRecord(b) && isRecord(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function tableKey(schema: string, table: string): string {
  return `${schema}.${table}`;
}

/** DMS log line: `2024-05-01T10:11:12 [TARGET_APPLY    ]E:  text`. */
export function dmsLogLine(at: number, component: string, severity: 'E' | 'W' | 'I' | 'D', text: string): string {
  const ts = new Date(at).toISOString().slice(0, 19);
  return `${ts} [${component.padEnd(16)}]${severity}:  ${text}`;
}

// ───────────────────────────── the sandbox ─────────────────────────────

export class DmsSandbox {
  private readonly tasks = new Map<string, TaskRec>();
  private readonly listeners = new Set<(t: DmsTransition) => void>();
  private readonly now: () => number;
  private readonly region: string;
  private readonly accountId: string;
  private readonly logs: LogsSandbox | undefined;
  private readonly instances: Record<string, string>;
  private readonly endpoints: DmsEndpoints;
  private probe: EndpointProbe;
  private throttle = 0;
  private closed = false;
  readonly delays: DmsDelays;

  constructor(opts: DmsSandboxOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.region = opts.region ?? 'us-west-2';
    this.accountId = opts.accountId ?? '123456789012';
    this.logs = opts.logs;
    this.instances = { ...(opts.instances ?? {}) };
    this.delays = { ...DEFAULT_DMS_DELAYS, ...(opts.delays ?? {}) };
    this.probe = opts.probe ?? sandboxProbe({ warehouseReachable: () => true });
    this.endpoints = new DmsEndpoints({
      region: this.region,
      accountId: this.accountId,
      resourceIdFor: (seed) => this.resourceIdFor(seed),
      instances: () => this.instanceMap(),
      probe: () => this.probe,
    });
  }

  /** What TestConnection reaches from now on (startSandbox: the real MariaDB, the embedded source, its warehouse). */
  setProbe(probe: EndpointProbe): void {
    this.probe = probe;
  }

  /** Resolves when every TestConnection started so far has settled. */
  connectionTestsSettled(): Promise<void> {
    return this.endpoints.settled();
  }

  /** A replication instance that exists in the account (its ARN); the same identifier gives the same ARN. */
  seedInstance(identifier: string): string {
    checkIdentifier('ReplicationInstanceIdentifier', identifier);
    const arn = `arn:aws:dms:${this.region}:${this.accountId}:rep:${this.resourceIdFor(`instance:${identifier}`)}`;
    this.instances[arn] = identifier;
    return arn;
  }

  private instanceMap(): Map<string, InstanceRec> {
    return new Map(Object.entries(this.instances).map(([arn, identifier]) => [arn, { arn, identifier, instanceClass: 'dms.t3.medium' }]));
  }

  /** Mount point for the HTTP server: `AmazonDMSv20160101.<Operation>` + parsed JSON body. */
  async handle(target: string, body: unknown): Promise<AwsJsonResponse> {
    try {
      const op = operationOf(target, DMS_TARGET_PREFIX, 'InvalidAction');
      if (this.throttle > 0) {
        this.throttle--;
        throw new SandboxFault('ThrottlingException', 'Rate exceeded (sandbox throttling knob)');
      }
      switch (op) {
        case 'CreateReplicationTask':
          return ok({ ReplicationTask: this.render(this.createTask(parseInput(createTaskInput, body, op, INVALID)), false) });
        case 'DescribeReplicationTasks':
          return ok(this.describeTasks(parseInput(describeTasksInput, body, op, INVALID)));
        case 'StartReplicationTask': {
          const i = parseInput(startInput, body, op, INVALID);
          return ok({ ReplicationTask: this.render(this.start(i.ReplicationTaskArn, i.StartReplicationTaskType), false) });
        }
        case 'StopReplicationTask': {
          const i = parseInput(arnInput, body, op, INVALID);
          return ok({ ReplicationTask: this.render(this.stop(i.ReplicationTaskArn), false) });
        }
        case 'ReloadTables': {
          const i = parseInput(reloadInput, body, op, INVALID);
          this.reloadTables(i.ReplicationTaskArn, i.TablesToReload.map((t) => ({ schema: t.SchemaName, table: t.TableName })));
          return ok({ ReplicationTaskArn: i.ReplicationTaskArn });
        }
        case 'DescribeTableStatistics':
          return ok(this.describeTableStatistics(parseInput(tableStatsInput, body, op, INVALID)));
        case 'CreateEndpoint':
          return ok(this.endpoints.createEndpoint(body));
        case 'DescribeEndpoints':
          return ok(this.endpoints.describeEndpoints(body));
        case 'TestConnection':
          return ok(this.endpoints.testConnection(body));
        case 'DescribeConnections':
          return ok(this.endpoints.describeConnections(body));
        case 'DescribeReplicationInstances':
          return ok(this.endpoints.describeInstances(body));
        default:
          throw new SandboxFault('InvalidAction', `the DMS sandbox does not implement ${op}`);
      }
    } catch (err) {
      return faultResponse(err);
    }
  }

  // ── direct API (tests, startSandbox, apply loops) ──

  /** Create a task in a given state without going through the API (what already exists in the account). */
  seedTask(spec: SeedTaskSpec): DmsTaskView {
    const instance = spec.replicationInstance ?? 'sandbox-replication';
    const instanceArn = this.seedInstance(instance);
    const mappings =
      spec.tableMappings === undefined
        ? JSON.stringify({
            rules: (spec.tables ?? []).map((t, i) => ({
              'rule-type': 'selection',
              'rule-id': String(i + 1),
              'rule-name': String(i + 1),
              'object-locator': { 'schema-name': t.schema, 'table-name': t.table },
              'rule-action': 'include',
              filters: [],
            })),
          })
        : typeof spec.tableMappings === 'string'
          ? spec.tableMappings
          : JSON.stringify(spec.tableMappings);
    // the task's endpoints exist in the account too: a read-only source on the embedded stand-in, the sandbox warehouse
    const source = this.endpoints.seed({
      identifier: `${spec.identifier}-source`,
      arn: `arn:aws:dms:${this.region}:${this.accountId}:endpoint:${this.resourceIdFor(`source:${spec.identifier}`)}`,
      type: 'source',
      engine: 'mysql',
      serverName: EMBEDDED_SOURCE_HOST,
      port: 3306,
      username: 'dms_readonly',
      password: 'sandbox',
    });
    const target = this.endpoints.seed({
      identifier: `${spec.identifier}-target`,
      arn: `arn:aws:dms:${this.region}:${this.accountId}:endpoint:${this.resourceIdFor(`target:${spec.identifier}`)}`,
      type: 'target',
      engine: 'redshift',
      serverName: 'sandbox.redshift.local',
      port: 5439,
      databaseName: 'dev',
      username: 'sandbox',
      password: 'sandbox',
    });
    const t = this.newTask({
      identifier: spec.identifier,
      instanceArn,
      sourceEndpointArn: source.arn,
      targetEndpointArn: target.arn,
      migrationType: spec.migrationType ?? 'full-load-and-cdc',
      tableMappings: mappings,
      settings: spec.settings === undefined ? undefined : JSON.stringify(spec.settings),
      resourceId: spec.resourceId,
      logGroup: spec.logGroup,
    });
    for (const tb of spec.tables ?? []) {
      const rec = this.ensureTable(t, tb.schema, tb.table);
      rec.fullLoadRows = tb.fullLoadRows ?? 0;
      rec.state = 'Table completed';
      rec.fullLoadStartTime = t.createdAt;
      rec.fullLoadEndTime = t.createdAt;
    }
    const status = spec.status ?? 'running';
    t.status = status;
    if (status === 'running' || status === 'stopped') {
      t.startDate = t.createdAt;
      t.freshStartDate = t.createdAt;
      t.fullLoadStartDate = t.createdAt;
      t.fullLoadFinishDate = t.createdAt;
      if (status === 'running') t.runningSince = t.createdAt;
      else {
        t.stopDate = t.createdAt;
        t.stopReason = 'Stop Reason NORMAL';
      }
      this.ensureLogStream(t);
    }
    return this.view(t);
  }

  /** A task by ARN or identifier (advancing due transitions first). */
  getTask(arnOrId: string): DmsTaskView {
    return this.view(this.find(arnOrId));
  }

  /**
   * Test knob: the task as if it had been started `ms` earlier — every recorded time of the task and of its tables'
   * statistics (ReplicationTaskStartDate, FullLoadStartTime…) moves back by `ms`. Nothing else changes (the log events
   * already written keep their times).
   */
  backdate(arnOrId: string, ms: number): DmsTaskView {
    const t = this.find(arnOrId);
    const back = (v: number | undefined): number | undefined => (v === undefined ? undefined : v - ms);
    for (const k of ['startDate', 'freshStartDate', 'stopDate', 'fullLoadStartDate', 'fullLoadFinishDate', 'runningSince'] as const) {
      const v = back(t[k]);
      if (v !== undefined) t[k] = v;
    }
    t.createdAt -= ms;
    for (const r of t.tables.values()) {
      const s = back(r.fullLoadStartTime);
      if (s !== undefined) r.fullLoadStartTime = s;
      const e = back(r.fullLoadEndTime);
      if (e !== undefined) r.fullLoadEndTime = e;
    }
    return this.view(t);
  }

  listTasks(): DmsTaskView[] {
    return [...this.tasks.values()].map((t) => this.view(t));
  }

  onTransition(listener: (t: DmsTransition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Fault knob: the next resume-processing of this task ends in `failed` with this LastFailureMessage. */
  failNextResume(arnOrId: string, message = 'Last Error Replication task failed to resume: source capture could not find the binlog position (sandbox fault). Stop Reason FATAL_ERROR Error Level FATAL'): void {
    this.find(arnOrId).failNextResume = message;
  }

  /** Fault knob: write these `]E:` lines (TARGET_APPLY) to the task's log stream when it is next running after resume-processing. */
  injectLogErrorsOnResume(arnOrId: string, texts: readonly string[]): void {
    this.find(arnOrId).injectOnResume.push(...texts);
  }

  /** Fault knob: the next `n` API calls fail with ThrottlingException. */
  throttleNext(n: number): void {
    this.throttle = Math.max(0, n);
  }

  /** Write lines to the task's log stream (no-op when the task has logging disabled or there is no logs sandbox). */
  log(arnOrId: string, lines: readonly { component: string; severity: 'E' | 'W' | 'I'; text: string }[]): void {
    const t = this.find(arnOrId);
    this.writeLog(t, lines);
  }

  /**
   * Attach an apply loop to one table of a task: from now on the loop performs this table's loads and reports its
   * counts; the task cannot reach `stopped` while the loop has a write in flight (`begin`/`end`).
   */
  attachTable(arnOrId: string, schema: string, table: string): DmsTableBinding {
    const t = this.find(arnOrId);
    if (!selects(t.selection, schema, table))
      throw new Error(`DMS sandbox: table ${schema}.${table} is not selected by the table mappings of task ${t.identifier}; add a selection rule for it`);
    const rec = this.ensureTable(t, schema, table);
    if (rec.attached) throw new Error(`DMS sandbox: table ${schema}.${table} of task ${t.identifier} already has an apply loop attached`);
    rec.attached = true;
    rec.loadDueAt = undefined;
    return new DmsTableBinding(t, rec, {
      advance: () => this.advance(t),
      tableErrorPolicy: () => this.tableErrorPolicy(t),
      now: this.now,
      writeLog: (lines) => this.writeLog(t, lines),
      failTask: (message) => this.failTask(t, message),
    });
  }

  /** Stop all timers (the state stays readable). */
  close(): void {
    this.closed = true;
    for (const t of this.tasks.values()) if (t.timer) clearTimeout(t.timer);
  }

  // ── operations ──

  private createTask(i: z.output<typeof createTaskInput>): TaskRec {
    checkIdentifier('ReplicationTaskIdentifier', i.ReplicationTaskIdentifier);
    if ([...this.tasks.values()].some((t) => t.identifier === i.ReplicationTaskIdentifier))
      throw new SandboxFault(EXISTS, `A replication task with identifier ${i.ReplicationTaskIdentifier} already exists`);
    // endpoints this sandbox knows must be of the right side (ARNs it does not know are taken as they are)
    for (const [arn, side, field] of [
      [i.SourceEndpointArn, 'source', 'SourceEndpointArn'],
      [i.TargetEndpointArn, 'target', 'TargetEndpointArn'],
    ] as const) {
      if (!/^arn:aws[a-z-]*:dms:[a-z0-9-]+:\d{12}:endpoint:[A-Za-z0-9-]+$/.test(arn)) throw new SandboxFault(INVALID, `${field} "${arn}" is not a DMS endpoint ARN (arn:aws:dms:<region>:<account>:endpoint:<id>)`);
      const e = this.endpoints.get(arn);
      if (e !== undefined && e.type !== side) throw new SandboxFault('InvalidParameterCombinationException', `${field} ${e.identifier} is a ${e.type} endpoint, not a ${side} endpoint`);
    }
    if (!/^arn:aws[a-z-]*:dms:[a-z0-9-]+:\d{12}:rep:[A-Za-z0-9-]+$/.test(i.ReplicationInstanceArn))
      throw new SandboxFault(INVALID, `ReplicationInstanceArn "${i.ReplicationInstanceArn}" is not a DMS replication instance ARN (arn:aws:dms:<region>:<account>:rep:<id>)`);
    const t = this.newTask({
      identifier: i.ReplicationTaskIdentifier,
      instanceArn: i.ReplicationInstanceArn,
      sourceEndpointArn: i.SourceEndpointArn,
      targetEndpointArn: i.TargetEndpointArn,
      migrationType: i.MigrationType,
      tableMappings: i.TableMappings,
      settings: i.ReplicationTaskSettings,
      resourceId: i.ResourceIdentifier,
    });
    t.status = 'creating';
    this.schedule(t, { to: 'ready', at: this.now() + this.delays.createMs, cause: 'create' });
    return t;
  }

  private describeTasks(i: z.output<typeof describeTasksInput>): unknown {
    let list = [...this.tasks.values()];
    for (const f of i.Filters ?? []) {
      const values = new Set(f.Values);
      const pick: ((t: TaskRec) => string[]) | undefined = {
        'replication-task-arn': (t: TaskRec) => [t.arn],
        'replication-task-id': (t: TaskRec) => [t.identifier],
        'migration-type': (t: TaskRec) => [t.migrationType],
        'endpoint-arn': (t: TaskRec) => [t.sourceEndpointArn, t.targetEndpointArn],
        'replication-instance-arn': (t: TaskRec) => [t.instanceArn],
      }[f.Name];
      if (pick === undefined)
        throw new SandboxFault(INVALID, `DescribeReplicationTasks: unknown filter "${f.Name}" (use replication-task-arn, replication-task-id, migration-type, endpoint-arn or replication-instance-arn)`);
      list = list.filter((t) => pick(t).some((v) => values.has(v)));
    }
    if (list.length === 0) throw new SandboxFault(NOT_FOUND, 'No Tasks found matching provided filters');
    list.sort((a, b) => a.createdAt - b.createdAt || (a.identifier < b.identifier ? -1 : 1));
    const max = i.MaxRecords ?? 100;
    const offset = i.Marker === undefined ? 0 : this.markerOffset(i.Marker, 'tasks');
    const page = list.slice(offset, offset + max);
    for (const t of page) this.advance(t);
    return {
      ReplicationTasks: page.map((t) => this.render(t, i.WithoutSettings === true)),
      ...(offset + max < list.length ? { Marker: encodeToken({ scope: 'tasks', offset: offset + max }) } : {}),
    };
  }

  private start(arn: string, type: StartType): TaskRec {
    const t = this.byArn(arn);
    this.advance(t);
    // StartReplicationTask (API reference): start-replication is the only valid type for a task's first run (`ready`);
    // resume-processing and reload-target are for tasks that ran before (stopped / failed). A full-load(-and-cdc) task
    // that ran is loaded again with reload-target; only a cdc task is started again with start-replication (from a new
    // start point).
    const settled = t.status === 'stopped' || t.status === 'failed';
    const allowed = t.status === 'ready' ? type === 'start-replication' : settled && (type !== 'start-replication' || t.migrationType === 'cdc');
    if (!allowed) {
      if (t.status === 'ready') throw new SandboxFault(STATE, `Replication task ${t.identifier} cannot be started with ${type}: a task that has never run must be started with start-replication`);
      if (settled) throw new SandboxFault('InvalidParameterCombinationException', `Start Type : START_REPLICATION, valid only for tasks running for the first time (task ${t.identifier} has run before: use reload-target to load the tables again, or resume-processing)`);
      throw new SandboxFault(STATE, `Replication task ${t.identifier} cannot be started with ${type}: the task is ${t.status}; it can be started only when it is stopped, failed or ready`);
    }
    const from = t.status;
    t.status = 'starting';
    t.stopReason = undefined;
    this.emit(t, from, 'starting', type);
    const failure = type === 'resume-processing' ? t.failNextResume : undefined;
    if (failure !== undefined) t.failNextResume = undefined;
    this.schedule(t, { to: failure !== undefined ? 'failed' : 'running', at: this.now() + this.delays.startMs, cause: type, ...(failure !== undefined ? { failure } : {}) });
    return t;
  }

  private stop(arn: string): TaskRec {
    const t = this.byArn(arn);
    this.advance(t);
    if (t.status !== 'running') throw new SandboxFault(STATE, `Replication task ${t.identifier} is ${t.status}, not running: only a running task can be stopped`);
    t.status = 'stopping';
    this.emit(t, 'running', 'stopping', 'stop');
    this.writeLog(t, [{ component: 'TASK_MANAGER', severity: 'I', text: `Task '${t.resourceId}' is stopping: stop requested by the user  (replicationtask.c:3180)` }]);
    this.schedule(t, { to: 'stopped', at: this.now() + this.delays.stopMs, cause: 'stop' });
    return t;
  }

  private reloadTables(arn: string, tables: { schema: string; table: string }[]): void {
    const t = this.byArn(arn);
    this.advance(t);
    if (t.status !== 'running') throw new SandboxFault(STATE, `Replication task ${t.identifier} is ${t.status}: ReloadTables needs a running task (start or resume it first)`);
    for (const tb of tables)
      if (!selects(t.selection, tb.schema, tb.table))
        throw new SandboxFault(INVALID, `ReloadTables: table ${tb.schema}.${tb.table} is not selected by the table mappings of task ${t.identifier}`);
    for (const tb of tables) {
      const rec = this.ensureTable(t, tb.schema, tb.table);
      this.queueLoad(t, rec, true);
      // what the console shows while DMS prepares the reload (CHAP_Tasks.ReloadTables); the load then goes Full load → Table completed
      rec.state = 'Table is being reloaded';
    }
    this.writeLog(
      t,
      tables.map((tb) => ({ component: 'TASK_MANAGER', severity: 'I' as const, text: `Table '${tb.schema}'.'${tb.table}' is scheduled for reload  (replicationtask.c:2680)` })),
    );
  }

  private describeTableStatistics(i: z.output<typeof tableStatsInput>): unknown {
    const t = this.byArn(i.ReplicationTaskArn);
    this.advance(t);
    let list = [...t.tables.values()];
    for (const f of i.Filters ?? []) {
      const values = new Set(f.Values);
      const pick: ((r: TableRec) => string) | undefined = {
        'schema-name': (r: TableRec) => r.schema,
        'table-name': (r: TableRec) => r.table,
        'table-state': (r: TableRec) => r.state,
      }[f.Name];
      if (pick === undefined) throw new SandboxFault(INVALID, `DescribeTableStatistics: unknown filter "${f.Name}" (use schema-name, table-name or table-state)`);
      list = list.filter((r) => values.has(pick(r)));
    }
    list.sort((a, b) => (tableKey(a.schema, a.table) < tableKey(b.schema, b.table) ? -1 : 1));
    const max = i.MaxRecords ?? 100;
    const offset = i.Marker === undefined ? 0 : this.markerOffset(i.Marker, `tables:${t.arn}`);
    const page = list.slice(offset, offset + max);
    return {
      ReplicationTaskArn: t.arn,
      TableStatistics: page.map((r) => ({
        SchemaName: r.schema,
        TableName: r.table,
        Inserts: r.inserts,
        Deletes: r.deletes,
        Updates: r.updates,
        Ddls: r.ddls,
        AppliedInserts: r.inserts,
        AppliedDeletes: r.deletes,
        AppliedUpdates: r.updates,
        AppliedDdls: r.ddls,
        FullLoadRows: r.fullLoadRows,
        FullLoadCondtnlChkFailedRows: 0,
        FullLoadErrorRows: r.fullLoadErrorRows,
        ...(r.fullLoadStartTime !== undefined ? { FullLoadStartTime: epochSeconds(r.fullLoadStartTime) } : {}),
        ...(r.fullLoadEndTime !== undefined ? { FullLoadEndTime: epochSeconds(r.fullLoadEndTime) } : {}),
        FullLoadReloaded: r.fullLoadReloaded,
        LastUpdateTime: epochSeconds(r.lastUpdateTime),
        TableState: r.state,
        ValidationPendingRecords: 0,
        ValidationFailedRecords: 0,
        ValidationSuspendedRecords: 0,
        ValidationState: 'Not enabled',
      })),
      ...(offset + max < list.length ? { Marker: encodeToken({ scope: `tables:${t.arn}`, offset: offset + max }) } : {}),
    };
  }

  // ── state machine ──

  private schedule(t: TaskRec, p: NonNullable<TaskRec['pending']>): void {
    t.pending = p;
    if (t.timer) clearTimeout(t.timer);
    if (this.closed) return;
    t.timer = setTimeout(() => this.advance(t), Math.max(0, p.at - this.now()) + 1);
    t.timer.unref();
  }

  /** Apply every transition that is due (called on every read, by timers, and when an apply loop goes idle). */
  private advance(t: TaskRec): void {
    const now = this.now();
    const p = t.pending;
    if (p !== undefined && p.at <= now) {
      const busy = [...t.tables.values()].some((r) => r.busy > 0);
      if (p.to === 'stopped' && busy) {
        // an apply is in flight: `stopped` waits for it (the loop calls advance when it ends)
      } else {
        t.pending = undefined;
        if (t.timer) clearTimeout(t.timer);
        t.timer = undefined;
        this.enter(t, p.to, p.cause, p.failure);
      }
    }
    if (t.status === 'running') {
      let loaded = true;
      for (const r of t.tables.values()) {
        if (!r.attached && r.loadDueAt !== undefined && r.loadDueAt <= now) {
          r.loadDueAt = undefined;
          r.state = 'Table completed';
          r.fullLoadEndTime = now;
          r.lastUpdateTime = now;
        } else if (!r.attached && r.state === 'Full load' && r.loadDueAt === undefined) {
          r.state = 'Table completed';
        }
        if (r.state === 'Before load' || r.state === 'Full load' || r.state === 'Table is being reloaded') loaded = false;
      }
      if (loaded && t.fullLoadStartDate !== undefined && (t.fullLoadFinishDate === undefined || t.fullLoadFinishDate < t.fullLoadStartDate)) t.fullLoadFinishDate = now;
      const next = [...t.tables.values()].filter((r) => !r.attached && r.loadDueAt !== undefined).map((r) => r.loadDueAt!);
      if (next.length > 0 && t.pending === undefined && !this.closed) {
        if (t.timer) clearTimeout(t.timer);
        t.timer = setTimeout(() => this.advance(t), Math.max(0, Math.min(...next) - now) + 1);
        t.timer.unref();
      }
    }
  }

  private enter(t: TaskRec, to: DmsTaskStatus, cause: StartType | 'stop' | 'create' | 'error', failure?: string): void {
    const from = t.status;
    const now = this.now();
    t.status = to;
    if (to === 'running') {
      t.startDate = now;
      t.runningSince = now;
      t.lastFailureMessage = undefined;
      t.stopReason = undefined;
      this.ensureLogStream(t);
      const fresh = cause === 'start-replication' || cause === 'reload-target';
      if (fresh && t.migrationType !== 'cdc') {
        t.freshStartDate = now;
        t.fullLoadStartDate = now;
        t.fullLoadFinishDate = undefined;
        for (const r of t.tables.values()) {
          r.inserts = r.updates = r.deletes = r.ddls = 0;
          this.queueLoad(t, r, cause === 'reload-target');
        }
      } else if (fresh) {
        t.freshStartDate = now;
        t.cdcGeneration++;
      }
      const mode = cause === 'resume-processing' ? 'running CDC only in resume mode' : fresh && t.migrationType !== 'cdc' ? 'running full load and CDC in fresh start mode' : 'running CDC only in fresh start mode';
      this.writeLog(t, [{ component: 'TASK_MANAGER', severity: 'I', text: `Task '${t.resourceId}' ${mode}  (replicationtask.c:1519)` }]);
      if (cause === 'resume-processing' && t.injectOnResume.length > 0) {
        const lines = t.injectOnResume.splice(0);
        this.writeLog(
          t,
          lines.map((text) => ({ component: 'TARGET_APPLY', severity: 'E' as const, text })),
        );
      }
    } else if (to === 'stopped') {
      t.stopDate = now;
      t.stopReason = 'Stop Reason NORMAL';
      t.runningSince = undefined;
      this.writeLog(t, [{ component: 'TASK_MANAGER', severity: 'I', text: `Task '${t.resourceId}' stopped: Stop Reason NORMAL  (replicationtask.c:3325)` }]);
    } else if (to === 'failed') {
      t.stopDate = now;
      t.stopReason = 'Stop Reason FATAL_ERROR';
      t.lastFailureMessage = failure ?? 'Last Error Replication task failed (sandbox). Stop Reason FATAL_ERROR Error Level FATAL';
      t.runningSince = undefined;
      // as the real service logs a fatal error: the notification, then "Task '<resource id>' encountered a fatal error"
      this.writeLog(t, [
        { component: 'TASK_MANAGER', severity: 'E', text: `Task error notification received from subtask 0, thread 0: ${t.lastFailureMessage} [1020101]  (replicationtask.c:2889)` },
        ...(t.stopReason === 'Stop Reason FATAL_ERROR' ? [{ component: 'TASK_MANAGER', severity: 'E' as const, text: `Task '${t.resourceId}' encountered a fatal error  (repository.c:5935)` }] : []),
      ]);
    }
    this.emit(t, from, to, cause);
  }

  private failTask(t: TaskRec, message: string): void {
    if (t.status !== 'running' && t.status !== 'stopping') return;
    if (t.timer) clearTimeout(t.timer);
    t.timer = undefined;
    t.pending = undefined;
    this.enter(t, 'failed', 'error', message);
  }

  private queueLoad(t: TaskRec, r: TableRec, reload: boolean): void {
    const now = this.now();
    r.state = 'Before load';
    r.loadGeneration++;
    r.fullLoadReloaded = reload || r.loadGeneration > 1;
    r.fullLoadStartTime = now;
    r.fullLoadEndTime = undefined;
    r.lastUpdateTime = now;
    if (!r.attached) r.loadDueAt = now + this.delays.fullLoadMs;
    if (reload) t.fullLoadFinishDate = undefined;
  }

  private emit(t: TaskRec, from: DmsTaskStatus, to: DmsTaskStatus, cause: DmsTransition['cause']): void {
    const ev: DmsTransition = { arn: t.arn, identifier: t.identifier, from, to, cause, at: this.now() };
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch {
        // a listener's failure must not break the state machine
      }
    }
  }

  // ── records ──

  private newTask(a: {
    identifier: string;
    instanceArn: string;
    sourceEndpointArn: string;
    targetEndpointArn: string;
    migrationType: MigrationType;
    tableMappings: string;
    settings: string | undefined;
    resourceId: string | undefined;
    logGroup?: string | undefined;
  }): TaskRec {
    const id = a.identifier;
    if (!/^[A-Za-z](?:[A-Za-z0-9]|-(?!-)){0,254}$/.test(id) || id.endsWith('-'))
      throw new SandboxFault(INVALID, `ReplicationTaskIdentifier "${id}" is invalid: 1–255 letters, digits or hyphens, starting with a letter, no trailing or double hyphen`);
    if ([...this.tasks.values()].some((t) => t.identifier === id)) throw new SandboxFault(EXISTS, `A replication task with identifier ${id} already exists`);
    const selection = parseSelection(a.tableMappings);
    let settingsIn: Record<string, unknown> = {};
    if (a.settings !== undefined) {
      let raw: unknown;
      try {
        raw = JSON.parse(a.settings);
      } catch (e) {
        throw new SandboxFault(INVALID, `ReplicationTaskSettings is not valid JSON: ${(e as Error).message}`);
      }
      if (!isRecord(raw)) throw new SandboxFault(INVALID, 'ReplicationTaskSettings must be a JSON object');
      settingsIn = raw;
    }
    const checked = taskSettingsShape.safeParse(settingsIn);
    if (!checked.success)
      throw new SandboxFault(INVALID, `ReplicationTaskSettings is invalid: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const settings = deepMerge(DEFAULT_TASK_SETTINGS as unknown as Record<string, unknown>, settingsIn);
    const policy = (settings.ErrorBehavior as Record<string, unknown> | undefined)?.TableErrorPolicy;
    if (policy !== 'SUSPEND_TABLE' && policy !== 'STOP_TASK')
      throw new SandboxFault(INVALID, `ReplicationTaskSettings.ErrorBehavior.TableErrorPolicy must be SUSPEND_TABLE or STOP_TASK (found ${JSON.stringify(policy)})`);
    const resourceId = a.resourceId ?? this.resourceIdFor(`task:${id}`);
    const instance = this.instances[a.instanceArn] ?? (a.instanceArn.split(':').pop() ?? 'sandbox').toLowerCase();
    const logGroup = a.logGroup ?? `dms-tasks-${instance}`;
    const logStream = `dms-task-${resourceId}`;
    const logging = isRecord(settings.Logging) ? settings.Logging : {};
    settings.Logging = { ...logging, CloudWatchLogGroup: logGroup, CloudWatchLogStream: logStream };
    const t: TaskRec = {
      identifier: id,
      resourceId,
      arn: `arn:aws:dms:${this.region}:${this.accountId}:task:${resourceId}`,
      instanceArn: a.instanceArn,
      sourceEndpointArn: a.sourceEndpointArn,
      targetEndpointArn: a.targetEndpointArn,
      migrationType: a.migrationType,
      tableMappings: a.tableMappings,
      selection,
      settings,
      status: 'ready',
      createdAt: this.now(),
      injectOnResume: [],
      logGroup,
      logStream,
      tables: new Map(),
      cdcGeneration: 0,
    };
    for (const r of selection) if (r.include && r.explicit) this.ensureTable(t, r.explicit.schema, r.explicit.table);
    this.tasks.set(t.arn, t);
    return t;
  }

  private ensureTable(t: TaskRec, schema: string, table: string): TableRec {
    const k = tableKey(schema, table);
    let r = t.tables.get(k);
    if (r === undefined) {
      r = {
        schema,
        table,
        state: 'Before load',
        fullLoadRows: 0,
        fullLoadErrorRows: 0,
        inserts: 0,
        updates: 0,
        deletes: 0,
        ddls: 0,
        fullLoadReloaded: false,
        lastUpdateTime: this.now(),
        loadGeneration: 0,
        attached: false,
        busy: 0,
      };
      t.tables.set(k, r);
    }
    return r;
  }

  private ensureLogStream(t: TaskRec): void {
    if (this.logs === undefined || !this.loggingEnabled(t)) return;
    this.logs.ensureStream(t.logGroup, t.logStream);
  }

  private loggingEnabled(t: TaskRec): boolean {
    const l = t.settings.Logging;
    return isRecord(l) && l.EnableLogging === true;
  }

  private writeLog(t: TaskRec, lines: readonly { component: string; severity: 'E' | 'W' | 'I'; text: string }[]): void {
    if (this.logs === undefined || !this.loggingEnabled(t) || lines.length === 0) return;
    const now = this.now();
    this.logs.append(
      t.logGroup,
      t.logStream,
      lines.map((l) => dmsLogLine(now, l.component, l.severity, l.text)),
    );
  }

  private tableErrorPolicy(t: TaskRec): TableErrorPolicy {
    const p = (t.settings.ErrorBehavior as Record<string, unknown> | undefined)?.TableErrorPolicy;
    return p === 'STOP_TASK' ? 'STOP_TASK' : 'SUSPEND_TABLE';
  }

  private find(arnOrId: string): TaskRec {
    const t = this.tasks.get(arnOrId) ?? [...this.tasks.values()].find((x) => x.identifier === arnOrId);
    if (t === undefined) throw new SandboxFault(NOT_FOUND, `Replication task ${arnOrId} not found`);
    this.advance(t);
    return t;
  }

  private byArn(arn: string): TaskRec {
    const t = this.tasks.get(arn);
    if (t === undefined) throw new SandboxFault(NOT_FOUND, `Replication task with ARN ${arn} not found (pass the ReplicationTaskArn from DescribeReplicationTasks)`);
    return t;
  }

  private markerOffset(marker: string, scope: string): number {
    const m = z.object({ scope: z.literal(scope), offset: z.number().int().nonnegative() }).safeParse(decodeToken(marker, INVALID, 'Marker'));
    if (!m.success) throw new SandboxFault(INVALID, 'The specified Marker is not valid for this request');
    return m.data.offset;
  }

  private resourceIdFor(seed: string): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    const h = createHash('sha256').update(`${this.accountId}:${seed}`).digest();
    let out = '';
    for (let i = 0; i < 26; i++) out += alphabet[h[i]! % 32];
    return out;
  }

  private view(t: TaskRec): DmsTaskView {
    return {
      identifier: t.identifier,
      arn: t.arn,
      resourceId: t.resourceId,
      status: t.status,
      ...(t.stopReason !== undefined ? { stopReason: t.stopReason } : {}),
      ...(t.lastFailureMessage !== undefined ? { lastFailureMessage: t.lastFailureMessage } : {}),
      migrationType: t.migrationType,
      logGroup: t.logGroup,
      logStream: t.logStream,
      tables: [...t.tables.values()].map((r) => tableView(r)),
    };
  }

  private render(t: TaskRec, withoutSettings: boolean): Record<string, unknown> {
    const now = this.now();
    const recs = [...t.tables.values()];
    const loaded = recs.filter((r) => r.state === 'Table completed').length;
    // a table being loaded counts by rows: FullLoadRows of the rows the source held when its load started
    const done = recs.reduce(
      (sum, r) =>
        sum + (r.state === 'Table completed' ? 1 : r.state === 'Full load' && r.loadExpectedRows !== undefined && r.loadExpectedRows > 0 ? Math.min(1, r.fullLoadRows / r.loadExpectedRows) : 0),
      0,
    );
    return {
      ReplicationTaskIdentifier: t.identifier,
      SourceEndpointArn: t.sourceEndpointArn,
      TargetEndpointArn: t.targetEndpointArn,
      ReplicationInstanceArn: t.instanceArn,
      MigrationType: t.migrationType,
      ...(withoutSettings ? {} : { TableMappings: t.tableMappings, ReplicationTaskSettings: JSON.stringify(t.settings) }),
      Status: t.status,
      ...(t.lastFailureMessage !== undefined ? { LastFailureMessage: t.lastFailureMessage } : {}),
      ...(t.stopReason !== undefined ? { StopReason: t.stopReason } : {}),
      ReplicationTaskCreationDate: epochSeconds(t.createdAt),
      ...(t.startDate !== undefined ? { ReplicationTaskStartDate: epochSeconds(t.startDate) } : {}),
      ReplicationTaskArn: t.arn,
      ReplicationTaskStats: {
        FullLoadProgressPercent: recs.length === 0 ? 100 : Math.floor((done * 100) / recs.length),
        ElapsedTimeMillis: t.startDate === undefined ? 0 : (t.runningSince !== undefined ? now : (t.stopDate ?? now)) - t.startDate,
        TablesLoaded: loaded,
        TablesLoading: recs.filter((r) => r.state === 'Full load').length,
        TablesQueued: recs.filter((r) => r.state === 'Before load' || r.state === 'Table is being reloaded').length,
        TablesErrored: recs.filter((r) => r.state === 'Table error').length,
        ...(t.freshStartDate !== undefined ? { FreshStartDate: epochSeconds(t.freshStartDate) } : {}),
        ...(t.startDate !== undefined ? { StartDate: epochSeconds(t.startDate) } : {}),
        ...(t.stopDate !== undefined ? { StopDate: epochSeconds(t.stopDate) } : {}),
        ...(t.fullLoadStartDate !== undefined ? { FullLoadStartDate: epochSeconds(t.fullLoadStartDate) } : {}),
        ...(t.fullLoadFinishDate !== undefined ? { FullLoadFinishDate: epochSeconds(t.fullLoadFinishDate) } : {}),
      },
    };
  }
}

function tableView(r: TableRec): DmsTableStatsView {
  return {
    schema: r.schema,
    table: r.table,
    state: r.state,
    fullLoadRows: r.fullLoadRows,
    fullLoadErrorRows: r.fullLoadErrorRows,
    inserts: r.inserts,
    updates: r.updates,
    deletes: r.deletes,
    ddls: r.ddls,
    ...(r.fullLoadStartTime !== undefined ? { fullLoadStartTime: r.fullLoadStartTime } : {}),
    ...(r.fullLoadEndTime !== undefined ? { fullLoadEndTime: r.fullLoadEndTime } : {}),
    fullLoadReloaded: r.fullLoadReloaded,
    lastUpdateTime: r.lastUpdateTime,
  };
}

/** The link between a DMS task's table and the apply loop that writes it (see apply-loop.ts). */
export class DmsTableBinding {
  constructor(
    private readonly task: TaskRec,
    private readonly rec: TableRec,
    private readonly hooks: {
      advance: () => void;
      tableErrorPolicy: () => TableErrorPolicy;
      now: () => number;
      writeLog: (lines: readonly { component: string; severity: 'E' | 'W' | 'I'; text: string }[]) => void;
      failTask: (message: string) => void;
    },
  ) {}

  get taskArn(): string {
    return this.task.arn;
  }
  get taskIdentifier(): string {
    return this.task.identifier;
  }
  get logGroup(): string {
    return this.task.logGroup;
  }
  get logStream(): string {
    return this.task.logStream;
  }
  get schema(): string {
    return this.rec.schema;
  }
  get table(): string {
    return this.rec.table;
  }

  /** Task status after due transitions. */
  status(): DmsTaskStatus {
    this.hooks.advance();
    return this.task.status;
  }

  /** Changes are applied while the task is running or still stopping. */
  canApply(): boolean {
    const s = this.status();
    return s === 'running' || s === 'stopping';
  }

  tableState(): DmsTableState {
    return this.rec.state;
  }
  loadGeneration(): number {
    return this.rec.loadGeneration;
  }
  cdcGeneration(): number {
    return this.task.cdcGeneration;
  }
  tableErrorPolicy(): TableErrorPolicy {
    return this.hooks.tableErrorPolicy();
  }

  /** A write is starting: the task cannot reach `stopped` until `end()`. Check canApply() in the same synchronous step. */
  begin(): void {
    this.rec.busy++;
  }
  end(): void {
    this.rec.busy = Math.max(0, this.rec.busy - 1);
    this.hooks.advance();
  }

  /** The full load starts: TableState `Full load`, FullLoadRows from 0; `sourceRows` = what the source holds now. */
  loadStarted(sourceRows?: number): void {
    const now = this.hooks.now();
    this.rec.state = 'Full load';
    this.rec.fullLoadRows = 0;
    this.rec.loadExpectedRows = sourceRows;
    this.rec.fullLoadStartTime = now;
    this.rec.lastUpdateTime = now;
  }
  /** A chunk of the full load is in: FullLoadRows = rows loaded so far. */
  loadProgress(rows: number): void {
    this.rec.fullLoadRows = rows;
    this.rec.lastUpdateTime = this.hooks.now();
  }
  loadFinished(rows: number): void {
    const now = this.hooks.now();
    this.rec.state = 'Table completed';
    this.rec.fullLoadRows = rows;
    this.rec.fullLoadEndTime = now;
    this.rec.lastUpdateTime = now;
    this.hooks.advance();
  }
  /** The table is suspended (TableErrorPolicy SUSPEND_TABLE): no change is applied until it is reloaded. */
  suspend(): void {
    this.rec.state = 'Table error';
    this.rec.lastUpdateTime = this.hooks.now();
  }
  /** Seed rows written outside a load (the table's existing content). */
  addLoadedRows(n: number): void {
    this.rec.fullLoadRows += n;
  }
  recordApplied(kind: 'insert' | 'update' | 'delete'): void {
    if (kind === 'insert') this.rec.inserts++;
    else if (kind === 'update') this.rec.updates++;
    else this.rec.deletes++;
    this.rec.lastUpdateTime = this.hooks.now();
  }
  log(lines: readonly { component: string; severity: 'E' | 'W' | 'I'; text: string }[]): void {
    this.hooks.writeLog(lines);
  }
  /** TableErrorPolicy STOP_TASK: the task fails; unapplied changes stay in the source log for the next resume. */
  failTask(message: string): void {
    this.hooks.failTask(message);
  }
  detach(): void {
    this.rec.attached = false;
    this.rec.busy = 0;
    this.hooks.advance();
  }
}
