/**
 * Names in commands: tables and columns the registry knows, and new names for columns. Chat input never carries
 * quoted identifiers, so a name is a plain ASCII word, folded to lower case; anything else is refused with the exact
 * character (and its code point) that makes it so — Unicode look-alikes such as Cyrillic `а` in `core_аction` included.
 */
import type { TableDef } from '../schema/model.js';
import { RESERVED } from '../schema/identifiers.js';
import { LIMITS } from '../schema/types.js';
import { an } from './literals.js';
import { CONFUSABLES, type Cursor, clip, describeChar, show, suggestWord } from './cursor.js';
import type { Token } from './lexer.js';
import { NEW_NAME, type ParseContext, type TableRef } from './types.js';

/** ASCII stand-in for a word with look-alikes / fullwidth forms, if every odd character has one. */
export function deconfuse(word: string): string | undefined {
  let out = '';
  for (const ch of word) {
    const code = ch.codePointAt(0)!;
    if (code < 0x80) {
      out += ch;
      continue;
    }
    const c = CONFUSABLES.get(code);
    if (c) {
      out += c[0];
      continue;
    }
    const k = ch.normalize('NFKC');
    if (/^[\x21-\x7e]$/.test(k)) {
      out += k;
      continue;
    }
    if (/^[\p{Cf}]$/u.test(ch)) continue; // zero-width characters: drop
    return undefined;
  }
  return out;
}

/**
 * Refuse a word that is not plain ASCII letters/digits/_ (plus `$` in existing names and `.` between schema and table).
 * `resolve` turns an ASCII stand-in into a known name for the suggestion.
 */
export function checkNameChars(
  cur: Cursor,
  tok: Token,
  role: string,
  opts: { dot?: boolean; dollar?: boolean; resolve?: (ascii: string) => string | undefined } = {},
): void {
  let offset = 0;
  for (const ch of tok.value) {
    const code = ch.codePointAt(0)!;
    const ok = /[A-Za-z0-9_]/.test(ch) || (opts.dot === true && ch === '.') || (opts.dollar === true && ch === '$');
    if (!ok) {
      const column = tok.start + offset + 1;
      if (code >= 0x80) {
        const ascii = deconfuse(tok.value);
        const hint = ascii !== undefined && opts.resolve ? opts.resolve(ascii.toLowerCase()) : undefined;
        cur.fail(
          tok,
          `${role} ${clip(tok.value)} contains ${describeChar(ch)} — names are plain ASCII letters, digits and _` +
            (hint ? `; did you mean ${hint}?` : ''),
          { column, word: ch, ...(hint ? { suggestion: hint } : {}) },
        );
      }
      cur.fail(tok, `"${ch}" is not allowed in ${an(role)} (${clip(tok.value)}): names are letters, digits and _`, { column, word: ch });
    }
    offset += ch.length;
  }
}

function quotedNameError(cur: Cursor, tok: Token, role: string): never {
  const inner = tok.value.toLowerCase();
  const plain = NEW_NAME.test(inner);
  return cur.fail(tok, `${role}s are not quoted in /redshift${plain ? `: write ${inner}` : ''} (plain names only: letters, digits and _)`, plain ? { suggestion: inner } : {});
}

/** Expect a name-shaped token; refuses quotes, punctuation, the end. */
export function nameToken(cur: Cursor, role: string, after?: string): Token {
  const t = cur.peek();
  if (t === undefined) cur.fail(undefined, `expected ${an(role)}${after ? ` after ${after}` : ''}`);
  if (t.kind === 'qident' || t.kind === 'string') quotedNameError(cur, t, role);
  if (t.kind !== 'word') cur.fail(t, `expected ${an(role)}${after ? ` after ${after}` : ''}, found ${show(t)}`);
  cur.next();
  return t;
}

/** Bare names of the registry's default schema (for suggestions). */
function tableNames(ctx: ParseContext): string[] {
  return ctx.registry.names().map((n) => (n.includes('.') ? n.slice(n.lastIndexOf('.') + 1) : n));
}

