/**
 * The sandbox's database: a small interface over either a PostgreSQL server (`pg` Pool) or an embedded PGlite.
 *
 * Every Data API statement runs on a dedicated session (one connection for the whole statement or batch). Values come
 * back as PostgreSQL's text output (no JS parsing), so the Data API can render them exactly as Redshift would; use
 * `toObjects()` for JS values (numbers, booleans, strings) in tests and internal queries.
 *
 * PGlite is single-connection: sessions are serialized (one at a time, FIFO), and a running query cannot be
 * interrupted — except `SELECT pg_sleep(n)`, which is emulated with a timer on PGlite so it neither blocks the event
 * loop nor ignores CancelStatement.
 */
import pg from 'pg';
import type { PGlite as PGliteType } from '@electric-sql/pglite';

export interface DbField {
  name: string;
  typeId: number;
  /** type modifier (varchar length + 4, numeric precision/scale), -1 when unknown (always on PGlite) */
  typmod: number;
}

export interface DbResult {
  command: string;
  fields: DbField[];
  rows: (string | null)[][];
  /** rows returned or affected */
  rowCount: number;
}

export interface DbSession {
  /** Run one statement (extended protocol when there are parameters). */
  query(text: string, params?: readonly unknown[]): Promise<DbResult>;
  /** Run several statements without parameters (simple protocol); the result of the last one. */
  script(text: string): Promise<void>;
  /** Cancel what the session is running right now; false when the backend cannot (PGlite, except pg_sleep). */
  interrupt(): Promise<boolean>;
  /** Give the connection back; `broken` closes it instead (after an error that left it in an unknown state). */
  release(broken?: boolean): Promise<void>;
}

export interface Db {
  readonly kind: 'postgres' | 'pglite';
  session(): Promise<DbSession>;
  close(): Promise<void>;
  /** PGlite only: the data directory as a tarball (between sessions), for `loadDataDir` on a later start */
  dumpDataDir?(): Promise<Blob>;
}

/** A database error with PostgreSQL's SQLSTATE. */
export class DbError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly detail?: string,
    readonly hint?: string,
    readonly position?: string,
  ) {
    super(message);
    this.name = 'DbError';
  }
}

export const QUERY_CANCELED = '57014';

function asDbError(err: unknown): Error {
  if (err instanceof DbError) return err;
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; detail?: unknown; hint?: unknown; position?: unknown };
    const s = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return new DbError(e.message, e.code, s(e.detail), s(e.hint), s(e.position));
    return err;
  }
  return new Error(String(err));
}

// ─── values ──────────────────────────────────────────────────────────────────────────────────────────────────────────

export const OID = {
  bool: 16,
  int8: 20,
  int2: 21,
  int4: 23,
  oid: 26,
  float4: 700,
  float8: 701,
  numeric: 1700,
  void: 2278,
} as const;

/** PostgreSQL text output → a JS value: booleans, numbers for integer/float types (int8 beyond 2^53 stays a string). */
export function parseValue(typeId: number, text: string | null): unknown {
  if (text === null) return null;
  switch (typeId) {
    case OID.bool:
      return text === 't';
    case OID.int2:
    case OID.int4:
    case OID.oid:
      return Number(text);
    case OID.int8: {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text;
    }
    case OID.float4:
    case OID.float8: {
      const n = Number(text);
      return Number.isNaN(n) && text !== 'NaN' ? text : n;
    }
    default:
      return text;
  }
}

/** Rows as objects keyed by column name, values parsed with parseValue. */
export function toObjects(r: DbResult): Record<string, unknown>[] {
  return r.rows.map((row) => {
    const o: Record<string, unknown> = {};
    r.fields.forEach((f, i) => {
      o[f.name] = parseValue(f.typeId, row[i] ?? null);
    });
    return o;
  });
}

// ─── PostgreSQL server ───────────────────────────────────────────────────────────────────────────────────────────────

const rawText = (v: string): string => v;
const RAW_TYPES = { getTypeParser: () => rawText } as unknown as pg.CustomTypesConfig;

