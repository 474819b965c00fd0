/**
 * Replies as data: each has a plain-text form (the console, and Slack's notification fallback) and, for Slack, Block
 * Kit built by src/slack/blocks.ts. Pure functions: easy to test, same words in both front ends.
 */
import type { PlannedStep } from '../jobs/engine.js';
import type { JobRecord } from '../jobs/types.js';
import type { TableStats } from '../schema/catalog.js';
import type { Drift } from '../schema/diff.js';
import { formatDrift } from '../schema/diff.js';
import type { TableDef } from '../schema/model.js';
import { formatTable, hygieneMessage, keyValueMessage, LIMITS, tableMessage, truncate, type KnownBlock } from '../slack/blocks.js';
import { renderCreateTable } from '../schema/render.js';
import type { HygieneReport } from '../hygiene/read.js';
import { findingLine, type HygieneThresholds } from '../hygiene/recommend.js';
import { dayName, type ScheduleInfo, type SweepRecord, utcMinute } from '../hygiene/schedule.js';
import { codeBlock } from '../slack/mrkdwn.js';

export interface Reply {
  /** plain text (console; Slack gets it escaped when there is no slackText) */
  text: string;
  /** Slack mrkdwn text, when it differs from the escaped `text`; user text in it is escaped (src/slack/mrkdwn.ts) */
  slackText?: string;
  blocks?: KnownBlock[];
}

const fmtInt = (n: number | undefined): string => (n === undefined ? '-' : n.toLocaleString('en-US'));
const when = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'));

function replication(def: TableDef | undefined): string {
  if (!def) return '-';
  return def.replication.provider === 'dms' ? `dms:${def.replication.taskId}` : `cdc:${def.replication.service}`;
}

function distText(t: TableDef | undefined): string {
  if (!t) return '-';
  return t.distStyle === 'KEY' ? `KEY(${t.distKey ?? '?'})` : t.distStyle;
}

function sortText(t: TableDef | undefined): string {
  if (!t) return '-';
  const s = t.sortKey;
  return s.style === 'COMPOUND' || s.style === 'INTERLEAVED' ? `${s.style.toLowerCase()}(${s.columns.join(', ')})` : s.style.toLowerCase();
}

export function formatTableStatus(input: {
  ref: { schema: string; name: string };
  def: TableDef | undefined;
  live: TableDef | undefined;
  stats: TableStats | undefined;
  drift: readonly Drift[];
  lockedBy: string | undefined;
  /** the latest jobs on this table, newest first */
  recentJobs?: readonly JobRecord[];
  /** why the catalog / svv_table_info could not be read (the part is shown as unknown) */
  catalogWhy?: string;
  statsWhy?: string;
}): Reply {
  const { ref, def, live, stats, drift } = input;
  const key = `${ref.schema}.${ref.name}`;
  const cat = input.catalogWhy;
  const num = (v: string): string => (input.statsWhy !== undefined ? `unknown (${input.statsWhy})` : v);
  const pairs: Array<[string, string]> = [
    ['table', key],
    ['in warehouse', cat !== undefined ? `unknown (${cat})` : live ? 'yes' : 'NO — the table is missing'],
    ['replication', replication(def)],
    ['rows', live ? num(fmtInt(stats?.rows ?? 0)) : '-'],
    ['size (MB)', live ? num(fmtInt(stats?.sizeMb ?? 0)) : '-'],
    ['dist', stats?.distStyle ?? distText(live ?? def)],
    ['sort key', sortText(live ?? def)],
    ['unsorted %', stats?.unsorted === undefined ? '-' : stats.unsorted.toFixed(1)],
    ['stats off %', stats?.statsOff === undefined ? '-' : stats.statsOff.toFixed(1)],
    ['skew rows', stats?.skewRows === undefined ? '-' : stats.skewRows.toFixed(2)],
    ['columns', String((live ?? def)?.columns.length ?? 0)],
    ['drift', cat !== undefined ? 'unknown' : live ? (drift.length === 0 ? 'none: matches schemas/' : `${drift.length}: ${drift.map(formatDrift).join('; ')}`) : '-'],
    ['locked by job', input.lockedBy ?? 'none'],
  ];
  const title = `Status of ${key}`;
  const w = Math.max(...pairs.map(([k]) => k.length));
  const jobs = (input.recentJobs ?? []).map((j) => `${j.id}  ${j.state.padEnd(17)}  ${when(j.updatedAt)}  ${j.summary}`);
  const ddlLive = live ? renderCreateTable(live) : undefined;
  const ddlDef = def ? renderCreateTable(def) : undefined;
  const extra = [
    '',
    'recent jobs on this table:',
    ...(jobs.length ? jobs : ['  none']),
    ...(live && drift.length > 0 && ddlLive && ddlDef ? ['', 'DDL read from the catalog:', ddlLive, '', 'DDL in schemas/:', ddlDef] : []),
  ];
  const m = keyValueMessage(title, pairs);
  const blocks = [...m.blocks];
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(`*Recent jobs on this table*\n${jobs.length ? codeBlock(jobs.join('\n')) : 'none'}`, LIMITS.sectionText) } });
  if (live && drift.length > 0 && ddlLive && ddlDef) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(`*DDL read from the catalog*\n${codeBlock(ddlLive)}`, LIMITS.sectionText) } });
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(`*DDL in schemas/*\n${codeBlock(ddlDef)}`, LIMITS.sectionText) } });
  }
  return { text: `${title}\n${pairs.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}\n${extra.join('\n')}`, blocks };
}

