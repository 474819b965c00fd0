/**
 * The Redshift Data API (`RedshiftData.*`, awsJson1_1) over PostgreSQL or PGlite, as @aws-sdk/client-redshift-data
 * sends it: ExecuteStatement, BatchExecuteStatement, DescribeStatement, GetStatementResult, CancelStatement,
 * ListStatements.
 *
 * Like the real service, a statement gets an Id at once and runs asynchronously on its own session (connection):
 * SUBMITTED → STARTED → FINISHED | FAILED | ABORTED. A batch runs all its SQL in ONE transaction; sub-statements are
 * `<id>:1`, `<id>:2`… Named parameters (`:name`) are bound as real parameters, never spliced into the SQL. Every
 * statement is translated from Redshift SQL first (translate.ts) and sees a fresh session (search_path, time zone…).
 *
 * Statements live in memory (the most recent `maxStatements`), as long as the sandbox runs.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { type AwsJsonResponse, SandboxFault, decodeToken, encodeToken, epochSeconds, faultResponse, ok, operationOf, parseInput } from './aws-fault.js';
import { resetSession } from './catalog.js';
import { type Db, type DbField, type DbResult, type DbSession, DbError, OID, QUERY_CANCELED } from './db.js';
import { type FaultKnobs, takeStatementFailure, takeStatementNoop, takeStatementSlowness } from './faults.js';
import { LongNames } from './long-names.js';
import { type Maintenance, SANDBOX_SCHEMA, TranslateError, type VacuumMode, bindNamedParams, namedParams, splitStatements, translateStatement } from './translate.js';

export const REDSHIFT_DATA_TARGET_PREFIX = 'RedshiftData';

const VALIDATION = 'ValidationException';
const NOT_FOUND = 'ResourceNotFoundException';

/** The Data API's limit on one SQL text. */
export const MAX_SQL_BYTES = 100 * 1024;
const CLIENT_TOKEN_TTL_MS = 8 * 3600 * 1000;

export type Status = 'SUBMITTED' | 'PICKED' | 'STARTED' | 'FINISHED' | 'FAILED' | 'ABORTED';

interface StoredResult {
  fields: DbField[];
  rows: (string | null)[][];
}

interface Outcome {
  result?: StoredResult;
  resultRows: number;
  resultSize: number;
}

interface Part {
  sql: string;
  status: Status;
  error?: string;
  createdAt: number;
  updatedAt: number;
  startedNs?: bigint;
  endedNs?: bigint;
  outcome?: Outcome;
  queryId: number;
}

/** One ExecuteStatement / BatchExecuteStatement request the service accepted (tests: how often was a statement sent?). */
export interface Submission {
  at: number;
  id: string;
  name?: string;
  clientToken?: string;
  /** answered with the statement an earlier request with the same ClientToken created: nothing new ran */
  deduplicated: boolean;
}

const MAX_SUBMISSIONS = 10_000;

interface StatementRecord extends Part {
  id: string;
  batch: boolean;
  subs: Part[];
  params: { name: string; value: string }[];
  name?: string;
  clientToken?: string;
  database?: string;
  clusterIdentifier?: string;
  workgroupName?: string;
  dbUser?: string;
  secretArn?: string;
  pid?: number;
  cancelRequested: boolean;
  session?: DbSession;
  /** true while a user statement is executing on the session (cancel only then interrupts the backend) */
  executing: boolean;
  wake?: () => void;
}

/** One VACUUM / ANALYZE the sandbox ran, as tests assert it: what, on which table, and in which transaction context. */
export interface MaintenanceRecord {
  op: 'vacuum' | 'analyze';
  mode?: VacuumMode;
  /** `schema.table` as the catalog spells it; absent = every table of the database */
  table?: string;
  toPercent?: number;
  boost?: boolean;
  predicateColumns?: boolean;
  /** ran inside a transaction block (a batch, or after BEGIN) — Redshift refuses that for VACUUM */
  inTransaction: boolean;
  /** part of a BatchExecuteStatement */
  batch: boolean;
  statementId: string;
  at: number;
}

/** Redshift's answer to a second VACUUM while one runs (one VACUUM at a time per cluster). */
export const VACUUM_RUNNING = 'VACUUM is running\n  Hint: re-execute after other vacuum finished';

export interface RedshiftDataOptions {
  db: Db;
  faults: FaultKnobs;
  /** where finished VACUUM / ANALYZE statements are recorded (default: a private array) */
  maintenanceLog?: MaintenanceRecord[];
  logger: Logger;
  /** rows per GetStatementResult page (the real service: up to 100 MB a page; default 1000 rows) */
  pageSize?: number;
  /** statements kept for Describe/List/GetStatementResult (default 5000; oldest finished ones go first) */
  maxStatements?: number;
}

// ─── input shapes ────────────────────────────────────────────────────────────────────────────────────────────────────

