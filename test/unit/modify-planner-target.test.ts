/**
 * The modify planner's `target`: a deep copy from the shape the CDC service gives a reloaded table (no keys, no
 * dist/sort keys, no NOT NULL) to the table's schemas/ definition — what recover composes for a cdc table.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { planModify } from '../../src/modify/planner.js';
import type { ModifyPlan } from '../../src/modify/types.js';
import { cdcDefaultShape } from '../../src/jobs/runbooks/recover-assess.js';
import { loadRegistry, type Registry } from '../../src/schema/registry.js';

let reg: Registry;
beforeAll(async () => {
  reg = await loadRegistry();
});

describe('planModify with a target definition', () => {
  it('core_action from the CDC default shape: a live deep copy whose new table is exactly the definition', () => {
    const def = reg.find('core_action')!;
    const from = cdcDefaultShape(def);
    expect(from.primaryKey).toBeUndefined();
    expect(from.sortKey.style).toBe('AUTO');
    const plan = planModify({ current: from, ops: [{ op: 'set_sortkey', style: 'AUTO', columns: [] }], deepCopy: true, target: def, referencing: [] });
    expect(plan.ok).toBe(true);
    const p = plan as ModifyPlan;
    expect(p.mode).toBe('deep-copy');
    expect(p.strategy).toBe('live-copy');
    expect(p.next).toEqual(def);
    expect(p.mapping.every((m) => m.kind === 'column')).toBe(true);
    const create = p.steps.find((s) => s.name === 'create')!.actions[0];
    expect(create?.kind === 'sql' && create.sql).toMatch(/PRIMARY KEY \(id\)/);
    expect(p.reasons.join(' ')).toMatch(/schemas\/ definition as a whole/);
  });

  it('refuses when the live table lacks a column of the definition', () => {
    const def = reg.find('core_tag')!;
    const from = { ...cdcDefaultShape(def), columns: cdcDefaultShape(def).columns.filter((c) => c.name !== 'hidden') };
    const plan = planModify({ current: from, ops: [{ op: 'set_sortkey', style: 'AUTO', columns: [] }], deepCopy: true, target: def, referencing: [] });
    expect(plan).toEqual({ ok: false, error: expect.stringMatching(/lacks column\(s\) hidden of its schemas\/ definition/) });
  });
});
