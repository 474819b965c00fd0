/**
 * The adapter's own logic against an in-process fake client: request shapes, parameter conversion, Field conversion,
 * pagination, poll backoff and throttling retries (with a fake clock, so nothing here sleeps or times anything).
 * The same behaviour against the real SDK over HTTP is test/e2e/warehouse-adapter.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  fieldToValue,
  RedshiftDataWarehouse,
  toSqlParameters,
  type DataApiClient,
  type DataApiCommand,
} from '../../src/warehouse/redshift-data.js';
import { WarehouseError } from '../../src/warehouse/port.js';

type Handler = (op: string, input: Record<string, unknown>) => unknown;

function fake(handler: Handler): { client: DataApiClient; calls: Array<{ op: string; input: Record<string, unknown> }> } {
  const calls: Array<{ op: string; input: Record<string, unknown> }> = [];
  const client: DataApiClient = {
    send(command: DataApiCommand): Promise<unknown> {
      const op = command.constructor.name.replace(/Command$/, '');
      const input = command.input as unknown as Record<string, unknown>;
      calls.push({ op, input });
      try {
        return Promise.resolve(handler(op, input));
      } catch (e) {
        return Promise.reject(e);
      }
    },
  };
  return { client, calls };
}

/** A fake clock advanced only by the adapter's sleeps. */
function clock(): { now: () => number; sleep: (ms: number) => Promise<void>; sleeps: number[] } {
  let t = 0;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: (ms: number) => {
      sleeps.push(ms);
      t += ms;
      return Promise.resolve();
    },
    sleeps,
  };
}

function awsError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });
}

const target = { kind: 'provisioned', clusterId: 'flydata-cluster', dbUser: 'awsuser' } as const;

