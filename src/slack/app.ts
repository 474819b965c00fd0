/**
 * The Slack front end: a Bolt 5 app with one HTTP endpoint (`/slack/events`: slash commands, interactivity and events)
 * or Socket Mode when an app-level token is given.
 *
 * - Every handler ACKs first (an empty 200 within milliseconds), then validates the payload with zod and calls the
 *   injected BotServices, which reply through a Replier (response_url for ephemeral, chat.postMessage for in-channel).
 * - Every slash command and every button click is acked and answered, also one that is not ours (another command name
 *   routed here, an action id from another app or an older bot): "unknown …", never Bolt's 3-second timeout and 404.
 * - Command text is decoded here, once (Slack sends a typed `&`, `<`, `>` as `&amp;` `&lt;` `&gt;`); everything past
 *   this point sees what the user typed, and replies escape it again (src/slack/mrkdwn.ts).
 * - Bolt verifies the signature and the 5-minute age; on top, a ReplayGuard refuses a validly signed request that was
 *   already seen (401), and a timestamp more than 5 minutes in the future (401).
 * - No auth.test is ever called: a custom `authorize` hands Bolt the bot token (and bot ids when known).
 * - `apiUrl` points every Web API call at another Slack API base (the fake in tests).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server } from 'node:http';
import {
  App,
  HTTPReceiver,
  isValidSlackRequest,
  type BufferedIncomingMessage,
  type CustomRoute,
  type HTTPReceiverOptions,
  type RespondArguments,
  type RespondFn,
  type webApi,
} from '@slack/bolt';
import type { Logger } from 'pino';
import type { KnownBlock } from './blocks.js';
import { errorMessage } from './blocks.js';
import { decodeSlackText, neutralizeBackticks } from './mrkdwn.js';
import {
  actionIdSchema,
  blockActionsSchema,
  describeZodError,
  parseActionValue,
  slashCommandSchema,
  type ActionId,
  type ActionValue,
} from './payloads.js';
import { slackLogger } from './log.js';
import { MemoryReplayGuard, SLACK_REQUEST_MAX_AGE_MS, replayKey, replayTtlMs, type ReplayGuard } from './replay-guard.js';


type WebClient = webApi.WebClient;

/** How a handler answers the person who typed the command or clicked the button. */
export interface Replier {
  /** only the user sees it (errors, help, status) */
  ephemeral(text: string, blocks?: KnownBlock[]): Promise<void>;
  /**
   * a message everyone in the channel sees; `ts` is set when it was posted with chat.postMessage (a job thread can hang
   * off it). For an action, it is posted in the thread of the clicked message.
   */
  inChannel(text: string, blocks?: KnownBlock[]): Promise<{ ts?: string }>;
  /** replace the message whose button was clicked (actions only) */
  replaceOriginal?(text: string, blocks?: KnownBlock[]): Promise<void>;
}

export interface CommandInput {
  /** the text after the command, trimmed */
  text: string;
  userId: string;
  channelId: string;
  teamId?: string;
  triggerId?: string;
}

export interface ActionInput {
  actionId: ActionId;
  value: ActionValue;
  /** who clicked (body.user.id, from the signed payload) */
  userId: string;
  channelId: string;
  /** ts of the message carrying the button */
  messageTs?: string;
  /** ts of the thread the message is in (its own ts when it is a thread parent) */
  threadTs?: string;
}

export interface BotServices {
  /** a /redshift slash command; reply via the Replier (ephemeral error/help, or in-channel reply that starts a job thread) */
  command(input: CommandInput, reply: Replier): Promise<void>;
  /** a button click: approve/reject/rollback/retry/cancel carrying { jobId, step?, nonce? } in its value */
  action(input: ActionInput, reply: Replier): Promise<void>;
}

