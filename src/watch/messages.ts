/**
 * The alert and its resolution, as Block Kit. Every value from the warehouse, AWS or a log line is escaped; the button
 * opens the runbook that fits (`rso_recover` with the table, `rso_show_job` with the job).
 */
import type { Problem } from '../health/problems.js';
import { truncate, LIMITS, type KnownBlock, type SlackMessage } from '../slack/blocks.js';
import { codeBlock, escapeMrkdwn, userMrkdwn } from '../slack/mrkdwn.js';
import { ACTION_IDS, encodeActionValue } from '../slack/payloads.js';
import { threadMrkdwn } from '../bot/status-reply.js';

const iso = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

function runbookButton(p: Problem, schema: string): KnownBlock | undefined {
  if (!p.runbook) return undefined;
  const b =
    p.runbook.kind === 'recover'
      ? { action_id: ACTION_IDS.recover, label: `Open runbook: recover ${p.runbook.table}`, value: encodeActionValue({ table: `${schema}.${p.runbook.table}` }) }
      : { action_id: ACTION_IDS.showJob, label: `Open job ${p.runbook.jobId}`, value: encodeActionValue({ jobId: p.runbook.jobId }) };
  return {
    type: 'actions',
    block_id: 'rso_alert_actions',
    elements: [{ type: 'button', action_id: b.action_id, text: { type: 'plain_text', text: truncate(b.label, LIMITS.buttonText), emoji: true }, value: b.value }],
  };
}

export function alertMessage(p: Problem, schema: string, at: number): SlackMessage {
  const blocks: KnownBlock[] = [
    { type: 'section', block_id: 'rso_alert', text: { type: 'mrkdwn', text: truncate(`:rotating_light: *Alert* — ${userMrkdwn(p.title)}${p.thread ? ` ${threadMrkdwn(p.thread)}` : ''}`, LIMITS.sectionText) } },
  ];
  if (p.detail.length) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(codeBlock(p.detail.join('\n')), LIMITS.sectionText) } });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `incident \`${userMrkdwn(p.key)}\` · opened ${escapeMrkdwn(iso(at))} · a follow-up is posted when it is resolved` }] });
  const button = runbookButton(p, schema);
  if (button) blocks.push(button);
  return { text: truncate(escapeMrkdwn(`Alert: ${p.title}`), LIMITS.fallbackText), blocks };
}

/** The original alert, edited once resolved: no button left. */
export function resolvedAlertMessage(title: string, key: string, openedAt: number, at: number): SlackMessage {
  return {
    text: truncate(escapeMrkdwn(`Resolved: ${title}`), LIMITS.fallbackText),
    blocks: [
      { type: 'section', block_id: 'rso_alert', text: { type: 'mrkdwn', text: truncate(`:white_check_mark: *Resolved* — ~${userMrkdwn(title)}~`, LIMITS.sectionText) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `incident \`${userMrkdwn(key)}\` · opened ${escapeMrkdwn(iso(openedAt))} · resolved ${escapeMrkdwn(iso(at))}` }] },
    ],
  };
}

/** The thread reply that says it is over. */
export function resolvedReply(title: string, openedAt: number, at: number): SlackMessage {
  const text = `Resolved after ${Math.max(1, Math.round((at - openedAt) / 60_000))} min: ${title}`;
  return { text: truncate(escapeMrkdwn(text), LIMITS.fallbackText), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(`:white_check_mark: ${userMrkdwn(text)}`, LIMITS.sectionText) } }] };
}