/** Read a table name (`core_action` or `ak_sumofus.core_action`) and find it in the registry. */
export function readTable(cur: Cursor, ctx: ParseContext, after?: string): { def: TableDef; ref: TableRef; token: Token } {
  const tok = nameToken(cur, 'table name', after);
  const reg = ctx.registry;
  const known = tableNames(ctx);
  const resolveAscii = (ascii: string): string | undefined => {
    const t = reg.find(ascii);
    return t ? (ascii.includes('.') ? `${t.schema}.${t.name}` : t.name) : undefined;
  };
  checkNameChars(cur, tok, 'table name', { dot: true, dollar: true, resolve: resolveAscii });
  const text = tok.value.toLowerCase();
  const parts = text.split('.');
  if (parts.length > 2 || parts.some((p) => p === '')) cur.fail(tok, `${clip(tok.value)} is not a table name: write table or schema.table`);
  if (parts.some((p) => Buffer.byteLength(p) > LIMITS.identifierBytesMax))
    cur.fail(tok, `${clip(tok.value)} is longer than a Redshift name can be (${LIMITS.identifierBytesMax} bytes)`);
  let def: TableDef | undefined;
  if (parts.length === 2) {
    const [schema, name] = parts as [string, string];
    def = reg.get(schema, name);
    if (def === undefined) {
      const elsewhere = reg.find(name);
      if (elsewhere !== undefined) {
        const q = `${elsewhere.schema}.${elsewhere.name}`;
        cur.fail(tok, `no table ${clip(text)} in schemas/; ${elsewhere.name} is in schema ${elsewhere.schema} — did you mean ${q}?`, { suggestion: q });
      }
      const hint = suggestWord(name, known);
      cur.fail(tok, `unknown table ${clip(text)}${hint ? ` — did you mean ${reg.defaultSchema}.${hint}?` : ' — /redshift status lists the tables'}`, hint ? { suggestion: `${reg.defaultSchema}.${hint}` } : {});
    }
  } else {
    def = reg.find(text);
    if (def === undefined) {
      const m = /^(old|new)_(.+)$/.exec(text);
      const base = m?.[2] !== undefined ? reg.find(m[2]) : undefined;
      if (m && base) {
        cur.fail(tok, `${text} is the ${m[1]} copy made during a change of ${base.name}; commands name the table itself — did you mean ${base.name}?`, { suggestion: base.name });
      }
      const other = [...(reg.tables?.values() ?? [])].find((x) => x.name.toLowerCase() === text);
      if (other) {
        const q = `${other.schema}.${other.name}`;
        cur.fail(tok, `no table ${clip(text)} in schema ${reg.defaultSchema}; it is in schema ${other.schema} — did you mean ${q}?`, { suggestion: q });
      }
      const hint = suggestWord(text, known);
      cur.fail(tok, `unknown table ${clip(text)}${hint ? ` — did you mean ${hint}?` : ' — /redshift status lists the tables'}`, hint ? { suggestion: hint } : {});
    }
  }
  return { def, ref: { schema: def.schema, name: def.name }, token: tok };
}

/** Read a new column name: a plain, unreserved identifier of at most 127 bytes, folded to lower case. */
export function readNewName(
  cur: Cursor,
  role: string,
  after: string,
  /** checks that say more than "reserved word" (a collision with an existing column) run first */
  check?: (name: string, token: Token) => void,
): { name: string; token: Token } {
  const tok = nameToken(cur, role, after);
  checkNameChars(cur, tok, role);
  const name = tok.value.toLowerCase();
  if (!/^[a-z_]/.test(name)) cur.fail(tok, `${role} ${clip(name)} must start with a letter or _`);
  if (name.length > LIMITS.identifierBytesMax)
    cur.fail(tok, `${role} ${clip(name)} is ${name.length} bytes; Redshift names are at most ${LIMITS.identifierBytesMax}`);
  check?.(name, tok);
  if (RESERVED.has(name))
    cur.fail(tok, `${name} is a Redshift reserved word; a column named so must be quoted in every query — choose another name (e.g. ${name}_value)`, {
      suggestion: `${name}_value`,
    });
  return { name, token: tok };
}
