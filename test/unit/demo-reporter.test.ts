import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DemoReporter, formatElapsed } from '../../src/console/demo-reporter.js';
import type { JobRecord } from '../../src/jobs/types.js';

function job(): JobRecord {
  return {
    id: '3',
    kind: 'fixture',
    requester: 'U1',
    commandText: 'modify t',
    summary: 'modify t',
    params: {},
    state: 'running',
    cursor: 1,
    steps: [
      { name: 'a', title: 'Read', state: 'done' },
      { name: 'copy', title: 'Copy the rows', state: 'running', startedAt: 1_000 },
    ],
    handles: {},
    approvals: [],
    origin: { kind: 'console' },
    createdAt: 0,
    updatedAt: 0,
  };
}

function sink() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  return { out, text: () => text };
}

describe('DemoReporter: the live timer of a running step', () => {
  it('on a terminal: one line rewritten in place with the elapsed time, cleared before the next job line', async () => {
    let now = 1_000;
    const s = sink();
    const r = new DemoReporter(s.out, { tty: true, now: () => now });
    const j = job();
    await r.stepStarted(j, j.steps[1]!);
    now = 13_400;
    r.tick();
    expect(r.timerText()).toBe('⏱ job 3 · 2/2 Copy the rows · 12 s');
    expect(s.text()).toContain('\r\x1b[K⏱ job 3 · 2/2 Copy the rows · 12 s');
    await r.stepFinished(j, { ...j.steps[1]!, state: 'done', finishedAt: now });
    expect(s.text().endsWith('\r\x1b[K[job 3] ✓ 2/2 Copy the rows (12.4 s)\n')).toBe(true);
    expect(r.timerText()).toBe('');
  });

  it("a waiting step's live figure rides on the timer line; it is never printed as a line of its own", async () => {
    let now = 1_000;
    const s = sink();
    const r = new DemoReporter(s.out, { tty: true, now: () => now });
    const j = job();
    await r.stepStarted(j, j.steps[1]!);
    const before = s.text();
    await r.waitProgress({ ...j, waiting: { step: 'copy', untilMs: 2_000, note: 'waiting', since: 1_000, progress: 'ak.t: FullLoadRows 1,200 · Full load' } });
    expect(s.text()).toBe(before);
    now = 4_000;
    expect(r.timerText()).toBe('⏱ job 3 · 2/2 Copy the rows · 3 s · ak.t: FullLoadRows 1,200 · Full load');
  });

  it('elsewhere: a plain "still running" line every plainEveryMs, none before', async () => {
    let now = 1_000;
    const s = sink();
    const r = new DemoReporter(s.out, { tty: false, plainEveryMs: 15_000, now: () => now });
    const j = job();
    await r.stepStarted(j, j.steps[1]!);
    now = 10_000;
    r.tick();
    expect(s.text()).not.toContain('still running');
    now = 76_000;
    r.tick();
    expect(s.text()).toContain('  … still running: ⏱ job 3 · 2/2 Copy the rows · 1 min 15 s\n');
    expect(formatElapsed(59_999)).toBe('59 s');
  });
});
