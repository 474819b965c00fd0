/**
 * Source facts (SOURCE_DATABASE_URL configured): for each table of schemas/, the source's and the warehouse's counts and
 * max(updated_at), computed on each side by the same aggregate SQL `compare` uses (src/source/checksum-sql.ts) — never
 * rows through Node. Rows changed within the lag window (COMPARE_LAG_SECONDS) are left out of the settled counts on
 * both sides, so a difference there is drift, not replication delay. At most a few tables are read at once.
 */
import { planChecksum } from '../source/checksum-sql.js';
import type { SideStats, Source } from '../source/port.js';
import { warehouseSide } from '../source/warehouse-side.js';
import type { Registry } from '../schema/registry.js';
import type { Warehouse } from '../warehouse/port.js';
import { gather, type Fact } from './fact.js';

export interface SourceTable {
  table: string;
  facts: Fact<{ source: SideStats; warehouse: SideStats } | 'not-in-source'>;
}

export interface SourceFacts {
  configured: boolean;
  lagSeconds: number;
  tables: SourceTable[];
}

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` (UTC on both sides) as epoch ms. */
export function parseSideTime(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(`${v.trim().replace(' ', 'T').slice(0, 23)}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

async function limited<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

export async function gatherSource(
  source: Source | undefined,
  wh: Warehouse,
  registry: Pick<Registry, 'defaultSchema' | 'get' | 'names'>,
  o: { now: number; lagSeconds: number; concurrency?: number },
): Promise<SourceFacts> {
  if (!source) return { configured: false, lagSeconds: o.lagSeconds, tables: [] };
  const schema = registry.defaultSchema;
  const ws = warehouseSide(wh, schema);
  const tables = await limited(registry.names(), o.concurrency ?? 4, async (name): Promise<SourceTable> => ({
    table: name,
    facts: await gather(`source vs warehouse counts of ${name}`, async () => {
      const def = registry.get(schema, name);
      if (!def) throw new Error('not in schemas/');
      if (!(await source.tableExists(name))) return 'not-in-source' as const;
      const plan = planChecksum(def, { now: new Date(o.now), lagSeconds: o.lagSeconds });
      const [s, w] = await Promise.all([source.stats(plan), ws.stats(plan)]);
      return { source: s, warehouse: w };
    }),
  }));
  return { configured: true, lagSeconds: o.lagSeconds, tables };
}
