/**
 * `/redshift status`: one message, problems first, healthy rows folded. Built from a HealthSnapshot (src/health/) and
 * the problems found in it, so status and the watch judge the same facts the same way. Plain text for the console and
 * the notification fallback; Block Kit for Slack, every echoed value escaped (src/slack/mrkdwn.ts).
 */
import type { Problem } from '../health/problems.js';
import { iso } from '../health/problems.js';
import { parseSideTime } from '../health/source.js';
import type { HealthSnapshot } from '../health/index.js';
import type { JobRecord } from '../jobs/types.js';
import type { TableStats } from '../schema/catalog.js';
import type { TableDef } from '../schema/model.js';
import { formatTable, truncate, LIMITS, type KnownBlock } from '../slack/blocks.js';
import { codeBlock, escapeMrkdwn, userMrkdwn } from '../slack/mrkdwn.js';
import type { Reply } from './replies.js';

const SEVERITY_EMOJI: Record<Problem['severity'], string> = { error: ':x:', warning: ':warning:', unknown: ':grey_question:' };
const SEVERITY_MARK: Record<Problem['severity'], string> = { error: 'ERROR', warning: 'WARN ', unknown: '?    ' };

const fmtInt = (n: number | undefined): string => (n === undefined ? '-' : n.toLocaleString('en-US'));
const age = (ms: number): string => (ms < 120_000 ? `${Math.max(0, Math.round(ms / 1000))} s` : ms < 2 * 3_600_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`);

const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;

/** A problem's thread for Slack: its permalink, else the channel it is in (never a made-up URL). */
export function threadMrkdwn(t: { channel: string; ts: string; url?: string }): string {
  if (t.url) return `<${t.url}|thread>`;
  return CHANNEL_ID.test(t.channel) ? `(thread in <#${t.channel}>)` : `(thread in ${userMrkdwn(t.channel)})`;
}

/** The same in plain text. */
export function threadText(t: { channel: string; ts: string; url?: string }): string {
  return t.url ?? `thread ${t.ts} in channel ${t.channel}`;
}

interface Registryish {
  get(schema: string, name: string): TableDef | undefined;
  names(): string[];
}

function replicationOf(def: TableDef | undefined): string {
  if (!def) return '-';
  return def.replication.provider === 'dms' ? `dms:${def.replication.taskId}` : `cdc:${def.replication.service}`;
}

/** The replication health of one table: DMS task + TableState, or the CDC freshness. */
function replicationHealth(s: HealthSnapshot, def: TableDef | undefined): string {
  if (!def) return '-';
  if (def.replication.provider === 'dms') {
    const rep = def.replication;
    const d = s.dms.find((x) => x.taskId === rep.taskId);
    if (!d || !d.task.ok) return 'unknown';
    const st = d.stats.find((x) => x.table === def.name)?.stat;
    return `${d.task.value.status}${st?.ok && st.value ? `/${st.value.state}` : ''}`;
  }
  if (!s.catalog.freshness.ok) return 'unknown';
  const f = s.catalog.freshness.value.get(def.name);
  if (!f) return s.catalog.notMeasured.some((n) => n.table === def.name) ? 'not measured' : '-';
  return f.newest === undefined ? 'empty' : `${age(s.at - f.newest)} old`;
}

/** "; not measured — no updated_at timestamp column: a, b; the table is missing: c" */
function notMeasuredText(list: ReadonlyArray<{ table: string; why: string }>): string {
  if (list.length === 0) return '';
  const by = new Map<string, string[]>();
  for (const n of list) by.set(n.why, [...(by.get(n.why) ?? []), n.table]);
  return `; not measured — ${[...by].map(([why, tables]) => `${why.replace(/: freshness is not measured$/, '')}: ${tables.join(', ')}`).join('; ')}`;
}

/** Code blocks of whole lines, each fitting one section. */
function codeChunks(text: string): string[] {
  const out: string[] = [];
  let cur: string[] = [];
  let len = 0;
  for (const line of text.split('\n')) {
    const l = truncate(line, 400);
    if (cur.length && len + l.length + 1 > LIMITS.sectionText - 100) {
      out.push(codeBlock(cur.join('\n')));
      cur = [];
      len = 0;
    }
    cur.push(l);
    len += l.length + 1;
  }
  if (cur.length) out.push(codeBlock(cur.join('\n')));
  return out;
}

/** "Against the source: …" — what was compared, with the largest lag; or why nothing was. */
function sourceSummary(s: HealthSnapshot, problems: readonly Problem[]): string {
  const src = s.source;
  if (!src.configured) return 'Against the source: not compared (no SOURCE_DATABASE_URL)';
  const compared = src.tables.filter((t) => t.facts.ok && t.facts.value !== 'not-in-source');
  const absent = src.tables.filter((t) => t.facts.ok && t.facts.value === 'not-in-source').map((t) => t.table);
  const unknownN = src.tables.filter((t) => !t.facts.ok).length;
  let worst: { table: string; ms: number } | undefined;
  for (const t of compared) {
    if (!t.facts.ok || t.facts.value === 'not-in-source') continue;
    const a = parseSideTime(t.facts.value.source.maxUpdatedAt);
    const b = parseSideTime(t.facts.value.warehouse.maxUpdatedAt);
    if (a !== undefined && b !== undefined && (worst === undefined || a - b > worst.ms)) worst = { table: t.table, ms: a - b };
  }
  const drift = problems.filter((p) => p.key.startsWith('source:') && p.key.endsWith(':count-drift')).length;
  return [
    `Against the source: ${compared.length} tables compared (counts outside the last ${src.lagSeconds} s), ${drift} with rows missing in the warehouse`,
    worst ? `largest lag ${age(Math.max(0, worst.ms))} (${worst.table})` : 'no lag measured',
    ...(absent.length ? [`not in the source: ${absent.join(', ')}`] : []),
    ...(unknownN ? [`${unknownN} unknown`] : []),
  ].join('; ');
}

export function formatHealthStatus(s: HealthSnapshot, problems: readonly Problem[], registry: Registryish): Reply {
  const schema = s.schema;
  const names = registry.names();
  const stats = s.catalog.stats.ok ? new Map(s.catalog.stats.value.map((x) => [x.table, x])) : new Map<string, TableStats>();
  const live = s.catalog.live.ok ? s.catalog.live.value : undefined;
  const locks = s.queue.ok ? new Map(s.queue.value.locks.map((l) => [l.table, l.jobId])) : new Map<string, string>();
  const bySubject = new Map<string, Problem[]>();
  for (const p of problems) bySubject.set(p.subject, [...(bySubject.get(p.subject) ?? []), p]);
  const dmsTables = new Set(s.dms.flatMap((d) => (bySubject.has(d.taskId) || problems.some((p) => p.key.startsWith(`logs:${d.logGroup}`)) ? d.tables : [])));
  const troubled = (name: string): boolean => bySubject.has(name) || dmsTables.has(name);

  // --- rows: problem tables first, then the healthy ones ---
  const headers = ['table', 'replication', 'rows', 'MB', 'dist', 'unsorted%', 'stats_off%', 'drift', 'job', 'skew', 'replication health', 'problems'];
  const ordered = [...names.filter(troubled), ...names.filter((n) => !troubled(n))];
  const cells = ordered.map((name) => {
    const def = registry.get(schema, name);
    const st = stats.get(name);
    const present = live ? live.has(name) : undefined;
    const drift = problems.find((p) => p.key === `table:${name}:drift`);
    const mine = bySubject.get(name) ?? [];
    return [
      name,
      replicationOf(def),
      present === false ? 'MISSING' : st ? fmtInt(st.rows) : '?',
      present === false ? '-' : st ? fmtInt(st.sizeMb) : '?',
      st?.distStyle ?? def?.distStyle ?? '-',
      st?.unsorted === undefined ? '-' : st.unsorted.toFixed(1),
      st?.statsOff === undefined ? '-' : st.statsOff.toFixed(1),
      present === undefined ? '?' : present === false ? '-' : drift ? `${drift.detail.length} diff${drift.detail.length === 1 ? '' : 's'}` : 'none',
      locks.get(`${schema}.${name}`) ?? '',
      st?.skewRows === undefined ? '-' : st.skewRows.toFixed(2),
      replicationHealth(s, def),
      mine.length ? String(mine.length) : dmsTables.has(name) ? 'task' : '',
    ];
  });
  const healthy = ordered.filter((n) => !troubled(n));
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.filter((p) => p.severity === 'warning').length;
  const unknowns = problems.filter((p) => p.severity === 'unknown').length;
  const headline =
    problems.length === 0
      ? `no problems found in ${names.length} tables${s.catalog.notMeasured.length ? ` (freshness not measured for ${s.catalog.notMeasured.length})` : ''}`
      : `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}${unknowns ? `, ${unknowns} part${unknowns === 1 ? '' : 's'} unknown` : ''}`;

  // --- sections ---
  const problemLines = problems.map((p) => `${SEVERITY_MARK[p.severity]} ${p.title}${p.detail.map((d) => `\n        ${d}`).join('')}${p.thread ? `\n        thread: ${threadText(p.thread)}` : ''}`);
  const dmsLines = s.dms.map((d) => {
    if (!d.task.ok) return `DMS ${d.taskId}: unknown (${d.task.why})`;
    const t = d.task.value;
    const head = `DMS ${d.taskId}: ${t.status}${t.fullLoadProgressPercent !== undefined ? ` · full load ${t.fullLoadProgressPercent}%` : ''}${t.stopReason ? ` · StopReason: ${t.stopReason}` : ''}${t.lastFailureMessage ? ` · LastFailureMessage: ${t.lastFailureMessage}` : ''}`;
    const tables = d.stats.map((x) =>
      !x.stat.ok
        ? `  ${x.table}: unknown (${x.stat.why})`
        : x.stat.value === undefined
          ? `  ${x.table}: not in DescribeTableStatistics`
          : `  ${x.table}: ${x.stat.value.state} · ${fmtInt(x.stat.value.inserts)} inserts / ${fmtInt(x.stat.value.updates)} updates / ${fmtInt(x.stat.value.deletes)} deletes · last update ${x.stat.value.lastUpdate ? iso(x.stat.value.lastUpdate.getTime()) : '-'}`,
    );
    return [head, ...tables].join('\n');
  });
  const logLines = s.logs.map((l) => {
    if (!l.facts.ok) return `CloudWatch ${l.group}: unknown (${l.facts.why})`;
    const f = l.facts.value;
    const head = `CloudWatch ${l.group}: ${f.errors} ]E: · ${f.warnings} ]W: in the last ${age(f.endMs - 1 - f.startMs)}`;
    return [head, ...f.newest.map((x) => `  ${iso(x.timestamp)} [${x.component}]${x.severity}: ${truncate(x.text, 300)}`)].join('\n');
  });
  let freshLine: string;
  if (!s.catalog.freshness.ok) freshLine = `CDC freshness: unknown (${s.catalog.freshness.why})`;
  else {
    const all = [...s.catalog.freshness.value.values()];
    const withRows = all.filter((f) => f.newest !== undefined);
    const stale = problems.filter((p) => p.key.startsWith('cdc:')).length;
    const oldest = withRows.reduce((m, f) => Math.max(m, s.at - (f.newest ?? s.at)), 0);
    freshLine = `CDC freshness: ${withRows.length - stale} of ${all.length} measured tables fresh, ${stale} stale${withRows.length ? `, oldest newest-change ${age(oldest)} old` : ''}${all.length - withRows.length ? `, ${all.length - withRows.length} empty` : ''}${notMeasuredText(s.catalog.notMeasured)}`;
  }
  const sourceLine = sourceSummary(s, problems);
  let jobLines: string[];
  let jobSlack: string[];
  if (!s.queue.ok) {
    jobLines = [`jobs: unknown (${s.queue.why})`];
    jobSlack = [escapeMrkdwn(jobLines[0] ?? '')];
  } else {
    const q = s.queue.value;
    const job = (j: JobRecord) => `${j.id} ${j.summary} (${j.state})`;
    const waitLine = (j: JobRecord) => `${j.id} ${j.summary}, since ${iso(j.pendingApproval?.askedAt ?? j.updatedAt)}`;
    const threadOf = (j: JobRecord) => problems.find((p) => p.key === `job:${j.id}:awaiting-approval`)?.thread;
    jobLines = [
      `running/queued jobs: ${q.active.length ? q.active.map(job).join('; ') : 'none'}`,
      `waiting for approval: ${q.awaiting.length ? q.awaiting.map((j) => {
            const t = threadOf(j);
            return `${waitLine(j)}${t ? ` ${threadText(t)}` : ''}`;
          }).join('; ') : 'none'}`,
      `locks held: ${q.locks.length ? q.locks.map((l) => `${l.table} by job ${l.jobId}`).join('; ') : 'none'}`,
    ];
    jobSlack = [
      `*Running/queued jobs:* ${q.active.length ? q.active.map((j) => userMrkdwn(job(j))).join('; ') : 'none'}`,
      `*Waiting for approval:* ${q.awaiting.length ? q.awaiting.map((j) => {
            const t = threadOf(j);
            return `${userMrkdwn(waitLine(j))}${t ? ` ${threadMrkdwn(t)}` : ''}`;
          }).join('; ') : 'none'}`,
      `*Locks held:* ${q.locks.length ? q.locks.map((l) => userMrkdwn(`${l.table} by job ${l.jobId}`)).join('; ') : 'none'}`,
    ];
  }

  const title = `Status of ${schema}`;
  const problemTable = cells.filter((c) => troubled(c[0] ?? ''));
  const footer = `${names.length} tables · ${healthy.length} without problems · gathered in ${Math.round(s.ms)} ms at ${iso(s.at)}`;
  const text = [
    `${title}: ${headline}`,
    ...(problems.length ? ['Problems:', ...problemLines] : []),
    ...dmsLines,
    ...logLines,
    freshLine,
    sourceLine,
    ...jobLines,
    '',
    formatTable(headers, cells),
    footer,
  ].join('\n');

  // --- Block Kit ---
  const blocks: KnownBlock[] = [];
  const section = (t: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: truncate(t, LIMITS.sectionText) } });
  blocks.push(section(`*${escapeMrkdwn(title)}* — ${escapeMrkdwn(headline)}`));
  if (problems.length) {
    const chunks: string[] = [];
    let cur = '';
    for (const p of problems.slice(0, 40)) {
      const link = p.thread ? ` ${threadMrkdwn(p.thread)}` : '';
      const detail = p.detail.length > 8 ? [...p.detail.slice(0, 8), `… and ${p.detail.length - 8} more`] : p.detail;
      const line = truncate(`${SEVERITY_EMOJI[p.severity]} ${userMrkdwn(p.title)}${link}`, 1000) + (detail.length ? `\n${codeBlock(truncate(detail.join('\n'), 1500))}` : '');
      if (cur && cur.length + line.length + 1 > LIMITS.sectionText - 10) {
        chunks.push(cur);
        cur = '';
      }
      cur = cur ? `${cur}\n${line}` : line;
    }
    if (cur) chunks.push(cur);
    if (problems.length > 40) chunks.push(`… and ${problems.length - 40} more (see the table below)`);
    for (const c of chunks.slice(0, 20)) blocks.push(section(c));
  }
  blocks.push({ type: 'divider' });
  for (const d of dmsLines) blocks.push(section(codeBlock(d)));
  for (const l of logLines) blocks.push(section(codeBlock(l)));
  blocks.push(section(escapeMrkdwn(freshLine)));
  blocks.push(section(escapeMrkdwn(sourceLine)));
  blocks.push(section(jobSlack.join('\n')));
  if (problemTable.length) for (const chunk of codeChunks(formatTable(headers, problemTable, 30))) blocks.push(section(chunk));
  if (healthy.length)
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(`${healthy.length} table${healthy.length === 1 ? '' : 's'} without problems (folded): ${userMrkdwn(healthy.join(', '))}`, LIMITS.contextText) }] });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(footer) }] });
  return { text, blocks: blocks.slice(0, LIMITS.blocks) };
}
