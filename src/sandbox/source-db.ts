/**
 * The sandbox's SOURCE database (the writer side of replication): what the apply loops write their INSERT / UPDATE /
 * DELETE changes to, and what a DMS full load or a CDC reload copies from. Two implementations:
 *  - `EmbeddedSourceDb`: an in-memory stand-in (one Map per table). The default: fast tests and the demo without MariaDB.
 *  - `MariaDbSourceDb`: a real MariaDB / MySQL database (mysql2) — one database per sandbox, tables created from the
 *    loop's generator columns (Redshift types mapped back to the MySQL types the CDC service maps from).
 * The change log itself (the binlog stand-in: positions, retention) is kept by the loops (apply-loop.ts); a SourceDb
 * holds the tables' rows: the source of truth a full load reads in key order, chunk by chunk, and verify() compares with.
 */
import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { checkIdentifier } from '../schema/identifiers.js';
import { parseRedshiftType } from '../schema/types.js';

/** A MySQL identifier in backticks; names come from schemas/ (checked again here). The sandbox imports no bot code. */
function quoteMysqlIdent(name: string): string {
  const c = checkIdentifier(name);
  if (!c.ok) throw new Error(c.error);
  return `\`${name.replace(/`/g, '``')}\``;
}

/** mysql://user:password@host:port/database → its parts, or an error that never echoes the password. */
function parseUrl(url: string): { ok: true; u: URL; database: string } | { ok: false; error: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, error: 'not a URL: expected mysql://user:password@host:3306/database' };
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') return { ok: false, error: `expected a mysql:// URL (got ${u.protocol}//…)` };
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_$]{1,64}$/.test(database)) return { ok: false, error: 'name the database in the path (letters, digits, _ and $; at most 64): mysql://user:password@host:3306/<database>' };
  return { ok: true, u, database };
}

export type SourceValue = string | number | boolean | null;
export type SourceRow = Record<string, SourceValue>;

export interface SourceColumnSpec {
  name: string;
  /** a Redshift type (what schemas/ says): the MySQL column type is derived from it */
  type?: string;
  notNull?: boolean;
}

export interface SourceTableSpec {
  schema: string;
  table: string;
  keyColumn: string;
  columns: readonly SourceColumnSpec[];
}

export interface SourceChange {
  kind: 'insert' | 'update' | 'delete';
  key: number;
  row?: SourceRow;
}

/** One source table. Writes are applied in the order given. */
export interface SourceTable {
  readonly name: string;
  /** create the table (idempotent; called before the first write) */
  prepare(): Promise<void>;
  /** write changes, in order */
  apply(changes: readonly SourceChange[]): Promise<void>;
  /** insert or replace rows (seeding, adopting the target's existing rows) */
  upsert(rows: readonly SourceRow[]): Promise<void>;
  /** rows with key > `afterKey` (all when undefined), in key order, at most `limit` */
  readChunk(afterKey: number | undefined, limit: number): Promise<SourceRow[]>;
  count(): Promise<number>;
}

export interface SourceDb {
  readonly kind: 'embedded' | 'mariadb';
  /** one line for a banner: which source this is */
  describe(): string;
  table(spec: SourceTableSpec): SourceTable;
  close(): Promise<void>;
}

// ───────────────────────────── embedded ─────────────────────────────

class EmbeddedTable implements SourceTable {
  private readonly rows = new Map<number, SourceRow>();
  private sorted: number[] | undefined;
  constructor(
    readonly name: string,
    private readonly keyColumn: string,
  ) {}
  async prepare(): Promise<void> {}
  async apply(changes: readonly SourceChange[]): Promise<void> {
    for (const c of changes) {
      if (c.kind === 'delete') {
        if (this.rows.delete(c.key)) this.sorted = undefined;
      } else {
        if (!this.rows.has(c.key)) this.sorted = undefined;
        this.rows.set(c.key, { ...c.row!, [this.keyColumn]: c.key });
      }
    }
  }
  async upsert(rows: readonly SourceRow[]): Promise<void> {
    await this.apply(rows.map((r) => ({ kind: 'insert' as const, key: Number(r[this.keyColumn]), row: r })));
  }
  async readChunk(afterKey: number | undefined, limit: number): Promise<SourceRow[]> {
    this.sorted ??= [...this.rows.keys()].sort((a, b) => a - b);
    const keys = this.sorted;
    // first index with key > afterKey (binary search)
    let lo = 0;
    let hi = keys.length;
    if (afterKey !== undefined)
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (keys[mid]! <= afterKey) lo = mid + 1;
        else hi = mid;
      }
    return keys.slice(lo, lo + limit).map((k) => ({ ...this.rows.get(k)! }));
  }
  async count(): Promise<number> {
    return this.rows.size;
  }
}

