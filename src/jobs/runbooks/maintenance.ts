/**
 * `hygiene run <table>` (and the listing's "Queue maintenance" button, and each weekly sweep): the VACUUM and/or
 * ANALYZE `hygiene` recommended for one table, as a job holding the table's lock — so it never runs beside a modify of
 * the same table (Redshift's VACUUM conflicts with ALTER TABLE; its automatic vacuum pauses for DDL).
 *
 * Steps: vacuum → analyze → verify, each present only when needed.
 * - VACUUM cannot run inside a transaction block: it is ONE ExecuteStatement (never a BatchExecuteStatement, which is a
 *   transaction). Redshift runs one VACUUM at a time per cluster; while another runs ("VACUUM is running"), the step
 *   parks the job (no worker held, cancel acts at once) with backoff (vacuumRetryMs, doubling to 5 min) and submits again, up to vacuumWaitMs. Each try has its own
 *   handle (`vacuum#n`, the try count persisted first) so a resumed job waits for a try in flight instead of repeating it.
 * - ANALYZE runs after the VACUUM (which moves rows) and may run anywhere.
 * - verify re-reads svv_table_info / svv_interleaved_columns and compares each number the job was for with its
 *   threshold, saying exactly what it compared; a number the catalog no longer shows fails the check (never a ✓).
 * Nothing here needs undoing: VACUUM and ANALYZE change no data.
 */
import { z } from 'zod';
import { tableRef } from '../../commands/types.js';
import { readHygiene } from '../../hygiene/read.js';
import { type MaintenanceAction, VACUUM_MODES, actionSql, actionText, verifyAfter } from '../../hygiene/recommend.js';
import { qualified } from '../../schema/identifiers.js';
import { WarehouseError } from '../../warehouse/port.js';
import { runbookSettings, type RunbookDeps } from '../deps.js';
import { defineRunbook, type Step, type StepContext, waitUntil } from '../runbook.js';
import { vacuumBusyNote } from '../waits.js';
import { finishedBefore, runOnce } from '../statements.js';

const thresholds = z.strictObject({ unsortedPct: z.number().min(0), statsOffPct: z.number().min(0), deletedPct: z.number().min(0), reindexSkew: z.number().min(1) });
const action = z.discriminatedUnion('kind', [z.strictObject({ kind: z.literal('vacuum'), mode: z.enum(VACUUM_MODES) }), z.strictObject({ kind: z.literal('analyze') })]);

export const maintenanceParams = z
  .strictObject({
    table: tableRef,
    actions: z.array(action).min(1).max(2),
    /** what the listing compared when the job was queued ("unsorted 42.00 % > 10 %") */
    reasons: z.array(z.string().max(300)).max(10),
    thresholds,
  })
  .superRefine((p, ctx) => {
    const vacuums = p.actions.filter((a) => a.kind === 'vacuum').length;
    const analyzes = p.actions.filter((a) => a.kind === 'analyze').length;
    if (vacuums > 1 || analyzes > 1) ctx.addIssue({ code: 'custom', path: ['actions'], message: 'at most one VACUUM and one ANALYZE' });
    if (vacuums === 1 && p.actions[0]?.kind !== 'vacuum') ctx.addIssue({ code: 'custom', path: ['actions'], message: 'the VACUUM comes before the ANALYZE' });
  });
export type MaintenanceParams = z.output<typeof maintenanceParams>;

type Ctx = StepContext<RunbookDeps>;

/** Redshift's answer while another VACUUM runs on the cluster: "VACUUM is running" (HINT: re-execute after …). */
export function isVacuumRunning(e: unknown): boolean {
  return e instanceof WarehouseError && /VACUUM is running/i.test(e.message);
}

/**
 * One try of the VACUUM. While another VACUUM runs on the cluster the job parks (WaitSignal, no worker held) and tries
 * again later with a doubling wait (vacuumRetryMs up to 5 min), the tries, the first refusal's time and the next wait
 * kept in handles; it gives up after vacuumWaitMs.
 */
