/**
 * One source of truth for SQL: what `/redshift modify … --dry-run` prints is what the warehouse receives. The plan is
 * asked for through signed Slack HTTP, the same command is queued and run (approved by another user), and every
 * statement the job sent to the Data API (ListStatements, by the job's StatementNames) is compared with the statements
 * the printed plan lists under that step — equal text, bar the placeholders for values known only at run time
 * ({{copy_mark}}, {{swap_mark}} filled from the job's recorded marks, {{regrants}} from the table's grants).
 */
import { ListStatementsCommand } from '@aws-sdk/client-redshift-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/jobs/types.js';
import type { Replication } from '../../src/sandbox/replication.js';
import { type BotHarness, SCHEMA, startBotHarness } from '../support/bot-harness.js';
import { approveAs, modifyReply, queueModify, succeeded } from '../support/modify-flow.js';
import { dataClient, temporaryRole } from '../support/sandbox.js';

const role = temporaryRole('rso_readers');

let h: BotHarness;
let replication: Replication | undefined;

beforeAll(async () => {
  h = await startBotHarness({ name: 'mplan', inProcessWorker: true, copySchemas: true, aws: true, settings: { logCheckMs: 300, freshnessMs: 300 }, rowsPerTable: 30 });
  for (const t of ['core_action', 'core_usermailing']) await h.sandbox.sql(`grant select on ${SCHEMA}.${t} to ${role}`);
  // the DMS tasks exist and write core_usermailing; the CDC service writes core_action
  replication = await h.sandbox.startReplication(h.registry, { dms: { rate: 10 }, cdc: [{ table: 'core_action', rate: 10 }], tickMs: 50 });
}, 90_000);

afterAll(async () => {
  await replication?.stop();
  await h?.close();
}, 60_000);

/** The printed plan's statements by step: each sql / batch / query action as the list of its statements. */
function planStatements(printed: string): Map<string, string[][]> {
  const text = printed.replace(/^```|```$/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const steps = new Map<string, string[][]>();
  let actions: string[][] | undefined;
  let current: string[] | undefined;
  let pending: string[] = [];
  for (const line of text.split('\n')) {
    if (/^rollback \(/.test(line)) break;
    const head = /^\s*\d+\. .*\s\s\[([a-z0-9-]+)\]$/.exec(line);
    if (head) {
      actions = [];
      steps.set(head[1]!, actions);
      current = undefined;
      continue;
    }
    if (!actions) continue;
    if (/^ {4}(sql|batch|query)\b/.test(line)) {
      current = [];
      actions.push(current);
      pending = [];
      continue;
    }
    if (/^ {4}\S/.test(line)) {
      current = undefined; // note:, aws:, approval:, bot:, done when:
      continue;
    }
    if (!current || !line.startsWith('      ') || /^ {6}→ expect /.test(line)) continue;
    pending.push(line.slice(6));
    if (line.endsWith(';')) {
      current.push(pending.join('\n').replace(/;$/, ''));
      pending = [];
    }
  }
  return steps;
}

/** The job's statements as the Data API received them, per step (the StatementName is `job <id> <step> <schema.table>`). */
async function receivedStatements(jobId: string): Promise<Map<string, string[][]>> {
  const client = dataClient(h.sandbox.endpoint);
  const out = new Map<string, string[][]>();
  try {
    const all: Array<{ name: string; sqls: string[]; at: number }> = [];
    let token: string | undefined;
    do {
      const r = await client.send(new ListStatementsCommand({ MaxResults: 100, NextToken: token, StatementName: `job ${jobId} ` }));
      for (const s of r.Statements ?? []) all.push({ name: s.StatementName ?? '', sqls: s.QueryStrings ?? [s.QueryString ?? ''], at: s.CreatedAt?.getTime() ?? 0 });
      token = r.NextToken;
    } while (token);
    for (const s of all.sort((a, b) => a.at - b.at)) {
      const step = s.name.split(' ')[2]!;
      out.set(step, [...(out.get(step) ?? []), s.sqls]);
    }
  } finally {
    client.destroy();
  }
  return out;
}

/** Fill a printed statement list's placeholders the way a reader of the plan would, from the job's record. */
function filled(stmts: string[], job: JobRecord, table: string, round?: number): string[] {
  const lit = (v: string | undefined): string => {
    expect(v, 'a mark the plan refers to was recorded').toBeDefined();
    return /^\d+$/.test(v!) ? v! : `'${v}'`;
  };
  return stmts.flatMap((s) =>
    s === '{{regrants}}'
      ? [`GRANT SELECT ON ${SCHEMA}.${table} TO ${role}`]
      : [
          s
            .replace(/\{\{copy_mark\}\}/g, () => lit(job.handles['copyMark']))
            .replace(/\{\{swap_mark\}\}/g, () => lit(job.handles['swapMark']))
            // a catch-up round's marks (recorded per round), else where the last round ended (the swap, the post-sync)
            .replace(/\{\{catchup_mark\}\}/g, () => lit(round === undefined ? job.handles['catchupMark'] : job.handles[`catchupFrom:${round}`]))
            .replace(/\{\{catchup_next\}\}/g, () => lit(job.handles[`catchupTo:${round ?? 0}`])),
        ],
  );
}

async function runAndCompare(table: string, command: string, mustRun: string[]): Promise<void> {
  const printed = await modifyReply(h, `${command} --dry-run`);
  expect(printed).toMatch(/dry run — nothing was queued or run/);
  const plan = planStatements(printed);
  const jobId = await queueModify(h, command);
  await approveAs(h, jobId, 'approve-drop');
  const job = await succeeded(h, jobId, 60_000);
  const received = await receivedStatements(jobId);

  // the steps that must have sent their statements did, and each step that sent any is in the plan
  expect([...received.keys()].filter((s) => mustRun.includes(s)).sort()).toEqual([...mustRun].sort());
  for (const [step, sent] of received) {
    const printedActions = plan.get(step);
    expect(printedActions, `step ${step} is in the printed plan`).toBeDefined();
    const rounds = step === 'catch-up' ? Array.from({ length: Number(job.handles['catchupRound'] ?? 0) }, (_, i) => i + 1) : [undefined];
    const expected = rounds.flatMap((r) => printedActions!.filter((a) => r === undefined || a.some((x) => x.includes('{{catchup_')) || r === 1).map((a) => filled(a, job, table, r)));
    for (const statements of sent) expect(expected, `what step ${step} sent is what the plan printed for it`).toContainEqual(statements);
  }
  // and every statement and batch the plan prints for those steps was sent
  for (const step of mustRun) {
    const sent = received.get(step)!;
    for (const a of plan.get(step)!) expect(sent, `step ${step} sent what the plan printed`).toContainEqual(filled(a, job, table, step === 'catch-up' ? 1 : undefined));
  }
}

describe('the printed plan is what runs', () => {
  it('cdc live copy: read-grants, create, mark, copy, pre-sync, verify, the locked swap with its re-grants, post-sync, late-writes, drop', async () => {
    await runAndCompare('core_action', 'core_action alter column link type bigint', ['read-grants', 'create', 'mark', 'copy', 'pre-sync', 'verify', 'catch-up', 'swap', 'post-sync', 'drop']);
  }, 120_000);

  it('dms: read-grants, create, copy, verify, the swap with its re-grants, drop', async () => {
    await runAndCompare('core_usermailing', 'core_usermailing alter column subject_id type bigint', ['read-grants', 'create', 'copy', 'verify', 'swap', 'drop']);
  }, 120_000);
});
