/**
 * `npm run cli -- slash`: its mistakes and unreachable peers are one readable line each (a first trial hits these), and
 * a command the bot answers without a job ends as soon as the reply is in.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { runSlash, signSlackBody } from '../../src/console/slash.js';

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function io(env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env } };
}

describe('npm run cli -- slash', () => {
  let bot: Server | undefined;
  afterAll(() => bot?.close());

  it('usage mistakes exit 2 and say what to set', async () => {
    const r = io({});
    expect(await runSlash(['/redshift status'], r.io)).toBe(2);
    expect(r.err.join('\n')).toMatch(/SLACK_SIGNING_SECRET is not set/);
    const r2 = io({ SLACK_SIGNING_SECRET: 's' });
    expect(await runSlash([], r2.io)).toBe(2);
    expect(r2.err.join('\n')).toMatch(/give the command to send/);
  });

  it('an unreachable sandbox or bot is one line naming it and the reason', async () => {
    const port = await closedPort();
    const r = io({ SLACK_SIGNING_SECRET: 's', SLACK_API_URL: `http://127.0.0.1:${port}/_sandbox/slack/api/`, PORT: String(port) });
    expect(await runSlash(['/redshift status'], r.io)).toBe(1);
    expect(r.err.join('\n')).toMatch(new RegExp(`cannot reach the sandbox's Slack stand-in at http://127\\.0\\.0\\.1:${port}/_sandbox/slack/messages \\(.*ECONNREFUSED.*\\): is \`npm run sandbox\` running`));
    const r2 = io({ SLACK_SIGNING_SECRET: 's', PORT: String(port) });
    expect(await runSlash(['/redshift status'], r2.io)).toBe(1);
    expect(r2.err.join('\n')).toMatch(new RegExp(`could not reach the bot at http://127\\.0\\.0\\.1:${port}/slack/events \\(.*ECONNREFUSED.*\\)`));
  });

  it('signs like Slack and prints the response_url reply of a command without a job', async () => {
    let seen: { sig?: string; ts?: string; body: string } | undefined;
    bot = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen = { sig: req.headers['x-slack-signature'] as string, ts: req.headers['x-slack-request-timestamp'] as string, body };
        res.writeHead(200);
        res.end();
        const responseUrl = new URLSearchParams(body).get('response_url')!;
        void fetch(responseUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ response_type: 'ephemeral', text: 'Nothing is running.' }) });
      });
    });
    await new Promise<void>((r) => bot!.listen(0, '127.0.0.1', () => r()));
    const port = (bot.address() as AddressInfo).port;
    const r = io({ SLACK_SIGNING_SECRET: 'slash-secret', PORT: String(port) });
    expect(await runSlash(['/redshift jobs'], r.io)).toBe(0);
    expect(seen).toBeDefined();
    expect(seen!.sig).toBe(signSlackBody('slash-secret', Number(seen!.ts), seen!.body));
    const form = new URLSearchParams(seen!.body);
    expect([form.get('command'), form.get('text'), form.get('user_id'), form.get('channel_id')]).toEqual(['/redshift', 'jobs', 'U0TRIAL', 'C0TRIAL']);
    expect(r.out.join('\n')).toMatch(/HTTP 200[\s\S]*slack reply: Nothing is running\./);
  });
});
