/**
 * `/redshift modify <table> <ops>`: the planner (src/modify) decides in place vs deep copy and writes every statement;
 * this runbook turns the plan's steps into engine steps that look at the world before acting (isDone), act once
 * (statement ids recorded before waiting), and know how to take their change back (undo) — pgroll's model.
 *
 * Deep copy, by provider (DESIGN.md §4 invariant 1):
 *  - dms: stop the task (wait `stopped`) → create new_<t> → copy → verify → swap in one batch → resume → read the
 *    task's CloudWatch log → post-swap verification → approval → drop old_<t> (+ re-create the FKs that pointed at it) → rewrite schemas/.
 *  - cdc live-copy (default): create → copy mark → copy while the table stays readable → remove rows deleted meanwhile
 *    → verify the stable rows → ONE batch: lock, apply the delta since the mark, swap → post-swap delete sync → move
 *    late writes from old_<t> → freshness → post-swap verification → approval → drop → schemas/.
 *  - cdc rename-first (fallback): t → old_<t> (the service buffers) → create → copy → verify → new_<t> → t → …
 * The post-swap verification (step post-verify, its SQL from the plan) compares old_<t> with <t> before anyone is asked
 * to drop old_<t>, and the approval prompt shows its line. Verification lines say exactly what they compared; one that
 * compared 0 rows returns status 'warn' (shown ⚠, never ✓).
 * Rollback (reject at the approval, `/redshift rollback`, a Rollback button) undoes the completed steps in reverse:
 * resume ↔ stop, swap ↔ swap back (carrying changes made since the swap), create ↔ drop new_<t>. After the drop the old
 * data is gone, and a rollback says so instead of pretending.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { modifyCommandSchema } from '../../commands/types.js';
import { planModify, isStepDone, unmetExpectations, type PlanInput } from '../../modify/planner.js';
import { reverseFull } from '../../modify/delta.js';
import { parseAcl, regrantStatements, ACL_QUERY, SESSION_QUERY } from '../../modify/grants.js';
import { fillBatch, fillStatement, type RunValues } from '../../modify/run-values.js';
import { compareChecksums, narrowingMessage, swapBackBatch, verifyQueries, DEPENDENT_VIEWS_QUERY } from '../../modify/sql.js';
import { DEFAULT_CATCHUP, DEFAULT_MARGIN_SECONDS } from '../../modify/delta.js';
import type { AclGrant, ModifyPlan, PlanAction, PlanError, PlanStep, SqlMark } from '../../modify/types.js';
import { groupLogLines } from '../../replication/port.js';
import { scanLogsOnce } from '../../replication/watch-logs.js';
import { readTable } from '../../schema/catalog.js';
import { foreignKeyDef, tableDef } from '../../schema/model.js';
import { qualified } from '../../schema/identifiers.js';
import { writeTableFile } from '../../schema/registry.js';
import { DEFAULT_RUNBOOK_SETTINGS, logLagMsOf, type RunbookDeps, type RunbookSettings } from '../deps.js';
import type { SubmitOptions, Warehouse } from '../../warehouse/port.js';
import { currentUser, readFreeDisk, readTableSize } from '../../warehouse/free-disk.js';
import { defineRunbook, type PlanContext, type PlannedAction, type Step, type StepContext, waitUntil } from '../runbook.js';
import { freshnessNote, freshnessPollMs, logCheckNote, readWatchState } from '../waits.js';
import { lockWaitTimedOut } from '../lock-timeout.js';
import { finishedBefore, forgetStatement, runOnce, tableExists } from '../statements.js';
import { compareStep } from '../steps/compare.js';

export const modifyParams = z.strictObject({
  command: modifyCommandSchema,
  /** the table as schemas/ defined it when the job was queued: the plan is rebuilt from this, not from today's file */
  current: tableDef,
  referencing: z.array(z.strictObject({ table: tableDef, fk: foreignKeyDef })),
});
export type ModifyParams = z.output<typeof modifyParams>;

type D = RunbookDeps;
type Ctx = StepContext<D>;

/** the catch-up's stopping rule from the worker's settings */
function catchUpOf(s: RunbookSettings & { marginSeconds: number }): { rows: number; rounds: number } {
  return { rows: s.catchUpRows ?? DEFAULT_CATCHUP.rows, rounds: Math.max(1, s.catchUpRounds ?? DEFAULT_CATCHUP.rounds) };
}

/** rows a catch-up round put into new_<t>: the row count of the batch's INSERT (the plan's statement of that index) */
function appliedRows(batch: readonly string[], subs: ReadonlyArray<{ resultRows: number }>): number {
  const i = batch.findIndex((x) => /^\s*INSERT\b/i.test(x));
  return Math.max(0, subs[i]?.resultRows ?? 0);
}

export function settingsOf(deps: D): RunbookSettings & { marginSeconds: number } {
  return { ...DEFAULT_RUNBOOK_SETTINGS, marginSeconds: DEFAULT_MARGIN_SECONDS, ...(deps.settings ?? {}) } as RunbookSettings & { marginSeconds: number };
}

/**
 * The plan of a modify job: what `modify … --dry-run` prints and — the same call with the same settings — what the job
 * runs (its steps execute the plan's statements, filling only the run-time placeholders of run-values.ts).
 */
