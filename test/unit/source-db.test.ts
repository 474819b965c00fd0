/**
 * The sandbox's source tables: the MySQL column types a MariaDB source is created with are the ones the CDC service's
 * mapping (src/source/mysql-types.ts) turns back into the types schemas/ holds — so `schema diff --source` against the
 * sandbox's MariaDB agrees with schemas/ — and the generator's values fit them. The embedded stand-in reads in key order.
 */
import { describe, expect, it } from 'vitest';
import { Prng, tableGenerator } from '../../src/sandbox/apply-loop.js';
import { EmbeddedSourceDb, mysqlColumnType } from '../../src/sandbox/source-db.js';
import { loadRegistry } from '../../src/schema/registry.js';
import { formatRedshiftType, parseRedshiftType } from '../../src/schema/types.js';
import { mapMysqlType } from '../../src/source/mysql-types.js';

describe('mysqlColumnType', () => {
  it('every column type in schemas/ maps to a MySQL type the CDC mapping turns back into the same Redshift type', async () => {
    const registry = await loadRegistry();
    const checked: string[] = [];
    const wrong: string[] = [];
    for (const t of registry.tables.values()) {
      for (const c of t.columns) {
        const p = parseRedshiftType(c.type);
        if (!p.ok) continue;
        const want = formatRedshiftType(p.type);
        const back = mapMysqlType(mysqlColumnType(c.type).sql, 'utf8mb4');
        checked.push(`${t.name}.${c.name}`);
        if (!back.ok || back.type !== want) wrong.push(`${t.name}.${c.name}: ${want} → ${mysqlColumnType(c.type).sql} → ${back.ok ? back.type : back.error}`);
      }
    }
    expect(checked.length).toBeGreaterThan(200);
    expect(wrong).toEqual([]);
  });

  it("the generator's varchar values fit the MySQL column (characters = bytes / 3)", () => {
    for (const len of [6, 9, 12, 765]) {
      const gen = tableGenerator([{ name: 'id', type: 'integer', notNull: true }, { name: 'v', type: `varchar(${len})`, notNull: true }]);
      const chars = Number(/\((\d+)\)/.exec(mysqlColumnType(`varchar(${len})`).sql)![1]);
      const rng = new Prng(3);
      const longest = Math.max(...Array.from({ length: 200 }, (_, i) => String(gen.insert(i + 1, rng, 0).v).length));
      expect(longest).toBeLessThanOrEqual(chars);
      expect(longest).toBeGreaterThan(0);
    }
  });
});

describe('EmbeddedSourceDb', () => {
  it('applies changes in order and reads chunks in key order after a key', async () => {
    const db = new EmbeddedSourceDb();
    const t = db.table({ schema: 's', table: 't', keyColumn: 'id', columns: [{ name: 'id' }, { name: 'v' }] });
    await t.apply([
      { kind: 'insert', key: 5, row: { id: 5, v: 'a' } },
      { kind: 'insert', key: 2, row: { id: 2, v: 'b' } },
      { kind: 'insert', key: 9, row: { id: 9, v: 'c' } },
      { kind: 'update', key: 5, row: { id: 5, v: 'a2' } },
      { kind: 'delete', key: 2 },
      { kind: 'insert', key: 7, row: { id: 7, v: 'd' } },
    ]);
    expect(await t.count()).toBe(3);
    expect(await t.readChunk(undefined, 2)).toEqual([{ id: 5, v: 'a2' }, { id: 7, v: 'd' }]);
    expect(await t.readChunk(7, 2)).toEqual([{ id: 9, v: 'c' }]);
    expect(await t.readChunk(9, 2)).toEqual([]);
    expect(db.table({ schema: 's', table: 't', keyColumn: 'id', columns: [] })).toBe(t);
  });
});
