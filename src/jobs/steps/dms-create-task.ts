/**
 * Shared step: the DMS replication task of one dms table, as the registry prescribes it (src/replication/dms-task-spec.ts
 * buildDmsTaskSpec: full-load-and-cdc, TRUNCATE_BEFORE_LOAD, selection / rename / remove-column rules, limited LOB
 * 32 KB, batch apply, logging of SOURCE_UNLOAD / SOURCE_CAPTURE / TARGET_LOAD / TARGET_APPLY).
 *
 * isDone: the task exists (DescribeReplicationTasks) with those settings — and is past `creating`. A task that exists
 * with OTHER settings fails the step listing every difference (migration type, endpoints, instance, each table-mapping
 * rule, each task setting the registry prescribes); nothing is changed — a task someone made by hand is theirs to fix
 * or delete. The settings compared are the ones the registry sets; DMS's own defaults for the rest are not judged.
 * run: CreateReplicationTask (the ARNs from the endpoint steps' handles; remove-column rules from the source's
 * information_schema when a source is configured), then the job parks until the task is `ready`.
 *
 * No undo: DeleteReplicationTask is not in the DmsPort; a rollback leaves the (never started) task, and says so.
 */
import type { RunbookDeps } from '../deps.js';
import { type PlannedAction, type Step, type StepContext, waitUntil } from '../runbook.js';
import { buildDmsTaskSpec, dmsTaskSettings } from '../../replication/dms-task-spec.js';
import { ReplicationError, type DmsTask, type DmsTaskSpec } from '../../replication/port.js';
import type { TableDef } from '../../schema/model.js';
import { dmsOf } from './dms-task.js';
import { INSTANCE_ARN, SOURCE_ENDPOINT_ARN, TARGET_ENDPOINT_ARN } from './dms-endpoints.js';

type Ctx = StepContext<RunbookDeps>;

/** The MySQL database the task reads the table from: DMS_SOURCE_SCHEMA, else the source's database, else the Redshift schema. */
export function sourceSchemaOf(deps: RunbookDeps, t: TableDef): string {
  return deps.dmsSetup?.sourceSchema ?? deps.source?.database ?? t.schema;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function parseJson(text: string | undefined): Json | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

const isObject = (v: Json | undefined): v is { [k: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every leaf the registry prescribes (`path = value`) that the task's settings do not have with the same value. */
function settingsDifferences(want: Json, have: Json | undefined, path: string, out: string[]): void {
  if (Array.isArray(want)) {
    // LogComponents: each prescribed component must be there with its severity (DMS lists every component)
    const list = Array.isArray(have) ? have : [];
    for (const w of want) {
      if (isObject(w) && typeof w.Id === 'string') {
        const h = list.find((x) => isObject(x) && x.Id === w.Id);
        if (!h) out.push(`${path}: no ${w.Id} entry (the registry logs it at ${String(w.Severity)})`);
        else settingsDifferences(w, h, `${path}[${w.Id}]`, out);
      } else if (!list.some((x) => JSON.stringify(x) === JSON.stringify(w))) out.push(`${path}: lacks ${JSON.stringify(w)}`);
    }
    return;
  }
  if (isObject(want)) {
    for (const [k, v] of Object.entries(want)) settingsDifferences(v, isObject(have) ? have[k] : undefined, path ? `${path}.${k}` : k, out);
    return;
  }
  if (JSON.stringify(want) !== JSON.stringify(have ?? null)) out.push(`${path}: the task has ${have === undefined ? 'nothing' : JSON.stringify(have)}, the registry says ${JSON.stringify(want)}`);
}

/** The rules of a TableMappings document, keyed by rule-id, each as canonical JSON (keys sorted, rule-name left out). */
function rulesOf(text: string | undefined): Map<string, { name: string; json: string }> | undefined {
  const doc = parseJson(text);
  if (!isObject(doc) || !Array.isArray(doc.rules)) return undefined;
  const canon = (v: Json): Json => (Array.isArray(v) ? v.map(canon) : isObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k]!)])) : v);
  const out = new Map<string, { name: string; json: string }>();
  // a rule's name is a label: DMS acts on the rest, so a task whose rules differ only in their names replicates the same
  for (const r of doc.rules) {
    if (!isObject(r)) continue;
    const { 'rule-name': name, ...rest } = r;
    out.set(String(r['rule-id']), { name: String(name ?? r['rule-id']), json: JSON.stringify(canon(rest)) });
  }
  return out;
}

