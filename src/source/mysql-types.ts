/**
 * MySQL column types → Redshift types, the way the CDC service mapped them (what schemas/ shows for ActionKit's tables):
 *
 *   varchar(n), char(n)     → varchar(3n) bytes (utf8: up to 3 bytes a character; ascii/binary: n), at most 65535;
 *                             char becomes varchar because Redshift's CHAR holds single-byte characters only
 *   tinytext                → varchar(765);  text, mediumtext, longtext → varchar(65535) (longer values do not fit)
 *   enum(…), set(…)         → varchar wide enough for the longest value (set: every value, comma-separated)
 *   tinyint(1), bool        → smallint (ActionKit's booleans stayed numbers)
 *   tinyint, smallint       → smallint;  smallint unsigned, mediumint → integer;  int → integer
 *   int unsigned            → bigint;  bigint → bigint;  bigint unsigned → numeric(20,0)   (unsigned widened)
 *   decimal(p,s)            → numeric(p,s) (p ≤ 38: wider is cut to 38 with a note)
 *   float                   → real;  double, real → double precision
 *   bit(1)                  → boolean;  bit(n) → bigint
 *   date → date;  datetime, timestamp → timestamp;  time → time;  year → smallint
 *   binary, varbinary, blob → varbyte;  json → varchar(65535);  spatial types → geometry   (each with a note)
 *
 * An unknown type is an error, never a guess. Display widths (`int(11)`) and `zerofill` change nothing.
 */
import { formatRedshiftType, parseRedshiftType } from '../schema/types.js';
import { DEFAULT_LITERAL } from '../schema/model.js';

export type MysqlTypeMapping = { ok: true; type: string; notes: string[] } | { ok: false; error: string };

const VARCHAR_MAX = 65535;
const SINGLE_BYTE = new Set(['ascii', 'binary']);

/** bytes a character may take in `charset` under the CDC service's convention */
function bytesPerChar(charset: string | null | undefined): number {
  return charset !== null && charset !== undefined && SINGLE_BYTE.has(charset.toLowerCase()) ? 1 : 3;
}

/** enum/set value list: `'a','b''c'` → ['a', "b'c"] (undefined when malformed) */
function parseValueList(args: string): string[] | undefined {
  const out: string[] = [];
  const re = /\s*'((?:[^'\\]|''|\\.)*)'\s*(,|$)/y;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < args.length && (m = re.exec(args)) !== null) {
    out.push(m[1]!.replace(/''/g, "'").replace(/\\(.)/g, '$1'));
    at = re.lastIndex;
    if (m[2] === '') break;
  }
  return at >= args.trimEnd().length ? out : undefined;
}

const SPATIAL = new Set(['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection']);

