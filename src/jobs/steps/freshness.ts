/**
 * Generic freshness check (shared step library): wait until replication writes a table again — a query returning
 * `max_updated_at` and/or `max_id` is read once, then again until one of them moved or the window ran out. Waits
 * without holding a worker: the first values and the start time live in handles, and each look either decides or parks
 * the job until the next look (waitUntil), so cancel and SIGTERM never wait the window out. A window with no change is
 * a warning (status 'warn', never ✓), with a note saying what was compared.
 */
import { z } from 'zod';
import { runbookSettings, type RunbookDeps } from '../deps.js';
import { type PlannedAction, type Step, type StepContext, waitUntil } from '../runbook.js';
import { freshnessNote, freshnessPollMs } from '../waits.js';

export interface FreshnessStepOptions {
  name: string;
  title: string;
  plan?: () => PlannedAction[];
  /** the table watched, as the messages name it */
  table: string;
  /** SELECT … AS max_updated_at, … AS max_id FROM the table (as planned); nothing to watch when undefined */
  query: string | undefined;
  /** the job is already past this point: done without looking */
  pastIf?: (ctx: StepContext<RunbookDeps>) => Promise<boolean>;
  /** the handles' prefix (default `freshness`: freshness.first, freshness.startAt) */
  handlePrefix?: string;
  /** the window; default the worker's freshnessMs */
  windowMs?: number;
  /** when the window starts, for the warning (default "after the swap") */
  since?: string;
  /** what the warning advises (default "check the CDC service before approving the drop") */
  advice?: string;
}

export function freshnessStep(o: FreshnessStepOptions): Step<RunbookDeps> {
  const prefix = o.handlePrefix ?? 'freshness';
  const firstKey = `${prefix}.first`;
  const startKey = `${prefix}.startAt`;
  const looksKey = `${prefix}.looks`;
  return {
    name: o.name,
    title: o.title,
    plan: o.plan ?? (() => (o.query ? [{ kind: 'check', text: `${o.query}\n→ expect max_updated_at or max_id to advance` }] : [])),
    isDone: async (ctx) => (o.pastIf ? o.pastIf(ctx) : false),
    run: async (ctx) => {
      if (!o.query) return 'no updated_at/id to watch';
      const windowMs = o.windowMs ?? runbookSettings(ctx.deps).freshnessMs;
      const now = (await ctx.deps.warehouse.query(o.query)).rows[0] ?? {};
      // looks so far: the first ones come quickly, then settle at the window's pace (freshnessPollMs)
      const looks = Number(ctx.handles[looksKey] ?? '0');
      await ctx.setHandle(looksKey, String(looks + 1));
      const firstJson = ctx.handles[firstKey];
      if (firstJson === undefined) {
        const startAt = Date.now();
        await ctx.setHandle(startKey, String(startAt));
        await ctx.setHandle(firstKey, JSON.stringify(now));
        waitUntil(startAt + freshnessPollMs(windowMs, looks), freshnessNote(o.table, startAt + windowMs));
      }
      const first = z.record(z.string(), z.unknown()).parse(JSON.parse(firstJson));
      const startAt = Number(ctx.handles[startKey] ?? Date.now());
      const deadline = startAt + windowMs;
      const advanced = (['max_updated_at', 'max_id'] as const).filter((k) => now[k] !== undefined && now[k] !== null && String(now[k]) !== String(first[k]));
      if (advanced.length) {
        const lag = now.max_updated_at ? ` (newest change ${String(now.max_updated_at)})` : '';
        return `replication writes ${o.table} again: ${advanced.join(', ')} advanced within ${((Date.now() - startAt) / 1000).toFixed(1)} s${lag}`;
      }
      if (Date.now() >= deadline) {
        await ctx.note(
          `warning: ${o.table} got no new change in ${Math.round(windowMs / 1000)} s ${o.since ?? 'after the swap'} (max ${JSON.stringify(now)}); ${o.advice ?? 'check the CDC service before approving the drop'}`,
        );
        return { status: 'warn', detail: `no new change seen in ${Math.round(windowMs / 1000)} s (see the warning)` };
      }
      waitUntil(Math.min(deadline, Date.now() + freshnessPollMs(windowMs, looks)), freshnessNote(o.table, deadline));
    },
  };
}
