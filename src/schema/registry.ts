/**
 * The registry: schemas/ — the warehouse as code — loaded, validated and written back.
 *
 * Layout: `schemas/<schema>/<table>.yml` (or `.yaml`), one YAML file per table, holding a `tableDef` (model.ts). Folders
 * and files whose names start with `_` or `.` are skipped (room for replication settings, drafts). Every problem is a
 * value with the file, the line of the offending field, the field path and the reason; loadRegistry collects the
 * problems of ALL files (syntax, model, cross-table) before it throws, so one run shows everything to fix.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, isMap, isScalar, isSeq, parse as parseYaml, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { columnDef, foreignKeyDef, replicationDef, tableDef, tableKey, type ChangeTracking, type ForeignKeyDef, type TableDef } from './model.js';
import { suggest } from './types.js';

export interface Registry {
  /** absolute path of the schemas/ folder */
  dir: string;
  /** the schema a bare table name refers to: 'ak_sumofus' unless the registry holds exactly one other schema */
  defaultSchema: string;
  /** key `${schema}.${name}`; treat as read-only (structuredClone a TableDef before changing it) */
  tables: ReadonlyMap<string, TableDef>;
  /** key -> absolute file path */
  files: ReadonlyMap<string, string>;
  get(schema: string, name: string): TableDef | undefined;
  /** "name" in defaultSchema, or "schema.name"; exact match first, then case-insensitive */
  find(name: string): TableDef | undefined;
  /** plain table names of defaultSchema, sorted */
  names(): string[];
}

/** One thing wrong with a file: where (file, 1-based line), which field (dotted path, e.g. `columns.3.type`) and why. */
export interface RegistryProblem {
  file: string;
  line?: number;
  field: string;
  reason: string;
}

/** `file:line: field: reason` (or `file: field: reason` when no line is known). */
export function formatProblem(p: RegistryProblem): string {
  return `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.field}: ${p.reason}`;
}

export class RegistryError extends Error {
  readonly problems: RegistryProblem[];
  constructor(problems: RegistryProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'RegistryError';
    this.problems = problems;
  }
}

/** Foreign keys that reference each other in a loop: no creation/drop order exists. */
export class ForeignKeyCycleError extends Error {
  /** table keys along the cycle, first repeated at the end */
  readonly cycle: string[];
  constructor(cycle: string[]) {
    super(`foreign keys form a cycle: ${cycle.join(' -> ')}; no order puts every referenced table first`);
    this.name = 'ForeignKeyCycleError';
    this.cycle = cycle;
  }
}

export const DEFAULT_SCHEMA = 'ak_sumofus';
const TABLE_FILE = /\.ya?ml$/;

/** `<repo>/schemas`, the repo being the nearest folder above this module with a package.json. */
export function defaultSchemasDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'schemas');
    const up = path.dirname(dir);
    if (up === dir) return path.resolve('schemas');
    dir = up;
  }
}

/** The schema.table a foreign key points at (a missing `references.schema` means the table's own schema). */
export function referencedKey(t: TableDef, fk: ForeignKeyDef): string {
  return `${fk.references.schema ?? t.schema}.${fk.references.table}`;
}

// ---------------------------------------------------------------------------------------------------------------------
// Parsing one file

type Path = readonly PropertyKey[];

interface Parsed {
  table?: TableDef;
  problems: RegistryProblem[];
  /** line of the field at `path` (or of its deepest existing ancestor) */
  lineOf(path: Path): number | undefined;
  doc?: Document;
  lineCounter: LineCounter;
}

