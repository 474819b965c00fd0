/**
 * The README's production path, followed as written, against the sandbox: `npm run sandbox -- --seed` → paste its
 * exports → `npm start` → `npm run cli -- slash "/redshift modify …"` → the job finishes. Real processes, real npm.
 * Afterwards the repository is unchanged (`git status`): the job rewrote a temporary copy of schemas/, not the repo's.
 * The only departures from the README: the test's own PostgreSQL database (DATABASE_URL, which the README names as an
 * option), PORT=0 and a REDIS_PREFIX of its own, so it can run beside other tests.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeysWithPrefix } from '../../src/queue/connection.js';
import { BASE_ENV, eventually, pidAlive, portOpen, startChild, type Child } from '../support/processes.js';
import { createTestDatabase, type TestDatabase } from '../support/sandbox.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const gitStatus = (): string => execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: ROOT, encoding: 'utf8' });

describe("README's production path against the sandbox", () => {
  const prefix = `rso-trial-${randomBytes(3).toString('hex')}`;
  const children: Child[] = [];
  let db: TestDatabase | undefined;
  afterAll(async () => {
    for (const c of children) c.kill();
    const r = new Redis(REDIS_URL);
    await deleteKeysWithPrefix(r, prefix);
    r.disconnect();
    await db?.drop();
  }, 60_000);

  it('sandbox → npm start → a signed request → a finished job, and git status is unchanged', async () => {
    const before = gitStatus();
    db = await createTestDatabase('trial');

    // 1. the sandbox, seeded; it prints the variables to export
    const sandbox = startChild('npm', ['run', '--silent', 'sandbox', '--', '--seed'], { cwd: ROOT, env: { ...BASE_ENV(), DATABASE_URL: db.url } });
    children.push(sandbox);
    await sandbox.waitForText(/Messages the bot sends to Slack are printed below/, 120_000);
    expect(sandbox.stdout()).toMatch(/Seeded: 26 tables in ak_sumofus \(26 created now, 0 already there\), [\d,]+ rows added/);
    const exports = Object.fromEntries([...sandbox.stdout().matchAll(/^export ([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(exports)).toEqual(expect.arrayContaining(['AWS_ENDPOINT_URL', 'REDSHIFT_CLUSTER_ID', 'SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN', 'SLACK_API_URL', 'OPERATORS']));

    // 2. npm start with exactly those variables
    const env = { ...BASE_ENV(), ...exports, REDIS_URL, REDIS_PREFIX: prefix };
    const bot = startChild('npm', ['start', '--silent'], { cwd: ROOT, env: { ...env, PORT: '0' } });
    children.push(bot);
    const copy = await bot.waitForLog(/the warehouse is the sandbox/, 120_000);
    const listening = await bot.waitForLog('slack receiver listening on /slack/events', 60_000);
    const started = await bot.waitForLog('redshift-ops started', 60_000);
    const port = String(listening.port);
    const schemasCopy = String(copy.dir);
    expect(schemasCopy).not.toBe(path.join(ROOT, 'schemas'));
    expect(existsSync(path.join(schemasCopy, 'ak_sumofus', 'core_action.yml'))).toBe(true);
    // ready: Redis and the sandbox's Data API answer
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status, await ready.clone().text()).toBe(200);

    // 3. a signed slash command; the CLI follows the job's thread in the sandbox's Slack stand-in
    const cli = startChild('npm', ['run', '--silent', 'cli', '--', 'slash', '/redshift modify core_action add column trial_note varchar(64)'], { cwd: ROOT, env: { ...env, PORT: port } });
    children.push(cli);
    const done = await cli.exited(120_000);
    expect(done.code, `cli output:\n${cli.stdout()}\n${cli.stderr()}`).toBe(0);
    expect(cli.stdout()).toMatch(/HTTP 200/);
    expect(cli.stdout()).toMatch(/Queued job \S+: modify ak_sumofus\.core_action add column trial_note varchar\(64\)/);
    expect(cli.stdout()).toMatch(/^job \S+ succeeded$/m);
    // the sandbox printed what the bot said in Slack
    await sandbox.waitForText(/slack message #C0TRIAL thread \S+: .*succeeded after/, 10_000);

    // the warehouse has the column; the copy of schemas/ was rewritten, the repository's was not
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const r = await c.query("select 1 from information_schema.columns where table_schema = 'ak_sumofus' and table_name = 'core_action' and column_name = 'trial_note'");
      expect(r.rowCount).toBe(1);
    } finally {
      await c.end();
    }

    // 4. stop both; the temporary copy goes with the bot
    const pid = Number(started.pid);
    bot.proc.kill('SIGTERM');
    await bot.exited(30_000);
    expect(await eventually(() => !pidAlive(pid), 15_000)).toBe(true);
    expect(await portOpen(Number(port))).toBe(false);
    expect(existsSync(schemasCopy)).toBe(false);
    sandbox.proc.kill('SIGTERM');
    await sandbox.exited(30_000);

    expect(gitStatus()).toBe(before);
    // no AWS SDK Node-version banner in what the user sees (on Node < 22 the bot logs one line instead)
    for (const c of [sandbox, bot, cli]) expect(c.stderr() + c.stdout()).not.toMatch(/NodeVersionSupportWarning/);
    if (Number(process.versions.node.split('.')[0]) < 22) expect(bot.stdout()).toMatch(/AWS SDK releases after early 2027 need Node 22/);
  }, 400_000);
});
