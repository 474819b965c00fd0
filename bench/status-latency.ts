/**
 * status-latency: how long `/redshift status` takes for the 26 tables (goal ≤ 1 s), end to end over signed Slack HTTP:
 * from sending the slash command to the status message reaching (fake) Slack, with the health facts gathered from the
 * Data API sandbox on PostgreSQL (catalog + freshness in one round of concurrent statements), DMS and CloudWatch
 * (sandbox, real SDK clients) and Redis in parallel. Also printed: the gathering alone, as the message's footer states.
 * BENCH_STATUS_ROUNDS (default 10) sequential commands after one warm-up. Nothing here asserts: benchmarks measure.
 */
import { startBotHarness, USERS, SCHEMA } from '../test/support/bot-harness.js';
import type { Bench } from './run.js';

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
};
const fmt = (xs: number[]): string => `p50 ${pct(xs, 50).toFixed(0)} · p95 ${pct(xs, 95).toFixed(0)} · max ${Math.max(...xs).toFixed(0)}`;

export const statusLatency: Bench = {
  name: 'status-latency',
  description: '`/redshift status` for 26 tables over signed HTTP, send → message in Slack (goal ≤ 1 s)',
  async run(print) {
    const rounds = Number(process.env.BENCH_STATUS_ROUNDS ?? 10);
    const h = await startBotHarness({ name: 'statusbench', rowsPerTable: 20, aws: true });
    try {
      h.sandbox.dms.seedTask({ identifier: 'flydata-core-usermailing', replicationInstance: 'core-usermailing-replication', status: 'running', tables: [{ schema: SCHEMA, table: 'core_usermailing', fullLoadRows: 20 }] });
      const total: number[] = [];
      const gathered: number[] = [];
      for (let i = 0; i <= rounds; i++) {
        const before = h.fake.callsTo('chat.postMessage').length;
        const t0 = performance.now();
        await h.slash('status', { userId: USERS.stranger });
        await h.waitUntil(() => h.fake.callsTo('chat.postMessage').length > before, 'the status message', 30_000);
        const ms = performance.now() - t0;
        const text = String(h.fake.callsTo('chat.postMessage')[before]?.body.text ?? '');
        const g = /gathered in (\d+) ms/.exec(text)?.[1];
        if (i === 0) {
          print(`warm-up: ${ms.toFixed(0)} ms (${text.split('\n')[0]})`);
          continue;
        }
        total.push(ms);
        if (g !== undefined) gathered.push(Number(g));
      }
      print(`tables: ${h.registry.names().length}, rounds: ${rounds}`);
      print(`send → status in Slack (ms): ${fmt(total)}`);
      print(`gathering the health facts (ms): ${fmt(gathered)}`);
      print(`goal ≤ 1000 ms: ${pct(total, 95) <= 1000 ? 'met at p95' : 'NOT met at p95'}`);
      return { rounds, p50Ms: pct(total, 50), p95Ms: pct(total, 95), maxMs: Math.max(...total) };
    } finally {
      await h.close();
    }
  },
};
