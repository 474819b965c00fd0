/**
 * Block Kit builders for everything the bot posts: the live progress message of a job, step replies in its thread,
 * the approval prompt and its resolution, failure replies with the buttons that make sense, help and status tables.
 *
 * Every builder returns `{ text, blocks }`: `text` is the notification / screen-reader fallback and is always set.
 * Text that comes from users or the warehouse is escaped (& < >) so it can never turn into a mention or a link — in the
 * blocks and in `text` (Slack parses both) — and shown in code with its backticks neutralized (src/slack/mrkdwn.ts).
 * Slack's limits (section text 3000, button text 75, value 2000, header 150, 50 blocks) are enforced here.
 */
import type { types } from '@slack/bolt';
import type { ApprovalRecord, JobRecord, JobState, StepRecord } from '../jobs/types.js';
import { escapeMrkdwn, userMrkdwn } from './mrkdwn.js';
import { ACTION_IDS, encodeActionValue, type ActionId } from './payloads.js';

export { escapeMrkdwn } from './mrkdwn.js';

export type KnownBlock = types.KnownBlock;
type Button = types.Button;
type ConfirmationDialog = types.ConfirmationDialog;

export interface SlackMessage {
  /** fallback text (notifications, screen readers, clients without blocks) */
  text: string;
  blocks: KnownBlock[];
}

export const LIMITS = {
  sectionText: 3000,
  contextText: 3000,
  headerText: 150,
  buttonText: 75,
  buttonValue: 2000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  blocks: 50,
  fallbackText: 3000,
} as const;

export const STATE_EMOJI: Record<JobState, string> = {
  queued: ':hourglass_flowing_sand:',
  running: ':arrows_counterclockwise:',
  'awaiting-approval': ':raised_hand:',
  succeeded: ':white_check_mark:',
  failed: ':x:',
  cancelled: ':no_entry_sign:',
  rejected: ':no_entry:',
  'rolled-back': ':leftwards_arrow_with_hook:',
};

export const STATE_LABEL: Record<JobState, string> = {
  queued: 'queued',
  running: 'running',
  'awaiting-approval': 'waiting for approval',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  rejected: 'rejected',
  'rolled-back': 'rolled back',
};

export const STEP_EMOJI: Record<StepRecord['state'], string> = {
  pending: ':white_circle:',
  running: ':arrows_counterclockwise:',
  done: ':white_check_mark:',
  skipped: ':fast_forward:',
  failed: ':x:',
  undone: ':leftwards_arrow_with_hook:',
};

/** A step that finished but whose check did not pass (StepRecord.status 'warn'). */
export const STEP_WARN_EMOJI = ':warning:';

const FINAL_STATES: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'cancelled', 'rejected', 'rolled-back']);

export function isFinalState(state: JobState): boolean {
  return FINAL_STATES.has(state);
}

// ---------------------------------------------------------------------------------------------------------------------
// text helpers

/** Cut to `max` characters (counting the ellipsis). */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return text.slice(0, max);
  return `${text.slice(0, max - 1)}…`;
}

/** 0.4s · 12.3s · 3m 05s · 1h 02m */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const totalSec = Math.floor(ms / 1000);
  if (totalSec < 3600) {
    const m = Math.floor(totalSec / 60);
    const s = totalSec % 60;
    return `${m}m ${String(s).padStart(2, '0')}s`;
  }
  const h = Math.floor(totalSec / 3600);
  const m = Math.floor((totalSec % 3600) / 60);
  return `${h}h ${String(m).padStart(2, '0')}m`;
}

/** A Slack date token: each reader sees it in their own time zone; the fallback is UTC ISO. */
export function slackDate(epochMs: number): string {
  const sec = Math.floor(epochMs / 1000);
  const fallback = new Date(sec * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return `<!date^${sec}^{date_short_pretty} {time_secs}|${fallback}>`;
}

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

/** `<@U123>` for a Slack user id, otherwise the escaped name (console users). */
export function mention(user: string): string {
  return SLACK_USER_ID.test(user) ? `<@${user}>` : escapeMrkdwn(user);
}


function mrkdwnSection(text: string, blockId?: string): KnownBlock {
  const block: types.SectionBlock = { type: 'section', text: { type: 'mrkdwn', text: truncate(text, LIMITS.sectionText) } };
  if (blockId) block.block_id = blockId;
  return block;
}

function context(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(text, LIMITS.contextText) }] };
}

