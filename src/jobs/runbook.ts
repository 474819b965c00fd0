/**
 * The runbook model: a job is a list of steps, and each step — like a pgroll operation — knows how to look at the world
 * (`isDone`), act (`run`) and take its change back (`undo`). The engine (engine.ts) walks the steps from the job's cursor,
 * persisting after every step, so a job resumed on another worker never runs a step twice (DESIGN.md §4 invariant 4).
 *
 * Contract for step authors:
 * - `plan` is pure: it lists the exact SQL / AWS calls the step would make (dry-run, the approval message). No I/O.
 * - `isDone` looks at the world (does `new_<t>` exist? is the task stopped? did statement `handles.copy` finish?) and
 *   answers true when the step's effect is already there; the engine then skips the step ("already done"). A step with
 *   nothing to do (no duplicate key to remove) answers `{ nothingToDo: why }`: skipped, and the thread says why.
 * - `run` records any external handle with `ctx.setHandle` BEFORE waiting on it (statement id, task ARN), so a resumed
 *   run can look the handle up instead of submitting again. It returns an optional one-line detail ("copied 1,204 rows").
 * - `undo` must be idempotent too (look before acting): it is called on rollback, reject and cancel for every step that
 *   ran or was found done, in reverse order, and again if a rollback is resumed. A step without `undo` changes nothing
 *   that needs taking back (checks, reads, notifications).
 * - A step that waits for the world (a freshness window, a log watch, another VACUUM to finish) must not hold a worker:
 *   `run` records what it has seen so far in handles and throws `waitUntil(untilMs, note)`; the engine persists the
 *   wait in the job record and returns `{ kind: 'waiting' }`, the queue parks the BullMQ job until `untilMs`, and the
 *   next wake asks `isDone` and calls `run` again (which reads its handles and decides: done, or wait again). A cancel
 *   or a worker shutdown therefore never waits the wait out.
 * - An approval step is a step whose `approval` is set: the engine parks the job until an allowed approver decides;
 *   `run` then executes only when approved. `isDone` is still asked first (a resumed job does not ask twice).
 */
import type { ZodType } from 'zod';
import type { JobRecord } from './types.js';

/**
 * Thrown by a step's `run` to say "not yet, look again at `untilMs`": the job parks without holding a worker (see the
 * contract above). Whatever the step needs on the next call must already be in handles.
 */
export class WaitSignal extends Error {
  constructor(
    readonly untilMs: number,
    /** what the step waits for, shown once per wait: "waiting for a change to core_action (until 12:10:05)" */
    readonly note: string,
    /**
     * a live figure of the wait ("FullLoadRows 12,345 · Full load"): kept on the job record and shown in the job's
     * progress message, which is EDITED as it changes — a new figure never posts another thread line (the note does)
     */
    readonly progress?: string,
  ) {
    super(`waiting until ${new Date(untilMs).toISOString()}: ${note}`);
    this.name = 'WaitSignal';
  }
}

/** Park the job until `untilMs` (see WaitSignal); `progress` is the wait's live figure, shown by editing the progress message. */
export function waitUntil(untilMs: number, note: string, progress?: string): never {
  throw new WaitSignal(untilMs, note, progress);
}

export type PlannedActionKind = 'sql' | 'sql-batch' | 'aws' | 'approval' | 'file' | 'check';

/** One thing a step will do, exactly: the SQL text (or the batch, one statement per line), the AWS call, the file written. */
export interface PlannedAction {
  kind: PlannedActionKind;
  text: string;
}

/** What `plan` sees: the job and the step's dependencies, nothing that can write. */
export interface PlanContext<D> {
  job: JobRecord;
  deps: D;
  /** handles recorded so far (empty in a dry-run of a new job) */
  handles: Readonly<Record<string, string>>;
}

/** An external call worth an audit line: a statement id or an AWS request/ARN with its outcome. */
export interface CallAudit {
  kind: 'statement' | 'aws-call';
  /** statement id, request id, ARN… */
  ref: string;
  /** e.g. "FINISHED", "FAILED: …", "stopped" */
  outcome: string;
  /** short description: the SQL's first line, the AWS operation name */
  text?: string;
}

