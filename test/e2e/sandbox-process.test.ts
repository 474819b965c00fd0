/**
 * `npm run sandbox -- --seed` as a process, the way docker-compose.yml runs it (HOST=0.0.0.0, a fixed PORT): it seeds
 * the 26 tables through its own Data API, prints an endpoint and `export` lines a client can use (127.0.0.1, not
 * 0.0.0.0), and its Slack stand-in records what is posted to it and lists it.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BASE_ENV, startChild, type Child } from '../support/processes.js';
import { createTestDatabase, type TestDatabase } from '../support/sandbox.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('npm run sandbox -- --seed', () => {
  const children: Child[] = [];
  let db: TestDatabase | undefined;
  afterAll(async () => {
    for (const c of children) c.kill();
    await db?.drop();
  }, 60_000);

  it('listening on 0.0.0.0 (a container), seeds and prints a callable endpoint; the Slack stand-in keeps messages', async () => {
    db = await createTestDatabase('sandbox_proc');
    const sb = startChild('npm', ['run', '--silent', 'sandbox', '--', '--seed', '--static', '--rows', '20'], {
      cwd: ROOT,
      env: { ...BASE_ENV(), DATABASE_URL: db.url, HOST: '0.0.0.0', PORT: '0' },
    });
    children.push(sb);
    await sb.waitForText(/Messages the bot sends to Slack are printed below/, 120_000);
    expect(sb.stdout()).toMatch(/Seeded: 26 tables in ak_sumofus \(26 created now, 0 already there\), 520 rows added\./);
    const endpoint = /^export AWS_ENDPOINT_URL=(.*)$/m.exec(sb.stdout())?.[1];
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sb.stdout()).toContain(`export SLACK_API_URL=${endpoint}/_sandbox/slack/api/`);

    // the Slack stand-in: what the bot's WebClient would send (form-encoded), kept in order and printed
    const post = await fetch(`${endpoint}/_sandbox/slack/api/chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Bearer xoxb-sandbox' },
      body: new URLSearchParams({ channel: 'C0TRIAL', text: 'hello from the bot' }).toString(),
    });
    const posted = (await post.json()) as { ok: boolean; ts: string; channel: string };
    expect(posted).toMatchObject({ ok: true, channel: 'C0TRIAL' });
    await fetch(`${endpoint}/_sandbox/slack/api/chat.update`, { method: 'POST', body: new URLSearchParams({ channel: 'C0TRIAL', ts: posted.ts, text: 'edited' }).toString() });
    const unknown = (await (await fetch(`${endpoint}/_sandbox/slack/api/files.upload`, { method: 'POST', body: '' })).json()) as { ok: boolean; error: string };
    expect(unknown).toEqual({ ok: false, error: 'unknown_method' });
    const list = (await (await fetch(`${endpoint}/_sandbox/slack/messages`)).json()) as { messages: { seq: number; kind: string; text: string; ts?: string }[] };
    expect(list.messages.map((m) => [m.kind, m.text])).toEqual([
      ['message', 'hello from the bot'],
      ['update', 'edited'],
    ]);
    const after = (await (await fetch(`${endpoint}/_sandbox/slack/messages?after=${list.messages[0]!.seq}`)).json()) as { messages: unknown[] };
    expect(after.messages).toHaveLength(1);
    await sb.waitForText(/slack message #C0TRIAL: hello from the bot/, 5_000);

    sb.proc.kill('SIGTERM');
    expect((await sb.exited(30_000)).code).toBe(0);
  }, 200_000);
});