export interface SlackAppOptions {
  signingSecret: string;
  /** xoxb- bot token */
  botToken: string;
  /** Slack Web API base (SLACK_API_URL), e.g. http://127.0.0.1:4100/api/ for a fake; default https://slack.com/api/ */
  apiUrl?: string;
  /** HTTP port (PORT), default 3000; 0 picks a free one (start() tells which) */
  port?: number;
  /** xapp- app-level token: when set, the app connects over Socket Mode instead of listening for HTTP */
  appToken?: string;
  /** the bot's ids, if known (they only matter for ignoring the bot's own message events) */
  botId?: string;
  botUserId?: string;
  services: BotServices;
  logger: Logger;
  /** replay store; default in-memory (one process). Back it with Redis when several bot processes share traffic. */
  replayGuard?: ReplayGuard;
  /** the slash command, default /redshift */
  command?: string;
  /** HTTP path for everything Slack sends, default /slack/events */
  endpoint?: string;
  /** more HTTP routes on the same port (GET /readyz, the queue dashboard: src/bot/http-routes.ts); HTTP mode only */
  routes?: CustomRoute[];
}

export interface SlackApp {
  app: App;
  /** start listening (HTTP) or connecting (Socket Mode); `port` is 0 in Socket Mode */
  start(): Promise<{ port: number }>;
  stop(): Promise<void>;
}

export const DEFAULT_PORT = 3000;
export const DEFAULT_ENDPOINT = '/slack/events';
export const DEFAULT_COMMAND = '/redshift';

