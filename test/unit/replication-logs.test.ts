/**
 * Pure parts of the replication adapters: DMS log line parsing and grouping, watchLogs' windows and de-duplication
 * (fake port, fake clock), and the retry classification.
 */
import { describe, expect, it } from 'vitest';
import { watchLogs } from '../../src/replication/logs.js';
import { type DmsLogLine, type LogsPort, groupLogLines, parseDmsLogLine } from '../../src/replication/port.js';
import { dmsLogLine } from '../../src/sandbox/dms.js';

describe('parseDmsLogLine', () => {
  it('reads component, severity and text from a real DMS line (padded component, two spaces after the colon)', () => {
    const raw = "2024-05-01T10:11:12 [TARGET_APPLY    ]E:  RetCode: SQL_ERROR  SqlState: 42P01 NativeError: 30 Message: relation \"ak_sumofus.core_usermailing\" does not exist [1022502]  (ar_odbc_stmt.c:4815)";
    const l = parseDmsLogLine(raw, 1714558272000, 'dms-task-ABC');
    expect(l).toEqual({
      timestamp: 1714558272000,
      stream: 'dms-task-ABC',
      component: 'TARGET_APPLY',
      severity: 'E',
      text: 'RetCode: SQL_ERROR  SqlState: 42P01 NativeError: 30 Message: relation "ak_sumofus.core_usermailing" does not exist [1022502]  (ar_odbc_stmt.c:4815)',
      raw,
    });
  });

  it('reads warnings and info without a timestamp prefix, and what the sandbox writes', () => {
    expect(parseDmsLogLine('[SOURCE_CAPTURE  ]W:  Binlog position changed', 1, 's')).toMatchObject({ component: 'SOURCE_CAPTURE', severity: 'W', text: 'Binlog position changed' });
    expect(parseDmsLogLine(dmsLogLine(0, 'TASK_MANAGER', 'I', "Task 'X' running"), 2, 's')).toMatchObject({ component: 'TASK_MANAGER', severity: 'I', text: "Task 'X' running" });
  });

  it('keeps a line it cannot read as UNKNOWN / ? rather than dropping it', () => {
    expect(parseDmsLogLine('  something else entirely ', 5, 's')).toMatchObject({ component: 'UNKNOWN', severity: '?', text: 'something else entirely' });
  });
});

describe('groupLogLines', () => {
  it('groups ]E: and ]W: lines by component, most errors first, ignoring info lines', () => {
    const lines = [
      '[TARGET_APPLY    ]E:  a',
      '[SOURCE_CAPTURE  ]W:  b',
      '[TARGET_APPLY    ]W:  c',
      '[TASK_MANAGER    ]I:  d',
      '[TARGET_APPLY    ]E:  e',
      '[TARGET_LOAD     ]E:  f',
    ].map((raw, i) => parseDmsLogLine(raw, i, 's'));
    const g = groupLogLines(lines);
    expect(g.map((x) => [x.component, x.errors.length, x.warnings.length])).toEqual([
      ['TARGET_APPLY', 2, 1],
      ['TARGET_LOAD', 1, 0],
      ['SOURCE_CAPTURE', 0, 1],
    ]);
    expect(g[0]!.errors.map((l) => l.text)).toEqual(['a', 'e']);
    expect(groupLogLines([])).toEqual([]);
  });
});