/** `against`: what schemas/ was compared with when it is not the warehouse ("the MySQL source ak"). */
export function formatDiff(results: ReadonlyArray<{ table: string; lines: string[] }>, against?: string): Reply {
  const drifted = results.filter((r) => r.lines.length > 0);
  if (drifted.length === 0) {
    const t = against
      ? `No difference from ${against}: ${results.length} table${results.length === 1 ? '' : 's'} match schemas/.`
      : `No drift: ${results.length} table${results.length === 1 ? '' : 's'} match schemas/.`;
    return { text: t };
  }
  const body = drifted.map((r) => `${r.table}\n${r.lines.map((l) => `  - ${l}`).join('\n')}`).join('\n');
  const head = against ? `schemas/ and ${against} disagree on ${drifted.length} of ${results.length} tables:` : `Drift in ${drifted.length} of ${results.length} tables:`;
  return { text: `${head}\n${body}`, slackText: `${head}\n${codeBlock(body)}` };
}

export function formatJobList(jobs: readonly JobRecord[]): Reply {
  if (jobs.length === 0) return { text: 'No jobs yet.' };
  const headers = ['job', 'state', 'step', 'requester', 'command', 'updated'];
  const cells = jobs.map((j) => [
    j.id,
    j.state,
    j.steps.length ? `${Math.min(j.cursor + 1, j.steps.length)}/${j.steps.length}` : '-',
    j.requester,
    j.summary,
    when(j.updatedAt),
  ]);
  const m = tableMessage('Recent jobs', headers, cells);
  return { text: `Recent jobs\n${formatTable(headers, cells, 60)}`, blocks: m.blocks };
}

export function formatJob(job: JobRecord): Reply {
  const lines = [
    `job ${job.id} — ${job.summary}`,
    `state ${job.state}; requested by ${job.requester} at ${when(job.createdAt)}${job.finishedAt ? `; finished ${when(job.finishedAt)}` : ''}`,
    ...job.steps.map((s, i) => `${String(i + 1).padStart(2)}. [${s.state}${s.status === 'warn' ? ', warning' : ''}] ${s.title}${s.detail ? ` — ${s.detail}` : ''}${s.error ? ` — ERROR ${s.error}` : ''}`),
    ...job.approvals.map((a) => `${a.decision} by ${a.by} at ${when(a.at)} (step ${a.step})`),
    ...(job.pendingApproval ? [`waiting for approval of step ${job.pendingApproval.step}`] : []),
    ...(job.error ? [`error: ${job.error}`] : []),
  ];
  const text = lines.join('\n');
  return { text, slackText: codeBlock(text) };
}

export function formatPlan(summary: string, steps: readonly PlannedStep[]): Reply {
  const lines = [`Plan for: ${summary} (dry run — nothing was queued or run)`];
  steps.forEach((s, i) => {
    lines.push(`${i + 1}. ${s.title}${s.approval ? '  [needs approval]' : ''}`);
    for (const a of s.actions) {
      const body = a.text.split('\n');
      lines.push(`   ${a.kind}: ${body[0] ?? ''}`);
      for (const more of body.slice(1)) lines.push(`      ${more}`);
    }
  });
  const text = lines.join('\n');
  return { text, slackText: codeBlock(text) };
}

/** Slack truncates a message's text after 40,000 characters; a plan longer than this goes out in parts. */
export const SLACK_TEXT_MAX = 38_000;

/**
 * A plan too long for one Slack message, as several replies (each a code block under `max` characters once escaped),
 * split between lines and numbered "(part i of n)"; one reply when it fits. Nothing is cut.
 */
