/**
 * The loopback AWS sandbox in tests: a unique PostgreSQL database per test file (dropped afterwards) or an embedded
 * PGlite, the sandbox on a free port, and a real RedshiftDataClient pointed at it.
 *
 *   const sb = withSandbox('postgres');          // registers beforeAll/afterAll in the current describe/file
 *   it('…', async () => { const rows = await sb.query('select 1 as one'); });
 *
 * PostgreSQL: TEST_PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres) is used only to create and drop
 * the test's own database `rso_<purpose>_<pid>_<random>` and roles (temporaryRole).
 */
import { randomBytes } from 'node:crypto';
import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  type DescribeStatementCommandOutput,
  ExecuteStatementCommand,
  type Field,
  GetStatementResultCommand,
  RedshiftDataClient,
  type SqlParameter,
} from '@aws-sdk/client-redshift-data';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';

export type SandboxBackend = 'postgres' | 'pglite';

export const ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Connection fields every Data API call in tests uses (a provisioned cluster with a database user). */
export const TARGET = { ClusterIdentifier: 'sandbox-cluster', Database: 'dev', DbUser: 'awsuser' } as const;

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * Create an empty PostgreSQL database with a unique name (on TEST_PG_ADMIN_URL's server, or `adminUrl`'s: a fault test's own
 * cluster); drop() removes it (terminating leftover connections).
 */
export async function createTestDatabase(purpose: string, adminUrl: string = ADMIN_URL): Promise<TestDatabase> {
  const ADMIN_URL = adminUrl;
  const name = `rso_${purpose.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const a = new pg.Client({ connectionString: ADMIN_URL });
      await a.connect();
      try {
        await a.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}

export function dataClient(endpoint: string, opts: { maxAttempts?: number } = {}): RedshiftDataClient {
  return new RedshiftDataClient({
    region: 'us-west-2',
    endpoint,
    credentials: { accessKeyId: 'AKIASANDBOXTEST', secretAccessKey: 'sandbox-secret' },
    maxAttempts: opts.maxAttempts ?? 1,
  });
}

const DONE = new Set(['FINISHED', 'FAILED', 'ABORTED']);

/** Poll DescribeStatement with a short backoff until the statement (or batch) is FINISHED, FAILED or ABORTED. */
export async function waitDone(client: RedshiftDataClient, id: string, timeoutMs = 30_000): Promise<DescribeStatementCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  let pause = 5;
  for (;;) {
    const d = await client.send(new DescribeStatementCommand({ Id: id }));
    if (d.Status && DONE.has(d.Status)) return d;
    if (Date.now() > deadline) throw new Error(`statement ${id} still ${d.Status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(100, pause * 2);
  }
}

