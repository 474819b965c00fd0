/**
 * The whole bot, real parts only, for end-to-end tests and the ack-latency benchmark:
 *   - the real Bolt HTTP receiver (createSlackApp) on a free port, fed requests signed exactly as Slack signs them;
 *   - real Redis (BullMQ, job records, locks, audit, replay guard) under a unique key prefix;
 *   - the loopback AWS sandbox on a PostgreSQL database of its own (created here, dropped on close), with the 26
 *     ak_sumofus tables of schemas/ created through the Data API and a few rows in each;
 *   - the real RedshiftDataWarehouse (createWarehouse → AWS SDK → sandbox) and SlackThreadReporter (→ fake Slack over HTTP);
 *   - wired by buildRuntime with the same saveOrigin and replay guard src/main.ts uses (its exported helpers).
 * By default this process is the `--role bot` (no worker); `inProcessWorker` makes it `npm start`'s "all" role, and
 * `spawnWorker()` starts `node --import tsx src/main.ts --role worker` as a child process on the same Redis/sandbox/Slack.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListStatementsCommand, type RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { buildRuntime, type Runtime } from '../../src/bot/runtime.js';
import type { WarehouseTarget } from '../../src/config.js';
import type { RunbookSettings } from '../../src/jobs/deps.js';
import { type DmsAdapter, createDms } from '../../src/replication/dms.js';
import { type CloudWatchLogsAdapter, createLogs } from '../../src/replication/logs.js';
import { registryReloader } from '../../src/schema/registry-reload.js';
import { seedRows } from '../../src/console/seed.js';
import type { JobRecord } from '../../src/jobs/types.js';
import type { Source } from '../../src/source/port.js';
import { redisReplayGuard, slackOriginSaver } from '../../src/main.js';
import { createPolicy, type PolicyConfigInput } from '../../src/policy.js';
import { connectRedis, deleteKeysWithPrefix } from '../../src/queue/connection.js';
import { applySchema } from '../../src/schema/apply.js';
import { loadRegistry, type Registry } from '../../src/schema/registry.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { createSlackApp, type SlackApp } from '../../src/slack/app.js';
import { slackPermalinks } from '../../src/slack/permalink.js';
import type { ActionValue } from '../../src/slack/payloads.js';
import { type SlackJobOrigin, SlackThreadReporter } from '../../src/slack/reporter.js';
import { createWarehouse, type RedshiftDataWarehouse } from '../../src/warehouse/redshift-data.js';
import { type FakeMessage, type FakeSlack, type FakeSlackCall, startFakeSlack } from './fake-slack.js';
import { createTestDatabase, dataClient, type TestDatabase } from './sandbox.js';
import { blockActionsBody, type PostOptions, postSigned, slashCommandBody } from './slack-sign.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const CHANNEL = 'C0DATAOPS1';
export const SCHEMA = 'ak_sumofus';

/** Slack user ids with known roles. `lead` is operator AND approver (self-approval is off by default). */
export const USERS = {
  operator: 'U0OPERATOR',
  lead: 'U0LEADOPS1',
  approver: 'U0APPROVE1',
  approver2: 'U0APPROVE2',
  stranger: 'U0STRANGER',
} as const;

export const POLICY: PolicyConfigInput = {
  operators: [USERS.operator, USERS.lead],
  approvers: [USERS.approver, USERS.approver2, USERS.lead],
  allowSelfApproval: false,
};

