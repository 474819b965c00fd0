/**
 * One retry rule set for every AWS adapter: the Data API adapter (src/warehouse/redshift-data.ts) and the DMS / CloudWatch
 * Logs caller (src/replication/aws-call.ts) retry exactly the same errors — each is driven here with an in-process fake
 * client that fails once with the error, then answers.
 */
import { describe, expect, it } from 'vitest';
import { AwsCaller } from '../../src/replication/aws-call.js';
import { isLoopback, sdkClientConfig } from '../../src/util/aws-sdk.js';
import { classifyAwsError } from '../../src/util/retry.js';
import { RedshiftDataWarehouse, type DataApiClient } from '../../src/warehouse/redshift-data.js';

const err = (name: string, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(`${name} happened`), { name, ...extra });
const status = (n: number) => ({ $metadata: { httpStatusCode: n } });

const RETRIED: Array<[string, Error, 'throttle' | 'transient']> = [
  ['ThrottlingException', err('ThrottlingException', status(400)), 'throttle'],
  ['ThrottlingFault (DMS)', err('ThrottlingFault', status(400)), 'throttle'],
  ['HTTP 429', err('TooManyRequests', status(429)), 'throttle'],
  ['ActiveStatementsExceededException (Data API)', err('ActiveStatementsExceededException', status(400)), 'throttle'],
  ['SDK throttling flag', err('Whatever', { $retryable: { throttling: true } }), 'throttle'],
  ['InternalServerException', err('InternalServerException', status(500)), 'transient'],
  ['HTTP 503', err('ServiceUnavailable', status(503)), 'transient'],
  ['connection refused', err('Error', { code: 'ECONNREFUSED' }), 'transient'],
  ['connection reset', err('Error', { code: 'ECONNRESET' }), 'transient'],
  ['DNS lookup again', err('Error', { code: 'EAI_AGAIN' }), 'transient'],
  ['socket timeout', err('Error', { code: 'ETIMEDOUT' }), 'transient'],
  ['SDK TimeoutError', err('TimeoutError'), 'transient'],
];
const NOT_RETRIED: Array<[string, unknown]> = [
  ['ValidationException', err('ValidationException', status(400))],
  ['ResourceNotFoundFault', err('ResourceNotFoundFault', status(400))],
  ['InvalidResourceStateFault', err('InvalidResourceStateFault', status(400))],
  ['AccessDeniedException', err('AccessDeniedException', status(403))],
  ['not an error object', 'nope'],
];

/** A client whose first call fails with `failure`, then answers `answer`. */
function failingOnce(failure: unknown, answer: unknown): { client: DataApiClient & { send(c: unknown): Promise<unknown> }; calls: () => number } {
  let calls = 0;
  return {
    client: {
      send: () => {
        calls++;
        return calls === 1 ? Promise.reject(failure) : Promise.resolve(answer);
      },
    },
    calls: () => calls,
  };
}

const noSleep = async (): Promise<void> => {};

describe('one AWS retry classifier', () => {
  it.each(RETRIED)('%s is retried by the Data API adapter and by the DMS/Logs caller alike', async (_label, failure, kind) => {
    expect(classifyAwsError(failure)).toBe(kind);

    const data = failingOnce(failure, { Id: 'st-1' });
    const wh = new RedshiftDataWarehouse({ client: data.client, target: { kind: 'serverless', workgroup: 'wg' }, database: 'dev', sleep: noSleep });
    expect(await wh.submit('SELECT 1')).toBe('st-1');
    expect(data.calls()).toBe(2);
    expect(wh.stats.retries).toBe(1);

    const dms = failingOnce(failure, { ok: true });
    const caller = new AwsCaller<string>(dms.client, { service: 'DMS', sleep: noSleep });
    expect(await caller.send('DescribeReplicationTasks', 'DescribeReplicationTasks')).toEqual({ ok: true });
    expect(dms.calls()).toBe(2);
    expect(caller.stats.retries).toBe(1);
  });

  it.each(NOT_RETRIED)('%s is not retried by either', async (_label, failure) => {
    expect(classifyAwsError(failure)).toBeUndefined();

    const data = failingOnce(failure, { Id: 'st-1' });
    const wh = new RedshiftDataWarehouse({ client: data.client, target: { kind: 'serverless', workgroup: 'wg' }, database: 'dev', sleep: noSleep });
    await expect(wh.submit('SELECT 1')).rejects.toThrow(/ExecuteStatement failed/);
    expect(data.calls()).toBe(1);

    const dms = failingOnce(failure, { ok: true });
    const caller = new AwsCaller<string>(dms.client, { service: 'DMS', sleep: noSleep });
    await expect(caller.send('DescribeReplicationTasks', 'DescribeReplicationTasks')).rejects.toThrow(/DMS DescribeReplicationTasks failed/);
    expect(dms.calls()).toBe(1);
  });
});

describe('one SDK client setup', () => {
  it('placeholder credentials only against a loopback endpoint and only when the environment has none; the adapters retry (maxAttempts 1)', () => {
    for (const endpoint of ['http://localhost:4599', 'http://127.0.0.1:4599', 'http://127.8.9.10', 'http://[::1]:4599'])
      expect(sdkClientConfig('us-west-2', endpoint, {})).toEqual({ region: 'us-west-2', maxAttempts: 1, endpoint, credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } });
    expect(sdkClientConfig('us-west-2', 'http://127.0.0.1:4599', { AWS_PROFILE: 'dev' }).credentials).toBeUndefined();
    expect(sdkClientConfig('us-west-2', 'http://127.0.0.1:4599', { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' }).credentials).toBeUndefined();
    expect(sdkClientConfig('us-west-2', 'https://vpce-1.redshift-data.us-west-2.vpce.amazonaws.com', {})).toEqual({ region: 'us-west-2', maxAttempts: 1, endpoint: 'https://vpce-1.redshift-data.us-west-2.vpce.amazonaws.com' });
    expect(sdkClientConfig('eu-west-1', undefined, {})).toEqual({ region: 'eu-west-1', maxAttempts: 1 });
    expect(isLoopback('http://127.0.0.1.example.com')).toBe(false);
    expect(isLoopback('not a url')).toBe(false);
  });
});
