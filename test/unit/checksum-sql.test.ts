/**
 * The comparison SQL, as text: values are bound (never spliced), identifiers are quoted for each dialect, MySQL gets one
 * bound value per `?`, and a very wide table's row text stays under Redshift's 65,535-byte VARCHAR limit.
 */
import { describe, expect, it } from 'vitest';
import { tableDef } from '../../src/schema/model.js';
import { planChecksum, rangeSql, rowText, statsSql } from '../../src/source/checksum-sql.js';

const now = new Date('2026-11-27T10:00:00.250Z');

describe('checksum SQL', () => {
  const def = tableDef.parse({
    schema: 'ak_sumofus',
    name: 'core_mailing',
    columns: [
      { name: 'id', type: 'integer', notNull: true },
      { name: 'limit', type: 'integer' },
      { name: 'html', type: 'varchar(65535)' },
      { name: 'started', type: 'time' },
      { name: 'updated_at', type: 'timestamp' },
    ],
    primaryKey: ['id'],
  });
  const plan = planChecksum(def, { now, lagSeconds: 300 });

  it('plans the key, the lag column, the cutoff (now − lag, UTC, microseconds) and what it leaves out', () => {
    expect(plan).toMatchObject({ key: 'id', lagColumn: 'updated_at', updatedAt: 'updated_at', cutoff: '2026-11-27 09:55:00.250000' });
    expect(plan.columns.map((c) => c.name)).toEqual(['id', 'limit', 'html', 'updated_at']);
    expect(plan.skipped).toEqual([{ name: 'started', type: 'time', reason: 'time of day: the engines print it differently' }]);
    expect(plan.columns.find((c) => c.name === 'html')?.hashed).toBe(true);
  });

  it('binds every value: MySQL gets one value per ?, Redshift named parameters; no value appears in the SQL text', () => {
    const q = { from: '1', to: '1000', width: '16' };
    for (const b of [statsSql('mysql', plan), rangeSql('mysql', plan, q)]) {
      expect(b.sql.match(/\?/g)?.length ?? 0).toBe(b.order.length);
      expect(b.sql).not.toContain('2026-11-27');
    }
    const r = rangeSql('redshift', plan, q);
    expect(r.params).toEqual({ from: '1', to: '1000', width: '16', cutoff: plan.cutoff });
    expect(r.sql).toContain('CAST(:cutoff AS TIMESTAMP)');
    expect(r.sql).not.toContain('2026-11-27');
    expect(r.sql).toContain('STRTOL(SUBSTRING(MD5(');
    expect(rangeSql('mysql', plan, q).sql).toContain('CONV(SUBSTRING(MD5(CONVERT(');
  });

  it('quotes identifiers for each dialect (a reserved word as a column name)', () => {
    expect(rowText('redshift', plan)).toContain('CAST("limit" AS VARCHAR(20))');
    expect(rowText('mysql', plan)).toContain('CAST(`limit` AS CHAR)');
    expect(statsSql('redshift', plan).sql).toContain('FROM ak_sumofus.core_mailing');
    expect(statsSql('mysql', plan).sql).toContain('FROM `core_mailing`');
  });

  it('a very wide table hashes its text columns so the row text stays under 65,535 bytes', () => {
    const wide = tableDef.parse({
      schema: 's',
      name: 'wide',
      columns: [{ name: 'id', type: 'bigint', notNull: true }, ...Array.from({ length: 100 }, (_, i) => ({ name: `c${i}`, type: 'varchar(1000)' }))],
      primaryKey: ['id'],
    });
    const p = planChecksum(wide, { now, lagSeconds: 0 });
    expect(p.columns.filter((c) => c.hashed)).toHaveLength(100);
    const narrow = planChecksum(def, { now, lagSeconds: 0 });
    expect(narrow.columns.filter((c) => c.hashed).map((c) => c.name)).toEqual(['html']);
  });

  it('a table without an integer single-column key is planned for counts only', () => {
    const t = tableDef.parse({ schema: 's', name: 'tags', columns: [{ name: 'a', type: 'integer' }, { name: 'b', type: 'varchar(10)' }], primaryKey: ['a', 'b'] });
    expect(planChecksum(t, { now, lagSeconds: 0 }).key).toBeUndefined();
    expect(() => rangeSql('redshift', planChecksum(t, { now, lagSeconds: 0 }), { from: '1', to: '2', width: '1' })).toThrow(/no integer key/);
  });
});
