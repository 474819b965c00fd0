/**
 * A loopback fake of the Slack Web API and of response_url endpoints, for tests that run the real WebClient and the
 * real Bolt app against it (`slackApiUrl: fake.url`).
 *
 * Methods: chat.postMessage (threads), chat.update, chat.getPermalink, chat.postEphemeral, chat.delete, views.open, users.info,
 * usergroups.users.list (configurable), auth.test. Bodies are accepted as application/x-www-form-urlencoded (how the
 * WebClient sends them; `blocks`/`attachments`/`view`/`metadata` arrive as JSON strings and are decoded) or JSON. The
 * token is read from `Authorization: Bearer` or the `token` field.
 *
 * Every accepted call is recorded in `calls`; `waitFor` resolves with the first recorded call matching a predicate.
 * Knobs: `rateLimit(method, times, retryAfterSec)` answers 429 + Retry-After; `failNext(method, error)` answers
 * `{ ok: false, error }`; `notInChannel` channels refuse chat.postMessage with `not_in_channel`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSlackCall {
  /** Web API method ("chat.postMessage"), or "response_url" for a POST to a response URL */
  method: string;
  body: Record<string, unknown>;
  /** epoch ms when it arrived */
  at: number;
  /** for response_url calls: the id given to responseUrl(id) */
  responseId?: string;
  /** the token the call carried (Web API calls) */
  token?: string;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown[];
  user: string;
  bot_id: string;
  /** every chat.update applied to it, oldest first */
  edits: number;
}

export interface FakeUser {
  id: string;
  name?: string;
  real_name?: string;
  is_admin?: boolean;
  is_bot?: boolean;
  deleted?: boolean;
  tz?: string;
}

export interface FakeSlackOptions {
  /** when set, Web API calls must carry exactly this token (else invalid_auth) */
  botToken?: string;
  botUserId?: string;
  botId?: string;
  teamId?: string;
  /** usergroup id → member user ids (usergroups.users.list) */
  usergroups?: Record<string, string[]>;
  /** user id → profile (users.info); unknown ids get a generated profile unless `strictUsers` */
  users?: Record<string, FakeUser>;
  strictUsers?: boolean;
  /** channels where chat.postMessage answers not_in_channel */
  notInChannel?: string[];
}

export interface FakeSlack {
  /** Web API base URL, ends with /api/ */
  url: string;
  /** a response_url the fake records POSTs to */
  responseUrl(id: string): string;
  /** accepted calls, in arrival order */
  calls: FakeSlackCall[];
  /** calls answered with 429 */
  rateLimited: FakeSlackCall[];
  /** resolve with the first call (already recorded or arriving later) that matches; reject after timeoutMs */
  waitFor(predicate: (call: FakeSlackCall) => boolean, timeoutMs?: number): Promise<FakeSlackCall>;
  callsTo(method: string): FakeSlackCall[];
  /** messages the bot posted, by channel + ts (updated by chat.update, removed by chat.delete) */
  message(channel: string, ts: string): FakeMessage | undefined;
  messages(): FakeMessage[];
  setUsergroup(id: string, users: string[]): void;
  /** the next `times` calls to `method` get HTTP 429 with Retry-After: retryAfterSec */
  rateLimit(method: string, times?: number, retryAfterSec?: number): void;
  /** the next call to `method` answers { ok: false, error } */
  failNext(method: string, error: string): void;
  close(): Promise<void>;
}

