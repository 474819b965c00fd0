/**
 * The shared step library (src/jobs/steps/): one file per operation that several runbooks use. `compare` checks a table
 * against the MySQL source (src/source/compare.ts) — recover ends with it, and modify can run it after its swap when a
 * source is configured.
 *
 * A check step: it changes nothing (no undo), it is never "done" before it ran (a resumed job compares again: the data
 * moves), and its detail line says what it compared. Without a source, or when the source cannot answer, it says so —
 * never as passed — and the job goes on (unless failOnDifference: then a difference or an error fails the step).
 */
import type { RunbookDeps } from '../deps.js';
import { type Step, waitUntil } from '../runbook.js';
import type { TableDef } from '../../schema/model.js';
import { compareTable, formatComparison, type TableComparison } from '../../source/compare.js';
import { DEFAULT_COMPARE_LAG_SECONDS, planChecksum } from '../../source/checksum-sql.js';
import { warehouseSide } from '../../source/warehouse-side.js';

export interface CompareStepOptions {
  /** step name, unique in the runbook (default `compare-source`) */
  name?: string;
  /** fail the step (and the job) when the table differs; default false: the difference is reported and the job goes on */
  failOnDifference?: boolean;
  /**
   * with failOnDifference: compare again this many times, `delayMs` apart (the job parked in between), before a
   * difference fails the step — a change replication is still applying (an update or delete of an old row, which the
   * lag window does not cover) shows as a difference that is gone a moment later; a real one stays (default none)
   */
  again?: { times: number; delayMs: number };
}

/** Thrown by a compare step with failOnDifference when the table differs; the message is the report. */
export class CompareMismatchError extends Error {
  constructor(readonly comparison: TableComparison) {
    super(formatComparison(comparison).join('\n'));
    this.name = 'CompareMismatchError';
  }
}

export function compareStep(table: TableDef, o: CompareStepOptions = {}): Step<RunbookDeps> {
  const key = `${table.schema}.${table.name}`;
  return {
    name: o.name ?? 'compare-source',
    title: `Compare ${key} with the MySQL source (counts, max id, per-range checksums)`,
    plan: (ctx) => [
      ctx.deps.source
        ? { kind: 'check', text: `compare ${key} with ${ctx.deps.source.database}.${table.name}: row counts, max(id), max(updated_at), per-id-range MD5 checksums on each side` }
        : { kind: 'check', text: `compare ${key} with the source: skipped (SOURCE_DATABASE_URL is not set)` },
    ],
    isDone: async () => false,
    async run(ctx) {
      const source = ctx.deps.source;
      if (!source) return { status: 'warn', detail: `skipped: no source configured (SOURCE_DATABASE_URL), ${key} was not compared` };
      const lagSeconds = ctx.deps.compare?.lagSeconds ?? DEFAULT_COMPARE_LAG_SECONDS;
      let c;
      try {
        c = await compareTable(table, source, warehouseSide(ctx.deps.warehouse, table.schema), { lagSeconds });
      } catch (e) {
        // a source that cannot answer must not fail the change the job already made: it is reported, never as passed
        if (o.failOnDifference) throw e;
        return { status: 'warn', detail: `${key}: ✗ not compared — ${(e as Error).message}` };
      }
      const lines = formatComparison(c);
      if ((c.status === 'different' || c.status === 'missing') && o.failOnDifference) {
        const triesKey = `${o.name ?? 'compare-source'}.tries`;
        const tries = Number(ctx.handles[triesKey] ?? '0');
        if (o.again && c.status === 'different' && tries < o.again.times) {
          await ctx.setHandle(triesKey, String(tries + 1));
          await ctx.note(`${lines[0] ?? key} — comparing again in ${Math.round(o.again.delayMs / 1000)} s (${tries + 1}/${o.again.times}): replication may still be applying a change`);
          waitUntil(Date.now() + o.again.delayMs, `comparing ${key} with the source again (replication may still be applying a change; no worker is held)`);
        }
        throw new CompareMismatchError(c);
      }
      if (lines.length > 1) await ctx.note(lines.slice(1).join('\n'));
      // only checksums that were compared and equal pass; counts only, nothing settled, a difference: shown ⚠, never ✓
      return { status: c.status === 'equal' ? 'ok' : 'warn', detail: lines[0] ?? `${key}: compared` };
    },
  };
}

/**
 * Rows outside the lag window on both sides (compare's own count aggregates, no checksums): a cheap "does it match yet"
 * for waits and plans. Undefined without a source; `{ why }` when a side could not answer.
 */
export async function settledCounts(deps: RunbookDeps, table: TableDef): Promise<{ source: string; warehouse: string } | { why: string } | undefined> {
  const source = deps.source;
  if (!source) return undefined;
  try {
    const plan = planChecksum(table, { now: new Date(), lagSeconds: deps.compare?.lagSeconds ?? DEFAULT_COMPARE_LAG_SECONDS });
    const [s, w] = await Promise.all([source.stats(plan), warehouseSide(deps.warehouse, table.schema).stats(plan)]);
    return { source: s.settledRows, warehouse: w.settledRows };
  } catch (e) {
    return { why: e instanceof Error ? e.message : String(e) };
  }
}