describe('RedshiftDataWarehouse', () => {
  it('submits with the target, database, named parameters as text and a client token', async () => {
    const { client, calls } = fake(() => ({ Id: 'st-1' }));
    const wh = new RedshiftDataWarehouse({ client, target, database: 'dev' });
    expect(await wh.submit('SELECT :a, :b, :c', { a: 42, b: true, c: "o'neil" }, { name: 'job 1 step copy' })).toBe('st-1');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.op).toBe('ExecuteStatement');
    expect(calls[0]!.input).toMatchObject({
      ClusterIdentifier: 'flydata-cluster',
      DbUser: 'awsuser',
      Database: 'dev',
      Sql: 'SELECT :a, :b, :c',
      StatementName: 'job 1 step copy',
      Parameters: [
        { name: 'a', value: '42' },
        { name: 'b', value: 'true' },
        { name: 'c', value: "o'neil" },
      ],
    });
    expect(calls[0]!.input.ClientToken).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends the caller’s ClientToken as given, and refuses one the Data API would reject (over 64 characters)', async () => {
    const { client, calls } = fake(() => ({ Id: 'st-1' }));
    const wh = new RedshiftDataWarehouse({ client, target, database: 'dev' });
    await wh.submitBatch(['SELECT 1'], { clientToken: 'rso-abc' });
    expect(calls[0]?.input.ClientToken).toBe('rso-abc');
    await expect(wh.submit('SELECT 1', undefined, { clientToken: 'x'.repeat(65) })).rejects.toThrow(/ClientToken is 1 to 64 characters \(got 65\)/);
    await expect(wh.submit('SELECT 1', undefined, { clientToken: '' })).rejects.toThrow(/1 to 64/);
    expect(calls).toHaveLength(1);
  });

  it('serverless targets send WorkgroupName; batches send Sqls', async () => {
    const { client, calls } = fake(() => ({ Id: 'b-1' }));
    const wh = new RedshiftDataWarehouse({ client, target: { kind: 'serverless', workgroup: 'wg' }, database: 'ak' });
    await wh.submitBatch(['SELECT 1', 'SELECT 2'], { clientToken: 'tok' });
    expect(calls[0]).toMatchObject({ op: 'BatchExecuteStatement', input: { WorkgroupName: 'wg', Database: 'ak', Sqls: ['SELECT 1', 'SELECT 2'], ClientToken: 'tok' } });
    expect(calls[0]!.input.ClusterIdentifier).toBeUndefined();
  });

  it('refuses what the Data API cannot bind before sending anything', async () => {
    const { client, calls } = fake(() => ({ Id: 'x' }));
    const wh = new RedshiftDataWarehouse({ client, target, database: 'dev' });
    await expect(wh.submit('SELECT :v', { v: null })).rejects.toThrow(/:v is NULL.*write NULL in the SQL/);
    await expect(wh.submit('SELECT :v', { v: '' })).rejects.toThrow(/:v is an empty string/);
    await expect(wh.submit('SELECT :v', { v: Number.NaN })).rejects.toThrow(WarehouseError);
    await expect(wh.submit('SELECT 1', { 'bad-name': 1 })).rejects.toThrow(/letters, digits and _/);
    await expect(wh.submitBatch([])).rejects.toThrow(/at least one/);
    await expect(wh.submit('x'.repeat(100_001))).rejects.toThrow(/at most 100000/);
    expect(calls).toHaveLength(0);
    expect(toSqlParameters({ n: -1.5, s: 'x' })).toEqual([
      { name: 'n', value: '-1.5' },
      { name: 's', value: 'x' },
    ]);
  });

  it('converts every Field kind', () => {
    expect(fieldToValue({ isNull: true })).toBeNull();
    expect(fieldToValue({ stringValue: 'a' })).toBe('a');
    expect(fieldToValue({ longValue: 7 })).toBe(7);
    expect(fieldToValue({ doubleValue: 1.5 })).toBe(1.5);
    expect(fieldToValue({ booleanValue: false })).toBe(false);
    expect(fieldToValue({ blobValue: new Uint8Array([0xde, 0xad]) })).toBe('dead');
    expect(() => fieldToValue({ $unknown: ['newKind', 1] })).toThrow(/unknown kind/);
  });

  it('polls with growing sleeps, kept under 10 % of the time waited and capped, then returns the statement', async () => {
    const c = clock();
    let polls = 0;
    const { client } = fake((op) => {
      if (op === 'ExecuteStatement') return { Id: 's' };
      polls++;
      if (c.now() < 20_000) return { Id: 's', Status: polls === 1 ? 'SUBMITTED' : 'STARTED' };
      return { Id: 's', Status: 'FINISHED', ResultRows: 3, HasResultSet: false, Duration: 2_000_000 };
    });
    const wh = new RedshiftDataWarehouse({ client, target, database: 'dev', sleep: c.sleep, now: c.now });
    const info = await wh.execute('DELETE FROM t');
    expect(info).toEqual({ id: 's', status: 'FINISHED', resultRows: 3, hasResultSet: false, durationMs: 2 });
    // first sleeps are the floor (5 ms), growth never exceeds ×1.6 nor 10 % of the time already waited, cap 1 s
    expect(c.sleeps[0]).toBe(5);
    let waited = 0;
    for (let i = 1; i < c.sleeps.length; i++) {
      waited += c.sleeps[i - 1]!;
      expect(c.sleeps[i]!).toBeLessThanOrEqual(Math.min(1000, Math.max(5, waited * 0.1)) + 1e-9);
      expect(c.sleeps[i]!).toBeGreaterThanOrEqual(c.sleeps[i - 1]!);
    }
    expect(Math.max(...c.sleeps)).toBe(1000);
    expect(wh.stats.polls).toBe(polls);
    expect(wh.stats.lastWait).toMatchObject({ id: 's', status: 'FINISHED', polls, statementMs: 2 });
  });

  it('FAILED and ABORTED become WarehouseError with the warehouse text, the id and the SQL', async () => {
    const { client } = fake((op, input) => {
      if (op === 'ExecuteStatement') return { Id: String(input.Sql).includes('boom') ? 'f1' : 'a1' };
      return input.Id === 'f1'
        ? { Id: 'f1', Status: 'FAILED', Error: 'ERROR: relation "nope" does not exist', QueryString: 'SELECT boom FROM nope' }
        : { Id: 'a1', Status: 'ABORTED' };
    });
    const wh = new RedshiftDataWarehouse({ client, target, database: 'dev' });
    const err = await wh.execute('SELECT boom FROM nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WarehouseError);
    expect(err).toMatchObject({ statementId: 'f1', status: 'FAILED', sql: 'SELECT boom FROM nope' });
    expect((err as Error).message).toContain('relation "nope" does not exist');
    // DescribeStatement without QueryString: the adapter still names the SQL it submitted
    await expect(wh.execute('SELECT 1')).rejects.toMatchObject({ status: 'ABORTED', statementId: 'a1', sql: 'SELECT 1' });
  });

  it('names the failing sub-statement of a batch', async () => {
    const { client } = fake((op) =>
      op === 'BatchExecuteStatement'
        ? { Id: 'b' }
        : {
            Id: 'b',
            Status: 'FAILED',
            Error: 'ERROR: division by zero',
            SubStatements: [
              { Id: 'b:1', Status: 'FINISHED', QueryString: 'SELECT 1' },
              { Id: 'b:2', Status: 'FAILED', Error: 'ERROR: division by zero', QueryString: 'SELECT 1/0' },
            ],
          },
    );
    const wh = new RedshiftDataWarehouse({ client, target, database: 'dev' });
    await expect(wh.executeBatch(['SELECT 1', 'SELECT 1/0'])).rejects.toMatchObject({
      message: expect.stringContaining('b:2'),
      sql: 'SELECT 1/0',
      status: 'FAILED',
    });
  });

  it('follows NextToken, keeping the column names of the first page', async () => {
    const { client, calls } = fake((_op, input) => {
      if (input.NextToken === undefined)
        return { ColumnMetadata: [{ name: 'id' }, { name: 'email' }], Records: [[{ longValue: 1 }, { stringValue: 'a@x' }]], NextToken: 'p2', TotalNumRows: 3 };
      if (input.NextToken === 'p2') return { Records: [[{ longValue: 2 }, { isNull: true }]], NextToken: 'p3' };
      return { Records: [[{ longValue: 3 }, { stringValue: 'c@x' }]] };
    });
    const wh = new RedshiftDataWarehouse({ client, target, database: 'dev' });
    expect(await wh.fetch('q')).toEqual({
      statementId: 'q',
      columns: ['id', 'email'],
      rows: [
        { id: 1, email: 'a@x' },
        { id: 2, email: null },
        { id: 3, email: 'c@x' },
      ],
    });
    expect(calls.map((c) => c.input.NextToken)).toEqual([undefined, 'p2', 'p3']);
  });

  it('retries throttling and 5xx with jittered backoff, reusing the client token, and counts them', async () => {
    const c = clock();
    const faults = [awsError('ThrottlingException', 400), awsError('InternalServerException', 500), awsError('ServiceUnavailable', 503)];
    const { client, calls } = fake(() => {
      const f = faults.shift();
      if (f) throw f;
      return { Id: 'ok' };
    });
    const wh = new RedshiftDataWarehouse({ client, target, database: 'dev', sleep: c.sleep, now: c.now, random: () => 0.5, retry: { baseMs: 100, maxMs: 250 } });
    expect(await wh.submit('SELECT 1')).toBe('ok');
    expect(calls).toHaveLength(4);
    expect(new Set(calls.map((x) => x.input.ClientToken)).size).toBe(1);
    expect(c.sleeps).toEqual([50, 100, 125]); // 0.5 × min(250, 100 × 2^n)
    expect(wh.stats).toMatchObject({ calls: 4, retries: 3, throttled: 1 });
  });

  it('does not retry a client error, and gives up after maxRetries with a readable message', async () => {
    const c = clock();
    const { client, calls } = fake(() => {
      throw awsError('ValidationException', 400);
    });
    const wh = new RedshiftDataWarehouse({ client, target, database: 'dev', sleep: c.sleep });
    await expect(wh.submit('SELECT 1')).rejects.toThrow(/ExecuteStatement failed: ValidationException: ValidationException happened — SQL: SELECT 1/);
    expect(calls).toHaveLength(1);

    const t = fake(() => {
      throw awsError('ThrottlingException', 400);
    });
    const wh2 = new RedshiftDataWarehouse({ client: t.client, target, database: 'dev', sleep: c.sleep, retry: { maxRetries: 2 } });
    await expect(wh2.describe('x')).rejects.toThrow(/gave up after 3 attempts/);
    expect(t.calls).toHaveLength(3);
  });

  it('wait is abortable between polls', async () => {
    const { client } = fake(() => ({ Id: 's', Status: 'STARTED' }));
    const ac = new AbortController();
    let n = 0;
    const wh = new RedshiftDataWarehouse({
      client,
      target,
      database: 'dev',
      sleep: (_ms, signal) => {
        if (++n === 3) ac.abort(new Error('job cancelled'));
        return signal?.aborted ? Promise.reject(signal.reason as Error) : Promise.resolve();
      },
    });
    await expect(wh.wait('s', { signal: ac.signal })).rejects.toThrow('job cancelled');
    expect(wh.stats.polls).toBe(3);
  });

  it('rejects a malformed response instead of returning garbage', async () => {
    const { client } = fake(() => ({ Id: 's', Status: 'RUNNING' }));
    const wh = new RedshiftDataWarehouse({ client, target, database: 'dev' });
    await expect(wh.describe('s')).rejects.toThrow(/unexpected response \(Status:/);
  });

  it('cancel reports whether the statement was cancelled; an ended statement is "not cancelled"', async () => {
    const { client } = fake((_op, input) => {
      if (input.Id === 'done') throw Object.assign(new Error('Could not cancel a query that is already in FINISHED state.'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
      if (input.Id === 'bad') throw awsError('ValidationException', 400);
      return { Status: true };
    });
    const wh = new RedshiftDataWarehouse({ client, target, database: 'dev' });
    expect(await wh.cancel('running')).toBe(true);
    // a plain ValidationException without a state in its text is not swallowed
    expect(await wh.cancel('done')).toBe(false);
    await expect(wh.cancel('bad')).rejects.toThrow(WarehouseError);
  });
});
