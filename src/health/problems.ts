/**
 * Facts → problems. Each problem has a stable key (`dms:<task>:not-running`, `cdc:<table>:stale`, …): status lists the
 * problems first, and the watch (src/watch/) opens one incident per key, posts once, and posts "resolved" when the key
 * is gone. `alert` says whether the watch alerts on it (status shows every problem).
 */
import { diffTable, formatDrift } from '../schema/diff.js';
import type { Registry } from '../schema/registry.js';
import type { HealthSnapshot } from './index.js';
import { stoppedByJob } from './queue.js';
import { parseSideTime } from './source.js';
import { DEFAULT_THRESHOLDS, type HealthThresholds } from './thresholds.js';

export type Runbook = { kind: 'recover'; table: string } | { kind: 'job'; jobId: string };

export interface Problem {
  key: string;
  /** error: something is broken; warning: needs attention; unknown: a part could not be read */
  severity: 'error' | 'warning' | 'unknown';
  /** the watch posts an alert for it */
  alert: boolean;
  /** the table (plain name), task or job it is about */
  subject: string;
  /** one line, plain text (escaped where shown in Slack) */
  title: string;
  /** more lines: the values compared, the newest log lines */
  detail: string[];
  /** the runbook a button opens */
  runbook?: Runbook;
  /** a Slack thread to link to (a job's); `url` once resolved with chat.getPermalink (resolveThreadLinks) */
  thread?: { channel: string; ts: string; url?: string };
}

/** Fill in the permalink of every problem's thread (in parallel; one that cannot be resolved keeps no url). */
export async function resolveThreadLinks(problems: Problem[], permalink: ((channel: string, ts: string) => Promise<string | undefined>) | undefined): Promise<void> {
  if (!permalink) return;
  await Promise.all(
    problems.map(async (p) => {
      if (!p.thread) return;
      const url = await permalink(p.thread.channel, p.thread.ts).catch(() => undefined);
      if (url !== undefined) p.thread.url = url;
    }),
  );
}

const mins = (ms: number): string => {
  const m = Math.round(ms / 60_000);
  return m < 120 ? `${m} min` : `${(ms / 3_600_000).toFixed(1)} h`;
};

export const iso = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

const ORDER = { error: 0, warning: 1, unknown: 2 } as const;

