import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { RedisUnreachableError, connectRedis, redisUrlFromEnv } from '../../src/queue/connection.js';
import { REDIS_URL } from '../support/jobs-harness.js';

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const addr = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

describe('Redis connection', () => {
  it('connects to the configured Redis with BullMQ-compatible options', async () => {
    const redis = await connectRedis(REDIS_URL);
    try {
      expect(await redis.ping()).toBe('PONG');
      expect(redis.options.maxRetriesPerRequest).toBeNull();
    } finally {
      await redis.quit();
    }
  });

  it('fails fast with one line naming the URL (password hidden) and how to start Redis', async () => {
    const port = await closedPort();
    const url = `redis://:s3cret@127.0.0.1:${port}`;
    const err = await connectRedis(url).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RedisUnreachableError);
    expect((err as Error).message).toBe(
      `Cannot reach Redis at redis://:***@127.0.0.1:${port} (ECONNREFUSED). Start one with \`redis-server\` or \`docker run -d -p 6379:6379 redis:7\`, or point REDIS_URL at yours.`,
    );
    expect((err as Error).message).not.toContain('s3cret');
  });

  it('reads REDIS_URL with a local default', () => {
    expect(redisUrlFromEnv({})).toBe('redis://127.0.0.1:6379');
    expect(redisUrlFromEnv({ REDIS_URL: 'redis://cache:6380/2' })).toBe('redis://cache:6380/2');
  });
});
