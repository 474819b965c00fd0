/**
 * Shared steps: a table reloaded by the external CDC service (FlyData-like), which the bot cannot drive — a person
 * clicks "reload" on the service's dashboard, and the sync can take days.
 *
 *   cdcReloadRequestStep  posts the exact steps for the service's dashboard and what the bot will wait for;
 *   cdcReloadWaitStep     waits — the job parked between looks, no worker held, hours or days — until the table
 *                         exists and the rows outside the lag window match the source's (compare's own aggregates,
 *                         never rows) on two looks in a row: a live table keeps growing by its own inserts, so "the
 *                         count stopped growing" alone never ends the wait while a source can be compared.
 *                         The count is the wait's live figure (the progress message is edited, no line per look).
 *                         Without a source it ends with a warning: the count was stable, nothing was compared.
 */
import type { RunbookDeps } from '../deps.js';
import { type PlannedAction, type Step, waitUntil } from '../runbook.js';
import { qualified } from '../../schema/identifiers.js';
import type { TableDef } from '../../schema/model.js';
import { settledCounts } from './compare.js';
import { countDuplicates, duplicateKeySql } from './duplicate-keys.js';
import { tableExists } from '../statements.js';

export const DEFAULT_CDC_RELOAD_POLL_MS = 60_000;
export const DEFAULT_CDC_RELOAD_TIMEOUT_MS = 4 * 24 * 3_600_000;
const STABLE_LOOKS = 2;

