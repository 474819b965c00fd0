/**
 * A stand-in for the Slack Web API and for response_url endpoints, served by the sandbox under `/_sandbox/slack/`, so the
 * bot can be tried end to end (`npm start` with SLACK_API_URL pointing here) without a Slack workspace. It keeps every
 * message the bot sends, prints each one through `onMessage`, and lists them for `npm run cli -- slash`.
 *
 *   POST /_sandbox/slack/api/<method>      chat.postMessage, chat.update, chat.postEphemeral, chat.delete,
 *                                          usergroups.users.list (no members), auth.test; others: `unknown_method`
 *   POST /_sandbox/slack/response/<id>     a response_url (the reply to one slash command or click)
 *   GET  /_sandbox/slack/messages[?after=<seq>]   everything kept, oldest first
 *
 * It is not the test fake (test/support/fake-slack.ts, with knobs for rate limits and failures): it only records.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from './http-body.js';

export const SLACK_PATH_PREFIX = '/_sandbox/slack/';

export interface SlackRecord {
  /** 1, 2, 3… in arrival order */
  seq: number;
  /** chat.postMessage → message, chat.update → update, chat.postEphemeral → ephemeral, response_url → response */
  kind: 'message' | 'update' | 'ephemeral' | 'response' | 'delete';
  channel?: string;
  ts?: string;
  threadTs?: string;
  text: string;
  at: number;
}

/** one line per Slack message the bot sent */
export function formatSlackRecord(r: Pick<SlackRecord, 'kind' | 'channel' | 'threadTs' | 'text'>): string {
  const where = r.kind === 'response' ? 'reply' : `${r.kind}${r.channel ? ` #${r.channel}` : ''}${r.threadTs ? ` thread ${r.threadTs}` : ''}`;
  return `slack ${where}: ${r.text.replace(/\s*\n\s*/g, ' ⏎ ')}`;
}

const MAX_RECORDS = 5_000;
const MAX_BODY = 1024 * 1024;


/** form-encoded (how the WebClient sends) or JSON (how response_url is posted) → flat string fields */
function parseFields(text: string, contentType: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if ((contentType ?? '').includes('json') || text.trimStart().startsWith('{')) {
    let j: unknown;
    try {
      j = JSON.parse(text);
    } catch {
      return out;
    }
    if (j && typeof j === 'object') for (const [k, v] of Object.entries(j)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
    return out;
  }
  for (const [k, v] of new URLSearchParams(text)) out[k] = v;
  return out;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export class SlackSandbox {
  private readonly records: SlackRecord[] = [];
  private seq = 0;
  private tsCounter = 0;
  constructor(private readonly onMessage: (r: SlackRecord) => void = () => undefined) {}

  /** everything kept after `after` (a seq), oldest first */
  messages(after = 0): SlackRecord[] {
    return this.records.filter((r) => r.seq > after);
  }

  private keep(r: Omit<SlackRecord, 'seq' | 'at'>): SlackRecord {
    const rec: SlackRecord = { ...r, seq: ++this.seq, at: Date.now() };
    this.records.push(rec);
    if (this.records.length > MAX_RECORDS) this.records.splice(0, this.records.length - MAX_RECORDS);
    this.onMessage(rec);
    return rec;
  }

  private nextTs(): string {
    this.tsCounter++;
    return `${Math.floor(Date.now() / 1000)}.${String(this.tsCounter).padStart(6, '0')}`;
  }

  /** true when the request was under /_sandbox/slack/ (and has been answered) */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (!url.pathname.startsWith(SLACK_PATH_PREFIX)) return false;
    const rest = url.pathname.slice(SLACK_PATH_PREFIX.length);
    if (rest === 'messages' && req.method === 'GET') {
      const after = Number(url.searchParams.get('after') ?? '0');
      send(res, 200, { ok: true, messages: this.messages(Number.isFinite(after) ? after : 0) });
      return true;
    }
    if (req.method !== 'POST') {
      send(res, 405, { ok: false, error: 'method_not_allowed' });
      return true;
    }
    const fields = parseFields(await readBody(req, MAX_BODY), req.headers['content-type']);
    if (rest.startsWith('response/')) {
      this.keep({ kind: 'response', text: fields.text ?? '' });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return true;
    }
    if (!rest.startsWith('api/')) {
      send(res, 404, { ok: false, error: 'not_found' });
      return true;
    }
    const method = rest.slice('api/'.length);
    const channel = fields.channel;
    switch (method) {
      case 'chat.postMessage': {
        if (!channel) {
          send(res, 200, { ok: false, error: 'channel_not_found' });
          return true;
        }
        const ts = this.nextTs();
        this.keep({ kind: 'message', channel, ts, ...(fields.thread_ts ? { threadTs: fields.thread_ts } : {}), text: fields.text ?? '' });
        send(res, 200, { ok: true, channel, ts, message: { text: fields.text ?? '', ts } });
        return true;
      }
      case 'chat.update':
        this.keep({ kind: 'update', ...(channel ? { channel } : {}), ...(fields.ts ? { ts: fields.ts } : {}), text: fields.text ?? '' });
        send(res, 200, { ok: true, channel, ts: fields.ts, text: fields.text ?? '' });
        return true;
      case 'chat.postEphemeral':
        this.keep({ kind: 'ephemeral', ...(channel ? { channel } : {}), text: fields.text ?? '' });
        send(res, 200, { ok: true, message_ts: this.nextTs() });
        return true;
      case 'chat.delete':
        this.keep({ kind: 'delete', ...(channel ? { channel } : {}), ...(fields.ts ? { ts: fields.ts } : {}), text: '' });
        send(res, 200, { ok: true, channel, ts: fields.ts });
        return true;
      case 'usergroups.users.list':
        send(res, 200, { ok: true, users: [] });
        return true;
      case 'auth.test':
        send(res, 200, { ok: true, url: 'https://sandbox.slack.invalid/', team: 'sandbox', user: 'redshift-ops', team_id: 'T0SANDBOX', user_id: 'U0REDSHIFTOPS', bot_id: 'B0REDSHIFTOPS' });
        return true;
      default:
        send(res, 200, { ok: false, error: 'unknown_method' });
        return true;
    }
  }
}
