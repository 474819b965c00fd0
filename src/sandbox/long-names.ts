/**
 * Names of 64 to 127 bytes, for the sandbox's PostgreSQL.
 *
 * Redshift takes identifiers of up to 127 bytes (UTF-8) and keeps the first 127 bytes of a longer one ("Names and
 * identifiers", Redshift Database Developer Guide; longer names are cut, not refused). PostgreSQL cuts every name at 63
 * bytes (NAMEDATALEN − 1), silently: a 118-byte column would "succeed", read back as 63 bytes and show as drift, and
 * two names sharing their first 63 bytes would become one. So the sandbox never hands PostgreSQL a name longer than 63
 * bytes: each such identifier in a statement becomes an alias (its first bytes + `__` + 16 hex digits of its SHA-256),
 * and every text the sandbox returns — result values, column labels, error messages — has the aliases turned back into
 * the names as written. Names longer than 127 bytes are first cut at 127 bytes (on a character boundary), as Redshift does.
 *
 * Bound parameter values and string literals of catalog queries (pg_*, information_schema, svv_*, …) that spell a
 * known long name exactly are mapped too, so `relname = :table` finds the table.
 */
import { createHash } from 'node:crypto';
import { quoteName, tokenize } from './translate.js';

export const PG_NAME_BYTES = 63;
export const REDSHIFT_NAME_BYTES = 127;

/** The first `max` bytes of `s`, never splitting a character. */
export function cutBytes(s: string, max: number): string {
  if (Buffer.byteLength(s, 'utf8') <= max) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const b = Buffer.byteLength(ch, 'utf8');
    if (bytes + b > max) break;
    out += ch;
    bytes += b;
  }
  return out;
}

/** The name Redshift stores for `name`: at most 127 bytes. */
export function redshiftName(name: string): string {
  return cutBytes(name, REDSHIFT_NAME_BYTES);
}

const CATALOG = /\b(pg_[a-z_]+|information_schema|svv_[a-z_]+|stv_[a-z_]+|svl_[a-z_]+|sys_[a-z_]+)\b/i;

const WORDS = /[\p{L}\p{N}_$]+|"(?:[^"]|"")+"/gu;

/** Does the text have a word or quoted name longer than PostgreSQL's 63 bytes? (May be one inside a string: harmless.) */
function hasLongWord(sql: string): boolean {
  if (sql.length <= PG_NAME_BYTES / 4) return false;
  for (const m of sql.matchAll(WORDS)) if (m[0].length > PG_NAME_BYTES / 4 && Buffer.byteLength(m[0], 'utf8') > PG_NAME_BYTES) return true;
  return false;
}

export class LongNames {
  private readonly byAlias = new Map<string, string>();
  private readonly byName = new Map<string, string>();

  get size(): number {
    return this.byAlias.size;
  }

  /** The 63-byte-or-shorter name PostgreSQL gets for a Redshift name (the name itself when it fits). */
  alias(written: string): string {
    const name = redshiftName(written);
    if (Buffer.byteLength(name, 'utf8') <= PG_NAME_BYTES) return name;
    const known = this.byName.get(name);
    if (known) return known;
    const hash = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 16);
    const alias = `${cutBytes(name, PG_NAME_BYTES - 18)}__${hash}`;
    this.byName.set(name, alias);
    this.byAlias.set(alias, name);
    return alias;
  }

  /** Remember an alias read back from storage (alias → name). */
  remember(alias: string, name: string): void {
    this.byAlias.set(alias, name);
    this.byName.set(name, alias);
  }

  entries(): Array<[alias: string, name: string]> {
    return [...this.byAlias.entries()];
  }

  /** Every identifier of the statement longer than 63 bytes, as its alias (new ones are registered). */
  rewriteSql(sql: string): { sql: string; added: Array<[string, string]> } {
    // cheap look first (most statements have no long word at all): tokenizing every statement twice costs CPU
    if (!hasLongWord(sql) && !(this.byName.size > 0 && CATALOG.test(sql))) return { sql, added: [] };
    const toks = tokenize(sql);
    const added: Array<[string, string]> = [];
    const catalog = CATALOG.test(sql);
    let changed = false;
    const out = toks.map((t) => {
      if (t.kind === 'word' || t.kind === 'qident') {
        const body = t.kind === 'qident' ? (t.text.startsWith('U&') || t.text.startsWith('u&') ? undefined : t.text.slice(1, -1).replace(/""/g, '"')) : t.text.toLowerCase();
        if (body === undefined || Buffer.byteLength(body, 'utf8') <= PG_NAME_BYTES) return t.text;
        const had = this.byName.has(redshiftName(body));
        const alias = this.alias(body);
        if (!had) added.push([alias, redshiftName(body)]);
        changed = true;
        return quoteName(alias);
      }
      if (catalog && t.kind === 'string' && t.text.startsWith("'")) {
        const value = t.text.slice(1, -1).replace(/''/g, "'");
        const alias = this.byName.get(redshiftName(value));
        if (alias && Buffer.byteLength(value, 'utf8') > PG_NAME_BYTES) {
          changed = true;
          return `'${alias.replace(/'/g, "''")}'`;
        }
      }
      return t.text;
    });
    return { sql: changed ? out.join('') : sql, added };
  }

  /** A bound value of a catalog query that spells a known long name: its alias. Anything else unchanged. */
  rewriteValue(sql: string, value: string): string {
    if (Buffer.byteLength(value, 'utf8') <= PG_NAME_BYTES || !CATALOG.test(sql)) return value;
    return this.byName.get(redshiftName(value)) ?? value;
  }

  /** Aliases in a text the sandbox returns, turned back into the names. */
  restore(text: string): string {
    if (this.byAlias.size === 0 || !text.includes('__')) return text;
    let out = text;
    for (const [alias, name] of this.byAlias) if (out.includes(alias)) out = out.split(alias).join(name);
    return out;
  }
}
