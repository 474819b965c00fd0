/**
 * `npm run bench -- report`: the headline benches in one go, written to bench/results.json and printed as one table —
 * each number with its goal and the machine's load average beside it (the CPU is shared: a number without the load it
 * was measured under says little).
 *
 *  - ack-latency (BENCH_ACK_ROUNDS defaults to 50 here: p99 from ≥ 50 rounds) — ack p50 / p99, goal p99 ≤ 50 ms; run
 *    twice: as the machine is, then with BENCH_ACK_BURNERS busy processes added (default 2 × the CPUs; 0 skips it);
 *  - status-latency and demo-start, when those benches exist in bench/ (else the table says "not available");
 *  - read-unavailability, live-copy at BENCH_REPORT_ROWS (default 100,000 and 1,000,000; add 10000000 for the 10 M run,
 *    which takes many minutes): longest read gap (goal ≤ 1 s, within 2× from the smallest size to the largest), job /
 *    psql raw ratio (goal ≤ 1.15 at 1 M; BENCH_RU_RUNS alternates job and replay), worker peak RSS (goal ≤ 150 MB, flat)
 *    of the compiled worker process (node dist/main.js --role worker, VmHWM read from /proc) — for core_action as declared
 *    (updated_at) and declared `changeTracking: none` (BENCH_REPORT_TRACKING, default "updated_at,none": what a table
 *    without change tracking costs; no goal, its lock compares the whole tables).
 * Nothing is invented: a bench that fails or is missing leaves its rows "not available" with the reason.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ackLatency } from './ack-latency.js';
import { readUnavailability } from './read-unavailability.js';
import type { Bench, BenchResult } from './run.js';

const DIR = path.dirname(fileURLToPath(import.meta.url));

interface Row {
  what: string;
  value: string;
  goal: string;
  met: boolean | null;
  load: string;
  note?: string;
}

const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

/** A bench module another change adds (status-latency, demo-start): its exported Bench, or why there is none. */
async function optionalBench(file: string): Promise<Bench | string> {
  const p = path.join(DIR, file);
  if (!existsSync(p)) return `not available (bench/${file} is not in this tree)`;
  const mod = (await import(pathToFileURL(p).href)) as Record<string, unknown>;
  const b = Object.values(mod).find((v): v is Bench => typeof v === 'object' && v !== null && typeof (v as Bench).run === 'function');
  return b ?? `not available (bench/${file} exports no bench)`;
}