function confirm(title: string, text: string, ok: string, style?: 'primary' | 'danger'): ConfirmationDialog {
  const dialog: ConfirmationDialog = {
    title: { type: 'plain_text', text: truncate(title, LIMITS.confirmTitle) },
    text: { type: 'mrkdwn', text: truncate(text, LIMITS.confirmText) },
    confirm: { type: 'plain_text', text: truncate(ok, LIMITS.confirmButton) },
    deny: { type: 'plain_text', text: 'Cancel' },
  };
  if (style) dialog.style = style;
  return dialog;
}

function button(
  actionId: ActionId,
  label: string,
  value: { jobId: string; step?: string; nonce?: string },
  style?: 'primary' | 'danger',
  dialog?: ConfirmationDialog,
): Button {
  const b: Button = {
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text: truncate(label, LIMITS.buttonText), emoji: true },
    value: encodeActionValue(value),
  };
  if (style) b.style = style;
  if (dialog) b.confirm = dialog;
  return b;
}

/** The `text` of a message with blocks, from plain text: escaped (Slack parses it as mrkdwn too), cut to the limit. */
function fallback(text: string): string {
  return truncate(escapeMrkdwn(text), LIMITS.fallbackText);
}

/** Index (0-based) of the step a reader cares about now: the running / failed one, else the cursor. */
export function currentStepIndex(job: JobRecord): number {
  const n = job.steps.length;
  if (n === 0) return 0;
  const running = job.steps.findIndex((s) => s.state === 'running');
  if (running >= 0) return running;
  if (job.state === 'failed') {
    const failed = job.steps.findIndex((s) => s.state === 'failed');
    if (failed >= 0) return failed;
  }
  return Math.min(Math.max(job.cursor, 0), n - 1);
}

function stepPosition(job: JobRecord, step: StepRecord): string {
  const i = job.steps.findIndex((s) => s.name === step.name);
  return `${i >= 0 ? i + 1 : '?'}/${job.steps.length}`;
}

function stepDuration(step: StepRecord, now: number): string | undefined {
  if (step.startedAt === undefined) return undefined;
  return formatDuration((step.finishedAt ?? now) - step.startedAt);
}

function jobTitle(job: JobRecord): string {
  const table = job.table ? ` \`${escapeMrkdwn(job.table)}\`` : '';
  return `*${escapeMrkdwn(job.kind)}*${table}`;
}

function jobTitlePlain(job: JobRecord): string {
  return job.table ? `${job.kind} ${job.table}` : job.kind;
}

// ---------------------------------------------------------------------------------------------------------------------
// job messages

/** Steps shown as a checklist in the progress message up to this count; longer runbooks show only the current one. */
export const MAX_CHECKLIST_STEPS = 15;

/**
 * The live progress message (the thread parent that chat.update edits): state emoji, kind + table, summary,
 * step k/n with its title, a checklist of steps, job id, requester and elapsed time.
 */
