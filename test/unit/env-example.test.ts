/**
 * `.env.example` names every environment variable the code reads, and nothing the code does not read; README.md
 * documents each one. The variables are found by scanning src/ for the ways the code reads the environment
 * (`process.env.X`, `env.X`, `env['X']`, `get('X')`, the helpers that take a variable name, and in the configuration
 * modules every string literal shaped like a variable name, since some are read through a table of names).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** read by the AWS SDK itself (the code never names it), documented for the credentials it completes */
const READ_BY_THE_SDK = new Set(['AWS_SECRET_ACCESS_KEY']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

const READS: RegExp[] = [
  /\benv\.([A-Z][A-Z0-9_]+)\b(?!\s*(?:\?\?=|=(?!=)))/g, // process.env.X or env.X, read (not assigned)
  /\benv\[\s*['"]([A-Z][A-Z0-9_]+)['"]\s*\]/g,
  /\bget\(\s*['"]([A-Z][A-Z0-9_]+)['"]\s*\)/g,
  /\b(?:positiveInt|positiveIntFromEnv|parseBool|check)\([^)'"]*?['"]([A-Z][A-Z0-9_]+)['"]/g,
];

/** the configuration modules: there every string literal shaped like a variable name is one (some are read from tables) */
const CONFIG_MODULES = new Set(['src/config.ts', 'src/startup-config.ts', 'src/slack/config.ts', 'src/policy.ts']);
const NAME_LITERAL = /['"]([A-Z][A-Z0-9]*_[A-Z0-9_]+)['"]/g;

export function variablesReadBy(files: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    for (const re of [...READS, ...(CONFIG_MODULES.has(path.relative(ROOT, f)) ? [NAME_LITERAL] : [])]) {
      for (const m of text.matchAll(re)) {
        const name = m[1]!;
        const where = path.relative(ROOT, f);
        out.set(name, [...new Set([...(out.get(name) ?? []), where])]);
      }
    }
  }
  return out;
}

function envExampleNames(): string[] {
  const text = readFileSync(path.join(ROOT, '.env.example'), 'utf8');
  // `NAME=value` or a commented-out `# NAME=value` (optional settings keep their default until uncommented)
  return [...text.matchAll(/^(?:#\s*)?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
}

describe('.env.example', () => {
  const read = variablesReadBy(sourceFiles(path.join(ROOT, 'src')));

  it('the scan finds the variables the code is known to read (guards the scan itself)', () => {
    for (const v of ['REDSHIFT_CLUSTER_ID', 'AWS_ENDPOINT_URL', 'SLACK_BOT_TOKEN', 'OPERATORS', 'ALLOW_SELF_APPROVAL', 'WORKER_CONCURRENCY', 'REDIS_URL', 'FRESHNESS_MINUTES', 'SCHEMA_GIT_DIR', 'LOG_LEVEL'])
      expect([...read.keys()], v).toContain(v);
    expect(read.size).toBeGreaterThan(25);
  });

  it('names every variable the code reads', () => {
    const names = new Set(envExampleNames());
    const missing = [...read].filter(([v]) => !names.has(v)).map(([v, files]) => `${v} (read in ${files.join(', ')})`);
    expect(missing, 'add these to .env.example').toEqual([]);
  });

  it('names nothing the code does not read, and each variable once', () => {
    const names = envExampleNames();
    expect(names.filter((v) => !read.has(v) && !READ_BY_THE_SDK.has(v)), 'stale lines in .env.example').toEqual([]);
    expect(names.filter((v, i) => names.indexOf(v) !== i), 'listed twice').toEqual([]);
  });

  it('README.md documents every variable', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const undocumented = [...read.keys(), ...READ_BY_THE_SDK].filter((v) => !readme.includes(`\`${v}\``));
    expect(undocumented, 'document these in README.md').toEqual([]);
  });
});