/** Ensure the base URL ends with "/" (the WebClient appends the method name). */
export function normalizeApiUrl(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

export function createSlackApp(opts: SlackAppOptions): SlackApp {
  const log = opts.logger.child({ component: 'slack' });
  const boltLog = slackLogger(opts.logger.child({ component: 'bolt' }));
  const clientOptions: webApi.WebClientOptions = {
    retryConfig: { retries: 4, factor: 2, minTimeout: 1_000, maxTimeout: 15_000 },
  };
  if (opts.apiUrl) clientOptions.slackApiUrl = normalizeApiUrl(opts.apiUrl);
  const endpoint = opts.endpoint ?? DEFAULT_ENDPOINT;
  const commandName = opts.command ?? DEFAULT_COMMAND;
  const { botToken, botId, botUserId } = opts;
  const authorize = async () => ({ botToken, botId, botUserId });

  let app: App;
  let receiver: GuardedHTTPReceiver | undefined;
  if (opts.appToken) {
    app = new App({ socketMode: true, appToken: opts.appToken, authorize, clientOptions, logger: boltLog });
  } else {
    receiver = new GuardedHTTPReceiver(
      {
        signingSecret: opts.signingSecret,
        endpoints: endpoint,
        port: opts.port ?? DEFAULT_PORT,
        logger: boltLog,
        processBeforeResponse: false,
        customRoutes: [
          {
            path: '/healthz',
            method: ['GET'],
            handler: (_req, res) => {
              res.writeHead(200, { 'content-type': 'text/plain' });
              res.end('ok');
            },
          },
          ...(opts.routes ?? []),
        ],
      },
      { signingSecret: opts.signingSecret, guard: opts.replayGuard ?? new MemoryReplayGuard(), log },
    );
    app = new App({ receiver, authorize, clientOptions, logger: boltLog });
  }

  registerHandlers(app, { commandName, services: opts.services, log });

  app.error(async (error) => {
    log.error({ err: errorSummary(error) }, 'unhandled error in a Slack listener');
  });

  return {
    app,
    async start() {
      const started: unknown = await app.start(opts.port ?? DEFAULT_PORT);
      if (started instanceof Server) {
        const addr = started.address();
        const port = addr && typeof addr === 'object' ? addr.port : (opts.port ?? DEFAULT_PORT);
        log.info({ port, endpoint }, 'Slack HTTP receiver listening');
        return { port };
      }
      log.info('Slack Socket Mode connected');
      return { port: 0 };
    },
    async stop() {
      await app.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// handlers

interface HandlerDeps {
  commandName: string;
  services: BotServices;
  log: Logger;
}

function registerHandlers(app: App, deps: HandlerDeps): void {
  const { services, log } = deps;

  // any other slash command routed to this app's URL (a renamed or mistyped command in the app config): answered, not 404
  const otherCommands = new RegExp(`^(?!${escapeRegExp(deps.commandName)}$)`);
  app.command(otherCommands, async ({ ack, body, respond }) => {
    await ack();
    const name = typeof body.command === 'string' ? body.command : '?';
    log.warn({ command: name }, 'slash command for another name');
    await safeRespond(log, body, respond, errorMessage(`unknown command ${name}: this app answers ${deps.commandName} only.`, `Try \`${deps.commandName} help\`. Nothing was done.`));
  });

  app.command(deps.commandName, async ({ ack, body, client, respond }) => {
    await ack(); // first: Slack wants the 200 within 3 s, whatever comes next
    const parsed = slashCommandSchema.safeParse(body);
    if (!parsed.success) {
      log.warn({ problem: describeZodError(parsed.error) }, 'slash command payload did not validate');
      await safeRespond(log, body, respond, errorMessage('Slack sent a command I could not read.', 'Try again; if it keeps failing, tell the bot admin.'));
      return;
    }
    const cmd = parsed.data;
    const reply = makeReplier({
      client,
      log,
      channelId: cmd.channel_id,
      userId: cmd.user_id,
      respond: cmd.response_url ? respond : undefined,
      kind: 'command',
    });
    const text = decodeSlackText(cmd.text).trim();
    const input: CommandInput = { text, userId: cmd.user_id, channelId: cmd.channel_id };
    if (cmd.team_id) input.teamId = cmd.team_id;
    if (cmd.trigger_id) input.triggerId = cmd.trigger_id;
    try {
      await services.command(input, reply);
    } catch (err) {
      log.error({ err: errorSummary(err), user: cmd.user_id, channel: cmd.channel_id }, 'command service failed');
      const echo = neutralizeBackticks(`${cmd.command} ${text}`);
      await reply.ephemeral(...msg(errorMessage(`Something went wrong running \`${echo}\`: ${errorText(err)}`, 'Nothing was queued. Try again, or ask the bot admin to check the logs.'))).catch(() => undefined);
    }
  });

  // every action id: ours are told apart below, any other one (another app's, an older bot's) is answered "unknown"
  app.action(/[\s\S]*/, async ({ ack, body, client, respond }) => {
    await ack();
    const parsed = blockActionsSchema.safeParse(body);
    if (!parsed.success) {
      log.warn({ problem: describeZodError(parsed.error) }, 'block_actions payload did not validate');
      await safeRespond(log, body, respond, errorMessage('Slack sent a button click I could not read.', 'Nothing was done. Try again.'));
      return;
    }
    const b = parsed.data;
    const channelId = b.channel?.id ?? b.container?.channel_id;
    const messageTs = b.message?.ts ?? b.container?.message_ts;
    const threadTs = b.message?.thread_ts ?? b.container?.thread_ts ?? messageTs;
    const reply = makeReplier({
      client,
      log,
      channelId,
      userId: b.user.id,
      respond: b.response_url ? respond : undefined,
      threadTs,
      kind: 'action',
    });
    const action = b.actions[0];
    if (!action) return; // the schema requires one; keeps the type checker honest
    const id = actionIdSchema.safeParse(action.action_id);
    if (!id.success) {
      log.warn({ actionId: action.action_id }, 'unknown action id');
      await reply.ephemeral(...msg(errorMessage(`unknown button \`${neutralizeBackticks(action.action_id)}\`: it is not one of this bot's buttons.`, 'It may come from an older version of the bot or another app; nothing was done.'))).catch(() => undefined);
      return;
    }
    const value = parseActionValue(id.data, action.value);
    if (!value.ok) {
      log.warn({ actionId: id.data, user: b.user.id, problem: value.error }, 'malformed action value');
      await reply.ephemeral(...msg(errorMessage(`That button could not be used: ${value.error}.`, 'Nothing was done. Use the buttons on the latest job message, or `/redshift jobs`.'))).catch(() => undefined);
      return;
    }
    if (!channelId) {
      await reply.ephemeral(...msg(errorMessage('That click came without a channel, so I cannot tell which job thread it belongs to.', 'Nothing was done.'))).catch(() => undefined);
      return;
    }
    const input: ActionInput = { actionId: id.data, value: value.value, userId: b.user.id, channelId };
    if (messageTs) input.messageTs = messageTs;
    if (threadTs) input.threadTs = threadTs;
    try {
      await services.action(input, reply);
    } catch (err) {
      log.error({ err: errorSummary(err), actionId: id.data, jobId: value.value.jobId, user: b.user.id }, 'action service failed');
      await reply.ephemeral(...msg(errorMessage(`Something went wrong handling that click: ${errorText(err)}`, 'Check the job with `/redshift jobs` before trying again.'))).catch(() => undefined);
    }
  });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function msg(m: { text: string; blocks: KnownBlock[] }): [string, KnownBlock[]] {
  return [m.text, m.blocks];
}

/** Reply to a payload we could not validate, if it at least carries a response_url. */
async function safeRespond(log: Logger, body: unknown, respond: RespondFn | undefined, m: { text: string; blocks: KnownBlock[] }): Promise<void> {
  const url = body && typeof body === 'object' && 'response_url' in body ? (body as { response_url: unknown }).response_url : undefined;
  if (typeof url !== 'string' || !respond) return;
  try {
    await respond({ response_type: 'ephemeral', replace_original: false, text: m.text, blocks: m.blocks });
  } catch (err) {
    log.warn({ err: errorSummary(err) }, 'could not send the error reply');
  }
}

interface ReplierContext {
  client: WebClient;
  log: Logger;
  channelId: string | undefined;
  userId: string;
  respond: RespondFn | undefined;
  threadTs?: string | undefined;
  kind: 'command' | 'action';
}

/** Web API errors that mean "the bot cannot post in this channel"; then we answer through response_url instead. */
const CANNOT_POST = new Set(['not_in_channel', 'channel_not_found', 'is_archived', 'restricted_action']);

export function makeReplier(ctx: ReplierContext): Replier {
  const { client, log, channelId, userId, respond } = ctx;
  const replier: Replier = {
    async ephemeral(text, blocks) {
      if (respond) {
        const args: RespondArguments = {
          response_type: 'ephemeral',
          text,
          ...(ctx.kind === 'action' ? { replace_original: false } : {}),
          ...(blocks ? { blocks } : {}),
        };
        await respond(args);
        return;
      }
      if (!channelId) throw new Error('cannot reply: no response_url and no channel');
      await client.chat.postEphemeral({ channel: channelId, user: userId, text, ...(blocks ? { blocks } : {}) });
    },
    async inChannel(text, blocks) {
      if (!channelId) throw new Error('cannot post: no channel');
      try {
        const res = await client.chat.postMessage({
          channel: channelId,
          text,
          ...(blocks ? { blocks } : {}),
          ...(ctx.kind === 'action' && ctx.threadTs ? { thread_ts: ctx.threadTs } : {}),
        });
        return res.ts ? { ts: res.ts } : {};
      } catch (err) {
        const code = slackErrorCode(err);
        if (respond && code && CANNOT_POST.has(code)) {
          // e.g. a private channel the bot was not invited to: the response_url still works (no ts, so no thread)
          log.warn({ channel: channelId, code }, 'chat.postMessage refused; replying in channel through response_url');
          const args: RespondArguments = {
            response_type: 'in_channel',
            text,
            ...(ctx.kind === 'action' ? { replace_original: false } : {}),
            ...(blocks ? { blocks } : {}),
          };
          await respond(args);
          return {};
        }
        throw err;
      }
    },
  };
  if (ctx.kind === 'action' && respond) {
    replier.replaceOriginal = async (text, blocks) => {
      const args: RespondArguments = { replace_original: true, text, ...(blocks ? { blocks } : {}) };
      await respond(args);
    };
  }
  return replier;
}

/** The `error` code of a Slack Web API platform error (`{ ok: false, error: "not_in_channel" }`), if that is what it is. */
export function slackErrorCode(err: unknown): string | undefined {
  if (!err || typeof err !== 'object' || !('data' in err)) return undefined;
  const data = (err as { data: unknown }).data;
  if (!data || typeof data !== 'object' || !('error' in data)) return undefined;
  const code = (data as { error: unknown }).error;
  return typeof code === 'string' ? code : undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errorSummary(err: unknown): { message: string; code?: string } {
  const out: { message: string; code?: string } = { message: errorText(err) };
  const code = slackErrorCode(err);
  if (code) out.code = code;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// receiver with replay guard

interface GuardOptions {
  signingSecret: string;
  guard: ReplayGuard;
  log: Logger;
  /** bytes; default 1 MiB (Slack's payloads are far smaller) */
  bodyLimit?: number;
  now?: () => number;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        reject(new BodyTooLarge(`request body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks));
      }
    });
    req.on('error', (e) => {
      if (!done) {
        done = true;
        reject(e);
      }
    });
  });
}

type Verdict = { pass: true } | { pass: false; reason: string };

/**
 * Bolt's HTTPReceiver with a replay check in front of it. The body is buffered here (Bolt reuses `req.rawBody`), and a
 * request whose signature is valid is checked against the ReplayGuard; anything else goes to Bolt unchanged, which
 * answers 401 to missing, forged or stale signatures itself.
 */
export class GuardedHTTPReceiver extends HTTPReceiver {
  constructor(options: HTTPReceiverOptions, guardOpts: GuardOptions) {
    super(options);
    const inner = this.requestListener;
    const endpoints = new Set(Array.isArray(options.endpoints) ? options.endpoints : [options.endpoints ?? DEFAULT_ENDPOINT]);
    const limit = guardOpts.bodyLimit ?? 1024 * 1024;
    const now = guardOpts.now ?? Date.now;
    const log = guardOpts.log;
    this.requestListener = (req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if ((req.method ?? '').toUpperCase() !== 'POST' || !endpoints.has(path)) {
        inner(req, res); // custom routes, 404s: Bolt's own routing (it may throw; HTTPReceiver.start catches)
        return;
      }
      void (async () => {
        let raw: Buffer;
        try {
          raw = await readBody(req, limit);
        } catch (err) {
          const tooLarge = err instanceof BodyTooLarge;
          log.warn({ err: errorText(err) }, tooLarge ? 'Slack request body too large' : 'could not read request body');
          res.writeHead(tooLarge ? 413 : 400, { connection: 'close' });
          res.end();
          return;
        }
        (req as BufferedIncomingMessage).rawBody = raw;
        let verdict: Verdict;
        try {
          verdict = await checkReplay(req, raw, guardOpts.signingSecret, guardOpts.guard, now());
        } catch (err) {
          log.error({ err: errorText(err) }, 'replay guard failed; refusing the request');
          res.writeHead(503);
          res.end();
          return;
        }
        if (!verdict.pass) {
          log.warn({ reason: verdict.reason, path }, 'refused a signed Slack request');
          res.writeHead(401);
          res.end();
          return;
        }
        try {
          inner(req, res);
        } catch (err) {
          log.error({ err: errorText(err) }, 'receiver failed to dispatch');
          if (!res.headersSent) res.writeHead(500);
          res.end();
        }
      })();
    };
  }
}

async function checkReplay(req: IncomingMessage, raw: Buffer, signingSecret: string, guard: ReplayGuard, nowMs: number): Promise<Verdict> {
  const signature = req.headers['x-slack-signature'];
  const tsHeader = req.headers['x-slack-request-timestamp'];
  // missing/odd headers and bad signatures: Bolt answers 401 itself
  if (typeof signature !== 'string' || typeof tsHeader !== 'string') return { pass: true };
  const ts = Number(tsHeader);
  if (!Number.isSafeInteger(ts)) return { pass: true };
  const valid = isValidSlackRequest({
    signingSecret,
    body: raw.toString('utf8'),
    headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': ts },
    nowMilliseconds: nowMs,
  });
  if (!valid) return { pass: true };
  if (ts * 1000 > nowMs + SLACK_REQUEST_MAX_AGE_MS) {
    return { pass: false, reason: 'x-slack-request-timestamp is more than 5 minutes in the future (check the clock)' };
  }
  const first = await guard.firstSeen(replayKey(ts, signature), replayTtlMs(ts, nowMs));
  return first ? { pass: true } : { pass: false, reason: 'replayed request (same timestamp and signature seen before)' };
}
