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
 * Re-scan the log in growing windows until `untilMs` (+ `settleMs`): the "watch the task's log for N minutes after the
 * resume" check. Every scan covers [max(startMs, previous end − lagMs), min(now, untilMs)]; lines already seen are
 * skipped (by CloudWatch event id, or by stream + timestamp + text, counting duplicates). Abortable (rejects with the
 * signal's reason).
 */
export async function watchLogs(port: LogsPort, opts: WatchScanOptions, w: WatchOptions): Promise<WatchResult> {
  const now = w.now ?? Date.now;
  const doSleep = w.sleep ?? sleep;
  const pollMs = Math.max(1, w.pollMs ?? 10_000);
  const lagMs = Math.max(0, w.lagMs ?? 60_000);
  const settleMs = Math.max(0, w.settleMs ?? 0);
  const stopAt = w.untilMs + settleMs;
  const all: DmsLogLine[] = [];
  const seen = new Map<string, number>();
  let scannedTo = opts.startMs;
  let scans = 0;
  for (;;) {
    if (w.signal?.aborted) throw abortError(w.signal);
    const t = now();
    const end = Math.min(t + 1, w.untilMs);
    const from = Math.max(opts.startMs, scannedTo - lagMs);
    if (end > from) {
      const lines = await port.scan({ ...opts, startMs: from, endMs: end, ...(w.signal !== undefined ? { signal: w.signal } : {}) });
      scans++;
      const fresh: DmsLogLine[] = [];
      const inScan = new Map<string, number>();
      for (const l of lines) {
        const k = lineKey(l);
        const n = (inScan.get(k) ?? 0) + 1;
        inScan.set(k, n);
        if (n > (seen.get(k) ?? 0)) {
          seen.set(k, n);
          fresh.push(l);
        }
      }
      scannedTo = Math.max(scannedTo, end);
      if (fresh.length > 0) {
        all.push(...fresh);
        all.sort((a, b) => a.timestamp - b.timestamp);
        await w.onLines?.(fresh);
        if (w.stopWhen?.(all, fresh)) return { lines: all, scans, stoppedEarly: true, endMs: scannedTo };
      }
    }
    if (end >= w.untilMs && t + 1 >= stopAt) return { lines: all, scans, stoppedEarly: false, endMs: scannedTo };
    await doSleep(Math.max(1, Math.min(pollMs, (end < w.untilMs ? w.untilMs : stopAt) - now())), w.signal);
  }
}
