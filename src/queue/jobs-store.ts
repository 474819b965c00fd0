/**
 * Job records in Redis: one hash `<prefix>:job:<id>` holding the JSON record and a version number. Every change is a
 * compare-and-set on the version (a Lua script), retried on conflict with a fresh read — so the engine persisting a step,
 * an approver clicking and an operator cancelling never overwrite each other's fields.
 *
 * Ids are small integers from INCR ("job 42"), and the same Slack trigger always maps to the same job.
 */
import type { Redis } from 'ioredis';
import type { JobStore, Transaction, TransactResult } from '../jobs/ports.js';
import type { JobOrigin, JobRecord, StepRecord } from '../jobs/types.js';
import { type Keys, keysFor } from './keys.js';
import { LuaScript } from './lua.js';

export interface NewJob {
  kind: string;
  table?: string;
  requester: string;
  commandText: string;
  summary: string;
  params: unknown;
  origin: JobOrigin;
  /** the runbook's steps, when the caller built it already; otherwise the engine fills them on first run */
  steps?: StepRecord[];
  /** Slack trigger id / message client id: the same trigger returns the same job */
  triggerId?: string;
}

export class JobNotFoundError extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId} not found: list recent jobs with \`/redshift jobs\``);
    this.name = 'JobNotFoundError';
  }
}

export class JobConflictError extends Error {
  constructor(readonly jobId: string, attempts: number) {
    super(`job ${jobId} kept changing under us (${attempts} attempts to update it failed); try again`);
    this.name = 'JobConflictError';
  }
}

export type { Transaction, TransactResult } from '../jobs/ports.js';

const CREATE = new LuaScript(`
local hasTrigger = ARGV[4] == '1'
if hasTrigger then
  local existing = redis.call('GET', KEYS[3])
  if existing and redis.call('EXISTS', ARGV[1] .. existing) == 1 then return {0, existing} end
end
local id = tostring(redis.call('INCR', KEYS[1]))
local json = '{"id":"' .. id .. '",' .. string.sub(ARGV[2], 2)
redis.call('HSET', ARGV[1] .. id, 'json', json, 'ver', '1')
redis.call('ZADD', KEYS[2], ARGV[3], id)
if hasTrigger then redis.call('SET', KEYS[3], id, 'EX', ARGV[5]) end
return {1, id}
`);

const CAS = new LuaScript(`
local v = redis.call('HGET', KEYS[1], 'ver')
if not v then return -1 end
if v ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'json', ARGV[2], 'ver', tostring(tonumber(v) + 1))
return 1
`);

/** How long a trigger id keeps pointing at its job (Slack retries within minutes; a day is plenty). */
const TRIGGER_TTL_S = 24 * 3600;
const MAX_CAS_ATTEMPTS = 100;

function parseRecord(id: string, json: string): JobRecord {
  const value: unknown = JSON.parse(json);
  if (typeof value !== 'object' || value === null || !('state' in value) || !('steps' in value)) {
    throw new Error(`job ${id}: the stored record is not a job record (corrupt key?)`);
  }
  return value as JobRecord;
}

export class JobsStore implements JobStore {
  readonly keys: Keys;

  constructor(
    readonly redis: Redis,
    prefix?: string,
  ) {
    this.keys = keysFor(prefix);
  }

  /** Create a job (state `queued`, attempt 1), or return the one created earlier for the same trigger. */
  async create(input: NewJob, now: number = Date.now()): Promise<{ job: JobRecord; created: boolean }> {
    const rest: Omit<JobRecord, 'id'> = {
      kind: input.kind,
      ...(input.table !== undefined ? { table: input.table } : {}),
      requester: input.requester,
      commandText: input.commandText,
      summary: input.summary,
      params: input.params,
      state: 'queued',
      cursor: 0,
      steps: input.steps ?? [],
      handles: {},
      approvals: [],
      origin: input.origin,
      attempt: 1,
      ...(input.triggerId !== undefined ? { triggerId: input.triggerId } : {}),
      createdAt: now,
      updatedAt: now,
    };
    const trigger = input.triggerId;
    const out = (await CREATE.run(
      this.redis,
      [this.keys.jobSeq, this.keys.jobsRecent, this.keys.trigger(trigger ?? '-')],
      [this.keys.jobPrefix, JSON.stringify(rest), now, trigger !== undefined ? '1' : '0', TRIGGER_TTL_S],
    )) as [number, string];
    const [created, id] = out;
    const job = await this.get(String(id));
    if (!job) throw new JobNotFoundError(String(id));
    return { job, created: created === 1 };
  }

  async get(id: string): Promise<JobRecord | undefined> {
    return (await this.getVersioned(id))?.job;
  }

  async getVersioned(id: string): Promise<{ job: JobRecord; version: string } | undefined> {
    const [json, ver] = await this.redis.hmget(this.keys.job(id), 'json', 'ver');
    if (json == null || ver == null) return undefined;
    return { job: parseRecord(id, json), version: ver };
  }

  /**
   * Read-check-write with optimistic concurrency: `fn` sees the current record and decides; if it returns `write`, the
   * new record is stored only if nobody changed the job meanwhile — otherwise `fn` runs again on the fresh record.
   */
  async transact<R>(id: string, fn: Transaction<R>): Promise<TransactResult<R>> {
    for (let attempt = 1; attempt <= MAX_CAS_ATTEMPTS; attempt++) {
      const cur = await this.getVersioned(id);
      if (!cur) return { found: false };
      const out = fn(structuredClone(cur.job));
      if (!out.write) return { found: true, job: cur.job, result: out.result, written: false };
      const next: JobRecord = { ...out.write, id: cur.job.id, updatedAt: Date.now() };
      const ok = (await CAS.run(this.redis, [this.keys.job(id)], [cur.version, JSON.stringify(next)])) as number;
      if (ok === 1) return { found: true, job: next, result: out.result, written: true };
      if (ok === -1) return { found: false };
      // conflict: someone wrote in between; back off a little and re-read
      await new Promise((r) => setTimeout(r, Math.min(50, attempt * 2) * Math.random()));
    }
    throw new JobConflictError(id, MAX_CAS_ATTEMPTS);
  }

  /** Change a job with `mutate` (edit the draft in place or return a new record). Throws JobNotFoundError. */
  async update(id: string, mutate: (draft: JobRecord) => JobRecord | void): Promise<JobRecord> {
    const r = await this.transact(id, (draft) => ({ write: mutate(draft) ?? draft, result: undefined }));
    if (!r.found) throw new JobNotFoundError(id);
    return r.job;
  }

  /** Most recent first. */
  async listRecent(limit = 20): Promise<JobRecord[]> {
    const ids = await this.redis.zrevrange(this.keys.jobsRecent, 0, Math.max(0, limit - 1));
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hget(this.keys.job(id), 'json');
    const res = (await pipe.exec()) ?? [];
    const jobs: JobRecord[] = [];
    res.forEach(([err, json], i) => {
      if (!err && typeof json === 'string') jobs.push(parseRecord(ids[i] ?? '?', json));
    });
    return jobs;
  }

  /** Delete a job record (used when a job is refused before it ever ran). */
  async remove(id: string): Promise<void> {
    const job = await this.get(id);
    const multi = this.redis.multi().del(this.keys.job(id)).zrem(this.keys.jobsRecent, id);
    if (job?.triggerId !== undefined) multi.del(this.keys.trigger(job.triggerId));
    await multi.exec();
  }
}
