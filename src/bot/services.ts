/**
 * The bot's core, shared by every front end (Slack, the terminal console, tests): command text → parser → policy →
 * read-only answer or a queued job; button clicks → approvals / retry / rollback / cancel. Front ends only carry text
 * in and replies out (the Replier), so the console runs exactly what Slack runs.
 */
import type { Logger } from 'pino';
import {
  commandSummary,
  formatCommandError,
  isChanging,
  parseCommand,
  renderHelp,
  type Command,
  type CommandOf,
} from '../commands/index.js';
import type { RunbookDeps } from '../jobs/deps.js';
import { planJob } from '../jobs/engine.js';
import { planSetup, setupLockKey } from '../jobs/runbooks/setup.js';
import type { RunbookRegistry } from '../jobs/runbook.js';
import type { JobOrigin, JobRecord, Reporter } from '../jobs/types.js';
import type { Policy } from '../policy.js';
import type { JobControl } from '../queue/approvals.js';
import type { JobQueue } from '../queue/queue.js';
import type { Registry } from '../schema/registry.js';
import type { ActionInput, BotServices, CommandInput, Replier } from '../slack/app.js';
import { codeBlock, escapeMrkdwn, md, trusted, userMrkdwn, type DualText } from '../slack/mrkdwn.js';
import { formatJob, formatJobList, formatPlan, formatTableStatus, formatDiff, planParts, type Reply } from './replies.js';
import { formatHealthStatus } from './status-reply.js';
import { readTableInfo, readTables, tableStats } from '../schema/catalog.js';
import { gatherCatalog, gatherHealth, findProblems, type CatalogFacts, type HealthThresholds } from '../health/index.js';
import { gather } from '../health/fact.js';
import { resolveThreadLinks } from '../health/problems.js';
import type { Permalinks } from '../slack/permalink.js';
import { diffTable, formatDrift } from '../schema/diff.js';
import { referencingTables } from '../schema/registry.js';
import { formatPlan as formatModifyPlan } from '../modify/planner.js';
import { planModifyJob, settingsOf } from '../jobs/runbooks/modify-plan.js';
import { assessRecover } from '../jobs/runbooks/recover-assess.js';
import { narrowingProblems } from '../jobs/steps/check-types.js';
import { preflightChecks } from '../jobs/steps/preflight.js';
import { readTableGrants } from '../jobs/steps/read-grants.js';
import { currentUser, readTableSize } from '../warehouse/free-disk.js';
import type { Warehouse } from '../warehouse/port.js';
import { SOURCE_ENV_HELP } from '../config.js';
import { compareTable, formatComparison, formatSummary, type TableComparison } from '../source/compare.js';
import { DEFAULT_COMPARE_LAG_SECONDS } from '../source/checksum-sql.js';
import { warehouseSide } from '../source/warehouse-side.js';
import { diffWithSource } from '../source/schema-diff.js';
import type { TableDef } from '../schema/model.js';
import type { Source } from '../source/port.js';
import { readHygiene } from '../hygiene/read.js';
import { findingLine } from '../hygiene/recommend.js';
import { type HygieneService, dayName, maintenanceParamsOf, utcMinute } from '../hygiene/schedule.js';
import { formatHygiene, formatHygieneSchedule } from './replies.js';
import type { TableRef } from '../commands/index.js';

export interface BotDeps {
  registry: Registry;
  warehouse: Warehouse;
  jobs: JobQueue;
  control: JobControl;
  policy: Policy;
  runbooks: RunbookRegistry<RunbookDeps>;
  runbookDeps: RunbookDeps;
  /** posts the job's progress message as soon as it is queued (the worker keeps it up to date) */
  reporter?: Reporter;
  /** where job progress goes: a Slack thread, or the console */
  front: 'slack' | 'console';
  /** `hygiene schedule` (the weekly BullMQ job scheduler); without it the schedule commands say it is not available */
  hygiene?: HygieneService;
  /** links to job threads (chat.getPermalink); without it status names the channel instead */
  permalink?: Permalinks;
  /** when status calls a fact a problem (defaults: src/health/thresholds.ts) */
  thresholds?: Partial<HealthThresholds>;
  /** re-read schemas/ before each command (jobs rewrite files); default: the registry given is kept */
  reloadRegistry?: () => Promise<Registry>;
  logger?: Logger;
}

/** What a command led to: whether it did what was asked, and the job it queued. */
export interface CommandOutcome {
  ok: boolean;
  jobId?: string;
}