const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata']);

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/json') {
    if (!raw) return {};
    const parsed: unknown = JSON.parse(raw);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { _: parsed };
  }
  // form-encoded (the WebClient's default); values that are JSON documents for known fields are decoded
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    if (JSON_FIELDS.has(k)) {
      try {
        out[k] = JSON.parse(v);
        continue;
      } catch {
        /* keep the string */
      }
    }
    out[k] = v;
  }
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const botUserId = opts.botUserId ?? 'UBOT0001';
  const botId = opts.botId ?? 'BBOT0001';
  const teamId = opts.teamId ?? 'T0000001';
  const usergroups = new Map<string, string[]>(Object.entries(opts.usergroups ?? {}));
  const users = new Map<string, FakeUser>(Object.entries(opts.users ?? {}));
  const notInChannel = new Set(opts.notInChannel ?? []);
  const calls: FakeSlackCall[] = [];
  const rateLimited: FakeSlackCall[] = [];
  const store = new Map<string, FakeMessage>();
  const limits = new Map<string, { times: number; retryAfterSec: number }>();
  const failures = new Map<string, string>();
  const waiters = new Set<{ predicate: (c: FakeSlackCall) => boolean; resolve: (c: FakeSlackCall) => void }>();
  let tsCounter = 0;
  let baseUrl = '';

  const nextTs = () => {
    tsCounter += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(tsCounter).padStart(6, '0')}`;
  };
  const key = (channel: string, ts: string) => `${channel}:${ts}`;

  const record = (call: FakeSlackCall) => {
    calls.push(call);
    for (const w of [...waiters]) {
      if (w.predicate(call)) {
        waiters.delete(w);
        w.resolve(call);
      }
    }
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };

  type Result = Record<string, unknown>;
  const handlers: Record<string, (b: Record<string, unknown>) => Result> = {
    'auth.test': () => ({ ok: true, url: 'https://fake.slack.test/', team: 'Fake', user: 'redshift-ops', team_id: teamId, user_id: botUserId, bot_id: botId }),
    'chat.postMessage': (b) => {
      const channel = str(b.channel);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      if (notInChannel.has(channel)) return { ok: false, error: 'not_in_channel' };
      if (!str(b.text) && !Array.isArray(b.blocks)) return { ok: false, error: 'no_text' };
      const threadTs = str(b.thread_ts);
      if (threadTs && !store.has(key(channel, threadTs))) return { ok: false, error: 'thread_not_found' };
      const ts = nextTs();
      const m: FakeMessage = { channel, ts, user: botUserId, bot_id: botId, edits: 0 };
      if (threadTs) m.thread_ts = threadTs;
      if (typeof b.text === 'string') m.text = b.text;
      if (Array.isArray(b.blocks)) m.blocks = b.blocks;
      store.set(key(channel, ts), m);
      return { ok: true, channel, ts, message: { type: 'message', user: botUserId, bot_id: botId, ts, text: m.text ?? '', ...(threadTs ? { thread_ts: threadTs } : {}) } };
    },
    'chat.update': (b) => {
      const channel = str(b.channel);
      const ts = str(b.ts);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      if (!ts) return { ok: false, error: 'invalid_arguments' };
      const m = store.get(key(channel, ts));
      if (!m) return { ok: false, error: 'message_not_found' };
      if (!str(b.text) && !Array.isArray(b.blocks)) return { ok: false, error: 'no_text' };
      if (typeof b.text === 'string') m.text = b.text;
      if (Array.isArray(b.blocks)) m.blocks = b.blocks;
      m.edits += 1;
      return { ok: true, channel, ts, text: m.text ?? '', message: { text: m.text ?? '', user: botUserId } };
    },
    // as Slack answers it: the workspace's own domain; a message in a thread gets ?thread_ts=…&cid=…
    'chat.getPermalink': (b) => {
      const channel = str(b.channel);
      const ts = str(b.message_ts);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      const m = ts ? store.get(key(channel, ts)) : undefined;
      if (!m || !ts) return { ok: false, error: 'message_not_found' };
      const base = `https://fake.slack.test/archives/${channel}/p${ts.replace('.', '')}`;
      return { ok: true, channel, permalink: m.thread_ts ? `${base}?thread_ts=${m.thread_ts}&cid=${channel}` : base };
    },
    'chat.delete': (b) => {
      const channel = str(b.channel);
      const ts = str(b.ts);
      if (!channel || !ts || !store.has(key(channel, ts))) return { ok: false, error: 'message_not_found' };
      store.delete(key(channel, ts));
      return { ok: true, channel, ts };
    },
    'chat.postEphemeral': (b) => {
      const channel = str(b.channel);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      if (!str(b.user)) return { ok: false, error: 'user_not_in_channel' };
      if (!str(b.text) && !Array.isArray(b.blocks)) return { ok: false, error: 'no_text' };
      return { ok: true, message_ts: nextTs() };
    },
    'views.open': (b) => {
      if (!str(b.trigger_id)) return { ok: false, error: 'invalid_trigger_id' };
      if (!b.view || typeof b.view !== 'object') return { ok: false, error: 'invalid_arguments' };
      const id = `V${String(++tsCounter).padStart(8, '0')}`;
      return { ok: true, view: { ...(b.view as Record<string, unknown>), id, team_id: teamId } };
    },
    'users.info': (b) => {
      const id = str(b.user);
      if (!id) return { ok: false, error: 'user_not_found' };
      const u = users.get(id);
      if (!u && opts.strictUsers) return { ok: false, error: 'user_not_found' };
      const profile = u ?? { id };
      const name = profile.name ?? id.toLowerCase();
      return {
        ok: true,
        user: {
          id,
          team_id: teamId,
          name,
          real_name: profile.real_name ?? name,
          deleted: profile.deleted ?? false,
          is_admin: profile.is_admin ?? false,
          is_bot: profile.is_bot ?? false,
          tz: profile.tz ?? 'UTC',
          profile: { real_name: profile.real_name ?? name, display_name: name },
        },
      };
    },
    'usergroups.users.list': (b) => {
      const id = str(b.usergroup);
      if (!id || !usergroups.has(id)) return { ok: false, error: 'no_such_subteam' };
      return { ok: true, users: [...(usergroups.get(id) ?? [])] };
    },
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    let raw: string;
    try {
      raw = await readBody(req);
    } catch {
      send(res, 400, { ok: false, error: 'invalid_request' });
      return;
    }
    if (req.method !== 'POST') {
      send(res, 405, { ok: false, error: 'method_not_allowed' });
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = parseBody(raw, req.headers['content-type']);
    } catch {
      send(res, 200, { ok: false, error: 'invalid_json' });
      return;
    }

    const resp = /^\/response\/([^/]+)$/.exec(path);
    if (resp?.[1]) {
      record({ method: 'response_url', responseId: decodeURIComponent(resp[1]), body, at: Date.now() });
      send(res, 200, { ok: true });
      return;
    }

    const api = /^\/api\/([A-Za-z.]+)$/.exec(path);
    if (!api?.[1]) {
      send(res, 404, { ok: false, error: 'not_found' });
      return;
    }
    const method = api[1];
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : str(body.token);
    const call: FakeSlackCall = { method, body, at: Date.now() };
    if (token) call.token = token;

    const limit = limits.get(method);
    if (limit && limit.times > 0) {
      limit.times -= 1;
      rateLimited.push(call);
      send(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(limit.retryAfterSec) });
      return;
    }
    if (!token) {
      send(res, 200, { ok: false, error: 'not_authed' });
      return;
    }
    if (opts.botToken && token !== opts.botToken) {
      send(res, 200, { ok: false, error: 'invalid_auth' });
      return;
    }
    const failure = failures.get(method);
    if (failure) {
      failures.delete(method);
      record(call);
      send(res, 200, { ok: false, error: failure });
      return;
    }
    const handler = handlers[method];
    record(call);
    if (!handler) {
      send(res, 200, { ok: false, error: 'unknown_method' });
      return;
    }
    send(res, 200, handler(body));
  };

  const server: Server = createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { ok: false, error: 'fake_internal_error', detail: String(err) });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: `${baseUrl}/api/`,
    responseUrl: (id: string) => `${baseUrl}/response/${encodeURIComponent(id)}`,
    calls,
    rateLimited,
    waitFor(predicate, timeoutMs = 5_000) {
      const found = calls.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise<FakeSlackCall>((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (c: FakeSlackCall) => {
            clearTimeout(timer);
            resolve(c);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`fake Slack: no matching call within ${timeoutMs} ms; calls so far: ${calls.map((c) => c.method).join(', ') || 'none'}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    callsTo: (method: string) => calls.filter((c) => c.method === method),
    message: (channel: string, ts: string) => store.get(key(channel, ts)),
    messages: () => [...store.values()],
    setUsergroup: (id: string, members: string[]) => {
      usergroups.set(id, [...members]);
    },
    rateLimit: (method: string, times = 1, retryAfterSec = 1) => {
      limits.set(method, { times, retryAfterSec });
    },
    failNext: (method: string, error: string) => {
      failures.set(method, error);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
