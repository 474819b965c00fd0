/**
 * Driving `/redshift modify` end to end through the bot harness (signed Slack HTTP → Bolt → BullMQ on real Redis → the
 * in-process worker → AWS SDK → sandbox on PostgreSQL), and the checks every modify e2e test makes: the catalog shape,
 * the apply loop's changes all present (counted), old_<t> dropped only after an approver's signed click, the
 * schemas/ file rewritten.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import type { JobRecord } from '../../src/jobs/types.js';
import type { ApplyLoop } from '../../src/sandbox/replication.js';
import type { VerifyResult } from '../../src/sandbox/apply-loop.js';
import { readTable } from '../../src/schema/catalog.js';
import type { TableDef } from '../../src/schema/model.js';
import { type BotHarness, SCHEMA, USERS } from './bot-harness.js';

/** The requester of modify jobs: an operator who is also an approver, so a click of their own is refused as self-approval. */
export const REQUESTER = USERS.lead;

export async function tableExists(h: BotHarness, name: string): Promise<boolean> {
  const r = await h.sandbox.sql('select count(*)::int as n from information_schema.tables where table_schema = $1 and table_name = $2', [SCHEMA, name]);
  return Number(r.rows[0]?.n ?? 0) === 1;
}

/** Every table of the schema with its columns as the catalog has them (to prove a refusal changed nothing). */
export async function catalogSnapshot(h: BotHarness): Promise<string> {
  const cols = await h.sandbox.sql(
    `select table_name::text as t, column_name::text as c, data_type::text as d, coalesce(character_maximum_length, 0)::int as l
       from information_schema.columns where table_schema = $1 order by table_name, ordinal_position`,
    [SCHEMA],
  );
  const meta = await h.sandbox.sql(`select "table"::text as t, diststyle::text as d, coalesce(sortkey1, '')::text as s from svv_table_info where "schema" = $1 order by 1`, [SCHEMA]);
  return JSON.stringify({ cols: cols.rows, meta: meta.rows });
}

/** `/redshift modify <text>` as `userId`; returns the bot's ephemeral reply text. */
export async function modifyReply(h: BotHarness, text: string, userId: string = REQUESTER): Promise<string> {
  const r = await h.slash(`modify ${text}`, { userId });
  expect(r.status).toBe(200);
  expect(r.ms).toBeLessThan(3_000);
  const reply = await h.waitForResponse(r.responseId, undefined, 30_000);
  expect(reply.body.response_type).toBe('ephemeral');
  return String(reply.body.text);
}

/** `/redshift modify <text>` that must be queued; returns the job id. */
export async function queueModify(h: BotHarness, text: string, userId: string = REQUESTER): Promise<string> {
  const said = await modifyReply(h, text, userId);
  const m = /^Queued job (\d+): /.exec(said);
  expect(m, `the bot did not queue the job:\n${said}`).not.toBeNull();
  return m![1]!;
}

export async function parkedOn(h: BotHarness, jobId: string, step: string, timeoutMs = 45_000): Promise<JobRecord> {
  const job = await h.waitJob(jobId, (j) => j.state === 'awaiting-approval' && j.pendingApproval?.step === step, `to park on ${step}`, timeoutMs);
  await h.waitUntil(() => h.approvalButtons(jobId)?.value.step === step, `the ${step} buttons of job ${jobId} in its thread`, 10_000);
  return job;
}

/**
 * The job is parked on `step`: the requester's own click is refused (self-approval), then an approver's signed click
 * approves it. `whileParked` runs before any click (assert that old_<t> still exists, …).
 */
