/**
 * Demo data: `rows` generated rows per table (same seeded generator the replication apply loops use), written straight
 * into the sandbox database. Keys are not enforced in Redshift, and not here either.
 *
 * Row k of n is stamped (created_at, updated_at, every timestamp) (n − k + 1) minutes ago, as rows of a real table were
 * written over time: with every row stamped "now", every row was newer than a live copy's copy mark (max − 5 min) and
 * the verification before the swap compared 0 rows (issue 7, 4b).
 *
 * With a `source` (the MariaDB of SOURCE_DATABASE_URL, or the embedded stand-in) the same rows go to the source's table
 * too, so the source and the warehouse start equal (what a finished full load leaves) and `/redshift compare` has every
 * table on both sides.
 */
export const SEED_SPACING_MS = 60_000;

import { Prng, tableGenerator } from '../sandbox/apply-loop.js';
import type { Sandbox } from '../sandbox/server.js';
import type { SourceDb, SourceRow } from '../sandbox/source-db.js';
import type { Registry } from '../schema/registry.js';
import type { TableDef } from '../schema/model.js';
import { qualified, quoteIdent } from '../schema/identifiers.js';

/** Bump when the generated rows change (the demo's prepared-database cache is keyed by it, src/console/demo-cache.ts). */
export const SEED_VERSION = 2;

export interface SeedOptions {
  /** the time the rows are stamped back from (default: now); the demo passes the cached database's to seed its source */
  now?: number;
  /** only the source: the warehouse already holds these rows (loaded from the demo's cache) */
  sourceOnly?: boolean;
}

export async function seedRows(
  sandbox: Pick<Sandbox, 'sql'>,
  registry: Registry,
  rows: number,
  only: (t: TableDef) => boolean = () => true,
  source?: SourceDb,
  opts: SeedOptions = {},
): Promise<number> {
  let total = 0;
  const rng = new Prng(42);
  const now = opts.now ?? Date.now();
  for (const t of registry.tables.values()) {
    if (!only(t)) continue;
    const key = t.primaryKey?.length === 1 ? t.primaryKey[0] : undefined;
    if (!key) continue;
    const gen = tableGenerator(t.columns.map((c) => ({ name: c.name, type: c.type, notNull: c.notNull })), key);
    const cols = gen.columns;
    const sourceTable = source?.table({
      schema: t.schema,
      table: t.name,
      keyColumn: key,
      columns: cols.map((name) => ({ name, ...(gen.types?.[name] !== undefined ? { type: gen.types[name] } : {}), notNull: name === key })),
    });
    await sourceTable?.prepare();
    const chunk = Math.max(1, Math.floor(30000 / cols.length));
    for (let start = 1; start <= rows; start += chunk) {
      const n = Math.min(chunk, rows - start + 1);
      const params: unknown[] = [];
      const tuples: string[] = [];
      const sourceRows: SourceRow[] = [];
      for (let i = 0; i < n; i++) {
        const row = gen.insert(start + i, rng, now - (rows - (start + i) + 1) * SEED_SPACING_MS);
        sourceRows.push(row);
        tuples.push(`(${cols.map((c) => { params.push(row[c] ?? null); return `$${params.length}`; }).join(', ')})`);
      }
      if (!opts.sourceOnly) await sandbox.sql(`INSERT INTO ${qualified(t.schema, t.name)} (${cols.map(quoteIdent).join(', ')}) VALUES ${tuples.join(', ')}`, params);
      await sourceTable?.upsert(sourceRows);
      total += n;
    }
  }
  return total;
}
