/**
 * The Redis connection shared by the queue, the job store, the locks and the audit log.
 * BullMQ needs `maxRetriesPerRequest: null` (its blocking commands must wait through reconnects).
 */
import { Redis, type RedisOptions } from 'ioredis';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export function redisUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.REDIS_URL?.trim();
  return url ? url : DEFAULT_REDIS_URL;
}

/** The URL with any password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

export class RedisUnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: string,
  ) {
    super(
      `Cannot reach Redis at ${redactUrl(url)} (${cause}). Start one with \`redis-server\` or ` +
        '`docker run -d -p 6379:6379 redis:7`, or point REDIS_URL at yours.',
    );
    this.name = 'RedisUnreachableError';
  }
}

export interface ConnectOptions {
  /** ms to wait for the first connection (default 3000) */
  connectTimeoutMs?: number;
  /** extra ioredis options */
  redis?: RedisOptions;
}

/**
 * Connect, or fail fast with one readable line naming the URL. A probe connection that never retries is tried first:
 * the long-lived client (which BullMQ needs to retry forever) would otherwise hang silently on a wrong URL.
 */
export async function connectRedis(url: string = redisUrlFromEnv(), opts: ConnectOptions = {}): Promise<Redis> {
  const timeout = opts.connectTimeoutMs ?? 3000;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeout });
  let lastError = '';
  probe.on('error', (e: NodeJS.ErrnoException) => {
    lastError = e.code ?? e.message;
  });
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    probe.disconnect();
    throw new RedisUnreachableError(url, lastError || (e instanceof Error ? e.message : String(e)));
  }
  probe.disconnect();
  const client = new Redis(url, { ...opts.redis, maxRetriesPerRequest: null });
  await new Promise<void>((resolve, reject) => {
    if (client.status === 'ready') return resolve();
    client.once('ready', () => resolve());
    client.once('end', () => reject(new RedisUnreachableError(url, 'connection closed')));
  });
  return client;
}

/** Remove every key under `prefix:` (SCAN + UNLINK, never KEYS): a demo's or a test's own namespace on a shared Redis. */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== '0');
}
