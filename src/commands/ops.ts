/**
 * The ops of `modify` / `plan`: their grammar (OP_DEFINITIONS, which `help modify` prints) and the reader that turns
 * `<op>[, <op>…]` into typed Ops, checking each against the table as schemas/ describes it AND as the earlier ops of
 * the same command leave it (a simulation): a dropped column cannot be altered, a column cannot be renamed twice, the
 * distribution key cannot be dropped without a new one, the last column cannot go, and so on.
 */
import type { ColumnDef, TableDef } from '../schema/model.js';
import { type Encoding, ENCODINGS, type RedshiftType, TYPE_NAMES, formatRedshiftType, isEncoding, parseRedshiftType } from '../schema/types.js';
import { type Cursor, clip, show, suggestWord } from './cursor.js';
import type { Token } from './lexer.js';
import { type Literal, UNKEYABLE, checkDefault, checkEncoding, literalSql, parseStoredDefault } from './literals.js';
import { checkNameChars, nameToken, readNewName } from './names.js';
import type { Op } from './types.js';

export interface OpDefinition {
  /** the leading words, e.g. "add column" */
  name: string;
  usage: string;
  summary: string;
  examples: readonly string[];
}

export const OP_DEFINITIONS: readonly OpDefinition[] = [
  {
    name: 'add column',
    usage: 'add column <name> <type> [not null] [default <literal>] [encode <enc>]',
    summary: 'add a column at the end of the table; a NOT NULL column needs a default (existing rows get it)',
    examples: ['add column referrer varchar(256) encode zstd', "add column is_test boolean not null default false", "add column note varchar(64) default 'n/a'"],
  },
  {
    name: 'drop column',
    usage: 'drop column <name>',
    summary: 'drop a column (a distribution or sort key column needs a new key in the same command)',
    examples: ['drop column opq_id'],
  },
  {
    name: 'rename column',
    usage: 'rename column <name> to <new_name>',
    summary: 'rename a column (the new name is a plain lower-case name, not a reserved word)',
    examples: ['rename column opq_id to opaque_id'],
  },
  {
    name: 'alter column type',
    usage: 'alter column <name> type <type>',
    summary: 'change a column type (varchar widening runs in place; anything else is a deep copy)',
    examples: ['alter column source type varchar(1024)', 'alter column link type bigint'],
  },
  {
    name: 'alter column encode',
    usage: 'alter column <name> encode <enc>',
    summary: `change a column's compression encoding (${ENCODINGS.join(', ')})`,
    examples: ['alter column source encode zstd'],
  },
  {
    name: 'set distkey',
    usage: 'set distkey <column>',
    summary: 'distribute rows by a column (DISTSTYLE KEY)',
    examples: ['set distkey user_id'],
  },
  {
    name: 'set diststyle',
    usage: 'set diststyle even|all|auto',
    summary: 'distribute rows evenly, copy them to every node, or let Redshift choose',
    examples: ['set diststyle even'],
  },
  {
    name: 'set sortkey',
    usage: 'set sortkey [compound|interleaved] (<column>[, <column>…])  |  set sortkey none|auto',
    summary: 'replace the sort key (compound when no style is given; interleaved: at most 8 columns)',
    examples: ['set sortkey (created_at, id)', 'set sortkey interleaved (id, user_id, page_id)', 'set sortkey auto'],
  },
];

const usageOf = (name: string): string => OP_DEFINITIONS.find((d) => d.name === name)!.usage;

export const MAX_OPS = 200;
const OP_WORDS = ['add', 'drop', 'rename', 'alter', 'set'] as const;
const SET_WORDS = ['distkey', 'diststyle', 'sortkey'] as const;
/** words that may continue a type name: double precision, character varying, timestamp with(out) time zone */
const TYPE_CONTINUATION = new Set(['precision', 'varying', 'without', 'with', 'time', 'zone']);
const COLUMN_CLAUSE_WORDS = ['not', 'null', 'default', 'encode'];