async function runVacuum(ctx: Ctx, sql: string, name: string): Promise<string> {
  const s = runbookSettings(ctx.deps);
  const tries = Math.max(1, Number(ctx.handles['vacuum.tries'] ?? '1') || 1);
  await ctx.setHandle('vacuum.tries', String(tries));
  try {
    const info = await runOnce(ctx, `vacuum#${tries}`, { sql }, name);
    await ctx.setHandle('vacuum', info.id);
    const waited = tries > 1 ? `; ran on try ${tries}: another VACUUM was running on the cluster for the first ${tries - 1}` : '';
    return `${sql} finished (statement ${info.id})${waited}`;
  } catch (e) {
    if (!isVacuumRunning(e)) throw e;
    const now = Date.now();
    const started = Number(ctx.handles['vacuum.busySince'] ?? now) || now;
    const wait = Math.max(1, Number(ctx.handles['vacuum.nextWaitMs'] ?? s.vacuumRetryMs) || s.vacuumRetryMs);
    if (now - started + wait > s.vacuumWaitMs) {
      throw new Error(
        `another VACUUM kept the cluster busy for ${Math.round((now - started) / 1000)} s (${tries} tries; Redshift runs one VACUUM at a time). ` +
          'Retry the job when the other VACUUM is done (svv_vacuum_progress shows it).',
      );
    }
    if (ctx.handles['vacuum.busySince'] === undefined) await ctx.setHandle('vacuum.busySince', String(started));
    await ctx.setHandle('vacuum.nextWaitMs', String(Math.min(wait * 2, 5 * 60_000)));
    await ctx.setHandle('vacuum.tries', String(tries + 1));
    return waitUntil(now + wait, vacuumBusyNote());
  }
}

export const maintenanceRunbook = defineRunbook<RunbookDeps, MaintenanceParams>({
  kind: 'maintenance',
  paramsSchema: maintenanceParams,
  build(params) {
    const { schema, name } = params.table;
    const key = `${schema}.${name}`;
    const target = qualified(schema, name);
    const steps: Step<RunbookDeps>[] = [];
    const actions: MaintenanceAction[] = params.actions;
    for (const a of actions) {
      const sql = actionSql(a, target);
      if (a.kind === 'vacuum') {
        steps.push({
          name: 'vacuum',
          title: `${actionText(a)} ${key} (one statement, outside any transaction)`,
          plan: () => [{ kind: 'sql', text: sql }],
          isDone: (ctx) => finishedBefore(ctx, 'vacuum'),
          run: (ctx) => runVacuum(ctx, sql, `job ${ctx.job.id} vacuum ${key}`),
        });
      } else {
        steps.push({
          name: 'analyze',
          title: `ANALYZE ${key}`,
          plan: () => [{ kind: 'sql', text: sql }],
          isDone: (ctx) => finishedBefore(ctx, 'analyze'),
          run: async (ctx) => {
            const info = await runOnce(ctx, 'analyze', { sql }, `job ${ctx.job.id} analyze ${key}`);
            return `${sql} finished (statement ${info.id})`;
          },
        });
      }
    }
    steps.push({
      name: 'verify',
      title: `Compare ${key}'s numbers with the thresholds again`,
      plan: () => [{ kind: 'check', text: `svv_table_info / svv_interleaved_columns of ${key}: ${params.reasons.join('; ') || 'the numbers the job was for'}, each within its threshold` }],
      isDone: async () => false,
      run: async (ctx) => {
        const report = await readHygiene(ctx.deps.warehouse, ctx.deps.registry, schema, params.thresholds, [name]);
        const health = report.health.find((h) => h.table === name);
        const v = verifyAfter(actions, health, params.thresholds);
        const compared = `${key}: ${v.lines.join('; ')}`;
        if (!v.ok) {
          const extra = report.problems.length ? ` (${report.problems.join('; ')})` : '';
          throw new Error(`after the maintenance ${compared}${extra}. Look at the table with \`/redshift hygiene\`; a VACUUM TO 100 PERCENT sorts or reclaims all of it.`);
        }
        return compared;
      },
    });
    return { kind: 'maintenance', steps };
  },
});
