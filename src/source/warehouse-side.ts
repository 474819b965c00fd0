/**
 * The warehouse side of a comparison: the same aggregates as the source, in Redshift SQL over the Warehouse port (the
 * Data API). Values are bound as Data API parameters; every number comes back as text (no 2^53 rounding in Node).
 */
import type { Warehouse } from '../warehouse/port.js';
import { type BuiltSql, type ChecksumPlan, parseRangeSums, parseStats, rangeSql, statsSql } from './checksum-sql.js';
import type { CompareSide, RangeQuery, RangeSum, SideStats } from './port.js';


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
      return parseStats(rows[0]);
    },
    async rangeSums(plan: ChecksumPlan, q: RangeQuery): Promise<RangeSum[]> {
      const rows = await run(rangeSql('redshift', plan, q), `compare: range checksums of ${plan.schema}.${plan.table}`);
      return parseRangeSums(rows);
    },
  };
}
