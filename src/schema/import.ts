/**
 * The DDL importer: reads the .sql files teams really have (migration scripts with CREATE TABLE statements among
 * INSERT/ALTER/GRANT lines and comments) and turns every CREATE TABLE into a validated TableDef.
 *
 * No npm SQL parser reads Redshift's CREATE TABLE, so this is a small tokenizer (every token knows its line:col) and a
 * recursive-descent parser for CREATE TABLE only. Other statements are skipped and listed (kind + line). A statement that
 * cannot be read becomes a problem `file:line:col: message` and the parser carries on after the next `;` (or at the next
 * line that starts with CREATE TABLE, so one missing `;` does not swallow the following table).
 *
 * Names fold to lower case the way Redshift stores them by default (quoted names too: enable_case_sensitive_identifier is
 * off); names that need quoting (spaces, reserved words) are kept and quoted again by the renderer.
 */
import { DEFAULT_LITERAL, tableDef, type ReplicationDef, type TableDef, type TableDefInput } from './model.js';
import { ENCODINGS, formatRedshiftType, isEncoding, parseRedshiftType, suggest, TYPE_NAMES, type Encoding } from './types.js';

export interface ImportProblem {
  file: string;
  line: number;
  col: number;
  message: string;
}

export interface ImportResult {
  tables: TableDef[];
  skipped: Array<{ file: string; line: number; kind: string }>;
  problems: ImportProblem[];
}

export interface ImportOptions {
  /** file name used in every location (`file:line:col`) */
  file: string;
  /** schema of tables written without one (default ak_sumofus) */
  defaultSchema?: string;
  /** drop this prefix from table names (`new_core_action` → `core_action`), referenced tables included */
  stripPrefix?: string;
  /** put every imported table in this schema (same-schema foreign keys follow) */
  schemaOverride?: string;
  /** replication of every imported table (default: cdc) */
  replication?: ReplicationDef;
}

/** `file:line:col: message`, the form editors and CI annotate. */
export function formatProblem(p: ImportProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}

// ───────────────────────────── tokenizer ─────────────────────────────

type TokenKind = 'word' | 'qident' | 'number' | 'string' | 'punct' | 'meta' | 'error' | 'eof';

interface Token {
  kind: TokenKind;
  /** the source text (for 'error': the message) */
  text: string;
  /** word / qident: the name as Redshift stores it (folded to lower case); others: the text */
  value: string;
  line: number;
  col: number;
  /** no other token before it on its line */
  lineStart: boolean;
}

