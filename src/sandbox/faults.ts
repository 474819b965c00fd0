/**
 * Fault knobs shared by the sandbox's services: a mutable object tests change directly (`sandbox.faults.throttleNext = 2`)
 * or over HTTP (`POST /_sandbox/faults` with a JSON object of the fields to change).
 */
import { z } from 'zod';
import { DEFAULT_DISK_CAPACITY_MB } from './catalog.js';

export interface FailStatementRule {
  /** a substring of the statement's SQL, or `/regex/flags` */
  match: string;
  /** the statement ends FAILED with exactly this Error text */
  error: string;
  /** how many matching statements fail before the rule goes away; unlimited when absent */
  times?: number;
}

/** A statement that reports FINISHED without running: a change the database said it made but did not. */
export interface NoopStatementRule {
  /** a substring of the statement's SQL, or `/regex/flags` */
  match: string;
  /** how many matching statements are skipped before the rule goes away; unlimited when absent */
  times?: number;
}

/**
 * What Redshift's svv_table_info / svv_interleaved_columns would show for one table, seeded by tests (the sandbox has
 * no blocks to be unsorted, no stale statistics and no rows marked deleted). VACUUM / ANALYZE run through the sandbox
 * clear what they fix. Keyed by `schema.table` as the catalog spells it (a rename does not carry it along).
 */
export interface TableHealth {
  /** svv_table_info.unsorted, percent (tables with a sort key) */
  unsorted?: number;
  /** svv_table_info.stats_off, 0 (current) … 100 (stale) */
  statsOff?: number;
  /** rows marked deleted but not yet vacuumed: added to tbl_rows, not to estimated_visible_rows */
  deletedRows?: number;
  /** svv_interleaved_columns.interleaved_skew of every sort key column (interleaved tables; default 1.00) */
  interleavedSkew?: number;
  /** svv_table_info.skew_rows: rows on the fullest slice / the emptiest (KEY and EVEN tables; default 1.00) */
  skewRows?: number;
}

/** Statements that wait in STARTED before they run: one slow statement (a long copy) in an otherwise quick job. */
export interface SlowStatementRule {
  /** a substring of the statement's SQL, or `/regex/flags` */
  match: string;
  /** how long it waits in STARTED, ms */
  ms: number;
  /** how many matching statements are slowed before the rule goes away; unlimited when absent */
  times?: number;
}

export interface FaultKnobs {
  /** the next n API calls (any operation, any service) answer HTTP 400 ThrottlingException */
  throttleNext: number;
  /**
   * per operation name (`ExecuteStatement`, `DescribeStatement`, `StopReplicationTask`, `FilterLogEvents` …, any service):
   * the next n calls of that operation answer HTTP 400 ThrottlingException
   */
  throttleOps: Record<string, number>;
  /**
   * until this epoch-ms time the Data API (the warehouse) is unreachable: every request's connection is closed without an
   * answer (the SDK sees a reset socket, as when the endpoint or the network is down); 0 = reachable
   */
  warehouseUnreachableUntil: number;
  /** statements whose SQL matches wait this long in STARTED before they run */
  slowStatements: SlowStatementRule[];
  /**
   * the next n ExecuteStatement / BatchExecuteStatement calls are refused as the Data API refuses a submit over its
   * active-statements quota: HTTP 400 ActiveStatementsExceededException, "The number of active statements exceeds the limit."
   */
  activeStatementsExceededNext: number;
  /** statements whose SQL matches end FAILED with the given error, without running */
  failStatements: FailStatementRule[];
  /** statements whose SQL matches end FINISHED without running (the catalog then is not what they said) */
  noopStatements: NoopStatementRule[];
  /** every statement waits this long in STARTED before it runs (so tests can observe or cancel it) */
  statementDelayMs: number;
  /** the disk capacity stv_partitions reports, in 1 MB blocks */
  diskCapacityMb: number;
  /**
   * CloudWatch Logs stores each event this long after it was put (FilterLogEvents does not return it before): late
   * ingestion, which real CloudWatch shows for minutes. The event keeps its own timestamp.
   */
  logIngestionDelayMs: number;
  /**
   * who the Data API sessions run as, for Redshift's system-view visibility: a `superuser` sees every row; a `regular`
   * user sees no rows in the superuser-only views (stv_partitions, svv_table_info) unless granted SELECT on them
   */
  catalogUser: 'superuser' | 'regular';
  /** superuser-only system views the regular user was granted SELECT on (`GRANT SELECT ON svv_table_info TO …`) */
  catalogGrants: SuperuserView[];
  /** seeded maintenance state per `schema.table` (svv_table_info, svv_interleaved_columns) */
  tableHealth: Record<string, TableHealth>;
  /** another client's VACUUM is running: the next n VACUUM statements fail as Redshift's do ("VACUUM is running") */
  vacuumBusy: number;
  /**
   * the embedded source stand-in does not answer: a DMS TestConnection to a source endpoint on `sandbox-source` fails
   * (an endpoint on a real MariaDB host is connected to for real, and fails when that host does not answer)
   */
  sourceUnreachable: boolean;
}

