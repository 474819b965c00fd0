/**
 * MySQL column type → Redshift type, with the CDC service's conventions (the ones schemas/ shows: varchar(255) became
 * varchar(765), datetime became timestamp, tinyint(1) smallint…). One expectation per rule.
 */
import { describe, expect, it } from 'vitest';
import { mapMysqlType, mysqlDefault } from '../../src/source/mysql-types.js';

const map = (t: string, charset?: string | null): string => {
  const r = mapMysqlType(t, charset);
  if (!r.ok) throw new Error(r.error);
  return r.type;
};

describe('mapMysqlType', () => {
  it('varchar and char: length × 3 bytes (utf8), capped at 65535; char becomes varchar (Redshift CHAR is single-byte)', () => {
    expect(map('varchar(255)', 'utf8')).toBe('varchar(765)');
    expect(map('varchar(255)', 'utf8mb4')).toBe('varchar(765)');
    expect(map('varchar(5)')).toBe('varchar(15)');
    expect(map('VARCHAR(30000)', 'utf8')).toBe('varchar(65535)');
    expect(map('char(2)', 'utf8')).toBe('varchar(6)');
    expect(map('char', 'utf8')).toBe('varchar(3)');
    expect(map('varchar(40)', 'ascii')).toBe('varchar(40)');
    expect(map('varchar(40)', 'binary')).toBe('varchar(40)');
  });

  it('text types: tinytext → varchar(765), text/mediumtext/longtext → varchar(65535)', () => {
    expect(map('tinytext', 'utf8')).toBe('varchar(765)');
    expect(map('text', 'utf8')).toBe('varchar(65535)');
    expect(map('mediumtext')).toBe('varchar(65535)');
    expect(map('longtext', 'utf8mb4')).toBe('varchar(65535)');
    expect(mapMysqlType('longtext').ok && (mapMysqlType('longtext') as { notes: string[] }).notes.join(' ')).toMatch(/65,535 bytes/);
  });

  it('datetime and timestamp → timestamp (any fraction), date → date, time → time, year → smallint', () => {
    expect(map('datetime')).toBe('timestamp');
    expect(map('datetime(6)')).toBe('timestamp');
    expect(map('timestamp')).toBe('timestamp');
    expect(map('date')).toBe('date');
    expect(map('time')).toBe('time');
    expect(map('year(4)')).toBe('smallint');
  });

  it('tinyint(1) (a MySQL boolean) → smallint, as the CDC service did; bool/boolean too', () => {
    expect(map('tinyint(1)')).toBe('smallint');
    expect(map('bool')).toBe('smallint');
    expect(map('boolean')).toBe('smallint');
  });

  it('integers: display widths ignored; unsigned types widened to the next type that holds every value', () => {
    expect(map('tinyint(4)')).toBe('smallint');
    expect(map('tinyint(3) unsigned')).toBe('smallint');
    expect(map('smallint(6)')).toBe('smallint');
    expect(map('smallint(5) unsigned')).toBe('integer');
    expect(map('mediumint(9)')).toBe('integer');
    expect(map('mediumint(8) unsigned')).toBe('integer');
    expect(map('int(11)')).toBe('integer');
    expect(map('integer')).toBe('integer');
    expect(map('int(10) unsigned')).toBe('bigint');
    expect(map('int(10) unsigned zerofill')).toBe('bigint');
    expect(map('bigint(20)')).toBe('bigint');
    expect(map('bigint(20) unsigned')).toBe('numeric(20,0)');
  });

  it('decimal(p,s) → numeric(p,s); defaults (10,0); precision above 38 is cut with a note', () => {
    expect(map('decimal(10,2)')).toBe('numeric(10,2)');
    expect(map('decimal(10,2) unsigned')).toBe('numeric(10,2)');
    expect(map('numeric(12)')).toBe('numeric(12,0)');
    expect(map('decimal')).toBe('numeric(10,0)');
    const wide = mapMysqlType('decimal(65,30)');
    expect(wide).toMatchObject({ ok: true, type: 'numeric(38,30)' });
    expect(wide.ok && wide.notes.join(' ')).toMatch(/65 digits/);
  });

  it('floating point: float → real, double/real → double precision', () => {
    expect(map('float')).toBe('real');
    expect(map('float(7,4)')).toBe('real');
    expect(map('double')).toBe('double precision');
    expect(map('double precision')).toBe('double precision');
    expect(map('real')).toBe('double precision');
  });

  it('enum and set → varchar long enough for every value; bit(1) → boolean, bit(n) → bigint', () => {
    expect(map("enum('a','bcd','it''s')", 'utf8')).toBe('varchar(12)');
    expect(map("set('x','yy')", 'utf8')).toBe('varchar(12)');
    expect(map('bit(1)')).toBe('boolean');
    expect(map('bit(12)')).toBe('bigint');
  });

  it('binary types → varbyte, json → varchar(65535), spatial → geometry, each with a note', () => {
    expect(map('varbinary(16)')).toBe('varbyte(16)');
    expect(map('blob')).toBe('varbyte(65535)');
    expect(map('json')).toBe('varchar(65535)');
    expect(map('point')).toBe('geometry');
    for (const t of ['blob', 'json', 'point']) {
      const r = mapMysqlType(t);
      expect(r.ok && r.notes.length, t).toBeGreaterThan(0);
    }
  });

  it('an unknown or malformed type is an error naming it, never a guess', () => {
    expect(mapMysqlType('frobnicate(3)')).toEqual({ ok: false, error: 'unknown MySQL type "frobnicate(3)"' });
    expect(mapMysqlType('varchar(abc)')).toMatchObject({ ok: false });
    expect(mapMysqlType('varchar')).toMatchObject({ ok: false, error: expect.stringContaining('needs a length') });
  });
});

describe('mysqlDefault', () => {
  it('reads MariaDB (SQL literal) and MySQL (raw value) defaults as schemas/ literals', () => {
    expect(mysqlDefault(null, 'varchar(765)')).toEqual({ ok: true });
    expect(mysqlDefault('NULL', 'integer')).toEqual({ ok: true, value: 'NULL' });
    expect(mysqlDefault("'USD'", 'varchar(9)')).toEqual({ ok: true, value: "'USD'" });
    expect(mysqlDefault('USD', 'varchar(9)')).toEqual({ ok: true, value: "'USD'" });
    expect(mysqlDefault("it's", 'varchar(9)')).toEqual({ ok: true, value: "'it''s'" });
    expect(mysqlDefault('0', 'integer')).toEqual({ ok: true, value: '0' });
    expect(mysqlDefault('0.00', 'numeric(10,2)')).toEqual({ ok: true, value: '0.00' });
    expect(mysqlDefault('current_timestamp()', 'timestamp')).toEqual({ ok: true, value: 'getdate()' });
    expect(mysqlDefault('CURRENT_TIMESTAMP', 'timestamp')).toEqual({ ok: true, value: 'getdate()' });
    expect(mysqlDefault("'a\\\\b'", 'varchar(9)')).toMatchObject({ ok: false });
  });
});