/** A log in memory behind the LogsPort, with a clock the test moves. */
class FakeLog implements LogsPort {
  events: { timestamp: number; message: string; id: string }[] = [];
  scans: { startMs: number; endMs: number }[] = [];
  async scan(o: Parameters<LogsPort['scan']>[0]): Promise<DmsLogLine[]> {
    this.scans.push({ startMs: o.startMs, endMs: o.endMs });
    return this.events
      .filter((e) => e.timestamp >= o.startMs && e.timestamp < o.endMs && (o.pattern === undefined || e.message.includes(o.pattern.replace(/"/g, ''))))
      .map((e) => ({ ...parseDmsLogLine(e.message, e.timestamp, 'st'), eventId: e.id }));
  }
}

describe('watchLogs', () => {
  it('re-scans growing windows until the deadline, reports each line once, and picks up late-ingested lines inside the lag', async () => {
    const log = new FakeLog();
    let now = 1_000;
    const fresh: string[][] = [];
    let n = 0;
    const add = (ts: number, text: string): void => {
      log.events.push({ timestamp: ts, message: `[TARGET_APPLY    ]E:  ${text}`, id: String(++n) });
    };
    add(1_000, 'at start');
    const r = await watchLogs(
      log,
      { group: 'g', startMs: 1_000, pattern: '"]E:"' },
      {
        untilMs: 5_000,
        pollMs: 1_000,
        lagMs: 1_500,
        now: () => now,
        sleep: async (ms) => {
          now += ms;
          if (now === 2_000) add(1_900, 'second');
          if (now === 3_000) add(1_500, 'late: ingested after the scan passed its timestamp');
          if (now === 4_000) add(800, 'before the window: never');
        },
        onLines: (lines) => {
          fresh.push(lines.map((l) => l.text));
        },
      },
    );
    expect(fresh).toEqual([['at start'], ['second'], ['late: ingested after the scan passed its timestamp']]);
    expect(r.lines.map((l) => l.text)).toEqual(['at start', 'late: ingested after the scan passed its timestamp', 'second']);
    expect(r.stoppedEarly).toBe(false);
    expect(r.endMs).toBe(5_000);
    // the last window ends exactly at the deadline; every window starts at most lagMs before the previous end
    expect(log.scans.at(-1)!.endMs).toBe(5_000);
    expect(log.scans.every((s, i) => i === 0 || s.startMs >= log.scans[i - 1]!.endMs - 1_500)).toBe(true);
    expect(log.scans.every((s) => s.startMs >= 1_000)).toBe(true);
  });

  it('settleMs: keeps re-reading the window\'s last lagMs after the deadline, so a line stamped inside it and stored late is seen; ends at untilMs + settleMs', async () => {
    const log = new FakeLog();
    let now = 0;
    const r = await watchLogs(
      log,
      { group: 'g', startMs: 0, pattern: '"]E:"' },
      {
        untilMs: 1_000,
        pollMs: 250,
        lagMs: 2_000,
        settleMs: 2_000,
        now: () => now,
        sleep: async (ms) => {
          now += ms;
          // stamped at 900 (inside the window), stored at 2 000: after the window was searched to its end
          if (now === 2_000) log.events.push({ timestamp: 900, message: '[TARGET_APPLY    ]E:  late', id: 'late' });
        },
      },
    );
    expect(r.lines.map((l) => l.text)).toEqual(['late']);
    expect(now).toBe(3_000);
    expect(log.scans.every((s) => s.endMs <= 1_000 && s.startMs >= 0)).toBe(true);
    // without settleMs the same watch ends at the deadline and misses it
    const log2 = new FakeLog();
    let now2 = 0;
    const r2 = await watchLogs(log2, { group: 'g', startMs: 0 }, {
      untilMs: 1_000,
      pollMs: 250,
      lagMs: 2_000,
      now: () => now2,
      sleep: async (ms) => {
        now2 += ms;
        if (now2 === 2_000) log2.events.push({ timestamp: 900, message: '[TARGET_APPLY    ]E:  late', id: 'late' });
      },
    });
    expect(r2.lines).toEqual([]);
    expect(now2).toBeLessThanOrEqual(1_000);
  });

  it('counts identical lines without event ids (same stream, time and text) instead of collapsing them', async () => {
    const port: LogsPort = {
      scan: async () => [parseDmsLogLine('[TARGET_APPLY    ]E:  same', 10, 's'), parseDmsLogLine('[TARGET_APPLY    ]E:  same', 10, 's')],
    };
    let now = 0;
    const r = await watchLogs(port, { group: 'g', startMs: 0 }, { untilMs: 30, pollMs: 10, now: () => now, sleep: async (ms) => void (now += ms) });
    expect(r.lines).toHaveLength(2);
    expect(r.scans).toBeGreaterThan(1);
  });

  it('stops early when stopWhen says so, and rejects when aborted', async () => {
    const log = new FakeLog();
    log.events.push({ timestamp: 5, message: '[TARGET_APPLY    ]E:  boom', id: 'x' });
    let now = 0;
    const r = await watchLogs(log, { group: 'g', startMs: 0 }, { untilMs: 1_000_000, pollMs: 10, now: () => now, sleep: async (ms) => void (now += ms), stopWhen: (all) => all.some((l) => l.severity === 'E') });
    expect(r.stoppedEarly).toBe(true);
    expect(r.lines).toHaveLength(1);

    const ac = new AbortController();
    const p = watchLogs(new FakeLog(), { group: 'g', startMs: Date.now() }, { untilMs: Date.now() + 60_000, pollMs: 5_000, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('job cancelled')), 20);
    await expect(p).rejects.toThrow('job cancelled');
  });
});