export function planModifyJob(
  params: ModifyParams,
  deps: D,
  check: Pick<PlanInput, 'drift' | 'forceDrift' | 'grants' | 'owner' | 'skipGrantees' | 'tableSize' | 'tableSizeUnknown'> = {},
): ModifyPlan | PlanError {
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
export function buildPlan(params: ModifyParams, deps: D): ModifyPlan {
  const plan = planModifyJob(params, deps);
  if (!plan.ok) throw new Error(plan.error);
  return plan;
}

/** A table's grants, owner, and the bot's own user (ACL_QUERY), parsed in the dialect the warehouse speaks. */
export async function readTableGrants(wh: Warehouse, schema: string, table: string, opts: SubmitOptions = {}): Promise<{ grants: AclGrant[]; owner: string; botUser: string }> {
  const v = await wh.query(SESSION_QUERY, undefined, opts);
  const dialect = /redshift/i.test(String(v.rows[0]?.v ?? '')) ? 'redshift' : 'postgres';
  const r = await wh.query(ACL_QUERY, { schema, table }, opts);
  const parsed = parseAcl(r.rows[0]?.acl === null || r.rows[0]?.acl === undefined ? null : String(r.rows[0].acl), dialect);
  if (!parsed.ok) throw new Error(parsed.error);
  return { grants: parsed.grants, owner: String(r.rows[0]?.owner ?? ''), botUser: String(v.rows[0]?.u ?? '') };
}

/** The statements of a plan step's `n`-th action of the given kind (the plan is the one source of the SQL). */
function planned(step: PlanStep, kind: 'sql' | 'batch' | 'query', n = 0): PlanAction {
  const a = step.actions.filter((x) => x.kind === kind)[n];
  if (!a) throw new Error(`plan step ${step.name} has no ${kind} action #${n + 1}`);
  return a;
}
const sqlOf = (step: PlanStep, n = 0): string => {
  const a = planned(step, 'sql', n);
  return a.kind === 'sql' ? a.sql : '';
};
const batchOf = (step: PlanStep, n = 0): string[] => {
  const a = planned(step, 'batch', n);
  return a.kind === 'batch' ? a.sql : [];
};
const queryOf = (step: PlanStep, n = 0): string => {
  const a = planned(step, 'query', n);
  return a.kind === 'query' ? a.sql : '';
};

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

function actionsOf(step: PlanStep): PlannedAction[] {
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

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

export const modifyRunbook = defineRunbook<D, ModifyParams>({
  kind: 'modify',
  paramsSchema: modifyParams,
  build(params, deps) {
    const plan = buildPlan(params, deps);
    const { current, next, mapping } = plan;
    const schema = current.schema;
    const { table: name, newTable, oldTable } = plan.names;
    const settings = settingsOf(deps);
    const rep = current.replication;
    const live = plan.strategy === 'live-copy';
    const renameFirst = plan.strategy === 'rename-first';

    const exists = (ctx: Ctx, n: string) => tableExists(ctx, schema, n);
    /** the names as they stand: which of t, new_t, old_t exist */
    const names = async (ctx: Ctx) => {
      const [t, nt, ot] = await Promise.all([exists(ctx, name), exists(ctx, newTable), exists(ctx, oldTable)]);
      return { t, nt, ot };
    };
    /** the swap has happened (and old_<t> not dropped yet) */
    const swapped = async (ctx: Ctx) => {
      const n = await names(ctx);
      return n.t && n.ot && !n.nt;
    };
    const dropped = (ctx: Ctx) => ctx.handles['dropped'] === '1';

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
    /** everything the plan's placeholders stand for, from the job's handles */
    const values = (ctx: Ctx): RunValues => {
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
    };
    const stmtName = (ctx: Ctx, step: string) => `job ${ctx.job.id} ${step} ${schema}.${name}`;
    const dms = (ctx: Ctx) => {
      if (!ctx.deps.dms) throw new Error('this worker has no DMS client configured (AWS region/credentials); it cannot run a DMS runbook');
      return ctx.deps.dms;
    };
    const taskArn = async (ctx: Ctx): Promise<string> => {
      if (rep.provider !== 'dms') throw new Error(`${name} is not replicated by DMS`);
      const known = ctx.handles['taskArn'];
      if (known) return known;
      const task = await dms(ctx).findTask(rep.taskId);
      await ctx.setHandle('taskArn', task.arn);
      await ctx.audit({ kind: 'aws-call', ref: task.arn, outcome: task.status, text: `DescribeReplicationTasks ${rep.taskId}` });
      return task.arn;
    };
    const stopTask = async (ctx: Ctx): Promise<string> => {
      const arn = await taskArn(ctx);
      const t0 = await dms(ctx).stopTask(arn);
      await ctx.audit({ kind: 'aws-call', ref: arn, outcome: t0.status, text: 'StopReplicationTask' });
      const t = await dms(ctx).waitForStatus(arn, 'stopped', { signal: ctx.signal });
      return `task ${rep.provider === 'dms' ? rep.taskId : ''} is ${t.status}`;
    };
    const resumeTask = async (ctx: Ctx): Promise<string> => {
      const arn = await taskArn(ctx);
      const t0 = await dms(ctx).resumeTask(arn);
      await ctx.audit({ kind: 'aws-call', ref: arn, outcome: t0.status, text: 'StartReplicationTask resume-processing' });
      const t = await dms(ctx).waitForStatus(arn, 'running', { signal: ctx.signal });
      return `task is ${t.status}`;
    };

    /**
     * old_<t> against <t> after the swap, with the plan's own queries: on the rows not changed since the swap (by the
     * change column, :swap_mark bound), or — no change column, or a swap the task/rename kept writes away from — every
     * row of old_<t> against the new table's checksum recorded when it took the name. Says exactly what it compared;
     * 0 rows compared is a warning; a difference fails the step, so the drop is never asked for.
     */
    const postSwapVerification = async (ctx: Ctx, s: PlanStep): Promise<{ detail: string; status: 'ok' | 'warn' }> => {
      const wh = ctx.deps.warehouse;
      const q = s.actions[0];
      if (!q || q.kind !== 'query') throw new Error('the post-verify step has no query');
      const spec = verifyQueries(current, next, mapping, { oldTable, newTable: name });
      const cols = `${spec.columns.length} column${spec.columns.length === 1 ? '' : 's'}`;
      const d = plan.delta;
      if (live && d && d.kind !== 'full') {
        const swapMark = ctx.handles['swapMark'];
        if (swapMark === undefined) throw new Error('the swap mark was not recorded; retry the swap step');
        const sums = await wh.query(q.sql, { swap_mark: swapMark });
        const counted = s.actions[1];
        const total = counted?.kind === 'query' ? num((await wh.query(counted.sql)).rows[0]?.old_rows) : -1;
        const problems = compareChecksums(spec, sums.rows);
        const n = num(sums.rows.find((r) => r.side === 'old')?.row_count);
        const range = d.kind === 'updated_at' ? `${d.column} < swap mark ${swapMark} − ${d.marginSeconds} s, same key in both` : `${d.column} ≤ swap mark ${swapMark}`;
        if (problems.length)
          throw new Error(`${oldTable} and ${name} differ on the rows not changed since the swap (${range}): ${problems.join('; ')} — do not drop ${oldTable}: roll back, or find the rows first`);
        const of = n === total ? `all ${n.toLocaleString('en-US')}` : `${n.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`;
        const left =
          n === total ? '' : d.kind === 'updated_at' ? `; ${(total - n).toLocaleString('en-US')} left out (changed or deleted since, or within the margin)` : `; ${(total - n).toLocaleString('en-US')} written to ${oldTable} after the swap mark (moved over by late-writes)`;
        if (n === 0) return { status: 'warn', detail: `compared ${of} rows of ${oldTable} with ${name} (${range}): nothing was verified${left}` };
        return { status: 'ok', detail: `compared ${of} rows of ${oldTable} with ${name} (${range}), ${cols}: row counts and per-column checksums equal${left}` };
      }
      const key = live ? 'swapChecksum' : 'verifyNew';
      const recorded = ctx.handles[key];
      if (recorded === undefined) throw new Error(`the checksum of the new ${name} at the swap was not recorded (handle ${key}); this check cannot be made — compare ${oldTable} and ${name} by hand before approving`);
      const at = live ? 'checksum taken under the swap lock' : rep.provider === 'dms' ? 'checksum taken by the verify step while the DMS task was stopped' : `checksum taken by the verify step while ${name} was missing`;
      const sums = await wh.query(q.sql);
      const newRow = { ...(JSON.parse(recorded) as Record<string, unknown>), side: 'new' };
      const problems = compareChecksums(spec, [...sums.rows, newRow]);
      if (problems.length)
        throw new Error(`${oldTable} differs from ${name} as it was at the swap: ${problems.join('; ')} — a write reached ${oldTable} after the swap, or the swap lost rows; do not drop ${oldTable}: roll back, or find the rows first`);
      const n = num(sums.rows.find((r) => r.side === 'old')?.row_count);
      if (n === 0) return { status: 'warn', detail: `compared 0 rows: ${oldTable} is empty (${at})` };
      return { status: 'ok', detail: `compared all ${n.toLocaleString('en-US')} rows of ${oldTable} with ${name} as it was at the swap (${at}), ${cols}: row counts and per-column checksums equal` };
    };

    const rollbackOf = (n: string): PlanStep => {
      const s = plan.rollback.find((r) => r.name === n);
      if (!s) throw new Error(`plan has no rollback step ${n}`);
      return s;
    };
    const base = (s: PlanStep): Pick<Step<D>, 'name' | 'title' | 'plan'> => ({ name: s.name, title: s.title, plan: () => actionsOf(s) });

    const impl: Record<string, (s: PlanStep) => Step<D>> = {
      preflight: (s) => ({
        ...base(s),
        isDone: async () => false,
        run: async (ctx) => {
          const r = await preflightChecks(ctx.deps.warehouse, plan, settings);
          if (r.problems.length) throw new Error(r.problems.join('\n'));
          for (const w of r.warnings) await ctx.note(`warning: ${w}`);
          if (r.sizeMb !== undefined) await ctx.setHandle('sizeMb', String(r.sizeMb));
          return r.detail;
        },
      }),
      'check-types': (s) => ({
        ...base(s),
        isDone: async () => false,
        run: async (ctx) => {
          const r = await narrowingProblems(ctx.deps.warehouse, plan);
          for (const w of r.warnings) await ctx.note(`warning: ${w}`);
          if (r.problems.length) throw new Error(`the data does not fit the new types; nothing was changed:\n${r.problems.join('\n')}`);
          return `${plan.narrowingChecks.length} check${plan.narrowingChecks.length === 1 ? '' : 's'}: the data fits`;
        },
      }),
      'read-grants': (s) => ({
        ...base(s),
        isDone: async (ctx) => ctx.handles['grants'] !== undefined,
        run: async (ctx) => {
          // the plan's two queries (SESSION_QUERY, ACL_QUERY), under the job's statement name
          const g = await readTableGrants(ctx.deps.warehouse, schema, name, { name: stmtName(ctx, 'read-grants') });
          // the swap must fit ONE batch with these grants (checked before queueing too; grants may have changed since)
          const withGrants = planModifyJob(params, deps, { grants: g.grants, owner: g.owner, skipGrantees: [g.botUser] });
          if (!withGrants.ok) throw new Error(`${withGrants.error}\nNothing was changed.`);
          await ctx.setHandle('botUser', g.botUser);
          await ctx.setHandle('owner', g.owner);
          await ctx.setHandle('grants', JSON.stringify(g.grants));
          return g.grants.length ? `${g.grants.length} grantee(s) will be re-granted: ${g.grants.map((x) => x.grantee || 'PUBLIC').join(', ')}` : 'no grants beyond the owner';
        },
      }),
      'stop-task': (s) => ({
        ...base(s),
        isDone: async (ctx) => {
          if (await swapped(ctx)) return true;
          const t = await dms(ctx).describeTask(await taskArn(ctx));
          return t.status === 'stopped';
        },
        run: stopTask,
        undo: async (ctx) => {
          if (rep.provider !== 'dms' || !ctx.handles['taskArn']) return;
          await resumeTask(ctx);
          await ctx.note(`DMS task ${rep.taskId} resumed`);
        },
      }),
      'rename-away': (s) => ({
        ...base(s),
        isDone: async (ctx) => (await exists(ctx, oldTable)) || dropped(ctx),
        run: async (ctx) => {
          const n = await names(ctx);
          if (!n.t) throw new Error(`${name} is missing and ${oldTable} does not exist: look at the table by hand (recover) before retrying`);
          const info = await runOnce(ctx, 'stmt:rename-away', { batch: batchOf(s) }, stmtName(ctx, 'rename-away'));
          await ctx.setHandle('renamedAwayAt', String(Date.now()));
          return `statement ${info.id}: ${name} is now ${oldTable}; the CDC service buffers its changes`;
        },
        undo: async (ctx) => {
          const n = await names(ctx);
          if (n.ot && !n.t) {
            await runOnce(ctx, 'stmt:undo-rename-away', { sql: sqlOf(rollbackOf('rename-back')) }, stmtName(ctx, 'undo rename-away'));
            await ctx.note(`${oldTable} renamed back to ${name}`);
          }
        },
      }),
      create: (s) => ({
        ...base(s),
        isDone: async (ctx) => {
          const n = await names(ctx);
          if (n.nt) {
            const liveNew = await readTable(ctx.deps.warehouse, schema, newTable);
            if (liveNew && liveNew.columns.map((c) => `${c.name} ${c.type}`).join(',') !== next.columns.map((c) => `${c.name} ${c.type}`).join(','))
              throw new Error(`${newTable} exists with other columns than this job would create (left over from another job?); drop it or use recover, then retry`);
            return true;
          }
          return (n.t && n.ot) || dropped(ctx);
        },
        run: async (ctx) => {
          const info = await runOnce(ctx, 'stmt:create', { sql: sqlOf(s) }, stmtName(ctx, 'create'));
          return `statement ${info.id}`;
        },
        undo: async (ctx) => {
          const n = await names(ctx);
          // new_<t> is never the only copy of the data: drop it only while <t> or old_<t> exists
          if (n.nt && (n.t || n.ot)) {
            await runOnce(ctx, 'stmt:drop-new', { sql: sqlOf(rollbackOf('drop-new')) }, stmtName(ctx, 'drop new'));
            await ctx.note(`dropped ${newTable}`);
          }
        },
      }),
      mark: (s) => ({
        ...base(s),
        isDone: async (ctx) => ctx.handles['copyMark'] !== undefined,
        run: async (ctx) => {
          const d = plan.delta;
          if (!d || d.kind === 'full') return 'no mark needed';
          const r = await ctx.deps.warehouse.query(queryOf(s), undefined, { name: stmtName(ctx, 'mark') });
          const v = r.rows[0]?.mark;
          const markValue = v === null || v === undefined ? (d.kind === 'append-id' ? '0' : '1900-01-01 00:00:00') : String(v);
          await ctx.setHandle('copyMark', markValue);
          return `copy mark ${markValue}`;
        },
      }),
      copy: (s) => ({
        ...base(s),
        isDone: async (ctx) => (await finishedBefore(ctx, 'stmt:copy')) || (await swapped(ctx)) || dropped(ctx),
        run: async (ctx) => {
          const t0 = Date.now();
          const info = await runOnce(ctx, 'stmt:copy', { batch: batchOf(s) }, stmtName(ctx, 'copy'));
          const rows = info.subStatements?.[1]?.resultRows ?? -1;
          // the rate this copy reached: what COPY_MB_PER_SECOND (the plan's lock estimate) should be set from
          const sizeMb = Number(ctx.handles['sizeMb'] ?? 'NaN');
          const secs = (Date.now() - t0) / 1000;
          const rate = Number.isFinite(sizeMb) && sizeMb > 0 && secs > 0 ? `; ${sizeMb.toLocaleString('en-US')} MB in ${secs < 1 ? secs.toFixed(2) : secs.toFixed(1)} s ≈ ${(sizeMb / secs).toFixed(1)} MB/s` : '';
          return `${rows >= 0 ? `${rows.toLocaleString('en-US')} rows` : 'rows'} copied (statement ${info.id}${rate})`;
        },
      }),
      'pre-sync': (s) => ({
        ...base(s),
        isDone: async (ctx) => (await finishedBefore(ctx, 'stmt:pre-sync')) || (await swapped(ctx)),
        run: async (ctx) => {
          const info = await runOnce(ctx, 'stmt:pre-sync', { sql: sqlOf(s) }, stmtName(ctx, 'pre-sync'));
          return `${Math.max(0, info.resultRows)} row(s) deleted at the source during the copy removed`;
        },
      }),
      'catch-up': (s) => ({
        ...base(s),
        // a finished catch-up is recorded; after the swap there is nothing left to catch up
        isDone: async (ctx) => ctx.handles['catchupDone'] === '1' || (await swapped(ctx)) || dropped(ctx),
        run: async (ctx) => {
          const wh = ctx.deps.warehouse;
          const { rows: enough, rounds: most } = catchUpOf(settings);
          await runOnce(ctx, 'stmt:catch-up-analyze', { sql: sqlOf(s) }, stmtName(ctx, 'catch-up'));
          const done: string[] = [];
          let round = Number(ctx.handles['catchupRound'] ?? '0');
          for (;;) {
            round++;
            // the mark first, recorded before the delta is applied: a retried round applies the same delta again
            // (deleting and re-inserting the same rows: idempotent) and ends at the same mark
            if (!ctx.handles['catchupNext']) {
              const r = await wh.query(queryOf(s), undefined, { name: stmtName(ctx, `catch-up ${round}`) });
              const v = r.rows[0]?.mark;
              await ctx.setHandle('catchupNext', v === null || v === undefined ? (plan.delta?.kind === 'append-id' ? '0' : '1900-01-01 00:00:00') : String(v));
            }
            // each round's marks stay on record: what the round sent can be read back against the plan
            await ctx.setHandle(`catchupFrom:${round}`, ctx.handles['catchupMark'] ?? ctx.handles['copyMark'] ?? '');
            await ctx.setHandle(`catchupTo:${round}`, ctx.handles['catchupNext']!);
            const info = await runOnce(ctx, `stmt:catch-up-${round}`, { batch: fillBatch(batchOf(s), values(ctx)) }, stmtName(ctx, `catch-up ${round}`));
            const applied = appliedRows(batchOf(s), info.subStatements ?? []);
            await ctx.setHandle('catchupMark', ctx.handles['catchupNext']!);
            await ctx.setHandle('catchupNext', '');
            await ctx.setHandle('catchupRound', String(round));
            done.push(`round ${round}: ${applied.toLocaleString('en-US')} row(s)`);
            if (applied < enough || round >= most) break;
          }
          await ctx.setHandle('catchupDone', '1');
          return `${done.join('; ')}; the locked swap applies the changes since ${ctx.handles['catchupMark']}`;
        },
      }),
      verify: (s) => ({
        ...base(s),
        isDone: async (ctx) => (await swapped(ctx)) || dropped(ctx),
        run: async (ctx) => {
          const d = plan.delta;
          const from = renameFirst ? oldTable : name;
          const spec = plan.verify;
          if (!spec) throw new Error('the plan has no verify queries');
          const wh = ctx.deps.warehouse;
          const v = values(ctx);
          const opts = { name: stmtName(ctx, 'verify') };
          const sums = await wh.query(fillStatement(spec.checksums, v), undefined, opts);
          const problems = compareChecksums(spec, sums.rows);
          const whileWriting = live && d?.kind === 'full';
          // rows changing during a full-delta live copy are reconciled under the lock: a difference here is reported, not fatal
          if (!whileWriting && problems.length) throw new Error(`the copy does not match ${name}; nothing was swapped:\n${problems.join('\n')}`);
          // the new table's checksum: nothing writes new_<t> between here and the swap when the task is stopped (dms) or
          // the name is missing (rename-first), so the post-swap verification compares old_<t> with it
          const newRow = sums.rows.find((r) => r.side === 'new');
          if (!live && newRow) await ctx.setHandle('verifyNew', JSON.stringify(newRow));
          if (spec.duplicatesNew) {
            const dupNew = await wh.query(fillStatement(spec.duplicatesNew, v), undefined, opts);
            const dupOld = spec.duplicatesOld ? await wh.query(fillStatement(spec.duplicatesOld, v), undefined, opts) : { rows: [] };
            const oldKeys = new Set(dupOld.rows.map((r) => JSON.stringify(Object.values(r).slice(0, -1))));
            const fresh = dupNew.rows.filter((r) => !oldKeys.has(JSON.stringify(Object.values(r).slice(0, -1))));
            if (fresh.length) throw new Error(`the copy has duplicate primary keys the old table does not have: ${fresh.map((r) => JSON.stringify(r)).join(', ')}`);
            if (dupOld.rows.length) await ctx.note(`warning: ${name} itself has duplicate primary keys (${dupOld.rows.length}+ keys); the copy keeps them`);
          }
          const n = num(sums.rows.find((r) => r.side === 'old')?.row_count);
          const rows = n.toLocaleString('en-US');
          const cols = `${spec.columns.length} column${spec.columns.length === 1 ? '' : 's'}`;
          const notes = spec.notes.length ? ` (${spec.notes.join('; ')})` : '';
          const range =
            live && d?.kind === 'updated_at'
              ? ` (${d.column} < copy mark ${ctx.handles['copyMark'] ?? '?'})`
              : live && d?.kind === 'append-id'
                ? ` (${d.column} ≤ copy mark ${ctx.handles['copyMark'] ?? '?'})`
                : '';
          if (n === 0) {
            const why = range ? `every row of ${from} changed after the copy mark` : `${from} is empty`;
            return { status: 'warn', detail: `compared 0 rows of ${from} with ${newTable}${range}: nothing was verified before the swap — ${why}; the post-swap verification compares the rows` };
          }
          if (whileWriting && problems.length)
            return {
              status: 'warn',
              detail: `compared all ${rows} rows of ${from} with ${newTable} while replication kept writing, ${cols}: they differ (${problems.join('; ')}) — expected for rows changed during the copy: the locked swap reconciles them and the post-swap verification compares every row`,
            };
          const all = range ? '' : 'all ';
          return `compared ${all}${rows} rows of ${from} with ${newTable}${range}${whileWriting ? ' while replication kept writing' : ''}, ${cols}: row counts and per-column checksums match${notes}`;
        },
      }),
      swap: (s) => ({
        ...base(s),
        isDone: async (ctx) => {
          if (dropped(ctx)) return true;
          if (!(await swapped(ctx))) return false;
          // swapped, but a worker died before reading its swap mark (even before recording the statement id): run again —
          // runOnce finds the finished statement by its recorded id, or resubmits with the same ClientToken and gets the
          // same statement back (nothing runs twice), and the mark is read from it
          const needsMark = live && plan.delta !== undefined && plan.delta.kind !== 'full' && ctx.handles['swapMark'] === undefined;
          const needsChecksum = live && plan.delta?.kind === 'full' && ctx.handles['swapChecksum'] === undefined;
          return !(needsMark || needsChecksum);
        },
        run: async (ctx) => {
          const wh = ctx.deps.warehouse;
          const batch = fillBatch(batchOf(s), values(ctx));
          if (!live) {
            const info = await runOnce(ctx, 'stmt:swap', { batch }, stmtName(ctx, 'swap'));
            await ctx.setHandle('swappedAt', String(Date.now()));
            return `swapped in one transaction (statement ${info.id})`;
          }
          const markIndex = plan.swapMarkIndex;
          const checksumIndex = plan.checksumIndex;
          let info;
          for (let attempt = 1; ; attempt++) {
            try {
              info = await runOnce(ctx, 'stmt:swap', { batch }, stmtName(ctx, 'swap'));
              break;
            } catch (e) {
              if (ctx.signal.aborted || attempt >= 10) throw e;
              // only the LOCK TABLE (the batch's 2nd statement, under the statement_timeout) timing out is retried
              const failedId = ctx.handles['stmt:swap'];
              const failed = failedId === undefined ? undefined : await wh.describe(failedId).catch(() => undefined);
              if (!lockWaitTimedOut(failed, 1)) throw e;
              await ctx.note(`the lock on ${name} waited more than ${settings.swapLockTimeoutMs} ms behind other sessions; retrying (${attempt}/10)`);
              await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * 2 ** attempt)));
            }
          }
          await ctx.setHandle('swappedAt', String(Date.now()));
          if (markIndex !== undefined) {
            const res = await wh.fetch(`${info.id}:${markIndex + 1}`);
            const v = res.rows[0]?.swap_mark;
            await ctx.setHandle('swapMark', v === null || v === undefined ? (ctx.handles['copyMark'] ?? '1900-01-01 00:00:00') : String(v));
          }
          if (checksumIndex !== undefined) {
            const res = await wh.fetch(`${info.id}:${checksumIndex + 1}`);
            if (!res.rows[0]) throw new Error(`the swap batch's checksum of ${newTable} (sub-statement ${checksumIndex + 1}) returned no row`);
            await ctx.setHandle('swapChecksum', JSON.stringify(res.rows[0]));
          }
          const sub = info.subStatements ?? [];
          const lockMs = sub.slice(1, -2).reduce((a, x) => a + (x.durationMs ?? 0), 0);
          return `locked, applied the delta and swapped in one transaction (statement ${info.id}; ≈${Math.round(lockMs)} ms under the lock)`;
        },
        undo: async (ctx) => {
          const n = await names(ctx);
          if (dropped(ctx) || (!n.ot && n.t && !n.nt && ctx.handles['swappedAt'])) throw new Error(`${oldTable} was dropped: the old data is gone and there is nothing to swap back to`);
          if (!(n.t && n.ot && !n.nt)) return; // not swapped (or already swapped back)
          // the plan's swap-back: the changes replication applied to the new table since the swap go back into old_<t>
          // first, in the same transaction — by updated_at since the swap mark when the live copy has it, else by
          // comparing the tables on the primary key (a DMS task is stopped by now — resume-task was undone — and a live
          // cdc table is locked by the batch)
          const back = rollbackOf('swap-back');
          let batch: string[];
          if (live && plan.delta?.kind === 'updated_at' && ctx.handles['swapMark'] === undefined) {
            // swapped, but the worker died before recording the swap mark: not the printed statements — compare instead
            const rev = reverseFull(current, next, mapping);
            if (!rev.ok) await ctx.note(`warning: changes made to the new ${name} since the swap are not carried back: ${rev.reason}`);
            else await ctx.note(`the swap mark was not recorded: changes made since the swap are found by comparing the tables`);
            batch = [`LOCK TABLE ${qualified(schema, name)}`, ...swapBackBatch(schema, name, rev.ok ? rev.sql : [])];
          } else {
            for (const w of back.warnings ?? []) await ctx.note(`warning: ${w}`);
            batch = fillBatch(batchOf(back), values(ctx));
          }
          const info = await runOnce(ctx, 'stmt:swap-back', { batch }, stmtName(ctx, 'swap back'));
          await ctx.note(`swapped back: ${name} is the old table again (statement ${info.id})`);
        },
      }),
      'rename-in': (s) => ({
        ...base(s),
        isDone: async (ctx) => (await swapped(ctx)) || dropped(ctx),
        run: async (ctx) => {
          const info = await runOnce(ctx, 'stmt:rename-in', { batch: fillBatch(batchOf(s), values(ctx)) }, stmtName(ctx, 'rename-in'));
          await ctx.setHandle('swappedAt', String(Date.now()));
          const away = Number(ctx.handles['renamedAwayAt'] ?? Date.now());
          return `${name} is back (statement ${info.id}); it was missing for ${((Date.now() - away) / 1000).toFixed(1)} s`;
        },
        undo: async (ctx) => {
          const n = await names(ctx);
          if (dropped(ctx)) throw new Error(`${oldTable} was dropped: the old data is gone and there is nothing to swap back to`);
          if (!(n.t && n.ot && !n.nt)) return;
          // the CDC service keeps writing the new table: lock it, carry its changes since rename-in back, swap back
          const back = rollbackOf('swap-back');
          for (const w of back.warnings ?? []) await ctx.note(`warning: ${w}`);
          const info = await runOnce(ctx, 'stmt:swap-back', { batch: fillBatch(batchOf(back), values(ctx)) }, stmtName(ctx, 'swap back'));
          await ctx.note(`swapped back: ${name} is the old table again (statement ${info.id})`);
        },
      }),
      'resume-task': (s) => ({
        ...base(s),
        isDone: async (ctx) => {
          if (ctx.handles['resumedAt'] === undefined) return false;
          const t = await dms(ctx).describeTask(await taskArn(ctx));
          return t.status === 'running';
        },
        run: async (ctx) => {
          const startedAt = Date.now();
          const detail = await resumeTask(ctx);
          await ctx.setHandle('resumedAt', String(startedAt));
          return detail;
        },
        undo: async (ctx) => {
          if (!ctx.handles['taskArn']) return;
          // after the drop there is nothing to swap back to: say so before stopping the task for nothing
          if (dropped(ctx)) throw new Error(`${oldTable} was dropped: the old data is gone and there is nothing to swap back to; the DMS task keeps running`);
          await stopTask(ctx);
          await ctx.note(`DMS task stopped for the swap back`);
        },
      }),
      'log-check': (s) => ({
        ...base(s),
        isDone: async () => false,
        run: async (ctx) => {
          if (rep.provider !== 'dms') return 'not a DMS table';
          if (!ctx.deps.logs) throw new Error('this worker has no CloudWatch Logs client configured');
          const from = Number(ctx.handles['resumedAt'] ?? Date.now());
          // CloudWatch stores events late: every search re-reads the last logLagMs, and the check keeps searching
          // logLagMs after its window; lines are deduplicated by CloudWatch event id. Ends by from + logCheckMs + logLagMs.
          const lag = logLagMsOf(settings);
          // One scan per look; between looks the job is parked (no worker held) with the scanned range and the seen
          // event ids in handles, so the lag re-reads and the de-duplication span the whole watch.
          const scanOpts = { group: rep.logGroup, ...(rep.logStream ? { streams: [rep.logStream] } : {}), startMs: from, pattern: '?"]E:" ?"]W:"' };
          const state = readWatchState(ctx.handles['logcheck.state'], from);
          const step = await scanLogsOnce(ctx.deps.logs, scanOpts, state, {
            untilMs: from + settings.logCheckMs,
            lagMs: lag,
            settleMs: lag,
            pollMs: Math.min(10_000, Math.max(100, Math.round(lag / 4))),
            signal: ctx.signal,
          });
          await ctx.setHandle('logcheck.state', JSON.stringify(state));
          if (!step.done) waitUntil(step.nextAtMs, logCheckNote(rep.logGroup, from + settings.logCheckMs + lag));
          const watched = { lines: state.lines, scans: state.scans };
          const searched = `searched ${watched.scans} time${watched.scans === 1 ? '' : 's'}, each re-reading the last ${Math.round(lag / 1000)} s for events CloudWatch stored late`;
          const groups = groupLogLines(watched.lines);
          const errors = groups.reduce((a, g) => a + g.errors.length, 0);
          const warnings = groups.reduce((a, g) => a + g.warnings.length, 0);
          await ctx.setHandle('logErrors', String(errors));
          for (const g of groups) {
            const sample = [...g.errors, ...g.warnings].slice(0, 3).map((l) => `    ${l.raw.trim()}`).join('\n');
            await ctx.note(`${g.component}: ${g.errors.length} error(s), ${g.warnings.length} warning(s)\n${sample}`);
          }
          return errors
            ? `${errors} ]E: line(s) and ${warnings} ]W: line(s) in ${Math.round(settings.logCheckMs / 1000)} s after the resume (${searched}) — consider Rollback at the approval`
            : `no ]E: lines (${warnings} ]W:) in ${Math.round(settings.logCheckMs / 1000)} s after the resume (${searched})`;
        },
      }),
      'post-sync': (s) => ({
        ...base(s),
        isDone: async (ctx) => (await finishedBefore(ctx, 'stmt:post-sync')) || dropped(ctx),
        run: async (ctx) => {
          const info = await runOnce(ctx, 'stmt:post-sync', { sql: fillStatement(sqlOf(s), values(ctx)) }, stmtName(ctx, 'post-sync'));
          return `${Math.max(0, info.resultRows)} row(s) deleted at the source just before the lock removed`;
        },
      }),
      'late-writes': (s) => ({
        ...base(s),
        isDone: async (ctx) => dropped(ctx),
        run: async (ctx) => {
          const v = values(ctx);
          const r = await ctx.deps.warehouse.query(fillStatement(queryOf(s), v), undefined, { name: stmtName(ctx, 'late-writes') });
          const n = num(r.rows[0]?.late_rows);
          const d = plan.delta;
          const col = d && d.kind !== 'full' ? d.column : 'the change column';
          if (n === 0) return `${oldTable} got no write after the swap (0 rows with ${col} > swap mark ${ctx.handles['swapMark'] ?? '?'})`;
          const info = await ctx.deps.warehouse.executeBatch(fillBatch(batchOf(s), v), { name: stmtName(ctx, 'late-writes') });
          await ctx.audit({ kind: 'statement', ref: info.id, outcome: info.status, text: 'move late writes' });
          return `${n} row(s) written to ${oldTable} after the swap moved into ${name}`;
        },
      }),
      freshness: (s) => ({
        ...base(s),
        isDone: async (ctx) => dropped(ctx),
        // Waits without holding a worker: the first values and the deadline live in handles, and each look either
        // decides or parks the job until the next look (WaitSignal), so cancel and SIGTERM never wait the window out.
        run: async (ctx) => {
          const a = s.actions[0];
          if (!a || a.kind !== 'query') return 'no updated_at/id to watch';
          const now = (await ctx.deps.warehouse.query(a.sql)).rows[0] ?? {};
          const firstJson = ctx.handles['freshness.first'];
          if (firstJson === undefined) {
            const startAt = Date.now();
            await ctx.setHandle('freshness.startAt', String(startAt));
            await ctx.setHandle('freshness.first', JSON.stringify(now));
            waitUntil(startAt + freshnessPollMs(settings.freshnessMs), freshnessNote(name, startAt + settings.freshnessMs));
          }
          const first = z.record(z.string(), z.unknown()).parse(JSON.parse(firstJson));
          const startAt = Number(ctx.handles['freshness.startAt'] ?? Date.now());
          const deadline = startAt + settings.freshnessMs;
          const advanced = (['max_updated_at', 'max_id'] as const).filter((k) => now[k] !== undefined && now[k] !== null && String(now[k]) !== String(first[k]));
          if (advanced.length) {
            const lag = now.max_updated_at ? ` (newest change ${String(now.max_updated_at)})` : '';
            return `replication writes ${name} again: ${advanced.join(', ')} advanced within ${((Date.now() - startAt) / 1000).toFixed(1)} s${lag}`;
          }
          if (Date.now() >= deadline) {
            await ctx.note(`warning: ${name} got no new change in ${Math.round(settings.freshnessMs / 1000)} s after the swap (max ${JSON.stringify(now)}); check the CDC service before approving the drop`);
            return { status: 'warn', detail: `no new change seen in ${Math.round(settings.freshnessMs / 1000)} s (see the warning)` };
          }
          waitUntil(Math.min(deadline, Date.now() + freshnessPollMs(settings.freshnessMs)), freshnessNote(name, deadline));
        },
      }),
      'post-verify': (s) => ({
        ...base(s),
        isDone: async (ctx) => dropped(ctx),
        run: async (ctx) => {
          const r = await postSwapVerification(ctx, s);
          await ctx.setHandle('postVerify', r.detail);
          await ctx.setHandle('postVerifyStatus', r.status);
          return r;
        },
      }),
      'approve-drop': (s) => ({
        ...base(s),
        approval: {
          prompt: (ctx: PlanContext<D>) => {
            const errs = Number(ctx.handles['logErrors'] ?? '0');
            const warn = errs ? `⚠️ ${errs} ]E: line(s) in the DMS log after the resume — Reject rolls the change back (swap back). ` : '';
            const pv = ctx.handles['postVerify'];
            const verified = pv ? ` ${ctx.handles['postVerifyStatus'] === 'warn' ? '⚠️ ' : ''}Post-swap verification: ${pv}.` : '';
            return `${warn}Drop ${schema}.${oldTable}? ${name} now has the new shape (${params.command.ops.length} change(s), asked by <@${ctx.job.requester}>).${verified} Approve drops the old table for good; Reject rolls back (swap back).`;
          },
        },
        isDone: async (ctx) => dropped(ctx) || !(await exists(ctx, oldTable)),
        run: async () => 'approved',
      }),
      drop: (s) => ({
        ...base(s),
        isDone: async (ctx) => dropped(ctx) || (!(await exists(ctx, oldTable)) && (await exists(ctx, name))),
        run: async (ctx) => {
          if (!(await exists(ctx, name))) throw new Error(`${name} is missing; refusing to drop ${oldTable}, the only copy of the data`);
          const info = await runOnce(ctx, 'stmt:drop', { batch: batchOf(s) }, stmtName(ctx, 'drop'));
          await ctx.setHandle('dropped', '1');
          return `dropped ${oldTable}${plan.foreignKeys.length ? ` and re-created ${plan.foreignKeys.length} foreign key(s) on ${name}` : ''} (statement ${info.id})`;
        },
      }),
      'schema-file': (s) => ({
        ...base(s),
        isDone: async (ctx) => ctx.handles['schemaFile'] === 'written',
        run: async (ctx) => {
          const dir = ctx.deps.registry.dir;
          const files: string[] = [];
          files.push(await writeTableFile(dir, next));
          for (const t of plan.referencingUpdates) files.push(await writeTableFile(dir, t));
          await ctx.setHandle('schemaFile', 'written');
          const git = settings.schemaGitDir;
          if (git) {
            const approver = ctx.job.approvals.find((a) => a.decision === 'approved')?.by ?? 'none';
            const message = `${params.command.ops.length} change(s) to ${schema}.${name} (redshift-ops job ${ctx.job.id})\n\nRequested by ${ctx.job.requester}, approved by ${approver}.\n${ctx.job.summary}`;
            const run = promisify(execFile);
            const rel = files.map((f) => path.relative(git, f));
            await run('git', ['-C', git, 'add', '--', ...rel]);
            const staged = await run('git', ['-C', git, 'diff', '--cached', '--quiet']).then(
              () => false,
              () => true,
            );
            if (staged) await run('git', ['-C', git, '-c', 'user.name=redshift-ops', '-c', 'user.email=redshift-ops@localhost', 'commit', '-m', message, '--', ...rel]);
            return `rewrote ${rel.join(', ')} and committed it in ${git}`;
          }
          return `rewrote ${files.map((f) => path.relative(process.cwd(), f)).join(', ')}`;
        },
      }),
    };

    const steps: Step<D>[] = [];
    for (const ps of plan.steps) {
      const make = impl[ps.name];
      if (make) {
        steps.push(make(ps));
        continue;
      }
      if (ps.name.startsWith('alter-') && ps.done) {
        const done = ps.done;
        const a = ps.actions[0];
        if (!a || a.kind !== 'sql') throw new Error(`step ${ps.name} has no statement`);
        steps.push({
          ...base(ps),
          isDone: async (ctx) => {
            const liveT = await readTable(ctx.deps.warehouse, schema, name);
            if (!liveT) throw new Error(`${schema}.${name} is missing`);
            return isStepDone(done, liveT);
          },
          run: async (ctx) => {
            const info = await runOnce(ctx, `stmt:${ps.name}`, { sql: a.sql }, stmtName(ctx, ps.name));
            // a FINISHED ALTER is not proof: read the table back and hold it to what the plan said
            const after = await readTable(ctx.deps.warehouse, schema, name);
            const unmet = after ? unmetExpectations(done, after) : [`${schema}.${name} is missing from the catalog`];
            if (unmet.length) {
              // forget the statement: a retry looks again (isDone) and, if the change is still missing, submits it anew
              await forgetStatement(ctx, `stmt:${ps.name}`);
              throw new Error(
                `statement ${info.id} finished, but ${schema}.${name} is not what the plan said (${done.description}):\n${unmet.map((u) => `• ${u}`).join('\n')}\n` +
                  'Nothing further was changed. Look at the table (`/redshift schema diff ' + name + '`), then retry the step (it checks the table first and runs the ALTER again only if it is still missing) or roll the job back.',
              );
            }
            return `statement ${info.id}; the catalog shows ${done.description}`;
          },
        });
        continue;
      }
      throw new Error(`no runbook step for plan step "${ps.name}"`);
    }
    // an in-place DROP COLUMN destroys data: it waits for an approval first
    if (plan.mode === 'in-place' && params.command.ops.some((o) => o.op === 'drop_column')) {
      const cols = params.command.ops.flatMap((o) => (o.op === 'drop_column' ? [o.column] : []));
      steps.unshift({
        name: 'approve-drop-column',
        title: `Approval: drop column ${cols.join(', ')}?`,
        plan: () => [{ kind: 'approval', text: `an allowed approver confirms dropping ${cols.join(', ')} from ${name} (the data in it is gone for good)` }],
        approval: { prompt: (ctx) => `Drop column ${cols.join(', ')} of ${schema}.${name} in place? The data in it is gone for good. Asked by <@${ctx.job.requester}>.` },
        isDone: async (ctx) => {
          const liveT = await readTable(ctx.deps.warehouse, schema, name);
          return liveT !== undefined && cols.every((c) => !liveT.columns.some((x) => x.name === c));
        },
        run: async () => 'approved',
      });
    }
    // with a source configured, the swapped table is compared with it (a report line; a difference does not fail the job:
    // replication may still be catching up, and the lag window only covers rows with updated_at/created_at)
    if (deps.source && plan.mode !== 'in-place') {
      const at = steps.findIndex((s) => s.name === 'approve-drop');
      steps.splice(at < 0 ? steps.length : at, 0, compareStep(next));
    }
    return { kind: 'modify', steps };
  },
});

/**
 * Free disk ≥ factor × table size, and no view bound to the table (it would follow old_<t> and be dropped with it).
 * Read-only: the bot runs it before queueing (a clear refusal, nothing queued) and the preflight step again.
 * Free space and size come from views the bot's database user may not see (stv_partitions and svv_table_info are
 * superuser-only; Serverless has no STV tables): then the disk check is "unknown (why)" — a warning, not a refusal.
 */
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
