/**
 * The DMS and CloudWatch Logs SDK clients are loaded only where used: nothing `src/main.ts` imports statically reaches
 * their packages (they come in through `import()` in src/replication/lazy.ts on the first DMS/Logs call). The static
 * import graph is walked the way Node loads it under `verbatimModuleSyntax`: every `import … from` except `import type`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');
const LAZY = ['@aws-sdk/client-database-migration-service', '@aws-sdk/client-cloudwatch-logs'];
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:[^;'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

/** every module statically reachable from `entry`: relative files and bare package names, each with who imported it */
function staticGraph(entry: string): Map<string, string> {
  const seen = new Map<string, string>([[entry, '(entry)']]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(STATIC_IMPORT)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) {
        const ts = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
        if (!existsSync(ts)) throw new Error(`${file}: cannot resolve ${spec}`);
        if (!seen.has(ts)) {
          seen.set(ts, file);
          queue.push(ts);
        }
      } else if (!seen.has(spec)) seen.set(spec, path.relative(SRC, file));
    }
  }
  return seen;
}

describe('lazy AWS clients', () => {
  it('src/main.ts does not load the DMS or CloudWatch Logs SDK at start-up', () => {
    const graph = staticGraph(path.join(SRC, 'main.ts'));
    expect(graph.size).toBeGreaterThan(40); // the walk found the bot (guards the walk itself)
    expect(graph.has('@aws-sdk/client-redshift-data')).toBe(true); // the warehouse client is needed at once
    const loaded = LAZY.filter((p) => graph.has(p)).map((p) => `${p} (imported by ${graph.get(p)})`);
    expect(loaded).toEqual([]);
  });

  it('the lazy ports load them on first use', () => {
    const lazy = readFileSync(path.join(SRC, 'replication/lazy.ts'), 'utf8');
    expect(lazy).toMatch(/await import\('\.\/dms\.js'\)/);
    expect(lazy).toMatch(/await import\('\.\/logs\.js'\)/);
  });
});