export function progressMessage(job: JobRecord, now: number = Date.now()): SlackMessage {
  const emoji = STATE_EMOJI[job.state];
  const label = STATE_LABEL[job.state];
  const n = job.steps.length;
  const idx = currentStepIndex(job);
  const cur = job.steps[idx];
  const final = isFinalState(job.state);
  const end = final ? (job.finishedAt ?? job.updatedAt ?? now) : now;
  const elapsed = formatDuration(end - job.createdAt);

  let stepLine: string;
  if (n === 0) stepLine = 'No steps';
  else if (job.state === 'succeeded') stepLine = `All ${n} steps done`;
  else if (cur) stepLine = `Step ${idx + 1}/${n}: ${escapeMrkdwn(cur.title)}`;
  else stepLine = `Step ?/${n}`;

  const blocks: KnownBlock[] = [
    mrkdwnSection(`${emoji} ${jobTitle(job)} — ${label}\n${userMrkdwn(job.summary)}`, 'rso_progress'),
  ];

  if (n > 0 && n <= MAX_CHECKLIST_STEPS) {
    const lines = job.steps.map((s, i) => {
      const d = s.state === 'running' || s.finishedAt !== undefined ? stepDuration(s, now) : undefined;
      const live = s.state === 'running' && job.waiting?.step === s.name && job.waiting.progress !== undefined ? `⏳ ${job.waiting.progress}` : undefined;
      const shown = live ?? s.detail;
      const detail = shown ? ` · ${escapeMrkdwn(truncate(shown, 120))}` : '';
      return `${s.state === 'done' && s.status === 'warn' ? STEP_WARN_EMOJI : STEP_EMOJI[s.state]} ${i + 1}. ${escapeMrkdwn(s.title)}${d ? ` — ${d}` : ''}${detail}`;
    });
    blocks.push(mrkdwnSection(`*${stepLine}*\n${lines.join('\n')}`));
  } else {
    const live = cur && cur.state === 'running' && job.waiting?.step === cur.name ? job.waiting.progress : undefined;
    blocks.push(mrkdwnSection(`*${stepLine}*${live !== undefined ? `\n⏳ ${escapeMrkdwn(truncate(live, 200))}` : ''}`));
  }
  if (job.state === 'failed' && job.error) {
    blocks.push(mrkdwnSection(`*Error:* ${userMrkdwn(truncate(job.error, 2500))}`));
  }
  blocks.push(context(`Job \`${escapeMrkdwn(job.id)}\` · by ${mention(job.requester)} · ${final ? 'took' : 'elapsed'} ${elapsed}`));

  const text = `${jobTitlePlain(job)}: ${label} — ${n === 0 ? 'no steps' : job.state === 'succeeded' ? `${n}/${n} steps` : `step ${idx + 1}/${n}${cur ? ` ${cur.title}` : ''}`} (${elapsed})`;
  return { text: fallback(text), blocks };
}

/** Thread reply when a step finished: duration and its detail line (rows, statement id…). */
export function stepFinishedMessage(job: JobRecord, step: StepRecord, now: number = Date.now(), notes: readonly string[] = []): SlackMessage {
  const pos = stepPosition(job, step);
  const d = stepDuration(step, now);
  // a check that finished without passing (compared nothing) is a warning, never a check mark
  const warn = step.state === 'done' && step.status === 'warn';
  const verb = step.state === 'skipped' ? 'skipped' : warn ? 'finished with a warning' : 'done';
  const emoji = step.state === 'skipped' ? STEP_EMOJI.skipped : warn ? STEP_WARN_EMOJI : STEP_EMOJI.done;
  const timed = d && step.state !== 'skipped';
  const head = `${emoji} Step ${pos} *${escapeMrkdwn(step.title)}* ${verb}${timed ? ` in ${d}` : ''}`;
  const detail = step.detail ? `\n${escapeMrkdwn(truncate(step.detail, 2000))}` : '';
  // the step's notes, when they are shown with it (a phase message) rather than as replies of their own
  const noted = notes.map((n) => `\n:information_source: ${escapeMrkdwn(n)}`).join('');
  return {
    text: fallback(`Step ${pos} ${step.title} ${verb}${timed ? ` in ${d}` : ''}${step.detail ? ` — ${step.detail}` : ''}${notes.length ? ` (${notes.length} note${notes.length === 1 ? '' : 's'})` : ''}`),
    blocks: [mrkdwnSection(head + detail + noted)],
  };
}

/** How many finished steps one phase message holds (one section each; Slack allows 50 blocks a message). */
export const PHASE_MESSAGE_MAX_STEPS = 40;

/**
 * The finished steps of one phase that ran in a row (Step.phase: setup's creates, matches, compares), as ONE thread
 * message: a line per step, as stepFinishedMessage writes it, with the notes the step made while it ran. Only steps
 * that passed or were skipped are grouped — a warning or a failure has its own message.
 */
export function phaseMessage(job: JobRecord, entries: readonly { step: StepRecord; notes: readonly string[] }[], now: number = Date.now()): SlackMessage {
  const steps = entries.map((e) => e.step);
  const first = entries[0];
  const last = steps[steps.length - 1];
  if (!first || !last) throw new Error('phaseMessage needs at least one step');
  if (entries.length === 1) return stepFinishedMessage(job, first.step, now, first.notes);
  const parts = entries.slice(0, PHASE_MESSAGE_MAX_STEPS).map((e) => stepFinishedMessage(job, e.step, now, e.notes));
  const done = steps.filter((st) => st.state === 'done').length;
  const skipped = steps.length - done;
  const head = `Steps ${stepPosition(job, first.step)}–${stepPosition(job, last)}: ${done} done${skipped ? `, ${skipped} skipped` : ''}`;
  return { text: fallback(`${head} — ${parts.map((p) => p.text).join(' · ')}`), blocks: parts.flatMap((p) => p.blocks) };
}

