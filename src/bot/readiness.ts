/**
 * `/readyz`: can this process do its work right now? Redis answers PING, and the warehouse runs `select 1` through the
 * Data API — each within a timeout, checked in parallel. `/healthz` (liveness) only says the process serves HTTP.
 * Concurrent probes share one check in flight, so a busy load balancer does not multiply Data API statements.
 */
import type { Warehouse } from '../warehouse/port.js';

export interface CheckResult {
  ok: boolean;
  ms: number;
  /** what failed, readable (never credentials) */
  error?: string;
}

export interface Readiness {
  ok: boolean;
  checks: { redis: CheckResult; warehouse: CheckResult };
}

export interface ReadinessDeps {
  redis: { ping(): Promise<string> };
  warehouse: Pick<Warehouse, 'submit' | 'wait' | 'cancel'>;
  /** per check (default 5000 ms) */
  timeoutMs?: number;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function timed(what: string, timeoutMs: number, fn: (signal: AbortSignal) => Promise<void>): Promise<CheckResult> {
  const started = Date.now();
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ac.abort();
      reject(new Error(`${what} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    await Promise.race([fn(ac.signal), timeout]);
    return { ok: true, ms: Date.now() - started };
  } catch (e) {
    return { ok: false, ms: Date.now() - started, error: message(e) };
  } finally {
    clearTimeout(timer);
  }
}

export function readinessCheck(deps: ReadinessDeps): () => Promise<Readiness> {
  const timeoutMs = deps.timeoutMs ?? 5_000;
  let inFlight: Promise<Readiness> | undefined;
  const run = async (): Promise<Readiness> => {
    const [redis, warehouse] = await Promise.all([
      timed('Redis PING', timeoutMs, async () => {
        const pong = await deps.redis.ping();
        if (pong !== 'PONG') throw new Error(`Redis answered PING with ${pong}`);
      }),
      timed('the warehouse (select 1)', timeoutMs, async (signal) => {
        const id = await deps.warehouse.submit('select 1', undefined, { name: 'redshift-ops readyz' });
        try {
          const info = await deps.warehouse.wait(id, { signal });
          if (info.status !== 'FINISHED') throw new Error(`select 1 ended ${info.status}`);
        } catch (e) {
          if (signal.aborted) await deps.warehouse.cancel(id).catch(() => false);
          throw e;
        }
      }),
    ]);
    return { ok: redis.ok && warehouse.ok, checks: { redis, warehouse } };
  };
  return () => {
    inFlight ??= run().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}
