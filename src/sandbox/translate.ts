/**
 * Redshift SQL → PostgreSQL, for the sandbox's Data API.
 *
 * Not a SQL parser: a tokenizer that respects strings, quoted identifiers, dollar quotes and comments, plus clause
 * recognition on tokens for the statements whose Redshift form PostgreSQL rejects or treats differently:
 *
 * - CREATE TABLE with ENCODE / DISTKEY / SORTKEY / DISTSTYLE / BACKUP / ENCODE AUTO, PRIMARY KEY / UNIQUE / REFERENCES
 *   (informational in Redshift, so never enforced here), IDENTITY(seed, step), COLLATE CASE_*, `datetime`,
 *   `varchar(max)`, `(LIKE parent)` and CTAS: the Redshift-only parts are recorded in the sandbox catalog
 *   (`redshift_sandbox.*`, keyed by table OID + attnum so renames carry them) and stripped before PostgreSQL sees it.
 * - ALTER TABLE: ALTER DISTKEY / DISTSTYLE / [COMPOUND] SORTKEY / ENCODE AUTO / COLUMN … ENCODE (catalog only),
 *   ALTER COLUMN … TYPE (real, with Redshift's restrictions), ADD/DROP COLUMN and constraints, APPEND FROM.
 * - ANALYZE / VACUUM, SET search_path (the sandbox schema always stays on the path), TRUNCATE (commits, as Redshift's does).
 *
 * Everything else passes through unchanged, except a few spellings fixed anywhere (`::datetime`, `varchar(max)`,
 * bare `sysdate`). The output is a list of steps the Data API executor runs on the statement's own connection.
 */
import { parseRedshiftType, formatRedshiftType, isEncoding, suggest, ENCODINGS } from '../schema/types.js';

export const SANDBOX_SCHEMA = 'redshift_sandbox';

// ─── tokens ──────────────────────────────────────────────────────────────────────────────────────────────────────────

export type TokenKind = 'ws' | 'comment' | 'word' | 'qident' | 'string' | 'number' | 'param' | 'posparam' | 'op';

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
}

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const DIGIT = /[0-9]/;
const SPACE = /\s/;

/** Split SQL text into tokens; concatenating every token's text gives the input back exactly. */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  const n = sql.length;
  let i = 0;
  const push = (kind: TokenKind, end: number): void => {
    out.push({ kind, text: sql.slice(i, end), start: i, end });
    i = end;
  };
  const quoted = (from: number, q: string, backslash: boolean): number => {
    // `from` is the index of the opening quote; returns the index after the closing quote (or the end of input)
    let j = from + 1;
    while (j < n) {
      const c = sql[j];
      if (backslash && c === '\\') {
        j += 2;
        continue;
      }
      if (c === q) {
        if (sql[j + 1] === q) {
          j += 2;
          continue;
        }
        return j + 1;
      }
      j++;
    }
    return n;
  };
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (SPACE.test(c)) {
      let j = i + 1;
      while (j < n && SPACE.test(sql[j]!)) j++;
      push('ws', j);
    } else if (c === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      push('comment', nl < 0 ? n : nl);
    } else if (c === '/' && next === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (sql[j] === '/' && sql[j + 1] === '*') {
          depth++;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth--;
          j += 2;
        } else j++;
      }
      push('comment', j);
    } else if (c === "'") {
      push('string', quoted(i, "'", false));
    } else if ((c === 'E' || c === 'e') && next === "'") {
      push('string', quoted(i + 1, "'", true));
    } else if (/[bBxXnN]/.test(c) && next === "'") {
      push('string', quoted(i + 1, "'", false));
    } else if ((c === 'U' || c === 'u') && next === '&' && (sql[i + 2] === "'" || sql[i + 2] === '"')) {
      const q = sql[i + 2]!;
      push(q === "'" ? 'string' : 'qident', quoted(i + 2, q, false));
    } else if (c === '"') {
      push('qident', quoted(i, '"', false));
    } else if (c === '$') {
      if (next !== undefined && DIGIT.test(next)) {
        let j = i + 1;
        while (j < n && DIGIT.test(sql[j]!)) j++;
        push('posparam', j);
      } else {
        const m = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 200));
        if (m) {
          const tag = m[0];
          const close = sql.indexOf(tag, i + tag.length);
          push('string', close < 0 ? n : close + tag.length);
        } else push('op', i + 1);
      }
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < n && IDENT_PART.test(sql[j]!)) j++;
      push('word', j);
    } else if (DIGIT.test(c) || (c === '.' && next !== undefined && DIGIT.test(next))) {
      const m = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(sql.slice(i))!;
      push('number', i + m[0].length);
    } else if (c === ':' && next === ':') {
      push('op', i + 2);
    } else if (c === ':' && next === '=') {
      push('op', i + 2);
    } else if (c === ':' && next !== undefined && IDENT_START.test(next)) {
      let j = i + 2;
      while (j < n && IDENT_PART.test(sql[j]!)) j++;
      push('param', j);
    } else {
      push('op', i + 1);
    }
  }
  return out;
}

const isTrivia = (t: Token): boolean => t.kind === 'ws' || t.kind === 'comment';

/** The statements of a script, split at top-level semicolons; empty statements (only comments/space) are dropped. */
export function splitStatements(sql: string): string[] {
  const toks = tokenize(sql);
  const out: string[] = [];
  let start = 0;
  let significant = false;
  for (const t of toks) {
    if (t.kind === 'op' && t.text === ';') {
      if (significant) out.push(sql.slice(start, t.start).trim());
      start = t.end;
      significant = false;
    } else if (!isTrivia(t)) significant = true;
  }
  if (significant) out.push(sql.slice(start).trim());
  return out;
}

/** A name as Redshift resolves it: unquoted folds to lower case, "quoted" keeps its case. */
export function identName(t: Token): string {
  if (t.kind === 'qident') {
    const body = t.text.startsWith('U&') || t.text.startsWith('u&') ? t.text.slice(2) : t.text;
    return body.slice(1, -1).replace(/""/g, '"');
  }
  return t.text.toLowerCase();
}

/** Double-quote a name for SQL the sandbox generates. */
export function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

// ─── errors ──────────────────────────────────────────────────────────────────────────────────────────────────────────

/** A statement Redshift would refuse; the message is Redshift/PostgreSQL style, without the `ERROR: ` prefix. */
export class TranslateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TranslateError';
  }
}

// ─── cursor over significant tokens ──────────────────────────────────────────────────────────────────────────────────

