import { describe, expect, it } from 'vitest';
import {
  ENCODINGS,
  LIMITS,
  TYPE_NAMES,
  canonicalType,
  editDistance,
  formatRedshiftType,
  isEncoding,
  parseRedshiftType,
  suggest,
  type RedshiftType,
} from '../../src/schema/types.js';

/** Every spelling of every Redshift type, and the canonical spelling it must become. */
const ALIASES: Array<[canonical: string, spellings: string[]]> = [
  ['smallint', ['SMALLINT', 'INT2']],
  ['integer', ['INTEGER', 'INT', 'INT4']],
  ['bigint', ['BIGINT', 'INT8']],
  ['numeric(10,2)', ['DECIMAL(10,2)', 'NUMERIC(10,2)', 'numeric( 10 , 2 )']],
  ['numeric(18,0)', ['DECIMAL', 'NUMERIC']],
  ['numeric(7,0)', ['NUMERIC(7)', 'DECIMAL(7)']],
  ['real', ['REAL', 'FLOAT4']],
  ['double precision', ['DOUBLE PRECISION', 'FLOAT8', 'FLOAT', 'double   precision']],
  ['boolean', ['BOOLEAN', 'BOOL']],
  ['char(10)', ['CHAR(10)', 'CHARACTER(10)', 'NCHAR(10)', 'BPCHAR(10)']],
  ['char(1)', ['CHAR', 'CHARACTER', 'NCHAR']],
  ['char(256)', ['BPCHAR']],
  ['varchar(765)', ['VARCHAR(765)', 'CHARACTER VARYING(765)', 'NVARCHAR(765)', 'varchar (765)']],
  ['varchar(65535)', ['VARCHAR(MAX)', 'varchar(max)', 'CHARACTER VARYING(MAX)', 'NVARCHAR(MAX)', 'VARCHAR(65535)']],
  ['varchar(256)', ['VARCHAR', 'CHARACTER VARYING', 'NVARCHAR', 'TEXT']],
  ['date', ['DATE']],
  ['timestamp', ['TIMESTAMP', 'DATETIME', 'TIMESTAMP WITHOUT TIME ZONE']],
  ['timestamptz', ['TIMESTAMPTZ', 'TIMESTAMP WITH TIME ZONE']],
  ['time', ['TIME', 'TIME WITHOUT TIME ZONE']],
  ['timetz', ['TIMETZ', 'TIME WITH TIME ZONE']],
  ['super', ['SUPER']],
  ['varbyte(64000)', ['VARBYTE', 'VARBINARY', 'BINARY VARYING']],
  ['varbyte(100)', ['VARBYTE(100)', 'VARBINARY(100)', 'BINARY VARYING(100)']],
  ['geometry', ['GEOMETRY']],
  ['geography', ['GEOGRAPHY']],
  ['hllsketch', ['HLLSKETCH']],
];