interface SimColumn {
  name: string;
  type: RedshiftType;
  notNull: boolean;
  default: string | undefined;
  encode: Encoding | undefined;
  added: boolean;
  renamedFrom: string | undefined;
  typeChanged: Token | undefined;
  encodeChanged: Token | undefined;
}

/** The table as schemas/ has it, changed op by op. */
class Sim {
  readonly columns: SimColumn[];
  /** names that left the table in this command → why (lower case) */
  readonly gone = new Map<string, string>();
  /** the token of the drop op, by dropped name (for key checks at the end) */
  readonly dropTokens = new Map<string, Token>();
  distStyle: TableDef['distStyle'];
  distKey: string | undefined;
  sortStyle: TableDef['sortKey']['style'];
  sortColumns: string[];
  distChanged: Token | undefined;
  sortChanged: Token | undefined;

  constructor(readonly table: TableDef) {
    this.columns = table.columns.map((c) => {
      const p = parseRedshiftType(c.type);
      // schemas/ is validated by the model, so its types parse; an odd one reads as varchar(max) rather than crash
      const type: RedshiftType = p.ok ? p.type : { kind: 'varchar', length: 65535 };
      return { name: c.name, type, notNull: c.notNull, default: c.default, encode: c.encode, added: false, renamedFrom: undefined, typeChanged: undefined, encodeChanged: undefined };
    });
    this.distStyle = table.distStyle;
    this.distKey = table.distKey;
    this.sortStyle = table.sortKey.style;
    this.sortColumns = [...table.sortKey.columns];
  }

  find(name: string): SimColumn | undefined {
    const lower = name.toLowerCase();
    return this.columns.find((c) => c.name === lower) ?? this.columns.find((c) => c.name.toLowerCase() === lower);
  }

  names(): string[] {
    return this.columns.map((c) => c.name);
  }

  sortKeyText(): string {
    if (this.sortStyle === 'NONE' || this.sortStyle === 'AUTO') return this.sortStyle.toLowerCase();
    return `${this.sortStyle.toLowerCase()} (${this.sortColumns.join(', ')})`;
  }
}

/** Read an existing column (as the command has left the table so far). */
function readColumn(cur: Cursor, sim: Sim, after: string): { col: SimColumn; token: Token } {
  const tok = nameToken(cur, 'column name', after);
  checkNameChars(cur, tok, 'column name', { dollar: true, resolve: (ascii) => sim.find(ascii)?.name });
  const col = sim.find(tok.value);
  if (col === undefined) {
    const lower = tok.value.toLowerCase();
    const why = sim.gone.get(lower);
    if (why !== undefined) cur.fail(tok, `no column ${clip(lower)} in ${sim.table.name}: it is ${why}`);
    const hint = suggestWord(lower, sim.names());
    cur.fail(tok, `no column ${clip(lower)} in ${sim.table.name}${hint ? ` — did you mean ${hint}?` : ''}`, hint ? { suggestion: hint } : {});
  }
  return { col, token: tok };
}

/** A new name must not collide with a column, nor reuse a name this command removes. */
function checkFreeName(cur: Cursor, sim: Sim, name: string, tok: Token): void {
  const existing = sim.find(name);
  if (existing) cur.fail(tok, `${sim.table.name} already has a column ${existing.name}${existing.added ? ' (added earlier in this command)' : ''}`);
  const why = sim.gone.get(name);
  if (why !== undefined)
    cur.fail(tok, `column ${name} is ${why}; reusing its name in the same command is not supported — run two commands`);
}

