/**
 * CloudWatch facts: the `]E:` / `]W:` lines of each DMS task's log group in a window (default the last hour), counted
 * by severity with the newest lines kept. One FilterLogEvents scan per group (`?"]E:" ?"]W:"`), in parallel.
 */
import type { DmsLogLine, LogsPort } from '../replication/port.js';
import { gather, type Fact } from './fact.js';

export interface LogFacts {
  group: string;
  startMs: number;
  endMs: number;
  errors: number;
  warnings: number;
  /** newest first, at most `keep` */
  newest: DmsLogLine[];
  /** the newest `]E:` line's timestamp */
  lastErrorAt?: number;
}

export const LOG_PATTERN = '?"]E:" ?"]W:"';

export async function gatherLogs(
  logs: LogsPort | undefined,
  groups: ReadonlyArray<{ group: string; streams?: string[] }>,
  window: { startMs: number; endMs: number },
  keep = 5,
): Promise<Array<{ group: string; facts: Fact<LogFacts> }>> {
  return Promise.all(
    groups.map(async (g) => {
      if (!logs) return { group: g.group, facts: { ok: false as const, why: 'no CloudWatch Logs client is configured (AWS region/credentials)' } };
      const facts = await gather(`FilterLogEvents ${g.group}`, async () => {
        const lines = await logs.scan({ group: g.group, ...(g.streams ? { streams: g.streams } : {}), startMs: window.startMs, endMs: window.endMs, pattern: LOG_PATTERN });
        const ew = lines.filter((l) => l.severity === 'E' || l.severity === 'W').sort((a, b) => b.timestamp - a.timestamp);
        const errors = ew.filter((l) => l.severity === 'E');
        const out: LogFacts = {
          group: g.group,
          startMs: window.startMs,
          endMs: window.endMs,
          errors: errors.length,
          warnings: ew.length - errors.length,
          newest: ew.slice(0, keep),
        };
        if (errors[0] !== undefined) out.lastErrorAt = errors[0].timestamp;
        return out;
      });
      return { group: g.group, facts };
    }),
  );
}
