/**
 * Slack settings from the environment (zod): what the bot role needs to listen for Slack and what the worker needs to
 * post progress. Errors name the variable and what to set; the values are secrets and are never logged.
 */
import { z } from 'zod';

const schema = z.object({
  SLACK_SIGNING_SECRET: z.string().min(1, 'SLACK_SIGNING_SECRET is empty: copy it from the Slack app\'s "Basic Information" page'),
  SLACK_BOT_TOKEN: z.string().regex(/^xoxb-/, 'SLACK_BOT_TOKEN must be the bot token (xoxb-…) from "OAuth & Permissions"'),
  SLACK_APP_TOKEN: z.string().regex(/^xapp-/, 'SLACK_APP_TOKEN must be an app-level token (xapp-…) for Socket Mode').optional(),
  SLACK_API_URL: z.url().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
});

export interface SlackConfig {
  signingSecret: string;
  botToken: string;
  appToken?: string;
  apiUrl?: string;
  port: number;
}

/** Slack settings that do not validate: `problems` has one line per variable (the message joins them). */
export class SlackConfigError extends Error {
  constructor(readonly problems: string[] = []) {
    super(`Slack configuration: ${problems.join('; ')}`);
    this.name = 'SlackConfigError';
  }
}

/** undefined when Slack is not configured at all (neither secret nor token set). */
export function slackConfigFromEnv(env: NodeJS.ProcessEnv = process.env, opts: { needSigningSecret?: boolean } = {}): SlackConfig | undefined {
  if (!env.SLACK_SIGNING_SECRET && !env.SLACK_BOT_TOKEN) return undefined;
  // a worker only posts (bot token); only the receiver verifies requests (signing secret)
  const needSecret = opts.needSigningSecret ?? true;
  const blank = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());
  const r = schema.safeParse({
    SLACK_SIGNING_SECRET: blank(env.SLACK_SIGNING_SECRET) ?? (needSecret ? '' : 'unused-by-workers'),
    SLACK_BOT_TOKEN: blank(env.SLACK_BOT_TOKEN) ?? '',
    SLACK_APP_TOKEN: blank(env.SLACK_APP_TOKEN),
    SLACK_API_URL: blank(env.SLACK_API_URL),
    PORT: blank(env.PORT),
  });
  if (!r.success) throw new SlackConfigError(r.error.issues.map((i) => (i.message.startsWith(String(i.path[0])) ? i.message : `${String(i.path[0])}: ${i.message}`)));
  const c = r.data;
  return {
    signingSecret: c.SLACK_SIGNING_SECRET,
    botToken: c.SLACK_BOT_TOKEN,
    ...(c.SLACK_APP_TOKEN ? { appToken: c.SLACK_APP_TOKEN } : {}),
    ...(c.SLACK_API_URL ? { apiUrl: c.SLACK_API_URL } : {}),
    port: c.PORT,
  };
}
