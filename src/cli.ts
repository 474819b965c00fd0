/**
 * The command line: `npm run cli -- <command>`.
 *
 *   schema import <file.sql> […]          .sql CREATE TABLE statements → schemas/ files (no warehouse needed)
 *   schema diff [table…]                  live tables vs schemas/; exit 1 when anything drifted
 *   schema apply --all | <table…> [--dry-run]   create missing schemas/tables; existing ones are left alone
 *   schema import-mysql [--from-dump f.sql] [--out dir] [table…]   propose schemas/ files from the MySQL source
 *   schema diff --source [table…]         schemas/ vs the MySQL source; exit 1 when they disagree
 *   schema export-dms <table> […]         the aws dms create-replication-task --cli-input-json input for a dms table
 *   slash "/redshift <command>"           send the running bot one signed slash command, print the replies (trials)
 *   help
 *
 * Exit codes: 0 ok, 1 drift / a statement failed / import problems, 2 usage or configuration error.
 * runCli is exported so tests can run a command in-process; the file runs it when executed directly.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig, requireWarehouse, WAREHOUSE_ENV_HELP, type Env } from './config.js';
import { applySchema, ApplyError } from './schema/apply.js';
import { readTables, type CatalogTable } from './schema/catalog.js';
import { diffTable, formatDrift, type Drift } from './schema/diff.js';
import { runImportCommand } from './schema/import-cli.js';
import { runDiffSourceCommand, runImportMysqlCommand, type SourceCliIo } from './source/import-mysql-cli.js';
import { SourceError } from './source/port.js';
import { ExportDmsUsageError, runExportDmsCommand } from './replication/export-dms-cli.js';
import { tableKey, type TableDef } from './schema/model.js';
import { loadRegistry, RegistryError, type Registry } from './schema/registry.js';
import { suggest } from './schema/types.js';
import { runSlash, SLASH_USAGE } from './console/slash.js';
import { createWarehouse, type RedshiftDataWarehouse } from './warehouse/redshift-data.js';
import { WarehouseError } from './warehouse/port.js';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env?: Env;
  cwd?: string;
}

export const USAGE = `usage: npm run cli -- <command>

  schema import <file.sql> [--strip-prefix <p>] [--schema <name>] [--default-schema <name>] [--out <dir>]
        read CREATE TABLE statements into schemas/ files (no warehouse needed)
  schema diff [table…]
        compare the live tables with schemas/ (all tables when none is named); exit code 1 on drift
  schema apply --all | <table…> [--dry-run]
        create missing schemas and tables from schemas/, referenced tables first; existing tables are left alone
  schema import-mysql [--from-dump <f.sql>] [--out <dir>] [--schema <name>] [table…]
        propose schemas/ files from the MySQL source's information_schema (or a SHOW CREATE TABLE dump)
  schema diff --source [table…]
        compare schemas/ with the MySQL source (a column added upstream breaks replication); exit code 1 when they differ
  schema export-dms <table> [--source-schema <db>] [--source-endpoint-arn <arn>] [--target-endpoint-arn <arn>] [--instance-arn <arn>]
        print the JSON for aws dms create-replication-task --cli-input-json (full load + CDC, TRUNCATE_BEFORE_LOAD,
        limited LOB 32 KB, batch apply, logging); ARNs also from DMS_SOURCE_ENDPOINT_ARN, DMS_TARGET_ENDPOINT_ARN,
        DMS_REPLICATION_INSTANCE_ARN, else placeholders to fill in
  ${SLASH_USAGE}
  help
        this text

Tables are named "core_user" (the default schema) or "schema.table".
Environment: REDSHIFT_CLUSTER_ID + REDSHIFT_SECRET_ARN | REDSHIFT_DB_USER, or REDSHIFT_WORKGROUP [+ REDSHIFT_SECRET_ARN];
REDSHIFT_DATABASE (dev), AWS_REGION (us-west-2), AWS_ENDPOINT_URL, SCHEMAS_DIR (schemas);
SOURCE_DATABASE_URL (mysql://user:password@host:3306/database) for import-mysql and diff --source.
Try it without AWS: \`npm run sandbox\` prints an AWS_ENDPOINT_URL and the variables to export.`;

class UsageError extends Error {}

async function withWarehouse<T>(io: CliIo, fn: (wh: RedshiftDataWarehouse, registry: Registry) => Promise<T>): Promise<T> {
  const config = loadConfig(io.env ?? process.env);
  const warehouse = requireWarehouse(config);
  const registry = await loadRegistry(path.resolve(io.cwd ?? process.cwd(), config.schemas.dir));
  const wh = createWarehouse({ warehouse, aws: config.aws }, { env: io.env ?? process.env });
  try {
    return await fn(wh, registry);
  } finally {
    wh.close();
  }
}

function resolveTables(registry: Registry, names: readonly string[]): TableDef[] {
  const bad: string[] = [];
  const out: TableDef[] = [];
  for (const n of names) {
    const t = registry.find(n);
    if (t !== undefined) out.push(t);
    else {
      const hint = suggest(n, registry.names());
      bad.push(`"${n}"${hint !== undefined ? ` (did you mean ${hint}?)` : ''}`);
    }
  }
  if (bad.length > 0) throw new UsageError(`no table ${bad.join(', ')} in ${registry.dir}`);
  return out;
}

async function schemaDiff(args: string[], io: CliIo): Promise<number> {
  const flags = args.filter((a) => a.startsWith('-'));
  if (flags.length > 0) throw new UsageError(`schema diff takes table names, not ${flags.join(' ')}`);
  return withWarehouse(io, async (wh, registry) => {
    const wanted = args.length > 0 ? resolveTables(registry, args) : [...registry.tables.values()];
    const bySchema = new Map<string, TableDef[]>();
    for (const t of wanted) bySchema.set(t.schema, [...(bySchema.get(t.schema) ?? []), t]);
    const drifts: Drift[] = [];
    const notes: string[] = [];
    let compared = 0;
    for (const [schema, tables] of [...bySchema].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const live: Map<string, CatalogTable> = await readTables(wh, schema, args.length > 0 ? tables.map((t) => t.name) : undefined);
      for (const t of tables.sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const got = live.get(t.name);
        compared++;
        drifts.push(...diffTable(t, got?.table, got !== undefined ? { unknown: got.unknown } : {}));
        if (got !== undefined && got.unknown.length > 0)
          notes.push(`note: ${tableKey(t)}: ${got.unknown.join(' and ')} not compared (the catalog does not show it for this table; Redshift leaves empty tables out of svv_table_info)`);
      }
      if (args.length === 0) {
        const known = new Set(tables.map((t) => t.name));
        for (const name of [...live.keys()].sort()) if (!known.has(name)) notes.push(`note: ${schema}.${name} is in the warehouse but has no file in schemas/`);
      }
    }
    for (const d of drifts) io.out(formatDrift(d));
    for (const n of notes) io.out(n);
    const driftedTables = new Set(drifts.map((d) => d.table)).size;
    if (drifts.length === 0) io.out(`no drift: ${compared} table${compared === 1 ? '' : 's'} match schemas/`);
    else io.out(`drift in ${driftedTables} of ${compared} table${compared === 1 ? '' : 's'} (${drifts.length} difference${drifts.length === 1 ? '' : 's'})`);
    return drifts.length === 0 ? 0 : 1;
  });
}

async function schemaApply(args: string[], io: CliIo): Promise<number> {
  let all = false;
  let dryRun = false;
  const names: string[] = [];
  for (const a of args) {
    if (a === '--all') all = true;
    else if (a === '--dry-run' || a === '-n') dryRun = true;
    else if (a.startsWith('-')) throw new UsageError(`schema apply: unknown option ${a} (options: --all, --dry-run)`);
    else names.push(a);
  }
  if (all && names.length > 0) throw new UsageError('schema apply: give --all or table names, not both');
  if (!all && names.length === 0) throw new UsageError('schema apply: name the tables to create, or --all for every table in schemas/');
  return withWarehouse(io, async (wh, registry) => {
    await applySchema(wh, registry, { ...(all ? {} : { tables: names }), dryRun }, io.out);
    return 0;
  });
}

const sourceIo = (io: CliIo): SourceCliIo => ({ out: io.out, err: io.err, env: io.env ?? process.env, cwd: io.cwd ?? process.cwd() });

/** Run one command; resolves to the exit code. Never throws for a user's mistake: it prints what to do instead. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  try {
    if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
      io.out(USAGE);
      return 0;
    }
    if (cmd === 'slash') return await runSlash(argv.slice(1), { out: io.out, err: io.err, env: io.env ?? process.env });
    if (cmd !== 'schema') throw new UsageError(`unknown command "${cmd}"`);
    switch (sub) {
      case 'import':
        return await runImportCommand(rest, { out: io.out, err: io.err, ...(io.cwd !== undefined ? { cwd: io.cwd } : {}) });
      case 'diff':
        if (rest.includes('--source')) return await runDiffSourceCommand(rest.filter((a) => a !== '--source'), sourceIo(io));
        return await schemaDiff(rest, io);
      case 'import-mysql':
        return await runImportMysqlCommand(rest, sourceIo(io));
      case 'apply':
        return await schemaApply(rest, io);
      case 'export-dms':
        return await runExportDmsCommand(rest, sourceIo(io));
      default:
        throw new UsageError(sub === undefined ? 'schema needs a subcommand: import, import-mysql, diff, apply or export-dms' : `unknown command "schema ${sub}"`);
    }
  } catch (err) {
    if (err instanceof ExportDmsUsageError) {
      io.err(`error: ${err.message}`);
      return 2;
    }
    if (err instanceof UsageError) {
      io.err(`error: ${err.message}`);
      io.err(USAGE);
      return 2;
    }
    if (err instanceof ConfigError) {
      io.err(err.message);
      if (!/no Redshift warehouse is configured|no MySQL source is configured|SOURCE_DATABASE_URL/.test(err.message)) io.err(WAREHOUSE_ENV_HELP);
      return 2;
    }
    if (err instanceof RegistryError) {
      io.err(`schemas/ has problems:\n${err.message}`);
      return 2;
    }
    if (err instanceof ApplyError) {
      io.err(`error: ${err.message}`);
      return 2;
    }
    if (err instanceof SourceError) {
      io.err(`source error: ${err.message}`);
      return 1;
    }
    if (err instanceof WarehouseError) {
      io.err(`warehouse error: ${err.message}`);
      if (err.sql !== undefined && !err.message.includes('SQL:')) io.err(`SQL: ${err.sql.replace(/\s+/g, ' ').slice(0, 500)}`);
      return 1;
    }
    io.err(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (invokedDirectly) {
  // the AWS SDK's notice about Node 22 (releases after Jan 2027) is not for the CLI's user; README: Node 22 is the runtime
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const code = await runCli(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l) });
  process.exitCode = code;
}