export interface StepContext<D> extends PlanContext<D> {
  /** the handles of the job; updated in place by `setHandle` */
  handles: Record<string, string>;
  /** Persist an external handle in the job record now (before waiting on it). */
  setHandle(key: string, value: string): Promise<void>;
  /** A line for the job's thread / console (not a step boundary). */
  note(text: string): Promise<void>;
  /** Append a statement / AWS call with its outcome to the audit log. */
  audit(call: CallAudit): Promise<void>;
  /** Aborted when the worker is shutting down or BullMQ cancels the job: stop waiting, the job will resume. */
  signal: AbortSignal;
  /** fencing token of the job's table lock (0 when the job changes no table) */
  fence: number;
}

/**
 * What `run` may return: a detail line, or a detail with a status. `warn` is for a check that finished without
 * passing — it compared 0 rows, or saw nothing to judge by — so no reporter shows it as passed (✓).
 */
export type StepResult = string | void | { detail: string; status: 'ok' | 'warn' };

/** What `isDone` may answer instead of `true`: the step needs doing not because it ran, but because there is nothing to do (why). */
export interface NothingToDo {
  nothingToDo: string;
}

export interface Step<D> {
  /** stable machine name, unique in the runbook (stored in the job record; approvals refer to it) */
  name: string;
  /** what a human reads: "Stop DMS task ak-core" */
  title: string;
  plan(ctx: PlanContext<D>): PlannedAction[];
  isDone(ctx: StepContext<D>): Promise<boolean | NothingToDo>;
  /** returns an optional one-line detail, or a detail with a status (StepResult) */
  run(ctx: StepContext<D>): Promise<StepResult>;
  undo?(ctx: StepContext<D>): Promise<void>;
  /** set on gated steps: the prompt shown with Approve / Reject */
  approval?: { prompt(ctx: PlanContext<D>): string };
  /**
   * steps of one phase (the same operation on each table: setup's 26 creates) that finish one after another share ONE
   * thread message, edited as each finishes; a warning, a failure, a note or an approval still gets its own message
   */
  phase?: string;
}

export interface Runbook<D> {
  kind: string;
  steps: Step<D>[];
}

export interface RunbookFactory<D, P = unknown> {
  /** the job kind this factory builds, e.g. "schema-apply" */
  kind: string;
  /** validates the job's params; a job whose params fail it fails with UnrecoverableError (no retry can fix it) */
  paramsSchema: ZodType<P>;
  build(params: P, deps: D): Runbook<D>;
}

/** Identity helper that keeps `P` inferred from the schema. */
export function defineRunbook<D, P>(factory: RunbookFactory<D, P>): RunbookFactory<D, P> {
  return factory;
}

/** The runbooks a worker can run, by kind. */
export class RunbookRegistry<D> {
  private readonly byKind = new Map<string, RunbookFactory<D>>();

  constructor(factories: readonly RunbookFactory<D>[] = []) {
    for (const f of factories) this.add(f);
  }

  add(factory: RunbookFactory<D>): this {
    if (this.byKind.has(factory.kind)) throw new Error(`runbook kind "${factory.kind}" is registered twice`);
    this.byKind.set(factory.kind, factory);
    return this;
  }

  get(kind: string): RunbookFactory<D> | undefined {
    return this.byKind.get(kind);
  }

  kinds(): string[] {
    return [...this.byKind.keys()].sort();
  }
}

/** Problems with a runbook's shape (duplicate or empty step names); empty when fine. */
export function runbookProblems<D>(runbook: Runbook<D>): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  if (runbook.steps.length === 0) problems.push(`runbook "${runbook.kind}" has no steps`);
  for (const s of runbook.steps) {
    if (!/^[a-z0-9][a-z0-9._-]*$/i.test(s.name)) problems.push(`step name "${s.name}" must be letters, digits, . _ -`);
    if (seen.has(s.name)) problems.push(`step name "${s.name}" appears twice in runbook "${runbook.kind}"`);
    seen.add(s.name);
  }
  return problems;
}
