/** SOURCE_DATABASE_URL checks, without loading the MySQL driver (config.ts uses it at start-up). */
/** The database a SOURCE_DATABASE_URL names (its path), or an error saying what is wrong — without echoing a password. */
export function parseSourceUrl(url: string): { ok: true; database: string; host: string } | { ok: false; error: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, error: 'not a URL: expected mysql://user:password@host:3306/database' };
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') return { ok: false, error: `expected a mysql:// URL (got ${u.protocol}//…)` };
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) return { ok: false, error: 'name the database in the path: mysql://user:password@host:3306/<database>' };
  if (!/^[A-Za-z0-9_$]{1,64}$/.test(database)) return { ok: false, error: 'the database name is letters, digits, _ and $ (at most 64)' };
  return { ok: true, database, host: u.hostname };
}
