/**
 * The shared compare step (src/jobs/steps/compare.ts) and its place in modify: present after the swap only when a source
 * is configured, skipped (never passed) without one. The comparison itself runs end to end in
 * test/e2e/compare-source.test.ts; here the source and warehouse are in-process fakes of the ports.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/commands/index.js';
import type { RunbookDeps } from '../../src/jobs/deps.js';
import { modifyRunbook } from '../../src/jobs/runbooks/modify.js';
import { CompareMismatchError, compareStep } from '../../src/jobs/steps/compare.js';
import { WaitSignal } from '../../src/jobs/runbook.js';
import type { StepContext } from '../../src/jobs/runbook.js';
import type { JobRecord } from '../../src/jobs/types.js';
import { loadRegistry } from '../../src/schema/registry.js';
import type { Source } from '../../src/source/port.js';
import type { Warehouse } from '../../src/warehouse/port.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const fakeSource: Source = {
  label: 'source',
  database: 'ak',
  tableExists: async () => true,
  stats: async () => ({ totalRows: '0', settledRows: '0' }),
  rangeSums: async () => [],
  readSchema: async () => ({ database: 'ak', tables: [], columns: [], indexes: [], foreignKeys: [] }),
  close: async () => undefined,
};

/** a warehouse whose table exists and is empty */
const emptyWarehouse = {
  query: async (sql: string) => ({
    statementId: 's',
    columns: [],
    rows: /information_schema/.test(sql) ? [{ n: 1 }] : [{ total_rows: '0', settled_rows: '0', min_id: null, max_id: null, max_updated_at: null }],
  }),
} as unknown as Warehouse;

function ctx(deps: RunbookDeps, notes: string[]): StepContext<RunbookDeps> {
  const job = { id: 'j1', handles: {} } as unknown as JobRecord;
  return {
    job,
    deps,
    handles: {},
    setHandle: async () => undefined,
    note: async (t) => void notes.push(t),
    audit: async () => undefined,
    signal: new AbortController().signal,
    fence: 0,
  };
}

describe('compare step', () => {
  it('without a source it says skipped and compares nothing', async () => {
    const reg = await loadRegistry(path.join(REPO, 'schemas'));
    const step = compareStep(reg.find('core_tag')!);
    const deps = { warehouse: {} as Warehouse, registry: reg };
    const notes: string[] = [];
    expect(step.plan({ job: {} as JobRecord, deps, handles: {} })[0]?.text).toContain('skipped (SOURCE_DATABASE_URL is not set)');
    const detail = await step.run(ctx(deps, notes));
    // compared nothing: a warning (shown ⚠), never a pass
    expect(detail).toEqual({ status: 'warn', detail: 'skipped: no source configured (SOURCE_DATABASE_URL), ak_sumofus.core_tag was not compared' });
  });

  it('with a source: an empty table on both sides is "nothing compared", never ✓', async () => {
    const reg = await loadRegistry(path.join(REPO, 'schemas'));
    const wh = {
      query: async (sql: string) => ({
        statementId: 's',
        columns: [],
        rows: /information_schema/.test(sql) ? [{ n: 1 }] : [{ total_rows: '0', settled_rows: '0', min_id: null, max_id: null, max_updated_at: null }],
      }),
    } as unknown as Warehouse;
    const notes: string[] = [];
    const detail = await compareStep(reg.find('core_tag')!).run(ctx({ warehouse: wh, registry: reg, source: fakeSource }, notes));
    expect(detail).toEqual({ status: 'warn', detail: 'ak_sumofus.core_tag: — nothing compared: no row older than the lag window on either side' });
    expect(notes.join('\n')).toContain('compared: source 0 rows, warehouse 0 rows');
  });

  it('a source that cannot answer is reported as not compared, and does not fail the job', async () => {
    const reg = await loadRegistry(path.join(REPO, 'schemas'));
    const down: Source = { ...fakeSource, tableExists: async () => Promise.reject(new Error('cannot connect to the source database ak: ECONNREFUSED')) };
    const detail = await compareStep(reg.find('core_tag')!).run(ctx({ warehouse: emptyWarehouse, registry: reg, source: down }, []));
    expect(detail).toEqual({ status: 'warn', detail: 'ak_sumofus.core_tag: ✗ not compared — cannot connect to the source database ak: ECONNREFUSED' });
    await expect(compareStep(reg.find('core_tag')!, { failOnDifference: true }).run(ctx({ warehouse: emptyWarehouse, registry: reg, source: down }, []))).rejects.toThrow(/ECONNREFUSED/);
  });

  it('modify runs it after the swap (before the drop approval) only when a source is configured', async () => {
    const reg = await loadRegistry(path.join(REPO, 'schemas'));
    const current = reg.find('core_tag')!;
    const parsed = parseCommand('modify core_tag alter column name type varchar(1000) --deep-copy', { registry: reg });
    if (!parsed.ok || parsed.command.kind !== 'modify') throw new Error(JSON.stringify(parsed));
    const params = { command: parsed.command, current, referencing: [] };
    const without = modifyRunbook.build(params, { warehouse: {} as Warehouse, registry: reg }).steps.map((s) => s.name);
    expect(without).not.toContain('compare-source');
    const withSource = modifyRunbook.build(params, { warehouse: {} as Warehouse, registry: reg, source: fakeSource }).steps.map((s) => s.name);
    expect(withSource.indexOf('compare-source')).toBeGreaterThan(withSource.indexOf('swap'));
    expect(withSource.indexOf('compare-source')).toBe(withSource.indexOf('approve-drop') - 1);
  });
});