export interface BotHarnessOptions {
  /** short name: part of the database name and the Redis prefix */
  name: string;
  policy?: PolicyConfigInput;
  /** run a worker in this process too (`npm start` without --role) */
  inProcessWorker?: boolean | { concurrency?: number; lockDuration?: number; stalledInterval?: number };
  /** rows seeded per table (tables with a one-column primary key), default 20; 0 seeds nothing */
  rowsPerTable?: number;
  /** create the 26 tables (default true) */
  applySchema?: boolean;
  /**
   * Load schemas/ from a temporary COPY (removed on close) instead of the repository's files, and let the bot re-read
   * it before each command (registryReloader, as src/main.ts does): jobs that rewrite table files (modify) write the
   * copy, never the repository. `schemasDir` names it; spawned workers get it as SCHEMAS_DIR.
   */
  copySchemas?: boolean;
  /** give the runtime the DMS and CloudWatch Logs adapters (real SDK clients → the sandbox), as src/main.ts does */
  aws?: boolean;
  /** runbook settings for the runtime (short log-check / freshness windows in tests) */
  settings?: Partial<RunbookSettings>;
  /** where the bot's Data API calls go (default a provisioned cluster: ClusterIdentifier sandbox-cluster, DbUser awsuser) */
  target?: WarehouseTarget;
  /** the MySQL source the runtime compares with (the caller creates and closes it) */
  source?: Source;
  /** COMPARE_LAG_SECONDS for the runtime */
  compare?: { lagSeconds: number };
  /** a Redis of the test's own (fault tests restart it) instead of REDIS_URL */
  redisUrl?: string;
  /** a PostgreSQL server of the test's own (fault tests restart it) instead of TEST_PG_ADMIN_URL's */
  pgAdminUrl?: string;
}

export interface SlashOptions {
  userId?: string;
  channelId?: string;
  /** id of the fake response_url (default: a fresh one) */
  responseId?: string;
  /** sign with this timestamp (seconds) */
  timestamp?: number;
  /** header overrides (forged signature …) */
  headers?: PostOptions['headers'];
  /** sign with another secret */
  signingSecret?: string;
  /** send exactly this body (replays) */
  rawBody?: string;
}

export interface Posted {
  status: number;
  body: string;
  /** ms from sending the request to the HTTP response */
  ms: number;
  responseId: string;
  rawBody: string;
  /** the x-slack-request-timestamp it was signed with: `post(rawBody, { timestamp })` replays it byte for byte */
  timestamp: number;
}

export interface ClickOptions {
  userId: string;
  channelId?: string;
  messageTs?: string;
  threadTs?: string;
  responseId?: string;
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** SIGKILL and wait for the exit */
  kill9(): Promise<void>;
  /** SIGTERM and wait; resolves with the exit code */
  stop(): Promise<number | null>;
}

export interface ApprovalButtons {
  message: FakeMessage;
  value: ActionValue;
  /** the button's raw value string, as Slack would send it back */
  raw: string;
}

