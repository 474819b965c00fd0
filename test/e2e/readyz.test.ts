/**
 * `/healthz` (live) and `/readyz` (Redis PING and `select 1` through the Data API, each with a timeout) on the bot's
 * Slack HTTP receiver, and on the small server a worker runs — against real Redis and the sandbox, whose fault knobs
 * make the warehouse fail or hang.
 */
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthzRoute, readyzRoute, startOpsServer } from '../../src/bot/http-routes.js';
import { readinessCheck, type Readiness } from '../../src/bot/readiness.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { createSlackApp, type SlackApp } from '../../src/slack/app.js';
import { createWarehouse, type RedshiftDataWarehouse } from '../../src/warehouse/redshift-data.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let sandbox: Sandbox;
let wh: RedshiftDataWarehouse;
let redis: Redis;
let app: SlackApp;
let base: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  wh = createWarehouse({ warehouse: { target: { kind: 'provisioned', clusterId: 'sandbox', dbUser: 'sandbox' }, database: 'dev' }, aws: { region: 'us-west-2', endpoint: sandbox.endpoint } }, { env: {} });
  redis = new Redis(REDIS_URL);
  app = createSlackApp({
    signingSecret: 'readyz-secret',
    botToken: 'xoxb-readyz',
    port: 0,
    services: { command: async () => undefined, action: async () => undefined },
    logger: pino({ level: 'silent' }),
    routes: [readyzRoute(readinessCheck({ redis, warehouse: wh, timeoutMs: 1_500 }))],
  });
  const { port } = await app.start();
  base = `http://127.0.0.1:${port}`;
}, 60_000);

afterAll(async () => {
  await app?.stop();
  redis?.disconnect();
  wh?.close();
  await sandbox?.close();
});

async function readyz(url = base): Promise<{ status: number; body: Readiness }> {
  const r = await fetch(`${url}/readyz`);
  return { status: r.status, body: (await r.json()) as Readiness };
}

describe('/readyz on the Slack receiver', () => {
  it('is 200 when Redis and the warehouse answer, with what it checked', async () => {
    const r = await readyz();
    expect(r.status).toBe(200);
    expect(r.body.ok).toBe(true);
    expect(r.body.checks.redis).toMatchObject({ ok: true });
    expect(r.body.checks.warehouse).toMatchObject({ ok: true });
  });

  it('is 503 naming the warehouse error when select 1 fails; /healthz stays 200', async () => {
    sandbox.faults.failStatements.push({ match: 'select 1', error: 'connection to the leader node lost' });
    try {
      const r = await readyz();
      expect(r.status).toBe(503);
      expect(r.body.ok).toBe(false);
      expect(r.body.checks.redis.ok).toBe(true);
      expect(r.body.checks.warehouse.ok).toBe(false);
      expect(r.body.checks.warehouse.error).toContain('connection to the leader node lost');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      sandbox.faults.failStatements.length = 0;
    }
    expect((await readyz()).status).toBe(200);
  });

  it('is 503 within its timeout when the warehouse hangs', async () => {
    sandbox.faults.statementDelayMs = 20_000;
    try {
      const started = Date.now();
      const r = await readyz();
      const took = Date.now() - started;
      expect(r.status).toBe(503);
      expect(r.body.checks.warehouse.error).toMatch(/did not answer within 1500 ms/);
      expect(took).toBeLessThan(6_000); // 1.5 s timeout, ≥ 3× headroom
    } finally {
      sandbox.faults.statementDelayMs = 0;
    }
  });
});

describe('/healthz and /readyz on a worker (its own server)', () => {
  it('serves both; /readyz is 503 naming Redis when Redis is gone', async () => {
    const gone = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null }); // nothing listens there
    gone.on('error', () => undefined);
    const ops = await startOpsServer(0, [healthzRoute(), readyzRoute(readinessCheck({ redis: gone, warehouse: wh, timeoutMs: 1_500 }))]);
    try {
      const url = `http://127.0.0.1:${ops.port}`;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/nope`)).status).toBe(404);
      const r = await readyz(url);
      expect(r.status).toBe(503);
      expect(r.body.checks.redis.ok).toBe(false);
      expect(r.body.checks.redis.error).toBeTruthy();
      expect(r.body.checks.warehouse.ok).toBe(true);
    } finally {
      await ops.close();
      gone.disconnect();
    }
  });
});