export async function approveAs(h: BotHarness, jobId: string, step: string, o: { approver?: string; whileParked?: () => Promise<void> } = {}): Promise<void> {
  const job = await parkedOn(h, jobId, step);
  const threadTs = job.origin.threadTs;
  const buttons = h.approvalButtons(jobId)!;
  if (o.whileParked) await o.whileParked();
  // the requester clicks Approve on their own job: refused on the server, nothing moves
  const own = await h.click('rso_approve', buttons.raw, { userId: job.requester, messageTs: buttons.message.ts, ...(threadTs ? { threadTs } : {}) });
  expect(own.status).toBe(200);
  const refused = await h.waitForResponse(own.responseId, undefined, 10_000);
  expect(String(refused.body.text)).toBe(`Refused: <@${job.requester}> asked for job ${jobId}, so another approver must approve it (ALLOW_SELF_APPROVAL is off)`);
  const still = await h.rt.jobs.store.get(jobId);
  expect(still?.state).toBe('awaiting-approval');
  expect(still?.approvals.filter((a) => a.step === step)).toEqual([]);
  if (o.whileParked) await o.whileParked();
  const approver = o.approver ?? USERS.approver;
  const click = await h.click('rso_approve', buttons.raw, { userId: approver, messageTs: buttons.message.ts, ...(threadTs ? { threadTs } : {}) });
  expect(click.status).toBe(200);
  const said = await h.waitForResponse(click.responseId, undefined, 10_000);
  expect(String(said.body.text)).toBe(`job ${jobId}: step "${step}" approved by <@${approver}>`);
}

/** A signed Reject click by an approver on the job's pending step. */
export async function rejectAs(h: BotHarness, jobId: string, step: string, approver: string = USERS.approver): Promise<void> {
  const job = await parkedOn(h, jobId, step);
  const threadTs = job.origin.threadTs;
  const buttons = h.approvalButtons(jobId)!;
  const click = await h.click('rso_reject', buttons.raw, { userId: approver, messageTs: buttons.message.ts, ...(threadTs ? { threadTs } : {}) });
  expect(click.status).toBe(200);
  const said = await h.waitForResponse(click.responseId, undefined, 10_000);
  expect(String(said.body.text)).toBe(`job ${jobId}: step "${step}" rejected (completed steps will be undone) by <@${approver}>`);
}

export async function succeeded(h: BotHarness, jobId: string, timeoutMs = 45_000): Promise<JobRecord> {
  const job = await h.waitJob(jobId, (j) => j.state === 'succeeded' || j.state === 'failed' || j.state === 'rolled-back' || j.state === 'rejected', 'to finish', timeoutMs);
  expect(job.state, `job ${jobId}: ${job.error ?? ''}\n${job.steps.map((s) => `${s.name}:${s.state} ${s.detail ?? s.error ?? ''}`).join('\n')}`).toBe('succeeded');
  return job;
}

/** The thread's replies (text) of a job. */
export async function threadOf(h: BotHarness, jobId: string): Promise<string[]> {
  const p = await h.progressMessage(jobId);
  if (!p) return [];
  return h.thread(p.ts).map((m) => m.text ?? '');
}

/** The live table as the catalog describes it (through the warehouse adapter: Data API → sandbox). */
export async function liveTable(h: BotHarness, name: string): Promise<TableDef> {
  const t = await readTable(h.warehouse, SCHEMA, name);
  expect(t, `${SCHEMA}.${name} in the catalog`).toBeDefined();
  return t!;
}

export const columnsOf = (t: TableDef): string[] => t.columns.map((c) => `${c.name} ${c.type}`);

/** The table's file in the harness's schemas/ copy. */
export async function schemaFile(h: BotHarness, name: string): Promise<string> {
  return readFile(path.join(h.schemasDir, SCHEMA, `${name}.yml`), 'utf8');
}

/** Stop generating, wait until every change reached the table, compare the WHOLE table with the source; resume. */
export async function drainAndVerify(loop: ApplyLoop, o: { resume?: boolean; timeoutMs?: number } = {}): Promise<VerifyResult & { generated: number; applied: number; failed: number }> {
  loop.stopGenerating();
  await loop.idle(o.timeoutMs ?? 20_000);
  const v = await loop.verify();
  const st = loop.stats();
  if (o.resume ?? true) loop.resumeGenerating();
  return { ...v, generated: st.generated, applied: st.applied + st.appliedByLoad, failed: st.failed };
}

/** The loop's change log between two `history().length` marks: how many changes were made while a job ran, by fate. */
export function changesBetween(loop: ApplyLoop, from: number, to: number): { total: number; applied: number; failed: number; pending: number } {
  const slice = loop.history().slice(from, to);
  return {
    total: slice.length,
    applied: slice.filter((c) => c.fate === 'applied').length,
    failed: slice.filter((c) => c.fate === 'failed').length,
    pending: slice.filter((c) => c.fate === 'pending').length,
  };
}
