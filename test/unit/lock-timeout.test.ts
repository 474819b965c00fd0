import { describe, expect, it } from 'vitest';
import { lockWaitTimedOut } from '../../src/jobs/lock-timeout.js';
import type { StatementInfo } from '../../src/warehouse/port.js';

const batch = (status: StatementInfo['status'], error?: string): StatementInfo => ({
  id: 's',
  status: 'FAILED',
  resultRows: -1,
  hasResultSet: false,
  subStatements: [
    { id: 's:1', status: 'FINISHED', resultRows: 0, hasResultSet: false },
    { id: 's:2', status, resultRows: -1, hasResultSet: false, ...(error !== undefined ? { error } : {}) },
  ],
});

describe('lockWaitTimedOut', () => {
  it("matches Redshift's statement_timeout text, both spellings, and PostgreSQL's", () => {
    expect(lockWaitTimedOut(batch('FAILED', "ERROR: Query (150) canceled on user's request"), 1)).toBe(true);
    expect(lockWaitTimedOut(batch('FAILED', "ERROR:  Query (150) cancelled on user's request"), 1)).toBe(true);
    expect(lockWaitTimedOut(batch('FAILED', 'ERROR: canceling statement due to statement timeout'), 1)).toBe(true);
    expect(lockWaitTimedOut(batch('FAILED', 'ERROR: canceling statement due to lock timeout'), 1)).toBe(true);
  });

  it('does not match another error, another statement of the batch, or a CancelStatement (ABORTED)', () => {
    expect(lockWaitTimedOut(batch('FAILED', 'ERROR: relation "x" does not exist'), 1)).toBe(false);
    expect(lockWaitTimedOut(batch('FAILED', "ERROR: Query (150) canceled on user's request"), 0)).toBe(false);
    expect(lockWaitTimedOut(batch('ABORTED', "ERROR: Query (150) cancelled on user's request"), 1)).toBe(false);
    expect(lockWaitTimedOut(undefined, 1)).toBe(false);
  });
});
