/**
 * One watch run: gather the same health facts `status` shows (src/health/), keep the problems the watch alerts on, and
 * compare them with the open incidents in Redis — post an alert for each new one (once), and for each incident whose
 * problem is gone, post "resolved" in its thread and edit the alert. A problem whose part could not be read this run
 * (e.g. DescribeReplicationTasks throttled) keeps its incident open: unknown is not resolved.
 */
import type { Logger } from 'pino';
import { findProblems, gatherHealth, type HealthDeps, type HealthThresholds, type Problem } from '../health/index.js';
import { resolveThreadLinks } from '../health/problems.js';
import type { Permalinks } from '../slack/permalink.js';
import type { SlackMessage } from '../slack/blocks.js';
import { IncidentStore } from './incidents.js';
import { alertMessage, resolvedAlertMessage, resolvedReply } from './messages.js';

/** Where alerts go (a Slack WebClient in production, the fake Slack's Web API in tests). */
export interface AlertPoster {
  post(channel: string, m: SlackMessage): Promise<{ ts: string }>;
  reply(channel: string, threadTs: string, m: SlackMessage): Promise<void>;
  update(channel: string, ts: string, m: SlackMessage): Promise<void>;
}

export interface WatchDeps {
  health: HealthDeps;
  incidents: IncidentStore;
  poster: AlertPoster;
  /** ALERT_CHANNEL */
  channel: string;
  thresholds?: Partial<HealthThresholds>;
  /** links to job threads (chat.getPermalink) */
  permalink?: Permalinks;
  /** the clock (tests inject a fake one) */
  now?: () => number;
  logger?: Logger;
}

export interface WatchResult {
  at: number;
  problems: Problem[];
  opened: string[];
  resolved: string[];
  /** incidents kept open because their part could not be read */
  keptUnknown: string[];
}

/** The `health:` problem that, when present, means this key could not be judged this run. */
function unknownPartOf(key: string): (k: string) => boolean {
  const [kind, subject] = key.split(':');
  switch (kind) {
    case 'dms':
      return (k) => k === `health:dms:${subject}` || k.startsWith('health:dms-table:');
    case 'logs':
      return (k) => k === `health:logs:${key.slice('logs:'.length, key.lastIndexOf(':'))}`;
    case 'cdc':
      return (k) => k === 'health:freshness';
    case 'job':
      return (k) => k === 'health:queue';
    case 'source':
      return (k) => k === `health:source:${subject}`;
    default:
      return () => false;
  }
}

export async function runWatch(d: WatchDeps): Promise<WatchResult> {
  const at = (d.now ?? Date.now)();
  const snapshot = await gatherHealth(d.health, { now: at, ...(d.thresholds ? { thresholds: d.thresholds } : {}) });
  const problems = findProblems(snapshot, d.health.registry, d.thresholds);
  const alerting = new Map(problems.filter((p) => p.alert).map((p) => [p.key, p]));
  const unknownKeys = problems.filter((p) => p.severity === 'unknown').map((p) => p.key);
  const open = await d.incidents.list();
  const out: WatchResult = { at, problems, opened: [], resolved: [], keptUnknown: [] };
  const fresh = [...alerting.values()].filter((p) => !open.some((i) => i.key === p.key));
  await resolveThreadLinks(fresh, d.permalink);
  const log = d.logger;

  for (const p of alerting.values()) {
    if (open.some((i) => i.key === p.key)) continue;
    const incident = { key: p.key, title: p.title, openedAt: at };
    if (!(await d.incidents.claim(incident))) continue; // another run opened it meanwhile
    try {
      const { ts } = await d.poster.post(d.channel, alertMessage(p, snapshot.schema, at));
      await d.incidents.save({ ...incident, channel: d.channel, ts });
      out.opened.push(p.key);
      log?.info({ incident: p.key }, 'alert posted');
    } catch (e) {
      await d.incidents.close(p.key); // not posted: the next run tries again
      log?.error({ incident: p.key, err: e instanceof Error ? e.message : String(e) }, 'alert could not be posted');
    }
  }

  for (const i of open) {
    if (alerting.has(i.key)) continue;
    const isUnknown = unknownPartOf(i.key);
    if (unknownKeys.some(isUnknown)) {
      out.keptUnknown.push(i.key);
      continue;
    }
    if (!(await d.incidents.close(i.key))) continue; // another run resolved it
    out.resolved.push(i.key);
    if (i.channel && i.ts) {
      try {
        await d.poster.reply(i.channel, i.ts, resolvedReply(i.title, i.openedAt, at));
        await d.poster.update(i.channel, i.ts, resolvedAlertMessage(i.title, i.key, i.openedAt, at));
      } catch (e) {
        log?.error({ incident: i.key, err: e instanceof Error ? e.message : String(e) }, 'resolution could not be posted');
      }
    }
    log?.info({ incident: i.key }, 'incident resolved');
  }
  return out;
}
