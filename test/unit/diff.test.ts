import { describe, expect, it } from 'vitest';
import { normalizeDefault, parseDistStyle } from '../../src/schema/catalog.js';
import { diffTable, formatDrift, formatDrifts } from '../../src/schema/diff.js';
import { tableDef, type TableDef, type TableDefInput } from '../../src/schema/model.js';

const base: TableDefInput = {
  schema: 'ak_sumofus',
  name: 'core_action',
  columns: [
    { name: 'id', type: 'integer', notNull: true },
    { name: 'created_at', type: 'datetime', notNull: true, default: 'getdate()' },
    { name: 'user_id', type: 'int4', notNull: true },
    { name: 'source', type: 'varchar(765)', notNull: true, default: "'web'", encode: 'lzo' },
    { name: 'amount', type: 'decimal(10,2)', default: '0' },
  ],
  primaryKey: ['id'],
  distStyle: 'KEY',
  distKey: 'id',
  sortKey: { style: 'INTERLEAVED', columns: ['id', 'created_at'] },
};

const def = (over: Partial<TableDefInput> = {}): TableDef => tableDef.parse({ ...base, ...over });
/** The live table as the catalog reader returns it: no keys, default replication, catalog spellings. */
const live = (mut: (t: TableDef) => void = () => undefined): TableDef => {
  const t = structuredClone(def());
  delete t.primaryKey;
  t.columns = t.columns.map((c) => ({ ...c }));
  mut(t);
  return t;
};

describe('diffTable', () => {
  it('finds no drift between a definition and the same table as the catalog prints it', () => {
    const t = live((t) => {
      t.columns[1]!.default = 'now()';
      t.columns[3]!.default = "'web'::character varying";
      t.columns[4]!.default = "'0'::numeric";
      t.columns[0]!.encode = 'az64'; // no encode in schemas/: whatever Redshift chose
    });
    expect(diffTable(def(), t)).toEqual([]);
  });

  it('reports a missing table', () => {
    expect(diffTable(def(), undefined)).toEqual([
      { kind: 'missing-table', table: 'ak_sumofus.core_action', expected: 'table exists', actual: 'no such table' },
    ]);
  });

  it('names an extra column and a missing one', () => {
    const t = live((t) => {
      t.columns = t.columns.filter((c) => c.name !== 'amount');
      t.columns.push({ name: 'foo', type: 'varchar(64)', notNull: false });
    });
    const d = diffTable(def(), t);
    expect(d.map((x) => [x.kind, x.column])).toEqual([
      ['missing-column', 'amount'],
      ['extra-column', 'foo'],
    ]);
    expect(formatDrifts(d)).toEqual([
      'ak_sumofus.core_action.amount: column missing from the warehouse (schemas/ has numeric(10,2) DEFAULT 0)',
      'ak_sumofus.core_action.foo: extra column varchar(64) in the warehouse, not in schemas/',
    ]);
  });

  it('reports type, nullability, default and encoding per column', () => {
    const t = live((t) => {
      t.columns[3] = { name: 'source', type: 'varchar(1024)', notNull: false, default: "'api'::character varying", encode: 'zstd' };
    });
    const d = diffTable(def(), t);
    expect(d.map((x) => `${x.kind}:${x.expected}->${x.actual}`)).toEqual([
      'type:varchar(765)->varchar(1024)',
      'nullability:NOT NULL->NULL',
      "default:'web'->'api'",
      'encoding:lzo->zstd',
    ]);
    expect(formatDrift(d[0]!)).toBe('ak_sumofus.core_action.source: type is varchar(1024), schemas/ says varchar(765)');
  });

  it('treats DEFAULT NULL as no default and RAW as none', () => {
    const e = def({ columns: [{ name: 'id', type: 'integer', default: 'NULL', encode: 'raw' }], sortKey: { style: 'NONE', columns: [] }, distStyle: 'EVEN', primaryKey: undefined, distKey: undefined });
    const a = structuredClone(e);
    delete a.columns[0]!.default;
    a.columns[0]!.encode = 'raw';
    expect(diffTable(e, a)).toEqual([]);
  });

  it('reports a column order change once, listing both orders', () => {
    const t = live((t) => {
      const [a, b] = [t.columns[1]!, t.columns[2]!];
      t.columns[1] = b;
      t.columns[2] = a;
    });
    const d = diffTable(def(), t);
    expect(d).toHaveLength(1);
    expect(d[0]!.kind).toBe('column-order');
    expect(formatDrift(d[0]!)).toContain('warehouse: id, user_id, created_at');
  });

  it('reports a changed DISTKEY, a changed DISTSTYLE and a changed sort key', () => {
    const k = diffTable(def(), live((t) => (t.distKey = 'user_id')));
    expect(k).toEqual([{ kind: 'distkey', table: 'ak_sumofus.core_action', column: 'user_id', expected: 'id', actual: 'user_id' }]);
    expect(formatDrift(k[0]!)).toBe('ak_sumofus.core_action: DISTKEY is user_id, schemas/ says id');

    const s = diffTable(def(), live((t) => {
      t.distStyle = 'EVEN';
      delete t.distKey;
    }));
    expect(s.map(formatDrift)).toEqual(['ak_sumofus.core_action: DISTSTYLE is EVEN, schemas/ says KEY(id)']);

    const sk = diffTable(def(), live((t) => (t.sortKey = { style: 'COMPOUND', columns: ['id', 'created_at'] })));
    expect(sk.map(formatDrift)).toEqual(['ak_sumofus.core_action: sort key is COMPOUND(id, created_at), schemas/ says INTERLEAVED(id, created_at)']);
  });

  it('compares NONE and AUTO sort keys as equal, and skips what the catalog could not tell', () => {
    const e = def({ sortKey: { style: 'NONE', columns: [] } });
    expect(diffTable(e, live((t) => (t.sortKey = { style: 'AUTO', columns: [] })))).toEqual([]);
    const a = live((t) => {
      t.sortKey = { style: 'NONE', columns: [] };
      t.distStyle = 'AUTO';
      delete t.distKey;
    });
    expect(diffTable(e, a).map((d) => d.kind)).toEqual(['diststyle']);
    expect(diffTable(e, a, { unknown: ['diststyle', 'sortstyle'] })).toEqual([]);
  });

  it('ignores keys and replication (informational in Redshift, taken from schemas/)', () => {
    const e = def({ unique: [['user_id']], replication: { provider: 'dms', taskId: 'flydata-core-usermailing', logGroup: 'g' } });
    expect(diffTable(e, live())).toEqual([]);
  });
});

