/**
 * The Warehouse port: everything the bot asks of Redshift. One adapter talks to the Redshift Data API
 * (redshift-data.ts); the sandbox serves the same API over PostgreSQL, so tests use the real adapter too.
 *
 * Submitting and waiting are separate so a runbook can record the statement id in its job data before it waits:
 * a resumed job then looks the statement up instead of running it twice (invariant 4).
 */

/** A bound parameter value. Values never become SQL text: they travel as Data API parameters (`:name` in the SQL). */
export type SqlValue = string | number | boolean | null;
export type SqlParams = Readonly<Record<string, SqlValue>>;

export type StatementStatus = 'SUBMITTED' | 'PICKED' | 'STARTED' | 'FINISHED' | 'FAILED' | 'ABORTED';

export interface StatementInfo {
  id: string;
  status: StatementStatus;
  /** Redshift's error text when FAILED/ABORTED */
  error?: string;
  /** rows inserted/updated/deleted, or returned by a SELECT (-1 when unknown) */
  resultRows: number;
  hasResultSet: boolean;
  /** milliseconds the warehouse reports the statement ran */
  durationMs?: number;
  /** for a batch: the sub-statements, in order */
  subStatements?: StatementInfo[];
}

export type Row = Record<string, SqlValue>;

export interface QueryResult {
  statementId: string;
  columns: string[];
  rows: Row[];
}

export interface SubmitOptions {
  /** shown in ListStatements / the console, e.g. "job 42 step copy" (the Data API's StatementName) */
  name?: string;
  /** Redshift Data API idempotency token: the same token within 8 hours returns the same statement */
  clientToken?: string;
}

export interface Warehouse {
  /** Submit one statement; returns its id without waiting. */
  submit(sql: string, params?: SqlParams, opts?: SubmitOptions): Promise<string>;
  /** Submit statements that run as ONE transaction (all or nothing); returns the batch id. No parameters in batches. */
  submitBatch(sqls: readonly string[], opts?: SubmitOptions): Promise<string>;
  /** Current state of a statement (no waiting). */
  describe(id: string): Promise<StatementInfo>;
  /** Poll with backoff until FINISHED; throws WarehouseError on FAILED/ABORTED. */
  wait(id: string, opts?: { signal?: AbortSignal }): Promise<StatementInfo>;
  /** All rows of a finished statement (follows pagination). For a batch pass the sub-statement id (`<id>:<n>`). */
  fetch(id: string): Promise<QueryResult>;
  /** Ask the warehouse to cancel a running statement. */
  cancel(id: string): Promise<boolean>;

  /** submit + wait */
  execute(sql: string, params?: SqlParams, opts?: SubmitOptions): Promise<StatementInfo>;
  /** submit + wait + fetch */
  query(sql: string, params?: SqlParams, opts?: SubmitOptions): Promise<QueryResult>;
  /** submitBatch + wait */
  executeBatch(sqls: readonly string[], opts?: SubmitOptions): Promise<StatementInfo>;
}

/** A statement the warehouse refused or that failed: carries Redshift's own error text and the statement id. */
export class WarehouseError extends Error {
  constructor(
    message: string,
    readonly statementId: string | undefined,
    readonly status: StatementStatus | 'ERROR',
    readonly sql?: string,
    /** set when the call failed on throttling / connection trouble and ran out of retries: trying later may work */
    readonly retryable?: 'throttle' | 'transient',
  ) {
    super(message);
    this.name = 'WarehouseError';
  }
}