const sqlParameter = z.object({ name: z.string().min(1).max(1000), value: z.string() });
const connection = {
  ClusterIdentifier: z.string().min(1).optional(),
  WorkgroupName: z.string().min(1).optional(),
  SecretArn: z.string().min(1).optional(),
  DbUser: z.string().min(1).optional(),
  Database: z.string().min(1).optional(),
  WithEvent: z.boolean().optional(),
  StatementName: z.string().min(1).max(500).optional(),
  Parameters: z.array(sqlParameter).optional(),
  ClientToken: z.string().min(1).max(64).optional(),
  ResultFormat: z.enum(['JSON', 'CSV']).optional(),
  SessionKeepAliveSeconds: z.number().int().optional(),
  SessionId: z.string().optional(),
  WaitTimeSeconds: z.number().int().optional(),
};
const executeInput = z.object({ Sql: z.string(), ...connection });
/** BatchExecuteStatement's `Sqls`: 1 to 40 items (Data API reference); more is refused as the service's input validation does */
export const MAX_BATCH_STATEMENTS = 40;
const batchInput = z.object({ Sqls: z.array(z.string()).min(1, 'Sqls needs at least one statement'), ...connection });
const idInput = z.object({ Id: z.string().min(1), WaitTimeSeconds: z.number().int().optional() });
const resultInput = z.object({ Id: z.string().min(1), NextToken: z.string().optional(), WaitTimeSeconds: z.number().int().optional() });
const listInput = z.object({
  NextToken: z.string().optional(),
  MaxResults: z.number().int().min(0).max(100).optional(),
  StatementName: z.string().optional(),
  Status: z.enum(['SUBMITTED', 'PICKED', 'STARTED', 'FINISHED', 'ABORTED', 'FAILED', 'ALL']).optional(),
  RoleLevel: z.boolean().optional(),
  Database: z.string().optional(),
  ClusterIdentifier: z.string().optional(),
  WorkgroupName: z.string().optional(),
});

type ConnectionInput = z.infer<typeof executeInput>;

// ─── values → Data API ───────────────────────────────────────────────────────────────────────────────────────────────

type Field = { isNull: true } | { booleanValue: boolean } | { longValue: number } | { doubleValue: number } | { stringValue: string };

function toField(typeId: number, text: string | null): Field {
  if (text === null) return { isNull: true };
  switch (typeId) {
    case OID.bool:
      return { booleanValue: text === 't' };
    case OID.int2:
    case OID.int4:
    case OID.int8:
    case OID.oid: {
      const n = Number(text);
      return Number.isSafeInteger(n) ? { longValue: n } : { stringValue: text };
    }
    case OID.float4:
    case OID.float8: {
      const n = Number(text);
      return Number.isFinite(n) ? { doubleValue: n } : { stringValue: text };
    }
    default:
      return { stringValue: text };
  }
}

const SIGNED = new Set<number>([OID.int2, OID.int4, OID.int8, OID.float4, OID.float8, OID.numeric]);
const TEXTUAL = new Set([25, 1042, 1043, 18, 19]);
const PRECISION: Record<number, number> = { [OID.int2]: 5, [OID.int4]: 10, [OID.int8]: 19, [OID.float4]: 8, [OID.float8]: 17, [OID.bool]: 1 };

function columnMetadata(f: DbField, typeName: string): Record<string, unknown> {
  let precision = PRECISION[f.typeId] ?? 0;
  let scale = 0;
  let length = 0;
  if ((f.typeId === 1043 || f.typeId === 1042) && f.typmod >= 4) {
    precision = f.typmod - 4;
    length = precision;
  } else if (f.typeId === OID.numeric && f.typmod >= 4) {
    precision = ((f.typmod - 4) >> 16) & 0xffff;
    scale = (f.typmod - 4) & 0xffff;
  } else if (f.typeId === OID.numeric) {
    precision = 38;
  }
  return {
    isCaseSensitive: TEXTUAL.has(f.typeId),
    isCurrency: false,
    isSigned: SIGNED.has(f.typeId),
    label: f.name,
    name: f.name,
    nullable: 1,
    precision,
    scale,
    length,
    schemaName: '',
    tableName: '',
    typeName,
  };
}

function errorText(e: unknown): string {
  if (e instanceof TranslateError) return `ERROR: ${e.message}`;
  if (e instanceof DbError) {
    let s = `ERROR: ${e.message}`;
    if (e.detail) s += `\n  Detail: ${e.detail}`;
    if (e.hint) s += `\n  Hint: ${e.hint}`;
    if (e.position) s += `\n  Position: ${e.position}`;
    return s;
  }
  return `ERROR: ${e instanceof Error ? e.message : String(e)}`;
}

/**
 * A statement that ran past its session's statement_timeout (and was not cancelled through CancelStatement). PostgreSQL
 * says "canceling statement due to statement timeout"; Redshift ends it with the text statementTimeoutText() returns.
 */
function timedOut(e: unknown, rec: StatementRecord): boolean {
  return !rec.cancelRequested && e instanceof DbError && e.code === QUERY_CANCELED && /statement timeout/i.test(e.message);
}

/** Redshift's error for a statement_timeout, spelled as its documentation's example (r_statement_timeout) spells it. */
export function statementTimeoutText(queryId: number): string {
  return `ERROR: Query (${queryId}) canceled on user's request`;
}

const isDone = (p: Part): boolean => p.status === 'FINISHED' || p.status === 'FAILED' || p.status === 'ABORTED';

class Aborted extends Error {
  constructor() {
    super('aborted');
  }
}

/** A failure to report with exactly this text (fault knob). */
class Injected extends Error {}

// ─── the service ─────────────────────────────────────────────────────────────────────────────────────────────────────

