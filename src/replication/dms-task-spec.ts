/**
 * The DMS replication task for one `replication.provider: dms` table of schemas/, as CreateReplicationTask takes it —
 * what the team's runbook sets up by hand for a new instance:
 *  - MigrationType full-load-and-cdc (full load, then ongoing replication);
 *  - task settings (DMS user guide, "Task settings"): FullLoadSettings.TargetTablePrepMode TRUNCATE_BEFORE_LOAD;
 *    TargetMetadata SupportLobs + LimitedSizeLobMode with LobMaxSize 32 (KB; FullLobMode off); BatchApplyEnabled;
 *    Logging.EnableLogging with SOURCE_UNLOAD, SOURCE_CAPTURE, TARGET_LOAD, TARGET_APPLY at LOGGER_SEVERITY_DEFAULT;
 *  - table mappings (DMS user guide, "Selection rules and actions", "Transformation rules and actions"): one selection
 *    rule for the table in the source database; a schema `rename` rule when the source database is not named like the
 *    Redshift schema; and a `remove-column` rule (rule-target column) for each source column schemas/ does not list —
 *    DMS has no "include only these columns" action, so the wanted columns are kept by removing the others.
 * Used by `schema export-dms` (cli) and the setup runbook. Pure: no AWS call, no database.
 */
import type { CreateReplicationTaskCommandInput } from '@aws-sdk/client-database-migration-service';
import { tableKey, type TableDef } from '../schema/model.js';
import type { DmsTaskSpec } from './port.js';

export const DMS_LOG_COMPONENTS = ['SOURCE_UNLOAD', 'SOURCE_CAPTURE', 'TARGET_LOAD', 'TARGET_APPLY'] as const;

/** The task settings document (ReplicationTaskSettings) the runbook prescribes. */
export function dmsTaskSettings(): Record<string, unknown> {
  return {
    TargetMetadata: {
      TargetSchema: '',
      SupportLobs: true,
      FullLobMode: false,
      LobChunkSize: 0,
      LimitedSizeLobMode: true,
      LobMaxSize: 32,
      BatchApplyEnabled: true,
    },
    FullLoadSettings: {
      TargetTablePrepMode: 'TRUNCATE_BEFORE_LOAD',
    },
    Logging: {
      EnableLogging: true,
      LogComponents: DMS_LOG_COMPONENTS.map((Id) => ({ Id, Severity: 'LOGGER_SEVERITY_DEFAULT' })),
    },
  };
}

export interface DmsTaskSpecOptions {
  /** the MySQL database the table lives in (DMS's schema-name on a MySQL source) */
  sourceSchema: string;
  /** the source table's columns (information_schema), when known: columns schemas/ does not list get a remove-column rule */
  sourceColumns?: readonly string[];
  sourceEndpointArn: string;
  targetEndpointArn: string;
  replicationInstanceArn: string;
}

export interface DmsTaskSpecResult {
  input: DmsTaskSpec;
  /** what a person should know about the output (columns not compared, columns missing upstream…) */
  notes: string[];
  /** source columns that get a remove-column rule */
  removedColumns: string[];
}

export class DmsTaskSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DmsTaskSpecError';
  }
}

type Rule = Record<string, unknown>;

export function buildDmsTaskSpec(t: TableDef, o: DmsTaskSpecOptions): DmsTaskSpecResult {
  const rep = t.replication;
  if (rep.provider !== 'dms')
    throw new DmsTaskSpecError(
      `${tableKey(t)} is replicated by the CDC service (${rep.service}), not DMS: a DMS task is made only for tables whose schemas/ file says replication.provider: dms`,
    );
  const notes: string[] = [];
  const rules: Rule[] = [];
  let id = 0;
  const next = (): string => String(++id);
  const sel = next();
  rules.push({
    'rule-type': 'selection',
    'rule-id': sel,
    'rule-name': `select-${t.name}`,
    'object-locator': { 'schema-name': o.sourceSchema, 'table-name': t.name },
    'rule-action': 'include',
    filters: [],
  });
  if (o.sourceSchema !== t.schema) {
    const r = next();
    rules.push({
      'rule-type': 'transformation',
      'rule-id': r,
      'rule-name': `schema-to-${t.schema}`,
      'rule-target': 'schema',
      'object-locator': { 'schema-name': o.sourceSchema },
      'rule-action': 'rename',
      value: t.schema,
    });
  }
  const removed: string[] = [];
  if (o.sourceColumns === undefined) {
    notes.push(`the source's columns were not read, so no remove-column rules: if ${o.sourceSchema}.${t.name} has columns schemas/ does not list, DMS replicates them too (set SOURCE_DATABASE_URL to read them)`);
  } else {
    const wanted = new Set(t.columns.map((c) => c.name.toLowerCase()));
    const have = new Set(o.sourceColumns.map((c) => c.toLowerCase()));
    for (const c of o.sourceColumns) {
      if (wanted.has(c.toLowerCase())) continue;
      removed.push(c);
      rules.push({
        'rule-type': 'transformation',
        'rule-id': next(),
        'rule-name': `drop-${t.name}-${c}`,
        'rule-target': 'column',
        'object-locator': { 'schema-name': o.sourceSchema, 'table-name': t.name, 'column-name': c },
        'rule-action': 'remove-column',
      });
    }
    const missing = t.columns.filter((c) => !have.has(c.name.toLowerCase())).map((c) => c.name);
    if (missing.length > 0)
      notes.push(`schemas/ lists column${missing.length === 1 ? '' : 's'} ${missing.join(', ')} that ${o.sourceSchema}.${t.name} does not have: DMS cannot fill ${missing.length === 1 ? 'it' : 'them'} (check schema diff --source)`);
    if (removed.length > 0) notes.push(`source column${removed.length === 1 ? '' : 's'} ${removed.join(', ')} not in schemas/: removed by remove-column rules`);
  }
  const input: DmsTaskSpec = {
    ReplicationTaskIdentifier: rep.taskId,
    SourceEndpointArn: o.sourceEndpointArn,
    TargetEndpointArn: o.targetEndpointArn,
    ReplicationInstanceArn: o.replicationInstanceArn,
    MigrationType: 'full-load-and-cdc',
    TableMappings: JSON.stringify({ rules }),
    ReplicationTaskSettings: JSON.stringify(dmsTaskSettings()),
  };
  // compile-time: the spec is what the SDK's CreateReplicationTaskCommand accepts
  const asSdk: CreateReplicationTaskCommandInput = input;
  void asSdk;
  return { input, notes, removedColumns: removed };
}
