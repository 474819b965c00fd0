/**
 * DMS facts: each task named in schemas/ (DescribeReplicationTasks: status, StopReason, LastFailureMessage,
 * FullLoadProgressPercent) with the statistics of its tables (DescribeTableStatistics: TableState, Inserts, Updates,
 * Deletes, LastUpdateTime). Tasks and tables are asked in parallel; each task degrades on its own.
 */
import type { DmsPort, DmsTableStat, DmsTask } from '../replication/port.js';
import type { Registry } from '../schema/registry.js';
import { gather, type Fact } from './fact.js';

export interface DmsTaskFacts {
  taskId: string;
  /** the tables schemas/ says this task feeds */
  tables: string[];
  logGroup: string;
  logStreams?: string[];
  task: Fact<DmsTask>;
  stats: Array<{ table: string; stat: Fact<DmsTableStat | undefined> }>;
}

/** The DMS tasks of the registry's default schema, with their tables and log groups. */
export function dmsTasksOf(registry: Registry): Array<{ taskId: string; tables: string[]; logGroup: string; logStreams?: string[] }> {
  const by = new Map<string, { taskId: string; tables: string[]; logGroup: string; logStreams?: string[] }>();
  for (const name of registry.names()) {
    const def = registry.get(registry.defaultSchema, name);
    const rep = def?.replication;
    if (rep?.provider !== 'dms') continue;
    const t = by.get(rep.taskId) ?? { taskId: rep.taskId, tables: [], logGroup: rep.logGroup };
    t.tables.push(name);
    if (rep.logStream !== undefined) t.logStreams = [...(t.logStreams ?? []), rep.logStream];
    by.set(rep.taskId, t);
  }
  return [...by.values()];
}

export async function gatherDms(dms: DmsPort | undefined, registry: Registry): Promise<DmsTaskFacts[]> {
  const schema = registry.defaultSchema;
  return Promise.all(
    dmsTasksOf(registry).map(async (t) => {
      const base = { taskId: t.taskId, tables: t.tables, logGroup: t.logGroup, ...(t.logStreams ? { logStreams: t.logStreams } : {}) };
      if (!dms) {
        const why = 'no DMS client is configured (AWS region/credentials)';
        return { ...base, task: { ok: false, why }, stats: t.tables.map((table) => ({ table, stat: { ok: false as const, why } })) };
      }
      const task = await gather(`DescribeReplicationTasks ${t.taskId}`, () => dms.findTask(t.taskId));
      const stats = await Promise.all(
        t.tables.map(async (table) => ({
          table,
          stat: task.ok
            ? await gather(`DescribeTableStatistics ${schema}.${table}`, () => dms.tableStats(task.value.arn, schema, table))
            : ({ ok: false, why: 'the task could not be read' } as const),
        })),
      );
      return { ...base, task, stats };
    }),
  );
}
