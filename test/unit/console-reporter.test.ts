import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConsoleReporter } from '../../src/jobs/console-reporter.js';
import type { JobRecord } from '../../src/jobs/types.js';

function job(over: Partial<JobRecord> = {}): JobRecord {
  return {
    id: '7',
    kind: 'fixture',
    requester: 'UREQ1',
    commandText: 'modify t',
    summary: 'add column t.note',
    params: {},
    state: 'running',
    cursor: 0,
    steps: [
      { name: 'copy', title: 'Copy rows', state: 'done', startedAt: 1000, finishedAt: 3500, detail: '12 rows' },
      { name: 'swap', title: 'Swap tables', state: 'pending' },
    ],
    handles: {},
    approvals: [],
    origin: { kind: 'console' },
    createdAt: 0,
    updatedAt: 0,
    ...over,
  };
}

describe('ConsoleReporter', () => {
  it('prints one line per event', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (d: Buffer) => chunks.push(d.toString()));
    const r = new ConsoleReporter(out);
    const j = job();
    await r.jobStarted(j);
    await r.stepFinished(j, j.steps[0]!);
    await r.approvalRequested(j, j.steps[1]!, 'Swap t?', 'N1');
    await r.approvalResolved(j, { step: 'swap', decision: 'approved', by: 'UAPP1', at: 0 });
    await r.stepFailed(j, j.steps[1]!, 'boom');
    await r.jobFinished(job({ state: 'failed', cursor: 1, error: 'boom' }));
    expect(chunks.join('').split('\n')).toEqual([
      '[job 7] started: add column t.note (asked by <@UREQ1>)',
      '[job 7] ✓ 1/2 Copy rows — 12 rows (2.5 s)',
      "[job 7] ⏸ 2/2 Swap tables needs approval: Swap t? — to decide: the Approve / Reject buttons on job 7's approval message in Slack",
      '[job 7] ✔ step swap approved by <@UAPP1>',
      '[job 7] ✗ 2/2 Swap tables failed: boom',
      '[job 7] finished: failed: boom — `retry 7` resumes at step 2, `rollback 7` undoes completed steps',
      '',
    ]);
  });

  it('shows a step that finished with a warning (a check that compared nothing) as ⚠, never ✓', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (d: Buffer) => chunks.push(d.toString()));
    const r = new ConsoleReporter(out);
    const j = job({ steps: [{ name: 'verify', title: 'Verify the copy', state: 'done', status: 'warn', startedAt: 1000, finishedAt: 1500, detail: 'compared 0 rows' }] });
    await r.stepFinished(j, j.steps[0]!);
    expect(chunks.join('')).toBe('[job 7] ⚠ 1/1 Verify the copy finished with a warning — compared 0 rows (0.5 s)\n');
  });

  it('names only what the user can type, and says "started" once: not again when the job resumes after a decision', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (d: Buffer) => chunks.push(d.toString()));
    const r = new ConsoleReporter(out, { decideHint: () => 'answer y or n at the prompt' });
    const parked = job({ cursor: 1, state: 'awaiting-approval' });
    await r.jobStarted(job());
    await r.approvalRequested(parked, parked.steps[1]!, 'Swap t?', 'N1');
    const resumed = job({ cursor: 1, approvals: [{ step: 'swap', decision: 'approved', by: 'UAPP1', at: 0 }] });
    await r.approvalResolved(resumed, resumed.approvals[0]!);
    await r.jobStarted(resumed);
    const text = chunks.join('');
    expect(text).toContain('to decide: answer y or n at the prompt');
    expect(text).not.toMatch(/`(approve|reject) 7/);
    expect(text.match(/started|resumed/g)).toEqual(['started']);
  });
});
