/**
 * Redshift's data types: the allow-list every type in schemas/, in imported DDL and in a user's command is checked against.
 * A type is parsed into a RedshiftType and printed back in one canonical spelling (the one Redshift's catalog uses), so
 * `datetime`, `timestamp without time zone` and `TIMESTAMP` are the same type and compare equal.
 */

export type RedshiftType =
  | { kind: 'smallint' }
  | { kind: 'integer' }
  | { kind: 'bigint' }
  | { kind: 'numeric'; precision: number; scale: number }
  | { kind: 'real' }
  | { kind: 'double precision' }
  | { kind: 'boolean' }
  | { kind: 'char'; length: number }
  | { kind: 'varchar'; length: number }
  | { kind: 'date' }
  | { kind: 'timestamp' }
  | { kind: 'timestamptz' }
  | { kind: 'time' }
  | { kind: 'timetz' }
  | { kind: 'super' }
  | { kind: 'varbyte'; length: number }
  | { kind: 'geometry' }
  | { kind: 'geography' }
  | { kind: 'hllsketch' };

export const LIMITS = {
  varcharMax: 65535,
  charMax: 4096,
  numericPrecisionMax: 38,
  numericScaleMax: 37,
  varbyteMax: 1_024_000,
  identifierBytesMax: 127,
} as const;

/** Every spelling Redshift accepts for a type without a length/precision argument, by canonical kind. */
const PLAIN: Record<string, RedshiftType['kind']> = {
  smallint: 'smallint',
  int2: 'smallint',
  integer: 'integer',
  int: 'integer',
  int4: 'integer',
  bigint: 'bigint',
  int8: 'bigint',
  real: 'real',
  float4: 'real',
  'double precision': 'double precision',
  float8: 'double precision',
  float: 'double precision',
  boolean: 'boolean',
  bool: 'boolean',
  date: 'date',
  timestamp: 'timestamp',
  'timestamp without time zone': 'timestamp',
  datetime: 'timestamp',
  timestamptz: 'timestamptz',
  'timestamp with time zone': 'timestamptz',
  time: 'time',
  'time without time zone': 'time',
  timetz: 'timetz',
  'time with time zone': 'timetz',
  super: 'super',
  geometry: 'geometry',
  geography: 'geography',
  hllsketch: 'hllsketch',
};

/** Spellings that take a length (or precision, scale), by canonical kind. */
const SIZED: Record<string, 'char' | 'varchar' | 'numeric' | 'varbyte'> = {
  char: 'char',
  character: 'char',
  nchar: 'char',
  bpchar: 'char',
  varchar: 'varchar',
  'character varying': 'varchar',
  nvarchar: 'varchar',
  text: 'varchar',
  numeric: 'numeric',
  decimal: 'numeric',
  varbyte: 'varbyte',
  varbinary: 'varbyte',
  'binary varying': 'varbyte',
};

/** All accepted type names, for suggestions ("did you mean …"). */
export const TYPE_NAMES: readonly string[] = [...Object.keys(PLAIN), ...Object.keys(SIZED)];

export type TypeParse = { ok: true; type: RedshiftType } | { ok: false; error: string };

