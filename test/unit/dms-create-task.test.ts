/**
 * steps/dms-create-task.ts taskDifferences: an existing task is held to the registry's CreateReplicationTask input —
 * migration type, endpoints, instance, every table-mapping rule, every task setting the registry prescribes — and each
 * difference is named; DMS's own defaults for settings the registry does not set are not judged.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { taskDifferences } from '../../src/jobs/steps/dms-create-task.js';
import { buildDmsTaskSpec } from '../../src/replication/dms-task-spec.js';
import type { DmsTask, DmsTaskSpec } from '../../src/replication/port.js';
import { loadRegistry } from '../../src/schema/registry.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARN = (k: string) => `arn:aws:dms:us-west-2:123456789012:${k}`;
let spec: DmsTaskSpec;

/** the task as DescribeReplicationTasks shows it: the spec's values, settings with DMS's defaults merged in */
function asDescribed(s: DmsTaskSpec, edit: (settings: Record<string, Record<string, unknown>>) => void = () => {}): DmsTask {
  const settings = JSON.parse(s.ReplicationTaskSettings!) as Record<string, Record<string, unknown>>;
  settings.TargetMetadata = { ...settings.TargetMetadata, ParallelLoadThreads: 0, InlineLobMaxSize: 0 };
  settings.Logging = { ...settings.Logging, LogComponents: [...(settings.Logging!.LogComponents as object[]), { Id: 'TASK_MANAGER', Severity: 'LOGGER_SEVERITY_DEFAULT' }] };
  settings.ErrorBehavior = { TableErrorPolicy: 'SUSPEND_TABLE' };
  edit(settings);
  return {
    arn: ARN('task:T'),
    id: s.ReplicationTaskIdentifier,
    status: 'ready',
    instanceArn: s.ReplicationInstanceArn,
    sourceEndpointArn: s.SourceEndpointArn,
    targetEndpointArn: s.TargetEndpointArn,
    migrationType: s.MigrationType,
    tableMappings: s.TableMappings,
    settings: JSON.stringify(settings),
  };
}

beforeAll(async () => {
  const reg = await loadRegistry(path.join(REPO, 'schemas'));
  spec = buildDmsTaskSpec(reg.find('core_usermailing')!, {
    sourceSchema: 'actionkit',
    sourceColumns: ['id', 'mailing_id', 'user_id', 'subject_id', 'created_at', 'legacy_flag'],
    sourceEndpointArn: ARN('endpoint:SRC'),
    targetEndpointArn: ARN('endpoint:TGT'),
    replicationInstanceArn: ARN('rep:INST'),
  }).input;
});

describe('taskDifferences', () => {
  it('a task made from the same input, with DMS defaults added, matches', () => {
    expect(taskDifferences(asDescribed(spec), spec)).toEqual([]);
  });

  it('names every difference: endpoint, migration type, a rule, a prep mode, the LOB size, a log component', () => {
    const t = asDescribed(spec, (s) => {
      s.FullLoadSettings = { TargetTablePrepMode: 'DROP_AND_CREATE' };
      s.TargetMetadata = { ...s.TargetMetadata, LobMaxSize: 64 };
      s.Logging = { ...s.Logging, LogComponents: (s.Logging!.LogComponents as Array<{ Id: string }>).filter((c) => c.Id !== 'TARGET_APPLY') };
    });
    const rules = (JSON.parse(spec.TableMappings) as { rules: Array<Record<string, unknown>> }).rules.filter((r) => r['rule-name'] !== 'drop-core_usermailing-legacy_flag');
    const d = taskDifferences({ ...t, sourceEndpointArn: ARN('endpoint:OTHER'), migrationType: 'full-load', tableMappings: JSON.stringify({ rules }) }, spec);
    expect(d).toEqual([
      'MigrationType: the task has full-load, the registry says full-load-and-cdc',
      `SourceEndpointArn: the task has ${ARN('endpoint:OTHER')}, the registry says ${ARN('endpoint:SRC')}`,
      'TableMappings: rule 3 (drop-core_usermailing-legacy_flag) is missing',
      'ReplicationTaskSettings.TargetMetadata.LobMaxSize: the task has 64, the registry says 32',
      'ReplicationTaskSettings.FullLoadSettings.TargetTablePrepMode: the task has "DROP_AND_CREATE", the registry says "TRUNCATE_BEFORE_LOAD"',
      'ReplicationTaskSettings.Logging.LogComponents: no TARGET_APPLY entry (the registry logs it at LOGGER_SEVERITY_DEFAULT)',
    ]);
  });

  it('a task described without its settings cannot be judged: said, not passed', () => {
    const { tableMappings: _m, settings: _s, ...bare } = asDescribed(spec);
    expect(taskDifferences(bare, spec)).toEqual([
      'TableMappings: not shown by DescribeReplicationTasks, or not a {"rules": […]} document',
      'ReplicationTaskSettings: not shown by DescribeReplicationTasks, or not JSON',
    ]);
  });
});