describe('parseRedshiftType: every alias of every type', () => {
  const cases = ALIASES.flatMap(([canonical, spellings]) =>
    spellings.flatMap((s) => [
      [s, canonical],
      [s.toLowerCase(), canonical],
      [` ${s} `, canonical],
    ]),
  );
  it.each(cases)('%j is %s', (spelling, canonical) => {
    const p = parseRedshiftType(spelling);
    expect(p).toMatchObject({ ok: true });
    expect(canonicalType(spelling)).toBe(canonical);
  });

  it('covers every accepted type name', () => {
    const covered = new Set(
      ALIASES.flatMap(([, s]) => s).map((s) => s.toLowerCase().replace(/\s+/g, ' ').replace(/\s*\(.*$/, '').trim()),
    );
    expect([...TYPE_NAMES].filter((n) => !covered.has(n))).toEqual([]);
  });

  it('canonical spellings parse to themselves', () => {
    for (const [canonical] of ALIASES) expect(canonicalType(canonical)).toBe(canonical);
  });

  it('parses into the structured type', () => {
    expect(parseRedshiftType('NUMERIC(10,2)')).toEqual({ ok: true, type: { kind: 'numeric', precision: 10, scale: 2 } });
    expect(parseRedshiftType('varchar(max)')).toEqual({ ok: true, type: { kind: 'varchar', length: 65535 } });
    expect(parseRedshiftType('datetime')).toEqual({ ok: true, type: { kind: 'timestamp' } });
    expect(parseRedshiftType('char(3)')).toEqual({ ok: true, type: { kind: 'char', length: 3 } });
  });
});

describe('limits', () => {
  const ok = (s: string, canonical: string) => expect(canonicalType(s)).toBe(canonical);
  const bad = (s: string, error: string) => expect(parseRedshiftType(s)).toEqual({ ok: false, error });

  it('VARCHAR is at most 65535 and at least 1', () => {
    expect(LIMITS.varcharMax).toBe(65535);
    ok('varchar(65535)', 'varchar(65535)');
    ok('varchar(1)', 'varchar(1)');
    bad('varchar(65536)', 'varchar length 65536 is out of range 1–65535');
    bad('character varying(70000)', 'character varying length 70000 is out of range 1–65535');
    bad('varchar(0)', 'varchar length 0 is out of range 1–65535');
    bad('varchar(-1)', 'varchar(-1): length must be a whole number or max');
    bad('varchar(1.5)', 'varchar(1.5): length must be a whole number or max');
    bad('varchar(10,2)', 'varchar takes one length');
    bad('varchar()', 'varchar(): length must be a whole number or max');
  });

  it('NUMERIC precision is 1–38, scale 0–min(precision, 37)', () => {
    expect(LIMITS.numericPrecisionMax).toBe(38);
    ok('numeric(38,0)', 'numeric(38,0)');
    ok('decimal(38,37)', 'numeric(38,37)');
    ok('numeric(1,1)', 'numeric(1,1)');
    bad('numeric(39,0)', 'numeric precision 39 is out of range 1–38');
    bad('decimal(40,2)', 'decimal precision 40 is out of range 1–38');
    bad('numeric(0)', 'numeric precision 0 is out of range 1–38');
    bad('numeric(38,38)', 'numeric scale 38 is out of range 0–37');
    bad('numeric(10,11)', 'numeric scale 11 is out of range 0–10');
    bad('numeric(10,2,1)', 'numeric takes (precision[, scale])');
    bad('numeric(a,b)', 'numeric(a,b): precision and scale must be whole numbers');
  });

  it('CHAR is at most 4096 (char(max) = char(4096)); VARBYTE at most 1,024,000', () => {
    ok('char(4096)', 'char(4096)');
    bad('char(4097)', 'char length 4097 is out of range 1–4096');
    ok('char(max)', 'char(4096)');
    ok('CHARACTER(MAX)', 'char(4096)');
    ok('varbyte(1024000)', 'varbyte(1024000)');
    bad('varbyte(1024001)', 'varbyte length 1024001 is out of range 1–1024000');
  });

  it('types without a length refuse one', () => {
    bad('integer(4)', 'type integer takes no length or precision');
    bad('timestamp(6)', 'type timestamp takes no length or precision');
    bad('double precision(53)', 'type double precision takes no length or precision');
    bad('text(10)', 'type text takes no length (it is varchar(256))');
  });
});

describe('unknown types', () => {
  it('suggests the nearest type for a typo', () => {
    expect(parseRedshiftType('timestampt')).toEqual({ ok: false, error: 'unknown type "timestampt" — did you mean timestamp?' });
    expect(parseRedshiftType('INTEGR')).toEqual({ ok: false, error: 'unknown type "integr" — did you mean integer?' });
    expect(parseRedshiftType('varchr(10)')).toEqual({ ok: false, error: 'unknown type "varchr" — did you mean varchar?' });
    expect(parseRedshiftType('boolen')).toEqual({ ok: false, error: 'unknown type "boolen" — did you mean boolean?' });
  });

  it('does not suggest for something unlike any type', () => {
    expect(parseRedshiftType('blob')).toEqual({ ok: false, error: 'unknown type "blob"' });
    expect(parseRedshiftType('jsonb')).toEqual({ ok: false, error: 'unknown type "jsonb"' });
    expect(parseRedshiftType('mediumtext')).toEqual({ ok: false, error: 'unknown type "mediumtext"' });
  });

  it('refuses text that is not a type at all, including SQL', () => {
    expect(parseRedshiftType('')).toEqual({ ok: false, error: '"" is not a type' });
    expect(parseRedshiftType('int; drop table x')).toEqual({ ok: false, error: '"int; drop table x" is not a type' });
    expect(parseRedshiftType('varchar(10))')).toEqual({ ok: false, error: '"varchar(10))" is not a type' });
    expect(parseRedshiftType('integer[]')).toEqual({ ok: false, error: '"integer[]" is not a type' });
    expect(() => canonicalType('blob')).toThrow('unknown type "blob"');
  });
});

describe('formatRedshiftType', () => {
  it('prints every kind canonically', () => {
    const all: Array<[RedshiftType, string]> = [
      [{ kind: 'smallint' }, 'smallint'],
      [{ kind: 'integer' }, 'integer'],
      [{ kind: 'bigint' }, 'bigint'],
      [{ kind: 'numeric', precision: 10, scale: 2 }, 'numeric(10,2)'],
      [{ kind: 'real' }, 'real'],
      [{ kind: 'double precision' }, 'double precision'],
      [{ kind: 'boolean' }, 'boolean'],
      [{ kind: 'char', length: 2 }, 'char(2)'],
      [{ kind: 'varchar', length: 65535 }, 'varchar(65535)'],
      [{ kind: 'date' }, 'date'],
      [{ kind: 'timestamp' }, 'timestamp'],
      [{ kind: 'timestamptz' }, 'timestamptz'],
      [{ kind: 'time' }, 'time'],
      [{ kind: 'timetz' }, 'timetz'],
      [{ kind: 'super' }, 'super'],
      [{ kind: 'varbyte', length: 10 }, 'varbyte(10)'],
      [{ kind: 'geometry' }, 'geometry'],
      [{ kind: 'geography' }, 'geography'],
      [{ kind: 'hllsketch' }, 'hllsketch'],
    ];
    for (const [t, s] of all) {
      expect(formatRedshiftType(t)).toBe(s);
      expect(parseRedshiftType(s)).toEqual({ ok: true, type: t });
    }
  });
});

describe('encodings and suggestions', () => {
  it('knows Redshift compression encodings', () => {
    for (const e of ['raw', 'az64', 'bytedict', 'delta', 'delta32k', 'lzo', 'mostly8', 'mostly16', 'mostly32', 'runlength', 'text255', 'text32k', 'zstd'])
      expect(isEncoding(e)).toBe(true);
    expect(ENCODINGS).toHaveLength(13);
    expect(isEncoding('gzip')).toBe(false);
    expect(isEncoding('ZSTD')).toBe(false);
  });

  it('editDistance and suggest', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
    expect(suggest('zstdd', ENCODINGS)).toBe('zstd');
    expect(suggest('NotNull', ['name', 'notNull'])).toBe('notNull');
    expect(suggest('xyz', ['name', 'notNull'])).toBeUndefined();
  });
});
