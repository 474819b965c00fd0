import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/jobs/types.js';
import {
  LIMITS,
  approvalMessage,
  approvalResolvedMessage,
  escapeMrkdwn,
  formatDuration,
  formatTable,
  errorMessage,
  jobFinishedMessage,
  keyValueMessage,
  noteMessage,
  progressMessage,
  stepFailedMessage,
  stepFinishedMessage,
  tableMessage,
  type KnownBlock,
  type SlackMessage,
} from '../../src/slack/blocks.js';
import { ACTION_IDS, parseActionValue } from '../../src/slack/payloads.js';
import { MemoryReplayGuard, replayTtlMs } from '../../src/slack/replay-guard.js';

const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);

function job(over: Partial<JobRecord> = {}): JobRecord {
  return {
    id: 'job-modify-ak-core_user-1',
    kind: 'modify',
    table: 'ak.core_user',
    requester: 'U0REQ0001',
    commandText: 'modify ak.core_user widen email varchar(512)',
    summary: 'widen email to varchar(512) <deep copy>',
    params: {},
    state: 'running',
    cursor: 1,
    steps: [
      { name: 'stop', title: 'Stop replication', state: 'done', startedAt: T0, finishedAt: T0 + 2_100, detail: 'task stopped' },
      { name: 'copy', title: 'Copy rows', state: 'running', startedAt: T0 + 2_100 },
      { name: 'swap', title: 'Swap tables', state: 'pending' },
      { name: 'resume', title: 'Resume replication', state: 'pending' },
    ],
    handles: {},
    approvals: [],
    origin: { kind: 'slack', channel: 'C1' },
    createdAt: T0,
    updatedAt: T0 + 5_000,
    ...over,
  };
}

function allText(blocks: KnownBlock[]): string {
  return JSON.stringify(blocks);
}

function buttons(m: SlackMessage): Array<{ action_id?: string; style?: string; value?: string; confirm?: unknown; text: { text: string } }> {
  const out: Array<{ action_id?: string; style?: string; value?: string; confirm?: unknown; text: { text: string } }> = [];
  for (const b of m.blocks) {
    if (b.type === 'actions') {
      for (const e of b.elements) if (e.type === 'button') out.push(e);
    }
  }
  return out;
}