export interface FailureOptions {
  /** offer "Retry step" (default true) */
  canRetry?: boolean;
  /** offer "Roll back" (default: when any step is done) */
  canRollback?: boolean;
  /** offer "Cancel" (default true) */
  canCancel?: boolean;
}

/** A failed job keeps its table's lock (its half-done change must not meet another job's): said wherever it failed. */
export function lockedUntilText(job: JobRecord): string | undefined {
  if (job.state !== 'failed' || !job.table) return undefined;
  return `${job.table} stays locked (no other job can change it) until this job is rolled back or retried.`;
}

/** Thread reply when a step failed: the error and the buttons that make sense (Retry step, Roll back, Cancel). */
export function stepFailedMessage(
  job: JobRecord,
  step: StepRecord,
  error: string,
  opts: FailureOptions = {},
  now: number = Date.now(),
): SlackMessage {
  const pos = stepPosition(job, step);
  const d = stepDuration(step, now);
  const canRetry = opts.canRetry ?? true;
  const canRollback = opts.canRollback ?? job.steps.some((s) => s.state === 'done');
  const canCancel = opts.canCancel ?? true;

  const errText = truncate(error.trim() || 'unknown error', 2500);
  const blocks: KnownBlock[] = [
    mrkdwnSection(`${STEP_EMOJI.failed} Step ${pos} *${escapeMrkdwn(step.title)}* failed${d ? ` after ${d}` : ''}`),
    mrkdwnSection(`\`\`\`${userMrkdwn(errText)}\`\`\``),
  ];
  const locked = lockedUntilText(job);
  if (locked) blocks.push(mrkdwnSection(`:lock: ${userMrkdwn(locked)}${canRollback ? ' *Roll back* undoes the finished steps in reverse; *Retry step* resumes here.' : ''}`));
  const buttons: Button[] = [];
  const value = { jobId: job.id, step: step.name };
  if (canRetry) buttons.push(button(ACTION_IDS.retry, 'Retry step', value, 'primary'));
  if (canRollback) {
    buttons.push(
      button(
        ACTION_IDS.rollback,
        'Roll back',
        value,
        'danger',
        confirm('Roll back this job?', `Undo the finished steps of job \`${escapeMrkdwn(job.id)}\` in reverse order.`, 'Roll back', 'danger'),
      ),
    );
  }
  if (canCancel) {
    buttons.push(
      button(
        ACTION_IDS.cancel,
        'Cancel job',
        { jobId: job.id },
        undefined,
        confirm('Cancel this job?', `Stop job \`${escapeMrkdwn(job.id)}\` where it is. Nothing more runs.`, 'Cancel job'),
      ),
    );
  }
  if (buttons.length > 0) blocks.push({ type: 'actions', block_id: 'rso_failure', elements: buttons });
  return { text: fallback(`Step ${pos} ${step.title} failed: ${truncate(error, 500)}${locked ? ` — ${locked}` : ''}`), blocks };
}

/** The approval message posted in the job thread: the prompt and Approve / Reject buttons, each behind a confirm dialog. */
export function approvalMessage(job: JobRecord, step: StepRecord, prompt: string, nonce: string): SlackMessage {
  const pos = stepPosition(job, step);
  const value = { jobId: job.id, step: step.name, nonce };
  const warned = Number(job.handles['logErrors'] ?? '0') > 0;
  return {
    text: fallback(`Approval needed for ${jobTitlePlain(job)}, step ${pos} ${step.title}: ${prompt}`),
    blocks: [
      mrkdwnSection(
        `${STATE_EMOJI['awaiting-approval']} *Approval needed* — step ${pos} *${escapeMrkdwn(step.title)}*\n${escapeMrkdwn(prompt)}`,
        'rso_approval_prompt',
      ),
      context(`Job \`${escapeMrkdwn(job.id)}\` · requested by ${mention(job.requester)}`),
      {
        type: 'actions',
        block_id: 'rso_approval',
        elements: warned
          ? [
              // the replication log showed errors after the change: rolling back is the highlighted choice
              button(
                ACTION_IDS.reject,
                'Roll back',
                value,
                'primary',
                confirm('Roll back?', `Reject this step: the job takes back what it changed (swap back, replication resumed).`, 'Roll back', 'primary'),
              ),
              button(
                ACTION_IDS.approve,
                'Approve anyway',
                value,
                'danger',
                confirm('Approve despite the errors?', `${escapeMrkdwn(truncate(step.title, 80))}: ${escapeMrkdwn(truncate(prompt, 200))}`, 'Approve', 'danger'),
              ),
            ]
          : [
              button(
                ACTION_IDS.approve,
                'Approve',
                value,
                'primary',
                confirm('Approve this step?', `${escapeMrkdwn(truncate(step.title, 80))}: ${escapeMrkdwn(truncate(prompt, 200))}`, 'Approve', 'primary'),
              ),
              button(
                ACTION_IDS.reject,
                'Reject',
                value,
                'danger',
                confirm('Reject this step?', `The job stops here and takes back what it changed.`, 'Reject', 'danger'),
              ),
            ],
      },
    ],
  };
}

