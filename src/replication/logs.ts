/**
 * The LogsPort over CloudWatch Logs (@aws-sdk/client-cloudwatch-logs), and watchLogs(): the "read the DMS task's log
 * for N minutes after the resume" check. Runs unchanged against the loopback sandbox (src/sandbox/logs.ts).
 *
 * - scan() follows FilterLogEvents' nextToken until it is absent — THROUGH EMPTY PAGES: CloudWatch searches a bounded
 *   slice per call, so a page may hold no events and still carry a token (stopping there misses the errors).
 * - The port's window is [startMs, endMs); CloudWatch's endTime is inclusive, so endTime = endMs − 1.
 * - More than 100 stream names are searched in chunks of 100 (FilterLogEvents' limit).
 * - Same retry policy as the other adapters (throttling, 5xx; SDK maxAttempts 1 in createLogs()); responses validated
 *   with zod; a missing log group is a 'not-found' ReplicationError, not an empty (= "no errors") result.
 */
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { z } from 'zod';
import type { AwsConfig, Env } from '../config.js';
import { sdkClientConfig } from '../util/aws-sdk.js';
import { AwsCaller, type AwsCallStats, type AwsClientLike, type RetryOptions, abortError, awsCode, errorText, parseResponse, serviceEndpoint } from './aws-call.js';
import { type DmsLogLine, type LogsPort, ReplicationError, parseDmsLogLine } from './port.js';

export type LogsCommand = FilterLogEventsCommand;

export interface ScanOptions {
  group: string;
  streams?: string[];
  startMs: number;
  endMs: number;
  pattern?: string;
  signal?: AbortSignal;
}

export interface CloudWatchLogsAdapterOptions {
  client: AwsClientLike<LogsCommand>;
  retry?: Partial<RetryOptions>;
  /** give up after this many FilterLogEvents pages for one scan (default 10 000): a guard, not a limit you should meet */
  maxPages?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

const SERVICE = 'CloudWatch Logs';
const MAX_STREAMS_PER_CALL = 100;

const eventShape = z.object({
  logStreamName: z.string().optional(),
  timestamp: z.number().optional(),
  message: z.string().optional(),
  eventId: z.string().optional(),
});
const filterOutput = z.object({ events: z.array(eventShape).optional(), nextToken: z.string().optional() });

/** Counters of the last and all scans (tests check that empty pages were followed). */
export interface LogsScanStats extends AwsCallStats {
  pages: number;
  emptyPagesWithToken: number;
}

export class CloudWatchLogsAdapter implements LogsPort {
  private readonly caller: AwsCaller<LogsCommand>;
  private readonly maxPages: number;
  private pages = 0;
  private emptyPagesWithToken = 0;

  constructor(opts: CloudWatchLogsAdapterOptions) {
    this.caller = new AwsCaller(opts.client, {
      service: SERVICE,
      ...(opts.retry !== undefined ? { retry: opts.retry } : {}),
      ...(opts.sleep !== undefined ? { sleep: opts.sleep } : {}),
      ...(opts.random !== undefined ? { random: opts.random } : {}),
    });
    this.maxPages = opts.maxPages ?? 10_000;
  }

  get stats(): LogsScanStats {
    return { ...this.caller.stats, pages: this.pages, emptyPagesWithToken: this.emptyPagesWithToken };
  }

  close(): void {
    this.caller.close();
  }