/** The superuser-only system views the sandbox provides. */
export const SUPERUSER_VIEWS = ['stv_partitions', 'svv_table_info', 'svv_interleaved_columns'] as const;
export type SuperuserView = (typeof SUPERUSER_VIEWS)[number];

export const DEFAULT_FAULTS: Readonly<FaultKnobs> = {
  throttleNext: 0,
  throttleOps: {},
  warehouseUnreachableUntil: 0,
  slowStatements: [],
  activeStatementsExceededNext: 0,
  failStatements: [],
  noopStatements: [],
  statementDelayMs: 0,
  diskCapacityMb: DEFAULT_DISK_CAPACITY_MB,
  logIngestionDelayMs: 0,
  catalogUser: 'superuser',
  catalogGrants: [],
  tableHealth: {},
  vacuumBusy: 0,
  sourceUnreachable: false,
};

export function defaultFaults(): FaultKnobs {
  return { ...DEFAULT_FAULTS, throttleOps: {}, slowStatements: [], failStatements: [], noopStatements: [], catalogGrants: [], tableHealth: {} };
}

const pct = z.number().min(0).max(100);
const tableHealth = z.strictObject({
  unsorted: pct.optional(),
  statsOff: pct.optional(),
  deletedRows: z.number().int().min(0).optional(),
  interleavedSkew: z.number().min(1).optional(),
  skewRows: z.number().min(1).optional(),
});

const failRule = z.strictObject({
  match: z.string().min(1, 'match must not be empty'),
  error: z.string().min(1, 'error must not be empty'),
  times: z.number().int().positive().optional(),
});

const table = z.string().min(1, 'name the table ("core_usermailing" or "schema.table")');
/**
 * One-shot actions on the running replication loops (apply-loop.ts), in the order given; `table` names a loop started by
 * `sandbox.startReplication` (the error says which tables have one). Not kept in the knobs: the answer lists what each did.
 *  - binlogRetention: the source's binlog retention, ms (`null` = unlimited), for one table's loop or every loop;
 *    changes not read in time are purged (DMS: FATAL_ERROR on every resume until reload-target; CDC: broken until reload)
 *  - tableError (dms): the table goes to `Table error` now, with `]E:` / `]W:` lines in the task log
 *  - fatalError (dms): the task stops with FATAL_ERROR now (Status failed)
 *  - failNextResume (dms): the next resume-processing ends failed with this LastFailureMessage
 *  - logErrorsOnResume (dms): n TARGET_APPLY `]E:` lines appear after the next resume
 *  - replayDuplicates: the last n applied inserts are written again (duplicate keys in the target)
 *  - cdcOutage (cdc): the CDC service stops (down: true) / resumes reading the binlog
 *  - cdcReload (cdc): what "reload this table" on the CDC service's dashboard does — the target is created when missing,
 *    emptied and filled from the source, and replication continues from the source's current position
 */
export const replicationAction = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('binlogRetention'), table: table.optional(), ms: z.number().int().min(0).nullable() }),
  z.strictObject({ action: z.literal('tableError'), table, reason: z.string().min(1).optional() }),
  z.strictObject({ action: z.literal('fatalError'), table, reason: z.string().min(1).optional() }),
  z.strictObject({ action: z.literal('failNextResume'), table, message: z.string().min(1).optional() }),
  z.strictObject({ action: z.literal('logErrorsOnResume'), table, n: z.number().int().min(1).max(1000) }),
  z.strictObject({ action: z.literal('replayDuplicates'), table, n: z.number().int().min(1).max(100_000) }),
  z.strictObject({ action: z.literal('cdcOutage'), table, down: z.boolean() }),
  z.strictObject({ action: z.literal('cdcReload'), table }),
]);
export type ReplicationAction = z.infer<typeof replicationAction>;

/** What `POST /_sandbox/faults` accepts: any subset of the knobs; `reset: true` first restores the defaults. */
export const faultPatch = z.strictObject({
  reset: z.boolean().optional(),
  throttleNext: z.number().int().min(0).optional(),
  throttleOps: z.record(z.string().regex(/^[A-Za-z]+$/, 'keys are operation names such as DescribeStatement'), z.number().int().min(0)).optional(),
  /** the warehouse is unreachable for this long from now (0 ends an outage) */
  warehouseUnreachableForMs: z.number().int().min(0).max(3_600_000).optional(),
  slowStatements: z
    .array(z.strictObject({ match: z.string().min(1, 'match must not be empty'), ms: z.number().int().min(0).max(3_600_000), times: z.number().int().positive().optional() }))
    .optional(),
  activeStatementsExceededNext: z.number().int().min(0).optional(),
  failStatements: z.array(failRule).optional(),
  noopStatements: z.array(z.strictObject({ match: z.string().min(1, 'match must not be empty'), times: z.number().int().positive().optional() })).optional(),
  statementDelayMs: z.number().int().min(0).max(3_600_000).optional(),
  diskCapacityMb: z.number().int().min(0).optional(),
  logIngestionDelayMs: z.number().int().min(0).max(3_600_000).optional(),
  catalogUser: z.enum(['superuser', 'regular']).optional(),
  catalogGrants: z.array(z.enum(SUPERUSER_VIEWS)).optional(),
  tableHealth: z.record(z.string().regex(/^[^.]+\.[^.]+$/, 'keys are schema.table'), tableHealth).optional(),
  vacuumBusy: z.number().int().min(0).optional(),
  sourceUnreachable: z.boolean().optional(),
  /** actions on the replication loops (see replicationAction), run after the knobs are set */
  replication: z.array(replicationAction).optional(),
});
export type FaultPatch = z.infer<typeof faultPatch>;

