/**
 * Incidents in Redis: one hash field per open incident (`<prefix>:watch:incidents`, field = the problem key such as
 * `dms:<task>:not-running`). Opening claims the field with HSETNX, so two watch runs (two workers, a slow run and the
 * next one) never post the same incident twice; resolving removes it with HDEL, and only the run whose HDEL removed it
 * posts the "resolved" follow-up.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';

export const incidentSchema = z.object({
  key: z.string(),
  title: z.string(),
  openedAt: z.number(),
  /** where the alert was posted (absent while the post is in flight) */
  channel: z.string().optional(),
  ts: z.string().optional(),
});
export type Incident = z.infer<typeof incidentSchema>;

export class IncidentStore {
  readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = `${prefix}:watch:incidents`;
  }

  async list(): Promise<Incident[]> {
    const all = await this.redis.hgetall(this.key);
    const out: Incident[] = [];
    for (const [key, json] of Object.entries(all)) {
      let value: unknown;
      try {
        value = JSON.parse(json);
      } catch {
        value = undefined;
      }
      const r = incidentSchema.safeParse(value);
      // an unreadable record is kept as an open incident without a message, so it can still resolve (and is not re-posted)
      out.push(r.success ? r.data : { key, title: key, openedAt: 0 });
    }
    return out.sort((a, b) => a.openedAt - b.openedAt);
  }

  /** Claim a new incident; false when it is open already. */
  async claim(incident: Incident): Promise<boolean> {
    return (await this.redis.hsetnx(this.key, incident.key, JSON.stringify(incident))) === 1;
  }

  async save(incident: Incident): Promise<void> {
    await this.redis.hset(this.key, incident.key, JSON.stringify(incident));
  }

  /** Remove it; true only for the caller that removed it. */
  async close(key: string): Promise<boolean> {
    return (await this.redis.hdel(this.key, key)) === 1;
  }
}
