/**
 * `npm run bench` runs every benchmark; `npm run bench -- <name> [<name>…]` runs the named ones; `npm run bench -- --list`
 * lists them. A benchmark is a module exporting a `Bench` (name, what it measures, run): add it to BENCHES below.
 * Each prints its own numbers; nothing here asserts on time (benchmarks measure, tests prove).
 */
import { ackLatency } from './ack-latency.js';
import { compareRss } from './compare-rss.js';
import { demoStart } from './demo-start.js';
import { insertSelect } from './insert-select.js';
import { readUnavailability } from './read-unavailability.js';
import { report } from './report.js';
import { statusLatency } from './status-latency.js';
import { sandboxFullLoad } from './sandbox-full-load.js';
import { slashLoad } from './slash-load.js';

/** A bench's measured numbers, as JSON. */
export type BenchResult = { [key: string]: unknown };

export interface Bench {
  name: string;
  /** one line: what is measured and what the goal is */
  description: string;
  /** prints its numbers; may return them (the report collects them into bench/results.json) */
  run(print: (line: string) => void): Promise<BenchResult | void>;
}

export const BENCHES: readonly Bench[] = [insertSelect, ackLatency, slashLoad, readUnavailability, compareRss, statusLatency, sandboxFullLoad, demoStart, report];

async function main(argv: string[]): Promise<number> {
  // benches run against the loopback sandbox: the SDK's notice about Node 22 is noise in their output
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (argv.includes('--list') || argv.includes('--help') || argv.includes('-h')) {
    console.log('benchmarks (npm run bench -- <name>):');
    for (const b of BENCHES) console.log(`  ${b.name.padEnd(16)} ${b.description}`);
    return 0;
  }
  const unknown = argv.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
    return 2;
  }
  // the report runs the headline benches itself: `npm run bench` alone runs each bench once, not the report too
  const selected = argv.length > 0 ? BENCHES.filter((b) => argv.includes(b.name)) : BENCHES.filter((b) => b !== report);
  let failed = 0;
  for (const b of selected) {
    console.log(`== ${b.name}: ${b.description}`);
    const started = performance.now();
    try {
      await b.run((line) => console.log(`  ${line}`));
      console.log(`== ${b.name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    } catch (err) {
      failed++;
      console.error(`== ${b.name}: FAILED — ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
