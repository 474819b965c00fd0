/**
 * A modify job's params and plan: the same call with the same settings gives what `modify … --dry-run` prints and what
 * the job runs (its steps execute the plan's statements, filling only the run-time placeholders of run-values.ts).
 */
import { z } from 'zod';
import { modifyCommandSchema } from '../../commands/types.js';
import { planModify, type PlanInput } from '../../modify/planner.js';
import { DEFAULT_CATCHUP, DEFAULT_MARGIN_SECONDS } from '../../modify/delta.js';
import type { ModifyPlan, PlanError } from '../../modify/types.js';
import { foreignKeyDef, tableDef } from '../../schema/model.js';
import { DEFAULT_RUNBOOK_SETTINGS, logLagMsOf, type RunbookDeps, type RunbookSettings } from '../deps.js';

export const modifyParams = z.strictObject({
  command: modifyCommandSchema,
  /** the table as schemas/ defined it when the job was queued: the plan is rebuilt from this, not from today's file */
  current: tableDef,
  referencing: z.array(z.strictObject({ table: tableDef, fk: foreignKeyDef })),
  /** a deep copy to exactly this definition (recover's cdc tables: back to schemas/ after the CDC service's reload) */
  target: tableDef.optional(),
});
export type ModifyParams = z.output<typeof modifyParams>;

export type ModifySettings = RunbookSettings & { marginSeconds: number };

/** What a replan may add: the live checks (grants, drift, size) a step has read. */
export type PlanChecks = Pick<PlanInput, 'drift' | 'forceDrift' | 'grants' | 'owner' | 'skipGrantees' | 'tableSize' | 'tableSizeUnknown'>;

/** the catch-up's stopping rule from the worker's settings */
export function catchUpOf(s: ModifySettings): { rows: number; rounds: number } {
  return { rows: s.catchUpRows ?? DEFAULT_CATCHUP.rows, rounds: Math.max(1, s.catchUpRounds ?? DEFAULT_CATCHUP.rounds) };
}

export function settingsOf(deps: RunbookDeps): ModifySettings {
  return { ...DEFAULT_RUNBOOK_SETTINGS, marginSeconds: DEFAULT_MARGIN_SECONDS, ...(deps.settings ?? {}) } as ModifySettings;
}

/**
 * The plan of a modify job: what `modify … --dry-run` prints and — the same call with the same settings — what the job
 * runs (its steps execute the plan's statements, filling only the run-time placeholders of run-values.ts).
 */
export function planModifyJob(params: ModifyParams, deps: RunbookDeps, check: PlanChecks = {}): ModifyPlan | PlanError {
  // JSON round trips break object identity; the planner pairs each fk with its table's own array entry
  const referencing = params.referencing.map(({ table, fk }) => ({
    table,
    fk: table.foreignKeys.find((f) => JSON.stringify(f) === JSON.stringify(fk)) ?? fk,
  }));
  const s = settingsOf(deps);
  return planModify({
    current: params.current,
    ops: params.command.ops,
    deepCopy: params.command.deepCopy,
    ...(params.command.strategy ? { strategy: params.command.strategy } : {}),
    referencing,
    ...(params.target ? { target: params.target } : {}),
    logCheckMinutes: Math.max(0, s.logCheckMs / 60_000),
    logLagMs: logLagMsOf(s),
    marginSeconds: s.marginSeconds,
    catchUp: catchUpOf(s),
    swapLockTimeoutMs: s.swapLockTimeoutMs,
    throughput: { scanMbPerSecond: s.scanMbPerSecond, copyMbPerSecond: s.copyMbPerSecond },
    ...check,
  });
}

/** Rebuild the plan deterministically from the job's params (the same plan every time the job is resumed). */
export function buildPlan(params: ModifyParams, deps: RunbookDeps): ModifyPlan {
  const plan = planModifyJob(params, deps);
  if (!plan.ok) throw new Error(plan.error);
  return plan;
}