export function findProblems(s: HealthSnapshot, registry: Pick<Registry, 'get' | 'names'>, th: Partial<HealthThresholds> = {}): Problem[] {
  const t = { ...DEFAULT_THRESHOLDS, ...th };
  const out: Problem[] = [];
  const schema = s.schema;
  const { catalog } = s;

  // --- the warehouse: missing tables, drift, unsorted, stats off, skew ---
  if (!catalog.live.ok) out.push({ key: 'health:catalog', severity: 'unknown', alert: false, subject: schema, title: `drift and missing tables unknown: ${catalog.live.why}`, detail: [] });
  if (!catalog.stats.ok) out.push({ key: 'health:stats', severity: 'unknown', alert: false, subject: schema, title: `rows, size, unsorted, stats off unknown: ${catalog.stats.why}`, detail: [] });
  const stats = catalog.stats.ok ? new Map(catalog.stats.value.map((x) => [x.table, x])) : undefined;
  for (const name of registry.names()) {
    const def = registry.get(schema, name);
    if (!def) continue;
    if (catalog.live.ok) {
      const info = catalog.live.value.get(name);
      if (!info) {
        out.push({ key: `table:${name}:missing`, severity: 'error', alert: false, subject: name, title: `${name} is missing in the warehouse`, detail: [], runbook: { kind: 'recover', table: name } });
        continue;
      }
      const drift = diffTable(def, info.table, { unknown: info.unknown });
      if (drift.length > 0)
        out.push({ key: `table:${name}:drift`, severity: 'warning', alert: false, subject: name, title: `${name} drifted from schemas/: ${drift.length} difference${drift.length === 1 ? '' : 's'}`, detail: drift.map(formatDrift) });
    }
    const st = stats?.get(name);
    if (st?.unsorted !== undefined && st.unsorted > t.unsortedPct)
      out.push({ key: `table:${name}:unsorted`, severity: 'warning', alert: false, subject: name, title: `${name} is ${st.unsorted.toFixed(1)}% unsorted (threshold ${t.unsortedPct}%): VACUUM`, detail: [] });
    if (st?.statsOff !== undefined && st.statsOff > t.statsOffPct)
      out.push({ key: `table:${name}:stats-off`, severity: 'warning', alert: false, subject: name, title: `${name} statistics are ${st.statsOff.toFixed(1)}% off (threshold ${t.statsOffPct}%): ANALYZE`, detail: [] });
    if (st?.skewRows !== undefined && st.skewRows > t.skewRows)
      out.push({ key: `table:${name}:skew`, severity: 'warning', alert: false, subject: name, title: `${name} rows are skewed across slices: skew_rows ${st.skewRows.toFixed(2)} (threshold ${t.skewRows})`, detail: [] });
  }

  // --- CDC freshness ---
  if (!catalog.freshness.ok) out.push({ key: 'health:freshness', severity: 'unknown', alert: false, subject: schema, title: `CDC freshness unknown: ${catalog.freshness.why}`, detail: [] });
  else
    for (const f of catalog.freshness.value.values()) {
      if (f.newest === undefined) continue; // empty table: nothing to measure
      const age = s.at - f.newest;
      if (age > t.staleMs)
        out.push({
          key: `cdc:${f.table}:stale`,
          severity: 'error',
          alert: true,
          subject: f.table,
          title: `${f.table} is stale: newest ${f.column} is ${mins(age)} old (threshold ${mins(t.staleMs)})`,
          detail: [`max(${f.column}) = ${iso(f.newest)}, judged at ${iso(s.at)}`],
          runbook: { kind: 'recover', table: f.table },
        });
    }

  // --- DMS ---
  const recent = s.queue.ok ? s.queue.value.recent : [];
  for (const d of s.dms) {
    if (!d.task.ok) {
      out.push({ key: `health:dms:${d.taskId}`, severity: 'unknown', alert: false, subject: d.taskId, title: `DMS task ${d.taskId} unknown: ${d.task.why}`, detail: [] });
      continue;
    }
    const task = d.task.value;
    const table = d.tables[0] ?? '';
    if (task.status !== 'running') {
      const by = stoppedByJob(recent, task.arn);
      if (!by || by.failed) {
        const detail = [
          `status ${task.status}`,
          ...(task.stopReason ? [`StopReason: ${task.stopReason}`] : []),
          ...(task.lastFailureMessage ? [`LastFailureMessage: ${task.lastFailureMessage}`] : []),
          ...(by ? [`job ${by.job.id} stopped it and then failed: ${by.job.error ?? 'see the job'}`] : []),
        ];
        out.push({
          key: `dms:${d.taskId}:not-running`,
          severity: 'error',
          alert: true,
          subject: d.taskId,
          title: `DMS task ${d.taskId} is ${task.status}${by ? ` (stopped by job ${by.job.id}, which failed)` : ', not stopped by any job of ours'}: ${d.tables.join(', ')} get no changes`,
          detail,
          runbook: by ? { kind: 'job', jobId: by.job.id } : { kind: 'recover', table },
        });
      }
    }
    for (const st of d.stats) {
      if (st.stat.ok && st.stat.value?.state === 'Table error')
        out.push({
          key: `dms:${d.taskId}:table-error:${st.table}`,
          severity: 'error',
          alert: true,
          subject: st.table,
          title: `DMS table ${st.table}: Table error`,
          detail: [],
          runbook: { kind: 'recover', table: st.table },
        });
      else if (!st.stat.ok && d.task.ok)
        out.push({ key: `health:dms-table:${st.table}`, severity: 'unknown', alert: false, subject: st.table, title: `DMS statistics of ${st.table} unknown: ${st.stat.why}`, detail: [] });
    }
  }

  // --- CloudWatch ---
  for (const l of s.logs) {
    if (!l.facts.ok) {
      out.push({ key: `health:logs:${l.group}`, severity: 'unknown', alert: false, subject: l.group, title: `CloudWatch ${l.group} unknown: ${l.facts.why}`, detail: [] });
      continue;
    }
    const f = l.facts.value;
    if (f.errors > 0) {
      const task = s.dms.find((d) => d.logGroup === l.group);
      out.push({
        key: `logs:${l.group}:errors`,
        severity: 'error',
        alert: true,
        subject: l.group,
        title: `${f.errors} ]E: line${f.errors === 1 ? '' : 's'} in ${l.group} in the last ${mins(f.endMs - f.startMs)}${f.warnings ? ` (and ${f.warnings} ]W:)` : ''}`,
        detail: f.newest.filter((x) => x.severity === 'E').slice(0, 3).map((x) => `${iso(x.timestamp)} [${x.component}]E: ${x.text}`),
        ...(task?.tables[0] ? { runbook: { kind: 'recover' as const, table: task.tables[0] } } : {}),
      });
    }
  }

  // --- the MySQL source: settled counts, and how far behind the warehouse is ---
  const missing = new Set(out.filter((p) => p.key.endsWith(':missing')).map((p) => p.subject));
  for (const st of s.source.tables) {
    if (!st.facts.ok) {
      if (!missing.has(st.table))
        out.push({ key: `health:source:${st.table}`, severity: 'unknown', alert: false, subject: st.table, title: `${st.table} against the source unknown: ${st.facts.why}`, detail: [] });
      continue;
    }
    if (st.facts.value === 'not-in-source') continue;
    const { source: src, warehouse: wh } = st.facts.value;
    const sN = BigInt(src.settledRows);
    const wN = BigInt(wh.settledRows);
    // fewer settled rows in the warehouse: rows are missing there (an insert in flight is recent on both sides, so it is
    // left out of both). More in the warehouse can be replication in flight: a row updated or deleted at the source
    // within the lag window is left out there but still counted, with its old updated_at, in the warehouse.
    if (sN > wN)
      out.push({
        key: `source:${st.table}:count-drift`,
        severity: 'error',
        alert: true,
        subject: st.table,
        title: `${st.table}: ${src.settledRows} rows in the source, ${wh.settledRows} in the warehouse (rows changed in the last ${s.source.lagSeconds} s left out on both sides)`,
        detail: [`total rows: source ${src.totalRows}, warehouse ${wh.totalRows}`, `\`/redshift compare ${st.table}\` finds the id ranges that differ`],
        runbook: { kind: 'recover', table: st.table },
      });
    else if (wN > sN)
      out.push({
        key: `source:${st.table}:extra-rows`,
        severity: 'warning',
        alert: false,
        subject: st.table,
        title: `${st.table}: ${wh.settledRows} rows in the warehouse, ${src.settledRows} in the source outside the last ${s.source.lagSeconds} s — deletes not yet applied, or rows the source changed within that window`,
        detail: [`total rows: source ${src.totalRows}, warehouse ${wh.totalRows}`],
      });
    const sMax = parseSideTime(src.maxUpdatedAt);
    const wMax = parseSideTime(wh.maxUpdatedAt);
    if (sMax !== undefined && (wMax === undefined || sMax - wMax > t.staleMs))
      out.push({
        key: `source:${st.table}:lag`,
        severity: 'error',
        alert: true,
        subject: st.table,
        title: `${st.table} is ${wMax === undefined ? 'empty in the warehouse' : `${mins(sMax - wMax)} behind the source`} (max updated_at; threshold ${mins(t.staleMs)})`,
        detail: [`source ${src.maxUpdatedAt ?? '-'}, warehouse ${wh.maxUpdatedAt ?? '-'}`],
        runbook: { kind: 'recover', table: st.table },
      });
  }

  // --- jobs ---
  if (!s.queue.ok) out.push({ key: 'health:queue', severity: 'unknown', alert: false, subject: 'jobs', title: `jobs and locks unknown: ${s.queue.why}`, detail: [] });
  else {
    for (const j of s.queue.value.awaiting) {
      const since = j.pendingApproval?.askedAt ?? j.updatedAt;
      const waited = s.at - since;
      const thread = j.origin.channel && j.origin.threadTs ? { channel: j.origin.channel, ts: j.origin.threadTs } : undefined;
      out.push({
        key: `job:${j.id}:awaiting-approval`,
        severity: 'warning',
        alert: waited > t.approvalWaitMs,
        subject: j.id,
        title: `job ${j.id} has waited ${mins(waited)} for approval of ${j.pendingApproval?.step ?? 'a step'}: ${j.summary}`,
        detail: [],
        runbook: { kind: 'job', jobId: j.id },
        ...(thread ? { thread } : {}),
      });
    }
    for (const l of s.queue.value.locks) {
      const j = s.queue.value.recent.find((x) => x.id === l.jobId);
      if (j?.state === 'failed')
        out.push({
          key: `job:${j.id}:failed-lock`,
          severity: 'warning',
          alert: false,
          subject: j.id,
          title: `job ${j.id} failed and still locks ${l.table}: retry it, roll it back, or unlock the table`,
          detail: j.error ? [j.error] : [],
          runbook: { kind: 'job', jobId: j.id },
        });
    }
  }
  return out.sort((a, b) => ORDER[a.severity] - ORDER[b.severity]);
}
