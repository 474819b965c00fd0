/**
 * slash-load: 200 slash commands in 10 s through the real Bolt HTTP receiver (issue 10 item 2). Goal: every one acked in
 * under 3 s (Slack's limit) and none lost — each gets its answer at its response_url.
 *
 * Starts the whole bot in this process (startBotHarness: Bolt HTTP receiver, replay guard and job store on real Redis,
 * BullMQ with an in-process worker, the Data API sandbox on PostgreSQL with the 26 tables) and sends BENCH_SLASH_COUNT
 * (default 200) signed commands evenly over BENCH_SLASH_SECONDS (default 10) — a mix of `help`, `jobs` and `status`
 * (status runs the catalog queries of all 26 tables and answers in its channel) — without waiting for one to finish before the next is sent.
 * The load generator shares this process's event loop, so the ack times are pessimistic (ack-latency measures them
 * from a child process). Printed: ack p50/p95/p99/max, acks ≥ 3 s, answers received and how long they took. Nothing
 * here asserts: benchmarks measure.
 */
import { type BotHarness, startBotHarness, USERS } from '../test/support/bot-harness.js';
import type { Bench } from './run.js';

function positiveInt(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer (got "${raw}")`);
  return n;
}

/** Nearest-rank percentile of an ascending list. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function summary(label: string, samples: readonly number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const f = (n: number) => `${n.toFixed(1).padStart(7)} ms`;
  return `${label.padEnd(28)} n=${String(s.length).padStart(3)}  p50 ${f(percentile(s, 50))}  p95 ${f(percentile(s, 95))}  p99 ${f(percentile(s, 99))}  max ${f(s[s.length - 1] ?? NaN)}`;
}

const MIX = ['help', 'jobs', 'status'] as const;

export const slashLoad: Bench = {
  name: 'slash-load',
  description: '200 signed slash commands in 10 s through the Bolt HTTP receiver: every ack < 3 s, none lost',
  async run(print) {
    const count = positiveInt('BENCH_SLASH_COUNT', 200);
    const seconds = positiveInt('BENCH_SLASH_SECONDS', 10);
    let h: BotHarness | undefined;
    try {
      h = await startBotHarness({ name: 'slashload', inProcessWorker: { concurrency: 2 }, rowsPerTable: 5 });
      const bot = h;
      const gapMs = (seconds * 1000) / count;
      const started = performance.now();
      const sent: Array<Promise<{ ack: number; status: number; responseId: string; sentAt: number; channelId: string; text: string }>> = [];
      for (let i = 0; i < count; i++) {
        const due = started + i * gapMs;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const text = MIX[i % MIX.length]!;
        const sentAt = Date.now();
        // a channel of its own per command: `status` answers in the channel (chat.postMessage), the others at response_url
        const channelId = `C0LOAD${String(i).padStart(4, '0')}`;
        sent.push(
          bot.slash(text, { userId: i % 2 === 0 ? USERS.operator : USERS.lead, channelId }).then((p) => ({ ack: p.ms, status: p.status, responseId: p.responseId, sentAt, channelId, text })),
        );
      }
      const sendSeconds = (performance.now() - started) / 1000;
      const acks = await Promise.all(sent);
      const answers = await Promise.all(
        acks.map(async (a) => {
          try {
            const c =
              a.text === 'status'
                ? await bot.fake.waitFor((x) => x.method === 'chat.postMessage' && x.body.channel === a.channelId && String(x.body.text).startsWith('Status of'), 60_000)
                : await bot.waitForResponse(a.responseId, undefined, 60_000);
            return c.at - a.sentAt;
          } catch {
            return undefined;
          }
        }),
      );
      const answered = answers.filter((x): x is number => x !== undefined);
      print(`${count} commands (${MIX.join(' / ')}) sent in ${sendSeconds.toFixed(1)} s`);
      print(summary('ack (HTTP response)', acks.map((a) => a.ack)));
      print(`acks ≥ 3 s: ${acks.filter((a) => a.ack >= 3_000).length}; non-200: ${acks.filter((a) => a.status !== 200).length}`);
      print(summary('answer (response_url / channel)', answered));
      print(`answered: ${answered.length}/${count}; lost (no answer within 60 s): ${count - answered.length}`);
    } finally {
      await h?.close();
    }
  },
};