/** `<type>`: words (double precision, timestamp without time zone…) and an optional (n[, m]) / (max). */
function readType(cur: Cursor, after: string): { type: RedshiftType; text: string; first: Token; last: Token } {
  const first = cur.peek();
  if (first === undefined) cur.fail(undefined, `expected a column type after ${after}`);
  if (first.kind === 'string' || first.kind === 'qident') cur.fail(first, `a type is not quoted: write it as is, e.g. varchar(64)`);
  if (first.kind !== 'word' || COLUMN_CLAUSE_WORDS.includes(first.value.toLowerCase()))
    cur.fail(first, `expected a column type after ${after}, found ${show(first)}`);
  cur.next();
  checkNameChars(cur, first, 'type');
  const words = [first.value.toLowerCase()];
  let last = first;
  while (cur.peek()?.kind === 'word' && TYPE_CONTINUATION.has(cur.peek()!.value.toLowerCase())) {
    last = cur.next()!;
    words.push(last.value.toLowerCase());
  }
  let args: string[] | undefined;
  const open = cur.acceptPunct('(');
  if (open) {
    args = [];
    for (;;) {
      const t = cur.next();
      if (t === undefined) cur.fail(open, 'this "(" is never closed', { word: '(' });
      if (t.kind === 'punct' && t.value === ')') {
        last = t;
        break;
      }
      if (t.kind === 'punct' && t.value === ',') {
        args.push(',');
        continue;
      }
      if (t.kind !== 'word' || !/^(?:\d{1,9}|max)$/i.test(t.value))
        cur.fail(t, `a type's length or precision is a whole number (or max), found ${show(t)}`);
      args.push(t.value.toLowerCase());
    }
  }
  const raw = cur.text.slice(first.start, last.end);
  const text = `${words.join(' ')}${args ? `(${args.join('')})` : ''}`;
  const p = parseRedshiftType(text);
  if (!p.ok) {
    if (p.error.startsWith('unknown type')) {
      const hint = suggestWord(words.join(' '), TYPE_NAMES);
      cur.failSpan(first, last, `unknown type ${clip(raw)}${hint ? ` — did you mean ${hint}?` : ' — see /redshift help modify for the types'}`, hint ? { suggestion: hint } : {});
    }
    cur.failSpan(first, last, p.error);
  }
  return { type: p.type, text: formatRedshiftType(p.type), first, last };
}

/** `<enc>` after the word encode. */
function readEncoding(cur: Cursor): { encode: Encoding; token: Token } {
  const t = cur.peek();
  if (t === undefined) cur.fail(undefined, `expected an encoding after encode (${ENCODINGS.join(', ')})`);
  if (t.kind !== 'word') cur.fail(t, `expected an encoding after encode, found ${show(t)} (${ENCODINGS.join(', ')})`);
  cur.next();
  checkNameChars(cur, t, 'encoding');
  const e = t.value.toLowerCase();
  if (!isEncoding(e)) {
    const hint = suggestWord(e, ENCODINGS);
    cur.fail(t, `unknown encoding ${clip(e)}${hint ? ` — did you mean ${hint}?` : ` (encodings: ${ENCODINGS.join(', ')})`}`, hint ? { suggestion: hint } : {});
  }
  return { encode: e, token: t };
}

/** `<literal>` after the word default. */
function readLiteral(cur: Cursor): { lit: Literal; first: Token; last: Token } {
  const what = "NULL, a number, a 'quoted string', true/false or getdate()";
  const t = cur.peek();
  if (t === undefined) cur.fail(undefined, `expected a value after default: ${what}`);
  if (t.kind === 'string') {
    cur.next();
    return { lit: { kind: 'string', value: t.value }, first: t, last: t };
  }
  if (t.kind === 'qident') {
    const q = `'${t.value.replace(/'/g, "''")}'`;
    cur.fail(t, `double quotes make a name, not a string: write ${clip(q)}`, { suggestion: q });
  }
  if (t.kind !== 'word') cur.fail(t, `expected a value after default: ${what}; found ${show(t)}`);
  cur.next();
  const w = t.value.toLowerCase();
  if (w === 'null') return { lit: { kind: 'null' }, first: t, last: t };
  if (w === 'true' || w === 'false') return { lit: { kind: 'bool', value: w === 'true' }, first: t, last: t };
  if (/^-?\d{1,38}(?:\.\d{1,38})?$/.test(w)) return { lit: { kind: 'number', text: w.replace(/^(-?)0+(?=\d)/, '$1') }, first: t, last: t };
  if (w === 'sysdate' || w === 'current_timestamp') return { lit: { kind: 'now', fn: w }, first: t, last: t };
  if (w === 'current_date') return { lit: { kind: 'current_date' }, first: t, last: t };
  if (w === 'getdate' || w === 'now') {
    const open = cur.acceptPunct('(');
    const close = open ? cur.acceptPunct(')') : undefined;
    if (w === 'now') cur.failSpan(t, close ?? t, 'Redshift has no now() default: use getdate()', { suggestion: 'getdate()' });
    if (!open || !close) cur.fail(t, 'write getdate() with its parentheses', { suggestion: 'getdate()' });
    return { lit: { kind: 'now', fn: 'getdate()' }, first: t, last: close };
  }
  if (/^-?\d+(?:\.\d+)?$/.test(w)) cur.fail(t, 'a default number has at most 38 digits before and after the point');
  if (/^[+-]?(?:\d*\.\d+|\d+\.|\d+e[+-]?\d+)$/i.test(w)) cur.fail(t, `write a number as digits with an optional decimal point (e.g. 0.5, -12)`);
  const q = `'${t.value.replace(/'/g, "''")}'`;
  return cur.fail(t, `default must be ${what}; found ${clip(t.value)} — did you mean the string ${clip(q)}?`, { suggestion: q });
}

