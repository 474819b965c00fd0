/** The status message within Slack's limits when everything is wrong at once: sections ≤ 3000, code blocks closed. */
import { describe, expect, it } from 'vitest';
import { formatHealthStatus } from '../../src/bot/status-reply.js';
import { findProblems } from '../../src/health/problems.js';
import type { HealthSnapshot } from '../../src/health/index.js';
import { loadRegistry } from '../../src/schema/registry.js';
import { LIMITS } from '../../src/slack/blocks.js';

const registry = await loadRegistry('schemas');
const NOW = Date.parse('2026-11-27T12:00:00Z');

describe('formatHealthStatus', () => {
  it('26 problem tables and a long log line: every section fits and every code block is closed', () => {
    const names = registry.names();
    const long = `x`.repeat(5000);
    const s: HealthSnapshot = {
      at: NOW,
      schema: 'ak_sumofus',
      ms: 5,
      catalog: {
        schema: 'ak_sumofus',
        stats: { ok: true, value: names.map((t) => ({ schema: 'ak_sumofus', table: t, rows: 1e9, sizeMb: 123456, distStyle: 'KEY(id)', unsorted: 55, statsOff: 40, skewRows: 9, listed: true })) },
        live: { ok: false, why: 'permission denied for relation pg_table_def' },
        freshness: { ok: true, value: new Map() },
        notMeasured: [],
      },
      dms: [],
      logs: [{ group: 'g', facts: { ok: true, value: { group: 'g', startMs: NOW - 3_600_000, endMs: NOW + 1, errors: 1, warnings: 0, newest: [{ timestamp: NOW, stream: 's', component: 'TARGET_APPLY', severity: 'E', text: long, raw: long }] } } }],
      source: { configured: false, lagSeconds: 300, tables: [] },
      queue: { ok: true, value: { active: [], awaiting: [], locks: [], recent: [] } },
    };
    const problems = findProblems(s, registry);
    expect(problems.filter((p) => p.key.endsWith(':unsorted'))).toHaveLength(26);
    const r = formatHealthStatus(s, problems, registry);
    const blocks = r.blocks ?? [];
    expect(blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
    for (const b of blocks) {
      const text = (b as { text?: { text?: string } }).text?.text;
      if (text === undefined) continue;
      expect(text.length).toBeLessThanOrEqual(LIMITS.sectionText);
      expect((text.match(/```/g) ?? []).length % 2, text.slice(-200)).toBe(0);
    }
    // every problem table is in a code block of the table, none lost to truncation
    const texts = blocks.map((b) => (b as { text?: { text?: string } }).text?.text ?? '');
    const first = texts.findIndex((t) => t.startsWith('```table'));
    expect(first).toBeGreaterThan(0);
    const tableText = texts.slice(first).filter((t) => t.startsWith('```')).join('\n');
    for (const n of names) expect(tableText.split('\n').some((line) => line.replace(/^```/, '').startsWith(`${n} `)), n).toBe(true);

  });
});
