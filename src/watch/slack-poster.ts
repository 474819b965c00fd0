/** AlertPoster on the Slack Web API (chat.postMessage / chat.update), the bot token and optional SLACK_API_URL. */
import { webApi } from '@slack/bolt';
import type { SlackMessage } from '../slack/blocks.js';
import type { AlertPoster } from './watch.js';

export function slackAlertPoster(o: { token: string; apiUrl?: string }): AlertPoster {
  const client = new webApi.WebClient(o.token, {
    retryConfig: { retries: 3, factor: 2, minTimeout: 200, maxTimeout: 2_000 },
    ...(o.apiUrl ? { slackApiUrl: o.apiUrl.endsWith('/') ? o.apiUrl : `${o.apiUrl}/` } : {}),
  });
  return {
    async post(channel, m: SlackMessage) {
      const r = await client.chat.postMessage({ channel, text: m.text, blocks: m.blocks });
      if (!r.ts) throw new Error(`chat.postMessage to ${channel} returned no ts`);
      return { ts: r.ts };
    },
    async reply(channel, threadTs, m) {
      await client.chat.postMessage({ channel, thread_ts: threadTs, text: m.text, blocks: m.blocks });
    },
    async update(channel, ts, m) {
      await client.chat.update({ channel, ts, text: m.text, blocks: m.blocks });
    },
  };
}