/** How an existing task differs from the registry's spec (empty when it matches what the registry sets). */
export function taskDifferences(task: DmsTask, spec: DmsTaskSpec): string[] {
  const out: string[] = [];
  const same = (what: string, have: string | undefined, want: string): void => {
    if (have !== want) out.push(`${what}: the task has ${have ?? '(not shown)'}, the registry says ${want}`);
  };
  same('MigrationType', task.migrationType, spec.MigrationType);
  same('SourceEndpointArn', task.sourceEndpointArn, spec.SourceEndpointArn);
  same('TargetEndpointArn', task.targetEndpointArn, spec.TargetEndpointArn);
  same('ReplicationInstanceArn', task.instanceArn, spec.ReplicationInstanceArn);
  const want = rulesOf(spec.TableMappings)!;
  const have = rulesOf(task.tableMappings);
  if (!have) out.push('TableMappings: not shown by DescribeReplicationTasks, or not a {"rules": […]} document');
  else {
    for (const [id, r] of want) {
      const h = have.get(id);
      if (!h) out.push(`TableMappings: rule ${id} (${r.name}) is missing`);
      else if (h.json !== r.json) out.push(`TableMappings: rule ${id} differs — the task has ${h.json}, the registry says ${r.json}`);
    }
    for (const [id, h] of have) if (!want.has(id)) out.push(`TableMappings: the task has rule ${id} (${h.name}) the registry does not`);
  }
  const settings = parseJson(task.settings);
  if (!isObject(settings)) out.push('ReplicationTaskSettings: not shown by DescribeReplicationTasks, or not JSON');
  else settingsDifferences(dmsTaskSettings() as Json, settings, 'ReplicationTaskSettings', out);
  return out;
}

async function findTaskOrNone(ctx: Ctx, taskId: string): Promise<DmsTask | undefined> {
  try {
    return await dmsOf(ctx).findTask(taskId, { withSettings: true });
  } catch (e) {
    if (e instanceof ReplicationError && e.kind === 'not-found') return undefined;
    throw e;
  }
}

export interface DmsCreateTaskOptions {
  name: string;
  /** the dms table (schemas/ replication.provider dms) */
  table: TableDef;
}

