/**
 * The Warehouse port over the Amazon Redshift Data API (AWS SDK v3 RedshiftDataClient).
 *
 * - submit / submitBatch return the statement id at once, so a runbook records it before it waits (invariant 4).
 * - wait polls DescribeStatement with exponential backoff (default: first poll at once, then 5 ms × 1.6 per poll, capped at
 *   1 s) that is also kept below a fraction of the time already waited (`maxOverhead`, default 10 %), so noticing that a
 *   statement finished costs at most ~10 % (≈ 5 % on average) of the statement's own run time. No fixed sleeps; abortable.
 * - Every AWS call is retried on throttling (ThrottlingException, HTTP 429, ActiveStatementsExceeded), 5xx and connection
 *   trouble — the one rule set of src/util/retry.ts that the DMS and Logs adapters use too — with full-jitter backoff. createWarehouse() turns the SDK's own retries OFF (maxAttempts 1) so
 *   this one policy applies and every retry is counted in `stats`; if you hand in your own client, its retries stack on
 *   top of these. Submits carry a ClientToken (the caller's — runbooks derive it from job, step and attempt — or a random
 *   one), so a retried submit is deduplicated by the Data API instead of running twice.
 * - Bound parameters: the Data API's SqlParameter is only {name, value: string (min length 1)}. There is no way to bind a
 *   NULL or an empty string, so both are rejected before anything is sent (write NULL / '' in the SQL text instead);
 *   numbers and booleans travel as their text and Redshift converts them implicitly.
 * - Responses the adapter depends on are validated with zod: an unexpected shape is a WarehouseError, not a crash later.
 */
import { abortError, sleep } from '../util/sleep.js';
import { noticeWaiting, withRetries } from '../util/retry.js';
import { sdkClientConfig } from '../util/aws-sdk.js';
import { randomUUID } from 'node:crypto';
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
  type SqlParameter,
} from '@aws-sdk/client-redshift-data';
import { z } from 'zod';
import type { AwsConfig, Env, WarehouseConfig, WarehouseTarget } from '../config.js';
import {
  WarehouseError,
  type QueryResult,
  type Row,
  type SqlParams,
  type SqlValue,
  type StatementInfo,
  type StatementStatus,
  type SubmitOptions,
  type Warehouse,
} from './port.js';

/** The Data API commands this adapter sends. */
export type DataApiCommand =
  | ExecuteStatementCommand
  | BatchExecuteStatementCommand
  | DescribeStatementCommand
  | GetStatementResultCommand
  | CancelStatementCommand;

