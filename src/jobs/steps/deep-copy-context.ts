/**
 * The per-job context of the steps that only make sense inside a modify (a deep copy or an in-place ALTER): the plan,
 * the three names, the run-time values the plan's placeholders stand for, statement names, settings. Built once per
 * job by the modify runbook (makeDeepCopyContext) and handed to each deep-copy step factory (steps/copy.ts, swap.ts…).
 *
 * The plan is the one source of SQL: a step runs its plan step's statements (sqlOf/batchOf/queryOf), filling only the
 * placeholders of src/modify/run-values.ts from the job's handles (values()).
 */
import { z } from 'zod';
import { regrantStatements } from '../../modify/grants.js';
import type { RunValues } from '../../modify/run-values.js';
import type { AclGrant, ModifyPlan, PlanAction, PlanError, PlanStep, SqlMark } from '../../modify/types.js';
import type { Op } from '../../commands/types.js';
import type { RunbookDeps, RunbookSettings } from '../deps.js';
import type { PlannedAction, Step, StepContext } from '../runbook.js';
import { isSwapped, tableExists, tableNames, type NamesPresent } from './table-names.js';

export type D = RunbookDeps;
export type Ctx = StepContext<D>;

/** What a replan may be given: the live checks a step has read (grants, owner…), as PlanInput names them. */
export type Replan = (check: { grants: AclGrant[]; owner: string; skipGrantees: string[] }) => ModifyPlan | PlanError;

export interface DeepCopyContext {
  plan: ModifyPlan;
  /** the command's operations (counted in messages; in-place drop_column needs an approval) */
  ops: readonly Op[];
  schema: string;
  /** <t>, new_<t>, old_<t> */
  name: string;
  newTable: string;
  oldTable: string;
  settings: RunbookSettings & { marginSeconds: number };
  /** the catch-up's stopping rule */
  catchUp: { rows: number; rounds: number };
  /** cdc live copy / rename-first */
  live: boolean;
  renameFirst: boolean;
  exists(ctx: Ctx, table: string): Promise<boolean>;
  /** which of t, new_t, old_t exist */
  names(ctx: Ctx): Promise<NamesPresent>;
  /** the swap has happened (and old_<t> is not dropped yet) */
  swapped(ctx: Ctx): Promise<boolean>;
  /** the drop step ran */
  dropped(ctx: Ctx): boolean;
  /** everything the plan's placeholders stand for, from the job's handles */
  values(ctx: Ctx): RunValues;
  /** the Data API statement name of a step of this job */
  stmtName(ctx: Ctx, step: string): string;
  rollbackOf(name: string): PlanStep;
  /** name, title and plan of a step, from its plan step */
  base(s: PlanStep): { name: string; title: string; plan: () => PlannedAction[] };
  /** the same plan with the live checks added (read-grants: does the swap still fit one batch?) */
  replan: Replan;
}

/** grants recorded by read-grants (JSON in the job's handles), checked before they become GRANT statements */
const aclGrants = z.array(
  z.strictObject({
    grantee: z.string(),
    granteeKind: z.enum(['user', 'group', 'public']),
    privileges: z.array(z.string().regex(/^[A-Z]+$/)),
    grantable: z.array(z.string().regex(/^[A-Z]+$/)),
    grantor: z.string(),
  }),
);

/** The statements of a plan step's `n`-th action of the given kind (the plan is the one source of the SQL). */
function planned(step: PlanStep, kind: 'sql' | 'batch' | 'query', n = 0): PlanAction {
  const a = step.actions.filter((x) => x.kind === kind)[n];
  if (!a) throw new Error(`plan step ${step.name} has no ${kind} action #${n + 1}`);
  return a;
}
export const sqlOf = (step: PlanStep, n = 0): string => {
  const a = planned(step, 'sql', n);
  return a.kind === 'sql' ? a.sql : '';
};
export const batchOf = (step: PlanStep, n = 0): string[] => {
  const a = planned(step, 'batch', n);
  return a.kind === 'batch' ? a.sql : [];
};
export const queryOf = (step: PlanStep, n = 0): string => {
  const a = planned(step, 'query', n);
  return a.kind === 'query' ? a.sql : '';
};