describe('compare step: compare again before failing', () => {
  /** a source with one settled row the (empty) warehouse lacks, while `differs()` */
  function sourceThat(differs: () => boolean): Source {
    return {
      ...fakeSource,
      stats: async () => (differs() ? { totalRows: '1', settledRows: '1', minId: '1', maxId: '1' } : { totalRows: '0', settledRows: '0' }),
      rangeSums: async () => (differs() ? [{ bucket: 0, rows: '1', sum: '7', unsettled: '0' }] : []),
    };
  }
  function handlesCtx(deps: RunbookDeps, notes: string[]): StepContext<RunbookDeps> {
    const c = ctx(deps, notes);
    c.setHandle = async (k, v) => void (c.handles[k] = v);
    return c;
  }

  it('a difference gone at the next look: parked once (WaitSignal), then the second look decides', async () => {
    const reg = await loadRegistry(path.join(REPO, 'schemas'));
    let differs = true;
    const notes: string[] = [];
    const c = handlesCtx({ warehouse: emptyWarehouse, registry: reg, source: sourceThat(() => differs) }, notes);
    const step = compareStep(reg.find('core_tag')!, { name: 'final-compare', failOnDifference: true, again: { times: 2, delayMs: 1_000 } });
    await expect(step.run(c)).rejects.toBeInstanceOf(WaitSignal);
    expect(c.handles['final-compare.tries']).toBe('1');
    expect(notes.at(-1)).toMatch(/differs — counts differ — comparing again in 1 s \(1\/2\): replication may still be applying a change/);
    differs = false;
    expect(await step.run(c)).toEqual({ status: 'warn', detail: expect.stringMatching(/nothing compared/) });
  });

  it('a difference that stays fails the step once the looks are used up', async () => {
    const reg = await loadRegistry(path.join(REPO, 'schemas'));
    const c = handlesCtx({ warehouse: emptyWarehouse, registry: reg, source: sourceThat(() => true) }, []);
    const step = compareStep(reg.find('core_tag')!, { name: 'final-compare', failOnDifference: true, again: { times: 1, delayMs: 1_000 } });
    await expect(step.run(c)).rejects.toBeInstanceOf(WaitSignal);
    await expect(step.run(c)).rejects.toBeInstanceOf(CompareMismatchError);
  });
});
