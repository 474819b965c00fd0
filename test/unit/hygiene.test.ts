/**
 * The hygiene thresholds and what they recommend (src/hygiene/recommend.ts): pure, every boundary, and the check after
 * the maintenance that never calls a number it could not compare "passed".
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_HYGIENE_THRESHOLDS as T, type TableHealth, deletedRows, findingLine, recommend, verifyAfter } from '../../src/hygiene/recommend.js';
import { maintenanceParams, maintenanceRunbook } from '../../src/jobs/runbooks/maintenance.js';
import { cronFor } from '../../src/hygiene/schedule.js';
import { parseCommand } from '../../src/commands/index.js';
import { loadRegistry } from '../../src/schema/registry.js';
import { ACTION_IDS, parseActionValue } from '../../src/slack/payloads.js';
import { applyFaultPatch, defaultFaults, faultPatch } from '../../src/sandbox/faults.js';

const base: TableHealth = { schema: 's', table: 't', rows: 1000, visibleRows: 1000, unsorted: 0, statsOff: 0, interleaved: false };
const h = (o: Partial<TableHealth>): TableHealth => ({ ...base, ...o });

describe('recommend', () => {
  it('recommends nothing when every number is at or below its threshold (thresholds are "above")', () => {
    expect(recommend(h({ unsorted: 10, statsOff: 10, visibleRows: 900 }))).toBeUndefined();
    expect(recommend(h({ interleaved: true, interleavedSkew: 5 }))).toBeUndefined();
  });

  it('unsorted above the threshold → VACUUM SORT ONLY, naming the number it compared', () => {
    const f = recommend(h({ unsorted: 10.01 }))!;
    expect(f.actions).toEqual([{ kind: 'vacuum', mode: 'SORT ONLY' }]);
    expect(findingLine(f)).toBe('VACUUM SORT ONLY — unsorted 10.01 % > 10 %');
  });

  it('a table without a sort key (unsorted NULL) is never sorted', () => {
    expect(recommend(h({ unsorted: undefined }))).toBeUndefined();
  });

  it('rows marked deleted (tbl_rows − estimated_visible_rows) above the threshold → DELETE ONLY, with the automatic vacuum delete named', () => {
    const f = recommend(h({ rows: 1000, visibleRows: 899 }))!;
    expect(findingLine(f)).toBe('VACUUM DELETE ONLY — 101 of 1,000 rows marked deleted (10.1 %) > 10 %');
    expect(f.notes.join(' ')).toMatch(/automatic vacuum delete/);
    expect(deletedRows({ rows: 0, visibleRows: 0 })).toBeUndefined();
    expect(deletedRows({ rows: 10 })).toBeUndefined();
  });

  it('both unsorted and deleted → one VACUUM FULL; stale stats add an ANALYZE after it', () => {
    const f = recommend(h({ unsorted: 50, visibleRows: 500, statsOff: 80 }))!;
    expect(f.actions).toEqual([{ kind: 'vacuum', mode: 'FULL' }, { kind: 'analyze' }]);
    expect(f.reasons).toEqual(['unsorted 50.00 % > 10 %', '500 of 1,000 rows marked deleted (50.0 %) > 10 %', 'stats off 80.00 > 10']);
  });

  it('interleaved skew above 5 → VACUUM REINDEX, which also sorts and reclaims (no second VACUUM)', () => {
    const f = recommend(h({ interleaved: true, interleavedSkew: 5.01, unsorted: 60, visibleRows: 100 }))!;
    expect(f.actions).toEqual([{ kind: 'vacuum', mode: 'REINDEX' }]);
    expect(f.reasons[0]).toBe('interleaved skew 5.01 > 5');
  });

  it('skew that is not visible is not a reason to REINDEX', () => {
    expect(recommend(h({ interleaved: true }))).toBeUndefined();
  });

  it('thresholds are configurable', () => {
    expect(recommend(h({ unsorted: 3 }), { ...T, unsortedPct: 2 })?.actions).toEqual([{ kind: 'vacuum', mode: 'SORT ONLY' }]);
  });
});

describe('verifyAfter', () => {
  it('compares exactly the numbers the job was for and says so', () => {
    const v = verifyAfter([{ kind: 'vacuum', mode: 'FULL' }, { kind: 'analyze' }], h({ unsorted: 1, visibleRows: 990, statsOff: 0 }), T);
    expect(v).toEqual({ ok: true, lines: ['unsorted 1.00 % ≤ 10 %', 'rows marked deleted 1.00 % ≤ 10 %', 'stats off 0.00 ≤ 10'] });
  });

  it('a number still above fails', () => {
    expect(verifyAfter([{ kind: 'vacuum', mode: 'SORT ONLY' }], h({ unsorted: 30 }), T)).toEqual({ ok: false, lines: ['unsorted 30.00 % > 10 %'] });
  });

  it('nothing to compare is never a pass: no svv_table_info row, or skew not shown', () => {
    expect(verifyAfter([{ kind: 'analyze' }], undefined, T).ok).toBe(false);
    const v = verifyAfter([{ kind: 'vacuum', mode: 'REINDEX' }], h({ interleaved: true }), T);
    expect(v.ok).toBe(false);
    expect(v.lines[0]).toBe('interleaved skew: not shown by the catalog, not compared');
  });
});

describe('maintenance job params', () => {
  const ok = { table: { schema: 's', name: 't' }, actions: [{ kind: 'vacuum', mode: 'SORT ONLY' }, { kind: 'analyze' }], reasons: [], thresholds: { ...T } };
  it('take at most one VACUUM, before the ANALYZE, of a known mode', () => {
    expect(maintenanceParams.safeParse(ok).success).toBe(true);
    expect(maintenanceParams.safeParse({ ...ok, actions: [{ kind: 'analyze' }, { kind: 'vacuum', mode: 'FULL' }] }).success).toBe(false);
    expect(maintenanceParams.safeParse({ ...ok, actions: [{ kind: 'vacuum', mode: 'FULL' }, { kind: 'vacuum', mode: 'FULL' }] }).success).toBe(false);
    expect(maintenanceParams.safeParse({ ...ok, actions: [{ kind: 'vacuum', mode: 'FULL; DROP TABLE x' }] }).success).toBe(false);
  });

  it('render the table as a quoted identifier, never as text spliced into the SQL', () => {
    const params = maintenanceParams.parse({ ...ok, table: { schema: 's', name: 't; drop table x' } });
    const rb = maintenanceRunbook.build(params, {} as never);
    const plan = rb.steps.map((st) => st.plan({} as never).map((a) => a.text).join(' | '));
    expect(plan[0]).toBe('VACUUM SORT ONLY s."t; drop table x"');
    expect(plan[1]).toBe('ANALYZE s."t; drop table x"');
    expect(rb.steps.map((st) => st.name)).toEqual(['vacuum', 'analyze', 'verify']);
  });
});

describe('hygiene command and button', () => {
  it('parses list, run and schedule; rejects bad days and times', async () => {
    const registry = await loadRegistry('schemas');
    const p = (text: string) => parseCommand(text, { registry });
    expect(p('hygiene')).toEqual({ ok: true, command: { kind: 'hygiene' } });
    expect(p('hygiene run core_action')).toEqual({ ok: true, command: { kind: 'hygiene-run', table: { schema: 'ak_sumofus', name: 'core_action' } } });
    expect(p('hygiene schedule')).toEqual({ ok: true, command: { kind: 'hygiene-schedule', action: 'show' } });
    expect(p('hygiene schedule Sunday 3:05')).toEqual({ ok: true, command: { kind: 'hygiene-schedule', action: 'set', weekday: 0, time: '03:05' } });
    expect(p('hygiene schedule off')).toEqual({ ok: true, command: { kind: 'hygiene-schedule', action: 'off' } });
    for (const bad of ['hygiene schedule someday 03:00', 'hygiene schedule sun 24:00', 'hygiene schedule sun', 'hygiene run no_such_table', 'hygiene vacuum']) {
      expect(p(bad).ok, bad).toBe(false);
    }
    expect(cronFor(0, '03:05')).toBe('5 3 * * 0');
    expect(cronFor(6, '23:59')).toBe('59 23 * * 6');
  });

  it('the Queue maintenance button carries a plain schema.table and no job id', () => {
    expect(parseActionValue(ACTION_IDS.maintain, '{"table":"ak_sumofus.core_action"}').ok).toBe(true);
    expect(parseActionValue(ACTION_IDS.maintain, '{"table":"ak_sumofus.core_action; drop"}').ok).toBe(false);
    expect(parseActionValue(ACTION_IDS.maintain, '{"jobId":"7"}').ok).toBe(false);
    expect(parseActionValue(ACTION_IDS.cancel, '{"table":"ak_sumofus.core_action"}').ok).toBe(false);
  });
});

describe('sandbox knobs (POST /_sandbox/faults)', () => {
  it('accept a seeded table health and a busy VACUUM, and refuse what Redshift could not show', () => {
    const f = defaultFaults();
    const patch = faultPatch.parse({ tableHealth: { 'ak.t': { unsorted: 40, deletedRows: 3, interleavedSkew: 6 } }, vacuumBusy: 2 });
    applyFaultPatch(f, patch);
    expect(f.tableHealth).toEqual({ 'ak.t': { unsorted: 40, deletedRows: 3, interleavedSkew: 6 } });
    expect(f.vacuumBusy).toBe(2);
    patch.tableHealth!['ak.t']!.unsorted = 1; // the knob keeps its own copy
    expect(f.tableHealth['ak.t']?.unsorted).toBe(40);
    for (const bad of [{ tableHealth: { t: {} } }, { tableHealth: { 'a.t': { unsorted: 101 } } }, { tableHealth: { 'a.t': { interleavedSkew: 0.5 } } }, { vacuumBusy: -1 }]) {
      expect(faultPatch.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    applyFaultPatch(f, { reset: true });
    expect(f.tableHealth).toEqual({});
    expect(defaultFaults().tableHealth).not.toBe(defaultFaults().tableHealth);
  });
});
