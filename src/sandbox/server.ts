/**
 * The loopback AWS sandbox: one HTTP server speaking the AWS JSON 1.1 protocol (`POST /`, `X-Amz-Target:
 * <Service>.<Operation>`, JSON body; errors as HTTP 4xx with `{"__type": …, "message": …}`), so the real SDK clients
 * run unchanged with `endpoint` set to it. SigV4 signatures are accepted without checking.
 *
 * Services are mounted by target prefix: `RedshiftData` (redshift-data.ts), `AmazonDMSv20160101` (DMS, dms.ts) and
 * `Logs_20140328` (CloudWatch Logs, logs.ts); more can be added with `sandbox.mount(prefix, service)`. The DMS and
 * Logs sandboxes are also reachable directly (`sandbox.dms`, `sandbox.logs`: seed tasks, fault knobs), and
 * `sandbox.startReplication(registry)` seeds the registry's DMS tasks and starts apply loops (replication.ts).
 *
 * Admin endpoints (not AWS): `GET /_sandbox/health`, `GET /_sandbox/faults`, `POST /_sandbox/faults` (JSON: any subset of
 * the fault knobs, `{"reset": true}` restores the defaults). `/_sandbox/slack/…` stands in for the Slack Web API and
 * response URLs (slack.ts), so `npm start` can be tried without a Slack workspace.
 *
 * `POST /_sandbox/faults` also drives the running replication (faults.ts `replicationAction`, replication-knobs.ts):
 * `{"replication": [{"action": …, "table": …}, …]}`, run in order after the knobs are set; the answer is the knobs plus
 * `replication: [{action, tables, replayedKeys?, rowsLoaded?}]`. Actions:
 *   {"action": "binlogRetention", "ms": 2000 | null, "table"?: t}   source binlog retention (changes not read in time are lost)
 *   {"action": "tableError", "table": t, "reason"?: …}               DMS table → `Table error` now
 *   {"action": "fatalError", "table": t, "reason"?: …}               DMS task → failed, Stop Reason FATAL_ERROR
 *   {"action": "failNextResume", "table": t, "message"?: …}          DMS: the next resume-processing fails
 *   {"action": "logErrorsOnResume", "table": t, "n": 3}              DMS: n `]E:` lines after the next resume
 *   {"action": "replayDuplicates", "table": t, "n": 5}               the last n applied inserts written again (duplicate keys)
 *   {"action": "cdcOutage", "table": t, "down": true | false}        the CDC service stops / resumes reading the binlog
 *   {"action": "cdcReload", "table": t}                              "reload this table" on the CDC service's dashboard:
 *                                                                    recreate if missing, empty, copy the source, continue
 * and `{"sourceUnreachable": true}` makes a DMS TestConnection to the embedded source (`sandbox-source`) fail; the
 * warehouse knob `warehouseUnreachableForMs` makes one to the Redshift target fail. A bad action (unknown table, a
 * DMS-only action on a CDC table) is a 400 and changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import type { AwsJsonResponse } from './aws-fault.js';
import { bootstrapCatalog, resetSession } from './catalog.js';
import { type Db, openDb, redactUrl, toObjects } from './db.js';
import { type FaultKnobs, applyFaultPatch, defaultFaults, faultPatch, takeActiveStatementsExceeded, takeThrottle } from './faults.js';
import { type MaintenanceRecord, REDSHIFT_DATA_TARGET_PREFIX, RedshiftDataService, type Submission } from './redshift-data.js';
import { DMS_TARGET_PREFIX, type DmsDelays, DmsSandbox } from './dms.js';
import { sandboxProbe } from './dms-endpoints.js';
import { ReplicationKnobError, planReplicationActions } from './replication-knobs.js';
import { LOGS_TARGET_PREFIX, type LogsSandboxOptions, LogsSandbox } from './logs.js';
import { type Replication, type ReplicationOptions, startReplication } from './replication.js';
import { type SlackRecord, SlackSandbox } from './slack.js';
import type { Registry } from '../schema/registry.js';
import { readBody } from './http-body.js';

export type { FaultKnobs, FailStatementRule, TableHealth } from './faults.js';
export type { MaintenanceRecord } from './redshift-data.js';
export type { Replication, ReplicationOptions, ApplyLoop, LoopSettings } from './replication.js';

/** DMS transition times in the sandbox: realistic in shape, short so a demo and the tests do not wait. */
export const SANDBOX_DMS_DELAYS: DmsDelays = { createMs: 300, startMs: 300, stopMs: 300, fullLoadMs: 300 };

