/**
 * `schema import-mysql [--from-dump f.sql] [--out dir] [--schema name] [table…]` — propose schemas/ files from the
 * MySQL source: its information_schema (SOURCE_DATABASE_URL), or a `SHOW CREATE TABLE` dump. Without --out the proposed
 * YAML is printed; with --out the files are written (registry.ts's writer). Everything the dump reader skipped, cleaned or
 * could not read is printed with its line. Exit code: 0 all read, 1 something could not be read (the rest is still
 * proposed), 2 usage / configuration / unreadable file.
 *
 * `schema diff --source [table…]` — where schemas/ and the source disagree (schema-diff.ts). Exit code 1 when they do.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, loadConfig, SOURCE_ENV_HELP, type Env } from '../config.js';
import { loadRegistry, tableToYaml, writeTableFile } from '../schema/registry.js';
import { diffWithSource } from './schema-diff.js';
import { proposeTables } from './import-mysql.js';
import { parseMysqlDump } from './mysql-dump.js';
import { createMysqlSource } from './mysql.js';
import type { SourceSchema } from './port.js';

export interface SourceCliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: Env;
  cwd: string;
}

export const IMPORT_MYSQL_USAGE = `usage: schema import-mysql [--from-dump <file.sql>] [--out <dir>] [--schema <name>] [table…]
  reads the source's information_schema (SOURCE_DATABASE_URL), or a SHOW CREATE TABLE dump with --from-dump,
  and proposes schemas/ files with the CDC service's type conventions
  --from-dump <f>   read this file instead of the database (mysqldump, \\G output and pasted client output are fine)
  --out <dir>       write the files into this schemas/ folder (default: print them)
  --schema <name>   the Redshift schema of the tables (default: the default schema of schemas/)`;

function parseArgs(args: readonly string[]): { ok: true; dump?: string; out?: string; schema?: string; tables: string[] } | { ok: false; error: string } {
  const tables: string[] = [];
  const vals: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const flag = eq >= 0 ? a.slice(0, eq) : a;
      if (!['--from-dump', '--out', '--schema'].includes(flag)) return { ok: false, error: `unknown option ${flag}` };
      const value = eq >= 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined || value === '' || value.startsWith('--')) return { ok: false, error: `${flag} needs a value` };
      if (vals[flag] !== undefined) return { ok: false, error: `${flag} given twice` };
      vals[flag] = value;
    } else tables.push(a);
  }
  return {
    ok: true,
    tables,
    ...(vals['--from-dump'] !== undefined ? { dump: vals['--from-dump'] } : {}),
    ...(vals['--out'] !== undefined ? { out: vals['--out'] } : {}),
    ...(vals['--schema'] !== undefined ? { schema: vals['--schema'] } : {}),
  };
}

/** The source's schema from information_schema; ConfigError when no source is configured. */
async function readSourceSchema(env: Env, tables: readonly string[]): Promise<SourceSchema> {
  const config = loadConfig(env);
  if (config.source === undefined) throw new ConfigError([`no MySQL source is configured. ${SOURCE_ENV_HELP}`]);
  const source = createMysqlSource({ url: config.source.url });
  try {
    return await source.readSchema(tables);
  } finally {
    await source.close();
  }
}

export async function runImportMysqlCommand(args: readonly string[], io: SourceCliIo): Promise<number> {
  const a = parseArgs(args);
  if (!a.ok) {
    io.err(`schema import-mysql: ${a.error}`);
    io.err(IMPORT_MYSQL_USAGE);
    return 2;
  }
  const config = loadConfig(io.env);
  const registry = await loadRegistry(path.resolve(io.cwd, config.schemas.dir)).catch(() => undefined);
  const targetSchema = a.schema ?? registry?.defaultSchema ?? 'ak_sumofus';
  let schema: SourceSchema;
  let file: string | undefined;
  let failed = false;
  if (a.dump !== undefined) {
    let text: string;
    try {
      text = await readFile(path.resolve(io.cwd, a.dump), 'utf8');
    } catch (e) {
      io.err(`schema import-mysql: cannot read ${a.dump}: ${(e as Error).message}`);
      return 2;
    }
    file = a.dump;
    const d = parseMysqlDump(text, { file: a.dump });
    for (const s of d.skipped) io.out(`skipped ${s.kind} at ${a.dump}:${s.line}`);
    for (const n of d.notes) io.out(`${a.dump}:${n.line}:${n.col}: note: ${n.message}`);
    for (const p of d.problems) io.err(`${a.dump}:${p.line}:${p.col}: ${p.message}`);
    failed = d.problems.length > 0;
    schema = d.schema;
    if (a.tables.length > 0) schema = { ...schema, tables: schema.tables.filter((t) => a.tables.includes(t)) };
  } else schema = await readSourceSchema(io.env, a.tables);

  for (const t of a.tables) if (!schema.tables.includes(t)) {
    io.err(`${file ?? `source database ${schema.database}`}: no table ${t}`);
    failed = true;
  }
  const p = proposeTables(schema, { targetSchema, ...(file !== undefined ? { file } : {}), ...(registry ? { registry } : {}) });
  for (const n of p.notes) io.out(`note: ${n}`);
  for (const e of p.problems) io.err(e);
  if (p.problems.length > 0) failed = true;
  for (const t of p.tables) {
    if (a.out !== undefined) {
      const f = await writeTableFile(path.resolve(io.cwd, a.out), t);
      io.out(`wrote ${path.relative(io.cwd, f) || f}  (${t.schema}.${t.name}: ${t.columns.length} columns)`);
    } else io.out(tableToYaml(t, { header: [`${t.schema}.${t.name} — proposed from ${file ?? `the MySQL source ${schema.database}`} by schema import-mysql`] }));
  }
  io.out(`proposed ${p.tables.length} of ${schema.tables.length} table${schema.tables.length === 1 ? '' : 's'}${failed ? ' (problems above)' : ''}`);
  return failed ? 1 : 0;
}

export async function runDiffSourceCommand(tables: readonly string[], io: SourceCliIo): Promise<number> {
  const config = loadConfig(io.env);
  const registry = await loadRegistry(path.resolve(io.cwd, config.schemas.dir));
  const defs = tables.length > 0 ? tables.map((n) => registry.find(n)) : registry.names().map((n) => registry.get(registry.defaultSchema, n));
  const missing = tables.filter((_, i) => defs[i] === undefined);
  if (missing.length > 0) {
    io.err(`schema diff --source: no table ${missing.join(', ')} in ${registry.dir}`);
    return 2;
  }
  const wanted = defs.filter((d) => d !== undefined);
  const schema = await readSourceSchema(io.env, tables.length > 0 ? wanted.map((d) => d.name) : []);
  const diffs = diffWithSource(wanted, schema);
  let differing = 0;
  for (const d of diffs) {
    if (d.lines.length === 0) continue;
    differing++;
    for (const l of d.lines) io.out(`${d.table}: ${l}`);
  }
  io.out(
    differing === 0
      ? `no difference: ${diffs.length} table${diffs.length === 1 ? '' : 's'} of schemas/ match the source ${schema.database}`
      : `schemas/ and the source ${schema.database} disagree on ${differing} of ${diffs.length} tables`,
  );
  return differing === 0 ? 0 : 1;
}
