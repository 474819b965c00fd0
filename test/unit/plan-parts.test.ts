/**
 * planParts: a plan longer than one Slack message goes out in numbered parts, split between lines, each code block
 * under the limit once escaped, and nothing is lost; a plan that fits is one reply, unchanged.
 */
import { describe, expect, it } from 'vitest';
import { formatPlan, planParts } from '../../src/bot/replies.js';

describe('planParts', () => {
  it('one reply when the plan fits', () => {
    const plan = formatPlan('setup --dry-run', [{ index: 0, name: 'a', title: 'Create a', actions: [{ kind: 'sql', text: 'CREATE TABLE "a" (x int)' }] }]);
    expect(planParts(plan)).toEqual([plan]);
  });

  it('parts under the limit, split between lines, every line kept in order (escaping counted)', () => {
    const steps = Array.from({ length: 120 }, (_, i) => ({ index: i, name: `s${i}`, title: `Create t${i}`, actions: [{ kind: 'sql' as const, text: `CREATE TABLE "t${i}" (\n  a varchar(10) DEFAULT '<&>'\n)` }] }));
    const plan = formatPlan('setup --dry-run', steps);
    const parts = planParts(plan, 2_000);
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts) {
      expect(p.slackText!.length).toBeLessThanOrEqual(2_000);
      expect(p.slackText!.startsWith('```') && p.slackText!.endsWith('```')).toBe(true);
    }
    expect(parts[0]!.text).toMatch(/\(part 1 of \d+; continued in the next message\)$/);
    expect(parts[1]!.text).toMatch(/^\(part 2 of \d+, continued\)\n/);
    const rejoined = parts
      .map((p) => p.text.split('\n').filter((l) => !/^\(part \d+ of \d+[;,] continued/.test(l)).join('\n'))
      .join('\n');
    expect(rejoined).toBe(plan.text);
  });
});
