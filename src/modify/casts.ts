/**
 * Type changes in a deep copy: which conversions redshift-ops carries out, how the copy expresses them, and which ones
 * could fail or lose data (and so are checked on the data before the copy — sql.ts narrowingChecks).
 *
 * Principles:
 * - A conversion that can silently change data (a string cut short, decimals rounded away, a number out of range) is
 *   checked first and refused while offending rows exist.
 * - A string that gets shorter is copied by plain assignment, not `CAST(col AS varchar(n))`: an explicit cast truncates
 *   silently in Redshift and PostgreSQL, an assignment fails loudly ("value too long"), so a row written after the check
 *   fails the copy instead of losing characters.
 * - Conversions nobody should do by deep copy (boolean ↔ text, SUPER, geometry, …) are refused with a way forward.
 * Redshift VARCHAR lengths are bytes, so string checks use OCTET_LENGTH (Redshift and PostgreSQL both have it).
 */
import { formatRedshiftType, parseRedshiftType, type RedshiftType } from '../schema/types.js';

export interface CheckSpec {
  kind: 'length' | 'range' | 'magnitude' | 'scale' | 'format' | 'time-of-day';
  severity: 'block' | 'warn';
  /** SQL predicate true for an offending row, given the quoted column */
  predicate(col: string): string;
  /** SQL aggregate describing the worst offender as text (never the value of a text column), or undefined */
  worst?(col: string): string;
  /** the bound the message names: "32 bytes", "integer (-2147483648 to 2147483647)" */
  limit: string;
}

export type CastRule =
  | { kind: 'refuse'; reason: string }
  | {
      kind: 'ok';
      /** cast: CAST(col AS type); assign: the column as is (the INSERT's assignment converts, failing on overflow);
       *  text: CAST(col AS varchar(64)) then assignment (a non-string into a shorter string: fails instead of truncating) */
      expr: 'cast' | 'assign' | 'text';
      checks: CheckSpec[];
      warnings: string[];
    };

type Kind = RedshiftType['kind'];
const INTS = { smallint: { lo: '-32768', hi: '32767', digits: 5, text: 6 }, integer: { lo: '-2147483648', hi: '2147483647', digits: 10, text: 11 }, bigint: { lo: '-9223372036854775808', hi: '9223372036854775807', digits: 19, text: 20 } } as const;
type IntKind = keyof typeof INTS;
const isInt = (k: Kind): k is IntKind => k === 'smallint' || k === 'integer' || k === 'bigint';
const isFloat = (k: Kind): boolean => k === 'real' || k === 'double precision';
const isNumber = (k: Kind): boolean => isInt(k) || isFloat(k) || k === 'numeric';
const isString = (k: Kind): boolean => k === 'varchar' || k === 'char';
const isTime = (k: Kind): boolean => k === 'date' || k === 'timestamp' || k === 'timestamptz';

/** Longest text form of a value (for a conversion into a string type). */
function textWidth(t: RedshiftType): number | undefined {
  switch (t.kind) {
    case 'smallint':
    case 'integer':
    case 'bigint':
      return INTS[t.kind].text;
    case 'numeric':
      return t.precision + (t.scale > 0 ? 1 : 0) + 1 + (t.precision === t.scale ? 1 : 0);
    case 'real':
    case 'double precision':
      return 32;
    case 'date':
      return 13; // 5-digit years and BC can appear; common dates are 10
    case 'timestamp':
      return 29;
    case 'timestamptz':
      return 35;
    case 'time':
      return 15;
    case 'timetz':
      return 21;
    default:
      return undefined;
  }
}

function pow10(n: number): string {
  return `1${'0'.repeat(n)}`;
}

const lengthCheck = (n: number, fromChar: boolean): CheckSpec => ({
  kind: 'length',
  severity: 'block',
  predicate: (c) => `OCTET_LENGTH(${fromChar ? `RTRIM(${c})` : c}) > ${n}`,
  worst: (c) => `CAST(MAX(OCTET_LENGTH(${fromChar ? `RTRIM(${c})` : c})) AS varchar(20))`,
  limit: `${n} bytes`,
});

const textLengthCheck = (n: number): CheckSpec => ({
  kind: 'length',
  severity: 'block',
  predicate: (c) => `OCTET_LENGTH(CAST(${c} AS varchar(64))) > ${n}`,
  worst: (c) => `CAST(MAX(OCTET_LENGTH(CAST(${c} AS varchar(64)))) AS varchar(20))`,
  limit: `${n} bytes`,
});

