/**
 * What a runbook's steps may use. Built once per worker (src/main.ts, the console, tests) and handed to every job.
 */
import type { DmsPort, LogsPort, RedshiftTargetEndpointSpec } from '../replication/port.js';
import type { Registry } from '../schema/registry.js';
import type { Source } from '../source/port.js';
import type { Warehouse } from '../warehouse/port.js';
import { DEFAULT_HYGIENE_THRESHOLDS, type HygieneThresholds } from '../hygiene/recommend.js';

export interface RunbookSettings {
  /** how long the replication-log check reads CloudWatch after the resume (default 10 min) */
  logCheckMs: number;
  /**
   * CloudWatch stores events late (ingestion delay): every search of the log check re-reads this much before the end
   * of the previous one, and the check keeps searching this long after its window. Unset: logLagMsOf() — 2 minutes,
   * or the log check's own length when that is shorter.
   */
  logLagMs?: number;
  /** how long the cdc freshness check waits for max(updated_at)/max(id) to advance (default 10 min) */
  freshnessMs: number;
  /** free disk must be at least this many times the table's size (default 2.5) */
  diskFactor: number;
  /** live copy: catch-up rounds stop once a round applied fewer rows than this (default 1,000) */
  catchUpRows?: number;
  /** live copy: at most this many catch-up rounds before the locked swap (default 5) */
  catchUpRounds?: number;
  /** lock_timeout for the swap transaction's ACCESS EXCLUSIVE lock; retried with backoff (default 2 s) */
  swapLockTimeoutMs: number;
  /**
   * the rates the plan's lock estimate uses (MB/s read in one pass over a table; MB/s a copy writes). Assumptions until
   * set from what your copies report (the copy step prints the MB/s it reached)
   */
  scanMbPerSecond: number;
  copyMbPerSecond: number;
  /** when set, a rewritten schemas/ file is committed in this git work tree */
  schemaGitDir?: string;
  /** when `hygiene` recommends VACUUM / ANALYZE (HYGIENE_UNSORTED_PCT, HYGIENE_STATS_OFF_PCT, HYGIENE_DELETED_PCT, HYGIENE_REINDEX_SKEW) */
  hygiene: HygieneThresholds;
  /** first wait before a VACUUM is tried again while another VACUUM runs on the cluster; doubles up to 5 min (default 10 s) */
  vacuumRetryMs: number;
  /** give up (the job fails, `retry` resumes it) when other VACUUMs kept the cluster busy this long (default 30 min) */
  vacuumWaitMs: number;
  /** how often a DMS full load's table statistics are looked at, the job parked in between (default 30 s; steps/dms-full-load.ts) */
  fullLoadPollMs?: number;
  /** a DMS full load still running after this long fails the step; `retry` resumes the wait (default 48 h) */
  fullLoadTimeoutMs?: number;
  /** how often a wait for the CDC service's reload of a table looks (default 60 s; steps/cdc-reload.ts) */
  cdcReloadPollMs?: number;
  /** a CDC reload not seen after this long fails the wait; `retry` waits again (default 4 days) */
  cdcReloadTimeoutMs?: number;
}

export const DEFAULT_RUNBOOK_SETTINGS: RunbookSettings = {
  logCheckMs: 10 * 60_000,
  freshnessMs: 10 * 60_000,
  diskFactor: 2.5,
  swapLockTimeoutMs: 2_000,
  hygiene: { ...DEFAULT_HYGIENE_THRESHOLDS },
  vacuumRetryMs: 10_000,
  vacuumWaitMs: 30 * 60_000,
  scanMbPerSecond: 100,
  copyMbPerSecond: 25,
};

/** The worker's settings over the defaults: what a step reads when its runbook did not hand it settings. */
export function runbookSettings(deps: Pick<RunbookDeps, 'settings'>): RunbookSettings {
  return { ...DEFAULT_RUNBOOK_SETTINGS, ...(deps.settings ?? {}) };
}

/** The log check's default lag: CloudWatch ingestion is usually seconds behind, at times minutes. */
export const DEFAULT_LOG_LAG_MS = 2 * 60_000;

/** The lag the log check uses: the setting, else 2 minutes or the check's own length when that is shorter. */
export function logLagMsOf(s: Pick<RunbookSettings, 'logCheckMs' | 'logLagMs'>): number {
  return s.logLagMs ?? Math.min(DEFAULT_LOG_LAG_MS, s.logCheckMs);
}

/** What `setup` needs to make the DMS task of a new instance (DMS_* variables; src/config.ts). */
export interface DmsSetupSettings {
  /** DMS_SOURCE_ENDPOINT_ARN: the read-only MySQL source endpoint the task reads (it must exist; setup never creates it) */
  sourceEndpointArn?: string;
  /** DMS_SOURCE_SCHEMA: the MySQL database of the table, else SOURCE_DATABASE_URL's database, else the Redshift schema */
  sourceSchema?: string;
  /** DMS_TARGET_ENDPOINT_ID: the Redshift target endpoint, found by this identifier */
  targetEndpointId?: string;
  /** how to create it when it is missing (DMS_TARGET_SERVER_NAME, _PORT, _DATABASE, _SECRET_ARN, _SECRET_ACCESS_ROLE_ARN); without it a missing target is an error */
  targetConnection?: Omit<RedshiftTargetEndpointSpec, 'id'>;
}

export interface RunbookDeps {
  warehouse: Warehouse;
  registry: Registry;
  /** DMS and CloudWatch Logs: needed by runbooks on dms-replicated tables */
  dms?: DmsPort;
  logs?: LogsPort;
  settings?: Partial<RunbookSettings>;
  /** the MySQL read replica (SOURCE_DATABASE_URL): compare steps report "skipped" without it */
  source?: Source;
  /** compare's lag window (COMPARE_LAG_SECONDS) */
  compare?: { lagSeconds: number };
  /** setup's DMS endpoints and source schema */
  dmsSetup?: DmsSetupSettings;
}