class Cursor {
  i = 0;
  constructor(
    readonly src: string,
    readonly toks: readonly Token[],
  ) {}

  peek(k = 0): Token | undefined {
    return this.toks[this.i + k];
  }
  eof(): boolean {
    return this.i >= this.toks.length;
  }
  /** Is the token at offset k the keyword w (unquoted, any case)? */
  isWord(w: string, k = 0): boolean {
    const t = this.toks[this.i + k];
    return t !== undefined && t.kind === 'word' && t.text.toLowerCase() === w;
  }
  isOp(o: string, k = 0): boolean {
    const t = this.toks[this.i + k];
    return t !== undefined && t.kind === 'op' && t.text === o;
  }
  next(): Token {
    const t = this.toks[this.i];
    if (t === undefined) throw new TranslateError('syntax error at end of input');
    this.i++;
    return t;
  }
  acceptWord(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) if (!this.isWord(words[k]!, k)) return false;
    this.i += words.length;
    return true;
  }
  expectWord(w: string): void {
    if (!this.acceptWord(w)) throw syntaxError(this.peek());
  }
  expectOp(o: string): void {
    if (!this.isOp(o)) throw syntaxError(this.peek());
    this.i++;
  }
  ident(): Token {
    const t = this.peek();
    if (t === undefined || (t.kind !== 'word' && t.kind !== 'qident')) throw syntaxError(t);
    this.i++;
    return t;
  }
  /** schema.table (or just table): raw text for regclass and the folded parts. */
  qualifiedName(): QName {
    const parts: Token[] = [this.ident()];
    while (this.isOp('.')) {
      this.i++;
      parts.push(this.ident());
    }
    return { raw: parts.map((p) => p.text).join('.'), parts: parts.map(identName) };
  }
  /** Index (in toks) of the ')' matching the '(' at the cursor. */
  matchingParen(): number {
    let depth = 0;
    for (let k = this.i; k < this.toks.length; k++) {
      const t = this.toks[k]!;
      if (t.kind !== 'op') continue;
      if (t.text === '(') depth++;
      else if (t.text === ')') {
        depth--;
        if (depth === 0) return k;
      }
    }
    throw new TranslateError('syntax error at end of input: unbalanced parentheses');
  }
  /** `( a, b, c )` → folded names. */
  nameList(): string[] {
    this.expectOp('(');
    const names: string[] = [];
    for (;;) {
      names.push(identName(this.ident()));
      if (this.isOp(',')) {
        this.i++;
        continue;
      }
      this.expectOp(')');
      return names;
    }
  }
  /** Source text from token a through token b (inclusive). */
  text(a: number, b: number): string {
    const ta = this.toks[a];
    const tb = this.toks[b];
    if (ta === undefined || tb === undefined || b < a) return '';
    return this.src.slice(ta.start, tb.end);
  }
  rest(): string {
    const t = this.peek();
    return t === undefined ? '' : this.src.slice(t.start);
  }
}

interface QName {
  raw: string;
  parts: string[];
}

function syntaxError(t: Token | undefined): TranslateError {
  return new TranslateError(t === undefined ? 'syntax error at end of input' : `syntax error at or near "${t.text}"`);
}

function cursorFor(stmt: string): Cursor {
  return new Cursor(stmt, tokenize(stmt).filter((t) => !isTrivia(t)));
}

/** Split tokens [from, to) at depth-0 commas. */
function splitTopLevel(toks: readonly Token[], from: number, to: number): [number, number][] {
  const parts: [number, number][] = [];
  let depth = 0;
  let start = from;
  for (let k = from; k < to; k++) {
    const t = toks[k]!;
    if (t.kind !== 'op') continue;
    if (t.text === '(' || t.text === '[') depth++;
    else if (t.text === ')' || t.text === ']') depth--;
    else if (t.text === ',' && depth === 0) {
      parts.push([start, k]);
      start = k + 1;
    }
  }
  parts.push([start, to]);
  return parts;
}

// ─── output ──────────────────────────────────────────────────────────────────────────────────────────────────────────

/** One statement for PostgreSQL, run on the Data API statement's own connection. */
export interface Step {
  sql: string;
  /** parameters of an internal step (sandbox catalog calls) */
  params?: unknown[];
  /** the step whose result is the statement's result; it gets the caller's named parameters bound (unless it has `params`) */
  user?: boolean;
}

export interface Translation {
  steps: Step[];
  /** BEGIN / START TRANSACTION opens a block; COMMIT / END / ROLLBACK / ABORT closes it */
  txEffect?: 'begin' | 'end';
  /** Redshift refuses this statement inside a transaction block: the message to fail it with */
  notInTransaction?: string;
  /** Redshift commits the open transaction before running this (TRUNCATE) */
  implicitCommit?: boolean;
  /** several steps that must succeed or fail together (wrapped in a transaction when not already in one) */
  atomic?: boolean;
  /** VACUUM / ANALYZE: what maintenance the statement asks for (the Data API executor records it and updates the
   * seeded table health); `table` is the name as written (for `::regclass`), absent = every table */
  maintenance?: Maintenance;
}

export const VACUUM_MODES = ['FULL', 'SORT ONLY', 'DELETE ONLY', 'REINDEX', 'RECLUSTER'] as const;
export type VacuumMode = (typeof VACUUM_MODES)[number];

export type Maintenance =
  | { op: 'vacuum'; mode: VacuumMode; table?: string; toPercent?: number; boost: boolean }
  | { op: 'analyze'; table?: string; predicateColumns: boolean };

export interface TranslateContext {
  inTransaction: boolean;
}

const META = (fn: string): string => `select ${SANDBOX_SCHEMA}.${fn}($1::jsonb)`;
const metaStep = (fn: string, arg: Record<string, unknown>): Step => ({ sql: META(fn), params: [JSON.stringify(arg)] });

/** The default search_path of a Data API session, and what `SET search_path TO DEFAULT` means. */
export const DEFAULT_SEARCH_PATH = `"$user", public, ${SANDBOX_SCHEMA}`;

