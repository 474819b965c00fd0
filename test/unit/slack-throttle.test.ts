import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UpdateThrottle } from '../../src/slack/reporter.js';

describe('UpdateThrottle (virtual clock)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends at most one update per interval per channel, keeps only the latest state per message, and delivers it', async () => {
    const sent: Array<{ channel: string; ts: string; text: string; at: number }> = [];
    const t = new UpdateThrottle(
      async (channel, ts, m) => {
        sent.push({ channel, ts, text: m.text, at: Date.now() });
      },
      1_000,
      () => Date.now(),
      pino({ level: 'silent' }),
    );
    const start = Date.now();
    const done: Promise<void>[] = [];
    for (let i = 1; i <= 30; i += 1) done.push(t.schedule('C1', 'A', () => ({ text: `A${i}`, blocks: [] })));
    for (let i = 1; i <= 5; i += 1) done.push(t.schedule('C1', 'B', () => ({ text: `B${i}`, blocks: [] })));
    done.push(t.schedule('C2', 'X', () => ({ text: 'X1', blocks: [] })));

    await vi.advanceTimersByTimeAsync(10_000);
    await Promise.all(done); // every caller learns its state (or a newer one) went out

    const c1 = sent.filter((s) => s.channel === 'C1');
    expect(c1.map((s) => s.text)).toEqual(['A1', 'A30', 'B5']);
    expect(c1.map((s) => s.at - start)).toEqual([0, 1_000, 2_000]);
    // another channel is not held back by C1
    expect(sent.find((s) => s.channel === 'C2')).toMatchObject({ text: 'X1', at: start });
  });

  it('a failed send is logged, not thrown, and the next state still goes out', async () => {
    let fail = true;
    const sent: string[] = [];
    const t = new UpdateThrottle(
      async (_c, _ts, m) => {
        if (fail) {
          fail = false;
          throw new Error('message_not_found');
        }
        sent.push(m.text);
      },
      100,
      () => Date.now(),
      pino({ level: 'silent' }),
    );
    const first = t.schedule('C1', 'A', () => ({ text: 'one', blocks: [] }));
    const second = t.schedule('C1', 'A', () => ({ text: 'two', blocks: [] }));
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(first).resolves.toBeUndefined();
    await expect(second).resolves.toBeUndefined();
    expect(sent).toEqual(['two']);
  });
});
