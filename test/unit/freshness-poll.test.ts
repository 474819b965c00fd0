import { describe, expect, it } from 'vitest';
import { freshnessPollMs } from '../../src/jobs/waits.js';

describe('freshnessPollMs', () => {
  it('looks quickly first (250 ms, doubling), then at a twentieth of the window, capped at 15 s', () => {
    const tenMinutes = 600_000;
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((n) => freshnessPollMs(tenMinutes, n))).toEqual([250, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000]);
    expect(freshnessPollMs(60_000, 0)).toBe(250);
    expect(freshnessPollMs(60_000, 10)).toBe(3_000);
    expect(freshnessPollMs(2_000, 5)).toBe(250);
  });

  it('without a look count: the settled interval (what a caller that keeps no count gets)', () => {
    expect(freshnessPollMs(600_000)).toBe(15_000);
    expect(freshnessPollMs(60_000)).toBe(3_000);
    expect(freshnessPollMs(1_000)).toBe(250);
  });
});