/** Translate one statement (no top-level semicolons) into PostgreSQL steps. Throws TranslateError for refused SQL. */
export function translateStatement(stmt: string, ctx: TranslateContext = { inTransaction: false }): Translation {
  const cur = cursorFor(stmt);
  if (cur.eof()) return { steps: [] };
  const first = cur.peek()!;
  const w0 = first.kind === 'word' ? first.text.toLowerCase() : '';
  const user = (sql: string): Translation => ({ steps: [{ sql: rewriteGeneral(sql), user: true }] });

  switch (w0) {
    case 'begin':
    case 'start':
      if (w0 === 'start' && !cur.isWord('transaction', 1)) break;
      return { steps: [{ sql: stmt, user: true }], txEffect: 'begin' };
    case 'commit':
    case 'end':
    case 'abort':
      return { steps: [{ sql: stmt, user: true }], txEffect: 'end' };
    case 'rollback':
      if (cur.toks.some((t) => t.kind === 'word' && t.text.toLowerCase() === 'to')) break; // ROLLBACK TO SAVEPOINT
      return { steps: [{ sql: stmt, user: true }], txEffect: 'end' };
    case 'create':
      return translateCreate(cur) ?? user(stmt);
    case 'alter':
      if (cur.isWord('table', 1)) return translateAlterTable(cur);
      break;
    case 'analyze':
    case 'analyse':
      return translateAnalyze(cur);
    case 'vacuum':
      return translateVacuum(cur);
    case 'drop':
      return { steps: [{ sql: rewriteGeneral(stmt), user: true }, { sql: `select ${SANDBOX_SCHEMA}._cleanup()` }], atomic: true };
    case 'truncate':
      return { steps: [{ sql: rewriteGeneral(stmt), user: true }], implicitCommit: ctx.inTransaction };
    case 'set':
      return translateSet(cur) ?? user(stmt);
    case 'reset': {
      const what = cur.peek(1);
      const name = what?.text.toLowerCase();
      if (name === 'all' || name === 'search_path' || name === 'timezone') {
        return {
          steps: [
            { sql: stmt, user: true },
            { sql: `select set_config('search_path', $1, false), set_config('TimeZone', 'UTC', false)`, params: [DEFAULT_SEARCH_PATH] },
          ],
        };
      }
      break;
    }
    default:
      break;
  }
  return user(stmt);
}

// ─── general rewrites (any statement) ────────────────────────────────────────────────────────────────────────────────

const VARCHAR_WORDS = new Set(['varchar', 'nvarchar', 'varying']);

/**
 * Spellings PostgreSQL does not know, fixed wherever they appear outside strings/comments/quoted names:
 * `::datetime` / `CAST(x AS datetime)` → timestamp, `varchar(max)` → varchar(65535), `nvarchar` → varchar,
 * bare `sysdate` → `sysdate()` (a function in the sandbox schema).
 */
export function rewriteGeneral(sql: string): string {
  const toks = tokenize(sql);
  checkInSubqueries(toks.filter((t) => !isTrivia(t)));
  const sig: number[] = [];
  toks.forEach((t, k) => {
    if (!isTrivia(t)) sig.push(k);
  });
  const at = (s: number): Token | undefined => (s >= 0 && s < sig.length ? toks[sig[s]!] : undefined);
  const lw = (t: Token | undefined): string => (t !== undefined && t.kind === 'word' ? t.text.toLowerCase() : '');
  const repl = new Map<number, string>();
  for (let s = 0; s < sig.length; s++) {
    const t = at(s)!;
    if (t.kind !== 'word') continue;
    const w = t.text.toLowerCase();
    const prev = at(s - 1);
    const nextT = at(s + 1);
    if (w === 'datetime') {
      const castCtx = prev !== undefined && ((prev.kind === 'op' && prev.text === '::') || (lw(prev) === 'as' && nextT?.kind === 'op' && nextT.text === ')'));
      if (castCtx) repl.set(sig[s]!, 'timestamp');
    } else if (w === 'sysdate') {
      const qualified = prev?.kind === 'op' && prev.text === '.';
      const called = nextT?.kind === 'op' && nextT.text === '(';
      if (!qualified && !called) repl.set(sig[s]!, 'sysdate()');
    } else if (w === 'nvarchar') {
      const typeCtx = (nextT?.kind === 'op' && nextT.text === '(') || (prev?.kind === 'op' && prev.text === '::');
      if (typeCtx) repl.set(sig[s]!, 'varchar');
    } else if (w === 'max') {
      const open = at(s - 1);
      const close = at(s + 1);
      if (open?.kind === 'op' && open.text === '(' && close?.kind === 'op' && close.text === ')' && VARCHAR_WORDS.has(lw(at(s - 2)))) {
        repl.set(sig[s]!, '65535');
      }
    }
  }
  if (repl.size === 0) return sql;
  return toks.map((t, k) => repl.get(k) ?? t.text).join('');
}

/**
 * Redshift's `expr [NOT] IN (table_subquery)` compares ONE column: the subquery is "limited to only one column in its
 * select list" (IN condition, Redshift SQL reference), and a row value `(a, b)` on the left is refused. PostgreSQL takes
 * both, so without this check a multi-column key comparison would pass here and fail on Redshift.
 */
/** words that may stand before a parenthesized row value without making it a function call */
const NOT_CALLS = new Set(['where', 'and', 'or', 'not', 'on', 'when', 'having', 'then', 'else', 'select', 'by', 'in', 'case', 'set']);

function checkInSubqueries(sig: readonly Token[]): void {
  const isOp = (t: Token | undefined, o: string): boolean => t !== undefined && t.kind === 'op' && t.text === o;
  const isW = (t: Token | undefined, w: string): boolean => t !== undefined && t.kind === 'word' && t.text.toLowerCase() === w;
  /** index of the `)` matching the `(` at i */
  const close = (i: number): number => {
    let depth = 0;
    for (let k = i; k < sig.length; k++) {
      if (isOp(sig[k], '(')) depth++;
      else if (isOp(sig[k], ')') && --depth === 0) return k;
    }
    return sig.length;
  };
  /** index of the `(` matching the `)` at i */
  const open = (i: number): number => {
    let depth = 0;
    for (let k = i; k >= 0; k--) {
      if (isOp(sig[k], ')')) depth++;
      else if (isOp(sig[k], '(') && --depth === 0) return k;
    }
    return -1;
  };
  const topLevelComma = (from: number, to: number, stopAtFrom: boolean): boolean => {
    let depth = 0;
    for (let k = from; k < to; k++) {
      const t = sig[k]!;
      if (isOp(t, '(')) depth++;
      else if (isOp(t, ')')) depth--;
      else if (depth === 0 && stopAtFrom && isW(t, 'from')) return false;
      else if (depth === 0 && isOp(t, ',')) return true;
    }
    return false;
  };
  for (let i = 0; i < sig.length; i++) {
    if (!isW(sig[i], 'in') || !isOp(sig[i + 1], '(') || !isW(sig[i + 2], 'select')) continue;
    const end = close(i + 1);
    const columns = topLevelComma(i + 3, end, true);
    let left = i - 1;
    if (isW(sig[left], 'not')) left--;
    const rowValue = isOp(sig[left], ')') && (() => {
      const o = open(left);
      // `(a, b) IN` — not a call like `coalesce(a, b) IN`
      const before = sig[o - 1];
      const call = before !== undefined && (before.kind === 'qident' || (before.kind === 'word' && !NOT_CALLS.has(before.text.toLowerCase())));
      return o >= 0 && !call && topLevelComma(o + 1, left, false);
    })();
    if (columns || rowValue)
      throw new TranslateError(
        `IN (subquery) compares one column in Redshift: ${rowValue ? 'a row value (a, b) cannot be compared with IN' : 'the subquery selects more than one column'}; compare multi-column keys with EXISTS or a join`,
      );
  }
}

