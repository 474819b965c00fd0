/**
 * What the bot reads from Slack, validated with zod: the slash-command body, the block_actions payload, and the JSON
 * value our own buttons carry. Nothing past these parsers touches Slack's raw shapes.
 */
import { z } from 'zod';

/** action_id of every button the bot renders. */
export const ACTION_IDS = {
  approve: 'rso_approve',
  reject: 'rso_reject',
  rollback: 'rso_rollback',
  retry: 'rso_retry',
  cancel: 'rso_cancel',
  /** the hygiene listing's "Queue maintenance" button: carries { table } */
  maintain: 'rso_maintain',
  /** alerts: show the job an alert is about (`/redshift job <id>`) */
  showJob: 'rso_show_job',
  /** alerts: the recover runbook for the table an alert is about */
  recover: 'rso_recover',
} as const;

export type ActionId = (typeof ACTION_IDS)[keyof typeof ACTION_IDS];

export const ACTION_ID_LIST = Object.values(ACTION_IDS) as [ActionId, ...ActionId[]];

export const actionIdSchema = z.enum(ACTION_ID_LIST);

/** Slack limits a button value to 2000 characters; ids are ours and short. */
const token = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_.:\-]+$/, 'only letters, digits and _ . : - are allowed');

/** What a button carries (JSON in its `value`): a job's buttons its id (+ step and nonce), hygiene's and an alert's recover button a schema.table. */
export const actionValueSchema = z.strictObject({
  jobId: token(200).optional(),
  step: token(200).optional(),
  nonce: token(200).optional(),
  table: z.string().regex(/^[a-z_][a-z0-9_$]{0,126}\.[a-z_][a-z0-9_$]{0,126}$/, 'a table is schema.table in plain names').optional(),
});
export type ActionValue = z.infer<typeof actionValueSchema>;

export type ParsedActionValue = { ok: true; value: ActionValue } | { ok: false; error: string };

/**
 * Read a button's value for a given action. Approve/Reject must carry step + nonce (the one-time approval token);
 * the other job buttons need at least the job id; Queue maintenance needs the table (and the click is re-checked:
 * the table must be in schemas/, the user an operator, the numbers read again).
 */
export function parseActionValue(actionId: ActionId, raw: string | undefined): ParsedActionValue {
  if (raw === undefined || raw === '') return { ok: false, error: 'the button carries no value' };
  if (raw.length > 2000) return { ok: false, error: 'the button value is longer than Slack allows (2000 characters)' };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, error: 'the button value is not JSON' };
  }
  const parsed = actionValueSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, error: `the button value is not valid: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}` };
  }
  const value = parsed.data;
  if (actionId === ACTION_IDS.maintain || actionId === ACTION_IDS.recover) {
    if (!value.table || value.jobId !== undefined) return { ok: false, error: `${actionId} carries a "table" (schema.table) and no job id` };
    return { ok: true, value };
  }
  if (!value.jobId || value.table !== undefined) return { ok: false, error: `${actionId} needs the "jobId" of its job (and no table)` };
  if ((actionId === ACTION_IDS.approve || actionId === ACTION_IDS.reject) && (!value.step || !value.nonce)) {
    return { ok: false, error: `${actionId} needs both "step" and "nonce" in its value` };
  }
  return { ok: true, value };
}

export function encodeActionValue(value: ActionValue): string {
  return JSON.stringify(actionValueSchema.parse(value));
}

const slackId = z.string().min(1).max(64);

/** The slash command body as Slack POSTs it (application/x-www-form-urlencoded). */
export const slashCommandSchema = z.object({
  command: z.string().min(1),
  text: z.string().default(''),
  user_id: slackId,
  channel_id: slackId,
  team_id: slackId.optional(),
  trigger_id: z.string().optional(),
  response_url: z.url().optional(),
});

/** One element of block_actions.actions (we only render buttons). */
export const blockActionSchema = z.object({
  action_id: z.string().min(1),
  type: z.string(),
  value: z.string().optional(),
  block_id: z.string().optional(),
});

/** The block_actions payload (sent as `payload=<json>`; Bolt parses the JSON, we validate the parts we use). */
export const blockActionsSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: slackId }),
  team: z.object({ id: slackId }).nullish(),
  channel: z.object({ id: slackId }).nullish(),
  container: z
    .object({ channel_id: slackId.optional(), message_ts: z.string().optional(), thread_ts: z.string().optional() })
    .nullish(),
  message: z.object({ ts: z.string(), thread_ts: z.string().optional() }).nullish(),
  response_url: z.url().optional(),
  trigger_id: z.string().optional(),
  actions: z.array(blockActionSchema).min(1),
});

/** Short, single-line description of a zod error for logs and user replies. */
export function describeZodError(error: z.ZodError): string {
  return z.prettifyError(error).replace(/\n/g, '; ');
}