export function dmsCreateTaskStep(o: DmsCreateTaskOptions): Step<RunbookDeps> {
  const t = o.table;
  const rep = t.replication;
  if (rep.provider !== 'dms') throw new Error(`${t.schema}.${t.name} is not replicated by DMS`);
  const taskId = rep.taskId;
  const instanceId = rep.replicationInstance ?? '(schemas/ names no replicationInstance)';

  /** the spec from the endpoint steps' handles and the source's columns */
  const specNow = async (ctx: Ctx): Promise<{ spec: DmsTaskSpec; notes: string[] }> => {
    const arn = (k: string, what: string): string => {
      const v = ctx.handles[k];
      if (!v) throw new Error(`the ${what} ARN is not known yet (the endpoint steps record it): retry the job from its start`);
      return v;
    };
    const sourceSchema = sourceSchemaOf(ctx.deps, t);
    let sourceColumns: string[] | undefined;
    if (ctx.deps.source && ctx.deps.source.database === sourceSchema) {
      const s = await ctx.deps.source.readSchema([t.name]);
      sourceColumns = s.columns.filter((c) => c.table === t.name).sort((a, b) => a.position - b.position).map((c) => c.name);
      if (sourceColumns.length === 0) throw new Error(`the source ${sourceSchema} has no table ${t.name}: DMS would replicate nothing (check the source, or DMS_SOURCE_SCHEMA)`);
    }
    const r = buildDmsTaskSpec(t, {
      sourceSchema,
      ...(sourceColumns ? { sourceColumns } : {}),
      sourceEndpointArn: arn(SOURCE_ENDPOINT_ARN, 'source endpoint'),
      targetEndpointArn: arn(TARGET_ENDPOINT_ARN, 'target endpoint'),
      replicationInstanceArn: arn(INSTANCE_ARN, 'replication instance'),
    });
    return { spec: r.input, notes: r.notes };
  };

  /** the task exists: with the registry's settings (true), still creating (false), or with others (an error, nothing changed) */
  const existing = async (ctx: Ctx, task: DmsTask): Promise<boolean> => {
    const { spec } = await specNow(ctx);
    const diff = taskDifferences(task, spec);
    if (diff.length)
      throw new Error(
        `DMS task ${taskId} exists with other settings than the registry's — nothing was changed:\n${diff.map((d) => `• ${d}`).join('\n')}\n` +
          `Compare with \`npm run cli -- schema export-dms ${t.name}\`; fix or delete the task by hand (it may be replicating), then retry.`,
      );
    return task.status !== 'creating';
  };

  return {
    name: o.name,
    title: `Create DMS task ${taskId} from the registry's settings (if missing)`,
    plan: (ctx): PlannedAction[] => {
      const s = buildDmsTaskSpec(t, {
        sourceSchema: sourceSchemaOf(ctx.deps, t),
        sourceColumns: t.columns.map((c) => c.name),
        sourceEndpointArn: ctx.deps.dmsSetup?.sourceEndpointArn ?? '<DMS_SOURCE_ENDPOINT_ARN>',
        targetEndpointArn: `<arn of ${ctx.deps.dmsSetup?.targetEndpointId ?? 'DMS_TARGET_ENDPOINT_ID'}>`,
        replicationInstanceArn: `<arn of ${instanceId}>`,
      }).input;
      return [
        { kind: 'aws', text: `DescribeReplicationTasks Filters=[{Name: replication-task-id, Values: [${taskId}]}] — exists with these settings: nothing to do; with others: stop, say what differs, change nothing` },
        {
          kind: 'aws',
          text:
            `CreateReplicationTask — only when missing (TableMappings and ReplicationTaskSettings are sent as JSON text):\n${JSON.stringify({ ...s, TableMappings: JSON.parse(s.TableMappings) as unknown, ...(s.ReplicationTaskSettings !== undefined ? { ReplicationTaskSettings: JSON.parse(s.ReplicationTaskSettings) as unknown } : {}) }, null, 2)}\n` +
            `(a remove-column rule is added for each column the source has and schemas/ does not list, read from the source's information_schema at run time)`,
        },
        { kind: 'aws', text: `DescribeReplicationTasks until ${taskId} is ready (the job parked in between)` },
      ];
    },
    isDone: async (ctx) => {
      if (ctx.handles['dms.createdTask'] !== undefined) return false; // this job created it: run says so once it is ready
      const task = await findTaskOrNone(ctx, taskId);
      return task !== undefined && (await existing(ctx, task));
    },
    run: async (ctx) => {
      const dms = dmsOf(ctx);
      let task = await findTaskOrNone(ctx, taskId);
      let notes: string[] = [];
      if (!task) {
        const built = await specNow(ctx);
        notes = built.notes;
        task = await dms.createTask(built.spec);
        await ctx.setHandle('taskArn', task.arn);
        await ctx.setHandle('dms.createdTask', task.arn);
        await ctx.audit({ kind: 'aws-call', ref: task.arn, outcome: task.status, text: `CreateReplicationTask ${taskId}` });
        if (notes.length) await ctx.note(notes.join('\n'));
      } else if (await existing(ctx, task)) {
        const ours = ctx.handles['dms.createdTask'] === task.arn;
        return `task ${taskId} ${ours ? `created (${task.arn}), now ` : 'exists, '}${task.status}, with the registry's settings (migration type, endpoints, instance, ${rulesOf(task.tableMappings)?.size ?? 0} table-mapping rules, the prescribed task settings)`;
      }
      if (task.status === 'creating') waitUntil(Date.now() + Math.max(50, Math.min(5_000, ctx.deps.settings?.fullLoadPollMs ?? 5_000)), `waiting for DMS task ${taskId} to be created (status creating → ready)`);
      return `task ${taskId} created (${task.arn}), ${task.status}`;
    },
  };
}