// ─── named parameters ────────────────────────────────────────────────────────────────────────────────────────────────

/** The `:name` parameters a statement refers to (outside strings, comments, quoted names and `::casts`). */
export function namedParams(sql: string): string[] {
  const seen = new Set<string>();
  for (const t of tokenize(sql)) if (t.kind === 'param') seen.add(t.text.slice(1));
  return [...seen];
}

/**
 * Replace `:name` with `$1`, `$2`… (one number per distinct name) and return the values in that order. Names without a
 * value are left as written (PostgreSQL then reports the syntax error).
 */
export function bindNamedParams(sql: string, values: ReadonlyMap<string, string>): { text: string; values: string[] } {
  const order = new Map<string, number>();
  const out: string[] = [];
  const text = tokenize(sql)
    .map((t) => {
      if (t.kind !== 'param') return t.text;
      const name = t.text.slice(1);
      const v = values.get(name);
      if (v === undefined) return t.text;
      let n = order.get(name);
      if (n === undefined) {
        out.push(v);
        n = out.length;
        order.set(name, n);
      }
      return `$${n}`;
    })
    .join('');
  return { text, values: out };
}

// ─── SET search_path ─────────────────────────────────────────────────────────────────────────────────────────────────

function translateSet(cur: Cursor): Translation | undefined {
  let k = 1;
  if (cur.isWord('session', k) || cur.isWord('local', k)) k++;
  if (!cur.isWord('search_path', k)) return undefined;
  k++;
  if (!(cur.isWord('to', k) || cur.isOp('=', k))) return undefined;
  k++;
  const valueToks = cur.toks.slice(cur.i + k);
  const head = cur.text(0, cur.i + k - 1);
  if (valueToks.length === 1 && valueToks[0]!.kind === 'word' && valueToks[0]!.text.toLowerCase() === 'default') {
    return { steps: [{ sql: `${head} ${DEFAULT_SEARCH_PATH}`, user: true }] };
  }
  const names = valueToks.filter((t) => t.kind !== 'op').map((t) => (t.kind === 'string' ? t.text.slice(1, -1) : identName(t)));
  const value = valueToks.length === 0 ? '' : cur.src.slice(valueToks[0]!.start, valueToks[valueToks.length - 1]!.end);
  const sql = names.includes(SANDBOX_SCHEMA) ? `${head} ${value}` : `${head} ${value}${value ? ', ' : ''}${SANDBOX_SCHEMA}`;
  return { steps: [{ sql, user: true }] };
}

// ─── ANALYZE ─────────────────────────────────────────────────────────────────────────────────────────────────────────

function translateAnalyze(cur: Cursor): Translation {
  cur.next();
  if (cur.isWord('compression')) return { steps: [] }; // advisory output only; nothing to compress here
  const verbose = cur.acceptWord('verbose');
  const predicate = (): boolean => cur.isWord('predicate');
  if (cur.eof() || cur.isWord('predicate') || cur.isWord('all')) {
    return { steps: [{ sql: `ANALYZE${verbose ? ' VERBOSE' : ''}`, user: true }], maintenance: { op: 'analyze', predicateColumns: predicate() } };
  }
  const name = cur.qualifiedName();
  let cols = '';
  if (cur.isOp('(')) cols = ` (${cur.nameList().map(quoteName).join(', ')})`;
  return {
    steps: [{ sql: `ANALYZE${verbose ? ' VERBOSE' : ''} ${name.raw}${cols}`, user: true }],
    maintenance: { op: 'analyze', table: name.raw, predicateColumns: predicate() },
  };
}

/**
 * Redshift's VACUUM [FULL | SORT ONLY | DELETE ONLY | REINDEX | RECLUSTER] [[table] [TO n PERCENT] [BOOST]]. Refused
 * inside a transaction block (the executor checks `notInTransaction`). PostgreSQL gets a plain VACUUM of the table for
 * the modes that reclaim deleted rows (FULL, DELETE ONLY, REINDEX); the sort phases have nothing to do here, so SORT
 * ONLY / RECLUSTER run no PostgreSQL statement. Every form is recorded (`maintenance`) so tests see what ran.
 */
function translateVacuum(cur: Cursor): Translation {
  cur.next();
  let mode: VacuumMode = 'FULL';
  if (cur.acceptWord('full')) mode = 'FULL';
  else if (cur.acceptWord('sort', 'only')) mode = 'SORT ONLY';
  else if (cur.acceptWord('delete', 'only')) mode = 'DELETE ONLY';
  else if (cur.acceptWord('reindex')) mode = 'REINDEX';
  else if (cur.acceptWord('recluster')) mode = 'RECLUSTER';
  let table: QName | undefined;
  if (!cur.eof() && !cur.isWord('to') && !cur.isWord('boost')) table = cur.qualifiedName();
  let toPercent: number | undefined;
  if (cur.acceptWord('to')) {
    const n = cur.next();
    if (n.kind !== 'number' || !/^\d+$/.test(n.text)) throw syntaxError(n);
    toPercent = Number(n.text);
    if (toPercent < 0 || toPercent > 100) throw new TranslateError(`threshold percent must be between 0 and 100, not ${n.text}`);
    cur.expectWord('percent');
  }
  const boost = cur.acceptWord('boost');
  if (!cur.eof()) throw syntaxError(cur.peek());
  const reclaims = mode === 'FULL' || mode === 'DELETE ONLY' || mode === 'REINDEX';
  return {
    steps: table && reclaims ? [{ sql: `VACUUM ${table.raw}`, user: true }] : [],
    notInTransaction: 'VACUUM cannot run inside a transaction block',
    maintenance: { op: 'vacuum', mode, ...(table ? { table: table.raw } : {}), ...(toPercent !== undefined ? { toPercent } : {}), boost },
  };
}

