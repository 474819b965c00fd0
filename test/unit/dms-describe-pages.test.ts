/**
 * The DMS adapter's Describe* paging (describeAll in src/replication/dms.ts) with an in-process client that answers
 * page by page as DMS documents it: Marker to the next page, ResourceNotFoundFault for "nothing matches the filters".
 * Proves: every page is read with the Marker it was given and the filters the caller asked for (none: no Filters); a
 * not-found fault ends the list with what was read (an empty list for the endpoints/instances/connections, an error for
 * a task); a Marker repeated is a bad response, not a loop.
 */
import { describe, expect, it } from 'vitest';
import { type DmsCommand, createDms } from '../../src/replication/dms.js';
import { ReplicationError } from '../../src/replication/port.js';

function fault(name: string): Error {
  const e = new Error(`${name} (fake)`);
  e.name = name;
  return e;
}

/** answers each call with the next of `answers` (an Error is thrown), recording the command's name and input */
function fakeDms(answers: Array<unknown>) {
  const calls: Array<{ op: string; input: Record<string, unknown> }> = [];
  const client = {
    async send(command: DmsCommand): Promise<unknown> {
      calls.push({ op: command.constructor.name, input: command.input as Record<string, unknown> });
      const a = answers.shift();
      if (a === undefined) throw new Error('the fake has no answer left');
      if (a instanceof Error) throw a;
      return a;
    },
  };
  const dms = createDms({ aws: { region: 'us-west-2' } }, { client, retry: { baseMs: 1, maxMs: 2, maxRetries: 0 } });
  return { dms, calls };
}

const instance = (id: string) => ({ ReplicationInstanceArn: `arn:aws:dms:us-west-2:1:rep:${id}`, ReplicationInstanceIdentifier: id, ReplicationInstanceStatus: 'available' });

describe('DMS Describe* paging', () => {
  it('follows Marker across pages with the same filters; no filter given means no Filters at all', async () => {
    const { dms, calls } = fakeDms([{ ReplicationInstances: [instance('a')], Marker: 'm1' }, { ReplicationInstances: [instance('b')], Marker: '' }]);
    expect((await dms.describeInstances()).map((i) => i.id)).toEqual(['a', 'b']);
    expect(calls).toEqual([
      { op: 'DescribeReplicationInstancesCommand', input: {} },
      { op: 'DescribeReplicationInstancesCommand', input: { Marker: 'm1' } },
    ]);

    const f = fakeDms([{ Connections: [{ ReplicationInstanceArn: 'i', EndpointArn: 'e', Status: 'successful' }] }]);
    expect(await f.dms.describeConnections({ instanceArn: 'i' })).toHaveLength(1);
    expect(f.calls[0]!.input).toEqual({ Filters: [{ Name: 'replication-instance-arn', Values: ['i'] }] });
  });

  it('ResourceNotFoundFault ends the list with what was read; for a task it is an error naming the task', async () => {
    const first = fakeDms([fault('ResourceNotFoundFault')]);
    expect(await first.dms.describeEndpoints({ type: 'source', id: 'src' })).toEqual([]);
    expect(first.calls[0]!.input).toEqual({ Filters: [{ Name: 'endpoint-type', Values: ['source'] }, { Name: 'endpoint-id', Values: ['src'] }] });

    const later = fakeDms([{ ReplicationInstances: [instance('a')], Marker: 'm1' }, fault('ResourceNotFoundFault')]);
    expect((await later.dms.describeInstances({ id: 'a' })).map((i) => i.id)).toEqual(['a']);

    const task = fakeDms([fault('ResourceNotFoundFault')]);
    const err = await task.dms.findTask('no-such-task').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplicationError);
    expect((err as ReplicationError).message).toMatch(/no-such-task/);
    expect(task.calls[0]!.input).toMatchObject({ Filters: [{ Name: 'replication-task-id', Values: ['no-such-task'] }], WithoutSettings: true });
  });

  it('a Marker repeated is a bad response naming the call', async () => {
    const { dms, calls } = fakeDms([
      { ReplicationInstances: [instance('a')], Marker: 'm1' },
      { ReplicationInstances: [instance('b')], Marker: 'm1' },
    ]);
    const err = await dms.describeInstances().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplicationError);
    expect((err as ReplicationError).message).toBe('DMS returned the same DescribeReplicationInstances Marker twice');
    expect(calls).toHaveLength(2);
  });
});