/** Replaces the approval message once decided: same prompt, buttons gone, "approved by <@U> at <time>". */
export function approvalResolvedMessage(job: JobRecord, approval: ApprovalRecord, prompt?: string): SlackMessage {
  const step = job.steps.find((s) => s.name === approval.step);
  const title = step ? step.title : approval.step;
  const approved = approval.decision === 'approved';
  const emoji = approved ? ':white_check_mark:' : ':no_entry:';
  const verb = approved ? 'Approved' : 'Rejected';
  const body = prompt ? `\n${escapeMrkdwn(prompt)}` : '';
  return {
    text: truncate(`${verb} by ${mention(approval.by)}: ${escapeMrkdwn(`${jobTitlePlain(job)}, ${title}`)}`, LIMITS.fallbackText),
    blocks: [
      mrkdwnSection(`${emoji} *${verb}* — *${escapeMrkdwn(title)}*${body}`, 'rso_approval_prompt'),
      context(`${verb} by ${mention(approval.by)} at ${slackDate(approval.at)} · job \`${escapeMrkdwn(job.id)}\``),
    ],
  };
}

/** Thread reply when the job is over. */
export function jobFinishedMessage(job: JobRecord, now: number = Date.now()): SlackMessage {
  const took = formatDuration((job.finishedAt ?? now) - job.createdAt);
  const label = STATE_LABEL[job.state];
  const err = job.state !== 'succeeded' && job.error ? `\n${userMrkdwn(truncate(job.error, 2500))}` : '';
  const locked = lockedUntilText(job);
  return {
    text: fallback(`${jobTitlePlain(job)} ${label} after ${took}${job.error && job.state !== 'succeeded' ? `: ${job.error}` : ''}${locked ? ` — ${locked}` : ''}`),
    blocks: [mrkdwnSection(`${STATE_EMOJI[job.state]} Job ${label} after ${took}${err}${locked ? `\n:lock: ${userMrkdwn(locked)}` : ''}`)],
  };
}

