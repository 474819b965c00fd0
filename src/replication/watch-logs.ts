/**
 * watchLogs(): the "read the DMS task's log for N minutes after the resume" check over any LogsPort. CloudWatch stores
 * events late (ingestion delay, minutes at times), so a scan never trusts that a window it read is complete: every scan
 * re-reads the last `lagMs`, the watch keeps scanning `settleMs` after its window, and lines are deduplicated by
 * CloudWatch event id. Used by the modify runbook's log-check step.
 */
import { abortError, sleep } from '../util/sleep.js';
import type { DmsLogLine, LogsPort } from './port.js';

/** the port's scan options without the window's end and the signal (the watcher sets both) */
export interface WatchScanOptions {
  group: string;
  streams?: string[];
  startMs: number;
  pattern?: string;
}

export interface WatchOptions {
  /** stop watching at this time (epoch ms); the last scan covers up to it */
  untilMs: number;
  /** ms between scans (default 10 000) */
  pollMs?: number;
  /**
   * each scan re-reads this much before the end of the previous one (default 60 000): CloudWatch can ingest an event
   * after a scan has passed its timestamp; lines already reported are not reported again
   */
  lagMs?: number;
  /**
   * keep scanning this long after `untilMs` (default 0), each scan re-reading the window's last `lagMs`: an event
   * stamped just before `untilMs` and stored late is still seen, and the watch still ends, at `untilMs + settleMs`
   */
  settleMs?: number;
  /** the new lines of a scan (called only when there are some), e.g. to post them to the job's thread */
  onLines?: (lines: DmsLogLine[]) => void | Promise<void>;
  /** stop early when this says so (e.g. on the first `]E:` line) */
  stopWhen?: (all: readonly DmsLogLine[], fresh: readonly DmsLogLine[]) => boolean;
  signal?: AbortSignal;
  /** for tests */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface WatchResult {
  /** every line seen in [startMs, end), in time order */
  lines: DmsLogLine[];
  scans: number;
  /** stopWhen ended the watch before untilMs */
  stoppedEarly: boolean;
  /** the end of the last scanned window (exclusive) */
  endMs: number;
}

function lineKey(l: DmsLogLine): string {
  return l.eventId !== undefined ? `id:${l.eventId}` : `${l.stream}\u0000${l.timestamp}\u0000${l.raw}`;
}

/**
 * Where a watch is, as plain data: kept in a job's handles between two looks so a watch that parks its job between
 * scans (src/jobs/waits.ts) keeps the lag re-reads and the de-duplication of one long watch.
 */
export interface WatchState {
  /** the end of the last scanned window (exclusive); the next scan re-reads from `scannedTo - lagMs` */
  scannedTo: number;
  scans: number;
  /** line key → how many copies were reported (CloudWatch event id, or stream + timestamp + text) */
  seen: Record<string, number>;
  /** every line seen so far, in time order */
  lines: DmsLogLine[];
}

export function newWatchState(startMs: number): WatchState {
  return { scannedTo: startMs, scans: 0, seen: {}, lines: [] };
}

export interface ScanStepOptions {
  untilMs: number;
  pollMs?: number;
  lagMs?: number;
  settleMs?: number;
  signal?: AbortSignal;
  now?: () => number;
}

export interface ScanStepResult {
  /** lines not reported by an earlier scan */
  fresh: DmsLogLine[];
  /** the watch is over (its window and settle time are scanned) */
  done: boolean;
  /** when the next scan is due (epoch ms) */
  nextAtMs: number;
}

/**
 * One scan of a watch: covers [max(startMs, scannedTo − lagMs), min(now, untilMs)], skips lines already seen, and
 * updates `state` in place. `watchLogs` loops over it; a parked job calls it once per look.
 */
export async function scanLogsOnce(port: LogsPort, opts: WatchScanOptions, state: WatchState, w: ScanStepOptions): Promise<ScanStepResult> {
  const now = w.now ?? Date.now;
  const pollMs = Math.max(1, w.pollMs ?? 10_000);
  const lagMs = Math.max(0, w.lagMs ?? 60_000);
  const stopAt = w.untilMs + Math.max(0, w.settleMs ?? 0);
  if (w.signal?.aborted) throw abortError(w.signal);
  const t = now();
  const end = Math.min(t + 1, w.untilMs);
  const from = Math.max(opts.startMs, state.scannedTo - lagMs);
  const fresh: DmsLogLine[] = [];
  if (end > from) {
    const lines = await port.scan({ ...opts, startMs: from, endMs: end, ...(w.signal !== undefined ? { signal: w.signal } : {}) });
    state.scans++;
    const inScan = new Map<string, number>();
    for (const l of lines) {
      const k = lineKey(l);
      const n = (inScan.get(k) ?? 0) + 1;
      inScan.set(k, n);
      if (n > (state.seen[k] ?? 0)) {
        state.seen[k] = n;
        fresh.push(l);
      }
    }
    state.scannedTo = Math.max(state.scannedTo, end);
    if (fresh.length > 0) {
      state.lines.push(...fresh);
      state.lines.sort((a, b) => a.timestamp - b.timestamp);
    }
  }
  const done = end >= w.untilMs && t + 1 >= stopAt;
  const at = now();
  return { fresh, done, nextAtMs: at + Math.max(1, Math.min(pollMs, (end < w.untilMs ? w.untilMs : stopAt) - at)) };
}

/**
 * Re-scan the log in growing windows until `untilMs` (+ `settleMs`): the "watch the task's log for N minutes after the
 * resume" check. Every scan covers [max(startMs, previous end − lagMs), min(now, untilMs)]; lines already seen are
 * skipped (by CloudWatch event id, or by stream + timestamp + text, counting duplicates). Abortable (rejects with the
 * signal's reason).
 */
export async function watchLogs(port: LogsPort, opts: WatchScanOptions, w: WatchOptions): Promise<WatchResult> {
  const now = w.now ?? Date.now;
  const doSleep = w.sleep ?? sleep;
  const state = newWatchState(opts.startMs);
  for (;;) {
    const r = await scanLogsOnce(port, opts, state, { ...w, now });
    if (r.fresh.length > 0) {
      await w.onLines?.(r.fresh);
      if (w.stopWhen?.(state.lines, r.fresh)) return { lines: state.lines, scans: state.scans, stoppedEarly: true, endMs: state.scannedTo };
    }
    if (r.done) return { lines: state.lines, scans: state.scans, stoppedEarly: false, endMs: state.scannedTo };
    await doSleep(Math.max(1, r.nextAtMs - now()), w.signal);
  }
}
