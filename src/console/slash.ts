/**
 * `npm run cli -- slash "/redshift <command>"`: send the bot one slash command exactly as Slack would — a form-encoded
 * POST to /slack/events, signed with SLACK_SIGNING_SECRET (HMAC-SHA256 of `v0:<timestamp>:<body>`) — and print what
 * comes back: the reply posted to the command's response_url (a local listener) and, when SLACK_API_URL is the
 * sandbox's Slack stand-in, every message the bot posts in the channel and the job's thread, until the job is over.
 * It is how the README's production path is tried without a Slack workspace.
 *
 * Exit code: 0 when the command was answered and its job (if any) succeeded; 1 otherwise; 2 for a usage mistake.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import type { Env } from '../config.js';
import { formatSlackRecord, type SlackRecord } from '../sandbox/slack.js';

export interface SlashIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Env;
}

export const SLASH_USAGE = `npm run cli -- slash "/redshift <command>" [--user U0TRIAL] [--channel C0TRIAL] [--url http://127.0.0.1:$PORT/slack/events] [--timeout 300]
  sends one signed slash command to the bot (SLACK_SIGNING_SECRET) and prints the replies; with the sandbox's Slack
  stand-in (SLACK_API_URL from \`npm run sandbox\`) it follows the job's thread until the job is over`;

const FINISHED = /\b(succeeded|failed|cancelled|rejected|rolled back) after\b/;

export function signSlackBody(secret: string, timestampSec: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestampSec}:${body}`).digest('hex')}`;
}

/** fetch's "fetch failed" hides the reason (ECONNREFUSED…) in `cause` */
function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.cause instanceof Error ? e.cause.message : e.message;
}

/** the sandbox's message log, when SLACK_API_URL is its Slack stand-in */
function sandboxMessagesUrl(apiUrl: string | undefined): string | undefined {
  if (apiUrl === undefined) return undefined;
  const i = apiUrl.indexOf('/_sandbox/slack/api');
  return i < 0 ? undefined : `${apiUrl.slice(0, i)}/_sandbox/slack/messages`;
}

async function fetchMessages(url: string, after: number): Promise<SlackRecord[]> {
  const r = await fetch(`${url}?after=${after}`, { signal: AbortSignal.timeout(5_000) });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  const body = (await r.json()) as { messages?: SlackRecord[] };
  return body.messages ?? [];
}

function listen(onText: (text: string) => void): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let text = raw;
      try {
        const j: unknown = JSON.parse(raw);
        if (j && typeof j === 'object' && 'text' in j && typeof j.text === 'string') text = j.text;
      } catch {
        /* not JSON: print as is */
      }
      onText(text);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