/** What the adapter needs of a client: RedshiftDataClient, or an in-process fake in unit tests. */
export interface DataApiClient {
  send(command: DataApiCommand, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  /** RedshiftDataClient.destroy: closes pooled sockets */
  destroy?(): void;
}

export interface PollOptions {
  /** first sleep after the immediate first poll, ms (default 5) */
  initialMs: number;
  /** growth per poll (default 1.6) */
  factor: number;
  /** longest sleep between polls, ms (default 1000) */
  maxMs: number;
  /**
   * a sleep never exceeds this fraction of the time already waited (default 0.1; never below initialMs), so noticing
   * that a statement ended costs at most ~10 % of its run time (5 % on average) — until maxMs is reached
   */
  maxOverhead: number;
}

export interface RetryOptions {
  /** retries after the first attempt (default 8) */
  maxRetries: number;
  /** backoff base, ms: the n-th retry sleeps random(0, min(maxMs, baseMs × 2^n)) (default 50) */
  baseMs: number;
  /** backoff cap, ms (default 5000) */
  maxMs: number;
  /**
   * how long wait() keeps polling through an outage — DescribeStatement calls that ran out of retries on throttling or
   * connection trouble — before it gives up on the statement (default 300000: a warehouse unreachable for a few minutes
   * does not fail a long copy that is still running there)
   */
  outageMs: number;
}

export interface WaitRecord {
  id: string;
  status: StatementStatus;
  /** DescribeStatement calls made by this wait */
  polls: number;
  /** wall time of the wait, ms */
  elapsedMs: number;
  /** the warehouse's own run time of the statement, ms (DescribeStatement Duration) */
  statementMs?: number;
  /**
   * ms between the statement's end as the warehouse reports it (UpdatedAt) and the adapter seeing it; only meaningful
   * when the warehouse's clock is this machine's (the sandbox) and UpdatedAt has sub-second precision.
   */
  noticeLagMs?: number;
}

/** Counters for benchmarks and diagnostics (poll overhead, throttling). */
export interface WarehouseStats {
  /** AWS calls sent, retries included */
  calls: number;
  /** DescribeStatement calls made by wait() */
  polls: number;
  /** calls repeated after a retryable error */
  retries: number;
  /** of those, how many were throttling (ThrottlingException / 429 / ActiveStatementsExceeded) */
  throttled: number;
  waits: number;
  lastWait?: WaitRecord;
}

export interface RedshiftDataWarehouseOptions {
  client: DataApiClient;
  target: WarehouseTarget;
  database: string;
  poll?: Partial<PollOptions>;
  retry?: Partial<RetryOptions>;
  /** for tests: replace setTimeout-based sleeping, Math.random jitter and the monotonic clock (ms) */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

export const DEFAULT_POLL: PollOptions = { initialMs: 5, factor: 1.6, maxMs: 1000, maxOverhead: 0.1 };
export const DEFAULT_RETRY: RetryOptions = { maxRetries: 8, baseMs: 50, maxMs: 5000, outageMs: 300_000 };

/** The Data API's documented limits. */
export const DATA_API_LIMITS = { sqlBytes: 100_000, batchStatements: 40, statementNameChars: 500, clientTokenChars: 64 } as const;
const CLIENT_TOKEN_CHARS = DATA_API_LIMITS.clientTokenChars;

// ---------------------------------------------------------------------------------------------------------------
// Response shapes we depend on (zod). Only the fields the adapter reads; anything else passes through untouched.

const statusSchema = z.enum(['SUBMITTED', 'PICKED', 'STARTED', 'FINISHED', 'FAILED', 'ABORTED']);
const submitOutput = z.object({ Id: z.string().min(1) });
const subStatement = z.object({
  Id: z.string().min(1),
  Status: statusSchema.optional(),
  Error: z.string().optional(),
  Duration: z.number().optional(),
  ResultRows: z.number().optional(),
  HasResultSet: z.boolean().optional(),
  QueryString: z.string().optional(),
  UpdatedAt: z.date().optional(),
});
const describeOutput = z.object({
  Id: z.string().min(1),
  Status: statusSchema,
  Error: z.string().optional(),
  Duration: z.number().optional(),
  ResultRows: z.number().optional(),
  HasResultSet: z.boolean().optional(),
  QueryString: z.string().optional(),
  UpdatedAt: z.date().optional(),
  SubStatements: z.array(subStatement).optional(),
});
type DescribeOutput = z.infer<typeof describeOutput>;
const fieldSchema = z.object({
  isNull: z.boolean().optional(),
  booleanValue: z.boolean().optional(),
  longValue: z.number().optional(),
  doubleValue: z.number().optional(),
  stringValue: z.string().optional(),
  blobValue: z.instanceof(Uint8Array).optional(),
  $unknown: z.unknown().optional(),
});
type FieldOut = z.infer<typeof fieldSchema>;
const resultOutput = z.object({
  Records: z.array(z.array(fieldSchema)),
  ColumnMetadata: z.array(z.object({ name: z.string().optional(), label: z.string().optional() })).optional(),
  NextToken: z.string().optional(),
});
const cancelOutput = z.object({ Status: z.boolean().optional() });

function parseResponse<T>(schema: z.ZodType<T>, value: unknown, op: string, id: string | undefined, sql?: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const where = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new WarehouseError(`the Data API answered ${op} with an unexpected response (${where})`, id, 'ERROR', sql);
}

// ---------------------------------------------------------------------------------------------------------------

/** Convert one Data API Field to a SqlValue. Blobs become hex text (SqlValue has no bytes). */
export function fieldToValue(f: FieldOut): SqlValue {
  if (f.isNull === true) return null;
  if (f.stringValue !== undefined) return f.stringValue;
  if (f.longValue !== undefined) return f.longValue;
  if (f.doubleValue !== undefined) return f.doubleValue;
  if (f.booleanValue !== undefined) return f.booleanValue;
  if (f.blobValue !== undefined) return Buffer.from(f.blobValue).toString('hex');
  if (f.isNull === false) return null;
  throw new WarehouseError(`the Data API returned a field of an unknown kind: ${JSON.stringify(f.$unknown ?? f)}`, undefined, 'ERROR');
}

/** SqlParams → Data API parameters; rejects what the Data API cannot bind (NULL, empty strings, non-finite numbers). */
export function toSqlParameters(params: SqlParams, sql?: string): SqlParameter[] {
  return Object.entries(params).map(([name, value]) => {
    if (!/^[0-9a-zA-Z_]+$/.test(name))
      throw new WarehouseError(`parameter name "${name}" is not allowed: the Data API takes letters, digits and _ only`, undefined, 'ERROR', sql);
    if (value === null)
      throw new WarehouseError(
        `parameter :${name} is NULL, but the Data API cannot bind NULL (a parameter value is a non-empty string); write NULL in the SQL text instead`,
        undefined,
        'ERROR',
        sql,
      );
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new WarehouseError(`parameter :${name} is ${value}, which Redshift cannot store`, undefined, 'ERROR', sql);
    const text = typeof value === 'string' ? value : String(value);
    if (text === '')
      throw new WarehouseError(
        `parameter :${name} is an empty string, but the Data API requires a non-empty value; write '' in the SQL text instead`,
        undefined,
        'ERROR',
        sql,
      );
    return { name, value: text };
  });
}

function awsErrorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

function sqlExcerpt(sql: string): string {
  const one = sql.replace(/\s+/g, ' ').trim();
  return one.length > 300 ? `${one.slice(0, 300)}…` : one;
}

export class RedshiftDataWarehouse implements Warehouse {
  readonly stats: WarehouseStats = { calls: 0, polls: 0, retries: 0, throttled: 0, waits: 0 };
  private readonly client: DataApiClient;
  private readonly target: WarehouseTarget;
  private readonly database: string;
  private readonly poll: PollOptions;
  private readonly retry: RetryOptions;
  private readonly doSleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  /** SQL of recently submitted statements, so a failure names its SQL even when DescribeStatement leaves it out */
  private readonly sqlById = new Map<string, string>();

