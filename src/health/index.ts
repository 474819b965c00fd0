/**
 * Health facts, gathered once and used by both `/redshift status` and the watch job (src/watch/): the catalog (one
 * round of concurrent statements), DMS and CloudWatch (in parallel with it), and the queue in Redis. Each part is a
 * Fact: a part that cannot be read says why and the others still show.
 */
import type { DmsPort, LogsPort } from '../replication/port.js';
import type { JobQueue } from '../queue/queue.js';
import type { Registry } from '../schema/registry.js';
import type { Warehouse } from '../warehouse/port.js';
import { gatherCatalog, type CatalogFacts } from './catalog.js';
import { dmsTasksOf, gatherDms, type DmsTaskFacts } from './dms.js';
import { gather, type Fact } from './fact.js';
import { gatherLogs, type LogFacts } from './logs.js';
import { gatherQueue, type QueueFacts } from './queue.js';
import { DEFAULT_THRESHOLDS, type HealthThresholds } from './thresholds.js';
import { gatherSource, type SourceFacts } from './source.js';
import type { Source } from '../source/port.js';
import { DEFAULT_COMPARE_LAG_SECONDS } from '../source/checksum-sql.js';

export type { Fact } from './fact.js';
export type { HealthThresholds } from './thresholds.js';
export { DEFAULT_THRESHOLDS } from './thresholds.js';

export interface HealthDeps {
  warehouse: Warehouse;
  registry: Registry;
  jobs: JobQueue;
  dms?: DmsPort;
  logs?: LogsPort;
  /** the MySQL source (SOURCE_DATABASE_URL) and compare's lag window: counts and lag against it */
  source?: Source;
  compareLagSeconds?: number;
}

export interface HealthSnapshot {
  /** the clock the facts were judged by (epoch ms; injectable for tests) */
  at: number;
  schema: string;
  catalog: CatalogFacts;
  dms: DmsTaskFacts[];
  logs: Array<{ group: string; facts: Fact<LogFacts> }>;
  queue: Fact<QueueFacts>;
  source: SourceFacts;
  /** how long gathering took */
  ms: number;
}

export interface GatherOptions {
  now?: number;
  thresholds?: Partial<HealthThresholds>;
  /** catalog facts already being read (the bot shares one in-flight read between concurrent status commands) */
  catalog?: Promise<CatalogFacts>;
}

export async function gatherHealth(deps: HealthDeps, o: GatherOptions = {}): Promise<HealthSnapshot> {
  const started = performance.now();
  const at = o.now ?? Date.now();
  const t = { ...DEFAULT_THRESHOLDS, ...o.thresholds };
  const groups = dmsTasksOf(deps.registry).map((x) => ({ group: x.logGroup, ...(x.logStreams ? { streams: x.logStreams } : {}) }));
  const [catalog, dms, logs, queue, source] = await Promise.all([
    o.catalog ?? gatherCatalog(deps.warehouse, deps.registry),
    gatherDms(deps.dms, deps.registry),
    gatherLogs(deps.logs, groups, { startMs: at - t.logWindowMs, endMs: at + 1 }),
    gather('job records in Redis', () => gatherQueue(deps.jobs)),
    gatherSource(deps.source, deps.warehouse, deps.registry, { now: at, lagSeconds: deps.compareLagSeconds ?? DEFAULT_COMPARE_LAG_SECONDS }),
  ]);
  return { at, schema: deps.registry.defaultSchema, catalog, dms, logs, queue, source, ms: performance.now() - started };
}

export { gatherCatalog } from './catalog.js';
export type { CatalogFacts } from './catalog.js';
export { findProblems, type Problem } from './problems.js';
