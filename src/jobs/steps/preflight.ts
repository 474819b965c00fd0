/**
 * Deep copy: preflight — free disk ≥ factor × table size, and no view bound to the table (it would follow old_<t> and
 * be dropped with it). Read-only: the bot runs preflightChecks before queueing (a clear refusal, nothing queued) and
 * this step again. Free space and size come from views the bot's database user may not see (stv_partitions and
 * svv_table_info are superuser-only; Serverless has no STV tables): then the disk check is "unknown (why)" — a warning,
 * not a refusal.
 */
import type { ModifyPlan } from '../../modify/types.js';
import { DEPENDENT_VIEWS_QUERY } from '../../modify/sql.js';
import type { Warehouse } from '../../warehouse/port.js';
import { currentUser, readFreeDisk, readTableSize } from '../../warehouse/free-disk.js';
import type { RunbookSettings } from '../deps.js';
import type { DeepCopyStep } from './deep-copy-context.js';

export async function preflightChecks(
  wh: Warehouse,
  plan: ModifyPlan,
  settings: Pick<RunbookSettings, 'diskFactor'>,
): Promise<{ problems: string[]; warnings: string[]; detail: string; sizeMb?: number }> {
  const { schema, name } = plan.table;
  if (plan.mode === 'in-place') return { problems: [], warnings: [], detail: 'in place: no copy, no disk needed' };
  const user = await currentUser(wh);
  const size = await readTableSize(wh, schema, name, user);
  const disk = await readFreeDisk(wh, user);
  const fmt = (n: number) => n.toLocaleString('en-US');
  const problems: string[] = [];
  const warnings: string[] = [];
  const need = size.known ? Math.ceil(settings.diskFactor * size.sizeMb) : undefined;
  const needText = size.known ? `${fmt(need ?? 0)} MB (${settings.diskFactor} × ${fmt(size.sizeMb)} MB of ${name})` : `${settings.diskFactor} × the size of ${name}`;
  let diskText: string;
  if (disk.known && need !== undefined) {
    if (disk.freeMb < need)
      problems.push(`too little free disk: ${fmt(disk.freeMb)} MB free, the copy needs ${needText}; free space (VACUUM DELETE ONLY, drop unused tables) or resize, then try again`);
    diskText = `${fmt(disk.freeMb)} MB free (need ${fmt(need)})`;
  } else {
    const why = disk.known ? (size.known ? '' : size.why) : disk.why;
    diskText = `free disk: unknown (${why})`;
    warnings.push(`${diskText}; the copy needs ${needText} — the copy goes ahead without a disk check: make sure the warehouse has that much free before it runs`);
  }
  const views = await wh.query(DEPENDENT_VIEWS_QUERY, { schema, table: name });
  if (views.rows.length > 0) {
    const list = views.rows.map((r) => `${String(r.view_schema)}.${String(r.view_name)}`).join(', ');
    problems.push(`views bound to ${name} would follow ${plan.names.oldTable} after the swap and be dropped with it: ${list}. Recreate them WITH NO SCHEMA BINDING (late-binding), then try again`);
  }
  const sizeText = size.known ? `${fmt(size.sizeMb)} MB, ${fmt(size.rows)} rows` : `size of ${name} unknown (${size.why})`;
  return { problems, warnings, detail: `${sizeText}; ${diskText}`, ...(size.known ? { sizeMb: size.sizeMb } : {}) };
}

export const preflightStep: DeepCopyStep = (c, s) => ({
  ...c.base(s),
  isDone: async () => false,
  run: async (ctx) => {
    const r = await preflightChecks(ctx.deps.warehouse, c.plan, c.settings);
    if (r.problems.length) throw new Error(r.problems.join('\n'));
    for (const w of r.warnings) await ctx.note(`warning: ${w}`);
    if (r.sizeMb !== undefined) await ctx.setHandle('sizeMb', String(r.sizeMb));
    return r.detail;
  },
});
