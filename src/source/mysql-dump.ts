/**
 * A tolerant reader of MySQL `SHOW CREATE TABLE` output as people paste it: mysqldump files, `\G` output, the mysql
 * client's table box (with literal `\n`), CRLF, typographic quotes, non-breaking spaces. It reads every CREATE TABLE
 * into the same SourceSchema information_schema gives (import-mysql.ts maps both), and nothing is dropped silently:
 *
 *   - client decorations and stray characters it cleaned up are `notes` (line:col);
 *   - statements that are not CREATE TABLE are `skipped` (line, kind);
 *   - what it cannot read is a `problem` (line:col) — the rest of the table, and the file, are still read.
 *
 * Cleaning keeps every character's line and column (replaced characters become spaces), so locations point into the
 * file as given. A CREATE TABLE that lacks its `;` ends at the next line starting with CREATE or at a decoration line.
 */
import type { SourceColumn, SourceForeignKey, SourceIndex, SourceLocation, SourceSchema } from './port.js';

export interface DumpMessage extends SourceLocation {
  message: string;
}

export interface DumpResult {
  schema: SourceSchema;
  skipped: Array<{ line: number; kind: string }>;
  notes: DumpMessage[];
  problems: DumpMessage[];
}

// ───────────────────────────── cleaning ─────────────────────────────

const STRAY: Record<string, string> = { '\u00a0': ' ', '\u200b': ' ', '\u2007': ' ', '\u202f': ' ', '\ufeff': ' ' };
const QUOTES: Record<string, string> = { '\u2018': "'", '\u2019': "'", '\u201c': '"', '\u201d': '"', '\u00b4': "'" };

/** Per line: drop client decorations, map stray characters; returns lines of the same count (columns kept where possible). */
function clean(text: string, notes: DumpMessage[]): string[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  lines.forEach((raw, i) => {
    const line = i + 1;
    let s = raw;
    if (line === 1 && s.startsWith('\ufeff')) {
      notes.push({ line, col: 1, message: 'ignored a byte-order mark' });
      s = ` ${s.slice(1)}`;
    }
    if (/^\s*\*{5,}\s*\d+\.\s*row\s*\*{5,}\s*$/.test(s)) {
      notes.push({ line, col: 1, message: 'ignored a \\G row header' });
      return out.push('');
    }
    if (/^\s*Table:\s*\S+\s*$/.test(s)) {
      notes.push({ line, col: 1, message: 'ignored the "Table:" line of \\G output' });
      return out.push('');
    }
    if (/^\s*\+[-+]+\+\s*$/.test(s)) {
      notes.push({ line, col: 1, message: 'ignored a mysql client table border' });
      return out.push('');
    }
    if (/^\s*\|\s*Table\s*\|\s*Create Table\s*\|\s*$/i.test(s)) {
      notes.push({ line, col: 1, message: 'ignored the mysql client table header' });
      return out.push('');
    }
    const cg = /^(\s*Create Table:\s*)/.exec(s);
    if (cg) {
      notes.push({ line, col: 1, message: 'read the statement after "Create Table:"' });
      s = ' '.repeat(cg[1]!.length) + s.slice(cg[1]!.length);
    }
    const cell = /^(\s*\|\s*[^|]*\|\s*)(?=create\s)/i.exec(s);
    if (cell) {
      notes.push({ line, col: 1, message: 'read the statement in the mysql client table cell (literal \\n read as line breaks)' });
      s = ' '.repeat(cell[1]!.length) + s.slice(cell[1]!.length).replace(/\s*\|\s*$/, '').replace(/\\n/g, '  ').replace(/\\t/g, '  ');
    }
    let fixed = '';
    for (let c = 0; c < s.length; c++) {
      const ch = s[c]!;
      if (STRAY[ch] !== undefined && !(line === 1 && c === 0 && raw.startsWith('\ufeff'))) {
        notes.push({ line, col: c + 1, message: `read the stray character U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} as a space` });
        fixed += ' ';
      } else if (QUOTES[ch] !== undefined) {
        notes.push({ line, col: c + 1, message: `read the typographic quote ${ch} as a plain quote` });
        fixed += QUOTES[ch];
      } else fixed += ch;
    }
    out.push(fixed);
  });
  return out;
}

