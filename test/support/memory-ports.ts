/**
 * In-memory implementations of the engine's ports (src/jobs/ports.ts): a job store with the same read-check-write
 * contract, table locks with fencing tokens (a lock of a missing or settled job is stale and taken over) and an audit
 * array. For unit tests of the engine without Redis or BullMQ.
 */
import { type AcquireResult, type AuditEntry, type AuditLog, type JobStore, type LockHolder, SETTLED_STATES, type TableLocks, type Transaction, type TransactResult } from '../../src/jobs/ports.js';
import type { JobRecord } from '../../src/jobs/types.js';

export class MemoryJobStore implements JobStore {
  readonly jobs = new Map<string, JobRecord>();

  put(job: JobRecord): void {
    this.jobs.set(job.id, structuredClone(job));
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const j = this.jobs.get(id);
    return j ? structuredClone(j) : undefined;
  }

  async transact<R>(id: string, fn: Transaction<R>): Promise<TransactResult<R>> {
    const cur = this.jobs.get(id);
    if (!cur) return { found: false };
    const out = fn(structuredClone(cur));
    if (!out.write) return { found: true, job: structuredClone(cur), result: out.result, written: false };
    const next: JobRecord = { ...structuredClone(out.write), id, updatedAt: Date.now() };
    this.jobs.set(id, next);
    return { found: true, job: structuredClone(next), result: out.result, written: true };
  }

  async update(id: string, mutate: (draft: JobRecord) => JobRecord | void): Promise<JobRecord> {
    const r = await this.transact(id, (d) => ({ write: mutate(d) ?? d, result: undefined }));
    if (!r.found) throw new Error(`job ${id} not found`);
    return r.job;
  }
}

export class MemoryTableLocks implements TableLocks {
  private fenceSeq = 0;
  readonly held = new Map<string, LockHolder>();
  constructor(private readonly store: MemoryJobStore) {}

  async acquire(table: string, jobId: string): Promise<AcquireResult> {
    const cur = this.held.get(table);
    if (cur?.jobId === jobId) return { ok: true, fence: cur.fence, reentrant: true };
    if (cur) {
      const state = this.store.jobs.get(cur.jobId)?.state ?? 'missing';
      if (state !== 'missing' && !(SETTLED_STATES as readonly string[]).includes(state)) {
        return { ok: false, holder: cur.jobId, holderState: state, holderFence: cur.fence, message: `${table} is locked by job ${cur.jobId} (${state})` };
      }
    }
    const fence = ++this.fenceSeq;
    this.held.set(table, { jobId, fence, since: Date.now() });
    return { ok: true, fence, reentrant: false, ...(cur ? { takenOverFrom: { jobId: cur.jobId, fence: cur.fence, state: this.store.jobs.get(cur.jobId)?.state ?? 'missing' } } : {}) };
  }

  async holder(table: string): Promise<LockHolder | undefined> {
    return this.held.get(table);
  }

  async check(table: string, jobId: string, fence: number): Promise<boolean> {
    const h = this.held.get(table);
    return h?.jobId === jobId && h.fence === fence;
  }

  async release(table: string, jobId: string): Promise<boolean> {
    if (this.held.get(table)?.jobId !== jobId) return false;
    this.held.delete(table);
    return true;
  }
}

export class MemoryAuditLog implements AuditLog {
  readonly entries: AuditEntry[] = [];
  async append(entry: Omit<AuditEntry, 'at' | 'id'> & { at?: number }): Promise<string> {
    const id = String(this.entries.length + 1);
    this.entries.push({ ...entry, at: entry.at ?? Date.now(), id });
    return id;
  }
}
