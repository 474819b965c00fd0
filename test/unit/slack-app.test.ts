import { readFileSync } from 'node:fs';
import { SocketModeReceiver } from '@slack/bolt';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createSlackApp, normalizeApiUrl, slackErrorCode } from '../../src/slack/app.js';

const services = { command: async () => undefined, action: async () => undefined };

describe('createSlackApp', () => {
  it('uses Socket Mode when an app-level token is given (nothing connects until start)', () => {
    const s = createSlackApp({ signingSecret: 'unused', botToken: 'xoxb-1', appToken: 'xapp-1', services, logger: pino({ level: 'silent' }) });
    expect((s.app as unknown as { receiver: unknown }).receiver).toBeInstanceOf(SocketModeReceiver);
  });

  it('normalizes the API base URL and reads Slack error codes', () => {
    expect(normalizeApiUrl('http://127.0.0.1:9/api')).toBe('http://127.0.0.1:9/api/');
    expect(normalizeApiUrl('http://127.0.0.1:9/api/')).toBe('http://127.0.0.1:9/api/');
    expect(slackErrorCode({ data: { ok: false, error: 'not_in_channel' } })).toBe('not_in_channel');
    expect(slackErrorCode(new Error('x'))).toBeUndefined();
  });
});

describe('manifest.yml', () => {
  it('declares /redshift, one request URL for commands and interactivity, and the bot scopes', () => {
    const m = parse(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8')) as {
      display_information: { name: string };
      features: { slash_commands: Array<{ command: string; url: string; usage_hint: string }> };
      oauth_config: { scopes: { bot: string[] } };
      settings: { interactivity: { is_enabled: boolean; request_url: string }; socket_mode_enabled: boolean };
    };
    expect(m.display_information.name).toBe('redshift-ops');
    const cmd = m.features.slash_commands[0];
    expect(cmd?.command).toBe('/redshift');
    expect(cmd?.usage_hint.length).toBeGreaterThan(0);
    expect(cmd?.url).toBe('https://YOUR-HOST/slack/events');
    expect(m.settings.interactivity).toEqual({ is_enabled: true, request_url: 'https://YOUR-HOST/slack/events' });
    expect(m.settings.socket_mode_enabled).toBe(false);
    expect([...m.oauth_config.scopes.bot].sort()).toEqual(['chat:write', 'chat:write.public', 'commands', 'usergroups:read', 'users:read']);
  });
});