export class RedshiftDataService {
  readonly targetPrefix = REDSHIFT_DATA_TARGET_PREFIX;
  private readonly statements = new Map<string, StatementRecord>();
  private readonly tokens = new Map<string, { id: string; at: number }>();
  private readonly submitted: Submission[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly typeNames = new Map<number, string>();
  private readonly db: Db;
  private readonly faults: FaultKnobs;
  private readonly log: Logger;
  private readonly pageSize: number;
  private readonly maxStatements: number;
  private queryIds = 100_000;
  private closing = false;
  /** identifiers of 64–127 bytes and the aliases PostgreSQL holds for them */
  private readonly longNames = new LongNames();
  private vacuumsRunning = 0;
  readonly maintenanceLog: MaintenanceRecord[];

  constructor(opts: RedshiftDataOptions) {
    this.db = opts.db;
    this.faults = opts.faults;
    this.maintenanceLog = opts.maintenanceLog ?? [];
    this.log = opts.logger;
    this.pageSize = Math.max(1, opts.pageSize ?? 1000);
    this.maxStatements = Math.max(10, opts.maxStatements ?? 5000);
  }

  /** Load PostgreSQL's type names (ColumnMetadata.typeName). */
  async init(): Promise<void> {
    const s = await this.db.session();
    try {
      await this.loadTypeNames(s);
      const names = await s.query(`select alias, name from ${SANDBOX_SCHEMA}.long_names`).catch(() => undefined);
      for (const [alias, name] of names?.rows ?? []) if (alias && name) this.longNames.remember(alias, name);
    } finally {
      await s.release();
    }
  }

  private async loadTypeNames(s: DbSession, only?: number[]): Promise<void> {
    const r = only
      ? await s.query('select oid::text, typname::text from pg_type where oid = any($1::oid[])', [`{${only.join(',')}}`])
      : await s.query('select oid::text, typname::text from pg_type');
    for (const [oid, name] of r.rows) if (oid && name) this.typeNames.set(Number(oid), name);
  }

  /** Mount point for the HTTP server: `RedshiftData.<Operation>` + parsed JSON body. */
  async handle(target: string, body: unknown): Promise<AwsJsonResponse> {
    try {
      const op = operationOf(target, REDSHIFT_DATA_TARGET_PREFIX, 'UnknownOperationException');
      switch (op) {
        case 'ExecuteStatement':
          return ok(this.execute(parseInput(executeInput, body, op, VALIDATION)));
        case 'BatchExecuteStatement':
          return ok(this.executeBatch(parseInput(batchInput, body, op, VALIDATION)));
        case 'DescribeStatement':
          return ok(this.describe(parseInput(idInput, body, op, VALIDATION).Id));
        case 'GetStatementResult': {
          const i = parseInput(resultInput, body, op, VALIDATION);
          return ok(this.result(i.Id, i.NextToken));
        }
        case 'CancelStatement':
          return ok(await this.cancel(parseInput(idInput, body, op, VALIDATION).Id));
        case 'ListStatements':
          return ok(this.list(parseInput(listInput, body, op, VALIDATION)));
        default:
          throw new SandboxFault('UnknownOperationException', `the Redshift Data API sandbox does not implement ${op}`);
      }
    } catch (err) {
      return faultResponse(err);
    }
  }

  // ─── ExecuteStatement / BatchExecuteStatement ──────────────────────────────────────────────────────────────────────

  private checkConnection(i: ConnectionInput | z.infer<typeof batchInput>): void {
    if (i.ClusterIdentifier && i.WorkgroupName) throw new SandboxFault(VALIDATION, 'Specify either ClusterIdentifier (provisioned) or WorkgroupName (Serverless), not both.');
    if (!i.ClusterIdentifier && !i.WorkgroupName) throw new SandboxFault(VALIDATION, 'Either ClusterIdentifier (provisioned) or WorkgroupName (Serverless) is required.');
    if (i.ClusterIdentifier && !i.SecretArn && !i.DbUser) throw new SandboxFault(VALIDATION, 'A provisioned cluster needs SecretArn or DbUser to authenticate.');
    if (!i.Database && !i.SecretArn) throw new SandboxFault(VALIDATION, 'Database is required (or a SecretArn whose secret names the database).');
    if (i.SecretArn && i.DbUser) throw new SandboxFault(VALIDATION, 'Specify either SecretArn or DbUser, not both.');
    if (i.SessionId !== undefined || i.SessionKeepAliveSeconds !== undefined) {
      throw new SandboxFault(VALIDATION, 'The sandbox does not support Data API sessions (SessionId / SessionKeepAliveSeconds): every statement runs in a fresh session.');
    }
    if (i.ResultFormat === 'CSV') throw new SandboxFault(VALIDATION, 'The sandbox returns results as JSON only (ResultFormat CSV is not supported).');
  }

  private checkSql(sql: string, params: { name: string; value: string }[] | undefined, where: string): void {
    if (sql.trim() === '') throw new SandboxFault(VALIDATION, `${where}: the SQL is empty.`);
    const bytes = Buffer.byteLength(sql, 'utf8');
    if (bytes > MAX_SQL_BYTES) throw new SandboxFault(VALIDATION, `${where}: the SQL is ${bytes} bytes; the Data API accepts at most ${MAX_SQL_BYTES} bytes per statement.`);
    const given = new Set((params ?? []).map((p) => p.name));
    const missing = namedParams(sql).filter((n) => !given.has(n));
    if (missing.length > 0) {
      throw new SandboxFault(VALIDATION, `${where}: the SQL uses parameter${missing.length > 1 ? 's' : ''} ${missing.map((m) => `:${m}`).join(', ')} but Parameters has no value for ${missing.length > 1 ? 'them' : 'it'}.`);
    }
  }

  private checkParams(params: { name: string; value: string }[] | undefined): void {
    const seen = new Set<string>();
    for (const p of params ?? []) {
      if (seen.has(p.name)) throw new SandboxFault(VALIDATION, `Parameter "${p.name}" is given more than once.`);
      seen.add(p.name);
    }
  }

  /**
   * The statement an earlier submit with this ClientToken created, while the token lives (8 h, as AWS idempotency
   * tokens do). The Data API documents the token as 1–64 characters and says nothing of a repeated token with other
   * SQL; the sandbox then answers with the first statement, as for an identical retry (nothing new runs).
   */
  private fromToken(token: string | undefined): StatementRecord | undefined {
    if (token === undefined) return undefined;
    const t = this.tokens.get(token);
    if (!t) return undefined;
    if (Date.now() - t.at > CLIENT_TOKEN_TTL_MS) {
      this.tokens.delete(token);
      return undefined;
    }
    return this.statements.get(t.id);
  }

  /** Every submit request accepted so far (the newest MAX_SUBMISSIONS), oldest first. */
  submissions(): readonly Submission[] {
    return [...this.submitted];
  }

  private logSubmit(r: StatementRecord, deduplicated: boolean): void {
    this.submitted.push({
      at: Date.now(),
      id: r.id,
      deduplicated,
      ...(r.name !== undefined ? { name: r.name } : {}),
      ...(r.clientToken !== undefined ? { clientToken: r.clientToken } : {}),
    });
    if (this.submitted.length > MAX_SUBMISSIONS) this.submitted.splice(0, this.submitted.length - MAX_SUBMISSIONS);
  }

  /** A submit: the statement an unexpired ClientToken already names, or a new one checked and started by `create`. */
  private submit(token: string | undefined, create: () => StatementRecord): Record<string, unknown> {
    const existing = this.fromToken(token);
    if (existing) {
      this.logSubmit(existing, true);
      return this.executeOutput(existing);
    }
    const rec = create();
    this.logSubmit(rec, false);
    this.start(rec);
    return this.executeOutput(rec);
  }

  private execute(i: z.infer<typeof executeInput>): Record<string, unknown> {
    return this.submit(i.ClientToken, () => {
      this.checkConnection(i);
      this.checkParams(i.Parameters);
      this.checkSql(i.Sql, i.Parameters, 'ExecuteStatement');
      return this.newRecord(i, [i.Sql], false);
    });
  }

  private executeBatch(i: z.infer<typeof batchInput>): Record<string, unknown> {
    if (i.Sqls.length > MAX_BATCH_STATEMENTS) {
      // the AWS input-validation form (the value abbreviated: it can be 40 × 100 KB)
      const shown = i.Sqls.slice(0, 3).map((q) => (q.length > 60 ? `${q.slice(0, 60)}…` : q));
      throw new SandboxFault(
        VALIDATION,
        `1 validation error detected: Value '[${shown.join(', ')}, …]' at 'sqls' failed to satisfy constraint: Member must have length less than or equal to ${MAX_BATCH_STATEMENTS}`,
      );
    }
    return this.submit(i.ClientToken, () => {
      this.checkConnection(i);
      this.checkParams(i.Parameters);
      i.Sqls.forEach((sql, k) => this.checkSql(sql, i.Parameters, `BatchExecuteStatement Sqls[${k}]`));
      return this.newRecord(i, i.Sqls, true);
    });
  }

  private newRecord(i: ConnectionInput | z.infer<typeof batchInput>, sqls: string[], batch: boolean): StatementRecord {
    if (this.closing) throw new SandboxFault('InternalServerException', 'the sandbox is shutting down', 500);
    const now = Date.now();
    const id = randomUUID();
    const part = (sql: string): Part => ({ sql, status: 'SUBMITTED', createdAt: now, updatedAt: now, queryId: ++this.queryIds });
    const rec: StatementRecord = {
      ...part(sqls.join(';\n')),
      id,
      batch,
      subs: batch ? sqls.map(part) : [],
      params: i.Parameters ?? [],
      cancelRequested: false,
      executing: false,
      ...(i.StatementName !== undefined ? { name: i.StatementName } : {}),
      ...(i.ClientToken !== undefined ? { clientToken: i.ClientToken } : {}),
      ...(i.Database !== undefined ? { database: i.Database } : {}),
      ...(i.ClusterIdentifier !== undefined ? { clusterIdentifier: i.ClusterIdentifier } : {}),
      ...(i.WorkgroupName !== undefined ? { workgroupName: i.WorkgroupName } : {}),
      ...(i.DbUser !== undefined ? { dbUser: i.DbUser } : {}),
      ...(i.SecretArn !== undefined ? { secretArn: i.SecretArn } : {}),
    };
    if (!batch) rec.sql = sqls[0]!;
    this.statements.set(id, rec);
    if (i.ClientToken !== undefined) this.tokens.set(i.ClientToken, { id, at: now });
    this.evict();
    return rec;
  }

  private evict(): void {
    if (this.statements.size <= this.maxStatements) return;
    for (const [id, r] of this.statements) {
      if (this.statements.size <= this.maxStatements) break;
      if (isDone(r)) {
        this.statements.delete(id);
        if (r.clientToken !== undefined) this.tokens.delete(r.clientToken);
      }
    }
  }

  private executeOutput(r: StatementRecord): Record<string, unknown> {
    return {
      Id: r.id,
      CreatedAt: epochSeconds(r.createdAt),
      ...(r.clusterIdentifier !== undefined ? { ClusterIdentifier: r.clusterIdentifier } : {}),
      ...(r.workgroupName !== undefined ? { WorkgroupName: r.workgroupName } : {}),
      ...(r.database !== undefined ? { Database: r.database } : {}),
      ...(r.dbUser !== undefined ? { DbUser: r.dbUser } : {}),
      ...(r.secretArn !== undefined ? { SecretArn: r.secretArn } : {}),
    };
  }

  // ─── running ───────────────────────────────────────────────────────────────────────────────────────────────────────

  private start(rec: StatementRecord): void {
    const p = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.run(rec))
      .catch((e: unknown) => this.log.error({ err: e, statementId: rec.id }, 'sandbox statement runner failed'));
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  private set(p: Part, status: Status, error?: string): void {
    p.status = status;
    p.updatedAt = Date.now();
    if (error !== undefined) p.error = error;
    if (status === 'STARTED') p.startedNs = process.hrtime.bigint();
    if (status === 'FINISHED' || status === 'FAILED' || status === 'ABORTED') {
      p.startedNs ??= process.hrtime.bigint();
      p.endedNs = process.hrtime.bigint();
    }
  }

  private async run(rec: StatementRecord): Promise<void> {
    if (rec.status !== 'SUBMITTED') return; // cancelled before it was picked up
    let session: DbSession | undefined;
    let broken = false;
    try {
      const delayMs = this.faults.statementDelayMs + takeStatementSlowness(this.faults, rec.sql);
      const delayed = delayMs > 0;
      if (delayed) {
        // wait before taking a connection: on PGlite (one connection) a delayed statement must not hold up the others
        this.set(rec, 'STARTED');
        await this.delay(rec, delayMs);
      }
      if (rec.cancelRequested) throw new Aborted();
      session = await this.db.session();
      if (rec.cancelRequested) throw new Aborted();
      rec.pid = await resetSession(session, {
        diskCapacityMb: this.faults.diskCapacityMb,
        superuser: this.faults.catalogUser === 'superuser',
        grants: this.faults.catalogGrants,
        serverless: rec.workgroupName !== undefined,
        tableHealth: this.faults.tableHealth,
      });
      rec.session = session;
      if (!delayed) this.set(rec, 'STARTED');
      if (rec.batch) await this.runBatch(rec, session);
      else {
        const injected = takeStatementFailure(this.faults, rec.sql);
        if (injected !== undefined) throw new Injected(injected);
        const state = { inTx: false };
        try {
          rec.outcome = takeStatementNoop(this.faults, rec.sql) ? { resultRows: 0, resultSize: 0 } : await this.runText(rec, session, rec.sql, state);
        } finally {
          // an explicit transaction left open ends with the session, as on the Data API
          if (state.inTx) await session.query('ROLLBACK').catch(() => {
            broken = true;
          });
        }
        await publishStats(session);
        this.set(rec, 'FINISHED');
      }
    } catch (e) {
      if (isDone(rec)) return;
      if (timedOut(e, rec)) {
        this.set(rec, 'FAILED', rec.error ?? statementTimeoutText(rec.queryId));
      } else if (e instanceof Aborted || rec.cancelRequested || (e instanceof DbError && e.code === QUERY_CANCELED)) {
        this.set(rec, 'ABORTED', `ERROR: Query (${rec.queryId}) cancelled on user's request`);
      } else if (e instanceof Injected) {
        this.set(rec, 'FAILED', e.message);
      } else {
        this.set(rec, 'FAILED', rec.error ?? this.longNames.restore(errorText(e)));
        if (!(e instanceof DbError) && !(e instanceof TranslateError)) {
          broken = true;
          this.log.warn({ err: e, statementId: rec.id }, 'sandbox statement failed outside the database');
        }
      }
    } finally {
      rec.session = undefined;
      rec.executing = false;
      if (session) await session.release(broken).catch(() => undefined);
      this.log.debug({ statementId: rec.id, status: rec.status, batch: rec.batch, ms: this.durationNs(rec) / 1e6 }, 'statement done');
    }
  }

  /** statementDelayMs: waits in STARTED; a cancel ends the wait early. */
  private delay(rec: StatementRecord, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        rec.wake = undefined;
        resolve();
      }, ms);
      rec.wake = () => {
        clearTimeout(t);
        rec.wake = undefined;
        resolve();
      };
    });
  }

  private async runBatch(rec: StatementRecord, session: DbSession): Promise<void> {
    const state = { inTx: true };
    await session.query('BEGIN');
    let n = 0;
    try {
      for (const sub of rec.subs) {
        n++;
        if (rec.cancelRequested) throw new Aborted();
        this.set(sub, 'STARTED');
        const injected = takeStatementFailure(this.faults, sub.sql);
        try {
          if (injected !== undefined) throw new Injected(injected);
          sub.outcome = takeStatementNoop(this.faults, sub.sql) ? { resultRows: 0, resultSize: 0 } : await this.runText(rec, session, sub.sql, state);
          this.set(sub, 'FINISHED');
        } catch (e) {
          const timeout = timedOut(e, rec);
          const cancelled = !timeout && (e instanceof Aborted || rec.cancelRequested || (e instanceof DbError && e.code === QUERY_CANCELED));
          if (timeout) this.set(sub, 'FAILED', statementTimeoutText(sub.queryId));
          else if (cancelled) this.set(sub, 'ABORTED', `ERROR: Query (${sub.queryId}) cancelled on user's request`);
          else this.set(sub, 'FAILED', e instanceof Injected ? e.message : this.longNames.restore(errorText(e)));
          for (const later of rec.subs.slice(n)) this.set(later, 'ABORTED');
          if (!cancelled) rec.error = `Query #${n} failed with ${sub.error}`;
          throw e;
        }
      }
      if (state.inTx) await session.query('COMMIT');
      await publishStats(session);
      const outcomes = rec.subs.map((s) => s.outcome);
      rec.outcome = {
        resultRows: outcomes.reduce((a, o) => a + (o?.resultRows ?? 0), 0),
        resultSize: outcomes.reduce((a, o) => a + (o?.resultSize ?? 0), 0),
      };
      this.set(rec, 'FINISHED');
    } catch (e) {
      await session.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  /** Run one SQL text (possibly several `;`-separated statements) on the session; the last result set is the result. */
  private async runText(rec: StatementRecord, session: DbSession, sql: string, state: { inTx: boolean }): Promise<Outcome> {
    const values = new Map(rec.params.map((p) => [p.name, p.value]));
    let last: DbResult | undefined;
    let reported: DbResult | undefined;
    for (const written of splitStatements(sql)) {
      if (rec.cancelRequested) throw new Aborted();
      // names longer than PostgreSQL's 63 bytes become aliases (long-names.ts); remembered in the catalog too
      const mapped = this.longNames.rewriteSql(written);
      const stmt = mapped.sql;
      for (const [alias, name] of mapped.added)
        await session.query(`insert into ${SANDBOX_SCHEMA}.long_names (alias, name) values ($1, $2) on conflict do nothing`, [alias, name]);
      const bound = this.longNames.size === 0 ? values : new Map([...values].map(([k, v]) => [k, this.longNames.rewriteValue(stmt, v)]));
      const t = translateStatement(stmt, { inTransaction: state.inTx });
      if (t.notInTransaction && state.inTx) throw new TranslateError(t.notInTransaction);
      const release = this.claimMaintenance(t.maintenance);
      try {
        const maintained = t.maintenance?.table !== undefined ? await this.resolveTable(session, t.maintenance.table) : undefined;
        if (t.implicitCommit && state.inTx) await session.query('COMMIT');
        const wrap = (t.atomic ?? false) && !state.inTx;
        if (wrap) await session.query('BEGIN');
        try {
          for (const step of t.steps) {
            let text = step.sql;
            let params = step.params;
            if (step.user && step.params === undefined) {
              const b = bindNamedParams(text, bound);
              text = b.text;
              params = b.values.length > 0 ? b.values : undefined;
            }
            rec.executing = true;
            let r: DbResult;
            try {
              r = await session.query(text, params);
            } finally {
              rec.executing = false;
            }
            if (step.user) reported = r;
          }
          if (wrap) await session.query('COMMIT');
        } catch (e) {
          if (wrap) await session.query('ROLLBACK').catch(() => undefined);
          throw e;
        }
        if (t.implicitCommit && state.inTx) await session.query('BEGIN');
        if (t.txEffect === 'begin') state.inTx = true;
        else if (t.txEffect === 'end') state.inTx = false;
        if (t.maintenance) this.recordMaintenance(rec, t.maintenance, maintained, state.inTx);
      } finally {
        release();
      }
      last = reported;
      reported = undefined;
    }
    if (!last) return { resultRows: 0, resultSize: 0 };
    const unknown = last.fields.map((f) => f.typeId).filter((t) => !this.typeNames.has(t));
    if (unknown.length > 0) await this.loadTypeNames(session, unknown).catch(() => undefined);
    if (this.longNames.size > 0) {
      const restore = (v: string | null): string | null => (v === null ? v : this.longNames.restore(v));
      last = { ...last, fields: last.fields.map((f) => ({ ...f, name: this.longNames.restore(f.name) })), rows: last.rows.map((r) => r.map(restore)) };
    }
    const hasResultSet = last.fields.length > 0;
    const resultSize = hasResultSet ? last.rows.reduce((a, row) => a + row.reduce((b, v) => b + (v === null ? 0 : v.length), 0), 0) : 0;
    return {
      ...(hasResultSet ? { result: { fields: last.fields, rows: last.rows } } : {}),
      resultRows: hasResultSet ? last.rows.length : last.rowCount,
      resultSize,
    };
  }

  /**
   * Redshift runs one VACUUM at a time per cluster: a VACUUM while another runs (ours, or the `vacuumBusy` knob standing
   * for another client's) fails with Redshift's text. Returns the release of the claim.
   */
  private claimMaintenance(m: Maintenance | undefined): () => void {
    if (m?.op !== 'vacuum') return () => undefined;
    if (this.faults.vacuumBusy > 0) {
      this.faults.vacuumBusy--;
      throw new TranslateError(VACUUM_RUNNING);
    }
    if (this.vacuumsRunning > 0) throw new TranslateError(VACUUM_RUNNING);
    this.vacuumsRunning++;
    let released = false;
    return () => {
      if (!released) this.vacuumsRunning--;
      released = true;
    };
  }

  /** The table a VACUUM / ANALYZE names, as `schema.table` (fails as Redshift does when it does not exist). */
  private async resolveTable(session: DbSession, raw: string): Promise<string> {
    const r = await session.query('select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = $1::regclass', [raw]);
    const row = r.rows[0];
    return this.longNames.restore(`${row?.[0] ?? ''}.${row?.[1] ?? ''}`);
  }

  /** Record the maintenance and clear the seeded health it fixes (as the real VACUUM / ANALYZE would). */
  private recordMaintenance(rec: StatementRecord, m: Maintenance, table: string | undefined, inTransaction: boolean): void {
    const health = this.faults.tableHealth;
    for (const key of table !== undefined ? [table] : Object.keys(health)) {
      const h = health[key];
      if (!h) continue;
      if (m.op === 'analyze') delete h.statsOff;
      else {
        const threshold = m.toPercent ?? 95;
        const sorts = m.mode !== 'DELETE ONLY';
        const reclaims = m.mode === 'FULL' || m.mode === 'DELETE ONLY' || m.mode === 'REINDEX';
        // the sort phase is skipped when more than `threshold` percent of the rows are sorted already
        if (sorts && h.unsorted !== undefined && h.unsorted > 100 - threshold) delete h.unsorted;
        if (reclaims) delete h.deletedRows;
        if (m.mode === 'REINDEX') delete h.interleavedSkew;
      }
      if (Object.keys(h).length === 0) delete health[key];
    }
    this.maintenanceLog.push({
      op: m.op,
      ...(m.op === 'vacuum' ? { mode: m.mode, boost: m.boost, ...(m.toPercent !== undefined ? { toPercent: m.toPercent } : {}) } : { predicateColumns: m.predicateColumns }),
      ...(table !== undefined ? { table } : {}),
      inTransaction,
      batch: rec.batch,
      statementId: rec.id,
      at: Date.now(),
    });
  }

  // ─── CancelStatement ───────────────────────────────────────────────────────────────────────────────────────────────

  private async cancel(id: string): Promise<Record<string, unknown>> {
    const rec = this.find(id);
    if (isDone(rec)) {
      throw new SandboxFault(VALIDATION, `Could not cancel a query that is already in ${rec.status} state.`);
    }
    rec.cancelRequested = true;
    if (rec.status === 'SUBMITTED' || rec.status === 'PICKED') {
      this.set(rec, 'ABORTED', `ERROR: Query (${rec.queryId}) cancelled on user's request`);
      for (const s of rec.subs) this.set(s, 'ABORTED');
      return { Status: true };
    }
    rec.wake?.();
    if (rec.executing && rec.session) {
      const interrupted = await this.interrupt(rec);
      this.log.debug({ statementId: id, interrupted }, 'cancel requested');
      // a cancel that reaches the backend before it starts executing the query is ignored by PostgreSQL: try again
      if (interrupted) void this.reinterrupt(rec);
    }
    return { Status: true };
  }

  private interrupt(rec: StatementRecord): Promise<boolean> {
    const session = rec.session;
    if (!session || !rec.executing) return Promise.resolve(false);
    return session.interrupt().catch((e: unknown) => {
      this.log.warn({ err: e, statementId: rec.id }, 'could not interrupt the running statement');
      return false;
    });
  }

  private async reinterrupt(rec: StatementRecord): Promise<void> {
    for (let k = 1; k <= 20; k++) {
      await new Promise((r) => setTimeout(r, 25 * k));
      if (isDone(rec) || !rec.executing) return;
      await this.interrupt(rec);
    }
  }

  // ─── DescribeStatement ─────────────────────────────────────────────────────────────────────────────────────────────

  private find(id: string): StatementRecord {
    const rec = this.statements.get(id);
    if (!rec) throw new SandboxFault(NOT_FOUND, `Query does not exist: no statement with Id ${id} (the sandbox keeps statements in memory while it runs).`);
    return rec;
  }

  /** `<id>` or `<id>:<n>` (a batch's sub-statement) */
  private findPart(id: string): { rec: StatementRecord; part: Part; subIndex?: number } {
    const m = /^(.*):(\d+)$/.exec(id);
    if (m && !this.statements.has(id)) {
      const rec = this.find(m[1]!);
      const n = Number(m[2]);
      const part = rec.subs[n - 1];
      if (!rec.batch || !part) throw new SandboxFault(NOT_FOUND, `Query does not exist: statement ${m[1]} has no sub-statement ${n}.`);
      return { rec, part, subIndex: n };
    }
    const rec = this.find(id);
    return { rec, part: rec };
  }

  private durationNs(p: Part): number {
    if (p.startedNs === undefined) return -1;
    const end = p.endedNs ?? process.hrtime.bigint();
    return Number(end - p.startedNs);
  }

  private describe(id: string): Record<string, unknown> {
    const { rec, part, subIndex } = this.findPart(id);
    const common = {
      Duration: this.durationNs(part),
      Status: part.status,
      ...(part.error !== undefined ? { Error: part.error } : {}),
      CreatedAt: epochSeconds(part.createdAt),
      UpdatedAt: epochSeconds(part.updatedAt),
      HasResultSet: part.outcome?.result !== undefined,
      QueryString: part.sql,
      ResultRows: part.outcome?.resultRows ?? -1,
      ResultSize: part.outcome?.resultSize ?? -1,
      RedshiftQueryId: part.queryId,
    };
    if (subIndex !== undefined) return { Id: id, ...common, ...(rec.pid !== undefined ? { RedshiftPid: rec.pid } : {}) };
    return {
      Id: rec.id,
      ...common,
      ...(rec.pid !== undefined ? { RedshiftPid: rec.pid } : {}),
      ...(rec.database !== undefined ? { Database: rec.database } : {}),
      ...(rec.clusterIdentifier !== undefined ? { ClusterIdentifier: rec.clusterIdentifier } : {}),
      ...(rec.workgroupName !== undefined ? { WorkgroupName: rec.workgroupName } : {}),
      ...(rec.dbUser !== undefined ? { DbUser: rec.dbUser } : {}),
      ...(rec.secretArn !== undefined ? { SecretArn: rec.secretArn } : {}),
      ...(rec.params.length > 0 ? { QueryParameters: rec.params } : {}),
      ...(rec.batch
        ? {
            HasResultSet: rec.subs.some((s) => s.outcome?.result !== undefined),
            SubStatements: rec.subs.map((s, k) => ({
              Id: `${rec.id}:${k + 1}`,
              Status: s.status,
              ...(s.error !== undefined ? { Error: s.error } : {}),
              Duration: this.durationNs(s),
              CreatedAt: epochSeconds(s.createdAt),
              UpdatedAt: epochSeconds(s.updatedAt),
              QueryString: s.sql,
              ResultRows: s.outcome?.resultRows ?? -1,
              ResultSize: s.outcome?.resultSize ?? -1,
              RedshiftQueryId: s.queryId,
              HasResultSet: s.outcome?.result !== undefined,
            })),
          }
        : {}),
    };
  }

  // ─── GetStatementResult ────────────────────────────────────────────────────────────────────────────────────────────

  private result(id: string, nextToken: string | undefined): Record<string, unknown> {
    const { rec, part } = this.findPart(id);
    if (part.status === 'FAILED' || part.status === 'ABORTED') {
      throw new SandboxFault(VALIDATION, `Query ${id} is ${part.status}: it has no result. ${part.error ?? ''}`.trim());
    }
    if (part.status !== 'FINISHED') {
      throw new SandboxFault(VALIDATION, `Query ${id} has not finished (status ${part.status}): poll DescribeStatement until FINISHED.`);
    }
    if (rec.batch && part === rec) {
      throw new SandboxFault(VALIDATION, `Query ${id} is a batch: ask for a sub-statement's result with its Id (${id}:1, ${id}:2, …).`);
    }
    const res = part.outcome?.result;
    if (!res) throw new SandboxFault(VALIDATION, 'Query does not have result. Please check query status with DescribeStatement.');
    let offset = 0;
    if (nextToken !== undefined) {
      const t = decodeToken(nextToken, VALIDATION, 'NextToken');
      const parsed = z.object({ id: z.literal(id), offset: z.number().int().min(0) }).safeParse(t);
      if (!parsed.success || parsed.data.offset > res.rows.length) {
        throw new SandboxFault(VALIDATION, 'The NextToken is not valid for this statement: pass back the token exactly as the previous page returned it.');
      }
      offset = parsed.data.offset;
    }
    const end = Math.min(res.rows.length, offset + this.pageSize);
    const records = res.rows.slice(offset, end).map((row) => res.fields.map((f, k) => toField(f.typeId, row[k] ?? null)));
    return {
      Records: records,
      ColumnMetadata: res.fields.map((f) => columnMetadata(f, this.typeNames.get(f.typeId) ?? 'unknown')),
      TotalNumRows: res.rows.length,
      ...(end < res.rows.length ? { NextToken: encodeToken({ id, offset: end }) } : {}),
    };
  }

  // ─── ListStatements ────────────────────────────────────────────────────────────────────────────────────────────────

  private list(i: z.infer<typeof listInput>): Record<string, unknown> {
    const max = i.MaxResults === undefined || i.MaxResults === 0 ? 100 : i.MaxResults;
    let offset = 0;
    if (i.NextToken !== undefined) {
      const t = z.object({ offset: z.number().int().min(0) }).safeParse(decodeToken(i.NextToken, VALIDATION, 'NextToken'));
      if (!t.success) throw new SandboxFault(VALIDATION, 'The NextToken is not valid: pass back the token exactly as the previous page returned it.');
      offset = t.data.offset;
    }
    const status = i.Status ?? 'ALL';
    const all = [...this.statements.values()]
      .filter((r) => status === 'ALL' || r.status === status)
      .filter((r) => i.StatementName === undefined || (r.name ?? '').startsWith(i.StatementName))
      .filter((r) => i.Database === undefined || r.database === i.Database)
      .filter((r) => i.ClusterIdentifier === undefined || r.clusterIdentifier === i.ClusterIdentifier)
      .filter((r) => i.WorkgroupName === undefined || r.workgroupName === i.WorkgroupName)
      .sort((a, b) => b.createdAt - a.createdAt || b.queryId - a.queryId);
    const page = all.slice(offset, offset + max);
    return {
      Statements: page.map((r) => ({
        Id: r.id,
        ...(r.batch ? { QueryStrings: r.subs.map((s) => s.sql), IsBatchStatement: true } : { QueryString: r.sql, IsBatchStatement: false }),
        Status: r.status,
        ...(r.name !== undefined ? { StatementName: r.name } : {}),
        ...(r.secretArn !== undefined ? { SecretArn: r.secretArn } : {}),
        CreatedAt: epochSeconds(r.createdAt),
        UpdatedAt: epochSeconds(r.updatedAt),
        ...(r.params.length > 0 ? { QueryParameters: r.params } : {}),
      })),
      ...(offset + max < all.length ? { NextToken: encodeToken({ offset: offset + max }) } : {}),
    };
  }

  // ─── lifecycle ─────────────────────────────────────────────────────────────────────────────────────────────────────

  /** Cancel what is running and wait for every statement runner to finish. */
  async close(): Promise<void> {
    this.closing = true;
    for (const rec of this.statements.values()) {
      if (rec.status === 'SUBMITTED' || rec.status === 'STARTED' || rec.status === 'PICKED') {
        await this.cancel(rec.id).catch(() => undefined);
      }
    }
    await Promise.allSettled([...this.running]);
  }
}

/**
 * svv_table_info reads row counts from PostgreSQL's statistics (catalog.ts, metadata as on Redshift). A backend sends its
 * statistics when it goes idle, at most once a second unless forced: force it, so the counts a statement leaves are in
 * the catalog by the time the statement is FINISHED, as Redshift's STV_TBL_PERM is at commit.
 */
async function publishStats(session: DbSession): Promise<void> {
  await session.query('select pg_stat_force_next_flush()').catch(() => undefined);
}