/** A sensible non-NULL default to suggest for a NOT NULL column of this type. */
function defaultFor(type: RedshiftType): string {
  switch (type.kind) {
    case 'char':
    case 'varchar':
      return "''";
    case 'boolean':
      return 'false';
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return 'getdate()';
    case 'smallint':
    case 'integer':
    case 'bigint':
    case 'numeric':
    case 'real':
    case 'double precision':
      return '0';
    default:
      return '<value>';
  }
}

function parseAdd(cur: Cursor, sim: Sim): Op {
  cur.accept('column');
  const { name, token: nameTok } = readNewName(cur, 'column name', 'add column', (n, t) => checkFreeName(cur, sim, n, t));
  const type = readType(cur, name);
  let notNull: { first: Token; last: Token } | undefined;
  let nullTok: Token | undefined;
  let dflt: { lit: Literal; first: Token; last: Token } | undefined;
  let enc: { encode: Encoding; token: Token } | undefined;
  for (;;) {
    const t = cur.peek();
    if (t === undefined || (t.kind === 'punct' && t.value === ',')) break;
    const w = t.kind === 'word' ? t.value.toLowerCase() : '';
    if (w === 'not') {
      cur.next();
      const n = cur.peek();
      if (n === undefined || n.kind !== 'word' || n.value.toLowerCase() !== 'null') cur.fail(n, 'expected null after not', { suggestion: 'not null' });
      cur.next();
      if (notNull || nullTok) cur.failSpan(t, n, 'null / not null is given twice');
      notNull = { first: t, last: n };
    } else if (w === 'null') {
      cur.next();
      if (notNull || nullTok) cur.fail(t, 'null / not null is given twice');
      nullTok = t;
    } else if (w === 'default') {
      cur.next();
      if (dflt) cur.fail(t, 'default is given twice');
      dflt = readLiteral(cur);
    } else if (w === 'encode') {
      cur.next();
      if (enc) cur.fail(t, 'encode is given twice');
      enc = readEncoding(cur);
    } else {
      const hint = t.kind === 'word' ? suggestWord(w, COLUMN_CLAUSE_WORDS) : undefined;
      cur.fail(
        t,
        `unexpected ${show(t)} in add column ${name}: expected not null, default, encode, or a comma before the next op` +
          (hint ? ` — did you mean ${hint}?` : ''),
        hint ? { suggestion: hint } : {},
      );
    }
  }
  if (dflt) {
    const problem = checkDefault(dflt.lit, type.type);
    if (problem) cur.failSpan(dflt.first, dflt.last, problem.message, problem.suggestion !== undefined ? { suggestion: problem.suggestion } : {});
  }
  if (notNull) {
    const suggestion = `default ${defaultFor(type.type)}`;
    if (dflt === undefined)
      cur.failSpan(notNull.first, notNull.last, `column ${name} is not null but has no default: the rows already in ${sim.table.name} would violate it — add ${suggestion}`, {
        suggestion,
      });
    if (dflt.lit.kind === 'null') cur.failSpan(dflt.first, dflt.last, `default NULL contradicts not null — give a value, e.g. ${suggestion}`, { suggestion });
  }
  if (enc) {
    const problem = checkEncoding(enc.encode, type.type);
    if (problem) cur.fail(enc.token, problem);
  }
  if (sim.columns.length >= 1600) cur.fail(nameTok, `${sim.table.name} would have more than 1,600 columns, Redshift's limit`);
  const column: ColumnDef = { name, type: type.text, notNull: notNull !== undefined };
  if (dflt) column.default = literalSql(dflt.lit);
  if (enc) column.encode = enc.encode;
  sim.columns.push({
    name,
    type: type.type,
    notNull: column.notNull,
    default: column.default,
    encode: column.encode,
    added: true,
    renamedFrom: undefined,
    typeChanged: undefined,
    encodeChanged: undefined,
  });
  return { op: 'add_column', column };
}