/** Redshift folds ASCII letters only. */
function fold(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const NUMBER = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;

/** Splits the whole text into tokens; an unterminated string or comment ends the stream with an 'error' token. */
function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let col = 1;
  let lastTokenLine = 0;

  const advance = (n: number): void => {
    for (let k = 0; k < n && i < src.length; k++) {
      if (src[i] === '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
      i++;
    }
  };
  const push = (kind: TokenKind, text: string, value: string, at: { line: number; col: number }): void => {
    tokens.push({ kind, text, value, line: at.line, col: at.col, lineStart: lastTokenLine !== at.line });
    lastTokenLine = line;
  };

  while (i < src.length) {
    const ch = src[i]!;
    const at = { line, col };
    if (/\s/.test(ch)) {
      advance(1);
      continue;
    }
    if (ch === '-' && src[i + 1] === '-') {
      while (i < src.length && src[i] !== '\n') advance(1);
      continue;
    }
    if (ch === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) {
        push('error', 'unterminated /* comment: add the closing */', '', at);
        return finish(tokens, line, col);
      }
      advance(end + 2 - i);
      continue;
    }
    if (ch === "'") {
      let j = i + 1;
      for (;;) {
        if (j >= src.length) {
          push('error', "unterminated string literal: add the closing ' (write '' for a quote inside a string)", '', at);
          return finish(tokens, line, col);
        }
        // Redshift reads a backslash in a string as an escape (QUOTE_LITERAL doubles backslashes): 'it\'s' is one string
        if (src[j] === '\\') {
          j += 2;
          continue;
        }
        if (src[j] === "'") {
          if (src[j + 1] === "'") {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      const text = src.slice(i, j + 1);
      advance(j + 1 - i);
      push('string', text, text, at);
      continue;
    }
    if (ch === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= src.length) {
          push('error', 'unterminated quoted name: add the closing "', '', at);
          return finish(tokens, line, col);
        }
        if (src[j] === '"') {
          if (src[j + 1] === '"') {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      const text = src.slice(i, j + 1);
      advance(j + 1 - i);
      push('qident', text, fold(text.slice(1, -1).replace(/""/g, '"')), at);
      continue;
    }
    if (ch === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(src.slice(i, i + 66));
      if (m) {
        const end = src.indexOf(m[0], i + m[0].length);
        if (end < 0) {
          push('error', `unterminated ${m[0]}-quoted string: add the closing ${m[0]}`, '', at);
          return finish(tokens, line, col);
        }
        const text = src.slice(i, end + m[0].length);
        advance(text.length);
        push('string', text, text, at);
        continue;
      }
    }
    if (ch === '\\' && lastTokenLine !== line) {
      // a psql meta-command (\set ON_ERROR_STOP on, \connect db, \i file.sql): the rest of the line
      let j = i;
      while (j < src.length && src[j] !== '\n') j++;
      const text = src.slice(i, j).trimEnd();
      advance(j - i);
      push('meta', text, text, at);
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(src)!;
      advance(m[0].length);
      push('number', m[0], m[0], at);
      continue;
    }
    if (WORD_START.test(ch)) {
      let j = i + 1;
      while (j < src.length && WORD_CHAR.test(src[j]!)) j++;
      const text = src.slice(i, j);
      advance(j - i);
      push('word', text, fold(text), at);
      continue;
    }
    const two = src.slice(i, i + 2);
    const text = two === '::' ? two : ch;
    advance(text.length);
    push('punct', text, text, at);
  }
  return finish(tokens, line, col);
}

function finish(tokens: Token[], line: number, col: number): Token[] {
  tokens.push({ kind: 'eof', text: '', value: '', line, col, lineStart: true });
  return tokens;
}

// ───────────────────────────── parser ─────────────────────────────

class ParseError extends Error {
  constructor(
    readonly token: Token,
    message: string,
  ) {
    super(message);
  }
}

/** First words of statements the importer knows and skips. An unknown first word is a problem (it may be a typo'd CREATE). */
const STATEMENTS = new Set(
  `abort alter analyse analyze begin call cancel close comment commit copy create deallocate declare delete do drop end execute
explain fetch grant insert lock merge prepare refresh reset revoke rollback savepoint select set show start truncate unload
update vacuum values with`.split(/\s+/),
);
/** Words after CREATE (and OR REPLACE / TEMP …) that name an object other than a table: skipped. */
const CREATE_OBJECTS = new Set(
  `database datashare external function group library materialized model procedure role schema user view`.split(' '),
);
const TABLE_CONSTRAINT_START = new Set(['constraint', 'primary', 'unique', 'foreign', 'check', 'like', 'exclude']);

/** What a table needs besides the TableDef: where each part was written, so validation errors point at it. */
interface Located {
  input: TableDefInput;
  /** path (joined with '.') → token, for zod issues */
  locs: Map<string, Token>;
  create: Token;
}

interface NameRef {
  value: string;
  token: Token;
}

class Parser {
  private pos = 0;
  readonly result: ImportResult = { tables: [], skipped: [], problems: [] };
  private readonly defaultSchema: string;
  private readonly seen = new Map<string, Token>();

  constructor(
    private readonly tokens: Token[],
    private readonly opts: ImportOptions,
  ) {
    this.defaultSchema = opts.defaultSchema ?? 'ak_sumofus';
  }

  // ── token access ──
  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]!;
  }
  /** The current token; a tokenizer error here becomes the statement's problem. */
  private cur(): Token {
    const t = this.peek();
    if (t.kind === 'error') throw new ParseError(t, t.text);
    return t;
  }
  private next(): Token {
    const t = this.cur();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }
  private isWord(w: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'word' && t.value === w;
  }
  private isPunct(p: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'punct' && t.value === p;
  }
  private acceptWord(w: string): Token | undefined {
    if (this.isWord(w)) return this.next();
    this.cur();
    return undefined;
  }
  private expectWord(w: string, context: string): Token {
    if (this.isWord(w)) return this.next();
    throw new ParseError(this.cur(), `expected ${w.toUpperCase()} ${context}, found ${describe(this.cur())}`);
  }
  private expectPunct(p: string, context: string): Token {
    if (this.isPunct(p)) return this.next();
    throw new ParseError(this.cur(), `expected '${p}' ${context}, found ${describe(this.cur())}`);
  }
  private name(what: string): NameRef {
    const t = this.cur();
    if (t.kind === 'word' || t.kind === 'qident') {
      this.pos++;
      return { value: t.value, token: t };
    }
    if (t.kind === 'punct' && t.value === '`') throw new ParseError(t, `backquoted names are MySQL syntax; Redshift quotes names with double quotes ("name")`);
    throw new ParseError(t, `expected ${what}, found ${describe(t)}`);
  }
  /** `( a, b, … )` of names */
  private nameList(what: string): NameRef[] {
    const open = this.expectPunct('(', `before the ${what} list`);
    const out: NameRef[] = [];
    for (;;) {
      out.push(this.name(what));
      if (this.isPunct(',')) {
        this.next();
        continue;
      }
      if (this.isPunct(')')) {
        this.next();
        return out;
      }
      throw new ParseError(this.cur(), `expected ',' or ')' in the ${what} list opened at ${open.line}:${open.col}, found ${describe(this.cur())}`);
    }
  }

  private problem(t: Token, message: string): void {
    this.result.problems.push({ file: this.opts.file, line: t.line, col: t.col, message });
  }

  /** Tokens up to and including the next `;`, or up to a line that starts with CREATE TABLE (a missing `;`). */
  private skipStatement(start: Token): void {
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return;
      if (t.kind === 'error') throw new ParseError(t, t.text);
      if (t.kind === 'punct' && t.value === ';') {
        this.pos++;
        return;
      }
      if (t !== start && this.startsCreateTable(t)) {
        throw new ParseError(t, `missing ';' before this CREATE TABLE (the statement at line ${start.line} never ends)`);
      }
      this.pos++;
    }
  }

  private startsCreateTable(t: Token): boolean {
    return t.lineStart && t.kind === 'word' && t.value === 'create' && this.peek(1).kind === 'word' && this.peek(1).value === 'table';
  }

  /** After a problem: on to the next `;` (consumed) or a line starting with CREATE TABLE. Always makes progress. */
  private recover(statementStart: number): void {
    if (this.pos <= statementStart) this.pos = statementStart + 1;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof' || t.kind === 'error') return;
      if (t.kind === 'punct' && t.value === ';') {
        this.pos++;
        return;
      }
      if (this.startsCreateTable(t)) return;
      this.pos++;
    }
  }

  // ── statements ──
  run(): ImportResult {
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') break;
      if (t.kind === 'error') {
        this.problem(t, t.text);
        break;
      }
      if (t.kind === 'punct' && t.value === ';') {
        this.pos++;
        continue;
      }
      if (t.kind === 'meta') {
        this.pos++;
        this.skip(t, `psql ${t.text.split(/\s/)[0]}`);
        continue;
      }
      const start = this.pos;
      try {
        this.statement();
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        this.problem(e.token, e.message);
        if (e.token.kind === 'error') break;
        this.recover(start);
      }
    }
    return this.result;
  }

  private statement(): void {
    const first = this.cur();
    if (first.kind !== 'word') throw new ParseError(first, `expected a statement, found ${describe(first)}`);
    if (first.value === 'create') return this.create();
    if (!STATEMENTS.has(first.value)) {
      const hint = suggest(first.value, [...STATEMENTS]);
      throw new ParseError(first, `unknown statement ${first.text.toUpperCase()}${hint ? ` — did you mean ${hint.toUpperCase()}?` : ''}`);
    }
    let kind = first.value.toUpperCase();
    const second = this.peek(1);
    if ((first.value === 'alter' || first.value === 'drop' || first.value === 'comment') && second.kind === 'word') {
      kind += ` ${second.value.toUpperCase()}`;
    }
    this.next();
    this.skipStatement(first);
    this.skip(first, kind);
  }

  private skip(at: Token, kind: string): void {
    this.result.skipped.push({ file: this.opts.file, line: at.line, kind });
  }

  private create(): void {
    const create = this.next();
    const words: string[] = [];
    if (this.isWord('or') && this.isWord('replace', 1)) {
      this.next();
      this.next();
      words.push('OR REPLACE');
    }
    let temp = false;
    for (;;) {
      if (this.isWord('temp') || this.isWord('temporary') || this.isWord('local') || this.isWord('global')) {
        temp = true;
        words.push(this.next().value.toUpperCase());
        continue;
      }
      break;
    }
    const obj = this.cur();
    if (obj.kind === 'word' && obj.value === 'table' && !temp && words.length === 0) return this.createTable(create);
    if (obj.kind === 'word' && (obj.value === 'table' || CREATE_OBJECTS.has(obj.value))) {
      this.next();
      this.skipStatement(create);
      this.skip(create, ['CREATE', ...words, obj.value.toUpperCase()].join(' '));
      return;
    }
    const hint = obj.kind === 'word' ? suggest(obj.value, ['table', ...CREATE_OBJECTS]) : undefined;
    throw new ParseError(obj, `expected TABLE after CREATE, found ${describe(obj)}${hint ? ` — did you mean ${hint.toUpperCase()}?` : ''}`);
  }

  // ── CREATE TABLE ──
  private createTable(create: Token): void {
    this.next(); // TABLE
    if (this.isWord('if')) {
      this.next();
      this.expectWord('not', 'in IF NOT EXISTS');
      this.expectWord('exists', 'in IF NOT EXISTS');
    }
    const first = this.name('a table name');
    let writtenSchema: NameRef | undefined;
    let table = first;
    if (this.isPunct('.')) {
      this.next();
      writtenSchema = first;
      table = this.name('a table name after the schema');
      if (this.isPunct('.')) throw new ParseError(this.cur(), 'three-part names (database.schema.table) are not supported; write schema.table');
    }
    const tableSchema = writtenSchema?.value ?? this.defaultSchema;
    const schema = this.opts.schemaOverride ?? tableSchema;
    const tableName = this.strip(table.value);
    const label = `${schema}.${tableName}`;

    if (this.isWord('as')) throw new ParseError(this.cur(), `CREATE TABLE ${label} AS SELECT has no column list; write the table with explicit columns to import it`);
    if (this.isWord('like')) throw new ParseError(this.cur(), `CREATE TABLE ${label} LIKE … is not supported; write the table with explicit columns to import it`);
    if (!this.isPunct('(')) throw new ParseError(this.cur(), `expected '(' and the column list after the table name ${label}, found ${describe(this.cur())}`);
    const open = this.next();

    const locs = new Map<string, Token>();
    const columns: NonNullable<TableDefInput['columns']> = [];
    const unique: string[][] = [];
    const foreignKeys: NonNullable<TableDefInput['foreignKeys']> = [];
    type SortKey = { style: 'AUTO' | 'COMPOUND' | 'INTERLEAVED'; columns: NameRef[]; token: Token; columnLevel: boolean };
    /** what the statement said so far (an object, so the helpers below can set it) */
    const st: {
      primaryKey?: { columns: string[]; token: Token };
      distKey?: { column: NameRef; token: Token };
      distStyle?: { value: 'AUTO' | 'EVEN' | 'ALL' | 'KEY'; token: Token };
      sortKey?: SortKey;
    } = {};

    const setPrimaryKey = (cols: NameRef[], at: Token): void => {
      if (st.primaryKey !== undefined) throw new ParseError(at, `table ${label} has two primary keys (the first at ${st.primaryKey.token.line}:${st.primaryKey.token.col})`);
      st.primaryKey = { columns: cols.map((c) => c.value), token: at };
      cols.forEach((c, i) => locs.set(`primaryKey.${i}`, c.token));
    };
    const addUnique = (cols: NameRef[]): void => {
      cols.forEach((c, j) => locs.set(`unique.${unique.length}.${j}`, c.token));
      unique.push(cols.map((c) => c.value));
    };
    const addForeignKey = (cols: NameRef[], at: Token): void => {
      this.expectWord('references', 'after the foreign key columns');
      const refFirst = this.name('the referenced table');
      let refSchema: string | undefined;
      let refTable = refFirst;
      if (this.isPunct('.')) {
        this.next();
        refSchema = refFirst.value;
        refTable = this.name('the referenced table after the schema');
      }
      if (!this.isPunct('(')) {
        throw new ParseError(this.cur(), `REFERENCES ${refTable.value} needs the referenced column list, e.g. REFERENCES ${refTable.value} (id)`);
      }
      const refCols = this.nameList('referenced column');
      // a reference into the table's own schema is stored without a schema, so it follows the table (schemaOverride, render)
      const resolved = refSchema ?? this.defaultSchema;
      const i = foreignKeys.length;
      locs.set(`foreignKeys.${i}`, at);
      cols.forEach((c, j) => locs.set(`foreignKeys.${i}.columns.${j}`, c.token));
      refCols.forEach((c, j) => locs.set(`foreignKeys.${i}.references.columns.${j}`, c.token));
      locs.set(`foreignKeys.${i}.references.table`, refTable.token);
      if (refSchema !== undefined) locs.set(`foreignKeys.${i}.references.schema`, refFirst.token);
      foreignKeys.push({
        columns: cols.map((c) => c.value),
        references: {
          ...(resolved === tableSchema ? {} : { schema: resolved }),
          table: this.strip(refTable.value),
          columns: refCols.map((c) => c.value),
        },
      });
      if (this.isWord('on') || this.isWord('match')) {
        throw new ParseError(this.cur(), `${this.cur().text.toUpperCase()} clauses of a foreign key are not supported by Redshift`);
      }
    };
    const setDistKey = (col: NameRef, at: Token): void => {
      const d = st.distKey;
      if (d !== undefined) throw new ParseError(at, `table ${label} has two DISTKEYs (${d.column.value} at ${d.token.line}:${d.token.col}, then ${col.value})`);
      st.distKey = { column: col, token: at };
      locs.set('distKey', col.token);
    };
    const setSortKey = (sk: SortKey): void => {
      const prev = st.sortKey;
      if (prev !== undefined) {
        if (prev.columnLevel && sk.columnLevel) {
          throw new ParseError(
            sk.token,
            `only one column can be marked SORTKEY; for a key of several columns write SORTKEY (${prev.columns[0]!.value}, ${sk.columns[0]!.value}) after the column list`,
          );
        }
        throw new ParseError(sk.token, `table ${label} has two sort keys (the first at ${prev.token.line}:${prev.token.col})`);
      }
      st.sortKey = sk;
      locs.set('sortKey', sk.token);
      sk.columns.forEach((c, i) => locs.set(`sortKey.columns.${i}`, c.token));
    };

    // ── the column list ──
    if (this.isPunct(')')) throw new ParseError(this.cur(), `table ${label} has no columns`);
    for (;;) {
      const t = this.cur();
      let after: string;
      if (t.kind === 'word' && TABLE_CONSTRAINT_START.has(t.value)) {
        const start = t;
        if (this.acceptWord('constraint')) this.name('a constraint name');
        const kw = this.cur();
        if (this.isWord('primary')) {
          this.next();
          this.expectWord('key', 'after PRIMARY');
          setPrimaryKey(this.nameList('primary key column'), start);
        } else if (this.isWord('unique')) {
          this.next();
          addUnique(this.nameList('unique column'));
        } else if (this.isWord('foreign')) {
          this.next();
          this.expectWord('key', 'after FOREIGN');
          addForeignKey(this.nameList('foreign key column'), start);
        } else if (this.isWord('check')) {
          throw new ParseError(kw, 'CHECK constraints are not supported by Redshift');
        } else if (this.isWord('like')) {
          throw new ParseError(kw, `LIKE inside the column list is not supported; write the columns of ${label} out`);
        } else {
          throw new ParseError(kw, `expected PRIMARY KEY, UNIQUE or FOREIGN KEY after CONSTRAINT name, found ${describe(kw)}`);
        }
        after = 'the table constraint';
      } else {
        const colName = this.name('a column name');
        const i = columns.length;
        locs.set(`columns.${i}`, colName.token);
        const typeTok = this.cur();
        const type = this.type();
        locs.set(`columns.${i}.type`, typeTok);
        const col: (typeof columns)[number] = { name: colName.value, type, notNull: false };
        let nullToken: Token | undefined;
        for (;;) {
          const a = this.cur();
          if (a.kind !== 'word') break;
          if (a.value === 'not' && this.isWord('null', 1)) {
            if (nullToken !== undefined && col.notNull === false) throw new ParseError(a, `column ${colName.value} is both NULL and NOT NULL`);
            this.next();
            this.next();
            col.notNull = true;
            nullToken = a;
          } else if (a.value === 'null') {
            if (col.notNull) throw new ParseError(a, `column ${colName.value} is both NOT NULL and NULL`);
            this.next();
            nullToken = a;
          } else if (a.value === 'default') {
            this.next();
            if (col.default !== undefined) throw new ParseError(a, `column ${colName.value} has two DEFAULTs`);
            locs.set(`columns.${i}.default`, this.cur());
            col.default = this.defaultValue(colName.value);
          } else if (a.value === 'encode') {
            this.next();
            const enc = this.cur();
            if (enc.kind !== 'word') throw new ParseError(enc, `expected a column encoding after ENCODE, found ${describe(enc)}`);
            if (!isEncoding(enc.value)) {
              const hint = suggest(enc.value, ENCODINGS);
              throw new ParseError(enc, `unknown column encoding "${enc.value}"${hint ? ` — did you mean ${hint}?` : ''} (one of ${ENCODINGS.join(', ')})`);
            }
            if (col.encode !== undefined) throw new ParseError(a, `column ${colName.value} has two ENCODEs`);
            this.next();
            col.encode = enc.value as Encoding;
            locs.set(`columns.${i}.encode`, enc);
          } else if (a.value === 'distkey') {
            this.next();
            setDistKey(colName, a);
          } else if (a.value === 'sortkey') {
            this.next();
            setSortKey({ style: 'COMPOUND', columns: [colName], token: a, columnLevel: true });
          } else if (a.value === 'primary') {
            this.next();
            this.expectWord('key', 'after PRIMARY');
            setPrimaryKey([colName], a);
          } else if (a.value === 'unique') {
            this.next();
            addUnique([colName]);
          } else if (a.value === 'references') {
            addForeignKey([colName], a);
          } else if (a.value === 'constraint') {
            this.next();
            this.name('a constraint name');
          } else if (a.value === 'identity' || a.value === 'generated') {
            throw new ParseError(a, `IDENTITY columns are not supported (column ${colName.value}): the importer keeps replicated tables, whose ids come from the source; drop the IDENTITY clause`);
          } else if (a.value === 'collate') {
            throw new ParseError(a, `COLLATE on column ${colName.value} is not supported`);
          } else if (a.value === 'check') {
            throw new ParseError(a, 'CHECK constraints are not supported by Redshift');
          } else {
            break;
          }
        }
        columns.push(col);
        after = `column ${colName.value}`;
      }
      if (this.isPunct(',')) {
        this.next();
        if (this.isPunct(')')) throw new ParseError(this.cur(), `a ',' before ')' leaves an empty item in the column list of ${label}`);
        continue;
      }
      if (this.isPunct(')')) {
        this.next();
        break;
      }
      const bad = this.cur();
      if (bad.kind === 'eof' || (bad.kind === 'punct' && bad.value === ';') || this.startsCreateTable(bad)) {
        throw new ParseError(bad, `missing ')' to close the column list of ${label} opened at ${open.line}:${open.col}`);
      }
      throw new ParseError(bad, `unexpected ${describe(bad)} after ${after} in ${label}: expected ',' or ')'${after.startsWith('column') ? ' or a column attribute (NOT NULL, NULL, DEFAULT, ENCODE, DISTKEY, SORTKEY, PRIMARY KEY, UNIQUE, REFERENCES)' : ''}`);
    }

    // ── table attributes, in any order ──
    for (;;) {
      const a = this.cur();
      if (a.kind === 'eof') break;
      if (a.kind === 'punct' && a.value === ';') {
        this.next();
        break;
      }
      if (a.kind !== 'word') throw this.garbage(a, label);
      if (a.value === 'diststyle') {
        this.next();
        const s = this.cur();
        const v = s.kind === 'word' ? s.value.toUpperCase() : '';
        if (v !== 'AUTO' && v !== 'EVEN' && v !== 'ALL' && v !== 'KEY') throw new ParseError(s, `expected AUTO, EVEN, ALL or KEY after DISTSTYLE, found ${describe(s)}`);
        if (st.distStyle !== undefined) throw new ParseError(a, `table ${label} has two DISTSTYLEs`);
        this.next();
        st.distStyle = { value: v, token: a };
      } else if (a.value === 'distkey') {
        this.next();
        const cols = this.nameList('distkey column');
        if (cols.length !== 1) throw new ParseError(cols[1]!.token, 'DISTKEY takes exactly one column');
        setDistKey(cols[0]!, a);
      } else if (a.value === 'compound' || a.value === 'interleaved') {
        this.next();
        this.expectWord('sortkey', `after ${a.text.toUpperCase()}`);
        setSortKey({ style: a.value === 'compound' ? 'COMPOUND' : 'INTERLEAVED', columns: this.nameList('sort key column'), token: a, columnLevel: false });
      } else if (a.value === 'sortkey') {
        this.next();
        if (this.isWord('auto')) {
          this.next();
          setSortKey({ style: 'AUTO', columns: [], token: a, columnLevel: false });
        } else {
          setSortKey({ style: 'COMPOUND', columns: this.nameList('sort key column'), token: a, columnLevel: false });
        }
      } else if (a.value === 'encode') {
        this.next();
        if (!this.isWord('auto')) throw new ParseError(this.cur(), `expected AUTO after the table attribute ENCODE, found ${describe(this.cur())} (column encodings go after the column's type)`);
        this.next();
      } else if (a.value === 'backup') {
        this.next();
        if (!this.isWord('yes') && !this.isWord('no')) throw new ParseError(this.cur(), `expected YES or NO after BACKUP, found ${describe(this.cur())}`);
        this.next();
      } else {
        throw this.garbage(a, label);
      }
    }

    // dist style / key agreement, located at the clause that disagrees
    const { distStyle, distKey, sortKey, primaryKey } = st;
    let finalStyle: 'AUTO' | 'EVEN' | 'ALL' | 'KEY' = 'AUTO';
    if (distStyle !== undefined) {
      finalStyle = distStyle.value;
      if (distKey !== undefined && distStyle.value !== 'KEY') {
        const later = isBefore(distStyle.token, distKey.token) ? distKey.token : distStyle.token;
        throw new ParseError(later, `DISTKEY (${distKey.column.value}) needs DISTSTYLE KEY, but ${label} says DISTSTYLE ${distStyle.value}`);
      }
      if (distKey === undefined && distStyle.value === 'KEY') throw new ParseError(distStyle.token, `DISTSTYLE KEY needs a DISTKEY (column) in ${label}`);
    } else if (distKey !== undefined) {
      finalStyle = 'KEY';
    }

    const prev = this.seen.get(label);
    if (prev !== undefined) throw new ParseError(create, `table ${label} is defined twice (first at line ${prev.line}); keep one CREATE TABLE per table`);
    this.seen.set(label, create);

    const input: TableDefInput = {
      schema,
      name: tableName,
      columns,
      ...(primaryKey !== undefined ? { primaryKey: primaryKey.columns } : {}),
      unique,
      foreignKeys,
      distStyle: finalStyle,
      ...(distKey !== undefined ? { distKey: distKey.column.value } : {}),
      sortKey: sortKey === undefined ? { style: 'NONE', columns: [] } : { style: sortKey.style, columns: sortKey.columns.map((c) => c.value) },
      replication: this.opts.replication ?? { provider: 'cdc' },
    };
    locs.set('schema', writtenSchema?.token ?? table.token);
    locs.set('name', table.token);
    this.accept({ input, locs, create });
  }

  /** Validate with the model; every zod issue becomes a problem at the part of the statement it is about. */
  private accept(l: Located): void {
    const parsed = tableDef.safeParse(l.input);
    if (parsed.success) {
      this.result.tables.push(parsed.data);
      return;
    }
    for (const issue of parsed.error.issues) {
      const t = locate(issue, l);
      this.problem(t, `table ${l.input.schema}.${l.input.name}: ${issue.message}`);
    }
  }

  private garbage(a: Token, label: string): ParseError {
    if (this.startsCreateTable(a)) return new ParseError(a, `missing ';' after the CREATE TABLE of ${label}`);
    return new ParseError(
      a,
      `unexpected ${describe(a)} after the column list of ${label}: expected DISTSTYLE, DISTKEY, [COMPOUND|INTERLEAVED] SORTKEY, SORTKEY AUTO, ENCODE AUTO, BACKUP or ';'`,
    );
  }

  private strip(name: string): string {
    const p = this.opts.stripPrefix;
    if (p !== undefined && p !== '' && name.startsWith(p) && name.length > p.length) return name.slice(p.length);
    return name;
  }

  /** A type as written (`double precision`, `character varying(255)`, `varchar(max)`), checked against the allow-list. */
  private type(): string {
    const start = this.cur();
    if (start.kind !== 'word') throw new ParseError(start, `expected a type, found ${describe(start)}`);
    let name = this.next().value;
    while (this.peek().kind === 'word') {
      const candidate = `${name} ${this.peek().value}`;
      if (!TYPE_NAMES.some((n) => n === candidate || n.startsWith(`${candidate} `))) break;
      name = candidate;
      this.next();
    }
    let args = '';
    if (this.isPunct('(')) {
      const open = this.next();
      const parts: string[] = [];
      for (;;) {
        const t = this.cur();
        if (t.kind === 'number' || (t.kind === 'word' && t.value === 'max')) parts.push(this.next().value);
        else throw new ParseError(t, `expected a length or precision in the arguments of type ${name} opened at ${open.line}:${open.col}, found ${describe(t)}`);
        if (this.isPunct(',')) {
          parts.push(this.next().value);
          continue;
        }
        if (this.isPunct(')')) {
          this.next();
          break;
        }
        throw new ParseError(this.cur(), `missing ')' after the arguments of type ${name} opened at ${open.line}:${open.col}, found ${describe(this.cur())}`);
      }
      args = `(${parts.join('')})`;
    }
    if (this.isPunct('[')) throw new ParseError(this.cur(), 'array types are not Redshift types');
    const p = parseRedshiftType(`${name}${args}`);
    if (!p.ok) throw new ParseError(start, p.error);
    return formatRedshiftType(p.type);
  }

  /** DEFAULT <literal> [::type] — the literals the model allows; the cast (as pg_dump-like tools write it) is checked and dropped. */
  private defaultValue(column: string): string {
    const t = this.cur();
    let text: string | undefined;
    if (t.kind === 'string' && t.text.startsWith("'")) {
      text = t.text;
      this.next();
    } else if (t.kind === 'number') {
      text = t.text;
      this.next();
    } else if (t.kind === 'punct' && t.value === '-' && this.peek(1).kind === 'number') {
      this.next();
      text = `-${this.next().text}`;
    } else if (t.kind === 'word' && ['null', 'true', 'false', 'sysdate', 'current_date', 'current_timestamp'].includes(t.value)) {
      text = t.value === 'null' ? 'NULL' : t.value;
      this.next();
    } else if (t.kind === 'word' && t.value === 'getdate' && this.isPunct('(', 1) && this.isPunct(')', 2)) {
      this.next();
      this.next();
      this.next();
      text = 'getdate()';
    } else if (t.kind === 'punct' && t.value === '(') {
      throw new ParseError(t, `DEFAULT of column ${column}: write the literal without parentheses`);
    }
    if (text !== undefined && text.includes('\\')) {
      throw new ParseError(t, `DEFAULT ${t.text} for column ${column}: backslash escapes in defaults are not supported; write a quote as '' and leave other characters unescaped`);
    }
    if (text === undefined || !DEFAULT_LITERAL.test(text)) {
      throw new ParseError(
        t,
        `unsupported DEFAULT ${t.kind === 'eof' ? '(nothing)' : t.text} for column ${column}: a default must be NULL, a number, a quoted string ('it''s'), true/false, getdate(), sysdate, current_date or current_timestamp`,
      );
    }
    if (this.isPunct('::')) {
      this.next();
      this.type();
    }
    if (this.peek().kind === 'punct' && ['+', '-', '*', '/', '||'].includes(this.peek().value)) {
      throw new ParseError(this.peek(), `DEFAULT of column ${column} must be a single literal, not an expression`);
    }
    return text;
  }
}

function isBefore(a: Token, b: Token): boolean {
  return a.line < b.line || (a.line === b.line && a.col < b.col);
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of file';
    case 'string':
      return `string ${t.text.length > 30 ? `${t.text.slice(0, 27)}...` : t.text}`;
    case 'punct':
      return `'${t.text}'`;
    case 'error':
      return t.text;
    case 'meta':
      return `psql command ${t.text.split(/\s/)[0]}`;
    default:
      return `"${t.text}"`;
  }
}

/** The token a zod issue is about: the longest recorded prefix of its path, else the CREATE keyword. */
function locate(issue: { path: readonly PropertyKey[] }, l: Located): Token {
  const path = issue.path.map(String);
  for (let n = path.length; n > 0; n--) {
    const t = l.locs.get(path.slice(0, n).join('.'));
    if (t !== undefined) return t;
  }
  return l.create;
}

/** Read every CREATE TABLE of a .sql text into TableDefs; everything else is listed as skipped or as a located problem. */
export function importDdl(text: string, opts: ImportOptions): ImportResult {
  const parser = new Parser(tokenize(text), opts);
  return parser.run();
}
