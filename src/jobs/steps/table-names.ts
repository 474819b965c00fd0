/**
 * Generic table-name checks (shared step library): which of a table, its new_<t> and its old_<t> exist. A deep copy's
 * steps decide from these whether they already ran (before the swap: new_<t> exists; after it: <t> and old_<t>, no
 * new_<t>); recover and setup ask the same questions of a table that may be missing.
 */
import type { RunbookDeps } from '../deps.js';
import { tableExists } from '../statements.js';

export { tableExists };

/** The three names a copy-and-swap moves a table through. */
export interface TableNameSet {
  table: string;
  newTable: string;
  oldTable: string;
}

/** Which of the names exist: t = the table, nt = new_<t>, ot = old_<t>. */
export interface NamesPresent {
  t: boolean;
  nt: boolean;
  ot: boolean;
}

/** Look the three names up in the catalog (bound parameters). */
export async function tableNames(ctx: { deps: RunbookDeps }, schema: string, n: TableNameSet): Promise<NamesPresent> {
  const [t, nt, ot] = await Promise.all([tableExists(ctx, schema, n.table), tableExists(ctx, schema, n.newTable), tableExists(ctx, schema, n.oldTable)]);
  return { t, nt, ot };
}

/** The swap has happened (and old_<t> is not dropped yet): the table and old_<t> exist, new_<t> does not. */
export function isSwapped(n: NamesPresent): boolean {
  return n.t && n.ot && !n.nt;
}