describe('normalizeDefault', () => {
  it.each([
    ["'USD'::character varying", undefined, "'USD'"],
    ["('it''s'::character varying)::text", undefined, "'it''s'"],
    ["'a::b'::character varying(10)", undefined, "'a::b'"],
    ['NULL::character varying', undefined, undefined],
    ['null', undefined, undefined],
    ['now()', undefined, 'getdate()'],
    ['GETDATE()', undefined, 'getdate()'],
    ['sysdate', undefined, 'getdate()'],
    ['CURRENT_TIMESTAMP', undefined, 'getdate()'],
    ["('now'::text)::timestamp without time zone", undefined, 'getdate()'],
    ["('now'::text)::date", undefined, 'current_date'],
    ["'-1'::integer", 'integer', '-1'],
    ['(-1)', 'integer', '-1'],
    ["'0'", 'smallint', '0'],
    ['0.00', 'numeric(10,2)', '0'],
    ["'0'", 'varchar(10)', "'0'"],
    ['FALSE', 'boolean', 'false'],
    ["'t'::boolean", 'boolean', 'true'],
  ])('%s (%s) → %s', (input, type, out) => {
    expect(normalizeDefault(input, type)).toBe(out);
  });
});

describe('parseDistStyle', () => {
  it('reads every svv_table_info spelling', () => {
    expect(parseDistStyle('KEY(id)')).toEqual({ distStyle: 'KEY', distKey: 'id' });
    expect(parseDistStyle('KEY("Weird Col")')).toEqual({ distStyle: 'KEY', distKey: 'Weird Col' });
    expect(parseDistStyle('EVEN')).toEqual({ distStyle: 'EVEN' });
    expect(parseDistStyle('ALL')).toEqual({ distStyle: 'ALL' });
    expect(parseDistStyle('AUTO(ALL)')).toEqual({ distStyle: 'AUTO' });
    expect(parseDistStyle('AUTO(KEY(user_id))')).toEqual({ distStyle: 'AUTO' });
    expect(parseDistStyle('nonsense')).toBeUndefined();
  });
});
