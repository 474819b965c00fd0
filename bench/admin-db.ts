/**
 * The benches' admin connections: PostgreSQL (TEST_PG_ADMIN_URL) and MariaDB (SOURCE_ADMIN_URL) on the machine's
 * services, used to create and drop a bench's own databases.
 */
import pg from 'pg';

export const PG_ADMIN = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const MY_ADMIN = process.env.SOURCE_ADMIN_URL ?? 'mysql://root@127.0.0.1:3306';

/** One statement on the PostgreSQL admin database (CREATE / DROP DATABASE), on a connection of its own. */
export async function pgAdmin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}
