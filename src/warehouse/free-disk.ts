/**
 * What the bot's own database user can learn about free disk and a table's size — and, when it cannot, why.
 *
 * Redshift facts (system tables reference, "Visibility of data in system tables and views"):
 *  - STV_PARTITIONS (capacity and used 1 MB blocks per disk) is visible to superusers only: a regular user reads no rows
 *    (SUM → NULL), unless a superuser granted it SELECT on the view.
 *  - SVV_TABLE_INFO (a table's size in 1 MB blocks, its rows) is superuser-only too, and leaves empty tables out.
 *  - Redshift Serverless has no STV tables (its managed storage has no fixed capacity to run out of).
 * The deep copy's disk check uses these when it can read them; when it cannot, the caller says "free disk: unknown
 * (why)" and lets the copy proceed with a warning — never a refusal computed from numbers it could not read.
 */
import type { Warehouse } from './port.js';

export type FreeDisk = { known: true; freeMb: number; capacityMb: number } | { known: false; why: string };
export type TableSize = { known: true; sizeMb: number; rows: number } | { known: false; why: string };

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The database user the bot's statements run as (for the messages). */
export async function currentUser(wh: Warehouse): Promise<string> {
  const r = await wh.query('SELECT current_user AS u');
  return String(r.rows[0]?.u ?? 'unknown');
}

/** Free disk from stv_partitions (capacity − used, 1 MB blocks), or why it cannot be known. */
export async function readFreeDisk(wh: Warehouse, user: string): Promise<FreeDisk> {
  let rows;
  try {
    rows = (await wh.query('SELECT SUM(capacity) AS capacity, SUM(used) AS used FROM stv_partitions')).rows;
  } catch (e) {
    const text = message(e);
    if (/relation "?stv_partitions"? does not exist/i.test(text))
      return { known: false, why: 'the warehouse has no stv_partitions: Redshift Serverless has no STV tables, and its managed storage grows with the data' };
    return { known: false, why: `stv_partitions could not be read as ${user}: ${text}` };
  }
  const row = rows[0];
  if (row === undefined || row.capacity === null || row.capacity === undefined)
    return {
      known: false,
      why: `stv_partitions shows the bot's database user ${user} no rows: it is visible to superusers only; GRANT SELECT ON stv_partitions TO ${user} to have the bot check free space`,
    };
  const capacityMb = num(row.capacity);
  return { known: true, capacityMb, freeMb: capacityMb - num(row.used) };
}

/** The table's size from svv_table_info, or why it cannot be known. A table the view leaves out is an empty one. */
export async function readTableSize(wh: Warehouse, schema: string, table: string, user: string): Promise<TableSize> {
  const r = await wh.query('SELECT "size" AS size_mb, tbl_rows FROM svv_table_info WHERE "schema" = :schema AND "table" = :table', { schema, table });
  const row = r.rows[0];
  if (row !== undefined) return { known: true, sizeMb: num(row.size_mb), rows: num(row.tbl_rows) };
  // Redshift leaves empty tables out; a user who sees no table at all is not allowed to see the view's rows
  const any = await wh.query('SELECT COUNT(*) AS n FROM svv_table_info');
  if (num(any.rows[0]?.n) > 0) return { known: true, sizeMb: 0, rows: 0 };
  return {
    known: false,
    why: `svv_table_info shows the bot's database user ${user} no table: it is visible to superusers only; GRANT SELECT ON svv_table_info TO ${user} to have the bot read table sizes`,
  };
}
