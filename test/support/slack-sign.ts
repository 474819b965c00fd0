/**
 * Build and sign requests exactly as Slack sends them:
 *  - signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` keyed with the signing secret, in the headers
 *    `x-slack-signature` and `x-slack-request-timestamp` (seconds);
 *  - slash commands: application/x-www-form-urlencoded fields;
 *  - interactivity (block_actions): application/x-www-form-urlencoded with one field `payload=<json>`.
 */
import { createHmac } from 'node:crypto';

export interface SlackSignatureHeaders {
  'x-slack-signature': string;
  'x-slack-request-timestamp': string;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function slackSignature(signingSecret: string, timestampSec: number, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${rawBody}`).digest('hex')}`;
}

export function signRequest(signingSecret: string, rawBody: string, timestampSec: number = nowSeconds()): SlackSignatureHeaders {
  return {
    'x-slack-signature': slackSignature(signingSecret, timestampSec, rawBody),
    'x-slack-request-timestamp': String(timestampSec),
  };
}

export interface SlashCommandFields {
  text: string;
  responseUrl: string;
  command?: string;
  userId?: string;
  userName?: string;
  channelId?: string;
  channelName?: string;
  teamId?: string;
  teamDomain?: string;
  triggerId?: string;
  apiAppId?: string;
  /** the deprecated verification token Slack still includes */
  token?: string;
}

/** The form body of a slash command, fields in the order Slack sends them. */
export function slashCommandBody(f: SlashCommandFields): string {
  const p = new URLSearchParams();
  p.set('token', f.token ?? 'verification-token-unused');
  p.set('team_id', f.teamId ?? 'T0000001');
  p.set('team_domain', f.teamDomain ?? 'fake');
  p.set('channel_id', f.channelId ?? 'C0000001');
  p.set('channel_name', f.channelName ?? 'data-ops');
  p.set('user_id', f.userId ?? 'U0000001');
  p.set('user_name', f.userName ?? 'alice');
  p.set('command', f.command ?? '/redshift');
  p.set('text', f.text);
  p.set('api_app_id', f.apiAppId ?? 'A0000001');
  p.set('is_enterprise_install', 'false');
  p.set('response_url', f.responseUrl);
  p.set('trigger_id', f.triggerId ?? '1234567890.1234567890.abcdef');
  return p.toString();
}

export interface BlockActionFields {
  actionId: string;
  /** the button's value as sent (a string; pass raw text to test malformed values) */
  value?: string;
  userId?: string;
  userName?: string;
  channelId?: string;
  teamId?: string;
  messageTs?: string;
  threadTs?: string;
  responseUrl: string;
  blockId?: string;
  triggerId?: string;
}

/** A block_actions payload object as Slack builds it for a button in a bot message. */
export function blockActionsPayload(f: BlockActionFields): Record<string, unknown> {
  const teamId = f.teamId ?? 'T0000001';
  const channelId = f.channelId ?? 'C0000001';
  const messageTs = f.messageTs ?? '1700000000.000100';
  const action: Record<string, unknown> = {
    type: 'button',
    action_id: f.actionId,
    block_id: f.blockId ?? 'rso_approval',
    text: { type: 'plain_text', text: 'Button', emoji: true },
    action_ts: `${nowSeconds()}.000001`,
  };
  if (f.value !== undefined) action.value = f.value;
  const message: Record<string, unknown> = {
    type: 'message',
    subtype: 'bot_message',
    text: 'approval',
    ts: messageTs,
    bot_id: 'BBOT0001',
    user: 'UBOT0001',
    blocks: [],
  };
  if (f.threadTs) message.thread_ts = f.threadTs;
  const container: Record<string, unknown> = { type: 'message', message_ts: messageTs, channel_id: channelId, is_ephemeral: false };
  if (f.threadTs) container.thread_ts = f.threadTs;
  return {
    type: 'block_actions',
    user: { id: f.userId ?? 'U0000002', username: f.userName ?? 'bob', name: f.userName ?? 'bob', team_id: teamId },
    api_app_id: 'A0000001',
    token: 'verification-token-unused',
    container,
    trigger_id: f.triggerId ?? '1234567890.1234567890.fedcba',
    team: { id: teamId, domain: 'fake' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channelId, name: 'data-ops' },
    message,
    state: { values: {} },
    response_url: f.responseUrl,
    actions: [action],
  };
}

/** The form body Slack POSTs for interactivity: `payload=<url-encoded json>`. */
export function interactivityBody(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export function blockActionsBody(f: BlockActionFields): string {
  return interactivityBody(blockActionsPayload(f));
}

export interface PostOptions {
  signingSecret: string;
  /** seconds; default now */
  timestamp?: number;
  /** replace/remove headers (e.g. a forged signature, or undefined to drop one) */
  headers?: Record<string, string | undefined>;
  contentType?: string;
}

export interface PostResult {
  status: number;
  body: string;
  headers: Headers;
}

/** POST a body to the bot, signed as Slack would (unless headers override it). */
export async function postSigned(url: string, rawBody: string, o: PostOptions): Promise<PostResult> {
  const signed = signRequest(o.signingSecret, rawBody, o.timestamp ?? nowSeconds());
  const headers: Record<string, string> = {
    'content-type': o.contentType ?? 'application/x-www-form-urlencoded',
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    ...signed,
  };
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  const res = await fetch(url, { method: 'POST', headers, body: rawBody });
  return { status: res.status, body: await res.text(), headers: res.headers };
}
