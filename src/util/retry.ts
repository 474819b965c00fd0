/**
 * The one retry policy of the AWS adapters (Data API, DMS, CloudWatch Logs): throttling and transient failures (one rule
 * set, `classifyAwsError`) are retried with full-jitter exponential backoff, abortable; anything else (or running out of
 * tries) becomes the adapter's own readable error via `fail`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { abortError, sleep as defaultSleep } from './sleep.js';

/** Who is told that a call is held back (throttled, or its service not answering): the running job step's thread. */
export type WaitNotice = (text: string) => void;
const waitListeners = new AsyncLocalStorage<WaitNotice>();

/** Run `fn` so that every AWS call it makes which has to wait tells `notice` (the engine passes the step's note). */
export function withWaitNotices<T>(notice: WaitNotice, fn: () => Promise<T>): Promise<T> {
  return waitListeners.run(notice, fn);
}

/** Tell whoever runs the current step that we are waiting (nothing happens outside withWaitNotices). */
export function noticeWaiting(text: string): void {
  waitListeners.getStore()?.(text);
}

/** A call that had to be retried this many times says so (once per call): short blips stay quiet. */
export const NOTICE_AFTER_RETRIES = 3;

export type Retryable = 'throttle' | 'transient';

const THROTTLE_NAMES = new Set([
  'ThrottlingException',
  'ThrottlingFault',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  // the Data API's "too many statements running at once": wait and try again
  'ActiveStatementsExceededException',
]);
const TRANSIENT_NAMES = new Set(['InternalServerException', 'InternalFailure', 'InternalServerError', 'ServiceUnavailable', 'ServiceUnavailableException', 'TimeoutError']);
const NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'ECONNREFUSED', 'EAI_AGAIN']);

/**
 * The errors of any AWS call worth another attempt: throttling (every service's spelling, HTTP 429, the SDK's throttling
 * flag), 5xx and connection trouble (refused, reset, timed out, DNS try-again). Everything else is the caller's to report.
 */
export function classifyAwsError(err: unknown): Retryable | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown }; $retryable?: { throttling?: unknown } };
  const name = typeof e.name === 'string' ? e.name : '';
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  if (THROTTLE_NAMES.has(name) || status === 429 || e.$retryable?.throttling === true) return 'throttle';
  if (TRANSIENT_NAMES.has(name) || (status !== undefined && status >= 500)) return 'transient';
  const code = typeof e.code === 'string' ? e.code : '';
  if (NETWORK_CODES.has(code)) return 'transient';
  return undefined;
}

export interface RetryPolicy {
  maxRetries: number;
  baseMs: number;
  maxMs: number;
}

export interface RetryCounters {
  calls: number;
  retries: number;
  throttled: number;
}

export interface RetryOptions {
  policy: RetryPolicy;
  stats: RetryCounters;
  /** default classifyAwsError */
  classify?: (err: unknown) => Retryable | undefined;
  /** the error to throw: `kind` is set when the retries ran out, undefined for an error that is not retried */
  fail: (err: unknown, kind: Retryable | undefined, attempts: number) => Error;
  signal?: AbortSignal | undefined;
  /** what the call is, for the waiting notice ("Data API DescribeStatement") */
  what?: string;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

export async function withRetries<T>(call: () => Promise<T>, o: RetryOptions): Promise<T> {
  const sleep = o.sleep ?? defaultSleep;
  const random = o.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    if (o.signal?.aborted) throw abortError(o.signal);
    o.stats.calls++;
    try {
      return await call();
    } catch (err) {
      if (o.signal?.aborted) throw abortError(o.signal);
      const kind = (o.classify ?? classifyAwsError)(err);
      if (kind === undefined || attempt >= o.policy.maxRetries) throw o.fail(err, kind, attempt + 1);
      o.stats.retries++;
      if (kind === 'throttle') o.stats.throttled++;
      const ceiling = Math.min(o.policy.maxMs, o.policy.baseMs * 2 ** attempt);
      if (attempt + 1 === NOTICE_AFTER_RETRIES) {
        const what = o.what ?? 'an AWS call';
        const why = kind === 'throttle' ? `AWS is throttling ${what}` : `${what} gets no good answer (${errorName(err)})`;
        noticeWaiting(`⏳ ${why}: waiting with backoff and trying again (attempt ${attempt + 2} of at most ${o.policy.maxRetries + 1})`);
      }
      await sleep(random() * ceiling, o.signal);
    }
  }
}

function errorName(err: unknown): string {
  if (err instanceof Error) return err.name && err.name !== 'Error' ? err.name : err.message.slice(0, 80);
  return String(err).slice(0, 80);
}
