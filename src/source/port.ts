/**
 * The Source port: what the bot asks of the MySQL read replica the warehouse is replicated from. Read-only and
 * aggregate-only: counts, max values, per-id-range checksums and information_schema — never table rows — so a
 * comparison costs the same memory for 1 k rows as for 1 billion (bench/compare-rss.ts).
 *
 * The warehouse side of a comparison implements the same `CompareSide` over the Warehouse port (warehouse-side.ts), so
 * compare.ts runs the identical algorithm on both and only the SQL dialect differs (checksum-sql.ts).
 */
import type { ChecksumPlan } from './checksum-sql.js';

/** Aggregates of the rows a comparison looks at. Big numbers stay decimal strings (no 2^53 rounding in Node). */
export interface SideStats {
  /** every row of the table */
  totalRows: string;
  /** rows outside the lag window (the ones compared); equal to totalRows when the table has no lag column */
  settledRows: string;
  /** min/max of the key over the settled rows; undefined when there are none */
  minId?: string;
  maxId?: string;
  /** max(updated_at) over every row, `YYYY-MM-DD HH:MM:SS.ffffff`; undefined when the table has no such column or no rows */
  maxUpdatedAt?: string;
}

/** One id range's aggregate: rows and the sum of the 32-bit row hashes (decimal text). */
export interface RangeSum {
  /** 0-based range number: ids [from + bucket·width, from + (bucket+1)·width − 1] */
  bucket: number;
  /** settled rows (outside the lag window) and the sum of their row hashes */
  rows: string;
  sum: string;
  /** rows of the range changed within the lag window (not hashed) */
  unsettled: string;
}

/** A window of ids cut into fixed-width ranges; `from`/`width`/`to` are decimal integer strings. */
export interface RangeQuery {
  from: string;
  to: string;
  width: string;
}

export interface CompareSide {
  /** what the report calls this side: "source" / "warehouse" */
  readonly label: string;
  tableExists(table: string): Promise<boolean>;
  stats(plan: ChecksumPlan): Promise<SideStats>;
  /** per-range row counts and hash sums over the settled rows with ids in [from, to] (ranges without rows are absent) */
  rangeSums(plan: ChecksumPlan, q: RangeQuery): Promise<RangeSum[]>;
}

/** A column as the source's information_schema describes it. */
export interface SourceColumn {
  table: string;
  name: string;
  position: number;
  /** COLUMN_TYPE: `int(11) unsigned`, `varchar(255)`, `enum('a','b')` … */
  columnType: string;
  nullable: boolean;
  /** COLUMN_DEFAULT as the server gives it (MariaDB: an SQL literal such as `'USD'` or `NULL`; MySQL: the raw value) */
  default?: string | null;
  charset?: string | null;
  /** `auto_increment`, `on update current_timestamp()`, … */
  extra: string;
  /** where a dump defines it (information_schema: absent) */
  at?: SourceLocation;
}

/** A place in a dump file, for `file:line:col` messages. */
export interface SourceLocation {
  line: number;
  col: number;
}

export interface SourceIndex {
  table: string;
  name: string;
  unique: boolean;
  columns: string[];
}

export interface SourceForeignKey {
  table: string;
  name: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
}

/** What information_schema says about the tables of the source database. */
export interface SourceSchema {
  /** the database name, or the dump's file name */
  database: string;
  /** where each table's CREATE TABLE starts (dumps only) */
  tableAt?: Record<string, SourceLocation>;
  tables: string[];
  columns: SourceColumn[];
  indexes: SourceIndex[];
  foreignKeys: SourceForeignKey[];
}

export interface Source extends CompareSide {
  /** the MySQL database (schema) the tables are read from */
  readonly database: string;
  readSchema(tables?: readonly string[]): Promise<SourceSchema>;
  close(): Promise<void>;
}

/** The source could not answer: says what failed, on which table, and carries the server's own message. */
export class SourceError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'SourceError';
  }
}