function parseDrop(cur: Cursor, sim: Sim): Op {
  if (cur.isWord('table')) cur.fail(cur.peek(), 'modify changes a table; it does not drop tables', { usage: usageOf('drop column') });
  cur.accept('column');
  const { col, token } = readColumn(cur, sim, 'drop column');
  const earlier = col.added
    ? 'added'
    : col.renamedFrom !== undefined
      ? `renamed from ${col.renamedFrom}`
      : col.typeChanged
        ? 'given a new type'
        : col.encodeChanged
          ? 'given a new encoding'
          : undefined;
  if (earlier) cur.fail(token, `column ${col.name} is ${earlier} earlier in this command; dropping it too makes no sense — remove one of the two ops`);
  if (sim.columns.length === 1) cur.fail(token, `${col.name} is the last column of ${sim.table.name}; a table needs at least one column`);
  sim.columns.splice(sim.columns.indexOf(col), 1);
  sim.gone.set(col.name.toLowerCase(), 'dropped earlier in this command');
  sim.dropTokens.set(col.name, token);
  return { op: 'drop_column', column: col.name };
}

function parseRename(cur: Cursor, sim: Sim, renameWord: Token): Op {
  if (!cur.isWord('column')) {
    const t = cur.peek();
    cur.fail(t ?? renameWord, t?.kind === 'word' && t.value.toLowerCase() === 'to' ? 'renaming tables is not supported; rename column <name> to <new_name> renames a column' : 'expected column after rename', {
      suggestion: 'rename column',
    });
  }
  cur.next();
  const { col, token } = readColumn(cur, sim, 'rename column');
  if (col.added) cur.fail(token, `column ${col.name} is added in this command: give it the name you want in add column`);
  if (col.renamedFrom !== undefined) cur.fail(token, `column ${col.name} is already renamed in this command (from ${col.renamedFrom}); rename it once`);
  const to = cur.peek();
  if (to === undefined || to.kind !== 'word' || to.value.toLowerCase() !== 'to') cur.fail(to, `expected to after rename column ${col.name}`, { suggestion: 'to' });
  cur.next();
  const { name } = readNewName(cur, 'new column name', `rename column ${col.name} to`, (n, t) => {
    if (n === col.name) cur.fail(t, `column ${col.name} already has that name — nothing to change`);
    checkFreeName(cur, sim, n, t);
  });
  const from = col.name;
  sim.gone.set(from.toLowerCase(), `renamed to ${name} earlier in this command`);
  col.renamedFrom = from;
  col.name = name;
  if (sim.distKey === from) sim.distKey = name;
  sim.sortColumns = sim.sortColumns.map((c) => (c === from ? name : c));
  return { op: 'rename_column', from, to: name };
}