  async scan(opts: ScanOptions): Promise<DmsLogLine[]> {
    if (opts.endMs <= opts.startMs) return [];
    const chunks: (string[] | undefined)[] = [];
    if (opts.streams === undefined) chunks.push(undefined);
    else {
      if (opts.streams.length === 0) return [];
      for (let i = 0; i < opts.streams.length; i += MAX_STREAMS_PER_CALL) chunks.push(opts.streams.slice(i, i + MAX_STREAMS_PER_CALL));
    }
    const lines: DmsLogLine[] = [];
    for (const streams of chunks) lines.push(...(await this.scanChunk(opts, streams)));
    return lines.sort((a, b) => a.timestamp - b.timestamp || (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
  }

  private async scanChunk(opts: ScanOptions, streams: string[] | undefined): Promise<DmsLogLine[]> {
    const out: DmsLogLine[] = [];
    let token: string | undefined;
    const seenTokens = new Set<string>();
    let pages = 0;
    do {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      const raw = await this.caller.send(
        new FilterLogEventsCommand({
          logGroupName: opts.group,
          ...(streams !== undefined ? { logStreamNames: streams } : {}),
          startTime: opts.startMs,
          endTime: opts.endMs - 1,
          ...(opts.pattern !== undefined && opts.pattern.trim() !== '' ? { filterPattern: opts.pattern } : {}),
          ...(token !== undefined ? { nextToken: token } : {}),
        }),
        'FilterLogEvents',
        {
          signal: opts.signal,
          onError: (err) => {
            const code = awsCode(err);
            if (code === 'ResourceNotFoundException')
              return new ReplicationError(
                `CloudWatch log ${opts.group}${streams !== undefined ? ` (streams ${streams.join(', ')})` : ''} was not found: ${errorText(err)}. Check replication.logGroup / logStream in the table's schemas/ file; DMS creates the group when a task with logging enabled first runs`,
                'not-found',
                { operation: 'FilterLogEvents', awsCode: code },
              );
            if (code === 'InvalidParameterException')
              return new ReplicationError(`CloudWatch Logs refused the search of ${opts.group}: ${errorText(err)}`, 'aws', { operation: 'FilterLogEvents', awsCode: code });
            return undefined;
          },
        },
      );
      const page = parseResponse(filterOutput, raw, SERVICE, 'FilterLogEvents');
      pages++;
      this.pages++;
      const events = page.events ?? [];
      token = page.nextToken !== undefined && page.nextToken !== '' ? page.nextToken : undefined;
      if (events.length === 0 && token !== undefined) this.emptyPagesWithToken++;
      for (const e of events) {
        if (e.message === undefined || e.timestamp === undefined) continue;
        const line = parseDmsLogLine(e.message, e.timestamp, e.logStreamName ?? '');
        out.push(e.eventId !== undefined ? { ...line, eventId: e.eventId } : line);
      }
      if (token !== undefined) {
        if (seenTokens.has(token))
          throw new ReplicationError(`${SERVICE} returned the same FilterLogEvents nextToken twice for ${opts.group}`, 'bad-response', { operation: 'FilterLogEvents' });
        seenTokens.add(token);
        if (pages >= this.maxPages)
          throw new ReplicationError(
            `${SERVICE}: the search of ${opts.group} was still going after ${pages} pages; narrow the time window or the filter pattern`,
            'bad-response',
            { operation: 'FilterLogEvents' },
          );
      }
    } while (token !== undefined);
    return out;
  }
}

export interface CreateLogsOptions {
  client?: AwsClientLike<LogsCommand>;
  retry?: Partial<RetryOptions>;
  maxPages?: number;
  /** environment for the placeholder-credential check (default process.env) */
  env?: Env;
}

/** Build the adapter: region, `aws.logsEndpoint ?? aws.endpoint`, SDK maxAttempts 1, sandbox placeholder credentials. */
export function createLogs(config: { aws: AwsConfig }, opts: CreateLogsOptions = {}): CloudWatchLogsAdapter {
  const client = opts.client ?? new CloudWatchLogsClient(sdkClientConfig(config.aws.region, serviceEndpoint(config.aws, 'logs'), opts.env ?? process.env));
  return new CloudWatchLogsAdapter({
    client,
    ...(opts.retry !== undefined ? { retry: opts.retry } : {}),
    ...(opts.maxPages !== undefined ? { maxPages: opts.maxPages } : {}),
  });
}

// watchLogs (the log check's re-scanning watcher) lives in watch-logs.ts; re-exported for the adapter's users
export { watchLogs, type WatchOptions, type WatchResult } from './watch-logs.js';