export interface BotHarness {
  readonly secret: string;
  readonly token: string;
  readonly prefix: string;
  readonly redis: Redis;
  readonly rt: Runtime;
  readonly fake: FakeSlack;
  readonly sandbox: Sandbox;
  readonly db: TestDatabase;
  readonly registry: Registry;
  /** the schemas/ directory the bot reads (the repository's, or the temporary copy with `copySchemas`) */
  readonly schemasDir: string;
  /** the DMS / CloudWatch Logs adapters given to the runtime (`aws: true`) */
  readonly dms?: DmsAdapter;
  readonly logs?: CloudWatchLogsAdapter;
  readonly warehouse: RedshiftDataWarehouse;
  readonly reporter: SlackThreadReporter;
  /** http://127.0.0.1:<port>/slack/events */
  readonly eventsUrl: string;
  /** POST a signed `/redshift <text>` slash command */
  slash(text: string, o?: SlashOptions): Promise<Posted>;
  /** POST a signed block_actions click on a button with `value` */
  click(actionId: string, value: string, o: ClickOptions): Promise<Posted>;
  /** POST a raw body signed with the right secret (or as `o` says) */
  post(rawBody: string, o?: { timestamp?: number; headers?: PostOptions['headers']; signingSecret?: string }): Promise<Omit<Posted, 'responseId'>>;
  /** what the bot sent to a response_url */
  responses(responseId: string): FakeSlackCall[];
  waitForResponse(responseId: string, pred?: (c: FakeSlackCall) => boolean, timeoutMs?: number): Promise<FakeSlackCall>;
  waitUntil(pred: () => Promise<boolean> | boolean, what: string | (() => string) | (() => Promise<string>), timeoutMs?: number): Promise<void>;
  waitJob(jobId: string, pred: (j: JobRecord) => boolean, what: string, timeoutMs?: number): Promise<JobRecord>;
  /** the job's thread parent (its live progress message), from the origin the reporter saved */
  progressMessage(jobId: string): Promise<FakeMessage | undefined>;
  /** replies in a thread, oldest first */
  thread(threadTs: string, channel?: string): FakeMessage[];
  /** top-level messages in the channel that are a job's progress message */
  progressMessagesOf(jobId: string, channel?: string): FakeMessage[];
  /** the (latest) approval message of a job that still carries buttons */
  approvalButtons(jobId: string): ApprovalButtons | undefined;
  /** Data API statements the sandbox ran, newest first (ListStatements through the real SDK) */
  statements(filter?: { name?: string; sql?: RegExp }): Promise<Array<{ id: string; sql: string; status: string; name?: string }>>;
  /** BullMQ job counts of the runbooks queue (every state) */
  queueCounts(): Promise<Record<string, number>>;
  /** environment for `src/main.ts` pointed at this harness's Redis prefix, sandbox and fake Slack */
  mainEnv(extra?: Record<string, string>): Record<string, string>;
  /**
   * start `node --import tsx src/main.ts --role worker` and wait for "redshift-ops started". Workers get a 2 s BullMQ
   * lock and a 1 s stalled check unless `extra` says otherwise — the same for every worker of a test file: BullMQ's
   * stalled check is throttled per QUEUE (one shared `stalled-check` key that expires after the stalledInterval of the
   * worker that last ran it), so one worker on the 30 s default would hold off every other worker's crash recovery.
   */
  spawnWorker(extra?: Record<string, string>): Promise<WorkerProcess>;
  close(): Promise<void>;
}

const TOKEN = 'xoxb-harness-bot-token';

let seq = 0;
const nextId = (what: string): string => `${what}-${process.pid}-${++seq}-${randomBytes(3).toString('hex')}`;
/** A trigger_id shaped like Slack's; unique per request (the job store dedupes on it). */
const triggerId = (): string => `${Date.now()}.${process.pid}${++seq}.${randomBytes(10).toString('hex')}`;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function hasButtons(m: FakeMessage): boolean {
  return (m.blocks ?? []).some((b) => typeof b === 'object' && b !== null && (b as { block_id?: unknown }).block_id === 'rso_approval');
}

function buttonValue(m: FakeMessage, actionId: string): string | undefined {
  for (const b of m.blocks ?? []) {
    const block = b as { block_id?: unknown; elements?: unknown };
    if (block.block_id !== 'rso_approval' || !Array.isArray(block.elements)) continue;
    for (const e of block.elements as Array<{ action_id?: unknown; value?: unknown }>) {
      if (e.action_id === actionId && typeof e.value === 'string') return e.value;
    }
  }
  return undefined;
}