function parseInternal(file: string, text: string): Parsed {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const lineOf = (p: Path): number | undefined => locate(doc, lineCounter, RELATED[fieldName(p)] !== undefined && !hasPath(doc, p) ? RELATED[fieldName(p)]! : p);
  const problems: RegistryProblem[] = [];
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const first = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?\s*$/, '');
      const line = e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line;
      problems.push({ file, line, field: '(yaml)', reason: `invalid YAML: ${first}` });
    }
    return { problems: dedupe(problems), lineOf, doc, lineCounter };
  }
  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) {
    problems.push({ file, line: 1, field: '(root)', reason: 'the file is empty; a table file is a mapping with schema, name and columns' });
    return { problems, lineOf, doc, lineCounter };
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push({ file, line: lineOf([]) ?? 1, field: '(root)', reason: `expected a mapping with schema, name and columns, found ${describe(raw)}` });
    return { problems, lineOf, doc, lineCounter };
  }
  const r = tableDef.safeParse(raw);
  if (!r.success) {
    for (const issue of r.error.issues) problems.push(...issueProblems(file, issue, raw, lineOf));
    return { problems: sortProblems(dedupe(problems)), lineOf, doc, lineCounter };
  }
  return { table: r.data, problems, lineOf, doc, lineCounter };
}

/**
 * Parse and validate one table file. `file` is only used to label problems. Checks that need other files (foreign keys,
 * file/folder names) are loadRegistry's.
 */
export function parseTableFile(file: string, text: string): { table?: TableDef; problems: RegistryProblem[] } {
  const p = parseInternal(file, text);
  return p.table !== undefined ? { table: p.table, problems: p.problems } : { problems: p.problems };
}

/** A missing field is best shown at the field that asked for it (distStyle KEY asks for a distKey). */
const RELATED: Record<string, Path> = {
  distKey: ['distStyle'],
  'sortKey.columns': ['sortKey', 'style'],
};

function hasPath(doc: Document, p: Path): boolean {
  return doc.hasIn(p as unknown[]);
}

function locate(doc: Document, lc: LineCounter, p: Path): number | undefined {
  const lineAt = (n: unknown): number | undefined => {
    const range = (n as { range?: [number, number, number] } | null | undefined)?.range;
    return range ? lc.linePos(range[0]).line : undefined;
  };
  let node: unknown = doc.contents;
  let line = lineAt(node);
  for (const seg of p) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) break;
      line = lineAt(pair.key) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) break;
      line = lineAt(item) ?? line;
      node = item;
    } else break;
  }
  return line;
}

function valueAt(raw: unknown, p: Path): unknown {
  let v: unknown = raw;
  for (const seg of p) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  return `${typeof v} ${String(v)}`;
}

function fieldName(p: Path): string {
  return p.length === 0 ? '(root)' : p.map(String).join('.');
}

const keysOf = (shape: object): string[] => Object.keys(shape);
const SORT_KEY_FIELDS = keysOf(tableDef.shape.sortKey.unwrap().shape);
const REPLICATION_FIELDS: Record<string, string[]> = Object.fromEntries(
  replicationDef.options.map((o) => [o.shape.provider.value, keysOf(o.shape)]),
);

/** The fields a strict object at `p` allows, for "did you mean" on an unknown field. */
function allowedFields(p: Path, raw: unknown): string[] {
  const s = p.map((x) => (typeof x === 'number' ? '#' : String(x))).join('.');
  switch (s) {
    case '':
      return keysOf(tableDef.shape);
    case 'columns.#':
      return keysOf(columnDef.shape);
    case 'foreignKeys.#':
      return keysOf(foreignKeyDef.shape);
    case 'foreignKeys.#.references':
      return keysOf(foreignKeyDef.shape.references.shape);
    case 'sortKey':
      return SORT_KEY_FIELDS;
    case 'changeTracking':
      return ['updated_at', 'append_only'];
    case 'replication': {
      const provider = valueAt(raw, [...p, 'provider']);
      return REPLICATION_FIELDS[typeof provider === 'string' ? provider : ''] ?? [...new Set(Object.values(REPLICATION_FIELDS).flat())];
    }
    default:
      return [];
  }
}

function didYouMean(word: string, candidates: readonly string[]): string {
  const hint = suggest(word, candidates);
  return hint !== undefined && hint !== word ? ` — did you mean ${hint}?` : '';
}

