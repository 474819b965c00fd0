/**
 * The audit log: an append-only Redis Stream `<prefix>:audit` (default `rso:audit`) — who asked, who approved or
 * rejected, every step start/end, every statement and AWS call id with its outcome. Each entry is also appended to a
 * per-job stream (`<prefix>:audit:job:<id>`) so `readAudit(jobId)` does not scan the whole history.
 * Nothing here trims or edits entries.
 */
import type { Redis } from 'ioredis';
import type { AuditEntry, AuditEvent, AuditLog as AuditLogPort } from '../jobs/ports.js';
import { type Keys, keysFor } from './keys.js';

// the entry's shape is the engine's (src/jobs/ports.ts); this is its Redis Streams implementation
export type { AuditEntry, AuditEvent } from '../jobs/ports.js';

const FIELDS = ['at', 'jobId', 'event', 'actor', 'step', 'ref', 'outcome', 'detail'] as const;

function toFields(e: AuditEntry): string[] {
  const out: string[] = [];
  for (const f of FIELDS) {
    const v = e[f];
    if (v !== undefined) out.push(f, String(v));
  }
  return out;
}

function fromFields(id: string, fields: string[]): AuditEntry {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) m.set(fields[i] ?? '', fields[i + 1] ?? '');
  const e: AuditEntry = { id, at: Number(m.get('at') ?? 0), jobId: m.get('jobId') ?? '', event: (m.get('event') ?? 'finished') as AuditEvent };
  for (const f of ['actor', 'step', 'ref', 'outcome', 'detail'] as const) {
    const v = m.get(f);
    if (v !== undefined) e[f] = v;
  }
  return e;
}

export class AuditLog implements AuditLogPort {
  readonly keys: Keys;

  constructor(
    readonly redis: Redis,
    prefix?: string,
  ) {
    this.keys = keysFor(prefix);
  }

  /** Append one entry; returns its id in the global stream. */
  async append(entry: Omit<AuditEntry, 'at' | 'id'> & { at?: number }): Promise<string> {
    const e: AuditEntry = { ...entry, at: entry.at ?? Date.now() };
    const fields = toFields(e);
    const res = await this.redis
      .multi()
      .xadd(this.keys.audit, '*', ...fields)
      .xadd(this.keys.auditOf(e.jobId), '*', ...fields)
      .exec();
    const id = res?.[0]?.[1];
    return typeof id === 'string' ? id : '';
  }

  /** Every entry of one job, oldest first. */
  async readAudit(jobId: string): Promise<AuditEntry[]> {
    const rows = await this.redis.xrange(this.keys.auditOf(jobId), '-', '+');
    return rows.map(([id, fields]) => fromFields(id, fields));
  }

  /** The most recent `count` entries of all jobs, newest first. */
  async readRecent(count = 50): Promise<AuditEntry[]> {
    const rows = await this.redis.xrevrange(this.keys.audit, '+', '-', 'COUNT', count);
    return rows.map(([id, fields]) => fromFields(id, fields));
  }
}
