/**
 * Run a Lua script with EVALSHA, loading it on NOSCRIPT. Scripts are how the store, the locks and the approvals get
 * their atomicity on a connection shared by many concurrent callers (WATCH/MULTI would need one connection each).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export class LuaScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('NOSCRIPT')) return redis.eval(this.source, keys.length, ...keys, ...args);
      throw e;
    }
  }
}

// the settled states are the engine's notion (src/jobs/ports.ts); the Lua scripts receive them as an argument
export { SETTLED_STATES } from '../jobs/ports.js';
