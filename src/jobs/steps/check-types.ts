/** Deep copy: the plan's narrowing checks on the data — rows that would not fit the new types (block) or lose precision (warn). */
import type { ModifyPlan } from '../../modify/types.js';
import { narrowingMessage } from '../../modify/sql.js';
import type { Warehouse } from '../../warehouse/port.js';
import type { DeepCopyStep } from './deep-copy-context.js';

/** Run the plan's narrowing checks: rows that would not fit the new types (block) or lose precision (warn). */
export async function narrowingProblems(wh: Warehouse, plan: ModifyPlan): Promise<{ problems: string[]; warnings: string[] }> {
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const c of plan.narrowingChecks) {
    const r = await wh.query(c.sql);
    const row = r.rows[0];
    const msg = narrowingMessage(c, { offending: row?.offending ?? 0, worst: row?.worst });
    if (msg === undefined) continue;
    (c.severity === 'block' ? problems : warnings).push(msg);
  }
  return { problems, warnings };
}

export const checkTypesStep: DeepCopyStep = (c, s) => ({
  ...c.base(s),
  isDone: async () => false,
  run: async (ctx) => {
    const r = await narrowingProblems(ctx.deps.warehouse, c.plan);
    for (const w of r.warnings) await ctx.note(`warning: ${w}`);
    if (r.problems.length) throw new Error(`the data does not fit the new types; nothing was changed:\n${r.problems.join('\n')}`);
    const n = c.plan.narrowingChecks.length;
    return `${n} check${n === 1 ? '' : 's'}: the data fits`;
  },
});