export function planParts(plan: Reply, max: number = SLACK_TEXT_MAX): Reply[] {
  if ((plan.slackText ?? plan.text).length <= max) return [plan];
  const parts: string[][] = [[]];
  let size = 0;
  for (const line of plan.text.split('\n')) {
    const cost = codeBlock(line).length - 6 + 1;
    // 120: the fences and the "(part i of n …)" lines around each part
    if (size + cost > max - 120 && parts[parts.length - 1]!.length > 0) {
      parts.push([]);
      size = 0;
    }
    parts[parts.length - 1]!.push(line);
    size += cost;
  }
  return parts.map((lines, i) => {
    const text = `${i === 0 ? '' : `(part ${i + 1} of ${parts.length}, continued)\n`}${lines.join('\n')}${i < parts.length - 1 ? `\n(part ${i + 1} of ${parts.length}; continued in the next message)` : ''}`;
    return { text, slackText: codeBlock(text) };
  });
}

// ─── hygiene ─────────────────────────────────────────────────────────────────────────────────────────────────────────

export function thresholdsText(t: HygieneThresholds): string {
  return `unsorted > ${t.unsortedPct} %, stats off > ${t.statsOffPct}, rows marked deleted > ${t.deletedPct} %, interleaved skew > ${t.reindexSkew}`;
}

/** The `hygiene` listing: the tables that need maintenance first (with their buttons), then what else was compared. */
export function formatHygiene(r: HygieneReport, t: HygieneThresholds): Reply {
  const n = r.findings.length;
  const verdict =
    r.health.length === 0
      ? 'nothing compared — the catalog showed no table (see below)'
      : n === 0
        ? 'no table needs maintenance'
        : `${n} table${n === 1 ? '' : 's'} need${n === 1 ? 's' : ''} maintenance`;
  const title = `Hygiene of ${r.schema}: ${verdict} (${thresholdsText(t)})`;
  const lines: string[] = [title];
  for (const f of [...r.findings].sort((a, b) => a.table.localeCompare(b.table))) {
    lines.push(`• ${f.table}: ${findingLine(f)}`);
    for (const note of f.notes) lines.push(`    ${note}`);
  }
  const footer: string[] = [];
  const within = r.health.length - n;
  if (r.health.length > 0) {
    footer.push(
      `${within} table${within === 1 ? '' : 's'} within the thresholds` +
        (r.unlisted.length ? `; not in svv_table_info (empty — Redshift lists no empty table — or missing): ${r.unlisted.join(', ')}` : ''),
    );
  }
  if (r.skewNotVisible.length) {
    footer.push(
      `Interleaved skew not shown for ${r.skewNotVisible.join(', ')}: svv_interleaved_columns shows rows to superusers only — GRANT SELECT ON svv_interleaved_columns TO the bot's user to check whether they need VACUUM REINDEX`,
    );
  }
  for (const p of r.problems) footer.push(`Not compared: ${p}`);
  if (n > 0) footer.push('Queue a table with its button, or `/redshift hygiene run <table>`: VACUUM runs as one statement outside any transaction, under the table lock.');
  lines.push(...footer);
  const text = lines.join('\n');
  const items = [...r.findings]
    .sort((a, b) => a.table.localeCompare(b.table))
    .map((f) => ({ key: `${f.schema}.${f.table}`, table: f.table, line: findingLine(f), notes: f.notes }));
  return { text, blocks: hygieneMessage(title, items, footer, text).blocks };
}

/** `hygiene schedule`: the weekly run and the last sweeps. */
export function formatHygieneSchedule(s: ScheduleInfo | undefined, runs: readonly SweepRecord[]): string {
  const lines: string[] = [];
  if (!s) lines.push('No weekly hygiene is scheduled: `/redshift hygiene schedule sun 03:00` sets one (UTC).');
  else {
    lines.push(`Hygiene runs weekly on ${dayName(s.weekday)} at ${s.time} UTC${s.next !== undefined ? `; next run: ${utcMinute(s.next)}` : ''}${s.requester ? ` (set by ${s.requester})` : ''}.`);
  }
  if (runs.length === 0) lines.push('No run yet.');
  else {
    lines.push('Last runs:');
    for (const run of runs) {
      const queued = run.queued.length ? `queued ${run.queued.length} job${run.queued.length === 1 ? '' : 's'}: ${run.queued.map((q) => `${q.jobId} (${q.table})`).join(', ')}` : 'queued nothing';
      const skipped = run.skipped.length ? `; skipped ${run.skipped.map((k) => `${k.table} (${k.reason})`).join(', ')}` : '';
      const problems = run.problems.length ? `; not compared: ${run.problems.join('; ')}` : '';
      lines.push(`• ${utcMinute(run.at)} (${run.trigger === 'now' ? 'run by hand' : 'scheduled'}): ${queued}${skipped}; ${run.withinThresholds} within the thresholds${problems}`);
    }
  }
  return lines.join('\n');
}