async function measure(b: Bench, print: (l: string) => void): Promise<{ result?: BenchResult; error?: string; load: string }> {
  print(`-- ${b.name}`);
  try {
    const result = (await b.run((l) => print(`   ${l}`))) ?? undefined;
    return { ...(result ? { result } : {}), load: load() };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e), load: load() };
  }
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export const report: Bench = {
  name: 'report',
  description: 'the headline benches → bench/results.json and one table with goals and load averages',
  async run(print) {
    const rows: Row[] = [];
    const raw: Record<string, unknown> = {};
    process.env.BENCH_ACK_ROUNDS ??= '50';

    // ack p99 twice: with whatever else runs on the machine (its load average beside it), then with CPU burners added
    // (BENCH_ACK_BURNERS busy processes, default 2 × the CPUs; 0 skips it) — the goal holds or not under load, and says which
    const burners = Number(process.env.BENCH_ACK_BURNERS ?? 2 * cpus().length);
    for (const loaded of burners > 0 ? [false, true] : [false]) {
      const procs: ChildProcess[] = loaded ? Array.from({ length: burners }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' })) : [];
      let ack: Awaited<ReturnType<typeof measure>>;
      try {
        if (loaded) await new Promise((r) => setTimeout(r, 5_000)); // let the load average feel them
        ack = await measure(ackLatency, print);
      } finally {
        for (const p of procs) p.kill('SIGKILL');
      }
      const tag = loaded ? ` + ${burners} CPU burners` : '';
      raw[`ack-latency${loaded ? '-loaded' : ''}`] = { ...ack, ...(loaded ? { burners } : {}) };
      const p50 = num(ack.result?.['p50Ms']);
      const p99 = num(ack.result?.['p99Ms']);
      const sp99 = num(ack.result?.['serverP99Ms']);
      if (p50 !== undefined && p99 !== undefined) {
        const rounds = num(ack.result?.['rounds']) ?? 0;
        rows.push({ what: `ack p50${tag}`, value: `${p50.toFixed(1)} ms`, goal: '—', met: null, load: ack.load });
        rows.push({
          what: `ack p99${tag} (${rounds} rounds × ${String(ack.result?.['concurrency'])})`,
          value: `${p99.toFixed(1)} ms`,
          goal: '≤ 50 ms, ≥ 50 rounds',
          met: p99 <= 50 && rounds >= 50,
          load: ack.load,
          ...(sp99 !== undefined ? { note: `server side (request in → response written) p99 ${sp99.toFixed(1)} ms` } : {}),
        });
      } else rows.push({ what: `ack p50/p99${tag}`, value: 'not available', goal: '≤ 50 ms', met: null, load: ack.load, note: ack.error ?? 'no numbers returned' });
    }

    for (const [file, label, goal] of [
      ['status-latency.ts', 'status latency', '≤ 1 s'],
      ['demo-start.ts', 'demo start (cold / warm)', '—'],
    ] as const) {
      const b = await optionalBench(file);
      if (typeof b === 'string') {
        rows.push({ what: label, value: 'not available', goal, met: null, load: load(), note: b });
        continue;
      }
      const m = await measure(b, print);
      raw[b.name] = m;
      const p95 = num(m.result?.['p95Ms']);
      if (label === 'status latency' && p95 !== undefined) {
        rows.push({ what: `status latency p95 (${String(m.result?.['rounds'])} rounds)`, value: `${p95.toFixed(0)} ms`, goal, met: p95 <= 1000, load: m.load });
        continue;
      }
      const cold = num(m.result?.['coldMs']);
      const warm = num(m.result?.['warmMedianMs']);
      if (label === 'demo start (cold / warm)' && cold !== undefined && warm !== undefined) {
        const value = `${(cold / 1000).toFixed(1)} s / ${(warm / 1000).toFixed(1)} s (warm median of ${String(m.result?.['warmRuns'])})`;
        rows.push({ what: label, value, goal: '≤ 15 s / ≤ 5 s', met: cold <= 15_000 && warm <= 5_000, load: m.load });
        continue;
      }
      rows.push({
        what: label,
        value: m.result ? JSON.stringify(m.result) : 'not available',
        goal,
        met: null,
        load: m.load,
        ...(m.error ? { note: m.error } : m.result ? {} : { note: 'the bench printed its numbers but returned none (see its output above)' }),
      });
    }

    process.env.BENCH_RU_ROWS = process.env.BENCH_REPORT_ROWS ?? process.env.BENCH_RU_ROWS ?? '100000,1000000';
    process.env.BENCH_RU_STRATEGIES ??= 'live-copy';
    // a table without change tracking too: what `none` costs (its lock compares the whole tables)
    process.env.BENCH_RU_TRACKING = process.env.BENCH_REPORT_TRACKING ?? process.env.BENCH_RU_TRACKING ?? 'updated_at,none';
    const ru = await measure(readUnavailability, print);
    raw['read-unavailability'] = ru;
    const runs = (ru.result?.['runs'] as Array<Record<string, unknown>> | undefined) ?? [];
    if (runs.length === 0) rows.push({ what: 'read-unavailability', value: 'not available', goal: '≤ 1 s', met: null, load: ru.load, note: ru.error ?? 'no runs' });
    for (const r of runs) {
      const size = Number(r['rows']).toLocaleString('en-US');
      const gap = num(r['longestGapMs']) ?? NaN;
      const none = r['tracking'] === 'none';
      const lockMs = num(r['underLockMs']);
      const label = `${String(r['strategy'])}${none ? ' (changeTracking none)' : ''}`;
      rows.push({
        what: `read gap ${label} ${size} rows`,
        value: `${gap} ms`,
        goal: none ? '— (the cost of none)' : '≤ 1,000 ms',
        met: none ? null : gap <= 1000,
        load: String(r['load1']),
        note: [lockMs !== undefined ? `${Math.round(lockMs)} ms holding the lock` : '', r['catchUp'] ? String(r['catchUp']) : ''].filter(Boolean).join('; '),
      });
      const ratio = num(r['rawRatio']);
      if (ratio !== undefined)
        rows.push({ what: `job / psql (raw) ${label} ${size} rows`, value: ratio.toFixed(3), goal: '≤ 1.15 at 1 M', met: Number(r['rows']) === 1_000_000 && !none ? ratio <= 1.15 : null, load: String(r['load1']), note: `job ${((num(r['jobMs']) ?? 0) / 1000).toFixed(1)} s (of which waits ${((num(r['waitsMs']) ?? 0) / 1000).toFixed(1)} s), psql ${((num(r['replayMs']) ?? 0) / 1000).toFixed(1)} s` });
      const proc = r['workerMode'] === 'process';
      rows.push({
        what: `worker peak RSS ${label} ${size} rows`,
        value: `${String(r['peakRssMb'])} MB`,
        goal: '≤ 150 MB, flat',
        met: Number(r['peakRssMb']) <= 150,
        load: String(r['load1']),
        note: proc ? `the compiled worker process (node dist/main.js --role worker), VmHWM from /proc; ${String(r['idleRssMb'])} MB once started` : 'this process: the in-process worker plus the bench harness',
      });
    }
    const live = runs.filter((r) => r['strategy'] === 'live-copy' && r['tracking'] !== 'none');
    if (new Set(live.map((r) => r['rows'])).size > 1) {
      // per size the median of its runs (BENCH_RU_RUNS > 1): the spread is about the size, not about one noisy run
      const median = (xs: number[]): number => {
        const v = [...xs].sort((a, b) => a - b);
        return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
      };
      const gaps = [...new Set(live.map((r) => Number(r['rows'])))].map((n) => median(live.filter((r) => Number(r['rows']) === n).map((r) => Number(r['longestGapMs']))));
      const spread = Math.max(...gaps) / Math.max(1, Math.min(...gaps));
      rows.push({ what: 'read gap spread (largest / smallest, updated_at)', value: `${spread.toFixed(2)}×`, goal: '≤ 2×', met: spread <= 2, load: ru.load });
      const rss = live.map((r) => Number(r['peakRssMb']));
      const rise = Math.max(...rss) - Math.min(...rss);
      rows.push({ what: 'worker peak RSS spread (largest − smallest)', value: `${rise} MB`, goal: 'flat (≤ 10 MB)', met: rise <= 10, load: ru.load });
    }

    const w = Math.max(...rows.map((r) => r.what.length));
    const v = Math.max(...rows.map((r) => r.value.length), 5);
    const g = Math.max(...rows.map((r) => r.goal.length), 4);
    print(`machine: ${cpus().length} CPUs, load average now ${load()}`);
    print(`${'measure'.padEnd(w)}  ${'value'.padEnd(v)}  ${'goal'.padEnd(g)}  met  load`);
    for (const r of rows) print(`${r.what.padEnd(w)}  ${r.value.padEnd(v)}  ${r.goal.padEnd(g)}  ${r.met === null ? ' - ' : r.met ? 'yes' : 'NO '}  ${r.load}${r.note ? `  (${r.note})` : ''}`);
    const file = path.join(DIR, 'results.json');
    await writeFile(file, `${JSON.stringify({ at: new Date().toISOString(), cpus: cpus().length, rows, raw }, null, 2)}\n`);
    print(`written: ${path.relative(process.cwd(), file)}`);
    return { rows };
  },
};
