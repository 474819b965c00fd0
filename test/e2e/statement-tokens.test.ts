/**
 * runOnce (src/jobs/statements.ts) through the real adapter and the sandbox's Data API: a statement a step submitted is
 * never run twice — not even when the worker dies after the Data API accepted it and before its id was recorded — and a
 * statement that FAILED is run again on purpose under a new ClientToken (the old token would only return the failure).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunbookDeps } from '../../src/jobs/deps.js';
import type { StepContext } from '../../src/jobs/runbook.js';
import { forgetStatement, runOnce, statementToken } from '../../src/jobs/statements.js';
import type { JobRecord } from '../../src/jobs/types.js';
import type { Registry } from '../../src/schema/registry.js';
import { createWarehouse, type RedshiftDataWarehouse } from '../../src/warehouse/redshift-data.js';
import { withSandbox } from '../support/sandbox.js';

const sb = withSandbox('pglite');
const noTables: Registry = { dir: '', defaultSchema: 'public', tables: new Map(), files: new Map(), get: () => undefined, find: () => undefined, names: () => [] };
let wh: RedshiftDataWarehouse;

beforeAll(() => {
  wh = createWarehouse(
    { warehouse: { target: { kind: 'provisioned', clusterId: 'sandbox-cluster', dbUser: 'awsuser' }, database: 'dev' }, aws: { region: 'us-west-2', endpoint: sb.sandbox.endpoint } },
    { env: {} },
  );
});
afterAll(() => wh?.close());

/** A step context whose handles live in `store`; `crashOn` makes the first setHandle of that key throw (the worker dies). */
function context(jobId: string, store: Record<string, string>, opts: { crashOn?: string } = {}): StepContext<RunbookDeps> {
  const now = Date.now();
  const job: JobRecord = {
    id: jobId,
    kind: 'test',
    requester: 'U1',
    commandText: 'test',
    summary: 'test',
    params: {},
    state: 'running',
    cursor: 0,
    steps: [],
    handles: store,
    approvals: [],
    origin: { kind: 'console' },
    createdAt: 1_700_000_000_000,
    updatedAt: now,
  };
  let crashOn = opts.crashOn;
  return {
    job,
    deps: { warehouse: wh, registry: noTables },
    handles: { ...store },
    async setHandle(key, value) {
      if (key === crashOn) {
        crashOn = undefined;
        throw new Error('worker killed between submit and recording the id');
      }
      store[key] = value;
      this.handles[key] = value;
    },
    async note() {},
    async audit() {},
    signal: new AbortController().signal,
    fence: 0,
  };
}

const sent = (name: string) => sb.sandbox.submissions().filter((s) => s.name === name);

describe('runOnce and ClientTokens', () => {
  it('tokens are derived from job, handle and attempt, and fit the Data API (1–64 characters)', () => {
    const job = { id: '42', createdAt: 1_700_000_000_000 };
    const t = statementToken(job, 'stmt:copy', 1);
    expect(t).toBe(statementToken({ ...job }, 'stmt:copy', 1));
    expect(t.length).toBeGreaterThan(0);
    expect(t.length).toBeLessThanOrEqual(64);
    const others = [statementToken(job, 'stmt:copy', 2), statementToken(job, 'stmt:swap', 1), statementToken({ id: '43', createdAt: job.createdAt }, 'stmt:copy', 1), statementToken({ id: '42', createdAt: job.createdAt + 1 }, 'stmt:copy', 1)];
    expect(new Set([t, ...others]).size).toBe(5);
  });

  it('a worker killed after the Data API accepted the statement, before the id was recorded: the resumed step gets the same statement back', async () => {
    await sb.run('CREATE TABLE tok_once (n int)');
    const store: Record<string, string> = {};
    const name = 'job t1 insert';
    const what = { sql: 'INSERT INTO tok_once VALUES (1)' };
    await expect(runOnce(context('t1', store, { crashOn: 'stmt:insert' }), 'stmt:insert', what, name)).rejects.toThrow(/worker killed/);
    expect(store['stmt:insert']).toBeUndefined();
    const info = await runOnce(context('t1', store), 'stmt:insert', what, name);
    expect(info.status).toBe('FINISHED');
    expect(store['stmt:insert']).toBe(info.id);

    const subs = sent(name);
    expect(subs.map((s) => s.deduplicated)).toEqual([false, true]);
    expect(new Set(subs.map((s) => s.id))).toEqual(new Set([info.id]));
    expect(await sb.query('SELECT count(*)::int AS n FROM tok_once')).toEqual([{ n: 1 }]);
  });

  it('a FAILED statement is submitted again under a new token; a crash right after that resubmit does not start a third', async () => {
    await sb.run('CREATE TABLE tok_retry (n int)');
    const store: Record<string, string> = {};
    const name = 'job t2 insert';
    const what = { batch: ['INSERT INTO tok_retry VALUES (7)'] };
    sb.sandbox.faults.failStatements = [{ match: 'INSERT INTO tok_retry', error: 'ERROR: injected once', times: 1 }];
    await expect(runOnce(context('t2', store), 'stmt:insert', what, name)).rejects.toThrow(/injected once/);
    const failedId = store['stmt:insert'];
    expect(failedId).toBeDefined();

    // attempt 2 is submitted and accepted, then the worker dies before recording its id
    await expect(runOnce(context('t2', store, { crashOn: 'stmt:insert' }), 'stmt:insert', what, name)).rejects.toThrow(/worker killed/);
    expect(store['stmt:insert']).toBe(failedId);
    expect(store['stmt:insert:retired']).toBe(failedId);
    // resumed: the same attempt (same token) — the statement attempt 2 created, not a third one
    const info = await runOnce(context('t2', store), 'stmt:insert', what, name);
    expect(info.status).toBe('FINISHED');
    expect(info.id).not.toBe(failedId);

    const subs = sent(name);
    expect(subs.map((s) => [s.id === failedId ? 'failed' : 'second', s.deduplicated])).toEqual([
      ['failed', false],
      ['second', false],
      ['second', true],
    ]);
    expect(subs[1]!.clientToken).not.toBe(subs[0]!.clientToken);
    expect(subs[2]!.clientToken).toBe(subs[1]!.clientToken);
    expect(await sb.query('SELECT count(*)::int AS n FROM tok_retry')).toEqual([{ n: 1 }]);
  });

  it('a FINISHED statement a step lets go of on purpose (forgetStatement) runs again under a new token, once', async () => {
    await sb.run('CREATE TABLE tok_forget (n int)');
    const store: Record<string, string> = {};
    const name = 'job t3 insert';
    const what = { sql: 'INSERT INTO tok_forget VALUES (3)' };
    const first = await runOnce(context('t3', store), 'stmt:insert', what, name);
    await forgetStatement(context('t3', store), 'stmt:insert');
    expect(store['stmt:insert']).toBe('');
    const again = await runOnce(context('t3', store), 'stmt:insert', what, name);
    expect(again.id).not.toBe(first.id);
    expect(await runOnce(context('t3', store), 'stmt:insert', what, name)).toMatchObject({ id: again.id });
    expect(sent(name).map((x) => x.deduplicated)).toEqual([false, false]);
    expect(await sb.query('SELECT count(*)::int AS n FROM tok_forget')).toEqual([{ n: 2 }]);
  });
});