// ─── types ───────────────────────────────────────────────────────────────────────────────────────────────────────────

/** A Redshift column type as written → the PostgreSQL type the sandbox stores it as. */
export function pgTypeFor(typeText: string): string {
  const text = typeText.trim().replace(/\s+/g, ' ');
  const p = parseRedshiftType(text);
  if (!p.ok) {
    if (/^unknown type/.test(p.error)) {
      const name = text.replace(/\s*\(.*$/, '').toLowerCase();
      throw new TranslateError(`type "${name}" does not exist${p.error.includes('did you mean') ? ` (${p.error.replace(/^.*— /, '')})` : ''}`);
    }
    throw new TranslateError(p.error);
  }
  switch (p.type.kind) {
    case 'super':
      return 'jsonb';
    case 'varbyte':
      return 'bytea';
    case 'geometry':
    case 'geography':
    case 'hllsketch':
      throw new TranslateError(`type ${p.type.kind} is not supported by the sandbox`);
    default:
      return formatRedshiftType(p.type);
  }
}

function parseEncoding(t: Token, column: string): string {
  const enc = identName(t);
  if (!isEncoding(enc)) {
    const hint = suggest(enc, ENCODINGS);
    throw new TranslateError(`invalid encoding type "${enc}" specified for column "${column}"${hint ? ` (did you mean ${hint}?)` : ''}`);
  }
  return enc;
}

// ─── column definitions ──────────────────────────────────────────────────────────────────────────────────────────────

interface ConstraintSpec {
  kind: 'p' | 'u' | 'f';
  name?: string;
  columns: string[];
  refRaw?: string;
  refSchema?: string;
  refTable?: string;
  refColumns?: string[];
}

interface ColumnSpec {
  name: string;
  nameRaw: string;
  /** the column as PostgreSQL should see it */
  pg: string;
  encoding?: string;
  distkey: boolean;
  sortkey: boolean;
  identity: boolean;
  constraints: ConstraintSpec[];
}

const COLUMN_CONSTRAINT_WORDS = new Set([
  'encode', 'distkey', 'sortkey', 'primary', 'unique', 'references', 'constraint', 'identity', 'generated', 'collate', 'check', 'default',
]);

function isConstraintStart(cur: Cursor, k = 0): boolean {
  const t = cur.peek(k);
  if (t === undefined || t.kind !== 'word') return false;
  const w = t.text.toLowerCase();
  if (COLUMN_CONSTRAINT_WORDS.has(w)) return true;
  if (w === 'not' && cur.isWord('null', k + 1)) return true;
  return w === 'null';
}

function refName(q: QName): { refRaw: string; refSchema?: string; refTable: string } {
  const table = q.parts[q.parts.length - 1]!;
  const schema = q.parts.length > 1 ? q.parts[q.parts.length - 2] : undefined;
  return schema === undefined ? { refRaw: q.raw, refTable: table } : { refRaw: q.raw, refSchema: schema, refTable: table };
}

/** After REFERENCES t [(cols)]: MATCH x, ON DELETE/UPDATE action, [NOT] DEFERRABLE, INITIALLY x — consumed and dropped. */
function skipReferentialActions(cur: Cursor): void {
  for (;;) {
    if (cur.acceptWord('match')) cur.next();
    else if (cur.isWord('on') && (cur.isWord('delete', 1) || cur.isWord('update', 1))) {
      cur.i += 2;
      if (cur.acceptWord('no', 'action') || cur.acceptWord('set', 'null') || cur.acceptWord('set', 'default')) continue;
      cur.next();
    } else if (cur.acceptWord('deferrable') || cur.acceptWord('not', 'deferrable')) continue;
    else if (cur.acceptWord('initially')) cur.next();
    else return;
  }
}

/** `name type [constraints…]` with the cursor on the name; `end` is the index (exclusive) where the element stops. */
function parseColumnDef(cur: Cursor, end: number): ColumnSpec {
  const nameTok = cur.ident();
  const name = identName(nameTok);
  const typeStart = cur.i;
  let depth = 0;
  while (cur.i < end) {
    const t = cur.peek()!;
    if (t.kind === 'op' && t.text === '(') depth++;
    else if (t.kind === 'op' && t.text === ')') depth--;
    else if (depth === 0 && isConstraintStart(cur)) break;
    cur.i++;
  }
  if (cur.i === typeStart) throw new TranslateError(`column "${name}" has no type`);
  const typeText = cur.text(typeStart, cur.i - 1);
  const spec: ColumnSpec = { name, nameRaw: nameTok.text, pg: `${nameTok.text} ${pgTypeFor(typeText)}`, distkey: false, sortkey: false, identity: false, constraints: [] };
  let cname: string | undefined;
  while (cur.i < end) {
    const t = cur.peek()!;
    const w = t.kind === 'word' ? t.text.toLowerCase() : '';
    if (w === 'constraint') {
      cur.i++;
      cname = identName(cur.ident());
      continue;
    }
    if (cur.acceptWord('not', 'null')) spec.pg += ' NOT NULL';
    else if (cur.acceptWord('null')) spec.pg += ' NULL';
    else if (w === 'default') {
      cur.i++;
      const exprStart = cur.i;
      let d = 0;
      while (cur.i < end) {
        const e = cur.peek()!;
        if (e.kind === 'op' && e.text === '(') d++;
        else if (e.kind === 'op' && e.text === ')') d--;
        else if (d === 0 && cur.i > exprStart && isConstraintStart(cur) && !(cur.isWord('null') && (cur.isWord('is', -1) || cur.isWord('not', -1)))) break;
        cur.i++;
      }
      if (cur.i === exprStart) throw syntaxError(cur.peek());
      spec.pg += ` DEFAULT ${cur.text(exprStart, cur.i - 1)}`;
    } else if (w === 'encode') {
      cur.i++;
      spec.encoding = parseEncoding(cur.next(), name);
    } else if (w === 'distkey') {
      cur.i++;
      spec.distkey = true;
    } else if (w === 'sortkey') {
      cur.i++;
      spec.sortkey = true;
    } else if (cur.acceptWord('primary', 'key')) {
      spec.constraints.push({ kind: 'p', ...(cname ? { name: cname } : {}), columns: [name] });
    } else if (w === 'unique') {
      cur.i++;
      spec.constraints.push({ kind: 'u', ...(cname ? { name: cname } : {}), columns: [name] });
    } else if (w === 'references') {
      cur.i++;
      const ref = refName(cur.qualifiedName());
      const refColumns = cur.isOp('(') ? cur.nameList() : undefined;
      skipReferentialActions(cur);
      spec.constraints.push({ kind: 'f', ...(cname ? { name: cname } : {}), columns: [name], ...ref, ...(refColumns ? { refColumns } : {}) });
    } else if (w === 'identity' || w === 'generated') {
      cur.i++;
      if (w === 'generated') {
        if (!(cur.acceptWord('by', 'default', 'as', 'identity') || cur.acceptWord('always', 'as', 'identity'))) throw syntaxError(cur.peek());
      }
      let seed = '1';
      let step = '1';
      if (cur.isOp('(')) {
        cur.i++;
        seed = cur.next().text;
        cur.expectOp(',');
        step = cur.next().text;
        cur.expectOp(')');
      }
      if (!/^-?\d+$/.test(seed) || !/^-?\d+$/.test(step)) throw new TranslateError(`IDENTITY(${seed}, ${step}): seed and step must be whole numbers`);
      spec.identity = true;
      spec.pg += ` GENERATED BY DEFAULT AS IDENTITY (START WITH ${seed} INCREMENT BY ${step})`;
    } else if (w === 'collate') {
      cur.i++;
      cur.next(); // CASE_SENSITIVE / CASE_INSENSITIVE: PostgreSQL compares case-sensitively either way
    } else if (w === 'check') {
      cur.i++;
      const close = cur.matchingParen();
      spec.pg += ` ${cname ? `CONSTRAINT ${quoteName(cname)} ` : ''}CHECK ${cur.text(cur.i, close)}`;
      cur.i = close + 1;
    } else throw syntaxError(t);
    cname = undefined;
  }
  return spec;
}

// ─── CREATE TABLE ────────────────────────────────────────────────────────────────────────────────────────────────────

interface TableAttrs {
  diststyle?: 'AUTO' | 'EVEN' | 'KEY' | 'ALL';
  distkey?: string;
  sortstyle?: 'AUTO' | 'COMPOUND' | 'INTERLEAVED';
  sortkey?: string[];
  encodeAuto?: boolean;
  backup?: boolean;
}

function parseTableAttrs(cur: Cursor): TableAttrs {
  const a: TableAttrs = {};
  for (;;) {
    if (cur.acceptWord('diststyle')) {
      const s = cur.next().text.toUpperCase();
      if (s !== 'AUTO' && s !== 'EVEN' && s !== 'KEY' && s !== 'ALL') throw new TranslateError(`invalid DISTSTYLE "${s}": use AUTO, EVEN, KEY or ALL`);
      a.diststyle = s;
    } else if (cur.acceptWord('distkey')) {
      cur.expectOp('(');
      a.distkey = identName(cur.ident());
      cur.expectOp(')');
    } else if (cur.isWord('sortkey') || ((cur.isWord('compound') || cur.isWord('interleaved')) && cur.isWord('sortkey', 1))) {
      const style = cur.isWord('interleaved') ? 'INTERLEAVED' : 'COMPOUND';
      if (!cur.isWord('sortkey')) cur.i++;
      cur.i++;
      if (cur.acceptWord('auto')) {
        if (style === 'INTERLEAVED') throw new TranslateError('INTERLEAVED SORTKEY AUTO is not valid: use SORTKEY AUTO');
        a.sortstyle = 'AUTO';
      } else {
        a.sortstyle = style;
        a.sortkey = cur.nameList();
      }
    } else if (cur.isWord('encode') && cur.isWord('auto', 1)) {
      cur.i += 2;
      a.encodeAuto = true;
    } else if (cur.acceptWord('backup')) {
      const v = cur.next().text.toLowerCase();
      if (v !== 'yes' && v !== 'no') throw new TranslateError(`BACKUP takes YES or NO, not "${v}"`);
      a.backup = v === 'yes';
    } else return a;
  }
}

function constraintName(table: string, c: ConstraintSpec): string {
  if (c.name !== undefined) return c.name;
  if (c.kind === 'p') return `${table}_pkey`;
  return `${table}_${c.columns.join('_')}_${c.kind === 'u' ? 'key' : 'fkey'}`;
}

/** Table-level `[CONSTRAINT n] PRIMARY KEY (…) | UNIQUE (…) | FOREIGN KEY (…) REFERENCES t [(…)]`, or undefined. */
function parseTableConstraint(cur: Cursor): ConstraintSpec | undefined {
  const save = cur.i;
  let name: string | undefined;
  if (cur.acceptWord('constraint')) name = identName(cur.ident());
  const named = name !== undefined ? { name } : {};
  if (cur.acceptWord('primary', 'key')) return { kind: 'p', ...named, columns: cur.nameList() };
  if (cur.acceptWord('unique')) return { kind: 'u', ...named, columns: cur.nameList() };
  if (cur.acceptWord('foreign', 'key')) {
    const columns = cur.nameList();
    cur.expectWord('references');
    const ref = refName(cur.qualifiedName());
    const refColumns = cur.isOp('(') ? cur.nameList() : undefined;
    skipReferentialActions(cur);
    return { kind: 'f', ...named, columns, ...ref, ...(refColumns ? { refColumns } : {}) };
  }
  cur.i = save;
  return undefined;
}

function translateCreate(cur: Cursor): Translation | undefined {
  let k = 1;
  let temp = '';
  if (cur.isWord('local', k) || cur.isWord('global', k)) k++;
  if (cur.isWord('temporary', k) || cur.isWord('temp', k)) {
    temp = 'TEMP ';
    k++;
  }
  if (!cur.isWord('table', k)) return undefined;
  cur.i += k + 1;
  const ifNotExists = cur.acceptWord('if', 'not', 'exists');
  const name = cur.qualifiedName();
  const table = name.parts[name.parts.length - 1]!;
  const head = `CREATE ${temp}TABLE ${ifNotExists ? 'IF NOT EXISTS ' : ''}${name.raw}`;

  const columns: ColumnSpec[] = [];
  const constraints: ConstraintSpec[] = [];
  const elements: string[] = [];
  let like: string | undefined;
  let ctasColumns: string | undefined;

  if (cur.isOp('(')) {
    const close = cur.matchingParen();
    const parts = splitTopLevel(cur.toks, cur.i + 1, close);
    // `CREATE TABLE t (a, b) AS …`: a bare column-name list for CTAS
    const bare = parts.every(([a, b]) => b - a === 1 && (cur.toks[a]!.kind === 'word' || cur.toks[a]!.kind === 'qident'));
    const afterClose = cur.toks[close + 1];
    if (bare && afterClose !== undefined && afterClose.kind === 'word') {
      const save = cur.i;
      cur.i = close + 1;
      parseTableAttrs(cur);
      const isCtas = cur.isWord('as');
      cur.i = save;
      if (isCtas) ctasColumns = cur.text(cur.i, close);
    }
    if (ctasColumns === undefined) {
      for (const [a, b] of parts) {
        if (a === b) throw syntaxError(cur.toks[b]);
        cur.i = a;
        const tc = parseTableConstraint(cur);
        if (tc) {
          if (cur.i !== b) throw syntaxError(cur.toks[cur.i]);
          constraints.push(tc);
        } else if (cur.isWord('like')) {
          cur.i++;
          const parent = cur.qualifiedName();
          like = parent.raw;
          let defaults = '';
          if (cur.acceptWord('including', 'defaults')) defaults = ' INCLUDING DEFAULTS';
          else if (cur.acceptWord('excluding', 'defaults')) defaults = ' EXCLUDING DEFAULTS';
          if (cur.i !== b) throw syntaxError(cur.toks[cur.i]);
          elements.push(`LIKE ${parent.raw}${defaults}`);
        } else if (cur.isWord('check')) {
          elements.push(cur.text(a, b - 1));
        } else {
          const col = parseColumnDef(cur, b);
          columns.push(col);
          elements.push(col.pg);
          constraints.push(...col.constraints);
        }
      }
    }
    cur.i = close + 1;
  } else if (cur.isWord('like')) {
    cur.i++;
    const parent = cur.qualifiedName();
    like = parent.raw;
    let defaults = '';
    if (cur.acceptWord('including', 'defaults')) defaults = ' INCLUDING DEFAULTS';
    else if (cur.acceptWord('excluding', 'defaults')) defaults = ' EXCLUDING DEFAULTS';
    elements.push(`LIKE ${parent.raw}${defaults}`);
  }

  const attrs = parseTableAttrs(cur);
  let ctas: string | undefined;
  if (cur.isWord('as')) {
    cur.i++;
    ctas = cur.rest();
    if (!ctas) throw syntaxError(undefined);
    cur.i = cur.toks.length;
  } else if (elements.length === 0 && like === undefined) {
    throw syntaxError(cur.peek());
  }
  if (!cur.eof()) throw syntaxError(cur.peek());

  // Redshift's own checks on keys
  const colDist = columns.filter((c) => c.distkey);
  const colSort = columns.filter((c) => c.sortkey);
  if (colDist.length > 1 || (colDist.length === 1 && attrs.distkey !== undefined)) throw new TranslateError('multiple DISTKEY columns are not allowed: a table has one distribution key');
  if (colSort.length > 0 && attrs.sortkey !== undefined) throw new TranslateError('SORTKEY given both on a column and for the table: use one table-level SORTKEY (…)');
  const distkey = attrs.distkey ?? colDist[0]?.name;
  let diststyle = attrs.diststyle;
  if (distkey !== undefined) {
    if (diststyle !== undefined && diststyle !== 'KEY') throw new TranslateError(`DISTKEY needs DISTSTYLE KEY (found DISTSTYLE ${diststyle})`);
    diststyle = 'KEY';
  } else if (diststyle === 'KEY') throw new TranslateError('DISTSTYLE KEY needs a DISTKEY column');
  let sortstyle = attrs.sortstyle;
  let sortkey = attrs.sortkey;
  if (colSort.length > 0) {
    sortstyle = 'COMPOUND';
    sortkey = colSort.map((c) => c.name);
  }
  if (sortstyle === 'INTERLEAVED' && (sortkey?.length ?? 0) > 8) throw new TranslateError('an INTERLEAVED SORTKEY has at most 8 columns');
  if ((sortkey?.length ?? 0) > 400) throw new TranslateError('a SORTKEY has at most 400 columns');
  const pks = constraints.filter((c) => c.kind === 'p');
  if (pks.length > 1) throw new TranslateError(`multiple primary keys for table "${table}" are not allowed`);

  const encodings: Record<string, string> = {};
  for (const c of columns) if (c.encoding !== undefined) encodings[c.name] = c.encoding;
  if (attrs.encodeAuto && Object.keys(encodings).length > 0) throw new TranslateError('ENCODE AUTO cannot be used together with column ENCODE settings');

  const record: Record<string, unknown> = {
    table: name.raw,
    tableName: table,
    like: like ?? null,
    diststyle: diststyle ?? null,
    distkey: distkey ?? null,
    sortstyle: sortstyle ?? null,
    sortkey: sortkey ?? [],
    encodeAuto: attrs.encodeAuto ?? (like !== undefined ? null : Object.keys(encodings).length === 0),
    backup: attrs.backup ?? true,
    encodings,
    constraints: constraints.map((c) => ({ ...c, name: constraintName(table, c) })),
  };
  const create =
    ctas !== undefined
      ? `${head}${ctasColumns !== undefined ? ` ${ctasColumns}` : ''} AS ${ctas}`
      : `${head} (${elements.join(', ')})`;
  return { steps: [{ sql: rewriteGeneral(create), user: true }, metaStep('_record_table', record)], atomic: true };
}

// ─── ALTER TABLE ─────────────────────────────────────────────────────────────────────────────────────────────────────

const ALTER_TYPE_IN_TX = 'ALTER TABLE ALTER COLUMN cannot run inside a transaction block';
const APPEND_IN_TX = 'ALTER TABLE APPEND cannot run inside a transaction block';

function translateAlterTable(cur: Cursor): Translation {
  cur.i += 2;
  const ifExists = cur.acceptWord('if', 'exists');
  cur.acceptWord('only');
  const name = cur.qualifiedName();
  const table = name.parts[name.parts.length - 1]!;
  const steps: Step[] = [];
  let notInTransaction: string | undefined;
  const pg = (action: string): void => {
    steps.push({ sql: rewriteGeneral(`ALTER TABLE ${ifExists ? 'IF EXISTS ' : ''}${name.raw} ${action}`), user: steps.every((s) => !s.user) });
  };
  const meta = (op: string, extra: Record<string, unknown>): void => {
    steps.push(metaStep('_alter_meta', { table: name.raw, op, ...extra }));
  };
  if (cur.eof()) throw syntaxError(undefined);
  const actions = splitTopLevel(cur.toks, cur.i, cur.toks.length);
  const encodedCols = new Set<string>();
  for (const [a, b] of actions) {
    if (a === b) throw syntaxError(cur.toks[b]);
    cur.i = a;
    const actionText = cur.text(a, b - 1);
    const done = (): void => {
      if (cur.i !== b) throw syntaxError(cur.toks[cur.i]);
    };
    if (cur.acceptWord('alter', 'distkey') || cur.acceptWord('alter', 'diststyle', 'key', 'distkey')) {
      meta('distkey', { column: identName(cur.ident()) });
      done();
    } else if (cur.acceptWord('alter', 'diststyle')) {
      const s = cur.next().text.toUpperCase();
      if (s !== 'ALL' && s !== 'EVEN' && s !== 'AUTO') throw new TranslateError(`invalid DISTSTYLE "${s}": use ALL, EVEN, AUTO or KEY DISTKEY column`);
      meta('diststyle', { style: s });
      done();
    } else if (cur.acceptWord('alter', 'interleaved', 'sortkey')) {
      throw new TranslateError('ALTER SORTKEY cannot change a sort key to INTERLEAVED: only a compound sort key, AUTO or NONE');
    } else if (cur.acceptWord('alter', 'compound', 'sortkey') || cur.acceptWord('alter', 'sortkey')) {
      if (cur.acceptWord('auto')) meta('sortkey_auto', {});
      else if (cur.acceptWord('none')) meta('sortkey_none', {});
      else {
        const cols = cur.nameList();
        if (cols.length > 400) throw new TranslateError('a SORTKEY has at most 400 columns');
        meta('sortkey', { columns: cols });
      }
      done();
    } else if (cur.isWord('alter') && cur.isWord('encode', 1) && cur.isWord('auto', 2)) {
      cur.i += 3;
      meta('encode_auto', {});
      done();
    } else if (cur.isWord('alter') && cur.isWord('append', 1)) {
      throw syntaxError(cur.peek(1));
    } else if (cur.isWord('alter')) {
      cur.i++;
      cur.acceptWord('column');
      const colTok = cur.ident();
      const column = identName(colTok);
      if (cur.acceptWord('encode')) {
        const enc = parseEncoding(cur.next(), column);
        if (encodedCols.has(column)) throw new TranslateError(`column "${column}" is given an encoding more than once in one statement`);
        encodedCols.add(column);
        meta('column_encode', { column, encoding: enc });
        done();
      } else if (cur.acceptWord('type') || cur.acceptWord('set', 'data', 'type')) {
        const typeStart = cur.i;
        if (cur.eof() || cur.i >= b) throw syntaxError(cur.peek());
        const typeText = cur.text(typeStart, b - 1);
        cur.i = b;
        const p = parseRedshiftType(typeText.trim().replace(/\s+/g, ' '));
        if (!p.ok) throw new TranslateError(p.error);
        if (p.type.kind !== 'varchar') {
          throw new TranslateError(`ALTER COLUMN TYPE can only change the size of a VARCHAR column (asked for ${formatRedshiftType(p.type)})`);
        }
        notInTransaction = ALTER_TYPE_IN_TX;
        meta('check_alter_type', { column, length: p.type.length });
        pg(`ALTER COLUMN ${colTok.text} TYPE ${formatRedshiftType(p.type)}`);
      } else {
        // SET/DROP NOT NULL, SET/DROP DEFAULT…: PostgreSQL decides
        pg(actionText);
        cur.i = b;
      }
    } else if (cur.isWord('add')) {
      cur.i++;
      const tc = parseTableConstraint(cur);
      if (tc) {
        done();
        meta('add_constraint', { constraint: { ...tc, name: constraintName(table, tc) } });
        continue;
      }
      cur.acceptWord('column');
      if (cur.acceptWord('if', 'not', 'exists')) throw new TranslateError('ADD COLUMN IF NOT EXISTS is not supported by Redshift');
      const col = parseColumnDef(cur, b);
      if (col.distkey) throw new TranslateError(`cannot add column "${col.name}" as the DISTKEY: change the distribution with ALTER DISTKEY after adding it`);
      if (col.sortkey) throw new TranslateError(`cannot add column "${col.name}" as a SORTKEY: change the sort key with ALTER SORTKEY after adding it`);
      if (col.constraints.length > 0) throw new TranslateError(`ALTER TABLE ADD COLUMN cannot add a ${col.constraints[0]!.kind === 'p' ? 'PRIMARY KEY' : col.constraints[0]!.kind === 'u' ? 'UNIQUE' : 'REFERENCES'} constraint: add the column, then ADD CONSTRAINT`);
      if (col.identity) throw new TranslateError('ALTER TABLE ADD COLUMN cannot add an IDENTITY column');
      pg(`ADD COLUMN ${col.pg}`);
      if (col.encoding !== undefined) meta('column_encode_new', { column: col.name, encoding: col.encoding });
    } else if (cur.isWord('drop') && cur.isWord('constraint', 1)) {
      cur.i += 2;
      const cname = identName(cur.ident());
      const cascade = cur.acceptWord('cascade');
      if (!cascade) cur.acceptWord('restrict');
      done();
      meta('drop_constraint', { name: cname });
    } else if (cur.isWord('drop')) {
      cur.i++;
      cur.acceptWord('column');
      if (cur.acceptWord('if', 'exists')) throw new TranslateError('DROP COLUMN IF EXISTS is not supported by Redshift');
      const colTok = cur.ident();
      const cascade = cur.acceptWord('cascade');
      if (!cascade) cur.acceptWord('restrict');
      done();
      meta('check_drop_column', { column: identName(colTok), cascade });
      pg(`DROP COLUMN ${colTok.text}${cascade ? ' CASCADE' : ''}`);
    } else if (cur.isWord('append') && cur.isWord('from', 1)) {
      cur.i += 2;
      const source = cur.qualifiedName();
      let mode: 'exact' | 'ignoreextra' | 'filltarget' = 'exact';
      if (cur.acceptWord('ignoreextra')) mode = 'ignoreextra';
      else if (cur.acceptWord('filltarget')) mode = 'filltarget';
      done();
      notInTransaction = APPEND_IN_TX;
      steps.push({ sql: META('_append'), params: [JSON.stringify({ table: name.raw, source: source.raw, mode })], user: true });
    } else {
      // RENAME, RENAME COLUMN, OWNER TO, ROW LEVEL SECURITY …
      pg(actionText);
      cur.i = b;
    }
  }
  return { steps, atomic: steps.length > 1, ...(notInTransaction ? { notInTransaction } : {}) };
}
