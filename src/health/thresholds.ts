import { DEFAULT_HYGIENE_THRESHOLDS } from '../hygiene/recommend.js';

/** When a fact becomes a problem. Read from the environment by src/config.ts. */
export interface HealthThresholds {
  /** a cdc table whose newest updated_at is older than this is stale (CDC_STALE_MINUTES, default 60) */
  staleMs: number;
  /** a job parked on an approval longer than this is alerted on (APPROVAL_WAIT_MINUTES, default 60) */
  approvalWaitMs: number;
  /** the CloudWatch window counted by status and watched for `]E:` lines (LOG_WINDOW_MINUTES, default 60) */
  logWindowMs: number;
  /** unsorted % above which a table needs a VACUUM (HYGIENE_UNSORTED_PCT: the same number `hygiene` uses, default 10) */
  unsortedPct: number;
  /** stats off % above which a table needs an ANALYZE (HYGIENE_STATS_OFF_PCT, default 10) */
  statsOffPct: number;
  /** svv_table_info.skew_rows above which the distribution is skewed (SKEW_ROWS, default 4) */
  skewRows: number;
}

export const DEFAULT_THRESHOLDS: HealthThresholds = {
  staleMs: 60 * 60_000,
  approvalWaitMs: 60 * 60_000,
  logWindowMs: 60 * 60_000,
  unsortedPct: DEFAULT_HYGIENE_THRESHOLDS.unsortedPct,
  statsOffPct: DEFAULT_HYGIENE_THRESHOLDS.statsOffPct,
  skewRows: 4,
};
