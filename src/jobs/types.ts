/**
 * Shared shapes of the runbook world: a job's record (what it is, where it is, who asked/approved) and the Reporter port
 * through which a running job shows its life (Slack thread, terminal console, tests).
 */

export type JobState =
  | 'queued'
  | 'running'
  | 'awaiting-approval'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'rejected'
  | 'rolled-back';

/** Where a job's progress is shown; Slack channel + thread ts, or the console. */
export interface JobOrigin {
  kind: 'slack' | 'console';
  channel?: string;
  /** ts of the live progress message (thread parent) once posted */
  threadTs?: string;
  /** ts of the live progress message that chat.update edits */
  progressTs?: string;
}

export interface StepRecord {
  name: string;
  title: string;
  state: 'pending' | 'running' | 'done' | 'skipped' | 'failed' | 'undone';
  startedAt?: number;
  finishedAt?: number;
  /** one-line detail: rows copied, statement id… */
  detail?: string;
  /** 'warn': the step finished but its check did not pass (compared nothing, saw nothing): shown as ⚠, never ✓ */
  status?: 'warn';
  error?: string;
  /** the step's phase (Step.phase): finished steps of one phase in a row share a thread message */
  phase?: string;
}

export interface ApprovalRecord {
  step: string;
  decision: 'approved' | 'rejected';
  by: string;
  at: number;
}

export interface JobRecord {
  id: string;
  /** runbook kind, e.g. "schema-apply", "modify" */
  kind: string;
  /** schema.table the job changes (the lock key), if any */
  table?: string;
  requester: string;
  /** the command as typed, and its canonical summary */
  commandText: string;
  summary: string;
  /** runbook-specific, zod-validated by the runbook (the command, the plan snapshot) */
  params: unknown;
  state: JobState;
  /** index of the step being run / next to run */
  cursor: number;
  steps: StepRecord[];
  /** external handles a step recorded before waiting: statement ids, task ARNs, times… */
  handles: Record<string, string>;
  approvals: ApprovalRecord[];
  /** pending approval: the step and a one-time nonce carried by the buttons */
  pendingApproval?: {
    step: string;
    nonce: string;
    askedAt: number;
    /** the gate's prompt, kept so the question can be asked again (`reask`) without the runbook */
    prompt?: string;
    /** set once the Reporter showed the buttons */
    notifiedAt?: number;
  };
  origin: JobOrigin;
  fence?: number;
  createdAt: number;
  updatedAt: number;
  finishedAt?: number;
  error?: string;
  cancelRequested?: boolean;
  /** set by `rollback` (and kept until the rollback finished): the worker undoes completed steps in reverse */
  rollbackRequested?: boolean;
  /** who asked for cancel / rollback / retry last (Slack user id) */
  controlledBy?: string;
  /** run attempt, 1 + number of retries/rollback requests; the BullMQ job id is `<id>-<attempt>` */
  attempt?: number;
  /** the trigger (Slack trigger_id / client message id) that created the job; the same trigger maps to the same job */
  triggerId?: string;
  /** set while a step waits for the world (WaitSignal): the job is parked until `untilMs`, no worker held */
  waiting?: { step: string; untilMs: number; note: string; since: number; progress?: string };
  /** first time a worker started the job */
  startedAt?: number;
}

/** How a job shows its life. Implementations must not throw into the engine (log instead). */
export interface Reporter {
  jobStarted(job: JobRecord): Promise<void>;
  stepStarted(job: JobRecord, step: StepRecord): Promise<void>;
  stepFinished(job: JobRecord, step: StepRecord): Promise<void>;
  stepFailed(job: JobRecord, step: StepRecord, error: string): Promise<void>;
  /** the job parked on an approval gate; the UI offers Approve/Reject carrying `nonce` */
  approvalRequested(job: JobRecord, step: StepRecord, prompt: string, nonce: string): Promise<void>;
  approvalResolved(job: JobRecord, approval: ApprovalRecord): Promise<void>;
  /** a line worth showing that is not a step boundary (log lines, warnings) */
  note(job: JobRecord, text: string): Promise<void>;
  /**
   * a waiting step's live figure changed (`job.waiting.progress`, e.g. FullLoadRows): show it where it replaces the
   * previous one (Slack: the progress message, edited), never as another line. Optional: a reporter without it shows
   * the figure nowhere but the job record.
   */
  waitProgress?(job: JobRecord): Promise<void>;
  jobFinished(job: JobRecord): Promise<void>;
}