function expectWithinLimits(m: SlackMessage): void {
  expect(m.text.length).toBeGreaterThan(0);
  expect(m.blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
  for (const b of m.blocks) {
    if (b.type === 'section' && b.text) {
      expect(b.text.text.length).toBeGreaterThan(0);
      expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
    }
  }
  for (const btn of buttons(m)) {
    expect(btn.text.text.length).toBeLessThanOrEqual(LIMITS.buttonText);
    expect((btn.value ?? '').length).toBeLessThanOrEqual(LIMITS.buttonValue);
  }
}

describe('formatting helpers', () => {
  it('formats durations compactly', () => {
    expect(formatDuration(400)).toBe('0.4s');
    expect(formatDuration(12_345)).toBe('12.3s');
    expect(formatDuration(65_000)).toBe('1m 05s');
    expect(formatDuration(3_720_000)).toBe('1h 02m');
    expect(formatDuration(-5)).toBe('0.0s');
  });

  it('escapes the characters Slack treats as markup', () => {
    expect(escapeMrkdwn('a < b && c > <@U1>')).toBe('a &lt; b &amp;&amp; c &gt; &lt;@U1&gt;');
  });

  it('pads table columns to the widest cell', () => {
    const t = formatTable(['table', 'rows'], [['ak.core_user', '1200'], ['x', '7']]);
    expect(t.split('\n')).toEqual(['table         rows', '------------  ----', 'ak.core_user  1200', 'x             7']);
  });
});

describe('progress message', () => {
  it('shows state, table, summary, step k/n with title, job id, requester and elapsed time', () => {
    const m = progressMessage(job(), T0 + 65_000);
    const s = allText(m.blocks);
    expect(s).toContain(':arrows_counterclockwise:');
    expect(s).toContain('`ak.core_user`');
    expect(s).toContain('Step 2/4: Copy rows');
    expect(s).toContain('job-modify-ak-core_user-1');
    expect(s).toContain('<@U0REQ0001>');
    expect(s).toContain('elapsed 1m 05s');
    // user text is escaped, never markup
    expect(s).toContain('&lt;deep copy&gt;');
    expect(s).not.toContain('<deep copy>');
    expect(m.text).toContain('modify ak.core_user: running');
    expect(m.text).toContain('step 2/4 Copy rows');
    expectWithinLimits(m);
  });

  it('shows the final state and total time when the job is over', () => {
    const done = job({
      state: 'succeeded',
      cursor: 4,
      finishedAt: T0 + 125_000,
      steps: job().steps.map((s) => ({ ...s, state: 'done' as const, startedAt: T0, finishedAt: T0 + 1_000 })),
    });
    const m = progressMessage(done, T0 + 999_000);
    const s = allText(m.blocks);
    expect(s).toContain(':white_check_mark:');
    expect(s).toContain('All 4 steps done');
    expect(s).toContain('took 2m 05s');
    expect(m.text).toContain('succeeded');
  });

  it('points at the failed step and shows the error when the job failed', () => {
    const failed = job({
      state: 'failed',
      error: 'ERROR: permission denied for relation core_user',
      steps: job().steps.map((s) => (s.name === 'copy' ? { ...s, state: 'failed' as const, finishedAt: T0 + 3_000 } : s)),
    });
    const s = allText(progressMessage(failed, T0 + 10_000).blocks);
    expect(s).toContain(':x:');
    expect(s).toContain('Step 2/4: Copy rows');
    expect(s).toContain('permission denied');
  });

  it('shows only the current step for long runbooks', () => {
    const steps = Array.from({ length: 30 }, (_, i) => ({ name: `s${i}`, title: `Step number ${i}`, state: 'pending' as const }));
    const m = progressMessage(job({ steps, cursor: 7 }), T0);
    const s = allText(m.blocks);
    expect(s).toContain('Step 8/30: Step number 7');
    expect(s).not.toContain('Step number 20');
    expectWithinLimits(m);
  });
});

describe('step replies', () => {
  it('a finished step shows its duration and detail', () => {
    const step = { name: 'copy', title: 'Copy rows', state: 'done' as const, startedAt: T0, finishedAt: T0 + 12_300, detail: '1,234 rows · statement 8e1c' };
    const m = stepFinishedMessage(job(), step);
    expect(allText(m.blocks)).toContain('Step 2/4 *Copy rows* done in 12.3s');
    expect(allText(m.blocks)).toContain('1,234 rows · statement 8e1c');
    expect(m.text).toContain('done in 12.3s');
  });

  it('a check that finished without passing (status warn) is :warning:, in its reply and in the checklist, never a check mark', () => {
    const step = { name: 'copy', title: 'Verify the copy', state: 'done' as const, status: 'warn' as const, startedAt: T0, finishedAt: T0 + 1_000, detail: 'compared 0 rows' };
    const m = stepFinishedMessage(job(), step);
    expect(allText(m.blocks)).toContain(':warning: Step 2/4 *Verify the copy* finished with a warning in 1.0s');
    expect(allText(m.blocks)).not.toContain(':white_check_mark:');
    expect(m.text).toContain('finished with a warning');
    const j = job();
    j.steps[1] = step;
    const p = allText(progressMessage(j, T0 + 5_000).blocks);
    expect(p).toContain(':warning: 2. Verify the copy');
    expect(p).toContain(':white_check_mark: 1. Stop replication');
  });

  it('a failure offers Retry step, Roll back (once something is done) and Cancel, with confirm dialogs on the risky ones', () => {
    const step = { name: 'copy', title: 'Copy rows', state: 'failed' as const, startedAt: T0, finishedAt: T0 + 2_000 };
    const m = stepFailedMessage(job(), step, 'ERROR: disk full <1>');
    const b = buttons(m);
    expect(b.map((x) => x.action_id)).toEqual([ACTION_IDS.retry, ACTION_IDS.rollback, ACTION_IDS.cancel]);
    expect(b[1]?.style).toBe('danger');
    expect(b[1]?.confirm).toBeDefined();
    expect(b[2]?.confirm).toBeDefined();
    const v = parseActionValue(ACTION_IDS.retry, b[0]?.value);
    expect(v).toEqual({ ok: true, value: { jobId: 'job-modify-ak-core_user-1', step: 'copy' } });
    expect(allText(m.blocks)).toContain('```ERROR: disk full &lt;1&gt;```');
    expectWithinLimits(m);
  });

  it('no Roll back when nothing was done yet', () => {
    const fresh = job({ steps: job().steps.map((s, i) => (i === 0 ? { ...s, state: 'failed' as const } : { ...s, state: 'pending' as const })), cursor: 0 });
    const first = fresh.steps[0];
    if (!first) throw new Error('fixture');
    const ids = buttons(stepFailedMessage(fresh, first, 'boom')).map((x) => x.action_id);
    expect(ids).toEqual([ACTION_IDS.retry, ACTION_IDS.cancel]);
  });

  it('the closing reply says how it ended', () => {
    const m = jobFinishedMessage(job({ state: 'rolled-back', finishedAt: T0 + 90_000, error: 'swap failed' }));
    expect(m.text).toContain('rolled back after 1m 30s');
    expect(allText(m.blocks)).toContain('swap failed');
  });
});

describe('approval', () => {
  const step = { name: 'drop_old', title: 'Drop old_core_user', state: 'pending' as const };

  it('asks with Approve (primary) and Reject (danger), each behind a confirm dialog, carrying job, step and nonce', () => {
    const m = approvalMessage(job(), step, 'Drop ak.old_core_user (1.2 GB)?', 'n0nce-123');
    const b = buttons(m);
    expect(b.map((x) => [x.action_id, x.style])).toEqual([
      [ACTION_IDS.approve, 'primary'],
      [ACTION_IDS.reject, 'danger'],
    ]);
    for (const x of b) {
      expect(x.confirm).toBeDefined();
      expect(JSON.parse(x.value ?? '')).toEqual({ jobId: 'job-modify-ak-core_user-1', step: 'drop_old', nonce: 'n0nce-123' });
      expect(parseActionValue(ACTION_IDS.approve, x.value).ok).toBe(true);
    }
    expect(m.text).toContain('Approval needed');
    expectWithinLimits(m);
  });

  it('after replication-log errors, Roll back (the reject action) is the highlighted choice and Approve is marked dangerous', () => {
    const m = approvalMessage(job({ handles: { logErrors: '3' } }), step, 'Drop ak.old_core_user?', 'n0nce-123');
    const b = buttons(m);
    expect(b.map((x) => [x.action_id, x.style, x.text.text])).toEqual([
      [ACTION_IDS.reject, 'primary', 'Roll back'],
      [ACTION_IDS.approve, 'danger', 'Approve anyway'],
    ]);
    for (const x of b) expect(JSON.parse(x.value ?? '')).toEqual({ jobId: 'job-modify-ak-core_user-1', step: 'drop_old', nonce: 'n0nce-123' });
    expectWithinLimits(m);
  });

  it('the replacement names who decided and when, and has no buttons', () => {
    const withStep = job({ steps: [...job().steps, step] });
    const m = approvalResolvedMessage(withStep, { step: 'drop_old', decision: 'approved', by: 'U0APP0001', at: T0 }, 'Drop it?');
    const s = allText(m.blocks);
    expect(buttons(m)).toHaveLength(0);
    expect(s).toContain('Approved by <@U0APP0001> at <!date^');
    expect(s).toContain('Drop old_core_user');
    expect(s).toContain('Drop it?');
    const r = approvalResolvedMessage(job(), { step: 'drop_old', decision: 'rejected', by: 'U0APP0001', at: T0 });
    expect(r.text).toContain('Rejected by');
  });
});

describe('status tables', () => {
  it('a long table is split into code blocks under the section limit, each repeating the header', () => {
    const rows = Array.from({ length: 400 }, (_, i) => [`ak.table_${i}`, String(i * 1000), 'running']);
    const m = tableMessage('Tables', ['table', 'rows', 'replication'], rows, { footer: 'as of now' });
    expectWithinLimits(m);
    const sections = m.blocks.filter((b) => b.type === 'section').slice(1);
    expect(sections.length).toBeGreaterThan(1);
    for (const s of sections) {
      const text = s.type === 'section' ? (s.text?.text ?? '') : '';
      expect(text.startsWith('```table')).toBe(true);
      expect(text.endsWith('```')).toBe(true);
    }
    expect(allText(m.blocks)).toContain('ak.table_399');
  });

  it('key/value status reads as aligned lines', () => {
    const m = keyValueMessage('ak.core_user', [
      ['rows', '1,200'],
      ['replication', 'dms running'],
    ]);
    expect(allText(m.blocks)).toContain('rows         1,200');
    expect(keyValueMessage('empty', []).blocks.length).toBe(2);
  });
});

describe('user and warehouse text in the fallback `text` (Slack parses it too)', () => {
  it('is escaped in every builder: no live <!channel>, <@U…> or link from data', () => {
    const evil = '<!channel> <@U0EVIL001> <https://evil.example|click> & co';
    const failed = job({ state: 'failed', error: evil, steps: [{ name: 's', title: `copy ${evil}`, state: 'failed', detail: evil }] });
    const step = failed.steps[0]!;
    const all: SlackMessage[] = [
      progressMessage(failed, T0),
      stepFinishedMessage(failed, step, T0),
      stepFailedMessage(failed, step, evil, {}, T0),
      approvalMessage(failed, step, evil, 'n1'),
      jobFinishedMessage(failed, T0),
      noteMessage(evil),
      errorMessage(evil, evil),
      tableMessage(evil, ['a'], [[evil]]),
      keyValueMessage(evil, [['k', evil]]),
    ];
    for (const m of all) {
      expect(m.text).not.toMatch(/<!channel>|<@U0EVIL001>|<https:/);
      expect(m.text).toContain('&lt;!channel&gt;');
      expect(JSON.stringify(m.blocks)).not.toMatch(/<!channel>|<@U0EVIL001>|<https:/);
    }
  });

  it('a ``` in an error or a table cell cannot close the code block it is shown in', () => {
    const failed = job({ state: 'failed', steps: [{ name: 's', title: 'copy', state: 'failed' }] });
    const m = stepFailedMessage(failed, failed.steps[0]!, "default 'a```b' refused", {}, T0);
    const code = m.blocks.map((b) => JSON.stringify(b)).find((b) => b.includes('refused')) ?? '';
    expect(code.match(/```/g)).toHaveLength(2);
    const t = tableMessage('t', ['col'], [['x```y']]);
    for (const b of t.blocks.slice(1)) expect(JSON.stringify(b).match(/```/g)).toHaveLength(2);
  });
});

describe('action values', () => {
  it('refuses values that are not what our buttons carry', () => {
    expect(parseActionValue(ACTION_IDS.cancel, undefined).ok).toBe(false);
    expect(parseActionValue(ACTION_IDS.cancel, 'not json').ok).toBe(false);
    expect(parseActionValue(ACTION_IDS.cancel, '{"job":"x"}').ok).toBe(false);
    expect(parseActionValue(ACTION_IDS.cancel, '{"jobId":"x","extra":1}').ok).toBe(false);
    expect(parseActionValue(ACTION_IDS.cancel, '{"jobId":"x; DROP TABLE"}').ok).toBe(false);
    expect(parseActionValue(ACTION_IDS.approve, '{"jobId":"x","step":"s"}')).toEqual({
      ok: false,
      error: 'rso_approve needs both "step" and "nonce" in its value',
    });
    expect(parseActionValue(ACTION_IDS.cancel, '{"jobId":"job-1"}')).toEqual({ ok: true, value: { jobId: 'job-1' } });
  });
});

describe('MemoryReplayGuard', () => {
  it('lets a pair through once, refuses it until it expires', async () => {
    let now = 1_000_000;
    const g = new MemoryReplayGuard(() => now);
    expect(await g.firstSeen('1:v0=a', 1_000)).toBe(true);
    expect(await g.firstSeen('1:v0=a', 1_000)).toBe(false);
    expect(await g.firstSeen('1:v0=b', 1_000)).toBe(true);
    now += 1_001;
    expect(await g.firstSeen('1:v0=a', 1_000)).toBe(true);
  });

  it('remembers a pair for as long as Bolt would accept its timestamp', () => {
    const nowMs = 1_700_000_000_000;
    const ts = nowMs / 1000 - 60; // a minute old: Bolt accepts it for 4 more minutes
    expect(replayTtlMs(ts, nowMs, 0)).toBe(4 * 60_000);
    expect(replayTtlMs(ts, nowMs)).toBe(5 * 60_000);
  });
});
