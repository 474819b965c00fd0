/**
 * The real Bolt HTTP receiver on a random port, driven by requests signed as Slack signs them, replying to a fake Slack
 * Web API and fake response_url endpoints over loopback HTTP. The services are a recording fake.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSlackApp, type ActionInput, type BotServices, type CommandInput, type Replier, type SlackApp } from '../../src/slack/app.js';
import { approvalMessage } from '../../src/slack/blocks.js';
import { ACTION_IDS } from '../../src/slack/payloads.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { blockActionsBody, interactivityBody, blockActionsPayload, nowSeconds, postSigned, signRequest, slashCommandBody } from '../support/slack-sign.js';

const SECRET = `sign-${randomBytes(8).toString('hex')}`;
const TOKEN = 'xoxb-test-token';

type Handler<I> = (input: I, reply: Replier) => Promise<void>;

class RecordingServices implements BotServices {
  commands: CommandInput[] = [];
  actions: ActionInput[] = [];
  onCommand: Handler<CommandInput> = async () => undefined;
  onAction: Handler<ActionInput> = async () => undefined;
  async command(input: CommandInput, reply: Replier): Promise<void> {
    this.commands.push(input);
    await this.onCommand(input, reply);
  }
  async action(input: ActionInput, reply: Replier): Promise<void> {
    this.actions.push(input);
    await this.onAction(input, reply);
  }
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

let fake: FakeSlack;
let slack: SlackApp;
let url: string;
let base: string;
const services = new RecordingServices();
let seq = 0;
const rid = (name: string) => `${name}-${++seq}`;

beforeAll(async () => {
  fake = await startFakeSlack({ botToken: TOKEN, notInChannel: ['CPRIVATE'] });
  slack = createSlackApp({
    signingSecret: SECRET,
    botToken: TOKEN,
    apiUrl: fake.url,
    port: 0,
    botId: 'BBOT0001',
    botUserId: 'UBOT0001',
    services,
    logger: pino({ level: 'silent' }),
  });
  const { port } = await slack.start();
  base = `http://127.0.0.1:${port}`;
  url = `${base}/slack/events`;
});

afterAll(async () => {
  await slack?.stop();
  await fake?.close();
});

beforeEach(() => {
  services.commands = [];
  services.actions = [];
  services.onCommand = async () => undefined;
  services.onAction = async () => undefined;
});

describe('slash command', () => {
  it('acks before any work, passes the parsed command to the services, and the reply lands at response_url', async () => {
    const gate = deferred();
    let released = false;
    const done = deferred<{ ts?: string }>();
    services.onCommand = async (_input, reply) => {
      await gate.promise; // "slow work": the HTTP answer must not wait for it
      await reply.ephemeral('Status of ak.core_user: 1,200 rows');
      done.resolve(await reply.inChannel('Queued job-1 for ak.core_user'));
    };
    const responseId = rid('status');
    const body = slashCommandBody({ text: '  status ak.core_user ', responseUrl: fake.responseUrl(responseId), userId: 'U0ALICE01', channelId: 'C0OPS0001' });
    const res = await postSigned(url, body, { signingSecret: SECRET });

    expect(res.status).toBe(200);
    expect(released).toBe(false);
    expect(services.commands).toEqual([
      { text: 'status ak.core_user', userId: 'U0ALICE01', channelId: 'C0OPS0001', teamId: 'T0000001', triggerId: '1234567890.1234567890.abcdef' },
    ]);

    released = true;
    gate.resolve();
    const eph = await fake.waitFor((c) => c.method === 'response_url' && c.responseId === responseId);
    expect(eph.body).toMatchObject({ response_type: 'ephemeral', text: 'Status of ak.core_user: 1,200 rows' });

    const posted = await done.promise;
    const post = await fake.waitFor((c) => c.method === 'chat.postMessage' && c.body.text === 'Queued job-1 for ak.core_user');
    expect(post.body.channel).toBe('C0OPS0001');
    expect(post.token).toBe(TOKEN);
    expect(posted.ts).toBeDefined();
    expect(fake.message('C0OPS0001', posted.ts ?? '')?.text).toBe('Queued job-1 for ak.core_user');
  });

  it('in a channel the bot cannot post to, an in-channel reply goes through response_url', async () => {
    const done = deferred<{ ts?: string }>();
    services.onCommand = async (_i, reply) => done.resolve(await reply.inChannel('Queued job-2'));
    const responseId = rid('private');
    const res = await postSigned(url, slashCommandBody({ text: 'modify x', responseUrl: fake.responseUrl(responseId), channelId: 'CPRIVATE' }), {
      signingSecret: SECRET,
    });
    expect(res.status).toBe(200);
    expect(await done.promise).toEqual({});
    const call = await fake.waitFor((c) => c.method === 'response_url' && c.responseId === responseId);
    expect(call.body).toMatchObject({ response_type: 'in_channel', text: 'Queued job-2' });
  });

  it('a service that throws becomes an ephemeral error, not a silent failure', async () => {
    services.onCommand = async () => {
      throw new Error('planner exploded');
    };
    const responseId = rid('boom');
    const res = await postSigned(url, slashCommandBody({ text: 'plan x', responseUrl: fake.responseUrl(responseId) }), { signingSecret: SECRET });
    expect(res.status).toBe(200);
    const call = await fake.waitFor((c) => c.method === 'response_url' && c.responseId === responseId);
    expect(call.body.response_type).toBe('ephemeral');
    expect(String(call.body.text)).toContain('planner exploded');
  });
});

describe('a slash command that is not ours', () => {
  it('is acked at once and answered ("unknown command"), not left to Bolt\'s 3-second timeout and a 404', async () => {
    const responseId = rid('redshiftx');
    const started = performance.now();
    const res = await postSigned(url, slashCommandBody({ command: '/redshiftx', text: 'status', responseUrl: fake.responseUrl(responseId) }), { signingSecret: SECRET });
    const ms = performance.now() - started;
    expect(res.status).toBe(200);
    expect(ms).toBeLessThan(1_000);
    const call = await fake.waitFor((c) => c.method === 'response_url' && c.responseId === responseId);
    expect(call.body.response_type).toBe('ephemeral');
    expect(String(call.body.text)).toContain('unknown command /redshiftx');
    expect(String(call.body.text)).toContain('/redshift');
    expect(services.commands).toHaveLength(0);
  });
});

describe('command text as Slack sends it', () => {
  it('&amp; &lt; &gt; reach the services decoded, once; link markup Slack added is undone', async () => {
    const responseId = rid('entities');
    const text = "modify t add column a&amp;b int default '&amp;lt; &lt;!here&gt; <https://x.org/?a=1&amp;b=2|x.org/?a=1&amp;b=2> <mailto:a@b.org|a@b.org>'";
    const res = await postSigned(url, slashCommandBody({ text, responseUrl: fake.responseUrl(responseId) }), { signingSecret: SECRET });
    expect(res.status).toBe(200);
    expect(services.commands[0]?.text).toBe("modify t add column a&b int default '&lt; <!here> x.org/?a=1&b=2 a@b.org'");
  });

  it('a failing command echoes the text escaped, in a code span a backtick cannot close', async () => {
    services.onCommand = async () => {
      throw new Error('boom <!channel>');
    };
    const responseId = rid('echo');
    await postSigned(url, slashCommandBody({ text: 'plan `x` &lt;!everyone&gt;', responseUrl: fake.responseUrl(responseId) }), { signingSecret: SECRET });
    const call = await fake.waitFor((c) => c.method === 'response_url' && c.responseId === responseId);
    const all = JSON.stringify(call.body);
    expect(all).not.toMatch(/<!everyone>|<!channel>/);
    expect(String(call.body.text)).toContain('&lt;!everyone&gt;');
    expect(String(call.body.text).match(/`/g)?.length ?? 0).toBe(2);
  });
});

describe('request authenticity', () => {
  it('a forged signature gets 401 and reaches no service', async () => {
    const body = slashCommandBody({ text: 'status', responseUrl: fake.responseUrl(rid('forged')) });
    const res = await postSigned(url, body, { signingSecret: SECRET, headers: { 'x-slack-signature': `v0=${'0'.repeat(64)}` } });
    expect(res.status).toBe(401);
    const wrongSecret = await postSigned(url, body, { signingSecret: 'not-the-secret' });
    expect(wrongSecret.status).toBe(401);
    expect(services.commands).toHaveLength(0);
  });

  it('a body changed after signing gets 401', async () => {
    const body = slashCommandBody({ text: 'status', responseUrl: fake.responseUrl(rid('tamper')) });
    const headers = signRequest(SECRET, body);
    const tampered = body.replace('text=status', 'text=drop');
    const res = await postSigned(url, tampered, { signingSecret: SECRET, headers: { ...headers } });
    expect(res.status).toBe(401);
    expect(services.commands).toHaveLength(0);
  });

  it('a timestamp older than 5 minutes gets 401, even when correctly signed', async () => {
    const body = slashCommandBody({ text: 'status', responseUrl: fake.responseUrl(rid('old')) });
    const res = await postSigned(url, body, { signingSecret: SECRET, timestamp: nowSeconds() - 5 * 60 - 30 });
    expect(res.status).toBe(401);
    expect(services.commands).toHaveLength(0);
  });

  it('a timestamp more than 5 minutes in the future gets 401', async () => {
    const body = slashCommandBody({ text: 'status', responseUrl: fake.responseUrl(rid('future')) });
    const res = await postSigned(url, body, { signingSecret: SECRET, timestamp: nowSeconds() + 10 * 60 });
    expect(res.status).toBe(401);
    expect(services.commands).toHaveLength(0);
  });

  it('missing signature headers get 401', async () => {
    const body = slashCommandBody({ text: 'status', responseUrl: fake.responseUrl(rid('nohdr')) });
    const none = await postSigned(url, body, { signingSecret: SECRET, headers: { 'x-slack-signature': undefined, 'x-slack-request-timestamp': undefined } });
    const noSig = await postSigned(url, body, { signingSecret: SECRET, headers: { 'x-slack-signature': undefined } });
    const noTs = await postSigned(url, body, { signingSecret: SECRET, headers: { 'x-slack-request-timestamp': undefined } });
    expect([none.status, noSig.status, noTs.status]).toEqual([401, 401, 401]);
    expect(services.commands).toHaveLength(0);
  });

  it('a replayed request (valid signature, sent again) gets 401 and runs once', async () => {
    const body = slashCommandBody({ text: 'status ak.core_user', responseUrl: fake.responseUrl(rid('replay')) });
    const ts = nowSeconds();
    const first = await postSigned(url, body, { signingSecret: SECRET, timestamp: ts });
    const again = await postSigned(url, body, { signingSecret: SECRET, timestamp: ts });
    expect(first.status).toBe(200);
    expect(again.status).toBe(401);
    expect(services.commands).toHaveLength(1);
    // the same command sent fresh (new timestamp → new signature) is a new request
    const fresh = await postSigned(url, body, { signingSecret: SECRET, timestamp: ts + 1 });
    expect(fresh.status).toBe(200);
    expect(services.commands).toHaveLength(2);
  });

  it('never calls auth.test (the token and bot ids are given)', () => {
    expect(fake.callsTo('auth.test')).toHaveLength(0);
  });
});

describe('buttons (block_actions)', () => {
  it('an approve click reaches the services with the parsed value and the clicker; it can replace the message', async () => {
    const done = deferred();
    services.onAction = async (_input, reply) => {
      await reply.replaceOriginal?.('Approved by <@U0BOB0001>');
      done.resolve();
    };
    const responseId = rid('approve');
    const value = JSON.stringify({ jobId: 'job-1', step: 'drop_old', nonce: 'n-1' });
    const body = blockActionsBody({
      actionId: ACTION_IDS.approve,
      value,
      userId: 'U0BOB0001',
      channelId: 'C0OPS0001',
      messageTs: '1700000000.000200',
      threadTs: '1700000000.000100',
      responseUrl: fake.responseUrl(responseId),
    });
    const res = await postSigned(url, body, { signingSecret: SECRET });
    expect(res.status).toBe(200);
    await done.promise;
    expect(services.actions).toEqual([
      {
        actionId: 'rso_approve',
        value: { jobId: 'job-1', step: 'drop_old', nonce: 'n-1' },
        userId: 'U0BOB0001',
        channelId: 'C0OPS0001',
        messageTs: '1700000000.000200',
        threadTs: '1700000000.000100',
      },
    ]);
    const call = await fake.waitFor((c) => c.method === 'response_url' && c.responseId === responseId);
    expect(call.body).toMatchObject({ replace_original: true, text: 'Approved by <@U0BOB0001>' });
  });

  it('the value of a button our builder rendered round-trips', async () => {
    const done = deferred();
    services.onAction = async () => done.resolve();
    const m = approvalMessage(
      { id: 'job-9', kind: 'modify', requester: 'U1', commandText: '', summary: '', params: {}, state: 'awaiting-approval', cursor: 0, steps: [{ name: 'drop', title: 'Drop', state: 'pending' }], handles: {}, approvals: [], origin: { kind: 'slack' }, createdAt: 0, updatedAt: 0 },
      { name: 'drop', title: 'Drop', state: 'pending' },
      'Drop it?',
      'nonce-9',
    );
    const actions = m.blocks.find((b) => b.type === 'actions');
    const reject = actions?.type === 'actions' ? actions.elements.find((e) => e.type === 'button' && e.action_id === ACTION_IDS.reject) : undefined;
    const value = reject?.type === 'button' ? reject.value : undefined;
    const res = await postSigned(url, blockActionsBody({ actionId: ACTION_IDS.reject, value, responseUrl: fake.responseUrl(rid('rt')) }), { signingSecret: SECRET });
    expect(res.status).toBe(200);
    await done.promise;
    expect(services.actions[0]).toMatchObject({ actionId: 'rso_reject', value: { jobId: 'job-9', step: 'drop', nonce: 'nonce-9' } });
  });

  it('a malformed value gets an ephemeral error and calls nothing', async () => {
    const cases = ['not json', '{"jobId":"job-1"}' /* approve without nonce */, '{"jobId":"job 1; drop","step":"s","nonce":"n"}', undefined];
    for (const value of cases) {
      const responseId = rid('bad');
      const res = await postSigned(url, blockActionsBody({ actionId: ACTION_IDS.approve, value, responseUrl: fake.responseUrl(responseId) }), { signingSecret: SECRET });
      expect(res.status).toBe(200);
      const call = await fake.waitFor((c) => c.method === 'response_url' && c.responseId === responseId);
      expect(call.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      expect(String(call.body.text)).toContain('That button could not be used');
    }
    expect(services.actions).toHaveLength(0);
  });

  it('an unknown rso_ action id gets an ephemeral error and calls nothing', async () => {
    const responseId = rid('unknown');
    const res = await postSigned(url, blockActionsBody({ actionId: 'rso_bogus', value: '{"jobId":"j"}', responseUrl: fake.responseUrl(responseId) }), { signingSecret: SECRET });
    expect(res.status).toBe(200);
    const call = await fake.waitFor((c) => c.method === 'response_url' && c.responseId === responseId);
    expect(String(call.body.text)).toContain('rso_bogus');
    expect(services.actions).toHaveLength(0);
  });

  it('an action id that is not ours (another app, an older bot) is acked at once and answered, not left to a 404', async () => {
    for (const actionId of ['other_app_button', 'approve_v0']) {
      const responseId = rid('foreign');
      const started = performance.now();
      const res = await postSigned(url, blockActionsBody({ actionId, value: '{"jobId":"j"}', responseUrl: fake.responseUrl(responseId) }), { signingSecret: SECRET });
      const ms = performance.now() - started;
      expect(res.status).toBe(200);
      expect(ms).toBeLessThan(1_000); // Bolt's unhandled-request timeout is 3 s; an ack is milliseconds
      const call = await fake.waitFor((c) => c.method === 'response_url' && c.responseId === responseId);
      expect(call.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      expect(String(call.body.text)).toContain(`unknown button \`${actionId}\``);
    }
    expect(services.actions).toHaveLength(0);
  });

  it('an action id with markup or backticks is echoed escaped', async () => {
    const responseId = rid('markup');
    await postSigned(url, blockActionsBody({ actionId: 'x`<!everyone>`', value: '{"jobId":"j"}', responseUrl: fake.responseUrl(responseId) }), { signingSecret: SECRET });
    const call = await fake.waitFor((c) => c.method === 'response_url' && c.responseId === responseId);
    const all = JSON.stringify(call.body);
    expect(all).not.toContain('<!everyone>');
    expect(all).toContain('&lt;!everyone&gt;');
    expect(String(call.body.text).match(/`/g)?.length ?? 0).toBe(2); // only our own code span
  });

  it('a payload that does not match what we depend on is refused with an ephemeral error', async () => {
    const responseId = rid('baduser');
    const payload = blockActionsPayload({ actionId: ACTION_IDS.cancel, value: '{"jobId":"j"}', responseUrl: fake.responseUrl(responseId) });
    payload.user = { id: 12345 }; // not a Slack user id
    const res = await postSigned(url, interactivityBody(payload), { signingSecret: SECRET });
    expect(res.status).toBe(200);
    const call = await fake.waitFor((c) => c.method === 'response_url' && c.responseId === responseId);
    expect(String(call.body.text)).toContain('could not read');

    const noChannelId = rid('nochannel');
    const noChannel = blockActionsPayload({ actionId: ACTION_IDS.cancel, value: '{"jobId":"j"}', responseUrl: fake.responseUrl(noChannelId) });
    delete noChannel.channel;
    delete noChannel.container;
    const res2 = await postSigned(url, interactivityBody(noChannel), { signingSecret: SECRET });
    expect(res2.status).toBe(200);
    const call2 = await fake.waitFor((c) => c.method === 'response_url' && c.responseId === noChannelId);
    expect(String(call2.body.text)).toContain('without a channel');
    expect(services.actions).toHaveLength(0);
  });
});

describe('the one URL', () => {
  it('answers the Events API url_verification challenge (JSON body) on /slack/events', async () => {
    const body = JSON.stringify({ token: 't', challenge: 'chal-123', type: 'url_verification' });
    const res = await postSigned(url, body, { signingSecret: SECRET, contentType: 'application/json' });
    expect(res.status).toBe(200);
    expect(res.body).toContain('chal-123');
  });

  it('serves a health check', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
  });
});