/** Anything that answers `<prefix>.<Operation>` requests (the DMS and Logs sandboxes have this shape too). */
export interface AwsJsonService {
  handle(target: string, body: unknown): Promise<AwsJsonResponse>;
  close?(): unknown;
}

export interface SandboxOptions {
  /** postgres://… (a database the sandbox owns), `pglite:<dir>`, or undefined for an in-memory PGlite */
  databaseUrl?: string;
  /** embedded PGlite only: start from this data directory tarball (Sandbox.dumpDataDir of an earlier start) */
  pgliteDataDir?: Blob;
  /** 0 (default) = any free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** rows per GetStatementResult page (default 1000) */
  pageSize?: number;
  /** PostgreSQL connections for concurrent statements (default 10) */
  poolSize?: number;
  logger?: Logger;
  /** DMS transition times (default SANDBOX_DMS_DELAYS: 300 ms each) */
  dmsDelays?: Partial<DmsDelays>;
  /** CloudWatch Logs paging (default: 5 events per FilterLogEvents page, every 3rd page empty with a nextToken) */
  logs?: Pick<LogsSandboxOptions, 'pageSize' | 'scanBudget' | 'emptyPageEvery'>;
  /** called for every message the bot sends to the Slack stand-in (npm run sandbox prints them) */
  onSlackMessage?: (m: SlackRecord) => void;
}

