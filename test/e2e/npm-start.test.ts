/**
 * `npm start` as a user runs it: npm → the bot process. SIGTERM sent to npm (what a terminal's Ctrl-C, systemd or a
 * container runtime do) must reach the bot, which closes its port and exits; no node process may be left listening.
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeysWithPrefix } from '../../src/queue/connection.js';
import { BASE_ENV, eventually, pidAlive, portOpen, startChild, type Child } from '../support/processes.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('npm start', () => {
  const prefix = `rso-npmstart-${randomBytes(3).toString('hex')}`;
  const children: Child[] = [];
  let schemas: string | undefined;
  afterAll(async () => {
    for (const c of children) c.kill();
    const r = new Redis(REDIS_URL);
    await deleteKeysWithPrefix(r, prefix);
    r.disconnect();
    if (schemas) await rm(schemas, { recursive: true, force: true });
  });

  it('SIGTERM to npm stops the bot: the port closes and the node process is gone', async () => {
    schemas = await mkdtemp(path.join(tmpdir(), 'rso-npmstart-schemas-'));
    await cp(path.join(ROOT, 'schemas'), schemas, { recursive: true });
    const npm = startChild('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: {
        ...BASE_ENV(),
        REDSHIFT_CLUSTER_ID: 'sandbox',
        REDSHIFT_DB_USER: 'sandbox',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9', // never called: the bot only starts here
        SLACK_SIGNING_SECRET: 'npm-start-secret',
        SLACK_BOT_TOKEN: 'xoxb-npm-start',
        REDIS_URL,
        REDIS_PREFIX: prefix,
        SCHEMAS_DIR: schemas,
        PORT: '0',
        BULL_BOARD_USER: 'ops',
        BULL_BOARD_PASSWORD: 'npm-start-board-password',
      },
    });
    children.push(npm);
    const listening = await npm.waitForLog('slack receiver listening on /slack/events', 90_000);
    const started = await npm.waitForLog('redshift-ops started', 30_000);
    const port = Number(listening.port);
    const pid = Number(started.pid);
    expect(port).toBeGreaterThan(0);
    expect(pid).not.toBe(npm.proc.pid);
    expect(await portOpen(port)).toBe(true);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    // the queue dashboard is on, behind basic auth (BULL_BOARD_USER / BULL_BOARD_PASSWORD)
    expect((await fetch(`http://127.0.0.1:${port}/admin/queues`)).status).toBe(401);
    const board = await fetch(`http://127.0.0.1:${port}/admin/queues/api/queues`, { headers: { authorization: `Basic ${Buffer.from('ops:npm-start-board-password').toString('base64')}` } });
    expect(board.status).toBe(200);
    const boardJson = JSON.stringify(await board.json());
    expect(boardJson).toContain('"name":"runbooks"');
    expect(boardJson).toContain('"name":"hygiene"'); // the weekly maintenance sweeps' queue

    const sent = Date.now();
    npm.proc.kill('SIGTERM');
    await npm.exited(20_000);
    // the bot itself must be gone too, and its port closed (3× headroom over the ~2 s it takes here)
    expect(await eventually(() => !pidAlive(pid), 15_000), `node process ${pid} still running after SIGTERM to npm`).toBe(true);
    expect(await portOpen(port)).toBe(false);
    expect(npm.stdout()).toContain('"msg":"shutting down: running steps finish first"');
    const tookMs = Date.now() - sent;
    console.log(`npm start: SIGTERM to npm → bot gone and port closed in ${tookMs} ms`);
    expect(tookMs).toBeLessThan(20_000);
  }, 150_000);

  it('a worker (`--role worker`) serves /healthz and /readyz on PORT for container health checks, and stops on SIGTERM', async () => {
    const npm = startChild('npm', ['start', '--silent', '--', '--role', 'worker'], {
      cwd: ROOT,
      env: {
        ...BASE_ENV(),
        REDSHIFT_CLUSTER_ID: 'sandbox',
        REDSHIFT_DB_USER: 'sandbox',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9', // nothing listens: /readyz must say the warehouse is unreachable
        SLACK_BOT_TOKEN: 'xoxb-npm-start',
        REDIS_URL,
        REDIS_PREFIX: prefix,
        SCHEMAS_DIR: schemas!,
        PORT: '0',
      },
    });
    children.push(npm);
    const serving = await npm.waitForLog('serving /healthz and /readyz', 90_000);
    const started = await npm.waitForLog('redshift-ops started', 30_000);
    const port = Number(serving.port);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { checks: { redis: { ok: boolean }; warehouse: { ok: boolean; error?: string } } };
    expect(body.checks.redis.ok).toBe(true);
    expect(body.checks.warehouse.ok).toBe(false);
    expect(body.checks.warehouse.error).toMatch(/ECONNREFUSED|select 1/);
    npm.proc.kill('SIGTERM');
    await npm.exited(20_000);
    expect(await eventually(() => !pidAlive(Number(started.pid)), 15_000)).toBe(true);
    expect(await portOpen(port)).toBe(false);
  }, 150_000);
});