/** The in-memory stand-in: tables live as long as the object. */
export class EmbeddedSourceDb implements SourceDb {
  readonly kind = 'embedded' as const;
  private readonly tables = new Map<string, EmbeddedTable>();
  describe(): string {
    return 'embedded stand-in (in memory; set SOURCE_DATABASE_URL to use MariaDB)';
  }
  table(spec: SourceTableSpec): SourceTable {
    const k = `${spec.schema}.${spec.table}`;
    let t = this.tables.get(k);
    if (t === undefined) {
      t = new EmbeddedTable(k, spec.keyColumn);
      this.tables.set(k, t);
    }
    return t;
  }
  async close(): Promise<void> {
    this.tables.clear();
  }
}

// ───────────────────────────── MariaDB ─────────────────────────────

/**
 * The MySQL column type a Redshift column came from, under the CDC service's mapping (src/source/mysql-types.ts) read
 * backwards: varchar(n bytes) ← varchar(n/3 characters) (longtext past 16383 characters, as varchar(65535) came from
 * longtext), timestamp ← datetime, numeric ← decimal, integer ← int. boolean ← tinyint(1), read back as true/false (not
 * reversible: the CDC mapping makes tinyint(1) a smallint; schemas/ has no boolean column). Other types become `text`.
 */
export function mysqlColumnType(redshiftType: string | undefined): { sql: string; boolean: boolean } {
  if (redshiftType === undefined) return { sql: 'text', boolean: false };
  const p = parseRedshiftType(redshiftType);
  if (!p.ok) return { sql: 'text', boolean: false };
  const t = p.type;
  switch (t.kind) {
    case 'smallint':
      return { sql: 'smallint', boolean: false };
    case 'integer':
      return { sql: 'int', boolean: false };
    case 'bigint':
      return { sql: 'bigint', boolean: false };
    case 'numeric':
      return { sql: `decimal(${t.precision},${t.scale})`, boolean: false };
    case 'real':
      return { sql: 'float', boolean: false };
    case 'double precision':
      return { sql: 'double', boolean: false };
    case 'boolean':
      return { sql: 'tinyint(1)', boolean: true };
    case 'char':
      return { sql: `char(${Math.min(255, t.length)})`, boolean: false };
    case 'varchar': {
      // the CDC service maps varchar(n characters) to varchar(3n bytes) (utf8); read backwards: n = bytes / 3
      const chars = Math.max(1, Math.ceil(t.length / 3));
      return { sql: chars <= 16383 ? `varchar(${chars})` : 'longtext', boolean: false };
    }
    case 'date':
      return { sql: 'date', boolean: false };
    case 'timestamp':
      return { sql: 'datetime', boolean: false };
    default:
      return { sql: 'text', boolean: false };
  }
}

class MariaDbTable implements SourceTable {
  readonly name: string;
  private prepared: Promise<void> | undefined;
  private readonly booleans: Set<string>;
  constructor(
    private readonly pool: Pool,
    private readonly spec: SourceTableSpec,
  ) {
    this.name = spec.table;
    this.booleans = new Set(spec.columns.filter((c) => mysqlColumnType(c.type).boolean).map((c) => c.name));
  }

  private get ident(): string {
    return quoteMysqlIdent(this.spec.table);
  }