function parseAlter(cur: Cursor, sim: Sim): Op {
  if (cur.isWord('table')) cur.fail(cur.peek(), 'modify already names the table: write modify <table> alter column <name> …', { usage: usageOf('alter column type') });
  cur.accept('column');
  const { col, token } = readColumn(cur, sim, 'alter column');
  const what = cur.expectWord(['type', 'encode'], `type or encode after alter column ${col.name}`);
  if (what.word === 'type') {
    cur.usage = usageOf('alter column type');
    if (col.added) cur.fail(token, `column ${col.name} is added in this command: give its type in add column`);
    if (col.typeChanged) cur.fail(token, `the type of ${col.name} is already changed earlier in this command`);
    const type = readType(cur, `alter column ${col.name} type`);
    const current = formatRedshiftType(col.type);
    if (type.text === current) cur.failSpan(type.first, type.last, `column ${col.name} is already ${current} — nothing to change`);
    if (col.default !== undefined) {
      const lit = parseStoredDefault(col.default);
      const problem = lit ? checkDefault(lit, type.type) : undefined;
      if (problem) cur.failSpan(type.first, type.last, `column ${col.name} has default ${clip(col.default, 30)}, which does not fit ${type.text}: ${problem.message}`);
    }
    col.type = type.type;
    col.typeChanged = type.first;
    return { op: 'alter_column_type', column: col.name, type: type.text };
  }
  cur.usage = usageOf('alter column encode');
  if (col.added) cur.fail(token, `column ${col.name} is added in this command: give its encoding in add column`);
  if (col.encodeChanged) cur.fail(token, `the encoding of ${col.name} is already changed earlier in this command`);
  const enc = readEncoding(cur);
  if (enc.encode === col.encode) cur.fail(enc.token, `column ${col.name} is already encoded ${enc.encode} — nothing to change`);
  col.encode = enc.encode;
  col.encodeChanged = enc.token;
  return { op: 'alter_column_encode', column: col.name, encode: enc.encode };
}

function checkKeyable(cur: Cursor, col: SimColumn, token: Token, what: string): void {
  if (UNKEYABLE.has(col.type.kind)) cur.fail(token, `column ${col.name} is ${formatRedshiftType(col.type)}; Redshift cannot use that type in a ${what}`);
}

