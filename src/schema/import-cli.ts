/**
 * `schema import <file.sql> [--strip-prefix new_] [--schema <name>] [--default-schema <name>] [--out <dir>]`
 *
 * Reads a .sql file (CREATE TABLE statements among other statements and comments), writes one schemas/ file per table
 * (registry.ts's writer, so the files are exactly what loadRegistry reads), and reports what it wrote, what it skipped
 * and every problem as `file:line:col: message`. Exit code: 0 when every statement was read, 1 when any could not be
 * (the tables that could be read are still written), 2 for a usage error or a file that cannot be opened.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeTableFile, RegistryError } from './registry.js';
import { formatProblem, importDdl, type ImportOptions } from './import.js';

export interface ImportCommandIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /** folder relative paths are resolved against (default: process.cwd()) */
  cwd?: string;
}

export const IMPORT_USAGE = `usage: schema import <file.sql> [--strip-prefix <prefix>] [--schema <name>] [--default-schema <name>] [--out <dir>]
  --strip-prefix <p>     drop <p> from table names (new_core_action -> core_action), referenced tables included
  --schema <name>        put every imported table in this schema, whatever the file says
  --default-schema <n>   schema of tables the file names without one (default ak_sumofus)
  --out <dir>            the schemas/ folder to write into (default: schemas/ in the current folder)`;

interface Args {
  file: string;
  stripPrefix?: string;
  schema?: string;
  defaultSchema?: string;
  out?: string;
}

const FLAGS = { '--strip-prefix': 'stripPrefix', '--schema': 'schema', '--default-schema': 'defaultSchema', '--out': 'out' } as const;
type Flag = keyof typeof FLAGS;
const isFlag = (s: string): s is Flag => Object.prototype.hasOwnProperty.call(FLAGS, s);

function parseArgs(args: readonly string[]): { ok: true; args: Args } | { ok: false; error: string } {
  const files: string[] = [];
  const vals: Partial<Record<(typeof FLAGS)[Flag], string>> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--help' || a === '-h') return { ok: false, error: '' };
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const flag = eq >= 0 ? a.slice(0, eq) : a;
      if (!isFlag(flag)) return { ok: false, error: `unknown option ${flag}` };
      let value: string | undefined;
      if (eq >= 0) value = a.slice(eq + 1);
      else {
        value = args[i + 1];
        i++;
      }
      if (value === undefined || value === '' || value.startsWith('--')) return { ok: false, error: `${flag} needs a value` };
      const key = FLAGS[flag];
      if (vals[key] !== undefined) return { ok: false, error: `${flag} given twice` };
      vals[key] = value;
      continue;
    }
    files.push(a);
  }
  if (files.length === 0) return { ok: false, error: 'name the .sql file to import' };
  if (files.length > 1) return { ok: false, error: `one file at a time (got ${files.join(', ')})` };
  return { ok: true, args: { file: files[0]!, ...vals } };
}

/** Run `schema import …` (args are the words after `schema import`). Resolves to the exit code. */
export async function runImportCommand(args: string[], io: ImportCommandIo): Promise<number> {
  const parsed = parseArgs(args);
  if (!parsed.ok) {
    if (parsed.error !== '') io.err(`schema import: ${parsed.error}`);
    io.err(IMPORT_USAGE);
    return parsed.error === '' ? 0 : 2;
  }
  const a = parsed.args;
  const cwd = io.cwd ?? process.cwd();
  const fileAbs = path.resolve(cwd, a.file);
  const outDir = path.resolve(cwd, a.out ?? 'schemas');

  let text: string;
  try {
    text = await readFile(fileAbs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    io.err(`schema import: cannot read ${a.file}${code === 'ENOENT' ? ': no such file' : `: ${(e as Error).message}`}`);
    return 2;
  }

  const opts: ImportOptions = { file: a.file };
  if (a.stripPrefix !== undefined) opts.stripPrefix = a.stripPrefix;
  if (a.schema !== undefined) opts.schemaOverride = a.schema;
  if (a.defaultSchema !== undefined) opts.defaultSchema = a.defaultSchema;
  const result = importDdl(text, opts);

  /** relative to cwd when inside it, else absolute */
  const show = (abs: string): string => {
    const rel = path.relative(cwd, abs);
    return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
  };
  let failed = result.problems.length > 0;
  let written = 0;
  for (const t of result.tables) {
    const rel = show(path.join(outDir, t.schema, `${t.name}.yml`));
    const existed = existsSync(path.join(outDir, t.schema, `${t.name}.yml`)) || existsSync(path.join(outDir, t.schema, `${t.name}.yaml`));
    try {
      const file = await writeTableFile(outDir, t);
      written++;
      io.out(`${existed ? 'replaced' : 'wrote'} ${show(file)}  (${t.schema}.${t.name}: ${t.columns.length} column${t.columns.length === 1 ? '' : 's'})`);
    } catch (e) {
      failed = true;
      const detail = e instanceof RegistryError ? e.problems.map((p) => `${p.field}: ${p.reason}`).join('; ') : (e as Error).message;
      io.err(`${a.file}: could not write ${rel}: ${detail}`);
    }
  }
  for (const s of result.skipped) io.out(`skipped ${s.kind} at ${s.file}:${s.line}`);
  for (const p of result.problems) io.err(formatProblem(p));

  const n = (k: number, what: string): string => `${k} ${what}${k === 1 ? '' : 's'}`;
  io.out(
    `${a.file}: ${n(written, 'table')} written to ${show(outDir)}, ${n(result.skipped.length, 'statement')} skipped, ${n(result.problems.length, 'problem')}`,
  );
  return failed ? 1 : 0;
}
