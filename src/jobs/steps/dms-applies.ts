/**
 * Shared step: after a full load, does DMS apply changes to the table again? It reads the table's CDC counters
 * (DescribeTableStatistics Inserts + Updates + Deletes) once, then looks again — the job parked in between — until
 * they moved, or until the window ran out. A window in which nothing moved is a warning (status 'warn', never ✓): the
 * source may have been quiet, or DMS does not replicate; the detail says which counters it compared and for how long.
 * A task that went `failed` meanwhile, or a table in `Table error`, fails the step with what DMS says.
 */
import { z } from 'zod';
import type { RunbookDeps } from '../deps.js';
import { type PlannedAction, type Step, waitUntil } from '../runbook.js';
import type { DmsTableStat } from '../../replication/port.js';
import { taskFailureText } from './dms-full-load.js';
import { dmsOf, taskArnOf } from './dms-task.js';

export interface DmsAppliesOptions {
  /** step name (default `cdc-applies`); also its handles' prefix */
  name?: string;
  taskId: string;
  schema: string;
  table: string;
}

/** How long the check waits for a counter to move (RunbookSettings `freshnessMs`, as the cdc freshness check). */
const counters = z.object({ inserts: z.number(), updates: z.number(), deletes: z.number() });

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19) + ' UTC';
}

const text = (c: { inserts: number; updates: number; deletes: number }): string => `Inserts ${c.inserts}, Updates ${c.updates}, Deletes ${c.deletes}`;

export function dmsAppliesStep(o: DmsAppliesOptions): Step<RunbookDeps> {
  const name = o.name ?? 'cdc-applies';
  const key = `${o.schema}.${o.table}`;
  const h = (k: string): string => `${name}.${k}`;
  return {
    name,
    title: `Confirm DMS applies changes to ${key} again (CDC counters move)`,
    plan: (): PlannedAction[] => [
      {
        kind: 'aws',
        text: `DescribeTableStatistics ReplicationTaskArn=<arn of ${o.taskId}> for ${key}: Inserts + Updates + Deletes read once, then again (job parked between looks) until they move — none within the freshness window is a warning`,
      },
    ],
    isDone: async () => false,
    async run(ctx) {
      const dms = dmsOf(ctx);
      const windowMs = ctx.deps.settings?.freshnessMs ?? 10 * 60_000;
      const pollMs = Math.min(15_000, Math.max(250, Math.round(windowMs / 20)));
      const arn = await taskArnOf(ctx, { taskId: o.taskId });
      const [task, stat] = await Promise.all([dms.describeTask(arn), dms.tableStats(arn, o.schema, o.table)]);
      if (task.status === 'failed') throw new Error(`DMS task ${o.taskId} failed: ${taskFailureText(task)} — ${key} gets no changes; fix the cause and run recover again`);
      if (stat?.state === 'Table error') throw new Error(`${key} went to Table error after its load: DMS applies no change to it. Read the task's CloudWatch log (TARGET_APPLY ]E: lines), fix the cause and run recover again`);
      const now = (s: DmsTableStat | undefined) => ({ inserts: s?.inserts ?? 0, updates: s?.updates ?? 0, deletes: s?.deletes ?? 0 });
      const cur = now(stat);
      const firstJson = ctx.handles[h('first')];
      if (firstJson === undefined) {
        const startAt = Date.now();
        await ctx.setHandle(h('startAt'), String(startAt));
        await ctx.setHandle(h('first'), JSON.stringify(cur));
        waitUntil(startAt + pollMs, `waiting for DMS to apply a change to ${key} (its Inserts/Updates/Deletes counters; until ${clock(startAt + windowMs)}; no worker is held)`, `${key}: ${text(cur)}`);
      }
      const first = counters.parse(JSON.parse(firstJson));
      const startAt = Number(ctx.handles[h('startAt')]);
      const deadline = startAt + windowMs;
      const moved = (['inserts', 'updates', 'deletes'] as const).filter((k) => cur[k] !== first[k]);
      if (moved.length) return `DMS applies changes to ${key} again: ${moved.join(', ')} moved within ${((Date.now() - startAt) / 1000).toFixed(1)} s (${text(first)} → ${text(cur)}; task ${task.status})`;
      if (Date.now() >= deadline) {
        await ctx.note(`warning: DMS applied no change to ${key} in ${Math.round(windowMs / 1000)} s after its load (${text(cur)}, task ${task.status}): the source may be quiet, or the task is not replicating — check the task before trusting the table`);
        return { status: 'warn', detail: `no change applied to ${key} in ${Math.round(windowMs / 1000)} s (${text(cur)} did not move)` };
      }
      waitUntil(Math.min(deadline, Date.now() + pollMs), `waiting for DMS to apply a change to ${key} (its Inserts/Updates/Deletes counters; until ${clock(deadline)}; no worker is held)`, `${key}: ${text(cur)}`);
    },
  };
}
