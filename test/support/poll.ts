/**
 * Waiting on a condition in tests, with a timeout and no timed assertions, and catching the error a call must throw.
 *
 *   const until = poller({ timeoutMs: 20_000, pauseMs: 25 });     // the file's defaults
 *   const t = await until('the task to run', () => dms.describeTask(arn), (t) => t.status === 'running');
 */
import { expect } from 'vitest';
import { ReplicationError } from '../../src/replication/port.js';

export type Until = <T>(what: string, probe: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs?: number) => Promise<T>;

/**
 * An `until(what, probe, ok, timeoutMs?)`: probes every `pauseMs` until `ok` holds and returns that value; past the
 * timeout it throws naming `what` and the last value probed.
 */
export function poller(defaults: { timeoutMs: number; pauseMs: number }): Until {
  return async (what, probe, ok, timeoutMs = defaults.timeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (ok(v)) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, defaults.pauseMs));
    }
  };
}

/** The ReplicationError `p` rejects with (asserting it is one); throws when `p` resolves. */
export async function replicationFailure(p: Promise<unknown>): Promise<ReplicationError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ReplicationError);
    return e as ReplicationError;
  }
  throw new Error('expected a ReplicationError');
}
