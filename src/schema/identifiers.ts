/**
 * Identifiers: the only way a name reaches SQL. Names come from schemas/ or the live catalog, are validated here, and are
 * always printed through quoteIdent — never spliced as user text.
 */
import { LIMITS } from './types.js';

/** Redshift's reserved words (docs: "Reserved words"); a column named like one (ActionKit's `limit`) must be quoted. */
export const RESERVED = new Set(
  `aes128 aes256 all allowoverwrite analyse analyze and any array as asc authorization az64 backup between binary blanksasnull
both bytedict bzip2 case cast check collate column constraint create credentials cross current_date current_time
current_timestamp current_user current_user_id default deferrable deflate defrag delta delta32k desc disable distinct do else
emptyasnull enable encode encrypt encryption end except explicit false for foreign freeze from full globaldict256
globaldict64k grant group gzip having identity ignore ilike in initially inner intersect interval into is isnull join
language leading left like limit localtime localtimestamp lun luns lzo lzop minus mostly16 mostly32 mostly8 natural new not
notnull null nulls off offline offset oid old on only open or order outer overlaps parallel partition percent permissions
pivot placing primary raw readratio recover references rejectlog resort respect restore right select session_user similar
snapshot some sysdate system table tag tdes text255 text32k then timestamp to top truncatecolumns true union unique unnest
unpivot user using verbose wallet when where with without`.split(/\s+/),
);

const PLAIN = /^[a-z_][a-z0-9_$]*$/;

export type IdentCheck = { ok: true } | { ok: false; error: string };

/** Is this a name Redshift can store? (≤ 127 bytes UTF-8, no NUL / control characters, not empty.) */
export function checkIdentifier(name: string): IdentCheck {
  if (name.length === 0) return { ok: false, error: 'identifier is empty' };
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > LIMITS.identifierBytesMax) return { ok: false, error: `identifier "${name.slice(0, 20)}…" is ${bytes} bytes; Redshift allows ${LIMITS.identifierBytesMax}` };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return { ok: false, error: 'identifier contains a control character' };
  return { ok: true };
}

/** Names in schemas/ are the ones Redshift would store (lower case by default): a conservative, predictable form. */
export function isPlainIdentifier(name: string): boolean {
  return PLAIN.test(name) && !RESERVED.has(name);
}

/** Quote an identifier for SQL when needed (reserved word, upper case, other characters); doubles embedded quotes. */
export function quoteIdent(name: string): string {
  const c = checkIdentifier(name);
  if (!c.ok) throw new Error(c.error);
  if (isPlainIdentifier(name)) return name;
  return `"${name.replace(/"/g, '""')}"`;
}

/** Always-quoted form, for SQL the bot builds where uniformity matters more than readability. */
export function quoteIdentAlways(name: string): string {
  const c = checkIdentifier(name);
  if (!c.ok) throw new Error(c.error);
  return `"${name.replace(/"/g, '""')}"`;
}

/** schema.table, each part quoted as needed. */
export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/** A SQL string literal ('' doubles quotes); only for values the bot itself produced or validated. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