export function applyFaultPatch(faults: FaultKnobs, patch: FaultPatch): void {
  if (patch.reset) Object.assign(faults, defaultFaults());
  if (patch.throttleNext !== undefined) faults.throttleNext = patch.throttleNext;
  if (patch.throttleOps !== undefined) faults.throttleOps = { ...patch.throttleOps };
  if (patch.warehouseUnreachableForMs !== undefined) faults.warehouseUnreachableUntil = patch.warehouseUnreachableForMs > 0 ? Date.now() + patch.warehouseUnreachableForMs : 0;
  if (patch.activeStatementsExceededNext !== undefined) faults.activeStatementsExceededNext = patch.activeStatementsExceededNext;
  if (patch.slowStatements !== undefined) faults.slowStatements = patch.slowStatements.map((r) => ({ ...r }));
  if (patch.failStatements !== undefined) faults.failStatements = patch.failStatements.map((r) => ({ ...r }));
  if (patch.noopStatements !== undefined) faults.noopStatements = patch.noopStatements.map((r) => ({ ...r }));
  if (patch.statementDelayMs !== undefined) faults.statementDelayMs = patch.statementDelayMs;
  if (patch.diskCapacityMb !== undefined) faults.diskCapacityMb = patch.diskCapacityMb;
  if (patch.logIngestionDelayMs !== undefined) faults.logIngestionDelayMs = patch.logIngestionDelayMs;
  if (patch.catalogUser !== undefined) faults.catalogUser = patch.catalogUser;
  if (patch.catalogGrants !== undefined) faults.catalogGrants = [...patch.catalogGrants];
  if (patch.tableHealth !== undefined) faults.tableHealth = structuredClone(patch.tableHealth);
  if (patch.vacuumBusy !== undefined) faults.vacuumBusy = patch.vacuumBusy;
  if (patch.sourceUnreachable !== undefined) faults.sourceUnreachable = patch.sourceUnreachable;
}

/** Consume one throttle token (the global one first, then the operation's); true when this call must be throttled. */
export function takeThrottle(faults: FaultKnobs, operation?: string): boolean {
  if (faults.throttleNext > 0) {
    faults.throttleNext--;
    return true;
  }
  const left = operation !== undefined ? faults.throttleOps[operation] : undefined;
  if (operation !== undefined && left !== undefined && left > 0) {
    faults.throttleOps[operation] = left - 1;
    return true;
  }
  return false;
}

/** Consume one active-statements refusal for a submit operation; true when this submit must be refused. */
export function takeActiveStatementsExceeded(faults: FaultKnobs, operation: string): boolean {
  if ((operation === 'ExecuteStatement' || operation === 'BatchExecuteStatement') && faults.activeStatementsExceededNext > 0) {
    faults.activeStatementsExceededNext--;
    return true;
  }
  return false;
}

/** How long a statement must wait in STARTED by the slowStatements rules (0 when none matches). */
export function takeStatementSlowness(faults: FaultKnobs, sql: string): number {
  const i = faults.slowStatements.findIndex((r) => matches(r, sql));
  if (i < 0) return 0;
  const rule = faults.slowStatements[i]!;
  if (rule.times !== undefined) {
    rule.times--;
    if (rule.times <= 0) faults.slowStatements.splice(i, 1);
  }
  return rule.ms;
}

function matches(rule: { match: string }, sql: string): boolean {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(rule.match);
  if (m) {
    try {
      return new RegExp(m[1]!, m[2]).test(sql);
    } catch {
      return sql.includes(rule.match);
    }
  }
  return sql.includes(rule.match);
}

/** The error a statement must fail with, if a rule matches (a rule with `times` is used up one match at a time). */
export function takeStatementFailure(faults: FaultKnobs, sql: string): string | undefined {
  const i = faults.failStatements.findIndex((r) => matches(r, sql));
  if (i < 0) return undefined;
  const rule = faults.failStatements[i]!;
  if (rule.times !== undefined) {
    rule.times--;
    if (rule.times <= 0) faults.failStatements.splice(i, 1);
  }
  return rule.error;
}

/** Whether a statement must report FINISHED without running (a rule with `times` is used up one match at a time). */
export function takeStatementNoop(faults: FaultKnobs, sql: string): boolean {
  const i = faults.noopStatements.findIndex((r) => matches(r, sql));
  if (i < 0) return false;
  const rule = faults.noopStatements[i]!;
  if (rule.times !== undefined) {
    rule.times--;
    if (rule.times <= 0) faults.noopStatements.splice(i, 1);
  }
  return true;
}
