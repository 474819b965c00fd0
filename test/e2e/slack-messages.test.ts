/**
 * What a Slack user sees, over signed HTTP into the real Bolt receiver and the real bot (issue 7, item 10):
 *   - Slack sends `&`, `<`, `>` typed in a slash command as `&amp;`, `&lt;`, `&gt;`: the bot reads them decoded, exactly
 *     once (`&amp;lt;` is the text `&lt;`), everywhere in the command — not only inside string literals;
 *   - every reply that echoes user text escapes it: a `<!everyone>`, `<!here>` or `<@U…>` the user typed never becomes a
 *     live mention (in `text` and in blocks), and a ``` in a default cannot close the code block it is shown in;
 *   - `recover` says what it does today (parsed and validated; no runbook yet), in help and in manifest.yml; `setup` says
 *     what its runbook does.
 * Requests carry the text exactly as Slack sends it (`slackEscape` below is Slack's own escaping of what was typed).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type BotHarness, REPO, USERS, startBotHarness } from '../support/bot-harness.js';
import type { FakeSlackCall } from '../support/fake-slack.js';

let h: BotHarness;

beforeAll(async () => {
  h = await startBotHarness({ name: 'messages', rowsPerTable: 2 });
}, 60_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

/** What Slack does to the text a user types before POSTing the slash command (should_escape: false still does this). */
function slackEscape(typed: string): string {
  return typed.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Every string the bot sent in a call (text, blocks, anything), as Slack would parse it for markup. */
function allText(call: FakeSlackCall): string {
  return JSON.stringify(call.body);
}

/** mrkdwn as the reader sees it: the three entities shown as their characters (Slack decodes each once). */
function shown(mrkdwn: string): string {
  return mrkdwn.replace(/&(amp|lt|gt);/g, (_m, e: string) => (e === 'amp' ? '&' : e === 'lt' ? '<' : '>'));
}

/** Markup Slack would act on: `<…>` sequences in the text (mentions, links, special commands). */
function liveMarkup(mrkdwn: string): string[] {
  return mrkdwn.match(/<[^<>]*>/g) ?? [];
}

async function ask(typed: string, userId: string = USERS.operator): Promise<FakeSlackCall> {
  const r = await h.slash(slackEscape(typed), { userId });
  expect(r.status).toBe(200);
  return h.waitForResponse(r.responseId);
}

describe('Slack-escaped command text is decoded before parsing', () => {
  it('a name with & is refused for the & (not for the ";" of &amp;)', async () => {
    const reply = await ask('modify core_action add column a&b integer');
    const text = String(reply.body.text);
    expect(text).not.toContain('";" is not accepted');
    expect(shown(text)).toContain('"&" is not allowed in a column name (a&b)');
    // the caret is under the & as typed (not under the "amp;" Slack added)
    const lines = shown(text).split('\n');
    const echo = lines.findIndex((l) => l.includes('add column a&b integer'));
    expect(echo).toBeGreaterThan(0);
    expect(lines[echo + 1]?.indexOf('^')).toBe(lines[echo]?.indexOf('&'));
  });

  it('entities are decoded exactly once: typed &lt; stays &lt;, typed < is <', async () => {
    const reply = await ask("plan core_action add column note varchar(40) default '<b> & &lt;i&gt; &amp;'");
    const text = shown(String(reply.body.text));
    expect(text).toContain("default '<b> & &lt;i&gt; &amp;'");
  });

  it('a link Slack wrapped around something that looks like a URL is read as the text typed', async () => {
    // what Slack sends when it auto-links a URL typed in a string default (the & in the URL escaped too)
    const r = await h.slash("plan core_action add column site varchar(64) default '<https://sumofus.org/a?b=1&amp;c=2>'", { userId: USERS.operator });
    const text = shown(String((await h.waitForResponse(r.responseId)).body.text));
    expect(text).toContain("default 'https://sumofus.org/a?b=1&c=2'");
  });
});

describe('replies that echo user text escape it', () => {
  it('a default with ``` cannot close the code block of the plan', async () => {
    const reply = await ask("plan core_action add column note varchar(40) default 'a```b'");
    const text = String(reply.body.text);
    expect(text.startsWith('```')).toBe(true);
    expect(text.match(/```/g)).toHaveLength(2); // the opening and closing fences, nothing in between
    expect(text.endsWith('```')).toBe(true);
    expect(text).toMatch(/default 'a.+b'/);
  });

  it('a ``` in a command error cannot close the code block of the error', async () => {
    const reply = await ask("modify core_action add column note varchar(4) default 'a```b' oops");
    const text = String(reply.body.text);
    expect(text.match(/```/g)).toHaveLength(2);
  });

  it('<!everyone>, <!here> and <@U…> typed in a default never become live mentions (queued reply, progress message, job, jobs)', async () => {
    const typed = `modify core_page add column note varchar(60) default '<!everyone> <!here> <@${USERS.stranger}>'`;
    const since = h.fake.calls.length;
    const reply = await ask(typed);
    const text = String(reply.body.text);
    const m = /^Queued job (\d+):/.exec(text);
    expect(m, text).not.toBeNull();
    const jobId = m?.[1] ?? '';
    expect(shown(text)).toContain(`default '<!everyone> <!here> <@${USERS.stranger}>'`);

    const job = await ask(`job ${jobId}`);
    const jobs = await ask('jobs');
    await h.waitUntil(() => h.progressMessagesOf(jobId).length > 0, 'the progress message');
    const calls = [...h.fake.calls.slice(since), job, jobs];
    expect(shown(String(job.body.text))).toContain(`<!everyone> <!here> <@${USERS.stranger}>`);
    for (const c of calls) {
      const live = liveMarkup(allText(c));
      expect(live.filter((x) => /^<!(everyone|here|channel)/.test(x) || x === `<@${USERS.stranger}>`), `${c.method}: ${allText(c)}`).toEqual([]);
    }
    // no thread of its own yet (no worker here): cancel it so the table is free again
    await ask(`cancel ${jobId}`);
  });

  it('the Retry step answer quotes a step title holding a typed <!everyone> escaped', async () => {
    // a queued modify whose in-place step (its title is the op, with the default as typed) failed
    const reply = await ask("modify core_tag add column note varchar(60) default '<!everyone> <@U0STRANGER>'");
    const jobId = /^Queued job (\d+):/.exec(String(reply.body.text))?.[1] ?? '';
    expect(jobId).not.toBe('');
    const title = "Add column note varchar(60) default '<!everyone> <@U0STRANGER>'";
    await h.rt.jobs.store.transact(jobId, (j) => ({
      write: { ...j, state: 'failed', cursor: 0, error: 'the statement failed', steps: [{ name: 'add-note', title, state: 'failed', error: 'the statement failed' }] },
      result: undefined,
    }));
    const click = await h.click('rso_retry', JSON.stringify({ jobId, step: 'add-note' }), { userId: USERS.operator });
    expect(click.status).toBe(200);
    const said = await h.waitForResponse(click.responseId);
    const text = String(said.body.text);
    expect(shown(text)).toContain(`job ${jobId}: resuming at step 1 "${title}"`);
    expect(liveMarkup(text)).toEqual([]);
    await ask(`cancel ${jobId}`);
  });

  it('help is escaped: <command> and <table> are shown, not sent as Slack markup', async () => {
    const reply = await ask('help');
    const text = String(reply.body.text);
    expect(liveMarkup(text)).toEqual([]);
    expect(shown(text)).toContain('/redshift <command>');
  });
});

describe('recover and setup say what they do today', () => {
  it('help setup says what the runbook does, and that --dry-run queues nothing', async () => {
    const text = shown(String((await ask('help setup')).body.text));
    expect(text).not.toMatch(/not built yet/);
    expect(text).toMatch(/foreign-key order/);
    expect(text).toMatch(/start-replication/);
    expect(text).toMatch(/--dry-run lists every statement/);
  });

  it('help lists no command as not built', async () => {
    const all = shown(String((await ask('help')).body.text));
    expect(all).not.toMatch(/not built yet/);
  });

  it('help recover says what the runbook does, with its gates', async () => {
    const text = shown(String((await ask('help recover')).body.text));
    expect(text).not.toMatch(/not built yet/);
    expect(text).toMatch(/ReloadTables/);
    expect(text).toMatch(/reload-target/);
    expect(text).toMatch(/only after an approval/);
    expect(text).toMatch(/duplicate primary keys/);
    expect(text).toMatch(/--dry-run/);
  });

  it('help claims only what rollback and schema apply do today', async () => {
    // rollback refuses a succeeded job and asks no approval of its own; schema apply only creates missing tables, in one job
    const rollback = shown(String((await ask('help rollback')).body.text));
    expect(rollback).not.toMatch(/finished|needs approval/);
    expect(rollback).toMatch(/failed job/);
    const schema = shown(String((await ask('help schema')).body.text));
    expect(schema).not.toMatch(/make the warehouse match|a job per table|that differs/);
    expect(schema).toMatch(/existing tables are not changed/);
  });

  it('the manifest offers only commands that work', async () => {
    const manifest = parseYaml(await readFile(path.join(REPO, 'manifest.yml'), 'utf8')) as {
      display_information: { description: string };
      features: { slash_commands: Array<{ command: string; description: string; usage_hint: string }> };
    };
    const cmd = manifest.features.slash_commands.find((c) => c.command === '/redshift');
    expect(cmd).toBeDefined();
    expect(cmd?.usage_hint).toMatch(/recover <table>/);
    expect(cmd?.usage_hint).toMatch(/setup \[--dry-run\]/);
    // every command the hint offers answers with something other than "not built yet"
    for (const word of (cmd?.usage_hint ?? '').split('|').map((s) => s.trim().split(/\s+/)[0] ?? '')) {
      const text = String((await ask(`help ${word}`)).body.text);
      expect(text, word).not.toMatch(/not built yet/);
    }
  });
});