  constructor(opts: RedshiftDataWarehouseOptions) {
    this.client = opts.client;
    this.target = opts.target;
    this.database = opts.database;
    this.poll = { ...DEFAULT_POLL, ...opts.poll };
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.doSleep = opts.sleep ?? sleep;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Release the client's sockets (a CLI run or a test ends cleanly without waiting for keep-alive timeouts). */
  close(): void {
    this.client.destroy?.();
  }

  resetStats(): void {
    Object.assign(this.stats, { calls: 0, polls: 0, retries: 0, throttled: 0, waits: 0, lastWait: undefined });
  }

  /** Cluster/workgroup, database and credentials fields every submit carries. */
  private targetFields(): { Database: string; ClusterIdentifier?: string; SecretArn?: string; DbUser?: string; WorkgroupName?: string } {
    const t = this.target;
    const base = { Database: this.database };
    if (t.kind === 'provisioned')
      return { ...base, ClusterIdentifier: t.clusterId, ...(t.secretArn !== undefined ? { SecretArn: t.secretArn } : {}), ...(t.dbUser !== undefined ? { DbUser: t.dbUser } : {}) };
    return { ...base, WorkgroupName: t.workgroup, ...(t.secretArn !== undefined ? { SecretArn: t.secretArn } : {}) };
  }

  /** Send a command, retrying throttling / transient failures with full-jitter exponential backoff. */
  private async send(command: DataApiCommand, op: string, ctx: { id?: string; sql?: string; signal?: AbortSignal }): Promise<unknown> {
    return withRetries(() => this.client.send(command, ctx.signal !== undefined ? { abortSignal: ctx.signal } : undefined), {
      policy: this.retry,
      stats: this.stats,
      signal: ctx.signal,
      what: `Data API ${op}`,
      sleep: this.doSleep,
      random: this.random,
      fail: (err, kind, attempts) => {
        if (err instanceof WarehouseError) return err;
        const tries = kind === undefined ? '' : ` (gave up after ${attempts} attempts)`;
        const sqlPart = ctx.sql !== undefined ? ` — SQL: ${sqlExcerpt(ctx.sql)}` : '';
        return new WarehouseError(`${op} failed${tries}: ${awsErrorText(err)}${sqlPart}`, ctx.id, 'ERROR', ctx.sql, kind);
      },
    });
  }

  async submit(sql: string, params?: SqlParams, opts?: SubmitOptions): Promise<string> {
    this.checkSql(sql);
    const parameters = params !== undefined && Object.keys(params).length > 0 ? toSqlParameters(params, sql) : undefined;
    const command = new ExecuteStatementCommand({
      ...this.targetFields(),
      Sql: sql,
      ...(parameters !== undefined ? { Parameters: parameters } : {}),
      ...this.submitOptions(opts),
    });
    const out = parseResponse(submitOutput, await this.send(command, 'ExecuteStatement', { sql }), 'ExecuteStatement', undefined, sql);
    this.remember(out.Id, sql);
    return out.Id;
  }

  async submitBatch(sqls: readonly string[], opts?: SubmitOptions): Promise<string> {
    if (sqls.length === 0) throw new WarehouseError('a batch needs at least one statement', undefined, 'ERROR');
    if (sqls.length > DATA_API_LIMITS.batchStatements)
      throw new WarehouseError(`a Data API batch holds at most ${DATA_API_LIMITS.batchStatements} statements (got ${sqls.length}); split it`, undefined, 'ERROR');
    sqls.forEach((s) => this.checkSql(s));
    const joined = sqls.join(';\n');
    const command = new BatchExecuteStatementCommand({ ...this.targetFields(), Sqls: [...sqls], ...this.submitOptions(opts) });
    const out = parseResponse(submitOutput, await this.send(command, 'BatchExecuteStatement', { sql: joined }), 'BatchExecuteStatement', undefined, joined);
    this.remember(out.Id, joined);
    sqls.forEach((s, i) => this.remember(`${out.Id}:${i + 1}`, s));
    return out.Id;
  }

  private remember(id: string, sql: string): void {
    this.sqlById.set(id, sql);
    while (this.sqlById.size > 2000) {
      const oldest = this.sqlById.keys().next().value;
      if (oldest === undefined) break;
      this.sqlById.delete(oldest);
    }
  }

  private submitOptions(opts: SubmitOptions | undefined): { StatementName?: string; ClientToken: string } {
    const name = opts?.name;
    const token = opts?.clientToken;
    if (token !== undefined && (token.length < 1 || token.length > CLIENT_TOKEN_CHARS))
      throw new WarehouseError(`a ClientToken is 1 to ${CLIENT_TOKEN_CHARS} characters (got ${token.length})`, undefined, 'ERROR');
    return {
      ...(name !== undefined ? { StatementName: name.slice(0, DATA_API_LIMITS.statementNameChars) } : {}),
      // one token per logical submit: our retries reuse it, so the Data API runs the statement once. Runbook steps pass
      // a token derived from (job, step, attempt) (src/jobs/statements.ts), so a resumed job reuses it too
      ClientToken: token ?? randomUUID(),
    };
  }

  private checkSql(sql: string): void {
    if (sql.trim() === '') throw new WarehouseError('empty SQL statement', undefined, 'ERROR', sql);
    const bytes = Buffer.byteLength(sql, 'utf8');
    if (bytes > DATA_API_LIMITS.sqlBytes)
      throw new WarehouseError(`statement is ${bytes} bytes; the Data API accepts at most ${DATA_API_LIMITS.sqlBytes}`, undefined, 'ERROR', sqlExcerpt(sql));
  }

  private async describeRaw(id: string, signal?: AbortSignal): Promise<DescribeOutput> {
    const raw = await this.send(new DescribeStatementCommand({ Id: id }), 'DescribeStatement', { id, ...(signal ? { signal } : {}) });
    return parseResponse(describeOutput, raw, 'DescribeStatement', id);
  }

  async describe(id: string): Promise<StatementInfo> {
    return toInfo(await this.describeRaw(id));
  }

  async wait(id: string, opts?: { signal?: AbortSignal }): Promise<StatementInfo> {
    const signal = opts?.signal;
    const started = this.now();
    let polls = 0;
    let delay = this.poll.initialMs;
    /** when the current run of unanswered polls began (undefined while the warehouse answers) */
    let outageSince: number | undefined;
    this.stats.waits++;
    for (;;) {
      polls++;
      this.stats.polls++;
      let d: DescribeOutput;
      try {
        d = await this.describeRaw(id, signal);
        if (outageSince !== undefined) noticeWaiting(`✓ the warehouse answers again after ${Math.round((this.now() - outageSince) / 1000)} s; statement ${id} is ${d.Status ?? 'unknown'}`);
        outageSince = undefined;
      } catch (err) {
        // the statement runs on in the warehouse whether or not we can reach it: keep asking for outageMs
        if (!(err instanceof WarehouseError) || err.retryable === undefined) throw err;
        const now = this.now();
        if (outageSince === undefined)
          noticeWaiting(`⏳ the warehouse does not answer (${err.message.slice(0, 160)}); still waiting for statement ${id}, for up to ${Math.round(this.retry.outageMs / 1000)} s without an answer`);
        outageSince ??= now;
        const down = now - outageSince;
        if (down >= this.retry.outageMs)
          throw new WarehouseError(
            `${err.message} — no answer from the warehouse for ${Math.round(down / 1000)} s while waiting for statement ${id}; it may still be running there`,
            id,
            'ERROR',
            err.sql,
            err.retryable,
          );
        await this.doSleep(Math.min(this.retry.maxMs, this.retry.outageMs - down), signal);
        continue;
      }
      if (d.Status === 'FINISHED' || d.Status === 'FAILED' || d.Status === 'ABORTED') {
        const now = Date.now();
        const rec: WaitRecord = { id, status: d.Status, polls, elapsedMs: this.now() - started };
        if (d.Duration !== undefined && d.Duration >= 0) rec.statementMs = d.Duration / 1e6;
        if (d.UpdatedAt !== undefined) rec.noticeLagMs = Math.max(0, now - d.UpdatedAt.getTime());
        this.stats.lastWait = rec;
        const info = toInfo(d);
        if (d.Status !== 'FINISHED') throw failure(d, info, (sid) => this.sqlById.get(sid));
        return info;
      }
      const waited = this.now() - started;
      const sleepMs = Math.min(this.poll.maxMs, delay, Math.max(this.poll.initialMs, waited * this.poll.maxOverhead));
      await this.doSleep(sleepMs, signal);
      delay = delay * this.poll.factor;
    }
  }

  async fetch(id: string): Promise<QueryResult> {
    const rows: Row[] = [];
    let columns: string[] | undefined;
    let token: string | undefined;
    const seen = new Set<string>();
    do {
      const raw = await this.send(new GetStatementResultCommand({ Id: id, ...(token !== undefined ? { NextToken: token } : {}) }), 'GetStatementResult', { id });
      const page = parseResponse(resultOutput, raw, 'GetStatementResult', id);
      if (columns === undefined && page.ColumnMetadata !== undefined) columns = page.ColumnMetadata.map((c, i) => c.name ?? c.label ?? `column${i + 1}`);
      const cols = columns ?? [];
      for (const rec of page.Records) {
        if (rec.length !== cols.length)
          throw new WarehouseError(`GetStatementResult returned a row of ${rec.length} fields for ${cols.length} columns`, id, 'ERROR');
        const row: Row = {};
        rec.forEach((f, i) => {
          row[cols[i]!] = fieldToValue(f);
        });
        rows.push(row);
      }
      token = page.NextToken !== undefined && page.NextToken !== '' ? page.NextToken : undefined;
      if (token !== undefined) {
        if (seen.has(token)) throw new WarehouseError('GetStatementResult returned the same NextToken twice', id, 'ERROR');
        seen.add(token);
      }
    } while (token !== undefined);
    return { statementId: id, columns: columns ?? [], rows };
  }

  async cancel(id: string): Promise<boolean> {
    try {
      const raw = await this.send(new CancelStatementCommand({ Id: id }), 'CancelStatement', { id });
      return parseResponse(cancelOutput, raw, 'CancelStatement', id).Status ?? false;
    } catch (err) {
      // the real Data API refuses to cancel a statement that already ended: that is "not cancelled", not a failure
      if (err instanceof WarehouseError && /ValidationException: .*\b(already|FINISHED|FAILED|ABORTED)\b/i.test(err.message)) return false;
      throw err;
    }
  }

  async execute(sql: string, params?: SqlParams, opts?: SubmitOptions): Promise<StatementInfo> {
    return this.wait(await this.submit(sql, params, opts));
  }

  async query(sql: string, params?: SqlParams, opts?: SubmitOptions): Promise<QueryResult> {
    const info = await this.execute(sql, params, opts);
    if (!info.hasResultSet) return { statementId: info.id, columns: [], rows: [] };
    return this.fetch(info.id);
  }

  async executeBatch(sqls: readonly string[], opts?: SubmitOptions): Promise<StatementInfo> {
    return this.wait(await this.submitBatch(sqls, opts));
  }
}

function toInfo(d: DescribeOutput): StatementInfo {
  const info: StatementInfo = {
    id: d.Id,
    status: d.Status,
    resultRows: d.ResultRows ?? -1,
    hasResultSet: d.HasResultSet ?? false,
  };
  if (d.Error !== undefined && d.Error !== '') info.error = d.Error;
  if (d.Duration !== undefined && d.Duration >= 0) info.durationMs = d.Duration / 1e6;
  if (d.SubStatements !== undefined && d.SubStatements.length > 0) {
    info.subStatements = d.SubStatements.map((s) => {
      const sub: StatementInfo = {
        id: s.Id,
        status: s.Status ?? d.Status,
        resultRows: s.ResultRows ?? -1,
        hasResultSet: s.HasResultSet ?? false,
      };
      if (s.Error !== undefined && s.Error !== '') sub.error = s.Error;
      if (s.Duration !== undefined && s.Duration >= 0) sub.durationMs = s.Duration / 1e6;
      return sub;
    });
  }
  return info;
}

function failure(d: DescribeOutput, info: StatementInfo, knownSql: (id: string) => string | undefined): WarehouseError {
  const failedSub = d.SubStatements?.find((s) => s.Status === 'FAILED' || s.Status === 'ABORTED');
  const text = failedSub?.Error || d.Error || (d.Status === 'ABORTED' ? 'the statement was cancelled' : 'no error text returned');
  const sql = failedSub !== undefined ? (failedSub.QueryString ?? knownSql(failedSub.Id)) : (d.QueryString ?? knownSql(d.Id));
  const which = failedSub !== undefined ? ` (statement ${failedSub.Id} of the batch)` : '';
  const err = new WarehouseError(`statement ${info.id} ${d.Status}${which}: ${text}`, info.id, d.Status, sql);
  return err;
}

export interface CreateWarehouseOptions {
  /** use this client instead of building one (its own retry settings then apply on top of the adapter's) */
  client?: DataApiClient;
  poll?: Partial<PollOptions>;
  retry?: Partial<RetryOptions>;
  /** environment for the credential fallback below (default process.env) */
  env?: Env;
}

/**
 * Build the adapter from configuration: the SDK client gets the settings every AWS client of the bot gets
 * (src/util/aws-sdk.ts: region, AWS_ENDPOINT_URL, maxAttempts 1, placeholder credentials for the loopback sandbox).
 */
export function createWarehouse(config: { warehouse: WarehouseConfig; aws: AwsConfig }, opts: CreateWarehouseOptions = {}): RedshiftDataWarehouse {
  const env = opts.env ?? process.env;
  let client = opts.client;
  if (client === undefined) {
    client = new RedshiftDataClient(sdkClientConfig(config.aws.region, config.aws.endpoint, env));
  }
  return new RedshiftDataWarehouse({
    client,
    target: config.warehouse.target,
    database: config.warehouse.database,
    ...(opts.poll !== undefined ? { poll: opts.poll } : {}),
    ...(opts.retry !== undefined ? { retry: opts.retry } : {}),
  });
}