  /** Drops and creates the table: the sandbox owns its source database, and a table left by an earlier run is stale. */
  prepare(): Promise<void> {
    this.prepared ??= (async () => {
      const cols = this.spec.columns.map((c) => {
        const isKey = c.name === this.spec.keyColumn;
        return `${quoteMysqlIdent(c.name)} ${isKey ? 'bigint' : mysqlColumnType(c.type).sql}${isKey || c.notNull ? ' NOT NULL' : ' NULL'}`;
      });
      await this.pool.query(`DROP TABLE IF EXISTS ${this.ident}`);
      await this.pool.query(`CREATE TABLE ${this.ident} (${cols.join(', ')}, PRIMARY KEY (${quoteMysqlIdent(this.spec.keyColumn)})) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
    })();
    return this.prepared;
  }

  private value(col: string, v: SourceValue | undefined): SourceValue {
    if (v === undefined) return null;
    if (this.booleans.has(col)) {
      // true/false from the generator, or 'true'/'false' as PostgreSQL prints them (rows adopted from the target)
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'string' && /^(true|t|false|f)$/i.test(v)) return /^t/i.test(v) ? 1 : 0;
    }
    return v;
  }

  async apply(changes: readonly SourceChange[]): Promise<void> {
    await this.prepare();
    if (changes.length === 0) return;
    const conn = await this.pool.getConnection();
    try {
      await conn.beginTransaction();
      const key = quoteMysqlIdent(this.spec.keyColumn);
      for (const c of changes) {
        if (c.kind === 'delete') {
          await conn.execute(`DELETE FROM ${this.ident} WHERE ${key} = ?`, [c.key]);
        } else if (c.kind === 'insert') {
          const cols = this.spec.columns.map((x) => x.name);
          await conn.execute(
            `INSERT INTO ${this.ident} (${cols.map(quoteMysqlIdent).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
            cols.map((n) => (n === this.spec.keyColumn ? c.key : this.value(n, c.row![n]))),
          );
        } else {
          const cols = this.spec.columns.map((x) => x.name).filter((n) => n !== this.spec.keyColumn);
          await conn.execute(`UPDATE ${this.ident} SET ${cols.map((n) => `${quoteMysqlIdent(n)} = ?`).join(', ')} WHERE ${key} = ?`, [
            ...cols.map((n) => this.value(n, c.row![n])),
            c.key,
          ]);
        }
      }
      await conn.commit();
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw err;
    } finally {
      conn.release();
    }
  }

  async upsert(rows: readonly SourceRow[]): Promise<void> {
    await this.prepare();
    const cols = this.spec.columns.map((x) => x.name);
    const per = Math.max(1, Math.floor(5000 / cols.length));
    for (let i = 0; i < rows.length; i += per) {
      const chunk = rows.slice(i, i + per);
      const params = chunk.flatMap((r) => cols.map((n) => this.value(n, r[n])));
      await this.pool.query(
        `REPLACE INTO ${this.ident} (${cols.map(quoteMysqlIdent).join(', ')}) VALUES ${chunk.map(() => `(${cols.map(() => '?').join(', ')})`).join(', ')}`,
        params,
      );
    }
  }

  async readChunk(afterKey: number | undefined, limit: number): Promise<SourceRow[]> {
    await this.prepare();
    const cols = this.spec.columns.map((x) => x.name);
    const key = quoteMysqlIdent(this.spec.keyColumn);
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT ${cols.map(quoteMysqlIdent).join(', ')} FROM ${this.ident}${afterKey !== undefined ? ` WHERE ${key} > ?` : ''} ORDER BY ${key} LIMIT ${Math.max(1, Math.floor(limit))}`,
      afterKey !== undefined ? [afterKey] : [],
    );
    return rows.map((r) => {
      const out: SourceRow = {};
      for (const n of cols) {
        const v: unknown = r[n];
        if (v === null || v === undefined) out[n] = null;
        else if (n === this.spec.keyColumn) out[n] = Number(v);
        else if (this.booleans.has(n)) out[n] = Number(v) !== 0;
        else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[n] = v;
        else out[n] = String(v);
      }
      return out;
    });
  }

  async count(): Promise<number> {
    await this.prepare();
    const [rows] = await this.pool.query<RowDataPacket[]>(`SELECT count(*) AS n FROM ${this.ident}`);
    return Number(rows[0]?.n ?? 0);
  }
}

export interface MariaDbSourceOptions {
  /** mysql://user:password@host:3306/database — a user that may write (the sandbox is the source's writer) */
  url: string;
  /** CREATE DATABASE IF NOT EXISTS first (default false) */
  createDatabase?: boolean;
  /** pool size (default 4) */
  connections?: number;
}

/** A real MariaDB / MySQL database as the source. `close({ dropDatabase: true })` drops it (tests). */
export class MariaDbSourceDb implements SourceDb {
  readonly kind = 'mariadb' as const;
  readonly database: string;
  private readonly host: string;
  private readonly tables = new Map<string, MariaDbTable>();

  private constructor(
    private readonly pool: Pool,
    database: string,
    host: string,
  ) {
    this.database = database;
    this.host = host;
  }

  static async open(o: MariaDbSourceOptions): Promise<MariaDbSourceDb> {
    const parsed = parseUrl(o.url);
    if (!parsed.ok) throw new Error(`source database URL: ${parsed.error}`);
    const u = parsed.u;
    const base = {
      host: u.hostname,
      port: u.port === '' ? 3306 : Number(u.port),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      charset: 'utf8mb4',
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      timezone: 'Z',
    } as const;
    if (o.createDatabase) {
      const admin = createPool({ ...base, connectionLimit: 1 });
      try {
        await admin.query(`CREATE DATABASE IF NOT EXISTS ${quoteMysqlIdent(parsed.database)} CHARACTER SET utf8mb4`);
      } finally {
        await admin.end();
      }
    }
    const pool = createPool({ ...base, database: parsed.database, connectionLimit: o.connections ?? 4 });
    pool.on('connection', (c) => {
      c.query("SET SESSION time_zone = '+00:00'");
    });
    // fail now, with the server's words, rather than at the first write
    await pool.query('SELECT 1');
    return new MariaDbSourceDb(pool, parsed.database, u.hostname);
  }

  describe(): string {
    return `MariaDB database ${this.database} on ${this.host} (SOURCE_DATABASE_URL)`;
  }

  table(spec: SourceTableSpec): SourceTable {
    const k = `${spec.schema}.${spec.table}`;
    let t = this.tables.get(k);
    if (t === undefined) {
      t = new MariaDbTable(this.pool, spec);
      this.tables.set(k, t);
    }
    return t;
  }

  async close(o: { dropDatabase?: boolean } = {}): Promise<void> {
    try {
      if (o.dropDatabase) await this.pool.query(`DROP DATABASE IF EXISTS ${quoteMysqlIdent(this.database)}`);
    } finally {
      await this.pool.end();
    }
  }
}