export interface Bot extends BotServices {
  /** the same as `command`, telling the caller how it went (the console's --exec uses it) */
  run(input: CommandInput, reply: Replier): Promise<CommandOutcome>;
}

export function createBotServices(deps: BotDeps): Bot {
  const slack = deps.front === 'slack';

  /** Slack gets mrkdwn: the reply's own, or its plain text escaped (user text never turns into markup). */
  async function send(reply: Replier, r: Reply, where: 'ephemeral' | 'channel'): Promise<{ ts?: string }> {
    const text = slack ? r.slackText ?? escapeMrkdwn(r.text) : r.text;
    if (where === 'ephemeral') {
      await reply.ephemeral(text, slack ? r.blocks : undefined);
      return {};
    }
    return reply.inChannel(text, slack ? r.blocks : undefined);
  }

  /** An ephemeral answer: plain text (escaped for Slack), or both forms built with `md` (src/slack/mrkdwn.ts). */
  const say = (reply: Replier, m: string | DualText) => send(reply, typeof m === 'string' ? { text: m } : m, 'ephemeral');
  /** Bot-made text that carries mentions of validated user ids (policy, approvals): sent as mrkdwn as it is. */
  const own = (text: string): DualText => ({ text, slackText: text });

  async function enqueue(input: CommandInput, reply: Replier, cmd: Command, kind: string, params: unknown, table: string | undefined, warnings: readonly string[] = []): Promise<CommandOutcome> {
    const origin: JobOrigin = slack ? { kind: 'slack', channel: input.channelId } : { kind: 'console' };
    const reporter = deps.reporter;
    // Slack: the thread's progress message is posted BEFORE the job reaches BullMQ, so its ts is in the record when a
    // worker (maybe another process) starts the job and the thread has exactly one parent; the worker keeps it up to
    // date. (Posting after enqueueing raced the worker's own post: two progress messages, steps split over two threads.)
    const hooks = slack && reporter ? { beforeDispatch: (job: JobRecord) => reporter.jobStarted(job) } : {};
    const res = await deps.jobs.enqueueJob({
      kind,
      ...(table ? { table } : {}),
      requester: input.userId,
      commandText: input.text,
      summary: commandSummary(cmd),
      params,
      origin,
      ...(input.triggerId ? { triggerId: input.triggerId } : {}),
    }, hooks);
    if (!res.ok) {
      await say(reply, `Not queued: ${res.message}`);
      return { ok: false };
    }
    const job = res.job;
    if (res.deduplicated) {
      await say(reply, `Job ${job.id} was already queued for this request (${job.state}).`);
      return { ok: true, jobId: job.id };
    }
    const warned = warnings.map((w) => `\n⚠️ ${w}`).join('');
    await say(reply, md`Queued job ${job.id}: ${job.summary}${slack ? ' — progress in the thread of its message in the channel.' : ''}${warned}`);
    return { ok: true, jobId: job.id };
  }

  async function dryRun(reply: Replier, cmd: Command, kind: string, params: unknown): Promise<CommandOutcome> {
    const factory = deps.runbooks.get(kind);
    if (!factory) {
      await say(reply, `No runbook for ${kind}.`);
      return { ok: false };
    }
    const parsed = factory.paramsSchema.parse(params);
    const runbook = factory.build(parsed, deps.runbookDeps);
    const now = Date.now();
    const draft: JobRecord = {
      id: 'dry-run',
      kind,
      requester: 'you',
      commandText: commandSummary(cmd),
      summary: commandSummary(cmd),
      params: parsed,
      state: 'queued',
      cursor: 0,
      steps: [],
      handles: {},
      approvals: [],
      origin: { kind: 'console' },
      createdAt: now,
      updatedAt: now,
    };
    const plan = formatPlan(commandSummary(cmd), planJob(runbook, { job: draft, deps: deps.runbookDeps }));
    // setup's plan (every CREATE TABLE, the DMS calls) is longer than one Slack message: in parts, nothing cut
    for (const part of slack ? planParts(plan) : [plan]) await send(reply, part, 'ephemeral');
    return { ok: true };
  }

  async function schemaApply(input: CommandInput, reply: Replier, cmd: CommandOf<'schema-apply'>): Promise<CommandOutcome> {
    const refs = cmd.all
      ? [...deps.registry.tables.values()].filter((t) => t.schema === deps.registry.defaultSchema).map((t) => ({ schema: t.schema, name: t.name }))
      : cmd.tables;
    const params = { tables: refs };
    if (cmd.dryRun) return dryRun(reply, cmd, 'schema-apply', params);
    const lock = refs.length === 1 && refs[0] ? `${refs[0].schema}.${refs[0].name}` : `${refs[0]?.schema ?? deps.registry.defaultSchema}.*`;
    return enqueue(input, reply, cmd, 'schema-apply', params, lock);
  }

  /**
   * The catalog reads behind `status`, shared by the commands that ask while one read is in flight (a burst of status
   * commands costs one read, and leaves the receiver's event loop free to ack). Never cached once finished.
   */
  const inflight = new Map<string, Promise<CatalogFacts>>();
  function catalogOnce(): Promise<CatalogFacts> {
    const key = `${deps.registry.defaultSchema}:${deps.registry.names().join(',')}`;
    let p = inflight.get(key);
    if (!p) {
      p = gatherCatalog(deps.warehouse, deps.registry);
      inflight.set(key, p);
      const clear = () => void inflight.delete(key);
      p.then(clear, clear);
    }
    return p;
  }

  const healthDeps = () => ({
    warehouse: deps.warehouse,
    registry: deps.registry,
    jobs: deps.jobs,
    ...(deps.runbookDeps.dms ? { dms: deps.runbookDeps.dms } : {}),
    ...(deps.runbookDeps.logs ? { logs: deps.runbookDeps.logs } : {}),
    ...(deps.runbookDeps.source ? { source: deps.runbookDeps.source } : {}),
    ...(deps.runbookDeps.compare ? { compareLagSeconds: deps.runbookDeps.compare.lagSeconds } : {}),
  });

  async function status(reply: Replier, cmd: CommandOf<'status'>): Promise<void> {
    const wh = deps.warehouse;
    if (cmd.table) {
      const ref = cmd.table;
      const def = deps.registry.get(ref.schema, ref.name);
      const key = `${ref.schema}.${ref.name}`;
      const [info, stats, holder, recent] = await Promise.all([
        gather('catalog', () => readTableInfo(wh, ref.schema, ref.name)),
        gather('svv_table_info', async () => (await tableStats(wh, ref.schema)).find((s) => s.table === ref.name)),
        deps.jobs.locks.holder(key),
        deps.jobs.store.listRecent(200),
      ]);
      const live = info.ok ? info.value : undefined;
      const drift = def && info.ok ? diffTable(def, live?.table, { unknown: live?.unknown ?? [] }) : [];
      await send(
        reply,
        formatTableStatus({
          ref,
          def,
          live: live?.table,
          stats: stats.ok ? stats.value : undefined,
          drift,
          lockedBy: holder?.jobId,
          recentJobs: recent.filter((j) => j.table === key).slice(0, 5),
          ...(!info.ok ? { catalogWhy: info.why } : {}),
          ...(!stats.ok ? { statsWhy: stats.why } : {}),
        }),
        'channel',
      );
      return;
    }
    const snapshot = await gatherHealth(healthDeps(), { catalog: catalogOnce(), ...(deps.thresholds ? { thresholds: deps.thresholds } : {}) });
    const problems = findProblems(snapshot, deps.registry, deps.thresholds);
    await resolveThreadLinks(problems, deps.permalink);
    deps.logger?.info({ ms: Math.round(snapshot.ms), problems: problems.length }, 'status gathered');
    await send(reply, formatHealthStatus(snapshot, problems, deps.registry), 'channel');
  }

  /**
   * `setup [--dry-run]`: the setup runbook on the default schema. The job holds `<schema>.*`, which keeps every other
   * job off the schema's tables while it runs (and is refused while another job holds one of them: src/queue/queue.ts).
   */
  async function setup(input: CommandInput, reply: Replier, cmd: CommandOf<'setup'>): Promise<CommandOutcome> {
    let params;
    try {
      params = await planSetup(deps.runbookDeps, deps.registry.defaultSchema);
    } catch (e) {
      await say(reply, `Not queued: could not read what setup needs in ${deps.registry.defaultSchema} — ${e instanceof Error ? e.message : String(e)}`);
      return { ok: false };
    }
    if (cmd.dryRun) return dryRun(reply, cmd, 'setup', params);
    return enqueue(input, reply, cmd, 'setup', params, setupLockKey(params.schema));
  }

  /**
   * `compare <table>|--all`, answered directly like status: it is read-only (no lock, nothing to resume or undo), each
   * table costs two aggregate statements per side plus a few narrowing ones, and Slack's response_url stays valid for
   * 30 minutes after the ack. A job would add a queue, a thread and a record for a read.
   */
  async function compare(reply: Replier, cmd: CommandOf<'compare'>): Promise<CommandOutcome> {
    const source = deps.runbookDeps.source;
    if (!source) {
      await say(reply, `Not compared: no MySQL source is configured. ${SOURCE_ENV_HELP}`);
      return { ok: false };
    }
    // the same comparison asked again while it runs shares the run: a burst of clicks costs the replica one scan
    const key = commandSummary(cmd);
    let run = comparing.get(key);
    if (!run) {
      run = runCompare(source, cmd);
      comparing.set(key, run);
      const clear = () => void comparing.delete(key);
      run.then(clear, clear);
    }
    const { text, ok } = await run;
    await send(reply, { text, slackText: codeBlock(text) }, 'channel');
    return { ok };
  }

  const comparing = new Map<string, Promise<{ text: string; ok: boolean }>>();

  async function runCompare(source: Source, cmd: CommandOf<'compare'>): Promise<{ text: string; ok: boolean }> {
    const lagSeconds = deps.runbookDeps.compare?.lagSeconds ?? DEFAULT_COMPARE_LAG_SECONDS;
    const defs: TableDef[] = cmd.table
      ? [deps.registry.get(cmd.table.schema, cmd.table.name)].filter((t): t is TableDef => t !== undefined)
      : deps.registry.names().map((n) => deps.registry.get(deps.registry.defaultSchema, n)).filter((t): t is TableDef => t !== undefined);
    const results: Array<{ table: string; comparison?: TableComparison; error?: string }> = [];
    for (const def of defs) {
      const table = `${def.schema}.${def.name}`;
      try {
        results.push({ table, comparison: await compareTable(def, source, warehouseSide(deps.warehouse, def.schema), { lagSeconds }) });
      } catch (e) {
        deps.logger?.warn({ table, err: (e as Error).message }, 'compare failed');
        results.push({ table, error: (e as Error).message });
      }
    }
    const lines: string[] = [];
    for (const r of results) {
      if (r.comparison) lines.push(...formatComparison(r.comparison));
      else lines.push(`${r.table}: ✗ not compared — ${r.error ?? 'unknown error'}`);
    }
    if (cmd.all) lines.unshift(formatSummary(results));
    return { text: lines.join('\n'), ok: results.every((r) => r.error === undefined) };
  }

  async function schemaDiff(reply: Replier, cmd: CommandOf<'schema-diff'>): Promise<CommandOutcome> {
    if (cmd.source) return schemaDiffSource(reply, cmd);
    const targets = cmd.table ? [cmd.table] : deps.registry.names().map((name) => ({ schema: deps.registry.defaultSchema, name }));
    const bySchema = new Map<string, string[]>();
    for (const t of targets) bySchema.set(t.schema, [...(bySchema.get(t.schema) ?? []), t.name]);
    const results: Array<{ table: string; lines: string[] }> = [];
    for (const [schema, names] of bySchema) {
      const live = await readTables(deps.warehouse, schema, names);
      for (const name of names) {
        const def = deps.registry.get(schema, name);
        if (!def) continue;
        const info = live.get(name);
        const drift = diffTable(def, info?.table, { unknown: info?.unknown ?? [] });
        results.push({ table: `${schema}.${name}`, lines: drift.map((d) => d.kind === 'missing-table' ? 'missing in the warehouse' : formatDrift(d)) });
      }
    }
    await send(reply, formatDiff(results), 'ephemeral');
    return { ok: true };
  }

  /** `schema diff --source`: schemas/ against the source's information_schema (types mapped as the CDC service maps them) */
  async function schemaDiffSource(reply: Replier, cmd: CommandOf<'schema-diff'>): Promise<CommandOutcome> {
    const source = deps.runbookDeps.source;
    if (!source) {
      await say(reply, `Not compared: no MySQL source is configured. ${SOURCE_ENV_HELP}`);
      return { ok: false };
    }
    const defs: TableDef[] = cmd.table
      ? [deps.registry.get(cmd.table.schema, cmd.table.name)].filter((t): t is TableDef => t !== undefined)
      : deps.registry.names().map((n) => deps.registry.get(deps.registry.defaultSchema, n)).filter((t): t is TableDef => t !== undefined);
    const schema = await source.readSchema(cmd.table ? [cmd.table.name] : undefined);
    await send(reply, formatDiff(diffWithSource(defs, schema), `the MySQL source ${source.database}`), 'ephemeral');
    return { ok: true };
  }

  /** The job holding `key`'s lock, as a refusal (or undefined when the table is free). */
  async function lockedBy(key: string): Promise<DualText | undefined> {
    const holder = await deps.jobs.locks.holder(key);
    if (!holder) return undefined;
    const other = await deps.jobs.store.get(holder.jobId);
    const by = other ? md` (${other.state}: ${other.summary}, asked by ${trusted(`<@${other.requester}>`)})` : md``;
    return md`Refused, nothing was changed: ${key} is locked by job ${holder.jobId}${trusted(by.slackText, by.text)}. One changing job per table at a time: wait for job ${holder.jobId} to finish (\`/redshift job ${holder.jobId}\`), then run the command again.`;
  }

  /** read the world (task, table stats, catalog, source counts), choose and say why, then queue — or print the plan */
  async function recover(input: CommandInput, reply: Replier, cmd: CommandOf<'recover'>): Promise<CommandOutcome> {
    const def = deps.registry.get(cmd.table.schema, cmd.table.name);
    if (!def) {
      await say(reply, `${cmd.table.schema}.${cmd.table.name} is not in schemas/`);
      return { ok: false };
    }
    const key = `${def.schema}.${def.name}`;
    if (!cmd.dryRun) {
      const locked = await lockedBy(key);
      if (locked) {
        await say(reply, locked);
        return { ok: false };
      }
    }
    let decision;
    try {
      decision = await assessRecover(deps.runbookDeps, def);
    } catch (e) {
      await say(reply, `Not queued: could not read what recover needs for ${key} — ${e instanceof Error ? e.message : String(e)}`);
      return { ok: false };
    }
    if ('refuse' in decision) {
      await say(reply, `Refused, nothing was changed: ${decision.refuse}`);
      return { ok: false };
    }
    const params = { table: { schema: def.schema, name: def.name }, decision };
    if (cmd.dryRun) return dryRun(reply, cmd, 'recover', params);
    return enqueue(input, reply, cmd, 'recover', params, key);
  }

  /** plan, refuse early (drift, data that does not fit, disk, bound views), then queue — or print the plan */
  async function modify(input: CommandInput, reply: Replier, cmd: CommandOf<'modify'>): Promise<CommandOutcome> {
    const current = deps.registry.get(cmd.table.schema, cmd.table.name);
    if (!current) {
      await say(reply, `${cmd.table.schema}.${cmd.table.name} is not in schemas/`);
      return { ok: false };
    }
    // another job holds the table: say so first (its own half-done change would otherwise show up as drift)
    const key = `${current.schema}.${current.name}`;
    const holder = cmd.dryRun ? undefined : await deps.jobs.locks.holder(key);
    if (holder) {
      const other = await deps.jobs.store.get(holder.jobId);
      const by = other ? md` (${other.state}: ${other.summary}, asked by ${trusted(`<@${other.requester}>`)})` : md``;
      const m = md`Refused, nothing was changed: ${key} is locked by job ${holder.jobId}${trusted(by.slackText, by.text)}. One changing job per table at a time: wait for job ${holder.jobId} to finish (\`/redshift job ${holder.jobId}\`), then plan again against the changed table.`;
      await say(reply, m);
      return { ok: false };
    }
    const info = await readTableInfo(deps.warehouse, current.schema, current.name);
    if (!info) {
      await say(reply, md`Refused: ${current.schema}.${current.name} does not exist in the warehouse; \`/redshift schema apply ${current.name}\` creates it (empty).`);
      return { ok: false };
    }
    const drift = diffTable(current, info.table, { unknown: info.unknown });
    const referencing = referencingTables(deps.registry, current.schema, current.name);
    const settings = settingsOf(deps.runbookDeps);
    const params = { command: cmd, current, referencing: referencing.map(({ table, fk }) => ({ table, fk })) };
    // the table's size for the plan's expected lock time (svv_table_info may be hidden from the bot's user: then unknown, and why)
    const size = await readTableSize(deps.warehouse, current.schema, current.name, await currentUser(deps.warehouse));
    const sizeInput = size.known ? { tableSize: { rows: size.rows, sizeMb: size.sizeMb } } : { tableSizeUnknown: size.why };
    // the job's own plan (same call, same settings): what --dry-run prints is what the job runs
    const plan = planModifyJob(params, deps.runbookDeps, { drift, forceDrift: cmd.forceDrift, ...sizeInput });
    if (!plan.ok) {
      await say(reply, `Refused: ${plan.error}`);
      return { ok: false };
    }
    if (cmd.dryRun) {
      // the read-only preflight as it stands now (free disk, size, bound views), so the plan says what it could not know
      let now = '';
      if (plan.mode !== 'in-place') {
        const pre = await preflightChecks(deps.warehouse, plan, settings);
        now = `\npreflight now: ${pre.detail}${[...pre.problems.map((p) => `\n  ✗ ${p}`), ...pre.warnings.map((w) => `\n  ⚠️ ${w}`)].join('')}`;
      }
      const text = `${formatModifyPlan(plan)}${now}\n(dry run — nothing was queued or run)`;
      await send(reply, { text, slackText: codeBlock(text) }, 'ephemeral');
      return { ok: true };
    }
    if (plan.mode === 'deep-copy') {
      // the swap re-grants what the table has, in ONE batch of at most 40 statements: refuse now if it cannot fit
      const g = await readTableGrants(deps.warehouse, current.schema, current.name);
      const sized = planModifyJob(params, deps.runbookDeps, { drift, forceDrift: cmd.forceDrift, grants: g.grants, owner: g.owner, skipGrantees: [g.botUser] });
      if (!sized.ok) {
        await say(reply, `Refused, nothing was changed: ${sized.error}`);
        return { ok: false };
      }
    }
    const checks = await narrowingProblems(deps.warehouse, plan);
    const pre = await preflightChecks(deps.warehouse, plan, settings);
    const problems = [...checks.problems, ...pre.problems];
    if (problems.length) {
      await say(reply, `Refused, nothing was changed:\n${problems.map((p) => `• ${p}`).join('\n')}`);
      return { ok: false };
    }
    return enqueue(input, reply, cmd, 'modify', params, `${cmd.table.schema}.${cmd.table.name}`, [...plan.warnings, ...checks.warnings, ...pre.warnings]);
  }

  const thresholds = () => settingsOf(deps.runbookDeps).hygiene;

  /** `hygiene`: read svv_table_info + svv_interleaved_columns, recommend, list with one button per table. */
  async function hygieneList(reply: Replier): Promise<CommandOutcome> {
    const schema = deps.registry.defaultSchema;
    const report = await readHygiene(deps.warehouse, deps.registry, schema, thresholds());
    await send(reply, formatHygiene(report, thresholds()), 'ephemeral');
    return { ok: true };
  }

  /**
   * `hygiene run <table>` and the listing's button: read the table's numbers again now (never trust what a button was
   * rendered with), and queue the maintenance they call for as a job holding the table's lock.
   */
  async function hygieneRun(input: CommandInput, reply: Replier, table: TableRef): Promise<CommandOutcome> {
    const key = `${table.schema}.${table.name}`;
    if (!deps.registry.get(table.schema, table.name)) {
      await say(reply, `Not queued: ${key} is not in schemas/.`);
      return { ok: false };
    }
    const t = thresholds();
    const report = await readHygiene(deps.warehouse, deps.registry, table.schema, t, [table.name]);
    const finding = report.findings.find((f) => f.table === table.name);
    if (!finding) {
      const h = report.health.find((x) => x.table === table.name);
      const why = report.problems.length
        ? `its numbers could not be read (${report.problems.join('; ')})`
        : h
          ? `its numbers are within the thresholds (unsorted ${h.unsorted?.toFixed(2) ?? 'n/a'} %, stats off ${h.statsOff?.toFixed(2) ?? 'n/a'}, ${h.rows - (h.visibleRows ?? h.rows)} of ${h.rows} rows marked deleted${h.interleaved ? `, interleaved skew ${h.interleavedSkew?.toFixed(2) ?? 'not shown'}` : ''})`
          : 'svv_table_info has no row for it (Redshift lists no empty table)';
      await say(reply, `Nothing queued: ${key} needs no maintenance — ${why}.`);
      return { ok: false };
    }
    const cmd: Command = { kind: 'hygiene-run', table };
    const out = await enqueue(input, reply, cmd, 'maintenance', maintenanceParamsOf(finding, t), key);
    if (out.ok) deps.logger?.info({ table: key, what: findingLine(finding), jobId: out.jobId }, 'maintenance queued');
    return out;
  }

  async function hygieneSchedule(input: CommandInput, reply: Replier, cmd: CommandOf<'hygiene-schedule'>): Promise<CommandOutcome> {
    const h = deps.hygiene;
    if (!h) {
      await say(reply, 'hygiene schedule is not available in this front end (it needs the Redis-backed queue of `npm start`).');
      return { ok: false };
    }
    if (cmd.action === 'off') {
      const removed = await h.remove();
      await say(reply, removed ? 'Hygiene schedule removed: no weekly run is left (jobs it queued are not touched).' : 'Hygiene schedule removed: there was none.');
      return { ok: true };
    }
    if (cmd.action === 'set' && cmd.weekday !== undefined && cmd.time !== undefined) {
      const s = await h.set(cmd.weekday, cmd.time, { requester: input.userId, ...(slack ? { channel: input.channelId } : {}) });
      const next = s.next !== undefined ? `; next run: ${utcMinute(s.next)}` : '';
      await say(
        reply,
        `Hygiene runs weekly on ${dayName(s.weekday)} at ${s.time} UTC${next}. Each run queues the maintenance \`/redshift hygiene\` recommends, one job per table${slack ? ', reported in this channel' : ''}.`,
      );
      return { ok: true };
    }
    await say(reply, formatHygieneSchedule(await h.scheduler(), await h.history(5)));
    return { ok: true };
  }

  /**
   * Control results (src/queue/approvals.ts) are the bot's words with mentions of validated user ids, sent as they are;
   * the one piece of user text they can quote is a step title (an op as typed, with its default): escaped here.
   */
  async function control(reply: Replier, result: { ok: boolean; message: string; job?: JobRecord }): Promise<CommandOutcome> {
    const message = result.ok ? result.message : `Refused: ${result.message}`;
    let slackText = message;
    const titles = [...new Set((result.job?.steps ?? []).map((st) => st.title))].filter((t) => t !== '' && userMrkdwn(t) !== t);
    for (const t of titles.sort((a, b) => b.length - a.length)) slackText = slackText.split(t).join(userMrkdwn(t));
    await say(reply, { text: message, slackText });
    return { ok: result.ok };
  }

  /** Rollback, except of a modify whose old table is gone: that is said plainly instead of attempting a swap back. */
  async function rollback(reply: Replier, jobId: string, userId: string): Promise<CommandOutcome> {
    const job = await deps.jobs.store.get(jobId);
    if (job?.kind === 'modify' && job.handles['dropped'] === '1') {
      const [schema = '', name = ''] = (job.table ?? '').split('.');
      const approval = [...job.approvals].reverse().find((a) => a.step === 'approve-drop' && a.decision === 'approved');
      const after = approval ? ` after <@${approval.by}> approved it` : '';
      await say(
        reply,
        md`Refused: job ${job.id} dropped ${schema}.old_${name}${trusted(after)}: the old data is gone, so there is nothing to swap back to. ${schema}.${name} keeps its new shape; to undo the change, run a new \`/redshift modify ${name} …\` that changes it back.`,
      );
      return { ok: false };
    }
    return control(reply, await deps.control.requestRollback(jobId, userId));
  }

  async function run(input: CommandInput, reply: Replier): Promise<CommandOutcome> {
    if (deps.reloadRegistry) {
      deps.registry = await deps.reloadRegistry();
      deps.runbookDeps.registry = deps.registry;
    }
    const parsed = parseCommand(input.text, { registry: deps.registry });
    if (!parsed.ok) {
      // in Slack form the error is already mrkdwn: escaped, in a code block a backtick cannot close
      const shown = formatCommandError(input.text, parsed.error, { slack });
      await say(reply, { text: shown, slackText: shown });
      return { ok: false };
    }
    const cmd = parsed.command;
    const allowed = await deps.policy.canRun(input.userId, isChanging(cmd));
    if (!allowed.ok) {
      await say(reply, own(`Refused: ${allowed.reason}`));
      return { ok: false };
    }
    deps.logger?.info({ user: input.userId, command: cmd.kind }, 'command');
    switch (cmd.kind) {
      case 'help':
        await say(reply, { text: renderHelp(cmd.topic), slackText: codeBlock(renderHelp(cmd.topic)) });
        return { ok: true };
      case 'status':
        await status(reply, cmd);
        return { ok: true };
      case 'jobs':
        await send(reply, formatJobList(await deps.jobs.store.listRecent(20)), 'ephemeral');
        return { ok: true };
      case 'job': {
        const job = await deps.jobs.store.get(cmd.id);
        if (!job) {
          await say(reply, `No job ${cmd.id}: list recent jobs with /redshift jobs`);
          return { ok: false };
        }
        await send(reply, formatJob(job), 'ephemeral');
        return { ok: true };
      }
      case 'cancel':
        return control(reply, await deps.control.cancelJob(cmd.id, input.userId));
      case 'rollback':
        return rollback(reply, cmd.id, input.userId);
      case 'unlock':
        return control(reply, await deps.control.unlockTable(`${cmd.table.schema}.${cmd.table.name}`, input.userId));
      case 'schema-diff':
        return schemaDiff(reply, cmd);
      case 'compare':
        return compare(reply, cmd);
      case 'schema-apply':
        return schemaApply(input, reply, cmd);
      case 'modify':
        return modify(input, reply, cmd);
      case 'hygiene':
        return hygieneList(reply);
      case 'hygiene-run':
        return hygieneRun(input, reply, cmd.table);
      case 'hygiene-schedule':
        return hygieneSchedule(input, reply, cmd);
      case 'recover':
        return recover(input, reply, cmd);
      case 'setup':
        return setup(input, reply, cmd);
    }
  }

  async function action(input: ActionInput, reply: Replier): Promise<void> {
    const v = input.value;
    if (input.actionId === 'rso_maintain') {
      const [schema = '', name = ''] = (v.table ?? '').split('.');
      const allowed = await deps.policy.canRun(input.userId, true);
      if (!allowed.ok) return void (await say(reply, own(`Refused: ${allowed.reason}`)));
      if (deps.reloadRegistry) {
        deps.registry = await deps.reloadRegistry();
        deps.runbookDeps.registry = deps.registry;
      }
      const text = `hygiene run ${schema}.${name}`;
      await hygieneRun({ text, userId: input.userId, channelId: input.channelId }, reply, { schema, name });
      return;
    }
    if (input.actionId === 'rso_recover') {
      // an alert's "Open runbook" button: the plan of `/redshift recover <table>` (a dry run: nothing is queued by a click)
      const [schema = '', name = ''] = (v.table ?? '').split('.');
      const def = deps.registry.get(schema, name);
      if (!def) return void (await say(reply, md`Recover ${v.table ?? ''}: the table is not in schemas/, nothing to plan.`));
      const allowed = await deps.policy.canRun(input.userId, false);
      if (!allowed.ok) return void (await say(reply, own(`Refused: ${allowed.reason}`)));
      await say(reply, md`Recover ${def.schema}.${def.name}: this is the plan. To run it: \`/redshift recover ${def.schema}.${def.name}\` (drops, creates and dedupes each wait for an approval).`);
      await recover({ text: `recover ${def.schema}.${def.name} --dry-run`, userId: input.userId, channelId: input.channelId }, reply, { kind: 'recover', table: { schema: def.schema, name: def.name }, dryRun: true });
      return;
    }
    const jobId = v.jobId;
    if (!jobId) return void (await say(reply, 'This button carries no job id; use the buttons on the latest job message.'));
    switch (input.actionId) {
      case 'rso_show_job': {
        const job = await deps.jobs.store.get(jobId);
        if (!job) return void (await say(reply, `No job ${jobId}: list recent jobs with /redshift jobs`));
        await send(reply, formatJob(job), 'ephemeral');
        return;
      }
      case 'rso_approve':
      case 'rso_reject': {
        if (!v.step || !v.nonce) return void (await say(reply, 'This button is missing its step; use the latest approval message.'));
        const r = await deps.control.decide({
          jobId,
          step: v.step,
          nonce: v.nonce,
          userId: input.userId,
          decision: input.actionId === 'rso_approve' ? 'approved' : 'rejected',
        });
        await say(reply, own(r.ok ? r.message : `Refused: ${r.message}`));
        return;
      }
      case 'rso_retry':
        await control(reply, await deps.control.retryJob(jobId, input.userId));
        return;
      case 'rso_rollback':
        await rollback(reply, jobId, input.userId);
        return;
      case 'rso_cancel':
        await control(reply, await deps.control.cancelJob(jobId, input.userId));
        return;
    }
  }

  return {
    run,
    command: async (input, reply) => {
      await run(input, reply);
    },
    action,
  };
}