function parseSet(cur: Cursor, sim: Sim): Op {
  const { word, token: kw } = cur.expectWord(SET_WORDS, 'distkey, diststyle or sortkey after set');
  cur.usage = usageOf(`set ${word}`);
  if (word === 'distkey' || word === 'diststyle') {
    if (sim.distChanged) cur.fail(kw, 'the distribution is already set earlier in this command; set it once');
    sim.distChanged = kw;
  }
  if (word === 'distkey') {
    const { col, token } = readColumn(cur, sim, 'set distkey');
    checkKeyable(cur, col, token, 'distribution key');
    if (sim.distStyle === 'KEY' && sim.distKey === col.name) cur.fail(token, `${col.name} is already the distribution key of ${sim.table.name} — nothing to change`);
    sim.distStyle = 'KEY';
    sim.distKey = col.name;
    return { op: 'set_distkey', column: col.name };
  }
  if (word === 'diststyle') {
    const t = cur.peek();
    if (t?.kind === 'word' && t.value.toLowerCase() === 'key')
      cur.fail(t, 'diststyle key needs a column: write set distkey <column>', { suggestion: 'set distkey' });
    const { word: style, token } = cur.expectWord(['even', 'all', 'auto'], 'even, all or auto after set diststyle');
    const upper = style.toUpperCase() as 'EVEN' | 'ALL' | 'AUTO';
    if (sim.distStyle === upper) cur.fail(token, `${sim.table.name} already has diststyle ${style} — nothing to change`);
    sim.distStyle = upper;
    sim.distKey = undefined;
    return { op: 'set_diststyle', style: upper };
  }
  // sortkey
  if (sim.sortChanged) cur.fail(kw, 'the sort key is already set earlier in this command; set it once');
  sim.sortChanged = kw;
  let style: 'COMPOUND' | 'INTERLEAVED' | 'NONE' | 'AUTO' = 'COMPOUND';
  const t = cur.peek();
  if (t === undefined) cur.fail(undefined, 'expected compound, interleaved, (columns), none or auto after set sortkey');
  let styleTok: Token = kw;
  if (t.kind === 'word') {
    const w = t.value.toLowerCase();
    if (w === 'none' || w === 'auto') {
      cur.next();
      const s = w.toUpperCase() as 'NONE' | 'AUTO';
      if (sim.sortStyle === s) cur.fail(t, `${sim.table.name} already has sortkey ${w} — nothing to change`);
      sim.sortStyle = s;
      sim.sortColumns = [];
      return { op: 'set_sortkey', style: s, columns: [] };
    }
    if (w === 'compound' || w === 'interleaved') {
      cur.next();
      style = w.toUpperCase() as 'COMPOUND' | 'INTERLEAVED';
      styleTok = t;
    } else if (sim.find(w)) {
      cur.fail(t, `put the sort key columns in parentheses: set sortkey (${sim.find(w)!.name})`, { suggestion: `(${sim.find(w)!.name})` });
    } else {
      const hint = suggestWord(w, ['compound', 'interleaved', 'none', 'auto']);
      cur.fail(t, `expected compound, interleaved, (columns), none or auto after set sortkey, found ${show(t)}${hint ? ` — did you mean ${hint}?` : ''}`, hint ? { suggestion: hint } : {});
    }
  }
  const open = cur.peek();
  if (open === undefined || open.kind !== 'punct' || open.value !== '(')
    cur.fail(open, `expected ( and the sort key columns after ${cur.text.slice(kw.start, styleTok.end)}`);
  cur.next();
  const columns: string[] = [];
  for (;;) {
    const { col, token } = readColumn(cur, sim, columns.length === 0 ? 'set sortkey (' : 'a comma');
    checkKeyable(cur, col, token, 'sort key');
    if (columns.includes(col.name)) cur.fail(token, `column ${col.name} appears twice in the sort key`);
    columns.push(col.name);
    if (style === 'INTERLEAVED' && columns.length > 8) cur.fail(token, 'an interleaved sort key has at most 8 columns');
    if (columns.length > 400) cur.fail(token, 'a sort key has at most 400 columns');
    const sep = cur.next();
    if (sep === undefined) cur.fail(undefined, 'the sort key column list is never closed: end it with )');
    if (sep.kind === 'punct' && sep.value === ')') break;
    if (!(sep.kind === 'punct' && sep.value === ',')) cur.fail(sep, `expected , or ) in the sort key column list, found ${show(sep)}`);
  }
  if (sim.sortStyle === style && sim.sortColumns.length === columns.length && sim.sortColumns.every((c, i) => c === columns[i]))
    cur.fail(kw, `${sim.table.name} already has sortkey ${sim.sortKeyText()} — nothing to change`, { word: cur.text.slice(kw.start, cur.prev()!.end) });
  sim.sortStyle = style;
  sim.sortColumns = columns;
  return { op: 'set_sortkey', style, columns };
}

/** What `op` needs after the table is changed: keys on kept columns, encodings that fit the final types. */
function finalChecks(cur: Cursor, sim: Sim): void {
  const present = new Set(sim.names());
  if (sim.distStyle === 'KEY' && sim.distKey !== undefined && !present.has(sim.distKey)) {
    const tok = sim.dropTokens.get(sim.distKey);
    cur.fail(
      tok,
      `column ${sim.distKey} is the distribution key of ${sim.table.name}: dropping it needs a new one in the same command — add set distkey <column> or set diststyle even|all|auto`,
      { usage: usageOf('drop column') },
    );
  }
  const lost = sim.sortColumns.filter((c) => !present.has(c));
  if (lost.length > 0) {
    const tok = sim.dropTokens.get(lost[0]!);
    const rest = sim.sortColumns.filter((c) => present.has(c));
    const suggestion = rest.length > 0 ? `set sortkey ${sim.sortStyle.toLowerCase()} (${rest.join(', ')})` : 'set sortkey none';
    cur.fail(
      tok,
      `column ${lost[0]} is in the sort key of ${sim.table.name} (${sim.sortKeyText()}): dropping it needs a new sort key in the same command — e.g. ${suggestion}`,
      { suggestion, usage: usageOf('drop column') },
    );
  }
  for (const c of sim.columns) {
    if (c.encode === undefined || (!c.typeChanged && !c.encodeChanged)) continue;
    const problem = checkEncoding(c.encode, c.type);
    if (problem) cur.fail(c.encodeChanged ?? c.typeChanged, `column ${c.name}: ${problem}${c.encodeChanged ? '' : ' — also alter its encoding in this command'}`);
  }
}

