/**
 * What the DMS and CloudWatch Logs adapters share: the AWS retry policy (src/util/retry.ts — the same rules as the Data
 * API adapter's), response validation with zod, readable errors, and the SDK client settings (src/util/aws-sdk.ts).
 */
import { abortError, sleep } from '../util/sleep.js';
import { withRetries } from '../util/retry.js';
import type { z } from 'zod';
import type { AwsConfig } from '../config.js';
import { ReplicationError } from './port.js';

export interface RetryOptions {
  /** retries after the first attempt (default 8) */
  maxRetries: number;
  /** backoff base, ms: the n-th retry sleeps random(0, min(maxMs, baseMs × 2^n)) (default 100) */
  baseMs: number;
  /** backoff cap, ms (default 10 000) */
  maxMs: number;
}

export const DEFAULT_AWS_RETRY: RetryOptions = { maxRetries: 8, baseMs: 100, maxMs: 10_000 };

/** Counters for diagnostics and tests (was a throttle retried?). */
export interface AwsCallStats {
  /** AWS calls sent, retries included */
  calls: number;
  /** calls repeated after a retryable error */
  retries: number;
  /** of those, how many were throttling */
  throttled: number;
}

/** What an adapter needs of an SDK client: the SDK client itself, or an in-process fake. */
export interface AwsClientLike<C> {
  send(command: C, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  destroy?(): void;
}

/** The AWS error code of an SDK error (its `name`, e.g. `InvalidResourceStateFault`). */
export function awsCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const n = (err as { name?: unknown }).name;
  return typeof n === 'string' && n !== 'Error' ? n : undefined;
}



export interface AwsCallerOptions {
  /** "DMS" / "CloudWatch Logs": names the service in messages */
  service: string;
  retry?: Partial<RetryOptions>;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** Sends one client's commands with the retry policy; turns final failures into ReplicationErrors. */
export class AwsCaller<C> {
  readonly stats: AwsCallStats = { calls: 0, retries: 0, throttled: 0 };
  readonly retry: RetryOptions;
  readonly doSleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  readonly service: string;

  constructor(
    private readonly client: AwsClientLike<C>,
    opts: AwsCallerOptions,
  ) {
    this.service = opts.service;
    this.retry = { ...DEFAULT_AWS_RETRY, ...opts.retry };
    this.doSleep = opts.sleep ?? sleep;
    this.random = opts.random ?? Math.random;
  }

  /**
   * Send `command`, retrying throttling / transient failures. Other errors pass through `onError` first (an adapter
   * turns e.g. ResourceNotFoundFault into a 'not-found' ReplicationError); whatever it does not handle becomes an 'aws'
   * ReplicationError naming the operation and the AWS error.
   */
  async send(command: C, op: string, ctx: { signal?: AbortSignal | undefined; onError?: (err: unknown) => Error | undefined } = {}): Promise<unknown> {
    return withRetries(() => this.client.send(command, ctx.signal !== undefined ? { abortSignal: ctx.signal } : undefined), {
      policy: this.retry,
      stats: this.stats,
      signal: ctx.signal,
      what: `${this.service} ${op}`,
      sleep: this.doSleep,
      random: this.random,
      fail: (err, kind, attempts) => {
        if (err instanceof ReplicationError) return err;
        const mapped = kind === undefined ? ctx.onError?.(err) : undefined;
        if (mapped !== undefined) return mapped;
        const tries = kind === undefined ? '' : ` (gave up after ${attempts} attempts)`;
        const code = awsCode(err);
        return new ReplicationError(`${this.service} ${op} failed${tries}: ${errorText(err)}`, 'aws', { operation: op, ...(code !== undefined ? { awsCode: code } : {}) });
      },
    });
  }

  close(): void {
    this.client.destroy?.();
  }
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.name && err.name !== 'Error' ? `${err.name}: ${err.message}` : err.message;
  return String(err);
}

/** Validate the part of a response an adapter depends on; a different shape is a 'bad-response' ReplicationError. */
export function parseResponse<T>(schema: z.ZodType<T>, value: unknown, service: string, op: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const where = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new ReplicationError(`${service} answered ${op} with an unexpected response (${where})`, 'bad-response', { operation: op });
}

/** The endpoint a service's client uses: its own setting, else AWS_ENDPOINT_URL, else the SDK default (undefined). */
export function serviceEndpoint(aws: AwsConfig, service: 'dms' | 'logs'): string | undefined {
  return (service === 'dms' ? aws.dmsEndpoint : aws.logsEndpoint) ?? aws.endpoint;
}

export { abortError };