function clock(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

const n = (x: number | string): string => Number(x).toLocaleString('en-US');

export function cdcReloadInstructions(t: TableDef): string[] {
  const service = t.replication.provider === 'cdc' ? t.replication.service : 'the CDC service';
  return [
    `1. Open the ${service} dashboard, find the table ${t.name} in schema ${t.schema} (source table ${t.name}).`,
    `2. Start a reload (re-sync) of that ONE table. The service recreates it in its own default shape (no dist/sort keys, no constraints), copies the source, then replicates changes.`,
    `3. Nothing else to do here: the bot waits (no worker held, for days if need be) until ${t.schema}.${t.name} exists and its rows match the source's (on two looks in a row), then checks duplicate keys and brings the table to its schemas/ definition.`,
  ];
}

export function cdcReloadRequestStep(t: TableDef): Step<RunbookDeps> {
  const key = `${t.schema}.${t.name}`;
  return {
    name: 'cdc-reload-request',
    title: `Ask for a reload of ${key} in the CDC service`,
    plan: () => cdcReloadInstructions(t).map((text): PlannedAction => ({ kind: 'check', text: `post in the thread: ${text}` })),
    isDone: async (ctx) => ctx.handles['cdc.requestedAt'] !== undefined,
    async run(ctx) {
      await ctx.setHandle('cdc.requestedAt', String(Date.now()));
      await ctx.note(`Reload ${key} in the CDC service — the bot cannot do it:\n${cdcReloadInstructions(t).join('\n')}`);
      return `posted the steps for the CDC service's dashboard (reload ${t.name} in schema ${t.schema})`;
    },
  };
}

export function cdcReloadWaitStep(t: TableDef): Step<RunbookDeps> {
  const key = `${t.schema}.${t.name}`;
  const table = qualified(t.schema, t.name);
  const countSql = `SELECT COUNT(*) AS n FROM ${table}`;
  return {
    name: 'cdc-reload-wait',
    title: `Wait for the CDC service to reload ${key} (exists, matches the source on two looks)`,
    plan: () => [
      { kind: 'check', text: `catalog: does ${key} exist — every look, the job parked in between (no worker held)` },
      { kind: 'sql', text: `${countSql}   -- every look: is it still growing?` },
      { kind: 'check', text: `rows outside the lag window: source ${t.name} vs ${key} (compare's count aggregates on each side) equal on ${STABLE_LOOKS} looks in a row (without a source: the count unchanged on ${STABLE_LOOKS} looks, a warning)` },
    ],
    isDone: async (ctx) => ctx.handles['cdc.loaded'] !== undefined,
    async run(ctx) {
      const pollMs = Math.max(50, ctx.deps.settings?.cdcReloadPollMs ?? DEFAULT_CDC_RELOAD_POLL_MS);
      const timeoutMs = ctx.deps.settings?.cdcReloadTimeoutMs ?? DEFAULT_CDC_RELOAD_TIMEOUT_MS;
      const since = Number(ctx.handles['cdc.waitSince'] ?? Date.now());
      if (ctx.handles['cdc.waitSince'] === undefined) await ctx.setHandle('cdc.waitSince', String(since));
      const deadline = since + timeoutMs;
      const note = `waiting for the CDC service to reload ${key} (until ${clock(deadline)}; no worker is held — cancel acts at once)`;
      const again = (progress: string): never => {
        if (Date.now() >= deadline)
          throw new Error(`${key} was not reloaded within ${Math.round(timeoutMs / 3_600_000)} h (${progress}): check the reload in the CDC service's dashboard; \`retry\` waits again`);
        return waitUntil(Math.min(deadline, Date.now() + pollMs), note, progress);
      };
      if (!(await tableExists(ctx, t.schema, t.name))) {
        if (ctx.handles['cdc.lastCount'] !== undefined) await ctx.setHandle('cdc.lastCount', '');
        return again(`${key} does not exist yet`);
      }
      // the service drops and recreates the table while it reloads: it may vanish between two reads of one look
      const vanished = (e: unknown): boolean => /does not exist/i.test(e instanceof Error ? e.message : String(e));
      let count: string;
      try {
        count = String((await ctx.deps.warehouse.query(countSql)).rows[0]?.n ?? '0');
      } catch (e) {
        if (vanished(e)) return again(`${key} does not exist yet (it went away while it was counted)`);
        throw e;
      }
      const last = ctx.handles['cdc.lastCount'];
      const unchanged = last === count ? Number(ctx.handles['cdc.stableLooks'] ?? '1') + 1 : 1;
      await ctx.setHandle('cdc.lastCount', count);
      await ctx.setHandle('cdc.stableLooks', String(unchanged));
      const growth = last === undefined || last === '' ? 'first look' : last === count ? `unchanged on ${unchanged} looks` : `was ${n(last)}`;
      const apart = `${pollMs < 10_000 ? (pollMs / 1000).toFixed(1) : Math.round(pollMs / 1000)} s apart`;
      const counts = await settledCounts(ctx.deps, t);
      if (counts === undefined) {
        // no source: only the count can say the sync is over — it must stop changing
        if (unchanged < STABLE_LOOKS) return again(`${key}: ${n(count)} rows (${growth}); no source to compare with`);
        await ctx.setHandle('cdc.loaded', String(Date.now()));
        return { status: 'warn', detail: `${key} exists and its count is stable at ${n(count)} rows (${unchanged} looks ${apart}); no source configured (SOURCE_DATABASE_URL): not compared with the source` };
      }
      if ('why' in counts) return again(`${key}: ${n(count)} rows (${growth}); the source could not be read (${counts.why})`);
      let extra = 0;
      if (counts.source !== counts.warehouse) {
        // a reload over rows already there (or a replay) leaves duplicate keys: the dedupe step removes them next, so
        // the count matches when the warehouse has exactly that many rows more
        const dup = duplicateKeySql(t);
        if (dup) {
          try {
            const c = await countDuplicates(ctx, t, dup);
            extra = c.dupRows - c.dupKeys;
          } catch (e) {
            if (vanished(e)) return again(`${key} does not exist yet (it went away while it was read)`);
            throw e;
          }
        }
      }
      const matches = Number(counts.warehouse) - extra === Number(counts.source);
      // a live table keeps growing by its own inserts: with a source, the proof that the sync is over is matching it on
      // consecutive looks (a count that stopped growing also counts once it matches)
      const matchLooks = matches ? Number(ctx.handles['cdc.matchLooks'] ?? '0') + 1 : 0;
      await ctx.setHandle('cdc.matchLooks', String(matchLooks));
      const vs = `outside the lag window source ${n(counts.source)} vs warehouse ${n(counts.warehouse)}${extra ? ` (${n(extra)} duplicate rows)` : ''}`;
      if (matchLooks < STABLE_LOOKS && unchanged < STABLE_LOOKS + 1) return again(`${key}: ${n(count)} rows (${growth}); ${vs}${matches ? ' — equal, looking once more' : ''}`);
      if (!matches) return again(`${key}: ${n(count)} rows (${growth}); ${vs}`);
      await ctx.setHandle('cdc.loaded', String(Date.now()));
      const dups = extra ? `, once the ${n(extra)} extra row(s) of duplicated keys are left out (the dedupe step is next)` : '';
      const how = matchLooks >= STABLE_LOOKS ? `equal to the source's on ${matchLooks} looks ${apart}` : `count unchanged on ${unchanged} looks ${apart} and equal to the source's`;
      return `${key} is reloaded: ${n(count)} rows; rows outside the lag window ${how} (${n(counts.source)})${dups}`;
    },
  };
}
