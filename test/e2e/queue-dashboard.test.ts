/**
 * Bull Board at /admin/queues on the bot's HTTP receiver, behind basic auth, driven by a real headless Chromium
 * (Debian's /usr/bin/chromium through puppeteer-core): without credentials it is refused (401); with them the runbooks
 * queue and a job in it are visible. Screenshots are written to a temp dir (the path is printed).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueDashboardRoute } from '../../src/bot/queue-dashboard.js';
import { deleteKeysWithPrefix } from '../../src/queue/connection.js';
import { DEFAULT_QUEUE_NAME } from '../../src/queue/queue.js';
import { createSlackApp, type SlackApp } from '../../src/slack/app.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const AUTH = { user: 'ops', password: 'a-long-dashboard-password' };

let redis: Redis;
let queue: Queue;
let app: SlackApp;
let browser: Browser;
let base: string;
const prefix = `rso-board-${randomBytes(3).toString('hex')}`;
const shots = mkdtempSync(path.join(tmpdir(), 'rso-bull-board-'));

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run installs it), or set CHROMIUM_PATH`);
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  queue = new Queue(DEFAULT_QUEUE_NAME, { connection: redis, prefix });
  // a job as JobQueue.dispatch adds it: named for its runbook, carrying the job record's id
  await queue.add('modify', { jobId: '42' }, { jobId: 'modify-42-a1' });
  app = createSlackApp({
    signingSecret: 'board-secret',
    botToken: 'xoxb-board',
    port: 0,
    services: { command: async () => undefined, action: async () => undefined },
    logger: pino({ level: 'silent' }),
    routes: [await queueDashboardRoute({ queues: [queue], auth: AUTH })],
  });
  const { port } = await app.start();
  base = `http://127.0.0.1:${port}`;
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await queue?.close();
  if (redis) {
    await deleteKeysWithPrefix(redis, prefix);
    redis.disconnect();
  }
});

describe('queue dashboard (Bull Board)', () => {
  it('refuses requests without the right credentials', async () => {
    const none = await fetch(`${base}/admin/queues`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    const wrong = await fetch(`${base}/admin/queues/api/queues`, { headers: { authorization: `Basic ${Buffer.from('ops:wrong-password').toString('base64')}` } });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${base}/admin/queues/api/queues`, { headers: { authorization: `Basic ${Buffer.from(`${AUTH.user}:${AUTH.password}`).toString('base64')}` } });
    expect(right.status).toBe(200);
  });

  it('shows the runbooks queue and its job in headless Chromium (screenshots)', async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    await page.authenticate({ username: AUTH.user, password: AUTH.password });
    try {
      const res = await page.goto(`${base}/admin/queues`, { waitUntil: 'networkidle0', timeout: 30_000 });
      expect(res?.status()).toBe(200);
      // (page functions as strings: this project's TypeScript has no DOM types)
      await page.waitForFunction(`document.body.innerText.includes(${JSON.stringify(DEFAULT_QUEUE_NAME)})`, { timeout: 30_000 });
      const overview = path.join(shots, 'overview.png');
      await page.screenshot({ path: overview, fullPage: true });

      await page.goto(`${base}/admin/queues/queue/${DEFAULT_QUEUE_NAME}?status=waiting`, { waitUntil: 'networkidle0', timeout: 30_000 });
      await page.waitForFunction(`document.body.innerText.includes('modify-42-a1')`, { timeout: 30_000 });
      const text = String(await page.evaluate('document.body.innerText'));
      expect(text).toContain(DEFAULT_QUEUE_NAME);
      expect(text).toContain('modify');
      expect(text).toContain('modify-42-a1');
      await new Promise((r) => setTimeout(r, 500)); // let the sidebar's slide-in transition finish before the picture
      const jobShot = path.join(shots, 'queue-with-job.png');
      await page.screenshot({ path: jobShot, fullPage: true });
      for (const f of [overview, jobShot]) expect(statSync(f).size).toBeGreaterThan(10_000);
      console.log(`Bull Board screenshots: ${overview} ${jobShot}`);
    } finally {
      await page.close();
    }
  }, 90_000);
});