/** A plan step's actions as the engine prints them (dry-run, approval message). */
export function actionsOf(step: PlanStep): PlannedAction[] {
  return step.actions.map((a): PlannedAction => {
    switch (a.kind) {
      case 'sql':
        return { kind: 'sql', text: a.sql };
      case 'batch':
        return { kind: 'sql-batch', text: a.sql.join(';\n') };
      case 'query':
        return { kind: 'check', text: `${a.sql}\n→ expect ${a.expect}` };
      case 'aws':
        return { kind: 'aws', text: a.text };
      case 'gate':
        return { kind: 'approval', text: a.text };
      case 'note':
        return { kind: 'file', text: a.text };
    }
  });
}

export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

export function makeDeepCopyContext(a: {
  plan: ModifyPlan;
  ops: readonly Op[];
  settings: RunbookSettings & { marginSeconds: number };
  catchUp: { rows: number; rounds: number };
  replan: Replan;
}): DeepCopyContext {
  const { plan } = a;
  const schema = plan.current.schema;
  const { table: name, newTable, oldTable } = plan.names;
  const exists = (ctx: Ctx, n: string) => tableExists(ctx, schema, n);
  const names = (ctx: Ctx) => tableNames(ctx, schema, { table: name, newTable, oldTable });

  const grantsOf = (ctx: Ctx): AclGrant[] | undefined => {
    const g = ctx.handles['grants'];
    if (g === undefined) return undefined;
    const parsed = aclGrants.safeParse(JSON.parse(g));
    if (!parsed.success) throw new Error(`the grants recorded by step read-grants are not valid (${parsed.error.issues[0]?.message ?? ''}); retry read-grants`);
    return parsed.data;
  };
  /** the re-grants (and owner) the {{regrants}} placeholder stands for, from step read-grants */
  const regrantsOf = (ctx: Ctx): string[] | undefined => {
    const grants = grantsOf(ctx);
    if (grants === undefined) return undefined;
    const owner = ctx.handles['owner'];
    const bot = ctx.handles['botUser'];
    return regrantStatements(grants, schema, name, { ...(bot ? { skip: [bot] } : {}), ...(owner && owner !== bot ? { owner } : {}) });
  };
  /** a recorded mark, typed by the delta's change column (renderMark checks its format before it becomes SQL) */
  const markOf = (v: string | undefined): SqlMark | undefined => (v === undefined ? undefined : plan.delta?.kind === 'append-id' ? { int: v } : { ts: v });

  return {
    plan,
    ops: a.ops,
    schema,
    name,
    newTable,
    oldTable,
    settings: a.settings,
    catchUp: a.catchUp,
    live: plan.strategy === 'live-copy',
    renameFirst: plan.strategy === 'rename-first',
    exists,
    names,
    swapped: async (ctx) => isSwapped(await names(ctx)),
    dropped: (ctx) => ctx.handles['dropped'] === '1',
    values: (ctx) => {
      const copy = markOf(ctx.handles['copyMark']);
      const swap = markOf(ctx.handles['swapMark']);
      // the delta after the catch-up starts where its last round ended (the copy mark before any round)
      const last = markOf(ctx.handles['catchupMark']) ?? copy;
      const nextMark = markOf(ctx.handles['catchupNext'] || undefined);
      const regrants = regrantsOf(ctx);
      return {
        ...(copy ? { copy_mark: copy } : {}),
        ...(swap ? { swap_mark: swap } : {}),
        ...(last ? { catchup_mark: last } : {}),
        ...(nextMark ? { catchup_next: nextMark } : {}),
        ...(regrants ? { regrants } : {}),
      };
    },
    stmtName: (ctx, step) => `job ${ctx.job.id} ${step} ${schema}.${name}`,
    rollbackOf: (n) => {
      const s = plan.rollback.find((r) => r.name === n);
      if (!s) throw new Error(`plan has no rollback step ${n}`);
      return s;
    },
    base: (s) => ({ name: s.name, title: s.title, plan: () => actionsOf(s) }),
    replan: a.replan,
  };
}

/** A deep-copy step factory: the job's context and the plan step it executes. */
export type DeepCopyStep = (c: DeepCopyContext, s: PlanStep) => Step<D>;
