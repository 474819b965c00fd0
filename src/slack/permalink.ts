/**
 * Links to Slack messages (a job's thread) from chat.getPermalink — the documented way: a permalink carries the
 * workspace's own domain, which the bot does not otherwise know. Cached (a permalink never changes); a failure gives
 * undefined and the caller names the channel instead of inventing a URL.
 */
import { webApi } from '@slack/bolt';

export type Permalinks = (channel: string, ts: string) => Promise<string | undefined>;

export function slackPermalinks(o: { token: string; apiUrl?: string } | { client: webApi.WebClient }): Permalinks {
  const client =
    'client' in o ? o.client : new webApi.WebClient(o.token, { retryConfig: { retries: 1 }, ...(o.apiUrl ? { slackApiUrl: o.apiUrl.endsWith('/') ? o.apiUrl : `${o.apiUrl}/` } : {}) });
  const cache = new Map<string, string>();
  return async (channel, ts) => {
    const key = `${channel}:${ts}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    try {
      const r = await client.chat.getPermalink({ channel, message_ts: ts });
      if (typeof r.permalink !== 'string' || !/^https:\/\//.test(r.permalink)) return undefined;
      cache.set(key, r.permalink);
      return r.permalink;
    } catch {
      return undefined;
    }
  };
}