function issueProblems(file: string, issue: z.core.$ZodIssue, raw: unknown, lineOf: (p: Path) => number | undefined): RegistryProblem[] {
  const p = issue.path;
  const at = (q: Path, reason: string): RegistryProblem => {
    const line = lineOf(q);
    return line !== undefined ? { file, line, field: fieldName(q), reason } : { file, field: fieldName(q), reason };
  };
  const value = valueAt(raw, p);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedFields(p, raw);
      return issue.keys.map((k) => {
        if (/^\s*\d+\s*\)$/.test(k))
          return at([...p, k], `unknown field "${k}" — in a { … } line a type with a comma must be quoted: type: "numeric(10,2)"`);
        const hint = didYouMean(k, allowed);
        const list = hint === '' && allowed.length > 0 ? ` (fields here: ${allowed.join(', ')})` : '';
        return at([...p, k], `unknown field "${k}"${hint}${list}`);
      });
    }
    case 'invalid_type': {
      if (value === undefined) return [at(p, 'required field is missing')];
      if (p[p.length - 1] === 'default') {
        if (value === null)
          return [at(p, 'YAML reads an unquoted null/NULL/~ as "no value": write default: "NULL" for a NULL default, or remove the line')];
        return [at(p, `a default is SQL text and must be a YAML string: write default: "${String(value)}"`)];
      }
      const expected = issue.expected === 'array' ? 'a list' : issue.expected === 'object' ? 'a mapping' : `a ${issue.expected}`;
      return [at(p, `expected ${expected}, found ${describe(value)}`)];
    }
    case 'invalid_value': {
      const options = issue.values.map(String);
      const hint = typeof value === 'string' ? didYouMean(value, options) : '';
      return [at(p, `${describe(value)} is not one of ${options.join(', ')}${hint}`)];
    }
    case 'invalid_union': {
      if (issue.discriminator !== undefined) {
        const q = p[p.length - 1] === issue.discriminator ? p : [...p, issue.discriminator];
        const v = valueAt(raw, q);
        if (v === undefined) return [at(q, 'required field is missing')];
        const options = ('options' in issue && issue.options ? issue.options : []).map(String);
        const hint = typeof v === 'string' ? didYouMean(v, options) : '';
        return [at(q, `${describe(v)} is not one of ${options.join(', ')}${hint}`)];
      }
      if (p.length === 1 && p[0] === 'changeTracking')
        return [at(p, `${describe(value)} is not a change tracking: write none, { updated_at: <timestamp column> } or { append_only: <integer id column> }`)];
      return [at(p, issue.message)];
    }
    case 'too_small':
      if (Number(issue.minimum) === 1) return [at(p, issue.origin === 'array' ? 'must list at least one item' : 'must not be empty')];
      return [at(p, `needs at least ${String(issue.minimum)}${issue.origin === 'array' ? ' items' : ''}`)];
    case 'too_big':
      return [at(p, `allows at most ${String(issue.maximum)}${issue.origin === 'array' ? ' items' : ''}`)];
    case 'invalid_format':
      return [at(p, `${describe(value)} is not valid: ${issue.message}`)];
    default:
      if (p[p.length - 1] === 'type' && typeof value === 'string' && /\(\s*\d+\s*$/.test(value))
        return [at(p, `${issue.message} — in a { … } line a type with a comma must be quoted: type: "${value},…)"`)];
      return [at(p, issue.message)];
  }
}

function dedupe(problems: RegistryProblem[]): RegistryProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = formatProblem(p);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function sortProblems(problems: RegistryProblem[]): RegistryProblem[] {
  return [...problems].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? 0) - (b.line ?? 0)));
}

// ---------------------------------------------------------------------------------------------------------------------
// Loading the folder

class LoadedRegistry implements Registry {
  constructor(
    readonly dir: string,
    readonly defaultSchema: string,
    readonly tables: ReadonlyMap<string, TableDef>,
    readonly files: ReadonlyMap<string, string>,
  ) {}

  get(schema: string, name: string): TableDef | undefined {
    const exact = this.tables.get(`${schema}.${name}`);
    if (exact) return exact;
    const want = `${schema}.${name}`.toLowerCase();
    for (const [k, t] of this.tables) if (k.toLowerCase() === want) return t;
    return undefined;
  }

