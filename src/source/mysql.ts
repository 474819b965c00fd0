/**
 * The Source port on MySQL / MariaDB (mysql2/promise). Read-only by construction: every pooled connection starts with
 * `SET SESSION TRANSACTION READ ONLY` (the server refuses any write on it) and `time_zone = '+00:00'` (TIMESTAMP columns
 * read in UTC, as the warehouse stores them); statements are prepared with bound values, and identifiers come from
 * schemas/ in backticks. Only aggregates and information_schema are read: no table row ever reaches Node.
 */
import { createPool, type Pool, type PoolConnection, type RowDataPacket } from 'mysql2/promise';
import { type BuiltSql, type ChecksumPlan, parseRangeSums, parseStats, rangeSql, statsSql } from './checksum-sql.js';
import { parseSourceUrl } from './url.js';
import { type RangeQuery, type RangeSum, type SideStats, type Source, SourceError, type SourceSchema } from './port.js';

export interface MysqlSourceOptions {
  /** mysql://user:password@host:3306/database */
  url: string;
  /** pool size (default 4) */
  connections?: number;
  /** give up connecting after this long (default 10 s) */
  connectTimeoutMs?: number;
}


const SESSION_SETUP = ['SET SESSION TRANSACTION READ ONLY', "SET SESSION time_zone = '+00:00'"];

export class MysqlSource implements Source {
  readonly label = 'source';
  readonly database: string;
  private readonly pool: Pool;
  private readonly ready = new WeakSet<object>();

  constructor(o: MysqlSourceOptions) {
    const parsed = parseSourceUrl(o.url);
    if (!parsed.ok) throw new SourceError(`SOURCE_DATABASE_URL: ${parsed.error}`);
    this.database = parsed.database;
    const u = new URL(o.url);
    this.pool = createPool({
      host: u.hostname,
      port: u.port === '' ? 3306 : Number(u.port),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: parsed.database,
      connectionLimit: o.connections ?? 4,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      charset: 'utf8mb4',
      // every number the bot reads is a decimal string; dates are read as text by the SQL itself
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
    });
  }

  /** A pooled connection whose session is read-only and in UTC. */
  private async connection(): Promise<PoolConnection> {
    let conn: PoolConnection;
    try {
      conn = await this.pool.getConnection();
    } catch (e) {
      throw new SourceError(`cannot connect to the source database ${this.database}: ${(e as Error).message}`, (e as { code?: string }).code);
    }
    if (!this.ready.has(conn.connection)) {
      try {
        for (const s of SESSION_SETUP) await conn.query(s);
      } catch (e) {
        conn.destroy();
        throw new SourceError(`cannot make the source session read-only: ${(e as Error).message}`, (e as { code?: string }).code);
      }
      this.ready.add(conn.connection);
    }
    return conn;
  }

  private async rows(sql: string, values: readonly (string | number)[], what: string): Promise<RowDataPacket[]> {
    const conn = await this.connection();
    try {
      const [rows] = await conn.execute<RowDataPacket[]>(sql, [...values]);
      return rows;
    } catch (e) {
      throw new SourceError(`source ${what}: ${(e as Error).message}`, (e as { code?: string }).code);
    } finally {
      conn.release();
    }
  }

  private run(b: BuiltSql, what: string): Promise<RowDataPacket[]> {
    return this.rows(b.sql, b.order.map((n) => b.params[n] ?? ''), what);
  }

  async tableExists(table: string): Promise<boolean> {
    const rows = await this.rows(
      'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
      [this.database, table],
      `lookup of ${table}`,
    );
    return String(rows[0]?.['n'] ?? '0') !== '0';
  }

  async stats(plan: ChecksumPlan): Promise<SideStats> {
    const rows = await this.run(statsSql('mysql', plan), `counts of ${plan.table}`);
    return parseStats(rows[0]);
  }

  async rangeSums(plan: ChecksumPlan, q: RangeQuery): Promise<RangeSum[]> {
    const rows = await this.run(rangeSql('mysql', plan, q), `range checksums of ${plan.table}`);
    return parseRangeSums(rows);
  }

  async readSchema(tables?: readonly string[]): Promise<SourceSchema> {
    const only = tables !== undefined && tables.length > 0 ? tables : undefined;
    const filter = only ? ` AND TABLE_NAME IN (${only.map(() => '?').join(', ')})` : '';
    const args = [this.database, ...(only ?? [])];
    const tableRows = await this.rows(`SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'${filter} ORDER BY TABLE_NAME`, args, 'table list');
    const colRows = await this.rows(
      `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, ORDINAL_POSITION AS pos, COLUMN_TYPE AS ct, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS def,
              CHARACTER_SET_NAME AS cs, EXTRA AS extra
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?${filter} ORDER BY TABLE_NAME, ORDINAL_POSITION`,
      args,
      'column list',
    );
    const idxRows = await this.rows(
      `SELECT TABLE_NAME AS t, INDEX_NAME AS i, NON_UNIQUE AS nu, COLUMN_NAME AS c FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = ?${filter} ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
      args,
      'index list',
    );
    const fkRows = await this.rows(
      `SELECT TABLE_NAME AS t, CONSTRAINT_NAME AS n, COLUMN_NAME AS c, REFERENCED_TABLE_NAME AS rt, REFERENCED_COLUMN_NAME AS rc
         FROM information_schema.KEY_COLUMN_USAGE
        WHERE TABLE_SCHEMA = ? AND REFERENCED_TABLE_NAME IS NOT NULL${filter} ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`,
      args,
      'foreign key list',
    );
    const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
    const schema: SourceSchema = { database: this.database, tables: tableRows.map((r) => text(r['t'])), columns: [], indexes: [], foreignKeys: [] };
    for (const r of colRows) {
      schema.columns.push({
        table: text(r['t']),
        name: text(r['c']),
        position: Number(r['pos']),
        columnType: text(r['ct']),
        nullable: text(r['nullable']) === 'YES',
        default: r['def'] === null || r['def'] === undefined ? null : String(r['def']),
        charset: r['cs'] === null || r['cs'] === undefined ? null : String(r['cs']),
        extra: text(r['extra']),
      });
    }
    for (const r of idxRows) {
      const t = text(r['t']);
      const name = text(r['i']);
      const last = schema.indexes.at(-1);
      if (last && last.table === t && last.name === name) last.columns.push(text(r['c']));
      else schema.indexes.push({ table: t, name, unique: String(r['nu']) === '0', columns: [text(r['c'])] });
    }
    for (const r of fkRows) {
      const t = text(r['t']);
      const name = text(r['n']);
      const last = schema.foreignKeys.at(-1);
      if (last && last.table === t && last.name === name) {
        last.columns.push(text(r['c']));
        last.refColumns.push(text(r['rc']));
      } else schema.foreignKeys.push({ table: t, name, columns: [text(r['c'])], refTable: text(r['rt']), refColumns: [text(r['rc'])] });
    }
    return schema;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export function createMysqlSource(o: MysqlSourceOptions): MysqlSource {
  return new MysqlSource(o);
}
