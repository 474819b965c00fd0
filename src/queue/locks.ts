/**
 * Per-table locks with fencing tokens.
 *
 * A lock belongs to a JOB, not to a worker: it is taken when the job is enqueued and held until the job settles —
 * including while the job is parked on an approval gate, when no worker holds anything. So a lock has no short expiry.
 * Instead a lock is STALE when its holder job is missing or settled (succeeded, rejected, rolled back, cancelled); a
 * stale lock is taken over by the next job. A FAILED job keeps its lock: its table may be half-changed, and only a
 * retry, a rollback or an operator's `unlock` may move on from there.
 *
 * Every acquisition gets a fencing token from INCR, strictly increasing. The engine checks, before each step, that the
 * lock still carries its job id and token; a job whose lock was taken over (after an operator's unlock) stops instead of
 * writing over the new holder's work.
 *
 * Policy: a second changing job on a locked table is REFUSED with the holder's id rather than queued behind it.
 * A queued job would have been planned (and perhaps approved) against the table as it is now; the first job changes
 * that table, so the second plan would run against a definition nobody reviewed. Refusing makes the user re-plan
 * against the result — and keeps "what is waiting on what" visible instead of hidden in a queue.
 */
import type { Redis } from 'ioredis';
import { type Keys, keysFor } from './keys.js';
import { type AcquireResult, type LockHolder, SETTLED_STATES, type TableLocks as TableLocksPort } from '../jobs/ports.js';
import { LuaScript } from './lua.js';

export type { AcquireResult, LockHolder } from '../jobs/ports.js';

export type UnlockResult =
  | { ok: true; released?: LockHolder & { state: string } }
  | { ok: false; holder: string; holderState: string; message: string };

// Shared Lua: the state of the job holding a lock ('missing' when its record is gone).
const HOLDER_STATE = `
local function holderState(jobPrefix, jobId)
  local rec = redis.call('HGET', jobPrefix .. jobId, 'json')
  if not rec then return 'missing' end
  local ok, obj = pcall(cjson.decode, rec)
  if ok and type(obj) == 'table' and type(obj.state) == 'string' then return obj.state end
  return 'unreadable'
end
`;

const ACQUIRE = new LuaScript(`${HOLDER_STATE}
local cur = redis.call('HMGET', KEYS[1], 'job', 'fence')
local prevJob, prevFence, prevState = '', '', ''
if cur[1] then
  if cur[1] == ARGV[1] then return {1, cur[2], 're', '', ''} end
  local state = holderState(ARGV[2], cur[1])
  local stale = state == 'missing'
  for s in string.gmatch(ARGV[4], '[^,]+') do if s == state then stale = true end end
  if not stale then return {0, cur[2], cur[1], state, ''} end
  prevJob, prevFence, prevState = cur[1], cur[2], state
end
local fence = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'job', ARGV[1], 'fence', fence, 'since', ARGV[3])
return {1, tostring(fence), prevJob, prevState, prevFence}
`);

const RELEASE = new LuaScript(`
if redis.call('HGET', KEYS[1], 'job') == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0
`);

const UNLOCK = new LuaScript(`${HOLDER_STATE}
local cur = redis.call('HMGET', KEYS[1], 'job', 'fence', 'since')
if not cur[1] then return {1, '', '', '', ''} end
local state = holderState(ARGV[1], cur[1])
if state == 'running' then return {0, cur[1], state, cur[2], cur[3]} end
redis.call('DEL', KEYS[1])
return {1, cur[1], state, cur[2], cur[3]}
`);

export class TableLocks implements TableLocksPort {
  readonly keys: Keys;

  constructor(
    readonly redis: Redis,
    prefix?: string,
  ) {
    this.keys = keysFor(prefix);
  }

  /**
   * Take the lock on `table` for `jobId`. Re-entrant (the holder gets its own fence back). A stale lock (holder missing
   * or settled) is taken over with a new, higher fence. Otherwise refused, naming the holder.
   */
  async acquire(table: string, jobId: string, now: number = Date.now()): Promise<AcquireResult> {
    const [ok, fence, a, b, c] = (await ACQUIRE.run(
      this.redis,
      [this.keys.lock(table), this.keys.fenceSeq],
      [jobId, this.keys.jobPrefix, now, SETTLED_STATES.join(',')],
    )) as [number, string, string, string, string];
    if (ok === 1) {
      if (a === 're') return { ok: true, fence: Number(fence), reentrant: true };
      return {
        ok: true,
        fence: Number(fence),
        reentrant: false,
        ...(a !== '' ? { takenOverFrom: { jobId: a, fence: Number(c), state: b } } : {}),
      };
    }
    return {
      ok: false,
      holder: a,
      holderState: b,
      holderFence: Number(fence),
      message:
        `${table} is locked by job ${a} (${b}). One changing job per table at a time: ` +
        (b === 'failed'
          ? `retry or roll back job ${a} first, or ask an operator to \`unlock ${table}\`.`
          : `wait for job ${a} to finish (see \`/redshift jobs\`), then plan again against the changed table.`),
    };
  }

  async holder(table: string): Promise<LockHolder | undefined> {
    const [job, fence, since] = await this.redis.hmget(this.keys.lock(table), 'job', 'fence', 'since');
    if (job == null) return undefined;
    return { jobId: job, fence: Number(fence), since: Number(since) };
  }

  /** Every held lock (SCAN over this prefix's lock keys), sorted by table. */
  async list(): Promise<Array<LockHolder & { table: string }>> {
    const base = this.keys.lock('');
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${base}*`, 'COUNT', 500);
      cursor = next;
      for (const k of batch) if (k !== this.keys.fenceSeq) keys.push(k);
    } while (cursor !== '0');
    const out: Array<LockHolder & { table: string }> = [];
    for (const key of keys.sort()) {
      const [job, fence, since] = await this.redis.hmget(key, 'job', 'fence', 'since');
      if (job == null) continue;
      out.push({ table: key.slice(base.length), jobId: job, fence: Number(fence), since: Number(since) });
    }
    return out;
  }

  /** Is the lock still held by `jobId` with exactly this fence? */
  async check(table: string, jobId: string, fence: number): Promise<boolean> {
    const h = await this.holder(table);
    return h !== undefined && h.jobId === jobId && h.fence === fence;
  }

  /** Release if (and only if) `jobId` holds it. */
  async release(table: string, jobId: string): Promise<boolean> {
    return ((await RELEASE.run(this.redis, [this.keys.lock(table)], [jobId])) as number) === 1;
  }

  /**
   * Operator override: drop the lock unless its holder is running right now (a running job would lose its fence
   * mid-step; cancel it first). A holder that later resumes finds its fence gone and stops.
   */
  async unlock(table: string): Promise<UnlockResult> {
    const [ok, job, state, fence, since] = (await UNLOCK.run(this.redis, [this.keys.lock(table)], [this.keys.jobPrefix])) as [
      number,
      string,
      string,
      string,
      string,
    ];
    if (ok === 1) {
      return job === '' ? { ok: true } : { ok: true, released: { jobId: job, state, fence: Number(fence), since: Number(since) } };
    }
    return {
      ok: false,
      holder: job,
      holderState: state,
      message: `${table} is locked by job ${job}, which is running right now; cancel job ${job} first (it stops between steps).`,
    };
  }
}
