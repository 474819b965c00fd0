/**
 * Generic DMS log check (shared step library): watch a CloudWatch log group (one stream, or all) for `]E:`/`]W:` lines
 * from the time recorded in a handle (e.g. `resumedAt`, written by resumeTaskStep) for the log-check window, without
 * holding a worker: one scan per look, the scanned range and the seen event ids kept in a handle between looks, the job
 * parked (waitUntil) until the next. CloudWatch stores events late: every search re-reads the last logLagMs, and the
 * watch keeps searching logLagMs after its window; lines are deduplicated by event id.
 *
 * Writes `errorsHandle` (default `logErrors`) with the number of ]E: lines: an approval prompt can show it.
 */
import { groupLogLines } from '../../replication/port.js';
import { scanLogsOnce } from '../../replication/watch-logs.js';
import { logLagMsOf, runbookSettings, type RunbookDeps } from '../deps.js';
import { type PlannedAction, type Step, type StepContext, waitUntil } from '../runbook.js';
import { logCheckNote, readWatchState } from '../waits.js';

export interface LogCheckStepOptions {
  name: string;
  title: string;
  plan?: () => PlannedAction[];
  logGroup: string;
  /** one stream to search; all streams of the group when unset */
  logStream?: string;
  /** the handle holding the start time (ms) of the watch; "now" when the handle is missing. A start so far back that
   *  the window has ended is read in one search, and the step ends at once with what it found */
  startHandle: string;
  /** how the detail says when the window starts, e.g. "after the resume" */
  since: string;
  /** what the detail advises when it found ]E: lines (default "consider Rollback at the approval") */
  onErrors?: string;
  /** the watch's state between looks (default `logcheck.state`) */
  stateHandle?: string;
  /** number of ]E: lines found (default `logErrors`) */
  errorsHandle?: string;
  /** the window; default the worker's logCheckMs. A function reads it from the job (e.g. the load's length + logCheckMs) */
  windowMs?: number | ((ctx: StepContext<RunbookDeps>) => number);
  /** ]E: lines found: the step's status — `ok` (default: the detail says so, an approval decides) or `warn` (shown ⚠) */
  errorStatus?: 'ok' | 'warn';
  /** CloudWatch's ingestion lag to re-read; default logLagMsOf(the worker's settings) */
  lagMs?: number;
}

const utc = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

export function logCheckStep(o: LogCheckStepOptions): Step<RunbookDeps> {
  const stateHandle = o.stateHandle ?? 'logcheck.state';
  const errorsHandle = o.errorsHandle ?? 'logErrors';
  return {
    name: o.name,
    title: o.title,
    plan: o.plan ?? (() => [{ kind: 'aws', text: `logs filter-log-events --log-group-name ${o.logGroup}${o.logStream ? ` --log-stream-names ${o.logStream}` : ''} --filter-pattern '?"]E:" ?"]W:"'` }]),
    isDone: async () => false,
    run: async (ctx) => {
      if (!ctx.deps.logs) throw new Error('this worker has no CloudWatch Logs client configured');
      const settings = runbookSettings(ctx.deps);
      const windowMs = typeof o.windowMs === 'function' ? o.windowMs(ctx) : (o.windowMs ?? settings.logCheckMs);
      const from = Number(ctx.handles[o.startHandle] ?? Date.now());
      const lag = o.lagMs ?? logLagMsOf({ logCheckMs: windowMs, ...(settings.logLagMs !== undefined ? { logLagMs: settings.logLagMs } : {}) });
      const scanOpts = { group: o.logGroup, ...(o.logStream ? { streams: [o.logStream] } : {}), startMs: from, pattern: '?"]E:" ?"]W:"' };
      const state = readWatchState(ctx.handles[stateHandle], from);
      const step = await scanLogsOnce(ctx.deps.logs, scanOpts, state, {
        untilMs: from + windowMs,
        lagMs: lag,
        settleMs: lag,
        pollMs: Math.min(10_000, Math.max(100, Math.round(lag / 4))),
        signal: ctx.signal,
      });
      await ctx.setHandle(stateHandle, JSON.stringify(state));
      if (!step.done) waitUntil(step.nextAtMs, logCheckNote(o.logGroup, from + windowMs + lag));
      const searched = `searched ${state.scans} time${state.scans === 1 ? '' : 's'}, each re-reading the last ${Math.round(lag / 1000)} s for events CloudWatch stored late`;
      const groups = groupLogLines(state.lines);
      const errors = groups.reduce((a, g) => a + g.errors.length, 0);
      const warnings = groups.reduce((a, g) => a + g.warnings.length, 0);
      await ctx.setHandle(errorsHandle, String(errors));
      for (const g of groups) {
        const sample = [...g.errors, ...g.warnings].slice(0, 3).map((l) => `    ${l.raw.trim()}`).join('\n');
        await ctx.note(`${g.component}: ${g.errors.length} error(s), ${g.warnings.length} warning(s)\n${sample}`);
      }
      const secs = Math.round(windowMs / 1000);
      // a window already past when the check began is read in one search: the detail names the range it read
      const since = state.scans === 1 && step.done ? `${o.since}, ${utc(from)} – ${utc(from + windowMs)} UTC, already past: read at once` : o.since;
      if (errors && o.errorStatus === 'warn') return { status: 'warn', detail: `${errors} ]E: line(s) and ${warnings} ]W: line(s) in ${secs} s ${since} (${searched}) — ${o.onErrors ?? 'read them before trusting the table'}` };
      return errors
        ? `${errors} ]E: line(s) and ${warnings} ]W: line(s) in ${secs} s ${since} (${searched}) — ${o.onErrors ?? 'consider Rollback at the approval'}`
        : `no ]E: lines (${warnings} ]W:) in ${secs} s ${since} (${searched})`;
    },
  };
}
