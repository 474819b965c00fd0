/**
 * Replay guard for signed Slack requests.
 *
 * Bolt checks a request's signature and that its timestamp is no older than 5 minutes, so a captured request can be
 * re-sent within that window and would run again. The guard remembers every (timestamp, signature) pair it has let
 * through until the pair could no longer pass Bolt's age check, and refuses a second sighting.
 *
 * The store is pluggable: `MemoryReplayGuard` serves one process; with several bot processes behind a load balancer,
 * back it with Redis (`SET key 1 NX PX ttl` — the reply "OK" means first seen), e.g.
 *
 *   const guard: ReplayGuard = { firstSeen: async (k, ttl) => (await redis.set(`rso:slack:seen:${k}`, '1', 'PX', ttl, 'NX')) === 'OK' };
 */

export interface ReplayGuard {
  /**
   * Remember `key` for `ttlMs` and say whether this is the first time it was seen (atomically: of two concurrent calls
   * with the same key exactly one gets true).
   */
  firstSeen(key: string, ttlMs: number): Promise<boolean>;
}

/** How long Slack (and Bolt) accept a request after its timestamp. */
export const SLACK_REQUEST_MAX_AGE_MS = 5 * 60_000;

/**
 * How long a (timestamp, signature) pair must be remembered: until the timestamp is older than Bolt's 5-minute window,
 * plus a margin for clock drift between bot processes.
 */
export function replayTtlMs(timestampSec: number, nowMs: number, marginMs = 60_000): number {
  return Math.max(1_000, timestampSec * 1000 + SLACK_REQUEST_MAX_AGE_MS - nowMs + marginMs);
}

export function replayKey(timestampSec: number, signature: string): string {
  return `${timestampSec}:${signature}`;
}

/** In-process guard: a Map of key → expiry, swept as it is used. Entries only come from validly signed requests. */
export class MemoryReplayGuard implements ReplayGuard {
  private readonly seen = new Map<string, number>();
  private lastSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async firstSeen(key: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    this.sweep(now);
    const expires = this.seen.get(key);
    if (expires !== undefined && expires > now) return false;
    this.seen.set(key, now + ttlMs);
    return true;
  }

  /** Number of remembered pairs (for tests and metrics). */
  get size(): number {
    return this.seen.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 10_000 && this.seen.size < 10_000) return;
    this.lastSweep = now;
    for (const [k, exp] of this.seen) if (exp <= now) this.seen.delete(k);
  }
}
