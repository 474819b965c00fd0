/**
 * Helpers of the steps that wait for the world without holding a worker (runbook.ts `waitUntil`): how often they look,
 * what they say while waiting, and the log watch's state kept in the job's handles between two looks.
 */
import { z } from 'zod';
import { type WatchState, newWatchState } from '../replication/watch-logs.js';

/**
 * How long a freshness look parks the job. The first looks come quickly (250 ms, doubling each look) because a live
 * table is usually written again within a second of its swap, and every look the job sleeps past that is job time;
 * the interval then settles at a twentieth of the window, between 250 ms and 15 s. `look` counts the looks so far.
 */
export function freshnessPollMs(freshnessMs: number, look = Number.POSITIVE_INFINITY): number {
  const cap = Math.min(15_000, Math.max(250, Math.round(freshnessMs / 20)));
  return Math.min(cap, 250 * 2 ** Math.min(look, 16));
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19) + ' UTC';
}

export function freshnessNote(table: string, deadline: number): string {
  return `waiting for replication to write ${table} again (until ${clock(deadline)}; no worker is held — cancel acts at once)`;
}

export function logCheckNote(group: string, endMs: number): string {
  return `watching the DMS log ${group} for ]E:/]W: lines (until ${clock(endMs)}; no worker is held — cancel acts at once)`;
}

export function vacuumBusyNote(): string {
  return 'another VACUUM is running on the cluster (Redshift runs one at a time): waiting, then trying again (no worker is held)';
}

const logLine = z.object({
  timestamp: z.number(),
  stream: z.string(),
  component: z.string(),
  severity: z.enum(['E', 'W', 'I', 'D', 'T', '?']),
  text: z.string(),
  raw: z.string(),
  eventId: z.string().optional(),
});

const watchState = z.object({
  scannedTo: z.number(),
  scans: z.number().int().nonnegative(),
  seen: z.record(z.string(), z.number().int().positive()),
  lines: z.array(logLine),
});

/** The log watch's state from the job's handle (a new watch from `startMs` when there is none yet). */
export function readWatchState(json: string | undefined, startMs: number): WatchState {
  if (json === undefined) return newWatchState(startMs);
  const parsed = watchState.safeParse(JSON.parse(json));
  if (!parsed.success) throw new Error(`the log check's saved state in the job record is unreadable (${parsed.error.issues[0]?.message ?? 'bad shape'})`);
  const s = parsed.data;
  return { scannedTo: s.scannedTo, scans: s.scans, seen: s.seen, lines: s.lines.map((l) => ({ ...l, ...(l.eventId !== undefined ? { eventId: l.eventId } : {}) })) };
}
