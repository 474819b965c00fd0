/**
 * The DMS and CloudWatch Logs sandboxes behind a tiny HTTP server of a test's own (the few lines of src/sandbox/server.ts
 * they need, without the Data API or a warehouse), for tests that drive them with the real AWS SDK clients; and the
 * DescribeReplicationTasks / DescribeTableStatistics probes those tests wait on.
 *
 *   const dms = new DmsSandbox({ logs, delays });
 *   const server = await serveDmsAndLogs(dms, logs);       // server.endpoint, server.clientConfig, server.close()
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type DatabaseMigrationServiceClient,
  DescribeReplicationTasksCommand,
  DescribeTableStatisticsCommand,
  type ReplicationTask,
  type TableStatistics,
} from '@aws-sdk/client-database-migration-service';
import type { GeneratorColumn } from '../../src/sandbox/apply-loop.js';
import { DMS_TARGET_PREFIX, type DmsSandbox } from '../../src/sandbox/dms.js';
import { LOGS_TARGET_PREFIX, type LogsSandbox } from '../../src/sandbox/logs.js';
import type { Until } from './poll.js';

/** ak_sumofus.core_usermailing, as schemas/ has it, for apply loops on a table of the test's own */
export const CORE_USERMAILING_COLUMNS: readonly GeneratorColumn[] = [
  { name: 'id', type: 'bigint', notNull: true },
  { name: 'mailing_id', type: 'integer', notNull: true },
  { name: 'user_id', type: 'integer', notNull: true },
  { name: 'subject_id', type: 'integer' },
  { name: 'created_at', type: 'datetime', notNull: true },
];

export interface DmsLogsServer {
  endpoint: string;
  /** region, endpoint and placeholder credentials for an SDK client of either service */
  clientConfig: { region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  close(): Promise<void>;
}

/** Serve `dms` and `logs` on a free loopback port, routed by X-Amz-Target as AWS does. */
export async function serveDmsAndLogs(dms: DmsSandbox, logs: LogsSandbox): Promise<DmsLogsServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const text = Buffer.concat(chunks).toString('utf8');
        const body: unknown = text === '' ? {} : JSON.parse(text);
        const r = target.startsWith(`${DMS_TARGET_PREFIX}.`)
          ? await dms.handle(target, body)
          : target.startsWith(`${LOGS_TARGET_PREFIX}.`)
            ? await logs.handle(target, body)
            : { status: 400, body: { __type: 'UnknownOperationException', message: `unknown target ${target}` } };
        res.writeHead(r.status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(r.body));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    clientConfig: { region: 'us-west-2', endpoint, credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface DmsTaskProbes {
  /** DescribeReplicationTasks by identifier */
  describeTask(id: string): Promise<ReplicationTask>;
  /** until the task's Status is `status` */
  waitStatus(id: string, status: string): Promise<ReplicationTask>;
  /** DescribeTableStatistics of one table of the task */
  tableStats(arn: string, table: string): Promise<TableStatistics>;
}

/** The probes through `client()` (read at each call: the client is built in a beforeAll), waiting with `until`. */
export function dmsTaskProbes(client: () => DatabaseMigrationServiceClient, until: Until): DmsTaskProbes {
  const describeTask = async (id: string): Promise<ReplicationTask> => {
    const r = await client().send(new DescribeReplicationTasksCommand({ Filters: [{ Name: 'replication-task-id', Values: [id] }] }));
    const t = r.ReplicationTasks?.[0];
    if (!t) throw new Error(`task ${id} not described`);
    return t;
  };
  return {
    describeTask,
    waitStatus: (id, status) => until(`task ${id} to be ${status}`, () => describeTask(id), (t) => t.Status === status),
    async tableStats(arn, table) {
      const r = await client().send(new DescribeTableStatisticsCommand({ ReplicationTaskArn: arn, Filters: [{ Name: 'table-name', Values: [table] }] }));
      const s = r.TableStatistics?.[0];
      if (!s) throw new Error(`no statistics for ${table}`);
      return s;
    },
  };
}