export async function runSlash(argv: readonly string[], io: SlashIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        user: { type: 'string', default: 'U0TRIAL' },
        channel: { type: 'string', default: 'C0TRIAL' },
        url: { type: 'string' },
        timeout: { type: 'string', default: '300' },
      },
    });
  } catch (e) {
    io.err(`error: ${e instanceof Error ? e.message : String(e)}\n${SLASH_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const full = positionals.join(' ').trim();
  const m = /^(\/[a-z0-9_-]+)\s*(.*)$/is.exec(full);
  const command = m ? m[1]! : '/redshift';
  const text = m ? m[2]!.trim() : full;
  const secret = io.env.SLACK_SIGNING_SECRET?.trim();
  const timeoutSec = Number(values.timeout);
  const problems: string[] = [];
  if (full === '') problems.push('give the command to send, e.g. "/redshift status"');
  if (!secret) problems.push('SLACK_SIGNING_SECRET is not set: use the same value the bot runs with (`npm run sandbox` prints it)');
  if (!Number.isFinite(timeoutSec) || timeoutSec <= 0) problems.push(`--timeout must be a number of seconds, got "${values.timeout}"`);
  if (problems.length > 0 || !secret) {
    io.err(`error: ${problems.join('; ')}\n${SLASH_USAGE}`);
    return 2;
  }
  const url = values.url ?? `http://127.0.0.1:${io.env.PORT?.trim() || '3000'}/slack/events`;
  const messagesUrl = sandboxMessagesUrl(io.env.SLACK_API_URL?.trim());

  const lines: string[] = [];
  let wake: (() => void) | undefined;
  const server = await listen((t) => {
    lines.push(formatSlackRecord({ kind: 'response', text: t }));
    wake?.();
  });
  try {
    let after = 0;
    if (messagesUrl) {
      try {
        after = (await fetchMessages(messagesUrl, 0)).reduce((n, r) => Math.max(n, r.seq), 0);
      } catch (e) {
        io.err(`error: cannot reach the sandbox's Slack stand-in at ${messagesUrl} (${errorText(e)}): is \`npm run sandbox\` running, and SLACK_API_URL its URL?`);
        return 1;
      }
    }
    const port = (server.address() as AddressInfo).port;
    const body = new URLSearchParams({
      token: 'unused-by-signed-requests',
      team_id: 'T0TRIAL',
      team_domain: 'trial',
      channel_id: values.channel,
      channel_name: 'trial',
      user_id: values.user,
      user_name: 'trial',
      command,
      text,
      response_url: `http://127.0.0.1:${port}/response/${randomBytes(6).toString('hex')}`,
      trigger_id: `${Date.now()}.trial`,
      api_app_id: 'A0TRIAL',
    }).toString();
    const ts = Math.floor(Date.now() / 1000);
    const started = Date.now();
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signSlackBody(secret, ts, body) },
        body,
        signal: AbortSignal.timeout(10_000),
      });
    } catch (e) {
      io.err(`error: could not reach the bot at ${url} (${errorText(e)}). Is \`npm start\` running, on this PORT?`);
      return 1;
    }
    io.out(`→ ${command} ${text}  (signed POST ${url}: HTTP ${res.status} in ${Date.now() - started} ms)`);
    if (res.status === 401) {
      io.err('error: the bot refused the signature: SLACK_SIGNING_SECRET here differs from the one the bot runs with');
      return 1;
    }
    if (!res.ok) return 1;

    const deadline = Date.now() + timeoutSec * 1000;
    let jobId: string | undefined;
    let outcome: string | undefined;
    let firstReplyAt: number | undefined;
    while (Date.now() < deadline) {
      if (messagesUrl) {
        let fresh: SlackRecord[];
        try {
          fresh = await fetchMessages(messagesUrl, after);
        } catch (e) {
          io.err(`error: lost the sandbox's Slack stand-in at ${messagesUrl} (${errorText(e)})`);
          return 1;
        }
        for (const r of fresh) {
          after = Math.max(after, r.seq);
          lines.push(formatSlackRecord(r));
        }
      }
      for (const l of lines.splice(0)) {
        io.out(l);
        firstReplyAt ??= Date.now();
        jobId ??= /Queued job (\S+?):/.exec(l)?.[1];
        outcome ??= FINISHED.exec(l)?.[1];
      }
      if (outcome !== undefined) break;
      // a command without a job is answered once; give in-channel messages a moment to arrive
      if (jobId === undefined && firstReplyAt !== undefined && Date.now() - firstReplyAt > 1_500) break;
      if (jobId !== undefined && !messagesUrl) {
        io.out(`job ${jobId} is queued; its progress goes to the Slack thread (SLACK_API_URL is not the sandbox, so it is not followed here)`);
        return 0;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 300);
      });
    }
    if (firstReplyAt === undefined) {
      io.err(`error: no reply within ${timeoutSec} s`);
      return 1;
    }
    if (jobId !== undefined && outcome === undefined) {
      io.err(`job ${jobId} is not over after ${timeoutSec} s (it may be waiting for an approval in the thread)`);
      return 1;
    }
    if (jobId !== undefined) io.out(`job ${jobId} ${outcome}`);
    return outcome === undefined || outcome === 'succeeded' ? 0 : 1;
  } finally {
    server.close();
    server.closeAllConnections();
  }
}