/** Parse a type as written (any case, any accepted alias, `varchar(max)`), or say precisely why it is not a Redshift type. */
export function parseRedshiftType(input: string): TypeParse {
  const text = input.trim().toLowerCase().replace(/\s+/g, ' ');
  const m = /^([a-z][a-z0-9 ]*?)\s*(?:\(\s*([^)]*?)\s*\))?$/.exec(text);
  if (!m || m[1] === undefined) return { ok: false, error: `"${input}" is not a type` };
  const name = m[1].trim();
  const args = m[2] === undefined ? undefined : m[2].split(',').map((a) => a.trim());
  const plain = PLAIN[name];
  if (plain !== undefined) {
    if (args !== undefined) return { ok: false, error: `type ${name} takes no length or precision` };
    return { ok: true, type: { kind: plain } as RedshiftType };
  }
  const sized = SIZED[name];
  if (sized === undefined) {
    const hint = suggest(name, TYPE_NAMES);
    return { ok: false, error: `unknown type "${name}"${hint ? ` — did you mean ${hint}?` : ''}` };
  }
  if (name === 'text') {
    if (args !== undefined) return { ok: false, error: 'type text takes no length (it is varchar(256))' };
    return { ok: true, type: { kind: 'varchar', length: 256 } };
  }
  if (sized === 'numeric') {
    if (args === undefined) return { ok: true, type: { kind: 'numeric', precision: 18, scale: 0 } };
    if (args.length > 2) return { ok: false, error: `${name} takes (precision[, scale])` };
    const precision = int(args[0]);
    const scale = args.length === 2 ? int(args[1]) : 0;
    if (precision === undefined || scale === undefined) return { ok: false, error: `${name}(${args.join(',')}): precision and scale must be whole numbers` };
    if (precision < 1 || precision > LIMITS.numericPrecisionMax) return { ok: false, error: `${name} precision ${precision} is out of range 1–${LIMITS.numericPrecisionMax}` };
    const scaleMax = Math.min(precision, LIMITS.numericScaleMax);
    if (scale < 0 || scale > scaleMax) return { ok: false, error: `${name} scale ${scale} is out of range 0–${scaleMax}` };
    return { ok: true, type: { kind: 'numeric', precision, scale } };
  }
  const max = sized === 'varchar' ? LIMITS.varcharMax : sized === 'char' ? LIMITS.charMax : LIMITS.varbyteMax;
  // bpchar without a length is char(256) in Redshift; char/character/nchar alone are char(1)
  const dflt = sized === 'varchar' ? 256 : sized === 'char' ? (name === 'bpchar' ? 256 : 1) : 64000;
  if (args === undefined) return { ok: true, type: { kind: sized, length: dflt } };
  if (args.length !== 1) return { ok: false, error: `${name} takes one length` };
  // MAX is the type's widest length: varchar(max) = varchar(65535), char(max) = char(4096) (Redshift docs, character types)
  if (args[0] === 'max') return { ok: true, type: { kind: sized, length: max } };
  const length = int(args[0]);
  if (length === undefined) return { ok: false, error: `${name}(${args[0]}): length must be a whole number or max` };
  if (length < 1 || length > max) return { ok: false, error: `${name} length ${length} is out of range 1–${max}` };
  return { ok: true, type: { kind: sized, length } };
}

function int(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d{1,9}$/.test(s)) return undefined;
  return Number(s);
}

/** The canonical spelling, as Redshift's catalog prints it (varchar(max) prints as varchar(65535)). */
export function formatRedshiftType(t: RedshiftType): string {
  switch (t.kind) {
    case 'numeric':
      return `numeric(${t.precision},${t.scale})`;
    case 'char':
    case 'varchar':
    case 'varbyte':
      return `${t.kind}(${t.length})`;
    default:
      return t.kind;
  }
}

/** Parse and re-print; throws on a type that is not Redshift's (use parseRedshiftType to get the reason as a value). */
export function canonicalType(input: string): string {
  const p = parseRedshiftType(input);
  if (!p.ok) throw new Error(p.error);
  return formatRedshiftType(p.type);
}

export const ENCODINGS = [
  'raw', 'az64', 'bytedict', 'delta', 'delta32k', 'lzo', 'mostly8', 'mostly16', 'mostly32', 'runlength', 'text255', 'text32k', 'zstd',
] as const;
export type Encoding = (typeof ENCODINGS)[number];

export function isEncoding(s: string): s is Encoding {
  return (ENCODINGS as readonly string[]).includes(s);
}

/** Damerau-free Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** The nearest candidate within a distance that still looks like a typo, or undefined. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const budget = Math.max(1, Math.min(3, Math.floor(w.length / 3)));
  return bestD <= budget ? best : undefined;
}