/** `<op>[, <op>…]` up to the end of the tokens. */
export function parseOps(cur: Cursor, table: TableDef, commandUsage: string): Op[] {
  const sim = new Sim(table);
  const ops: Op[] = [];
  for (;;) {
    cur.usage = commandUsage;
    const t = cur.peek();
    if (t === undefined) cur.fail(undefined, ops.length === 0 ? `expected an op after ${table.name}: add, drop, rename, alter or set` : 'expected an op after ","');
    if (t.kind !== 'word') cur.fail(t, `expected an op (add, drop, rename, alter or set), found ${show(t)}`);
    checkNameChars(cur, t, 'keyword', { resolve: (a) => ((OP_WORDS as readonly string[]).includes(a) ? a : undefined) });
    const w = t.value.toLowerCase();
    cur.next();
    switch (w) {
      case 'add':
        cur.usage = usageOf('add column');
        ops.push(parseAdd(cur, sim));
        break;
      case 'drop':
        cur.usage = usageOf('drop column');
        ops.push(parseDrop(cur, sim));
        break;
      case 'rename':
        cur.usage = usageOf('rename column');
        ops.push(parseRename(cur, sim, t));
        break;
      case 'alter':
        cur.usage = `${usageOf('alter column type')}  |  ${usageOf('alter column encode')}`;
        ops.push(parseAlter(cur, sim));
        break;
      case 'set':
        cur.usage = OP_DEFINITIONS.filter((d) => d.name.startsWith('set ')).map((d) => d.usage).join('  |  ');
        ops.push(parseSet(cur, sim));
        break;
      default: {
        const hint = suggestWord(w, OP_WORDS);
        cur.fail(t, `unknown op ${clip(w)}${hint ? ` — did you mean ${hint}?` : ': ops start with add, drop, rename, alter or set'}`, hint ? { suggestion: hint } : {});
      }
    }
    if (ops.length > MAX_OPS) cur.fail(t, `at most ${MAX_OPS} ops in one command`);
    const sep = cur.peek();
    if (sep === undefined) break;
    if (sep.kind === 'punct' && sep.value === ',') {
      cur.next();
      continue;
    }
    const hint = sep.kind === 'word' && (OP_WORDS as readonly string[]).includes(sep.value.toLowerCase()) ? ' — separate ops with commas' : '';
    cur.fail(sep, `unexpected ${show(sep)} after ${opText(ops[ops.length - 1]!)}${hint}`);
  }
  cur.usage = commandUsage;
  finalChecks(cur, sim);
  return ops;
}

/** The canonical text of one op (round-trips through the parser). */
export function opText(op: Op): string {
  switch (op.op) {
    case 'add_column': {
      const c = op.column;
      return [
        `add column ${c.name} ${c.type}`,
        c.notNull ? ' not null' : '',
        c.default !== undefined ? ` default ${c.default}` : '',
        c.encode !== undefined ? ` encode ${c.encode}` : '',
      ].join('');
    }
    case 'drop_column':
      return `drop column ${op.column}`;
    case 'rename_column':
      return `rename column ${op.from} to ${op.to}`;
    case 'alter_column_type':
      return `alter column ${op.column} type ${op.type}`;
    case 'alter_column_encode':
      return `alter column ${op.column} encode ${op.encode}`;
    case 'set_distkey':
      return `set distkey ${op.column}`;
    case 'set_diststyle':
      return `set diststyle ${op.style.toLowerCase()}`;
    case 'set_sortkey':
      return op.columns.length === 0 ? `set sortkey ${op.style.toLowerCase()}` : `set sortkey ${op.style.toLowerCase()} (${op.columns.join(', ')})`;
  }
}
