/**
 * The one retry policy of the AWS adapters (Data API, DMS, CloudWatch Logs): throttling and transient failures are
 * retried with full-jitter exponential backoff, abortable; anything else (or running out of tries) becomes the
 * adapter's own readable error via `fail`.
 */
import { abortError, sleep as defaultSleep } from './sleep.js';

export type Retryable = 'throttle' | 'transient';

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
  classify: (err: unknown) => Retryable | undefined;
  /** the error to throw: `kind` is set when the retries ran out, undefined for an error that is not retried */
  fail: (err: unknown, kind: Retryable | undefined, attempts: number) => Error;
  signal?: AbortSignal | undefined;
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
      const kind = o.classify(err);
      if (kind === undefined || attempt >= o.policy.maxRetries) throw o.fail(err, kind, attempt + 1);
      o.stats.retries++;
      if (kind === 'throttle') o.stats.throttled++;
      const ceiling = Math.min(o.policy.maxMs, o.policy.baseMs * 2 ** attempt);
      await sleep(random() * ceiling, o.signal);
    }
  }
}