// ───────────────────────────── tokens ─────────────────────────────

type Kind = 'word' | 'ident' | 'dq' | 'string' | 'number' | 'punct' | 'vcomment';

interface Tok extends SourceLocation {
  kind: Kind;
  /** word: as written; ident/dq/string: unquoted content; punct: the character */
  value: string;
  /** the source text */
  raw: string;
  lineStart: boolean;
}

function tokenize(lines: string[], problems: DumpMessage[]): Tok[] {
  const src = lines.join('\n');
  const toks: Tok[] = [];
  let i = 0;
  let line = 1;
  let col = 1;
  let lastLine = 0;
  const adv = (n: number): void => {
    for (let k = 0; k < n; k++) {
      if (src[i] === '\n') {
        line++;
        col = 1;
      } else col++;
      i++;
    }
  };
  const push = (kind: Kind, value: string, raw: string, at: SourceLocation): void => {
    toks.push({ kind, value, raw, ...at, lineStart: lastLine !== at.line });
    lastLine = at.line;
  };
  const quoted = (q: string, backslash: boolean): { value: string; len: number } | undefined => {
    let j = i + 1;
    let v = '';
    while (j < src.length) {
      const c = src[j]!;
      if (backslash && c === '\\' && j + 1 < src.length) {
        const e = src[j + 1]!;
        v += e === 'n' ? '\n' : e === 't' ? '\t' : e === '0' ? '\0' : e;
        j += 2;
        continue;
      }
      if (c === q) {
        if (src[j + 1] === q) {
          v += q;
          j += 2;
          continue;
        }
        return { value: v, len: j + 1 - i };
      }
      v += c;
      j++;
    }
    return undefined;
  };
  while (i < src.length) {
    const c = src[i]!;
    const at = { line, col };
    if (/\s/.test(c)) {
      adv(1);
      continue;
    }
    if ((c === '-' && src[i + 1] === '-' && /[\s]|$/.test(src[i + 2] ?? ' ')) || c === '#') {
      while (i < src.length && src[i] !== '\n') adv(1);
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const len = end < 0 ? src.length - i : end + 2 - i;
      if (src[i + 2] === '!') push('vcomment', src.slice(i, i + len), src.slice(i, i + len), at);
      if (end < 0) problems.push({ ...at, message: 'unterminated /* comment: the rest of the file is inside it' });
      adv(len);
      continue;
    }
    if (c === '`' || c === '"' || c === "'") {
      const q = quoted(c, c !== '`');
      if (!q) {
        problems.push({ ...at, message: `unterminated ${c === "'" ? 'string' : 'quoted name'} starting here` });
        adv(src.length - i);
        break;
      }
      push(c === '`' ? 'ident' : c === '"' ? 'dq' : 'string', q.value, src.slice(i, i + q.len), at);
      adv(q.len);
      continue;
    }
    const num = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(src.slice(i, i + 64));
    if (num && (c !== '-' || /[\d]/.test(src[i + 1] ?? ''))) {
      push('number', num[0], num[0], at);
      adv(num[0].length);
      continue;
    }
    const w = /^[A-Za-z_$\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/.exec(src.slice(i, i + 256));
    if (w) {
      push('word', w[0], w[0], at);
      adv(w[0].length);
      continue;
    }
    push('punct', c, c, at);
    adv(1);
  }
  return toks;
}

// ───────────────────────────── parsing ─────────────────────────────

const COLUMN_ATTRS = new Set(['not', 'null', 'default', 'auto_increment', 'comment', 'collate', 'character', 'charset', 'on', 'primary', 'unique', 'key', 'generated', 'as', 'invisible', 'references', 'check', 'column_format', 'storage', 'visible', 'srid']);
const TEXTUAL = /^(var)?char|text$|^enum|^set|^character/i;

class Reader {
  i = 0;
  constructor(readonly t: Tok[]) {}
  peek(k = 0): Tok | undefined {
    return this.t[this.i + k];
  }
  next(): Tok | undefined {
    return this.t[this.i++];
  }
  isWord(w: string, k = 0): boolean {
    const x = this.peek(k);
    return x?.kind === 'word' && x.value.toLowerCase() === w;
  }
  isPunct(p: string, k = 0): boolean {
    const x = this.peek(k);
    return x?.kind === 'punct' && x.value === p;
  }
  /** skip a balanced (…) starting at the current `(`; returns the raw text inside */
  skipParens(): string {
    let depth = 0;
    const parts: string[] = [];
    while (this.peek()) {
      const x = this.next()!;
      if (x.kind === 'punct' && x.value === '(') depth++;
      else if (x.kind === 'punct' && x.value === ')') depth--;
      if (depth === 0) break;
      if (!(depth === 1 && x.kind === 'punct' && x.value === '(' && parts.length === 0)) parts.push(x.raw);
    }
    return parts.join('');
  }
  /** a name: `ident`, "ident", or a word; db.name gives name */
  name(): Tok | undefined {
    const x = this.peek();
    if (!x || !(x.kind === 'ident' || x.kind === 'dq' || x.kind === 'word')) return undefined;
    this.i++;
    if (this.isPunct('.') && ['ident', 'dq', 'word'].includes(this.peek(1)?.kind ?? '')) {
      this.i++;
      return this.next();
    }
    return x;
  }
  nameList(): string[] {
    const out: string[] = [];
    if (!this.isPunct('(')) return out;
    this.next();
    while (this.peek() && !this.isPunct(')')) {
      const n = this.name();
      if (n) out.push(n.value);
      if (this.isPunct('(')) this.skipParens(); // prefix length: name(10)
      while (this.peek()?.kind === 'word' && /^(asc|desc)$/i.test(this.peek()!.value)) this.next();
      if (this.isPunct(',')) this.next();
      else if (!this.isPunct(')') && !n) this.next();
    }
    this.next();
    return out;
  }
}

/** Read `text` (a dump, \G output, pasted client output…) into a SourceSchema. */
export function parseMysqlDump(text: string, o: { file: string }): DumpResult {
  const notes: DumpMessage[] = [];
  const problems: DumpMessage[] = [];
  const skipped: DumpResult['skipped'] = [];
  const toks = tokenize(clean(text, notes), problems);
  const schema: SourceSchema = { database: o.file, tables: [], columns: [], indexes: [], foreignKeys: [], tableAt: {} };
  const r = new Reader(toks);

  /** the end of a statement: `;`, or a line starting with CREATE (a missing `;`) */
  const atStatementEnd = (): boolean => r.isPunct(';') || (r.peek()?.lineStart === true && r.isWord('create'));

  while (r.peek()) {
    const first = r.peek()!;
    if (first.kind === 'punct' && first.value === ';') {
      r.next();
      continue;
    }
    if (first.kind === 'vcomment') {
      skipped.push({ line: first.line, kind: 'versioned comment /*!…*/' });
      r.next();
      continue;
    }
    const isCreateTable = r.isWord('create') && (r.isWord('table', 1) || (r.isWord('temporary', 1) && r.isWord('table', 2)));
    if (!isCreateTable) {
      skipped.push({ line: first.line, kind: first.kind === 'word' ? first.value.toUpperCase() : `text ${first.raw.slice(0, 20)}` });
      r.next();
      while (r.peek() && !atStatementEnd()) r.next();
      continue;
    }
    r.next();
    if (r.isWord('temporary')) r.next();
    r.next(); // TABLE
    if (r.isWord('if') && r.isWord('not', 1) && r.isWord('exists', 2)) r.i += 3;
    const nameTok = r.name();
    if (!nameTok || !r.isPunct('(')) {
      const at = r.peek() ?? first;
      problems.push({ line: at.line, col: at.col, message: `expected a table name and "(" after CREATE TABLE` });
      while (r.peek() && !atStatementEnd()) r.next();
      continue;
    }
    const table = nameTok.value;
    if (schema.tables.includes(table)) problems.push({ line: nameTok.line, col: nameTok.col, message: `table ${table} is defined again: the later definition is read too` });
    else schema.tables.push(table);
    schema.tableAt![table] = { line: first.line, col: first.col };
    const cols: SourceColumn[] = [];
    const idx: SourceIndex[] = [];
    const fks: SourceForeignKey[] = [];
    r.next(); // (
    let position = 0;
    // items
    while (r.peek() && !r.isPunct(')')) {
      const it = r.peek()!;
      const lw = it.kind === 'word' ? it.value.toLowerCase() : '';
      if (lw === 'primary' && r.isWord('key', 1)) {
        r.i += 2;
        while (r.peek() && !r.isPunct('(')) r.next();
        idx.push({ table, name: 'PRIMARY', unique: true, columns: r.nameList() });
      } else if (lw === 'unique') {
        r.next();
        if (r.isWord('key') || r.isWord('index')) r.next();
        const n = r.isPunct('(') ? undefined : r.name();
        while (r.peek() && !r.isPunct('(')) r.next();
        const columns = r.nameList();
        idx.push({ table, name: n?.value ?? columns.join('_'), unique: true, columns });
      } else if (lw === 'key' || lw === 'index' || lw === 'fulltext' || lw === 'spatial') {
        // a plain index: nothing Redshift keeps
        while (r.peek() && !r.isPunct('(')) r.next();
        r.nameList();
      } else if (lw === 'constraint' || lw === 'foreign') {
        let cname = '';
        if (lw === 'constraint') {
          r.next();
          if (!r.isWord('foreign') && !r.isWord('primary') && !r.isWord('unique') && !r.isWord('check')) cname = r.name()?.value ?? '';
        }
        if (r.isWord('foreign')) {
          r.i += 2; // FOREIGN KEY
          if (!r.isPunct('(')) r.name();
          const columns = r.nameList();
          if (r.isWord('references')) {
            r.next();
            const rt = r.name();
            const refColumns = r.nameList();
            if (rt) fks.push({ table, name: cname || `${table}_${columns.join('_')}_fk`, columns, refTable: rt.value, refColumns });
          }
        } else if (r.isWord('primary')) {
          r.i += 2;
          idx.push({ table, name: 'PRIMARY', unique: true, columns: r.nameList() });
        } else if (r.isWord('unique')) {
          r.next();
          if (r.isWord('key') || r.isWord('index')) r.next();
          if (!r.isPunct('(')) r.name();
          idx.push({ table, name: cname, unique: true, columns: r.nameList() });
        } else if (r.isWord('check')) {
          r.next();
          r.skipParens();
        }
        // ON DELETE … / ON UPDATE … and the like run until the item ends
        while (r.peek() && !r.isPunct(',') && !r.isPunct(')')) r.next();
      } else if (lw === 'check') {
        r.next();
        r.skipParens();
      } else {
        // a column
        const n = r.name();
        const typeTok = r.peek();
        if (!n || typeTok?.kind !== 'word') {
          const at = typeTok ?? it;
          problems.push({ line: at.line, col: at.col, message: `expected a column name and type in ${table}` });
          while (r.peek() && !r.isPunct(',') && !r.isPunct(')')) {
            if (r.isPunct('(')) r.skipParens();
            else r.next();
          }
        } else {
          r.next();
          let type = typeTok.value.toLowerCase();
          if (r.isWord('precision') || r.isWord('varying')) type += ` ${r.next()!.value.toLowerCase()}`;
          if (r.isPunct('(')) type += `(${r.skipParens()})`;
          while (r.isWord('unsigned') || r.isWord('signed') || r.isWord('zerofill')) type += ` ${r.next()!.value.toLowerCase()}`;
          const col: SourceColumn = { table, name: n.value, position: ++position, columnType: type, nullable: true, default: null, charset: null, extra: '', at: { line: n.line, col: n.col } };
          const extra: string[] = [];
          let columnPk = false;
          let columnUnique = false;
          while (r.peek() && !r.isPunct(',') && !r.isPunct(')')) {
            const a = r.next()!;
            const aw = a.kind === 'word' ? a.value.toLowerCase() : '';
            if (aw === 'not' && r.isWord('null')) {
              r.next();
              col.nullable = false;
            } else if (aw === 'null') col.nullable = true;
            else if (aw === 'default') {
              const v = r.next();
              if (!v) break;
              if (v.kind === 'string' || v.kind === 'dq') col.default = `'${v.value.replace(/'/g, "''")}'`;
              else if (v.kind === 'punct' && v.value === '(') {
                r.i--;
                col.default = r.skipParens();
              } else {
                let d = v.raw;
                if (r.isPunct('(')) d += `(${r.skipParens()})`;
                col.default = d;
              }
            } else if (aw === 'auto_increment') extra.push('auto_increment');
            else if (aw === 'comment' || aw === 'collate' || aw === 'column_format' || aw === 'storage' || aw === 'srid') r.next();
            else if (aw === 'character' && r.isWord('set')) {
              r.next();
              col.charset = r.next()?.value.toLowerCase() ?? null;
            } else if (aw === 'charset') col.charset = r.next()?.value.toLowerCase() ?? null;
            else if (aw === 'on' && r.isWord('update')) {
              r.next();
              let v = r.next()?.raw ?? '';
              if (r.isPunct('(')) v += `(${r.skipParens()})`;
              extra.push(`on update ${v.toLowerCase()}`);
            } else if (aw === 'primary' && r.isWord('key')) {
              r.next();
              columnPk = true;
            } else if (aw === 'unique') {
              if (r.isWord('key')) r.next();
              columnUnique = true;
            } else if (aw === 'key') columnPk = true;
            else if (aw === 'generated' || aw === 'as') {
              extra.push('generated');
              while (r.peek() && !r.isPunct('(')) r.next();
              r.skipParens();
              if (r.isWord('stored') || r.isWord('virtual') || r.isWord('persistent')) r.next();
            } else if (aw === 'invisible' || aw === 'visible') extra.push(aw);
            else if (aw === 'references') {
              const rt = r.name();
              const refColumns = r.nameList();
              if (rt) fks.push({ table, name: `${table}_${n.value}_fk`, columns: [n.value], refTable: rt.value, refColumns });
            } else if (aw === 'check') r.skipParens();
            else if (a.kind === 'punct' && a.value === '(') {
              r.i--;
              r.skipParens();
              problems.push({ line: a.line, col: a.col, message: `unexpected "(" in column ${n.value}: ignored` });
            } else problems.push({ line: a.line, col: a.col, message: `unknown column attribute "${a.raw}" (column ${n.value}): ignored` });
          }
          col.extra = extra.join(' ');
          cols.push(col);
          if (columnPk) idx.push({ table, name: 'PRIMARY', unique: true, columns: [n.value] });
          if (columnUnique) idx.push({ table, name: n.value, unique: true, columns: [n.value] });
        }
      }
      if (r.isPunct(',')) r.next();
      else if (!r.isPunct(')') && r.peek()) {
        const x = r.next()!;
        problems.push({ line: x.line, col: x.col, message: `unexpected ${x.raw} in ${table}: ignored` });
      }
    }
    if (!r.peek()) problems.push({ line: first.line, col: first.col, message: `CREATE TABLE ${table} is not closed with ")"` });
    r.next(); // )
    // table options: the default character set of its text columns
    let tableCharset: string | null = null;
    while (r.peek() && !atStatementEnd()) {
      const x = r.next()!;
      const xw = x.kind === 'word' ? x.value.toLowerCase() : '';
      if (xw === 'charset' || (xw === 'set' && toks[r.i - 2]?.value.toLowerCase() === 'character')) {
        if (r.isPunct('=')) r.next();
        tableCharset = r.next()?.value.toLowerCase() ?? null;
      }
    }
    for (const c of cols) if (c.charset === null && TEXTUAL.test(c.columnType)) c.charset = tableCharset;
    schema.columns.push(...cols);
    schema.indexes.push(...idx);
    schema.foreignKeys.push(...fks);
  }
  notes.sort((a, b) => a.line - b.line || a.col - b.col);
  return { schema, skipped, notes, problems };
}