const rangeCheck = (to: IntKind, fromFloat: boolean): CheckSpec => ({
  kind: 'range',
  severity: 'block',
  predicate: (c) => `${c} NOT BETWEEN ${INTS[to].lo} AND ${INTS[to].hi}`,
  worst: (c) => (fromFloat ? `CAST(MAX(ABS(${c})) AS varchar(64))` : `CAST(MAX(ABS(CAST(${c} AS numeric(38,0)))) AS varchar(64))`),
  limit: `${to} (${INTS[to].lo} to ${INTS[to].hi})`,
});

const magnitudeCheck = (intDigits: number, precision: number, scale: number, castFirst: boolean): CheckSpec => ({
  kind: 'magnitude',
  severity: 'block',
  predicate: (c) => `ABS(${castFirst ? `CAST(${c} AS numeric(38,0))` : c}) >= ${pow10(intDigits)}`,
  worst: (c) => `CAST(MAX(ABS(${castFirst ? `CAST(${c} AS numeric(38,0))` : c})) AS varchar(64))`,
  limit: `numeric(${precision},${scale}) (at most ${intDigits} digit${intDigits === 1 ? '' : 's'} before the decimal point)`,
});

const scaleCheck = (scale: number): CheckSpec => ({
  kind: 'scale',
  severity: 'block',
  predicate: (c) => `${c} <> ROUND(${c}, ${scale})`,
  limit: `${scale} decimal place${scale === 1 ? '' : 's'}`,
});

const fractionCheck = (): CheckSpec => ({
  kind: 'scale',
  severity: 'block',
  predicate: (c) => `${c} <> FLOOR(${c})`,
  limit: 'whole numbers',
});

const formatCheck = (pattern: string, what: string): CheckSpec => ({
  kind: 'format',
  severity: 'block',
  // POSIX regular expressions (`~`) exist in Redshift and PostgreSQL. No backslashes: Redshift reads them as escapes.
  predicate: (c) => `${c} !~ '${pattern}'`,
  limit: what,
});

/** `CASE WHEN text looks like an integer THEN its value is out of range ELSE true END`: evaluation order is guaranteed. */
const textIntCheck = (to: IntKind): CheckSpec => ({
  kind: 'format',
  severity: 'block',
  predicate: (c) =>
    `CASE WHEN ${c} ~ '^[-+]?[0-9]{1,37}$' THEN CAST(${c} AS numeric(38,0)) NOT BETWEEN ${INTS[to].lo} AND ${INTS[to].hi} ELSE TRUE END`,
  limit: `${to} (whole numbers ${INTS[to].lo} to ${INTS[to].hi}, digits only)`,
});

function numericPattern(precision: number, scale: number): string {
  const intDigits = precision - scale;
  const intPart = intDigits > 0 ? `[0-9]{1,${intDigits}}` : '0?';
  return scale > 0 ? `^[-+]?${intPart}([.][0-9]{0,${scale}})?$` : `^[-+]?${intPart}$`;
}

const DATE_RE = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';
const TS_RE = '^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?)?$';
const TSTZ_RE = '^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?)?( ?([-+][0-9]{2}(:?[0-9]{2})?|Z|UTC))?$';

const ok = (expr: 'cast' | 'assign' | 'text', checks: CheckSpec[] = [], warnings: string[] = []): CastRule => ({ kind: 'ok', expr, checks, warnings });
const refuse = (reason: string): CastRule => ({ kind: 'refuse', reason });

/**
 * How to convert a column of type `fromText` into `toText` (canonical spellings, as in a TableDef). `column` names the
 * column in messages.
 */