/** Poll until a statement reaches the given status (e.g. STARTED), failing if it ends first. */
export async function waitStatus(client: RedshiftDataClient, id: string, status: string, timeoutMs = 30_000): Promise<DescribeStatementCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await client.send(new DescribeStatementCommand({ Id: id }));
    if (d.Status === status) return d;
    if (d.Status && DONE.has(d.Status)) throw new Error(`statement ${id} ended ${d.Status} (${d.Error ?? ''}) before reaching ${status}`);
    if (Date.now() > deadline) throw new Error(`statement ${id} still ${d.Status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A Field union as a plain JS value. */
export function fieldValue(f: Field): unknown {
  if (f.isNull) return null;
  if (f.booleanValue !== undefined) return f.booleanValue;
  if (f.longValue !== undefined) return f.longValue;
  if (f.doubleValue !== undefined) return f.doubleValue;
  if (f.stringValue !== undefined) return f.stringValue;
  return f.blobValue;
}

export interface SandboxHandle {
  readonly sandbox: Sandbox;
  readonly client: RedshiftDataClient;
  readonly backend: SandboxBackend;
  /** ExecuteStatement + wait; throws with the statement's Error unless FINISHED (or `expect` says otherwise). */
  run(sql: string, params?: Record<string, string>, opts?: { expect?: 'FINISHED' | 'FAILED' | 'ABORTED'; name?: string }): Promise<DescribeStatementCommandOutput>;
  /** BatchExecuteStatement + wait. */
  batch(sqls: string[], opts?: { expect?: 'FINISHED' | 'FAILED' | 'ABORTED' }): Promise<DescribeStatementCommandOutput>;
  /** run + every page of GetStatementResult, as objects keyed by column name. */
  query(sql: string, params?: Record<string, string>): Promise<Record<string, unknown>[]>;
  /** All pages of a finished statement's (or sub-statement's) result. */
  rows(id: string): Promise<{ rows: Record<string, unknown>[]; pages: number; columns: string[] }>;
}

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/**
 * A PostgreSQL role (NOLOGIN) of the file's own, e.g. to grant a table to: created in a beforeAll, dropped in an
 * afterAll. Call it before withSandbox / the harness: after-hooks run in reverse order, so the role is dropped after
 * the database whose grants name it.
 */
export function temporaryRole(prefix: string): string {
  const role = `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`;
  beforeAll(() => adminQuery(`create role ${role} nologin`));
  afterAll(() => adminQuery(`drop role if exists ${role}`));
  return role;
}

export function toParams(params: Record<string, string> | undefined): SqlParameter[] | undefined {
  if (!params) return undefined;
  return Object.entries(params).map(([name, value]) => ({ name, value }));
}

/**
 * Start a sandbox for the enclosing describe (or file): beforeAll creates the database and starts the server,
 * afterAll closes both. `pageSize` sets GetStatementResult's page size.
 */
export function withSandbox(backend: SandboxBackend, opts: { pageSize?: number; purpose?: string } = {}): SandboxHandle {
  let sandbox: Sandbox | undefined;
  let client: RedshiftDataClient | undefined;
  let db: TestDatabase | undefined;

  beforeAll(async () => {
    if (backend === 'postgres') db = await createTestDatabase(opts.purpose ?? 'sandbox');
    sandbox = await startSandbox({
      ...(db ? { databaseUrl: db.url } : {}),
      ...(opts.pageSize !== undefined ? { pageSize: opts.pageSize } : {}),
    });
    client = dataClient(sandbox.endpoint);
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    await sandbox?.close();
    await db?.drop();
  }, 60_000);

  const need = (): { sandbox: Sandbox; client: RedshiftDataClient } => {
    if (!sandbox || !client) throw new Error('withSandbox: the sandbox is not started (use the handle inside tests)');
    return { sandbox, client };
  };

  const handle: SandboxHandle = {
    backend,
    get sandbox() {
      return need().sandbox;
    },
    get client() {
      return need().client;
    },
    async run(sql, params, o = {}) {
      const c = need().client;
      const { Id } = await c.send(new ExecuteStatementCommand({ ...TARGET, Sql: sql, Parameters: toParams(params), ...(o.name ? { StatementName: o.name } : {}) }));
      const d = await waitDone(c, Id!);
      const want = o.expect ?? 'FINISHED';
      if (d.Status !== want) throw new Error(`expected ${want}, got ${d.Status}: ${d.Error ?? ''}\nSQL: ${sql}`);
      return d;
    },
    async batch(sqls, o = {}) {
      const c = need().client;
      const { Id } = await c.send(new BatchExecuteStatementCommand({ ...TARGET, Sqls: sqls }));
      const d = await waitDone(c, Id!);
      const want = o.expect ?? 'FINISHED';
      if (d.Status !== want) throw new Error(`expected ${want}, got ${d.Status}: ${d.Error ?? ''}`);
      return d;
    },
    async rows(id) {
      const c = need().client;
      const rows: Record<string, unknown>[] = [];
      let token: string | undefined;
      let pages = 0;
      let columns: string[] = [];
      do {
        const r = await c.send(new GetStatementResultCommand({ Id: id, NextToken: token }));
        pages++;
        columns = (r.ColumnMetadata ?? []).map((m) => m.name ?? '');
        for (const rec of r.Records ?? []) {
          const o: Record<string, unknown> = {};
          rec.forEach((f, k) => {
            o[columns[k] ?? `col${k}`] = fieldValue(f);
          });
          rows.push(o);
        }
        token = r.NextToken;
      } while (token);
      return { rows, pages, columns };
    },
    async query(sql, params) {
      const d = await handle.run(sql, params);
      if (!d.HasResultSet) return [];
      return (await handle.rows(d.Id!)).rows;
    },
  };
  return handle;
}
