/**
 * recover's choice (recover-assess.ts, pure part): what it decides from what was read, and the reasons it gives.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cdcDefaultShape, decideCdc, decideDms, decisionChanged, type DmsWorld } from '../../src/jobs/runbooks/recover-assess.js';
import type { DmsTableStat } from '../../src/replication/port.js';
import type { TableDef } from '../../src/schema/model.js';
import { loadRegistry } from '../../src/schema/registry.js';

let um: TableDef;
let phone: TableDef;
beforeAll(async () => {
  const reg = await loadRegistry();
  um = reg.find('core_usermailing')!;
  phone = reg.find('core_phone')!;
});

const stat = (state: string): DmsTableStat => ({ schema: 'ak_sumofus', table: 'core_usermailing', state, fullLoadRows: 1200, fullLoadErrorRows: 0, fullLoadReloaded: false, inserts: 1, updates: 2, deletes: 3, ddls: 0 });
const world = (o: Partial<DmsWorld>): DmsWorld => ({ task: { arn: 'arn:t', id: 'flydata-core-usermailing', status: 'running' }, stat: stat('Table completed'), exists: true, drift: [], ...o });

describe('decideDms', () => {
  it('running task + Table error → ReloadTables for the one table, saying why', () => {
    const d = decideDms(um, world({ stat: stat('Table error') }));
    expect(d).toMatchObject({ provider: 'dms', strategy: 'reload-table' });
    expect('reasons' in d && d.reasons[0]).toMatch(/^ak_sumofus\.core_usermailing is in Table error/);
  });

  it('running task, rows missing against the source → ReloadTables', () => {
    const d = decideDms(um, world({ counts: { source: '100', warehouse: '90' } }));
    expect(d).toMatchObject({ strategy: 'reload-table' });
    expect('reasons' in d && d.reasons[0]).toMatch(/differs from the source: source 100 rows vs warehouse 90/);
  });

  it('failed task with the binlog position lost → reload-target, naming the binlog', () => {
    const d = decideDms(um, world({ task: { arn: 'a', id: 'flydata-core-usermailing', status: 'failed', stopReason: 'Stop Reason FATAL_ERROR', lastFailureMessage: 'Could not find first log file name in binary log index file' } }));
    expect(d).toMatchObject({ strategy: 'reload-target' });
    expect('reasons' in d && d.reasons[0]).toMatch(/the source no longer holds the binlog position/);
  });

  it('stopped task → reload-target', () => {
    expect(decideDms(um, world({ task: { arn: 'a', id: 'x', status: 'stopped' } }))).toMatchObject({ strategy: 'reload-target' });
  });

  it('missing table, or a shape that differs from schemas/ → recreate (behind an approval)', () => {
    expect(decideDms(um, world({ exists: false }))).toMatchObject({ strategy: 'recreate', tableExists: false });
    const d = decideDms(um, world({ drift: ['ak_sumofus.core_usermailing: sort key is AUTO, schemas/ says INTERLEAVED(…)'] }));
    expect(d).toMatchObject({ strategy: 'recreate', tableExists: true });
    expect('reasons' in d && d.reasons[0]).toMatch(/differs from schemas\/ .* dropped and created from schemas\/ \(after an approval\)/);
  });

  it('a task in transition is refused (nothing queued)', () => {
    expect(decideDms(um, world({ task: { arn: 'a', id: 'x', status: 'stopping' } }))).toEqual({ refuse: expect.stringMatching(/is stopping: wait until it settles/) });
  });
});

describe('decideCdc and the plan-changed check', () => {
  it('plans the deep copy from the CDC default shape, or from the live table when it already differs', () => {
    const fresh = decideCdc(phone, { exists: true, drift: [] });
    expect(fresh.provider === 'cdc' && fresh.planFrom).toEqual(cdcDefaultShape(phone));
    const live = { ...cdcDefaultShape(phone), distStyle: 'EVEN' as const };
    const drifted = decideCdc(phone, { exists: true, live, drift: ['x'] });
    expect(drifted.provider === 'cdc' && drifted.planFrom).toEqual(live);
  });

  it('a reload-target plan stays valid when the task runs again; a reload-table plan does not survive a failed task', () => {
    const target = decideDms(um, world({ task: { arn: 'a', id: 'x', status: 'failed' } }));
    const table = decideDms(um, world({}));
    if ('refuse' in target || 'refuse' in table) throw new Error('unexpected refusal');
    expect(decisionChanged(target, table)).toBeUndefined();
    expect(decisionChanged(table, target)).toMatch(/the plan was "reload-table" but the world now calls for "reload-target"/);
  });
});
