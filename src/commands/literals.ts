/**
 * Column defaults and encodings as a command may give them, checked against the column's type before anything is
 * queued: a string default for an integer column, a string longer than the varchar, an encoding Redshift refuses for
 * the type — each is an error the user can fix in chat instead of a failed job later.
 */
import type { Encoding, RedshiftType } from '../schema/types.js';
import { formatRedshiftType } from '../schema/types.js';
import { clip } from './cursor.js';

export type Literal =
  | { kind: 'null' }
  | { kind: 'number'; text: string }
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'now'; fn: 'getdate()' | 'sysdate' | 'current_timestamp' }
  | { kind: 'current_date' };

/** The SQL text stored in a ColumnDef's `default` (model.ts DEFAULT_LITERAL form). */
export function literalSql(l: Literal): string {
  switch (l.kind) {
    case 'null':
      return 'NULL';
    case 'number':
      return l.text;
    case 'string':
      return `'${l.value.replace(/'/g, "''")}'`;
    case 'bool':
      return l.value ? 'true' : 'false';
    case 'now':
      return l.fn;
    case 'current_date':
      return 'current_date';
  }
}

/** Read back a stored default (from schemas/); undefined when it is not one of the literal forms. */
export function parseStoredDefault(sql: string): Literal | undefined {
  const t = sql.trim();
  const lower = t.toLowerCase();
  if (lower === 'null') return { kind: 'null' };
  if (lower === 'true' || lower === 'false') return { kind: 'bool', value: lower === 'true' };
  if (/^-?\d+(?:\.\d+)?$/.test(t)) return { kind: 'number', text: t };
  if (lower === 'getdate()' || lower === 'sysdate' || lower === 'current_timestamp') return { kind: 'now', fn: lower };
  if (lower === 'current_date') return { kind: 'current_date' };
  const m = /^'((?:[^']|'')*)'$/s.exec(t);
  if (m) return { kind: 'string', value: (m[1] ?? '').replace(/''/g, "'") };
  return undefined;
}

const INT_RANGE: Partial<Record<RedshiftType['kind'], readonly [bigint, bigint]>> = {
  smallint: [-32768n, 32767n],
  integer: [-2147483648n, 2147483647n],
  bigint: [-9223372036854775808n, 9223372036854775807n],
};

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,6})?)?$/;
const ZONE_RE = /^(?:Z|UTC|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)$/i;

function validDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (y < 1 || mo < 1 || mo > 12 || d < 1) return false;
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return d <= days[mo - 1]!;
}

function validTimestamp(s: string, zone: boolean): boolean {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)\s*(\S+)?)?$/.exec(s);
  if (!m || !validDate(m[1]!)) return false;
  if (m[2] !== undefined && !TIME_RE.test(m[2])) return false;
  if (m[3] !== undefined && !(zone && ZONE_RE.test(m[3]))) return false;
  return true;
}

function validTime(s: string, zone: boolean): boolean {
  const m = /^(\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)\s*(\S+)?$/.exec(s);
  if (!m || !TIME_RE.test(m[1]!)) return false;
  if (m[2] !== undefined && !(zone && ZONE_RE.test(m[2]))) return false;
  return true;
}

/** `an integer`, `a varchar(64)` */
export function an(word: string): string {
  return `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`;
}

const NUMERIC_KINDS = new Set<RedshiftType['kind']>(['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision']);

export interface LiteralProblem {
  message: string;
  suggestion?: string;
}