export interface Sandbox {
  /** e.g. http://127.0.0.1:45123 — pass as `endpoint` to the SDK clients */
  endpoint: string;
  /** mutable fault knobs (also settable over HTTP: POST /_sandbox/faults) */
  faults: FaultKnobs;
  /** which database backs the Data API */
  backend: 'postgres' | 'pglite';
  /** embedded PGlite: its data directory as a tarball, to start from later (`pgliteDataDir`); undefined on PostgreSQL */
  dumpDataDir(): Promise<Blob | undefined>;
  /** Direct database access for tests, in a session like a Data API statement's (search_path, UTC, knobs); no translation. */
  sql(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  /** Serve another AWS JSON service on this endpoint. */
  mount(targetPrefix: string, service: AwsJsonService): void;
  /** every VACUUM / ANALYZE the Data API ran, oldest first: mode, table, and whether it ran inside a transaction */
  maintenanceLog: MaintenanceRecord[];
  /** every ExecuteStatement / BatchExecuteStatement the Data API accepted, oldest first (deduplicated by ClientToken or not) */
  submissions(): readonly Submission[];
  /** the DMS sandbox served here (seedTask, failNextResume, injectLogErrorsOnResume, throttleNext, getTask…) */
  dms: DmsSandbox;
  /** the CloudWatch Logs sandbox served here (events, append, throttleNext, emptyPagesServed…) */
  logs: LogsSandbox;
  /** the Slack Web API stand-in served at `<endpoint>/_sandbox/slack/api/` (messages the bot sent) */
  slack: SlackSandbox;
  /**
   * Seed the registry's DMS tasks (running) and start apply loops: a DmsApplyLoop on each dms table and CdcApplyLoops on
   * the `cdc` tables, writing through this sandbox's database. close() stops them.
   */
  startReplication(registry: Registry, opts?: ReplicationOptions): Promise<Replication>;
  close(): Promise<void>;
}

const MAX_BODY = 16 * 1024 * 1024;

function send(res: ServerResponse, status: number, body: unknown, requestId: string): void {
  const text = JSON.stringify(body ?? {});
  const headers: Record<string, string | number> = {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
  };
  if (status >= 400 && body && typeof body === 'object' && '__type' in body) headers['x-amzn-errortype'] = String((body as { __type: unknown }).__type);
  res.writeHead(status, headers);
  res.end(text);
}


/** Start the sandbox: open the database, create the sandbox catalog, listen. */
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const log = opts.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'silent' });
  const faults = defaultFaults();
  const db: Db = await openDb({
    ...(opts.databaseUrl !== undefined ? { databaseUrl: opts.databaseUrl } : {}),
    ...(opts.poolSize !== undefined ? { poolSize: opts.poolSize } : {}),
    ...(opts.pgliteDataDir !== undefined ? { pgliteDataDir: opts.pgliteDataDir } : {}),
  });
  try {
    const s = await db.session();
    try {
      await bootstrapCatalog(s);
    } finally {
      await s.release();
    }
  } catch (e) {
    await db.close();
    throw new Error(`could not create the sandbox catalog: ${e instanceof Error ? e.message : String(e)}`);
  }
  const maintenanceLog: MaintenanceRecord[] = [];
  const data = new RedshiftDataService({ db, faults, maintenanceLog, logger: log.child({ service: 'redshift-data' }), ...(opts.pageSize !== undefined ? { pageSize: opts.pageSize } : {}) });
  await data.init();
  const logsService = new LogsSandbox({ ...(opts.logs ?? {}), ingestionDelayMs: () => faults.logIngestionDelayMs });
  const dmsService = new DmsSandbox({
    logs: logsService,
    delays: { ...SANDBOX_DMS_DELAYS, ...(opts.dmsDelays ?? {}) },
    // TestConnection: a real MariaDB host is connected to; the embedded source and the warehouse follow the fault knobs
    probe: sandboxProbe({ warehouseReachable: () => faults.warehouseUnreachableUntil <= Date.now(), embeddedSourceReachable: () => !faults.sourceUnreachable }),
  });
  const services = new Map<string, AwsJsonService>([
    [REDSHIFT_DATA_TARGET_PREFIX, data],
    [DMS_TARGET_PREFIX, dmsService],
    [LOGS_TARGET_PREFIX, logsService],
  ]);
  const replications: Replication[] = [];
  const slack = new SlackSandbox(opts.onSlackMessage);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/_sandbox/health' && req.method === 'GET') {
      send(res, 200, { ok: true, backend: db.kind, services: [...services.keys()] }, requestId);
      return;
    }
    if (url?.startsWith('/_sandbox/slack/') && (await slack.handle(req, res, new URL(req.url ?? '/', 'http://sandbox')))) return;
    if (url === '/_sandbox/faults') {
      if (req.method === 'GET') {
        send(res, 200, faults, requestId);
        return;
      }
      if (req.method === 'POST') {
        let body: unknown;
        try {
          const text = await readBody(req, MAX_BODY);
          body = text.trim() === '' ? {} : JSON.parse(text);
        } catch {
          send(res, 400, { __type: 'SerializationException', message: 'the fault patch must be a JSON object' }, requestId);
          return;
        }
        const p = faultPatch.safeParse(body);
        if (!p.success) {
          const lines = p.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`);
          send(res, 400, { __type: 'ValidationException', message: `invalid fault patch — ${lines.join('; ')}` }, requestId);
          return;
        }
        const { replication: actions, ...knobs } = p.data;
        let run;
        try {
          // every action is resolved before anything changes: a bad one leaves knobs and loops as they were
          run = actions !== undefined ? planReplicationActions(replications, actions) : undefined;
        } catch (e) {
          if (e instanceof ReplicationKnobError) {
            send(res, 400, { __type: 'ValidationException', message: `invalid fault patch — replication: ${e.message}` }, requestId);
            return;
          }
          throw e;
        }
        applyFaultPatch(faults, knobs);
        const results = run !== undefined ? await run() : undefined;
        log.info({ faults, replication: results }, 'fault knobs changed');
        send(res, 200, results !== undefined ? { ...faults, replication: results } : faults, requestId);
        return;
      }
    }
    if (req.method !== 'POST' || url !== '/') {
      send(res, 404, { __type: 'UnknownOperationException', message: `the sandbox serves AWS JSON requests as POST / (got ${req.method} ${url})` }, requestId);
      return;
    }
    const target = req.headers['x-amz-target'];
    if (typeof target !== 'string' || !target.includes('.')) {
      send(res, 400, { __type: 'UnknownOperationException', message: 'missing X-Amz-Target header (<Service>.<Operation>)' }, requestId);
      return;
    }
    const prefix = target.slice(0, target.lastIndexOf('.'));
    const service = services.get(prefix);
    if (!service) {
      send(res, 400, { __type: 'UnknownOperationException', message: `the sandbox does not serve ${prefix} (it serves ${[...services.keys()].join(', ')})` }, requestId);
      return;
    }
    let body: unknown;
    try {
      const text = await readBody(req, MAX_BODY);
      body = text.trim() === '' ? {} : JSON.parse(text);
    } catch (e) {
      send(res, 400, { __type: 'SerializationException', message: `the request body is not JSON: ${e instanceof Error ? e.message : String(e)}` }, requestId);
      return;
    }
    if (prefix === REDSHIFT_DATA_TARGET_PREFIX && faults.warehouseUnreachableUntil > Date.now()) {
      log.debug({ target }, 'warehouse unreachable (fault knob): connection closed');
      req.socket.destroy();
      return;
    }
    if (prefix === REDSHIFT_DATA_TARGET_PREFIX && takeActiveStatementsExceeded(faults, target.slice(prefix.length + 1))) {
      send(res, 400, { __type: 'ActiveStatementsExceededException', message: 'The number of active statements exceeds the limit.' }, requestId);
      return;
    }
    if (takeThrottle(faults, target.slice(prefix.length + 1))) {
      log.debug({ target }, 'throttled (fault knob)');
      send(res, 400, { __type: 'ThrottlingException', message: 'Rate exceeded (sandbox fault knob throttleNext)' }, requestId);
      return;
    }
    const started = Date.now();
    const out = await service.handle(target, body);
    log.debug({ target, status: out.status, ms: Date.now() - started }, 'aws call');
    send(res, out.status, out.body, requestId);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log.error({ err: e }, 'sandbox request failed');
      if (!res.headersSent) send(res, 500, { __type: 'InternalServerException', message: `sandbox internal error: ${e instanceof Error ? e.message : String(e)}` }, randomUUID());
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
  log.info({ endpoint, backend: db.kind, database: opts.databaseUrl ? redactUrl(opts.databaseUrl) : 'pglite (memory)' }, 'sandbox listening');

  let closed: Promise<void> | undefined;
  const sql = async (text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> => {
    const s = await db.session();
    try {
      await resetSession(s, { diskCapacityMb: faults.diskCapacityMb, tableHealth: faults.tableHealth });
      const rows = toObjects(await s.query(text, params));
      // writes made here (replication loops, seeds, tests) reach svv_table_info's metadata counts at once, as the Data
      // API's own statements do (redshift-data.ts publishStats)
      await s.query('select pg_stat_force_next_flush()').catch(() => undefined);
      return { rows };
    } finally {
      await s.release();
    }
  };
  return {
    endpoint,
    faults,
    maintenanceLog,
    backend: db.kind,
    dumpDataDir: async () => (db.dumpDataDir ? db.dumpDataDir() : undefined),
    sql,
    submissions: () => data.submissions(),
    dms: dmsService,
    logs: logsService,
    slack,
    async startReplication(registry, ropts) {
      if (closed) throw new Error('the sandbox is closed');
      const r = await startReplication({ dms: dmsService, db: { query: sql } }, registry, ropts);
      replications.push(r);
      return r;
    },
    mount(targetPrefix, service) {
      if (services.has(targetPrefix)) throw new Error(`a service is already mounted at ${targetPrefix}`);
      services.set(targetPrefix, service);
    },
    close() {
      closed ??= (async () => {
        await Promise.allSettled(replications.map((r) => r.stop()));
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await data.close();
        for (const [prefix, s] of services) if (prefix !== REDSHIFT_DATA_TARGET_PREFIX) await s.close?.();
        await db.close();
        log.info('sandbox closed');
      })();
      return closed;
    },
  };
}