export async function startBotHarness(o: BotHarnessOptions): Promise<BotHarness> {
  const secret = `harness-${randomBytes(12).toString('hex')}`;
  const prefix = `rsotest-bot-${o.name}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const logger = pino({ level: process.env.HARNESS_LOG_LEVEL ?? 'silent' });
  const cleanups: Array<() => Promise<void>> = [];
  const children: WorkerProcess[] = [];
  const run = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch {
      /* best effort on the way out */
    }
  };
  const closeAll = async () => {
    for (const c of children.splice(0)) if (c.child.exitCode === null && c.child.signalCode === null) await run(() => c.kill9());
    for (const fn of cleanups.splice(0).reverse()) await run(fn);
  };

  try {
    const redisUrl = o.redisUrl ?? REDIS_URL;
    const redis = await connectRedis(redisUrl);
    cleanups.push(async () => {
      await deleteKeysWithPrefix(redis, prefix);
      await redis.quit();
    });
    const fake = await startFakeSlack({ botToken: TOKEN });
    cleanups.push(() => fake.close());
    const db = await createTestDatabase(`bot_${o.name}`, o.pgAdminUrl);
    cleanups.push(() => db.drop());
    const sandbox = await startSandbox({ databaseUrl: db.url, logger });
    cleanups.push(() => sandbox.close());
    const client: RedshiftDataClient = dataClient(sandbox.endpoint);
    cleanups.push(async () => client.destroy());

    let schemasDir = path.join(REPO, 'schemas');
    if (o.copySchemas) {
      const copy = await mkdtemp(path.join(tmpdir(), `rso-schemas-${o.name}-`));
      cleanups.push(() => rm(copy, { recursive: true, force: true }));
      await cp(schemasDir, copy, { recursive: true });
      schemasDir = copy;
    }
    const registry = await loadRegistry(schemasDir);
    const warehouse = createWarehouse(
      {
        warehouse: { target: o.target ?? { kind: 'provisioned', clusterId: 'sandbox-cluster', dbUser: 'awsuser' }, database: 'dev' },
        aws: { region: 'us-west-2', endpoint: sandbox.endpoint },
      },
      { env: {} },
    );
    if (o.applySchema !== false) {
      await applySchema(warehouse, registry, {}, () => undefined);
      const rows = o.rowsPerTable ?? 20;
      if (rows > 0) await seedRows(sandbox, registry, rows);
    }

    // --- the bot, wired as src/main.ts wires it ---
    const policyConfig = o.policy ?? POLICY;
    const policy = createPolicy(policyConfig);
    let saveOrigin: (jobId: string, origin: SlackJobOrigin) => Promise<void> = async () => {
      throw new Error('the runtime is not built yet');
    };
    const reporter = new SlackThreadReporter({ token: TOKEN, apiUrl: fake.url, saveOrigin: (id, origin) => saveOrigin(id, origin), logger });
    const w = o.inProcessWorker;
    const aws = { region: 'us-west-2', endpoint: sandbox.endpoint };
    const dms = o.aws ? createDms({ aws }, { env: {}, poll: { initialMs: 50, maxMs: 500 }, retry: { baseMs: 5, maxMs: 100 } }) : undefined;
    const logs = o.aws ? createLogs({ aws }, { env: {}, retry: { baseMs: 5, maxMs: 100 } }) : undefined;
    if (dms) cleanups.push(async () => dms.close());
    if (logs) cleanups.push(async () => logs.close());
    const rt = buildRuntime({
      redis,
      prefix,
      registry,
      warehouse,
      ...(dms ? { dms } : {}),
      ...(logs ? { logs } : {}),
      ...(o.settings ? { settings: o.settings } : {}),
      ...(o.source ? { source: o.source } : {}),
      ...(o.compare ? { compare: o.compare } : {}),
      ...(o.copySchemas ? { reloadRegistry: registryReloader(registry) } : {}),
      policy,
      reporter,
      permalink: slackPermalinks({ token: TOKEN, apiUrl: fake.url }),
      front: 'slack',
      ...(w ? { worker: { ...(typeof w === 'object' ? w : {}), closeOnSignals: false } } : {}),
      logger,
    });
    saveOrigin = slackOriginSaver(rt.jobs.store);
    cleanups.push(async () => {
      await rt.close();
      await reporter.flush();
    });
    const app: SlackApp = createSlackApp({
      signingSecret: secret,
      botToken: TOKEN,
      apiUrl: fake.url,
      port: 0,
      services: rt.bot,
      logger,
      replayGuard: redisReplayGuard(redis, prefix),
    });
    const { port } = await app.start();
    cleanups.push(() => app.stop());
    if (rt.worker) await rt.worker.worker.waitUntilReady();
    const eventsUrl = `http://127.0.0.1:${port}/slack/events`;

    const post = async (rawBody: string, p: { timestamp?: number; headers?: PostOptions['headers']; signingSecret?: string } = {}) => {
      const timestamp = p.timestamp ?? Math.floor(Date.now() / 1000);
      const started = performance.now();
      const res = await postSigned(eventsUrl, rawBody, {
        signingSecret: p.signingSecret ?? secret,
        timestamp,
        ...(p.headers ? { headers: p.headers } : {}),
      });
      return { status: res.status, body: res.body, ms: performance.now() - started, rawBody, timestamp };
    };

    const waitUntil = async (pred: () => Promise<boolean> | boolean, what: string | (() => string) | (() => Promise<string>), timeoutMs = 15_000): Promise<void> => {
      const until = Date.now() + timeoutMs;
      while (!(await pred())) {
        if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : await what()}`);
        await sleep(20);
      }
    };

    const h: BotHarness = {
      secret,
      token: TOKEN,
      prefix,
      redis,
      rt,
      fake,
      sandbox,
      db,
      registry,
      schemasDir,
      ...(dms ? { dms } : {}),
      ...(logs ? { logs } : {}),
      warehouse,
      reporter,
      eventsUrl,
      async slash(text, s = {}) {
        const responseId = s.responseId ?? nextId('cmd');
        const rawBody =
          s.rawBody ??
          slashCommandBody({
            text,
            responseUrl: fake.responseUrl(responseId),
            userId: s.userId ?? USERS.operator,
            channelId: s.channelId ?? CHANNEL,
            triggerId: triggerId(),
          });
        const r = await post(rawBody, { ...(s.timestamp !== undefined ? { timestamp: s.timestamp } : {}), ...(s.headers ? { headers: s.headers } : {}), ...(s.signingSecret ? { signingSecret: s.signingSecret } : {}) });
        return { ...r, responseId };
      },
      async click(actionId, value, c) {
        const responseId = c.responseId ?? nextId('click');
        const rawBody = blockActionsBody({
          actionId,
          value,
          userId: c.userId,
          userName: c.userId.toLowerCase(),
          channelId: c.channelId ?? CHANNEL,
          ...(c.messageTs ? { messageTs: c.messageTs } : {}),
          ...(c.threadTs ? { threadTs: c.threadTs } : {}),
          responseUrl: fake.responseUrl(responseId),
          triggerId: triggerId(),
        });
        const r = await post(rawBody);
        return { ...r, responseId };
      },
      post: (rawBody, p = {}) => post(rawBody, p),
      responses: (id) => fake.calls.filter((c) => c.method === 'response_url' && c.responseId === id),
      waitForResponse: (id, pred = () => true, timeoutMs = 10_000) =>
        fake.waitFor((c) => c.method === 'response_url' && c.responseId === id && pred(c), timeoutMs),
      waitUntil,
      async waitJob(jobId, pred, what, timeoutMs = 20_000) {
        let last: JobRecord | undefined;
        await waitUntil(
          async () => {
            last = await rt.jobs.store.get(jobId);
            return last !== undefined && pred(last);
          },
          () => `job ${jobId} ${what} (last state: ${last?.state ?? 'missing'}${last?.error ? `, error: ${last.error}` : ''})`,
          timeoutMs,
        );
        if (!last) throw new Error('unreachable');
        return last;
      },
      async progressMessage(jobId) {
        const job = await rt.jobs.store.get(jobId);
        const origin = job?.origin;
        if (!origin?.channel || !origin.progressTs) return undefined;
        return fake.message(origin.channel, origin.progressTs);
      },
      thread: (threadTs, channel = CHANNEL) =>
        fake
          .messages()
          .filter((m) => m.channel === channel && m.thread_ts === threadTs)
          .sort((a, b) => Number(a.ts.split('.')[1]) - Number(b.ts.split('.')[1])),
      progressMessagesOf: (jobId, channel = CHANNEL) =>
        fake
          .messages()
          .filter((m) => m.channel === channel && m.thread_ts === undefined)
          .filter((m) => (m.blocks ?? []).some((b) => JSON.stringify(b).includes(`Job \`${jobId}\``)) && JSON.stringify(m.blocks).includes('rso_progress')),
      approvalButtons(jobId) {
        const candidates = fake
          .messages()
          .filter(hasButtons)
          .filter((m) => {
            const raw = buttonValue(m, 'rso_approve');
            return raw !== undefined && (JSON.parse(raw) as ActionValue).jobId === jobId;
          })
          .sort((a, b) => Number(b.ts.split('.')[1]) - Number(a.ts.split('.')[1]));
        const message = candidates[0];
        const raw = message ? buttonValue(message, 'rso_approve') : undefined;
        if (!message || raw === undefined) return undefined;
        return { message, raw, value: JSON.parse(raw) as ActionValue };
      },
      async statements(f = {}) {
        const out: Array<{ id: string; sql: string; status: string; name?: string }> = [];
        let token: string | undefined;
        do {
          const r = await client.send(new ListStatementsCommand({ MaxResults: 100, NextToken: token, ...(f.name ? { StatementName: f.name } : {}) }));
          for (const s of r.Statements ?? []) {
            const sql = s.QueryString ?? (s.QueryStrings ?? []).join(';\n');
            if (f.sql && !f.sql.test(sql)) continue;
            out.push({ id: s.Id ?? '', sql, status: s.Status ?? '', ...(s.StatementName ? { name: s.StatementName } : {}) });
          }
          token = r.NextToken;
        } while (token);
        return out;
      },
      async queueCounts() {
        return rt.jobs.queue.getJobCounts('active', 'completed', 'delayed', 'failed', 'prioritized', 'waiting', 'waiting-children');
      },
      mainEnv(extra = {}) {
        const p = policyConfig;
        return {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          REDIS_URL: redisUrl,
          REDIS_PREFIX: prefix,
          AWS_ENDPOINT_URL: sandbox.endpoint,
          AWS_REGION: 'us-west-2',
          REDSHIFT_CLUSTER_ID: 'sandbox-cluster',
          REDSHIFT_DB_USER: 'awsuser',
          REDSHIFT_DATABASE: 'dev',
          SCHEMAS_DIR: schemasDir,
          SLACK_SIGNING_SECRET: secret,
          SLACK_BOT_TOKEN: TOKEN,
          SLACK_API_URL: fake.url,
          OPERATORS: (p.operators ?? []).join(','),
          APPROVERS: (p.approvers ?? []).join(','),
          ALLOW_SELF_APPROVAL: String(p.allowSelfApproval ?? false),
          LOG_LEVEL: 'info',
          ...extra,
        };
      },
      async spawnWorker(extra = {}) {
        const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/main.ts'), '--role', 'worker'], {
          cwd: REPO,
          env: h.mainEnv({ WORKER_LOCK_DURATION_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000', WORKER_CONCURRENCY: '1', ...extra }),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
        const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
        const wp: WorkerProcess = {
          child,
          pid: child.pid ?? -1,
          output: () => out,
          async kill9() {
            if (child.exitCode !== null || child.signalCode !== null) return;
            child.kill('SIGKILL');
            await exited;
          },
          async stop() {
            if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
            child.kill('SIGTERM');
            return exited;
          },
        };
        children.push(wp);
        await waitUntil(() => out.includes('"msg":"redshift-ops started"') || child.exitCode !== null, 'the worker process to start', 30_000);
        if (!out.includes('"msg":"redshift-ops started"')) throw new Error(`the worker process did not start (exit ${child.exitCode}):\n${out}`);
        return wp;
      },
      close: closeAll,
    };
    return h;
  } catch (e) {
    await closeAll();
    throw e;
  }
}
