/**
 * DMS and CloudWatch Logs ports that load their AWS SDK client on first use. Only runbooks on `dms` tables call them, so
 * a bot-only process, or a worker that never touches a DMS table, never loads those SDK packages (measured: ~5 MB RSS
 * for the two). The adapters themselves are unchanged (src/replication/dms.ts, logs.ts); this only defers `import()`.
 */
import type { AwsConfig, Env } from '../config.js';
import type { DmsConnection, DmsEndpoint, DmsInstance, DmsPort, DmsTask, DmsTableStat, DmsLogLine, LogsPort } from './port.js';

interface Closable {
  close(): void;
}

/** one instance, created by `load` on first use; close() only closes what was created */
class Lazy<T extends Closable> {
  private pending: Promise<T> | undefined;
  private made: T | undefined;
  constructor(private readonly load: () => Promise<T>) {}
  get(): Promise<T> {
    this.pending ??= this.load().then(
      (v) => (this.made = v),
      (e: unknown) => {
        this.pending = undefined; // a failed import may be retried
        throw e;
      },
    );
    return this.pending;
  }
  get loaded(): boolean {
    return this.made !== undefined;
  }
  close(): void {
    this.made?.close();
  }
}

export interface LazyPort {
  /** whether the SDK client has been loaded (for tests and logs) */
  readonly loaded: boolean;
  close(): void;
}

export function lazyDms(config: { aws: AwsConfig }, opts: { env?: Env } = {}): DmsPort & LazyPort {
  const l = new Lazy(async () => (await import('./dms.js')).createDms(config, opts));
  return {
    get loaded() {
      return l.loaded;
    },
    close: () => l.close(),
    findTask: async (taskId: string, opts?: { withSettings?: boolean }): Promise<DmsTask> => (await l.get()).findTask(taskId, opts),
    describeTask: async (arn: string): Promise<DmsTask> => (await l.get()).describeTask(arn),
    stopTask: async (arn: string): Promise<DmsTask> => (await l.get()).stopTask(arn),
    resumeTask: async (arn: string): Promise<DmsTask> => (await l.get()).resumeTask(arn),
    waitForStatus: async (arn, status, o): Promise<DmsTask> => (await l.get()).waitForStatus(arn, status, o),
    tableStats: async (arn: string, schema: string, table: string): Promise<DmsTableStat | undefined> => (await l.get()).tableStats(arn, schema, table),
    reloadTable: async (arn: string, schema: string, table: string): Promise<void> => (await l.get()).reloadTable(arn, schema, table),
    startTask: async (arn, type): Promise<DmsTask> => (await l.get()).startTask(arn, type),
    createTask: async (spec): Promise<DmsTask> => (await l.get()).createTask(spec),
    describeEndpoints: async (f): Promise<DmsEndpoint[]> => (await l.get()).describeEndpoints(f),
    createRedshiftTarget: async (spec): Promise<DmsEndpoint> => (await l.get()).createRedshiftTarget(spec),
    describeConnections: async (f): Promise<DmsConnection[]> => (await l.get()).describeConnections(f),
    testConnection: async (instanceArn: string, endpointArn: string): Promise<DmsConnection> => (await l.get()).testConnection(instanceArn, endpointArn),
    describeInstances: async (f): Promise<DmsInstance[]> => (await l.get()).describeInstances(f),
  };
}

export function lazyLogs(config: { aws: AwsConfig }, opts: { env?: Env } = {}): LogsPort & LazyPort {
  const l = new Lazy(async () => (await import('./logs.js')).createLogs(config, opts));
  return {
    get loaded() {
      return l.loaded;
    },
    close: () => l.close(),
    scan: async (o): Promise<DmsLogLine[]> => (await l.get()).scan(o),
  };
}