/** Does the default fit the type? undefined when it does; otherwise why not, and a literal that would. */
export function checkDefault(l: Literal, type: RedshiftType): LiteralProblem | undefined {
  const typeText = formatRedshiftType(type);
  const shown = clip(literalSql(l), 30);
  switch (l.kind) {
    case 'null':
      return undefined;
    case 'number': {
      const range = INT_RANGE[type.kind];
      if (range) {
        if (l.text.includes('.')) {
          const whole = l.text.replace(/\.0+$/, '');
          return whole.includes('.')
            ? { message: `default ${shown} is not a whole number; ${typeText} holds whole numbers` }
            : { message: `default ${shown} is not written as a whole number; ${typeText} holds whole numbers — write ${whole}`, suggestion: whole };
        }
        const v = BigInt(l.text);
        if (v < range[0] || v > range[1]) return { message: `default ${shown} is out of range for ${typeText} (${range[0]} to ${range[1]})` };
        return undefined;
      }
      if (type.kind === 'numeric') {
        const [intPart = '', frac = ''] = l.text.replace(/^-/, '').split('.');
        const intDigits = intPart.replace(/^0+/, '').length;
        if (intDigits > type.precision - type.scale)
          return { message: `default ${shown} has ${intDigits} digits before the point; ${typeText} allows ${type.precision - type.scale}` };
        if (frac.length > type.scale) return { message: `default ${shown} has ${frac.length} decimals; ${typeText} keeps ${type.scale}` };
        return undefined;
      }
      if (type.kind === 'real' || type.kind === 'double precision') return undefined;
      if (type.kind === 'char' || type.kind === 'varchar') {
        const q = `'${l.text}'`;
        return { message: `default ${shown} is a number but ${typeText} holds text — quote it: ${q}`, suggestion: q };
      }
      if (type.kind === 'boolean' && (l.text === '0' || l.text === '1')) {
        const b = l.text === '1' ? 'true' : 'false';
        return { message: `default ${shown} is a number but the column is boolean — write ${b}`, suggestion: b };
      }
      return { message: `default ${shown} is a number; it does not fit ${an(typeText)} column` };
    }
    case 'string': {
      const v = l.value;
      if (type.kind === 'varchar' || type.kind === 'char') {
        const bytes = Buffer.byteLength(v, 'utf8');
        if (type.kind === 'char' && /[^\x00-\x7f]/.test(v)) return { message: `default ${shown} has multibyte characters; char columns hold single-byte characters only (use varchar)` };
        if (bytes > type.length) return { message: `default ${shown} is ${bytes} bytes; ${typeText} holds ${type.length}` };
        return undefined;
      }
      if (NUMERIC_KINDS.has(type.kind)) {
        const num = /^-?\d+(?:\.\d+)?$/.test(v.trim()) ? v.trim() : undefined;
        return {
          message: `default ${shown} is a string; ${an(typeText)} column needs a number${num ? ` — write ${num} without quotes` : ''}`,
          ...(num ? { suggestion: num } : {}),
        };
      }
      if (type.kind === 'date') return validDate(v) ? undefined : { message: `default ${shown} is not a date (write 'YYYY-MM-DD')` };
      if (type.kind === 'timestamp' || type.kind === 'timestamptz')
        return validTimestamp(v, type.kind === 'timestamptz') ? undefined : { message: `default ${shown} is not ${an(typeText)} (write 'YYYY-MM-DD HH:MM:SS'${type.kind === 'timestamptz' ? ' with an optional +HH:MM zone' : ''})` };
      if (type.kind === 'time' || type.kind === 'timetz')
        return validTime(v, type.kind === 'timetz') ? undefined : { message: `default ${shown} is not ${an(typeText)} (write 'HH:MM:SS')` };
      if (type.kind === 'boolean') {
        const b = v.trim().toLowerCase();
        return b === 'true' || b === 'false'
          ? { message: `default ${shown} is a string; write ${b} without quotes for a boolean`, suggestion: b }
          : { message: `default ${shown} is a string; a boolean column takes true or false` };
      }
      return { message: `${an(typeText)} column takes only NULL as a default here` };
    }
    case 'bool':
      if (type.kind === 'boolean') return undefined;
      if (type.kind === 'varchar' || type.kind === 'char') {
        const q = `'${l.value ? 'true' : 'false'}'`;
        return { message: `default ${shown} is a boolean but ${typeText} holds text — quote it: ${q}`, suggestion: q };
      }
      return { message: `default ${shown} is a boolean; it does not fit ${an(typeText)} column` };
    case 'now':
      if (type.kind === 'timestamp' || type.kind === 'timestamptz' || type.kind === 'date') return undefined;
      return { message: `default ${shown} is the current time; it fits timestamp, timestamptz and date columns, not ${typeText}` };
    case 'current_date':
      if (type.kind === 'date' || type.kind === 'timestamp' || type.kind === 'timestamptz') return undefined;
      return { message: `default current_date fits date and timestamp columns, not ${typeText}` };
  }
}

/**
 * Which types each encoding accepts (Redshift docs, "Compression encodings"). Types the table does not list (time,
 * timetz, varbyte, geometry, geography, hllsketch) are left to Redshift: only raw and zstd are certain there.
 */
const ENCODING_TYPES: Record<Encoding, ReadonlySet<RedshiftType['kind']> | 'all'> = {
  raw: 'all',
  az64: new Set(['smallint', 'integer', 'bigint', 'numeric', 'date', 'timestamp', 'timestamptz']),
  bytedict: new Set(['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision', 'char', 'varchar', 'date', 'timestamp', 'timestamptz']),
  delta: new Set(['smallint', 'integer', 'bigint', 'numeric', 'date', 'timestamp']),
  delta32k: new Set(['integer', 'bigint', 'numeric', 'date', 'timestamp']),
  lzo: new Set(['smallint', 'integer', 'bigint', 'numeric', 'char', 'varchar', 'date', 'timestamp', 'timestamptz', 'super']),
  mostly8: new Set(['smallint', 'integer', 'bigint', 'numeric']),
  mostly16: new Set(['integer', 'bigint', 'numeric']),
  mostly32: new Set(['bigint', 'numeric']),
  runlength: new Set(['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision', 'boolean', 'char', 'varchar', 'date', 'timestamp', 'timestamptz']),
  text255: new Set(['varchar']),
  text32k: new Set(['varchar']),
  zstd: new Set(['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision', 'boolean', 'char', 'varchar', 'date', 'timestamp', 'timestamptz', 'super']),
};

/** Types the encodings table of the docs covers; for others only raw/zstd are checked as certain. */
const DOCUMENTED = new Set<RedshiftType['kind']>([
  'smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision', 'boolean', 'char', 'varchar', 'date', 'timestamp', 'timestamptz', 'super',
]);

/** Does Redshift accept this encoding for this type? undefined when yes (or not known), else why not. */
export function checkEncoding(enc: Encoding, type: RedshiftType): string | undefined {
  const ok = ENCODING_TYPES[enc];
  if (ok === 'all' || !DOCUMENTED.has(type.kind) || ok.has(type.kind)) return undefined;
  const fits = (Object.keys(ENCODING_TYPES) as Encoding[]).filter((e) => {
    const s = ENCODING_TYPES[e];
    return s === 'all' || s.has(type.kind);
  });
  return `encoding ${enc} does not apply to ${formatRedshiftType(type)} columns (these do: ${fits.join(', ')})`;
}

/** Types Redshift does not allow as a distribution or sort key. */
export const UNKEYABLE = new Set<RedshiftType['kind']>(['super', 'geometry', 'geography', 'hllsketch']);