  find(name: string): TableDef | undefined {
    const dot = name.indexOf('.');
    return dot < 0 ? this.get(this.defaultSchema, name) : this.get(name.slice(0, dot), name.slice(dot + 1));
  }

  names(): string[] {
    return [...this.tables.values()]
      .filter((t) => t.schema === this.defaultSchema)
      .map((t) => t.name)
      .sort();
  }
}

interface LoadedFile {
  abs: string;
  label: string;
  folder: string;
  base: string;
  parsed: Parsed;
}

/**
 * Load and check every table file under `dir` (default `<repo>/schemas`). Throws a RegistryError listing every problem
 * found in every file, sorted by file and line.
 */
export async function loadRegistry(dir?: string): Promise<Registry> {
  const root = path.resolve(dir ?? defaultSchemasDir());
  const labelOf = (abs: string): string => path.relative(path.dirname(root), abs) || abs;
  const problems: RegistryProblem[] = [];

  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (e) {
    throw new RegistryError([{ file: root, field: '(registry)', reason: `cannot read the schemas folder: ${(e as Error).message}` }]);
  }
  const loaded: LoadedFile[] = [];
  for (const ent of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (ent.name.startsWith('.') || ent.name.startsWith('_')) continue;
    const abs = path.join(root, ent.name);
    if (ent.isFile() && TABLE_FILE.test(ent.name)) {
      problems.push({ file: labelOf(abs), field: '(file)', reason: 'a table file belongs in the folder of its schema: <schema>/<table>.yml' });
      continue;
    }
    if (!ent.isDirectory()) continue;
    const files = (await readdir(abs, { withFileTypes: true }))
      .filter((f) => f.isFile() && TABLE_FILE.test(f.name) && !f.name.startsWith('.') && !f.name.startsWith('_'))
      .map((f) => f.name)
      .sort();
    for (const f of files) {
      const fileAbs = path.join(abs, f);
      const label = labelOf(fileAbs);
      const text = await readFile(fileAbs, 'utf8');
      const parsed = parseInternal(label, text);
      problems.push(...parsed.problems);
      loaded.push({ abs: fileAbs, label, folder: ent.name, base: f.replace(TABLE_FILE, ''), parsed });
    }
  }

  // Where each table is, by key; tables whose file did not parse are remembered by their file's name so a foreign key
  // to them is not reported as a second, misleading problem.
  const tables = new Map<string, TableDef>();
  const files = new Map<string, string>();
  const labels = new Map<string, string>();
  const broken = new Set<string>();
  const ok: LoadedFile[] = [];
  for (const lf of loaded) {
    const t = lf.parsed.table;
    if (t === undefined) {
      broken.add(`${lf.folder}.${lf.base}`);
      continue;
    }
    const at = (field: string, reason: string): RegistryProblem => {
      const line = lf.parsed.lineOf([field]);
      return line !== undefined ? { file: lf.label, line, field, reason } : { file: lf.label, field, reason };
    };
    if (t.schema !== lf.folder)
      problems.push(at('schema', `schema "${t.schema}" does not match the folder "${lf.folder}"; move the file to ${t.schema}/ or fix the schema`));
    if (t.name !== lf.base)
      problems.push(at('name', `table "${t.name}" is in a file named ${path.basename(lf.abs)}; the file must be named ${t.name}.yml`));
    const key = tableKey(t);
    const other = labels.get(key);
    if (other !== undefined) {
      problems.push(at('name', `table ${key} is already defined in ${other}`));
      continue;
    }
    tables.set(key, t);
    files.set(key, lf.abs);
    labels.set(key, lf.label);
    ok.push(lf);
  }

  for (const lf of ok) {
    const t = lf.parsed.table;
    if (t === undefined) continue;
    problems.push(...foreignKeyProblems(t, lf.label, lf.parsed.lineOf, tables, broken));
  }

  if (problems.length > 0) throw new RegistryError(sortProblems(dedupe(problems)));

  const schemas = new Set([...tables.values()].map((t) => t.schema));
  const only = schemas.size === 1 ? [...schemas][0] : undefined;
  const defaultSchema = schemas.has(DEFAULT_SCHEMA) || only === undefined ? DEFAULT_SCHEMA : only;
  const sortedTables = new Map([...tables.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  const sortedFiles = new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  return new LoadedRegistry(root, defaultSchema, sortedTables, sortedFiles);
}

function foreignKeyProblems(
  t: TableDef,
  file: string,
  lineOf: (p: Path) => number | undefined,
  tables: ReadonlyMap<string, TableDef>,
  broken: ReadonlySet<string>,
): RegistryProblem[] {
  const out: RegistryProblem[] = [];
  const at = (q: Path, reason: string): RegistryProblem => {
    const line = lineOf(q);
    return line !== undefined ? { file, line, field: fieldName(q), reason } : { file, field: fieldName(q), reason };
  };
  t.foreignKeys.forEach((fk, i) => {
    const key = referencedKey(t, fk);
    const target = key === tableKey(t) ? t : tables.get(key);
    if (target === undefined) {
      if (broken.has(key)) return;
      const schema = fk.references.schema ?? t.schema;
      const candidates = [...tables.values()].filter((x) => x.schema === schema).map((x) => x.name);
      const hasSchema = candidates.length > 0;
      out.push(
        at(
          ['foreignKeys', i, 'references', 'table'],
          `table ${key} is not in the registry${hasSchema ? didYouMean(fk.references.table, candidates) : ` (no tables in schema ${schema})`}`,
        ),
      );
      return;
    }
    const cols = target.columns.map((c) => c.name);
    fk.references.columns.forEach((c, j) => {
      if (!cols.includes(c))
        out.push(at(['foreignKeys', i, 'references', 'columns', j], `"${c}" is not a column of ${key}${didYouMean(c, cols)}`));
    });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// Writing

export interface TableYamlOptions {
  /** comment lines at the top of the file (without "# ") */
  header?: readonly string[];
  /** per column name: a comment written at the end of the column's line (without "# ") */
  columnComments?: ReadonlyMap<string, string>;
}

const YAML11_BOOL = /^(?:y|n|yes|no|on|off|true|false)$/i;
const PLAIN_SCALAR = /^[A-Za-z_][A-Za-z0-9_$ ().-]*$/;

/** A scalar for a flow or block context: plain when that reads back as the same string, else double-quoted. */
function scalar(s: string): string {
  if (PLAIN_SCALAR.test(s) && s.trim() === s && !/ {2}/.test(s) && !YAML11_BOOL.test(s)) {
    try {
      if (parseYaml(s) === s) return s;
    } catch {
      // fall through to quoting
    }
  }
  return JSON.stringify(s);
}

const list = (xs: readonly string[]): string => `[${xs.map(scalar).join(', ')}]`;

function defaultHeader(t: TableDef): string[] {
  return [
    `${t.schema}.${t.name} — one Redshift table of the warehouse as code (format: schemas/README.md).`,
    'redshift-ops rewrites this file after a job changes the table; end-of-line column comments are kept.',
  ];
}

/**
 * The file text for a table: stable field order, one column per line (flow mapping), keys and replication in block
 * style. Round-trips: parseTableFile(f, tableToYaml(t)).table deep-equals t.
 */
export function tableToYaml(t: TableDef, opts: TableYamlOptions = {}): string {
  const out: string[] = [];
  for (const h of opts.header ?? defaultHeader(t)) out.push(h === '' ? '#' : `# ${h}`);
  out.push(`schema: ${scalar(t.schema)}`, `name: ${scalar(t.name)}`, 'columns:');
  for (const c of t.columns) {
    const parts = [`name: ${scalar(c.name)}`, `type: ${scalar(c.type)}`];
    if (c.notNull) parts.push('notNull: true');
    if (c.default !== undefined) parts.push(`default: ${scalar(c.default)}`);
    if (c.encode !== undefined) parts.push(`encode: ${c.encode}`);
    const comment = opts.columnComments?.get(c.name);
    out.push(`  - { ${parts.join(', ')} }${comment ? `  # ${comment.replace(/[\r\n]+/g, ' ')}` : ''}`);
  }
  if (t.primaryKey !== undefined) out.push(`primaryKey: ${list(t.primaryKey)}`);
  if (t.unique.length > 0) {
    out.push('unique:');
    for (const u of t.unique) out.push(`  - ${list(u)}`);
  }
  if (t.foreignKeys.length > 0) {
    out.push('foreignKeys:');
    for (const fk of t.foreignKeys) {
      const r = fk.references;
      const ref = [...(r.schema !== undefined ? [`schema: ${scalar(r.schema)}`] : []), `table: ${scalar(r.table)}`, `columns: ${list(r.columns)}`];
      out.push(`  - { columns: ${list(fk.columns)}, references: { ${ref.join(', ')} } }`);
    }
  }
  out.push(`distStyle: ${t.distStyle}`);
  if (t.distKey !== undefined) out.push(`distKey: ${scalar(t.distKey)}`);
  out.push('sortKey:', `  style: ${t.sortKey.style}`);
  if (t.sortKey.columns.length > 0) out.push(`  columns: ${list(t.sortKey.columns)}`);
  if (t.changeTracking !== undefined) out.push(`changeTracking: ${changeTrackingYaml(t.changeTracking)}`);
  out.push('replication:');
  const rep = t.replication;
  if (rep.provider === 'cdc') {
    out.push('  provider: cdc', `  service: ${scalar(rep.service)}`);
  } else {
    out.push('  provider: dms', `  taskId: ${scalar(rep.taskId)}`);
    if (rep.replicationInstance !== undefined) out.push(`  replicationInstance: ${scalar(rep.replicationInstance)}`);
    out.push(`  logGroup: ${scalar(rep.logGroup)}`);
    if (rep.logStream !== undefined) out.push(`  logStream: ${scalar(rep.logStream)}`);
  }
  return `${out.join('\n')}\n`;
}

function changeTrackingYaml(ct: ChangeTracking): string {
  if (ct === 'none') return 'none';
  return 'updated_at' in ct ? `{ updated_at: ${scalar(ct.updated_at)} }` : `{ append_only: ${scalar(ct.append_only)} }`;
}

/** The comments of an existing file worth keeping: its header and end-of-line column comments (while the type is unchanged). */
function existingComments(text: string): { header?: string[]; columns: Map<string, { comment: string; type: string }> } {
  const columns = new Map<string, { comment: string; type: string }>();
  const parsed = parseInternal('(existing)', text);
  const header: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^#\s?(.*)$/.exec(line);
    if (!m) break;
    header.push(m[1] ?? '');
  }
  const lines = text.split('\n');
  const seq = parsed.doc?.getIn(['columns'], true);
  if (isSeq(seq)) {
    seq.items.forEach((item) => {
      if (!isMap(item) || !item.flow || !item.range) return;
      const name = item.get('name');
      const type = item.get('type');
      if (typeof name !== 'string' || typeof type !== 'string') return;
      const lineNo = parsed.lineCounter.linePos(item.range[0]).line;
      const m = /\}\s+#\s?(.*?)\s*$/.exec(lines[lineNo - 1] ?? '');
      if (m?.[1]) columns.set(name, { comment: m[1], type: parsed.table?.columns.find((c) => c.name === name)?.type ?? type });
    });
  }
  return header.length > 0 ? { header, columns } : { columns };
}

/**
 * Write a table's file: `<dir>/<schema>/<name>.yml` (or the file the registry already has for it). Validates the table
 * (and, given a Registry, its foreign keys against the other tables) before writing; keeps the file's header comment and
 * the end-of-line comments of columns whose type did not change; replaces the file atomically. Returns the absolute
 * path. The Registry object is not changed: loadRegistry again to see the new file.
 */
export async function writeTableFile(reg: Registry | string, t: TableDef): Promise<string> {
  const dir = typeof reg === 'string' ? path.resolve(reg) : reg.dir;
  const key = tableKey(t);
  const checked = tableDef.safeParse(t);
  const label = `${t.schema}/${t.name}.yml`;
  if (!checked.success) throw new RegistryError(checked.error.issues.flatMap((i) => issueProblems(label, i, t, () => undefined)));
  const table = checked.data;
  if (typeof reg !== 'string') {
    const others = new Map(reg.tables);
    others.set(key, table);
    const fkProblems = foreignKeyProblems(table, label, () => undefined, others, new Set());
    // the other tables' foreign keys into this one must still find their columns, or the registry would not load again
    const cols = new Set(table.columns.map((c) => c.name));
    for (const { table: other, fk } of referencingTables(reg, table.schema, table.name)) {
      if (tableKey(other) === key) continue;
      const missing = fk.references.columns.filter((c) => !cols.has(c));
      if (missing.length > 0)
        fkProblems.push({
          file: `${other.schema}/${other.name}.yml`,
          field: `foreignKeys.${other.foreignKeys.indexOf(fk)}.references.columns`,
          reason: `references ${key} (${missing.join(', ')}), which the new definition of ${key} lacks; change ${other.name} first`,
        });
    }
    if (fkProblems.length > 0) throw new RegistryError(fkProblems);
  }

  let file = typeof reg === 'string' ? undefined : reg.files.get(key);
  if (file === undefined) {
    const yaml = path.join(dir, t.schema, `${t.name}.yaml`);
    file = existsSync(yaml) ? yaml : path.join(dir, t.schema, `${t.name}.yml`);
  }

  const opts: TableYamlOptions = {};
  if (existsSync(file)) {
    const prev = existingComments(await readFile(file, 'utf8'));
    if (prev.header) opts.header = prev.header;
    const keep = new Map<string, string>();
    for (const c of table.columns) {
      const p = prev.columns.get(c.name);
      if (p && p.type === c.type) keep.set(c.name, p.comment);
    }
    opts.columnComments = keep;
  }
  const text = tableToYaml(table, opts);
  const back = parseTableFile(label, text);
  if (back.problems.length > 0) throw new RegistryError(back.problems);

  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await writeFile(tmp, text, 'utf8');
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  return file;
}

// ---------------------------------------------------------------------------------------------------------------------
// Foreign-key graph

/**
 * Tables ordered so every referenced table comes before the tables referencing it (create in this order, drop in
 * reverse). Ties keep the input order. Self-references are fine; references to tables not in `tables` are ignored.
 * A cycle throws ForeignKeyCycleError naming the tables on it.
 */
export function foreignKeyOrder(tables: Iterable<TableDef>): TableDef[] {
  const byKey = new Map<string, TableDef>();
  for (const t of tables) if (!byKey.has(tableKey(t))) byKey.set(tableKey(t), t);
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const out: TableDef[] = [];
  const visit = (key: string): void => {
    const s = state.get(key);
    if (s === 'done') return;
    if (s === 'visiting') {
      throw new ForeignKeyCycleError([...stack.slice(stack.indexOf(key)), key]);
    }
    const t = byKey.get(key);
    if (t === undefined) return;
    state.set(key, 'visiting');
    stack.push(key);
    for (const fk of t.foreignKeys) {
      const ref = referencedKey(t, fk);
      if (ref !== key && byKey.has(ref)) visit(ref);
    }
    stack.pop();
    state.set(key, 'done');
    out.push(t);
  };
  for (const key of byKey.keys()) visit(key);
  return out;
}

/** Every (table, foreign key) in the registry that references schema.name — the table itself included when it refers to itself. */
export function referencingTables(reg: Registry, schema: string, name: string): Array<{ table: TableDef; fk: ForeignKeyDef }> {
  const want = `${schema}.${name}`;
  const out: Array<{ table: TableDef; fk: ForeignKeyDef }> = [];
  for (const t of [...reg.tables.values()].sort((a, b) => (tableKey(a) < tableKey(b) ? -1 : 1)))
    for (const fk of t.foreignKeys) if (referencedKey(t, fk) === want) out.push({ table: t, fk });
  return out;
}