/** A side note in the thread (warnings, log lines). */
export function noteMessage(text: string): SlackMessage {
  return {
    text: fallback(text),
    blocks: [mrkdwnSection(`:information_source: ${escapeMrkdwn(text)}`)],
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// replies to commands

/** An ephemeral error: what was wrong and, if known, what to do. */
export function errorMessage(what: string, hint?: string): SlackMessage {
  const blocks: KnownBlock[] = [mrkdwnSection(`:warning: ${escapeMrkdwn(what)}`)];
  if (hint) blocks.push(context(escapeMrkdwn(hint)));
  return { text: fallback(hint ? `${what} — ${hint}` : what), blocks };
}

/**
 * A fixed-width table as text (no fences): columns padded to the widest cell (cells cut at `maxCell`), header underlined.
 * Escape is left to the caller (tableMessage does it).
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], maxCell = 40): string {
  const cols = headers.length;
  const cell = (r: readonly string[], i: number) => truncate((r[i] ?? '').replace(/\s+/g, ' '), maxCell);
  const widths = headers.map((h, i) => Math.max(cell([h], 0).length, ...rows.map((r) => cell(r, i).length)));
  const line = (r: readonly string[]) =>
    Array.from({ length: cols }, (_, i) => cell(r, i).padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A titled table in code blocks, split over several sections when longer than Slack's 3000-character limit. */
export function tableMessage(
  title: string,
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  opts: { footer?: string; maxCell?: number } = {},
): SlackMessage {
  const table = userMrkdwn(formatTable(headers, rows, opts.maxCell));
  const lines = table.split('\n');
  const head = lines.slice(0, 2);
  const body = lines.slice(2);
  const blocks: KnownBlock[] = [mrkdwnSection(`*${escapeMrkdwn(title)}*`)];
  // each chunk repeats the header so every section reads on its own; 8 chars for the fences
  const budget = LIMITS.sectionText - 8 - head.join('\n').length - 1;
  const chunks = body.length === 0 ? [''] : chunkLines(body, budget);
  for (const chunk of chunks) {
    if (blocks.length >= LIMITS.blocks - 1) {
      blocks.push(context(`… ${rows.length} rows in all; the rest were cut to fit one message`));
      break;
    }
    blocks.push(mrkdwnSection(`\`\`\`${[...head, ...(chunk ? [chunk] : [])].join('\n')}\`\`\``));
  }
  if (opts.footer && blocks.length < LIMITS.blocks) blocks.push(context(escapeMrkdwn(opts.footer)));
  return { text: fallback(`${title} (${rows.length} rows)`), blocks };
}

/** Key/value status lines as a compact code block, e.g. for one table's status. */
export function keyValueMessage(title: string, pairs: readonly (readonly [string, string])[]): SlackMessage {
  const w = Math.max(0, ...pairs.map(([k]) => k.length));
  const body = pairs.length === 0 ? '(nothing to show)' : pairs.map(([k, v]) => `${k.padEnd(w)}  ${v.replace(/\s+/g, ' ')}`).join('\n');
  const chunks = chunkLines(userMrkdwn(body).split('\n'), LIMITS.sectionText - 8);
  return {
    text: fallback(title),
    blocks: [mrkdwnSection(`*${escapeMrkdwn(title)}*`), ...chunks.map((c) => mrkdwnSection(`\`\`\`${c}\`\`\``))].slice(0, LIMITS.blocks),
  };
}

/** One table of the hygiene listing: what it needs and why, with its "Queue maintenance" button. */
export interface HygieneItem {
  /** schema.table (the button's value) */
  key: string;
  /** the name shown */
  table: string;
  /** "VACUUM SORT ONLY — unsorted 42.00 % > 10 %" */
  line: string;
  /** what Redshift does about it by itself */
  notes: readonly string[];
}

/**
 * The hygiene listing: a title, one section per table with a "Queue maintenance" button (action `rso_maintain`, value
 * `{ table }`, with a confirmation naming the statements), then the footer lines (what was compared, what was not).
 * `plain` is the whole listing as text, the notification fallback.
 */
export function hygieneMessage(title: string, items: readonly HygieneItem[], footer: readonly string[], plain: string): SlackMessage {
  const blocks: KnownBlock[] = [mrkdwnSection(`*${escapeMrkdwn(title)}*`)];
  const room = LIMITS.blocks - 1 - Math.min(footer.length, 3);
  for (const [i, it] of items.entries()) {
    if (blocks.length >= room) {
      blocks.push(context(`… and ${items.length - i} more: \`/redshift hygiene run <table>\` queues any of them`));
      break;
    }
    const notes = it.notes.map((n) => `\n_${escapeMrkdwn(n)}_`).join('');
    const action = it.line.split(' — ')[0] ?? it.line;
    const accessory: Button = {
      type: 'button',
      action_id: ACTION_IDS.maintain,
      text: { type: 'plain_text', text: 'Queue maintenance', emoji: true },
      value: encodeActionValue({ table: it.key }),
      confirm: confirm('Queue maintenance?', `${escapeMrkdwn(action)} on ${escapeMrkdwn(it.key)}, as a job holding the table's lock.`, 'Queue it', 'primary'),
    };
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(`*${escapeMrkdwn(it.table)}*: ${escapeMrkdwn(it.line)}${notes}`, LIMITS.sectionText) }, accessory });
  }
  for (const f of footer) if (blocks.length < LIMITS.blocks) blocks.push(context(escapeMrkdwn(f)));
  return { text: fallback(plain), blocks };
}

/** Group lines into chunks of at most `max` characters (a single longer line is cut). */
function chunkLines(lines: readonly string[], max: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const raw of lines) {
    const line = truncate(raw, max);
    if (cur && cur.length + 1 + line.length > max) {
      out.push(cur);
      cur = line;
    } else {
      cur = cur ? `${cur}\n${line}` : line;
    }
  }
  if (cur || out.length === 0) out.push(cur);
  return out;
}