export function castRule(fromText: string, toText: string, column: string): CastRule {
  const fp = parseRedshiftType(fromText);
  const tp = parseRedshiftType(toText);
  if (!fp.ok) return refuse(`column ${column}: ${fp.error}`);
  if (!tp.ok) return refuse(`column ${column}: ${tp.error}`);
  const from = fp.type;
  const to = tp.type;
  const f = formatRedshiftType(from);
  const t = formatRedshiftType(to);
  const way = `add a new column of type ${t}, fill it, and drop ${column} in a later change`;

  // strings → strings
  if (isString(from.kind) && isString(to.kind)) {
    const fl = (from as { length: number }).length;
    const tl = (to as { length: number }).length;
    const warnings = from.kind === 'char' && to.kind === 'varchar' ? [`${column}: char values lose their trailing spaces as ${t}`] : [];
    if (tl >= fl) return ok('cast', [], warnings);
    return ok('assign', [lengthCheck(tl, from.kind === 'char')], warnings);
  }
  // numbers → numbers
  if (isNumber(from.kind) && isNumber(to.kind)) {
    if (isInt(from.kind) && isInt(to.kind)) {
      return INTS[to.kind].digits >= INTS[from.kind].digits ? ok('cast') : ok('cast', [rangeCheck(to.kind, false)]);
    }
    if (isInt(from.kind) && to.kind === 'numeric') {
      const intDigits = to.precision - to.scale;
      return intDigits >= INTS[from.kind].digits ? ok('cast') : ok('cast', [magnitudeCheck(intDigits, to.precision, to.scale, true)]);
    }
    if (isInt(from.kind) && isFloat(to.kind)) {
      const exact = to.kind === 'real' ? 6 : 15;
      return ok('cast', [], INTS[from.kind].digits > exact ? [`${column}: ${f} values above ${pow10(exact)} lose precision as ${t}`] : []);
    }
    if (from.kind === 'numeric' && isInt(to.kind)) {
      const checks: CheckSpec[] = [];
      if (from.scale > 0) checks.push(scaleCheck(0));
      if (from.precision - from.scale >= INTS[to.kind].digits) checks.push(rangeCheck(to.kind, false));
      return ok('cast', checks);
    }
    if (from.kind === 'numeric' && to.kind === 'numeric') {
      const checks: CheckSpec[] = [];
      if (to.scale < from.scale) checks.push(scaleCheck(to.scale));
      const intDigits = to.precision - to.scale;
      if (intDigits < from.precision - from.scale) checks.push(magnitudeCheck(intDigits, to.precision, to.scale, false));
      return ok('cast', checks);
    }
    if (from.kind === 'numeric' && isFloat(to.kind)) {
      const exact = to.kind === 'real' ? 6 : 15;
      return ok('cast', [], from.precision > exact ? [`${column}: ${f} values with more than ${exact} significant digits lose precision as ${t}`] : []);
    }
    if (isFloat(from.kind) && isInt(to.kind)) return ok('cast', [fractionCheck(), rangeCheck(to.kind, true)]);
    if (isFloat(from.kind) && to.kind === 'numeric') {
      const intDigits = to.precision - to.scale;
      return ok('cast', [magnitudeCheck(intDigits, to.precision, to.scale, false)], [`${column}: ${f} values are rounded to ${to.scale} decimal places as ${t}`]);
    }
    if (from.kind === 'double precision' && to.kind === 'real') return ok('cast', [], [`${column}: double precision values keep about 6 significant digits as real`]);
    return ok('cast'); // real → double precision
  }
  // numbers / times → strings
  if ((isNumber(from.kind) || isTime(from.kind) || from.kind === 'time' || from.kind === 'timetz') && isString(to.kind)) {
    const width = textWidth(from)!;
    const tl = (to as { length: number }).length;
    return width <= tl ? ok('cast') : ok('text', [textLengthCheck(tl)]);
  }
  // strings → numbers / times
  if (isString(from.kind) && (isNumber(to.kind) || isTime(to.kind))) {
    const warnings = [`${column}: text that passes the format check but is still not a valid ${t} (a 13th month, say) fails the copy; nothing is lost`];
    if (isInt(to.kind)) return ok('cast', [textIntCheck(to.kind)], []);
    if (to.kind === 'numeric') return ok('cast', [formatCheck(numericPattern(to.precision, to.scale), `${t} written as digits`)], []);
    if (isFloat(to.kind)) return ok('cast', [formatCheck('^[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)?$', `${t} written as a decimal number`)], []);
    if (to.kind === 'date') return ok('cast', [formatCheck(DATE_RE, 'dates written YYYY-MM-DD')], warnings);
    if (to.kind === 'timestamp') return ok('cast', [formatCheck(TS_RE, 'timestamps written YYYY-MM-DD HH:MM:SS')], warnings);
    return ok('cast', [formatCheck(TSTZ_RE, 'timestamps written YYYY-MM-DD HH:MM:SS[+zone]')], warnings);
  }
  // times → times
  if (isTime(from.kind) && isTime(to.kind)) {
    if (from.kind === 'date') return ok('cast');
    if (to.kind === 'date') {
      const check: CheckSpec = {
        kind: 'time-of-day',
        severity: 'warn',
        predicate: (c) => `${c} <> CAST(CAST(${c} AS date) AS ${f})`,
        limit: 'midnight',
      };
      return ok('cast', [check], [`${column}: ${f} → date drops the time of day`]);
    }
    return ok('cast', [], [`${column}: ${f} → ${t} reads the values in the session time zone (UTC unless configured)`]);
  }
  if (from.kind === 'time' && to.kind === 'timetz') return ok('cast');
  if (from.kind === 'timetz' && to.kind === 'time') return ok('cast', [], [`${column}: timetz → time drops the time zone`]);
  if (from.kind === 'varbyte' && to.kind === 'varbyte') {
    if (to.length >= from.length) return ok('cast');
    return refuse(`column ${column}: ${f} → ${t} would cut binary values short; ${way}`);
  }
  return refuse(`column ${column}: redshift-ops does not convert ${f} to ${t} by deep copy; ${way}`);
}
