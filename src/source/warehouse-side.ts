/**
 * The warehouse side of a comparison: the same aggregates as the source, in Redshift SQL over the Warehouse port (the
 * Data API). Values are bound as Data API parameters; every number comes back as text (no 2^53 rounding in Node).
 */
import { z } from 'zod';
import type { Warehouse } from '../warehouse/port.js';
import { type BuiltSql, type ChecksumPlan, rangeSql, statsSql } from './checksum-sql.js';
import type { CompareSide, RangeQuery, RangeSum, SideStats } from './port.js';

const text = z.union([z.string(), z.number()]).transform((v) => String(v));
const statsRow = z.object({
  total_rows: text,
  settled_rows: text.nullable(),
  min_id: text.nullable(),
  max_id: text.nullable(),
  max_updated_at: text.nullable(),
});
const rangeRow = z.object({ bucket: text, n: text.nullable(), h: text.nullable(), u: text.nullable() });

export function warehouseSide(wh: Warehouse, schema: string): CompareSide {
  const run = async (b: BuiltSql, name: string) => (await wh.query(b.sql, b.params, { name })).rows;
  return {
    label: 'warehouse',
    async tableExists(table) {
      const r = await wh.query(
        `SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = :schema AND table_name = :table AND table_type = 'BASE TABLE'`,
        { schema, table },
        { name: `compare: does ${schema}.${table} exist` },
      );
      return String(r.rows[0]?.['n'] ?? '0') !== '0';
    },
    async stats(plan: ChecksumPlan): Promise<SideStats> {
      const rows = await run(statsSql('redshift', plan), `compare: counts of ${plan.schema}.${plan.table}`);
      const r = statsRow.parse(rows[0]);
      return {
        totalRows: r.total_rows,
        settledRows: r.settled_rows ?? '0',
        ...(r.min_id !== null ? { minId: r.min_id } : {}),
        ...(r.max_id !== null ? { maxId: r.max_id } : {}),
        ...(r.max_updated_at !== null ? { maxUpdatedAt: r.max_updated_at } : {}),
      };
    },
    async rangeSums(plan: ChecksumPlan, q: RangeQuery): Promise<RangeSum[]> {
      const rows = await run(rangeSql('redshift', plan, q), `compare: range checksums of ${plan.schema}.${plan.table}`);
      return rows.map((row) => {
        const r = rangeRow.parse(row);
        return { bucket: Number(r.bucket), rows: r.n ?? '0', sum: r.h ?? '0', unsettled: r.u ?? '0' };
      });
    },
  };
}
