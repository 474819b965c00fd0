/**
 * `schema export-dms <table> [--source-schema db] [--source-endpoint-arn a] [--target-endpoint-arn a] [--instance-arn a]`
 * prints the CreateReplicationTask input for a dms table (dms-task-spec.ts) as JSON that
 * `aws dms create-replication-task --cli-input-json file://task.json` accepts: the API's CreateReplicationTaskMessage
 * keys, TableMappings and ReplicationTaskSettings as JSON strings. The JSON goes to stdout; notes (placeholders to fill,
 * columns removed, columns not read) go to stderr, so `… > task.json` is a clean file.
 *
 * ARNs: the flags, else DMS_SOURCE_ENDPOINT_ARN / DMS_TARGET_ENDPOINT_ARN / DMS_REPLICATION_INSTANCE_ARN, else a
 * placeholder the notes name. Source database: --source-schema, else SOURCE_DATABASE_URL's database, else the Redshift
 * schema. Source columns (for remove-column rules) are read from SOURCE_DATABASE_URL's information_schema when set.
 */
import path from 'node:path';
import { loadConfig, type Env } from '../config.js';
import { tableKey } from '../schema/model.js';
import { loadRegistry } from '../schema/registry.js';
import { suggest } from '../schema/types.js';
import { buildDmsTaskSpec, DmsTaskSpecError } from './dms-task-spec.js';

export interface ExportDmsIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: Env;
  cwd: string;
}

export const EXPORT_DMS_USAGE = `usage: schema export-dms <table> [--source-schema <db>] [--source-endpoint-arn <arn>] [--target-endpoint-arn <arn>] [--instance-arn <arn>]
  prints the input of aws dms create-replication-task --cli-input-json for a table replicated by DMS`;

const FLAGS = {
  '--source-schema': 'sourceSchema',
  '--source-endpoint-arn': 'source',
  '--target-endpoint-arn': 'target',
  '--instance-arn': 'instance',
} as const;
type FlagKey = (typeof FLAGS)[keyof typeof FLAGS];

export const ARN_PLACEHOLDERS = {
  source: 'FILL-IN-source-endpoint-arn',
  target: 'FILL-IN-target-endpoint-arn',
  instance: 'FILL-IN-replication-instance-arn',
} as const;

export class ExportDmsUsageError extends Error {}

function parse(args: readonly string[]): { table: string; flags: Partial<Record<FlagKey, string>> } {
  const flags: Partial<Record<FlagKey, string>> = {};
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      names.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const flag = eq >= 0 ? a.slice(0, eq) : a;
    const key = (FLAGS as Record<string, FlagKey | undefined>)[flag];
    if (key === undefined) throw new ExportDmsUsageError(`schema export-dms: unknown option ${flag}`);
    const value = eq >= 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined || value === '' || value.startsWith('--')) throw new ExportDmsUsageError(`schema export-dms: ${flag} needs a value`);
    flags[key] = value;
  }
  if (names.length !== 1) throw new ExportDmsUsageError(`schema export-dms: name exactly one table (got ${names.length})`);
  return { table: names[0]!, flags };
}

/** Exit code: 0 printed, 2 usage / not a dms table / configuration. Source read errors throw (cli.ts reports them). */
export async function runExportDmsCommand(args: readonly string[], io: ExportDmsIo): Promise<number> {
  const { table, flags } = parse(args);
  const config = loadConfig(io.env);
  const registry = await loadRegistry(path.resolve(io.cwd, config.schemas.dir));
  const def = registry.find(table);
  if (def === undefined) {
    const hint = suggest(table, registry.names());
    throw new ExportDmsUsageError(`no table "${table}" in ${registry.dir}${hint !== undefined ? ` (did you mean ${hint}?)` : ''}`);
  }
  const sourceSchema = flags.sourceSchema ?? config.source?.database ?? def.schema;
  let sourceColumns: string[] | undefined;
  if (def.replication.provider === 'dms' && config.source !== undefined) {
    const { createMysqlSource } = await import('../source/mysql.js');
    const src = createMysqlSource({ url: config.source.url });
    try {
      const s = await src.readSchema([def.name]);
      if (!s.tables.includes(def.name)) io.err(`note: ${s.database} has no table ${def.name}: no remove-column rules (is the source the right database?)`);
      else sourceColumns = s.columns.filter((c) => c.table === def.name).sort((a, b) => a.position - b.position).map((c) => c.name);
    } finally {
      await src.close();
    }
  }
  const arn = (k: 'source' | 'target' | 'instance', env: string): { value: string; placeholder: boolean } => {
    const v = flags[k] ?? io.env[env];
    return v !== undefined && v !== '' ? { value: v, placeholder: false } : { value: ARN_PLACEHOLDERS[k], placeholder: true };
  };
  const source = arn('source', 'DMS_SOURCE_ENDPOINT_ARN');
  const target = arn('target', 'DMS_TARGET_ENDPOINT_ARN');
  const instance = arn('instance', 'DMS_REPLICATION_INSTANCE_ARN');
  let spec;
  try {
    spec = buildDmsTaskSpec(def, {
      sourceSchema,
      ...(sourceColumns !== undefined ? { sourceColumns } : {}),
      sourceEndpointArn: source.value,
      targetEndpointArn: target.value,
      replicationInstanceArn: instance.value,
    });
  } catch (e) {
    if (e instanceof DmsTaskSpecError) throw new ExportDmsUsageError(e.message);
    throw e;
  }
  io.out(JSON.stringify(spec.input, null, 2));
  const fill = [
    source.placeholder ? 'SourceEndpointArn (--source-endpoint-arn or DMS_SOURCE_ENDPOINT_ARN; aws dms describe-endpoints --filters Name=endpoint-type,Values=source)' : undefined,
    target.placeholder ? 'TargetEndpointArn (--target-endpoint-arn or DMS_TARGET_ENDPOINT_ARN)' : undefined,
    instance.placeholder ? 'ReplicationInstanceArn (--instance-arn or DMS_REPLICATION_INSTANCE_ARN; aws dms describe-replication-instances)' : undefined,
  ].filter((x) => x !== undefined);
  if (fill.length > 0) io.err(`fill in before aws dms create-replication-task --cli-input-json file://…: ${fill.join('; ')}`);
  if (flags.sourceSchema === undefined && config.source === undefined) io.err(`note: the source database was taken to be "${sourceSchema}" (the Redshift schema); give --source-schema if the MySQL database is named otherwise`);
  for (const n of spec.notes) io.err(`note: ${n}`);
  io.err(`${tableKey(def)}: task ${spec.input.ReplicationTaskIdentifier}, ${spec.input.MigrationType}, TRUNCATE_BEFORE_LOAD, limited LOB 32 KB, batch apply, logging on`);
  return 0;
}
