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
}

export interface DmsTableStat {
  schema: string;
  table: string;
  /** `Table completed`, `Table error`, `Before load`, `Full load`, … */
  state: string;
  fullLoadRows: number;
  inserts: number;
  updates: number;
  deletes: number;
  lastUpdate?: Date;
}

export interface DmsPort {
  /** the task by identifier (e.g. flydata-core-usermailing); a readable error when there is none */
  findTask(taskId: string): Promise<DmsTask>;
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
  /** DescribeTableStatistics for one table */
  tableStats(arn: string, schema: string, table: string): Promise<DmsTableStat | undefined>;
  /** ReloadTables (task must be running) */
  reloadTable(arn: string, schema: string, table: string): Promise<void>;
}

/** What went wrong in a replication call, so a runbook can decide (retry later, tell the user, roll back). */
export type ReplicationErrorKind =
  /** the task / table / log group does not exist */
  | 'not-found'
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