/** Map one MySQL column type (information_schema COLUMN_TYPE or a dump's column type) to a canonical Redshift type. */
export function mapMysqlType(columnType: string, charset?: string | null): MysqlTypeMapping {
  const text = columnType.trim().replace(/\s+/g, ' ');
  const m = /^([a-z]+(?: precision| varying)?)\s*(?:\((.*)\))?((?:\s+(?:unsigned|signed|zerofill))*)\s*$/i.exec(text);
  if (!m) return { ok: false, error: `unknown MySQL type "${columnType}"` };
  const base = m[1]!.toLowerCase();
  const args = m[2];
  const unsigned = /unsigned/i.test(m[3] ?? '');
  const notes: string[] = [];
  const nums = (): number[] | undefined => {
    if (args === undefined) return [];
    const parts = args.split(',').map((s) => s.trim());
    return parts.every((p) => /^\d+$/.test(p)) ? parts.map(Number) : undefined;
  };
  const ok = (type: string): MysqlTypeMapping => {
    const p = parseRedshiftType(type);
    if (!p.ok) return { ok: false, error: `"${columnType}" maps to ${type}, which Redshift refuses: ${p.error}` };
    return { ok: true, type: formatRedshiftType(p.type), notes };
  };
  const n = nums();
  const enumLike = base === 'enum' || base === 'set';
  if (!enumLike && n === undefined) return { ok: false, error: `"${columnType}": expected numbers in the parentheses` };
  const sizes = n ?? [];
  const bpc = bytesPerChar(charset);
  const chars = (len: number): string => {
    const bytes = len * bpc;
    if (bytes > VARCHAR_MAX) notes.push(`${columnType}: ${len} characters × ${bpc} bytes exceed Redshift's ${VARCHAR_MAX.toLocaleString('en-US')}-byte VARCHAR: capped`);
    return `varchar(${Math.max(1, Math.min(bytes, VARCHAR_MAX))})`;
  };
  switch (base) {
    case 'varchar':
    case 'character varying':
      if (sizes[0] === undefined) return { ok: false, error: `"${columnType}": varchar needs a length` };
      return ok(chars(sizes[0]));
    case 'char':
    case 'character':
      return ok(chars(sizes[0] ?? 1));
    case 'tinytext':
      return ok(chars(255));
    case 'text':
    case 'mediumtext':
    case 'longtext':
      notes.push(`${base}: values longer than 65,535 bytes do not fit varchar(65535)`);
      return ok(`varchar(${VARCHAR_MAX})`);
    case 'enum':
    case 'set': {
      const values = args === undefined ? undefined : parseValueList(args);
      if (values === undefined || values.length === 0) return { ok: false, error: `"${columnType}": cannot read the ${base} values` };
      const len = base === 'enum' ? Math.max(...values.map((v) => v.length)) : values.reduce((a, v) => a + v.length, 0) + values.length - 1;
      return ok(chars(Math.max(1, len)));
    }
    case 'bool':
    case 'boolean':
      return ok('smallint');
    case 'tinyint':
      return ok('smallint');
    case 'smallint':
      return ok(unsigned ? 'integer' : 'smallint');
    case 'mediumint':
      return ok('integer');
    case 'int':
    case 'integer':
      return ok(unsigned ? 'bigint' : 'integer');
    case 'bigint':
      return ok(unsigned ? 'numeric(20,0)' : 'bigint');
    case 'decimal':
    case 'numeric':
    case 'dec':
    case 'fixed': {
      let p = sizes[0] ?? 10;
      let s = sizes[1] ?? 0;
      if (p > 38) {
        notes.push(`${columnType}: Redshift keeps at most 38 digits; the source allows ${p} digits`);
        p = 38;
        s = Math.min(s, 37);
      }
      return ok(`numeric(${p},${s})`);
    }
    case 'float':
      // float(p) with p > 24 is a double in MySQL; float(M,D) is a single
      return ok(sizes.length === 1 && (sizes[0] ?? 0) > 24 ? 'double precision' : 'real');
    case 'double':
    case 'double precision':
    case 'real':
      return ok('double precision');
    case 'bit':
      return ok((sizes[0] ?? 1) === 1 ? 'boolean' : 'bigint');
    case 'date':
      return ok('date');
    case 'datetime':
    case 'timestamp':
      return ok('timestamp');
    case 'time':
      return ok('time');
    case 'year':
      return ok('smallint');
    case 'binary':
    case 'varbinary':
      notes.push(`${base}: binary data becomes VARBYTE (the comparison leaves it out)`);
      return ok(`varbyte(${Math.max(1, sizes[0] ?? 1)})`);
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      notes.push(`${base}: binary data becomes varbyte(65535); longer values do not fit`);
      return ok('varbyte(65535)');
    case 'json':
      notes.push('json: stored as its text in varchar(65535); longer documents do not fit');
      return ok(`varchar(${VARCHAR_MAX})`);
    default:
      if (SPATIAL.has(base)) {
        notes.push(`${base}: spatial data becomes GEOMETRY`);
        return ok('geometry');
      }
      return { ok: false, error: `unknown MySQL type "${columnType}"` };
  }
}

/**
 * A column default as a schemas/ literal. MariaDB's information_schema (and every dump) gives SQL literals (`'USD'`,
 * `NULL`, `0.00`, `current_timestamp()`), MySQL's the raw value (`USD`); both are read. `undefined` value: no default.
 */
export function mysqlDefault(raw: string | null | undefined, redshiftType: string): { ok: true; value?: string } | { ok: false; error: string } {
  if (raw === null || raw === undefined) return { ok: true };
  const t = raw.trim();
  if (/^null$/i.test(t)) return { ok: true, value: 'NULL' };
  if (/^(current_timestamp|now|localtimestamp)(\(\d*\))?$/i.test(t)) return { ok: true, value: 'getdate()' };
  const p = parseRedshiftType(redshiftType);
  const numericType = p.ok && ['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision', 'boolean'].includes(p.type.kind);
  let literal: string;
  if (/^'.*'$/s.test(t)) literal = t;
  else if (numericType && /^-?\d+(\.\d+)?$/.test(t)) literal = t;
  else literal = `'${t.replace(/'/g, "''")}'`;
  if (!DEFAULT_LITERAL.test(literal)) return { ok: false, error: `default ${raw} cannot be written as a Redshift default (backslashes and expressions are refused)` };
  return { ok: true, value: literal };
}