interface PgQueryResult {
  command: string;
  rowCount: number | null;
  rows: (string | null)[][];
  fields: { name: string; dataTypeID: number; dataTypeModifier: number }[];
}

function fromPg(r: PgQueryResult | PgQueryResult[]): DbResult {
  const last = Array.isArray(r) ? r[r.length - 1] : r;
  if (last === undefined) return { command: '', fields: [], rows: [], rowCount: 0 };
  return {
    command: last.command ?? '',
    fields: (last.fields ?? []).map((f) => ({ name: f.name, typeId: f.dataTypeID, typmod: f.dataTypeModifier })),
    rows: last.rows ?? [],
    rowCount: last.rowCount ?? (last.rows?.length ?? 0),
  };
}

class PgDb implements Db {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private admin: pg.Client | undefined;
  private adminReady: Promise<pg.Client> | undefined;

  constructor(
    private readonly url: string,
    poolSize: number,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max: poolSize, types: RAW_TYPES, idleTimeoutMillis: 30_000 });
    // an idle connection whose backend went away must not crash the process; the pool replaces it
    this.pool.on('error', () => undefined);
  }

  async session(): Promise<DbSession> {
    const client = await this.pool.connect().catch((e: unknown) => {
      throw asDbError(e);
    });
    // the backend pid the driver got at connect time (BackendKeyData), for pg_cancel_backend
    const pid = (client as unknown as { processID?: number | null }).processID ?? undefined;
    let released = false;
    const run = async (text: string, params?: readonly unknown[]): Promise<DbResult> => {
      try {
        const r = (await client.query({ text, values: params ? [...params] : undefined, rowMode: 'array' } as pg.QueryConfig)) as unknown as PgQueryResult | PgQueryResult[];
        return fromPg(r);
      } catch (e) {
        throw asDbError(e);
      }
    };
    return {
      query: run,
      script: async (text) => {
        await run(text);
      },
      interrupt: async () => {
        const p = pid ?? (await run('select pg_backend_pid()::text').then((r) => Number(r.rows[0]?.[0])));
        const admin = await this.adminClient();
        const r = await admin.query({ text: 'select pg_cancel_backend($1)::text', values: [p], rowMode: 'array' } as pg.QueryConfig);
        return (r.rows as unknown as string[][])[0]?.[0] === 'true';
      },
      release: async (broken) => {
        if (released) return;
        released = true;
        client.release(broken ? true : undefined);
      },
    };
  }

  /** A connection outside the pool, so CancelStatement works even when every pooled connection is busy. */
  private adminClient(): Promise<pg.Client> {
    if (this.admin) return Promise.resolve(this.admin);
    this.adminReady ??= (async () => {
      const c = new pg.Client({ connectionString: this.url, types: RAW_TYPES });
      c.on('error', () => {
        this.admin = undefined;
        this.adminReady = undefined;
      });
      await c.connect();
      this.admin = c;
      return c;
    })().catch((e: unknown) => {
      this.adminReady = undefined;
      throw asDbError(e);
    });
    return this.adminReady;
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await Promise.allSettled([this.pool.end(), admin ? admin.end() : Promise.resolve()]);
  }
}

// ─── PGlite ──────────────────────────────────────────────────────────────────────────────────────────────────────────

const SLEEP = /^\s*select\s+pg_sleep\s*\(\s*([0-9]+(?:\.[0-9]*)?)\s*\)\s*;?\s*$/i;

