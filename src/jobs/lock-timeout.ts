/**
 * Did a statement fail because it waited too long for a lock? The swap bounds its wait for ACCESS EXCLUSIVE with a
 * statement_timeout around LOCK TABLE and retries when that timeout fires.
 *
 * Redshift reports a statement_timeout as `ERROR: Query (150) canceled on user's request` (the example in its
 * statement_timeout documentation; "cancelled" with two l's is seen too, and is what a CancelStatement says), not
 * PostgreSQL's "canceling statement due to statement timeout". Both are matched, and PostgreSQL's lock_timeout text.
 * A statement stopped through CancelStatement ends ABORTED: only a FAILED one counts as a timeout, so a person
 * cancelling the swap is never answered with a retry.
 */
import type { StatementInfo } from '../warehouse/port.js';

export const LOCK_WAIT_TIMEOUT_TEXT = /Query \(\d+\) cancell?ed on user's request|canceling statement due to (?:statement|lock) timeout|lock timeout/i;

/** The sub-statement at `index` (0-based) of a batch FAILED with a timeout error. */
export function lockWaitTimedOut(info: StatementInfo | undefined, index: number): boolean {
  const sub = info?.subStatements?.[index];
  return sub !== undefined && sub.status === 'FAILED' && LOCK_WAIT_TIMEOUT_TEXT.test(sub.error ?? '');
}