class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly pg: PGliteType,
    private readonly parsers: Record<number, (v: string) => string>,
  ) {}

  /** FIFO lock: PGlite has one connection, so one session at a time. */
  private lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => {
      release = r;
    });
    const prev = this.tail;
    this.tail = prev.then(() => next);
    return prev.then(() => release);
  }

  async session(): Promise<DbSession> {
    if (this.closed) throw new DbError('the sandbox database is closed', '57P01');
    const unlock = await this.lock();
    let released = false;
    let sleeping: { timer: NodeJS.Timeout; reject: (e: Error) => void } | undefined;
    const db = this.pg;
    const run = async (text: string, params?: readonly unknown[]): Promise<DbResult> => {
      if (released) throw new Error('session already released');
      const m = params === undefined || params.length === 0 ? SLEEP.exec(text) : null;
      if (m) {
        // pg_sleep inside the WASM engine would block the whole process and could not be cancelled
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            sleeping = undefined;
            resolve();
          }, Number(m[1]) * 1000);
          sleeping = { timer, reject };
        });
        return { command: 'SELECT', fields: [{ name: 'pg_sleep', typeId: OID.void, typmod: -1 }], rows: [['']], rowCount: 1 };
      }
      try {
        const r = await db.query<unknown[]>(text, params ? [...params] : [], { rowMode: 'array', parsers: this.parsers });
        return {
          command: r.command ?? '',
          fields: r.fields.map((f) => ({ name: f.name, typeId: f.dataTypeID, typmod: -1 })),
          rows: r.rows as (string | null)[][],
          rowCount: r.rowCount ?? r.affectedRows ?? r.rows.length,
        };
      } catch (e) {
        throw asDbError(e);
      }
    };
    return {
      query: run,
      script: async (text) => {
        try {
          await db.exec(text);
        } catch (e) {
          throw asDbError(e);
        }
      },
      interrupt: async () => {
        const s = sleeping;
        if (!s) return false;
        sleeping = undefined;
        clearTimeout(s.timer);
        s.reject(new DbError('canceling statement due to user request', QUERY_CANCELED));
        return true;
      },
      release: async () => {
        if (released) return;
        released = true;
        unlock();
      },
    };
  }

  async dumpDataDir(): Promise<Blob> {
    const unlock = await this.lock();
    try {
      return await this.pg.dumpDataDir('none');
    } finally {
      unlock();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const unlock = await this.lock();
    try {
      await this.pg.close();
    } finally {
      unlock();
    }
  }
}

// ─── opening ─────────────────────────────────────────────────────────────────────────────────────────────────────────

export interface OpenDbOptions {
  /** postgres://… for a PostgreSQL server; `pglite:<dir>` for a persistent PGlite; undefined or `pglite:` = in memory */
  databaseUrl?: string;
  /** PostgreSQL connections for concurrently running statements (default 10) */
  poolSize?: number;
  /** in-memory PGlite only: start from this data directory tarball (a `dumpDataDir`) instead of an empty cluster */
  pgliteDataDir?: Blob;
}

export async function openDb(opts: OpenDbOptions = {}): Promise<Db> {
  const url = opts.databaseUrl?.trim();
  if (url && /^postgres(ql)?:\/\//i.test(url)) {
    const db = new PgDb(url, Math.max(2, opts.poolSize ?? 10));
    // fail now, with a readable message, rather than at the first statement
    try {
      const s = await db.session();
      await s.release();
    } catch (e) {
      await db.close();
      const msg = e instanceof Error ? e.message : String(e);
      throw new Error(`cannot connect to the sandbox database ${redactUrl(url)}: ${msg}`);
    }
    return db;
  }
  if (url && !/^pglite:/i.test(url)) {
    throw new Error(`DATABASE_URL must be postgres://… (a PostgreSQL server) or pglite:<dir> (embedded); got "${redactUrl(url)}"`);
  }
  const dir = url ? url.replace(/^pglite:(\/\/)?/i, '') : '';
  const { PGlite } = await import('@electric-sql/pglite');
  const instance = await PGlite.create({ ...(dir && dir !== 'memory' ? { dataDir: dir } : {}), ...(opts.pgliteDataDir ? { loadDataDir: opts.pgliteDataDir } : {}) });
  // every type as PostgreSQL's text output, like the pg driver is configured above
  const oids = await instance.query<{ oid: number }>('select oid::int as oid from pg_type');
  const parsers: Record<number, (v: string) => string> = {};
  for (const { oid } of oids.rows) parsers[oid] = rawText;
  return new PgliteDb(instance, parsers);
}

/** A database URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@');
}
