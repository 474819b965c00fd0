/**
 * The modify planner against the real ak_sumofus registry (schemas/): in place vs deep copy, the column mapping, the SQL
 * of every step (never SELECT *, reserved names quoted), narrowing checks, verification, swap/rollback, foreign keys,
 * grants and the live-copy delta.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCommand, type Op } from '../../src/commands/index.js';
import { opSchema } from '../../src/commands/types.js';
import { applyOps } from '../../src/modify/apply-ops.js';
import { castRule } from '../../src/modify/casts.js';
import { deltaPlan, lateWritesToOld, lockedSwapBatch, postSwapDeleteSync, preSwapDeleteSync, reverseDelta } from '../../src/modify/delta.js';
import { parseAcl, regrantStatements } from '../../src/modify/grants.js';
import { formatPlan, isStepDone, planModify, type PlanInput } from '../../src/modify/planner.js';
import {
  compareChecksums,
  copyRows,
  narrowingChecks,
  narrowingMessage,
  renderMark,
  swapBackBatch,
  swapBatch,
  verifyQueries,
} from '../../src/modify/sql.js';
import type { ModifyPlan, PlanError, PlanStep } from '../../src/modify/types.js';
import { loadRegistry, referencingTables, type Registry } from '../../src/schema/registry.js';
import { tableDef, type TableDef } from '../../src/schema/model.js';
import { diffTable } from '../../src/schema/diff.js';

let reg: Registry;
beforeAll(async () => {
  reg = await loadRegistry();
});

const table = (name: string): TableDef => {
  const t = reg.find(name);
  if (!t) throw new Error(`no table ${name}`);
  return t;
};

/** The ops of a real `modify` command, read by the real parser against the registry. */
function opsOf(text: string): Op[] {
  const r = parseCommand(text, { registry: reg });
  if (!r.ok) throw new Error(`${text}: ${r.error.message}`);
  if (r.command.kind !== 'modify') throw new Error('not a modify');
  return r.command.ops;
}

function plan(text: string, extra: Partial<PlanInput> = {}): ModifyPlan {
  const r = parseCommand(text, { registry: reg });
  if (!r.ok) throw new Error(`${text}: ${r.error.message}`);
  if (r.command.kind !== 'modify') throw new Error('not a modify');
  const cmd = r.command;
  const current = table(`${cmd.table.schema}.${cmd.table.name}`);
  const p = planModify({
    current,
    ops: cmd.ops,
    deepCopy: cmd.deepCopy,
    ...(cmd.strategy ? { strategy: cmd.strategy } : {}),
    referencing: referencingTables(reg, current.schema, current.name),
    ...extra,
  });
  if (!p.ok) throw new Error(`${text}: ${p.error}`);
  return p;
}

function planError(current: TableDef, ops: unknown[], extra: Partial<PlanInput> = {}): string {
  const p = planModify({ current, ops: ops.map((o) => opSchema.parse(o)), deepCopy: false, referencing: referencingTables(reg, current.schema, current.name), ...extra });
  expect(p.ok).toBe(false);
  return (p as PlanError).error;
}

/** Every SQL string a plan (steps + rollback) would run or query. */
function allSql(p: ModifyPlan): string[] {
  const out: string[] = [];
  for (const s of [...p.steps, ...p.rollback])
    for (const a of s.actions) {
      if (a.kind === 'sql' || a.kind === 'query') out.push(a.sql);
      if (a.kind === 'batch') out.push(...a.sql);
    }
  return out;
}

const step = (p: ModifyPlan, name: string): PlanStep => {
  const s = p.steps.find((x) => x.name === name);
  if (!s) throw new Error(`no step ${name} in ${p.steps.map((x) => x.name).join(', ')}`);
  return s;
};
const sqlOf = (s: PlanStep): string[] => s.actions.flatMap((a) => (a.kind === 'sql' || a.kind === 'query' ? [a.sql] : a.kind === 'batch' ? a.sql : []));

// ─── applyOps ────────────────────────────────────────────────────────────────────────────────────────────────────────

describe('applyOps', () => {
  it('appends an added column and maps every other column to itself', () => {
    const r = applyOps(table('core_action'), opsOf('modify core_action add column foo varchar(64)'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.next.columns.at(-1)).toEqual({ name: 'foo', type: 'varchar(64)', notNull: false });
    expect(r.mapping.at(-1)).toEqual({ target: 'foo', kind: 'default' });
    expect(r.mapping.slice(0, -1).every((m) => m.kind === 'column' && m.from === m.target)).toBe(true);
    expect(r.mapping.map((m) => m.target)).toEqual(r.next.columns.map((c) => c.name));
  });

  it('renames a column inside the primary, dist and sort keys', () => {
    const r = applyOps(table('core_list'), opsOf('modify core_list rename column id to list_id'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.next.primaryKey).toEqual(['list_id']);
    expect(r.next.distKey).toBe('list_id');
    expect(r.next.sortKey.columns).toEqual(['list_id']);
    expect(r.mapping[0]).toEqual({ target: 'list_id', kind: 'column', from: 'id' });
  });

  it('renames a column inside its own foreign keys and the self-reference (core_mailing)', () => {
    const r = applyOps(table('core_mailing'), [opSchema.parse({ op: 'rename_column', from: 'landing_page_id', to: 'landing_id' })]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.next.foreignKeys.map((f) => f.columns[0])).toEqual(['landing_id', 'recurring_source_mailing_id']);
  });

  it('refuses to drop the distribution key without a new one, and accepts it with set distkey in the same command', () => {
    const ops = [opSchema.parse({ op: 'drop_column', column: 'parent_id' })];
    const bad = applyOps(table('core_userfield'), ops);
    expect(bad).toEqual({ ok: false, error: expect.stringMatching(/drop column parent_id: it is the distribution key of ak_sumofus\.core_userfield; set a new one/) });
    const good = applyOps(table('core_userfield'), [
      ...ops,
      opSchema.parse({ op: 'set_distkey', column: 'id' }),
      opSchema.parse({ op: 'set_sortkey', style: 'COMPOUND', columns: ['name', 'id'] }),
    ]);
    expect(good.ok).toBe(true);
    if (good.ok) {
      expect(good.next.distKey).toBe('id');
      expect(good.next.columns.map((c) => c.name)).toEqual(['id', 'name', 'value']);
      expect(good.notes.join(' ')).toMatch(/foreign key \(parent_id\) → core_user \(id\) goes with parent_id/);
    }
  });

  it('refuses to drop a sort key column without a new sort key', () => {
    const r = applyOps(table('core_action'), [opSchema.parse({ op: 'drop_column', column: 'created_at' })]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/created_at: it is in the sort key .*set a new sort key in the same command/);
  });

  it('refuses to drop a primary key column', () => {
    const r = applyOps(table('core_tag'), [opSchema.parse({ op: 'drop_column', column: 'id' })]);
    expect(r).toEqual({ ok: false, error: expect.stringContaining('is in the primary key of ak_sumofus.core_tag (id)') });
  });

  it('drops the UNIQUE key that names a dropped column, and says so', () => {
    const r = applyOps(table('core_list'), opsOf('modify core_list drop column name'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.next.unique).toEqual([]);
    expect(r.notes).toEqual(['the UNIQUE key (name) goes with name']);
  });

  it('refuses a type change to the type the column has', () => {
    const r = applyOps(table('core_action'), [opSchema.parse({ op: 'alter_column_type', column: 'link', type: 'int4' })]);
    expect(r).toEqual({ ok: false, error: 'alter column link type integer: ak_sumofus.core_action.link is already integer; nothing to change' });
  });

  it("refuses a type change the column's default does not fit", () => {
    const r = applyOps(table('core_userfield'), [opSchema.parse({ op: 'alter_column_type', column: 'name', type: 'integer' })]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^alter column name type integer: the column's default '' is a string; an integer column needs a number/);
  });

  it('refuses conversions it does not carry out (smallint → boolean)', () => {
    const r = applyOps(table('core_list'), [opSchema.parse({ op: 'alter_column_type', column: 'hidden', type: 'boolean' })]);
    expect(r).toEqual({ ok: false, error: expect.stringMatching(/does not convert smallint to boolean by deep copy; add a new column of type boolean/) });
  });

  it('maps a type change as a cast, a rename as the old name', () => {
    const r = applyOps(table('core_action'), opsOf('modify core_action alter column link type bigint, rename column opq_id to opaque_id'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.mapping.find((m) => m.target === 'link')).toEqual({ target: 'link', kind: 'cast', from: 'link', type: 'bigint' });
    expect(r.mapping.find((m) => m.target === 'opaque_id')).toEqual({ target: 'opaque_id', kind: 'column', from: 'opq_id' });
  });

  it('names unknown columns with a suggestion, and columns the command already dropped', () => {
    const a = applyOps(table('core_list'), [opSchema.parse({ op: 'set_sortkey', style: 'COMPOUND', columns: ['crated_at'] })]);
    expect(a).toEqual({ ok: false, error: expect.stringContaining('has no column "crated_at" — did you mean created_at?') });
    const b = applyOps(table('core_list'), [opSchema.parse({ op: 'drop_column', column: 'notes' }), opSchema.parse({ op: 'rename_column', from: 'notes', to: 'n2' })]);
    expect(b).toEqual({ ok: false, error: expect.stringContaining('(this command drops it earlier)') });
  });
});

// ─── in place vs deep copy ───────────────────────────────────────────────────────────────────────────────────────────

describe('planModify: in place', () => {
  it('adds a column in place with one statement and a done check', () => {
    const p = plan('modify core_action add column foo varchar(64)');
    expect(p.mode).toBe('in-place');
    expect(p.reasons).toEqual([]);
    expect(p.steps.map((s) => s.name)).toEqual(['alter-1', 'schema-file']);
    expect(p.steps[0]!.actions).toEqual([{ kind: 'sql', sql: 'ALTER TABLE ak_sumofus.core_action ADD COLUMN foo varchar(64)' }]);
    expect(p.steps[0]!.done?.description).toBe('column foo exists with type varchar(64)');
  });

  it('adds a NOT NULL column with its default in place', () => {
    const p = plan('modify core_user add column is_test boolean not null default false');
    expect(p.mode).toBe('in-place');
    expect(sqlOf(p.steps[0]!)).toEqual(['ALTER TABLE ak_sumofus.core_user ADD COLUMN is_test boolean DEFAULT false NOT NULL']);
    expect(p.steps[0]!.notes).toContain('existing rows get the default false');
  });

  it('drops a non-key column in place', () => {
    const p = plan('modify core_action drop column opq_id');
    expect(p.mode).toBe('in-place');
    expect(sqlOf(p.steps[0]!)).toEqual(['ALTER TABLE ak_sumofus.core_action DROP COLUMN opq_id']);
    expect(p.warnings.join('\n')).toMatch(/flydata replication still sends the source's column opq_id/);
  });

  it('renames a column in place (even a key column)', () => {
    const p = plan('modify core_action rename column opq_id to opaque_id, rename column created_at to created');
    expect(p.mode).toBe('in-place');
    expect(p.steps.slice(0, 2).flatMap(sqlOf)).toEqual([
      'ALTER TABLE ak_sumofus.core_action RENAME COLUMN opq_id TO opaque_id',
      'ALTER TABLE ak_sumofus.core_action RENAME COLUMN created_at TO created',
    ]);
    expect(p.next.sortKey.columns).toContain('created');
  });

  it('widens a VARCHAR in place, alone and outside any transaction', () => {
    const p = plan('modify core_action alter column opq_id type varchar(1024)');
    expect(p.mode).toBe('in-place');
    expect(p.steps[0]!.actions).toEqual([{ kind: 'sql', sql: 'ALTER TABLE ak_sumofus.core_action ALTER COLUMN opq_id TYPE varchar(1024)', outsideTransaction: true }]);
    expect(p.steps[0]!.done?.expect).toEqual([{ kind: 'column', column: 'opq_id', present: true, type: 'varchar(1024)' }]);
  });

  it('sets a compound sort key in place on a table whose sort key is compound (core_list)', () => {
    const p = plan('modify core_list set sortkey compound (created_at, id)');
    expect(p.mode).toBe('in-place');
    expect(sqlOf(p.steps[0]!)).toEqual(['ALTER TABLE ak_sumofus.core_list ALTER COMPOUND SORTKEY (created_at, id)']);
    expect(p.next.sortKey).toEqual({ style: 'COMPOUND', columns: ['created_at', 'id'] });
  });

  it('sets the distribution key and style in place on a compound-sorted table', () => {
    expect(sqlOf(plan('modify core_list set distkey name').steps[0]!)).toEqual(['ALTER TABLE ak_sumofus.core_list ALTER DISTKEY name']);
    const even = plan('modify core_userfield set diststyle even');
    expect(even.mode).toBe('in-place');
    expect(sqlOf(even.steps[0]!)).toEqual(['ALTER TABLE ak_sumofus.core_userfield ALTER DISTSTYLE EVEN']);
    expect(even.next.distKey).toBeUndefined();
    // from EVEN back to a key: ALTER DISTSTYLE KEY DISTKEY
    const back = planModify({
      current: even.next,
      ops: [opSchema.parse({ op: 'set_distkey', column: 'parent_id' })],
      deepCopy: false,
      referencing: [],
    });
    expect(back.ok && sqlOf(back.steps[0]!)).toEqual(['ALTER TABLE ak_sumofus.core_userfield ALTER DISTSTYLE KEY DISTKEY parent_id']);
  });

  it('changes an encoding in place on a compound-sorted table', () => {
    const p = plan('modify core_list alter column notes encode zstd');
    expect(p.mode).toBe('in-place');
    expect(sqlOf(p.steps[0]!)).toEqual(['ALTER TABLE ak_sumofus.core_list ALTER COLUMN notes ENCODE zstd']);
    expect(p.steps[0]!.done?.expect).toEqual([{ kind: 'column', column: 'notes', present: true, encode: 'zstd' }]);
  });

  it('quotes the reserved column name "limit" of core_mailing', () => {
    const p = plan('modify core_mailing rename column limit to row_limit');
    expect(p.mode).toBe('in-place');
    expect(sqlOf(p.steps[0]!)).toEqual(['ALTER TABLE ak_sumofus.core_mailing RENAME COLUMN "limit" TO row_limit']);
  });

  it('renaming a column other tables reference updates their schemas/ files too', () => {
    const p = plan('modify core_page rename column id to page_id');
    expect(p.mode).toBe('in-place');
    const names = p.referencingUpdates.map((t) => t.name);
    expect(names).toContain('core_action');
    const action = p.referencingUpdates.find((t) => t.name === 'core_action')!;
    expect(action.foreignKeys.find((f) => f.columns[0] === 'page_id')!.references).toEqual({ table: 'core_page', columns: ['page_id'] });
    expect(() => tableDef.parse(action)).not.toThrow();
    expect(p.steps.at(-1)!.actions.map((a) => (a.kind === 'note' ? a.text : ''))).toContain('rewrite schemas/ak_sumofus/core_action.yml: its foreign key names the renamed column');
  });

  it('refuses on drift unless --force-drift, listing each difference', () => {
    const current = table('core_action');
    const live = structuredClone(current);
    live.columns.push({ name: 'foo', type: 'varchar(64)', notNull: false });
    const drift = diffTable(current, live);
    expect(drift.length).toBe(1);
    const ops = opsOf('modify core_action add column bar integer');
    const refused = planModify({ current, ops, deepCopy: false, referencing: [], drift });
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.error).toMatch(/^ak_sumofus\.core_action in the warehouse differs from schemas\/:\n  • ak_sumofus\.core_action\.foo: extra column varchar\(64\)/);
      expect(refused.error).toMatch(/run again with --force-drift/);
    }
    const forced = planModify({ current, ops, deepCopy: false, referencing: [], drift, forceDrift: true });
    expect(forced.ok && forced.warnings[0]).toMatch(/^drift \(--force-drift\): ak_sumofus\.core_action\.foo: extra column/);
  });

  it('isStepDone reads the live table: done after the ALTER, not before', () => {
    const p = plan('modify core_action add column foo varchar(64), alter column opq_id type varchar(1024)');
    const before = table('core_action');
    expect(p.steps.filter((s) => s.done).map((s) => isStepDone(s.done!, before))).toEqual([false, false]);
    expect(p.steps.filter((s) => s.done).map((s) => isStepDone(s.done!, p.next))).toEqual([true, true]);
    const sort = plan('modify core_list set sortkey compound (created_at, id)');
    expect(isStepDone(sort.steps[0]!.done!, table('core_list'))).toBe(false);
    expect(isStepDone(sort.steps[0]!.done!, sort.next)).toBe(true);
  });
});

describe('planModify: deep copy', () => {
  it('--deep-copy forces the deep copy of an add column; the new column takes its default', () => {
    const p = plan('modify core_action add column foo varchar(64) default \'x\' --deep-copy');
    expect(p.mode).toBe('deep-copy');
    expect(p.reasons).toEqual(['--deep-copy was given']);
    expect(p.mapping.at(-1)).toEqual({ target: 'foo', kind: 'default' });
    const copy = sqlOf(step(p, 'copy'))[1]!;
    expect(copy).toMatch(/CAST\('x' AS varchar\(64\)\)\nFROM ak_sumofus\.core_action\nORDER BY id, created_at, user_id/);
  });

  it('dropping the distribution key with a new distkey in the same command is a deep copy that leaves the column out', () => {
    const p = plan('modify core_usermailing drop column user_id, set distkey mailing_id, set sortkey interleaved (mailing_id, created_at, id)');
    expect(p.mode).toBe('deep-copy');
    expect(p.reasons[0]).toMatch(/drop column user_id: user_id is the distribution key/);
    const copy = sqlOf(step(p, 'copy'))[1]!;
    expect(copy).not.toMatch(/\buser_id\b/);
    expect(p.next.distKey).toBe('mailing_id');
  });

  it('a column in a UNIQUE key is dropped by deep copy (DROP COLUMN would need CASCADE)', () => {
    const p = plan('modify core_list drop column name');
    expect(p.mode).toBe('deep-copy');
    expect(p.reasons).toEqual(['drop column name: name is part of a UNIQUE key; DROP COLUMN would need CASCADE, which could also drop views']);
  });

  it('renames inside keys in a deep copy: the CREATE and the copy use the new name, the SELECT the old one', () => {
    const p = plan('modify core_list rename column id to list_id --deep-copy');
    const create = sqlOf(step(p, 'create'))[0]!;
    expect(create).toContain('PRIMARY KEY (list_id)');
    expect(create).toContain('DISTKEY (list_id)');
    expect(create).toContain('COMPOUND SORTKEY (list_id)');
    const copy = sqlOf(step(p, 'copy'))[1]!;
    expect(copy).toMatch(/^INSERT INTO ak_sumofus\.new_core_list \(list_id, created_at/);
    expect(copy).toMatch(/SELECT id, created_at/);
    expect(copy).toMatch(/ORDER BY id$/);
  });

  it('a VARCHAR in the sort key is not widened in place', () => {
    const p = plan('modify core_action alter column source type varchar(1024)');
    expect(p.mode).toBe('deep-copy');
    expect(p.reasons.join(' ')).toMatch(/source is a distribution or sort key column/);
    expect(p.narrowingChecks).toEqual([]);
    expect(sqlOf(step(p, 'copy'))[1]).toContain('CAST(source AS varchar(1024))');
  });

  it('a VARCHAR with a default is not widened in place', () => {
    const p = plan('modify core_user alter column middle_name type varchar(1000)');
    expect(p.mode).toBe('deep-copy');
    expect(p.reasons).toEqual(["alter column middle_name type varchar(1000): middle_name has a default (''); Redshift cannot resize a column with a default in place"]);
  });

  it('narrowing a VARCHAR is a deep copy with a data check and a copy that cannot truncate', () => {
    const p = plan('modify core_action alter column opq_id type varchar(32)');
    expect(p.mode).toBe('deep-copy');
    expect(p.reasons[0]).toMatch(/makes the column shorter/);
    expect(p.narrowingChecks).toHaveLength(1);
    const c = p.narrowingChecks[0]!;
    expect(c.sql).toBe(
      'SELECT count(*) AS offending, CAST(MAX(OCTET_LENGTH(opq_id)) AS varchar(20)) AS worst FROM ak_sumofus.core_action WHERE opq_id IS NOT NULL AND (OCTET_LENGTH(opq_id) > 32)',
    );
    expect(narrowingMessage(c, { offending: 12, worst: '765' })).toBe(
      '12 rows of core_action.opq_id are longer than 32 bytes; the longest is 765 bytes: varchar(765) → varchar(32) would change the data; fix those rows or choose a wider type',
    );
    expect(narrowingMessage(c, { offending: 0, worst: null })).toBeUndefined();
    // plain assignment, not CAST(… AS varchar(32)), which would cut values short silently
    const copy = sqlOf(step(p, 'copy'))[1]!;
    expect(copy).toMatch(/SELECT id, created_at, updated_at, user_id, mailing_id, page_id, link, source, opq_id,/);
    expect(copy).not.toContain('varchar(32)');
    expect(p.steps.map((s) => s.name).indexOf('check-types')).toBeLessThan(p.steps.map((s) => s.name).indexOf('create'));
  });

  it('integer → bigint is a deep copy with CAST, and the reason says why', () => {
    const p = plan('modify core_action alter column link type bigint');
    expect(p.mode).toBe('deep-copy');
    expect(p.reasons).toEqual(['alter column link type bigint: integer → bigint is not a VARCHAR widening (Redshift only makes VARCHAR columns longer in place)']);
    expect(p.narrowingChecks).toEqual([]);
    expect(sqlOf(step(p, 'copy'))[1]).toContain('CAST(link AS bigint)');
    expect(sqlOf(step(p, 'create'))[0]).toContain('  link bigint,');
  });

  it('set sortkey compound on interleaved core_action is a deep copy', () => {
    const p = plan('modify core_action set sortkey compound (created_at, id)');
    expect(p.mode).toBe('deep-copy');
    expect(p.reasons[0]).toMatch(/core_action has an interleaved sort key .*ALTER SORTKEY needs a compound one/);
    expect(sqlOf(step(p, 'create'))[0]).toMatch(/COMPOUND SORTKEY \(created_at, id\)$/);
    expect(sqlOf(step(p, 'copy'))[1]).toMatch(/ORDER BY created_at, id$/);
  });

  it('set sortkey interleaved on core_list is a deep copy (Redshift cannot ALTER to INTERLEAVED)', () => {
    const p = plan('modify core_list set sortkey interleaved (id, created_at)');
    expect(p.mode).toBe('deep-copy');
    expect(p.reasons).toEqual(['set sortkey interleaved (id, created_at): Redshift cannot ALTER a sort key to INTERLEAVED']);
  });

  it('distkey, diststyle and encodings on an interleaved table are deep copies', () => {
    expect(plan('modify core_action set distkey user_id').reasons[0]).toMatch(/interleaved sort key; Redshift cannot ALTER DISTKEY/);
    expect(plan('modify core_action set diststyle even').reasons[0]).toMatch(/cannot ALTER DISTSTYLE EVEN/);
    expect(plan('modify core_action alter column opq_id encode zstd').reasons[0]).toMatch(/cannot change column encodings on it in place/);
    expect(plan('modify core_action set diststyle even').next.distStyle).toBe('EVEN');
  });

  it('quotes core_mailing\'s "limit" in every statement of a deep copy', () => {
    const p = plan('modify core_mailing alter column rate type real');
    expect(p.mode).toBe('deep-copy');
    const sql = allSql(p);
    const withLimit = sql.filter((s) => /limit/i.test(s.replace(/LIMIT 5$/, '').replace(/limit_percent/g, '')));
    expect(withLimit.length).toBeGreaterThanOrEqual(6);
    for (const s of withLimit) {
      const bare = s.replace(/"limit"/g, '').replace(/limit_percent/g, '').replace(/ LIMIT 5$/, '');
      expect(bare, s).not.toMatch(/\blimit\b/i);
    }
    expect(sqlOf(step(p, 'create'))[0]).toContain('  "limit" integer,');
  });

  it('re-creates the foreign keys of other tables when core_user is deep-copied', () => {
    const p = plan('modify core_user alter column zip type varchar(10)');
    const refs = p.foreignKeys.map((f) => `${f.table}(${f.columns.join(',')})`);
    expect(refs).toEqual(expect.arrayContaining(['core_action(user_id)', 'core_action(referring_user_id)', 'core_userfield(parent_id)', 'core_location(user_id)']));
    const drop = sqlOf(step(p, 'drop'));
    expect(drop[0]).toBe('DROP TABLE ak_sumofus.old_core_user CASCADE');
    expect(drop).toContain('ALTER TABLE ak_sumofus.core_userfield ADD FOREIGN KEY (parent_id) REFERENCES ak_sumofus.core_user (id)');
    expect(drop).toHaveLength(1 + p.foreignKeys.length);
    expect(p.foreignKeys.every((f) => f.table !== 'core_user')).toBe(true);
  });

  it('re-created foreign keys follow a renamed referenced column', () => {
    const p = plan('modify core_page rename column id to page_id --deep-copy');
    const action = p.foreignKeys.find((f) => f.table === 'core_action')!;
    expect(action.sql).toBe('ALTER TABLE ak_sumofus.core_action ADD FOREIGN KEY (page_id) REFERENCES ak_sumofus.core_page (page_id)');
  });

  it("refuses to drop a column another table's foreign key references", () => {
    const current = table('core_list');
    const other = tableDef.parse({
      schema: 'ak_sumofus',
      name: 'list_alias',
      columns: [{ name: 'list_name', type: 'varchar(765)' }],
      foreignKeys: [{ columns: ['list_name'], references: { table: 'core_list', columns: ['name'] } }],
    });
    const p = planModify({
      current,
      ops: [opSchema.parse({ op: 'drop_column', column: 'name' })],
      deepCopy: false,
      referencing: [{ table: other, fk: other.foreignKeys[0]! }],
    });
    expect(p).toEqual({ ok: false, error: 'ak_sumofus.list_alias (list_name) references core_list.name, which this change drops; change list_alias first' });
  });

  it("refuses a key type change that breaks other tables' foreign keys, naming each and the commands that fix them first", () => {
    const err = planError(table('core_action'), [{ op: 'alter_column_type', column: 'id', type: 'varchar(10)' }]);
    expect(err).toBe(
      'ak_sumofus.core_action.id (integer) is referenced by 6 foreign keys whose columns keep their types:\n' +
        ['core_actionfield (parent_id integer)', 'core_order (action_id integer)', 'core_orderrecurring (action_id integer)', 'core_subscriptionhistory (action_id integer)', 'share_action (action_id integer)', 'share_link (action_id integer)']
          .map((l) => `  • ak_sumofus.${l} → core_action.id`)
          .join('\n') +
        '\nChanging it to varchar(10) would break those keys: varchar(10) does not compare with integer (every join on them would fail). ' +
        'Change the referencing columns first (`/redshift modify core_actionfield alter column parent_id type varchar(10)`, `/redshift modify core_order alter column action_id type varchar(10)`, ' +
        '`/redshift modify core_orderrecurring alter column action_id type varchar(10)`, `/redshift modify core_subscriptionhistory alter column action_id type varchar(10)`, ' +
        '`/redshift modify share_action alter column action_id type varchar(10)`, `/redshift modify share_link alter column action_id type varchar(10)`), or remove those foreign keys from schemas/, then run this again.',
    );
    // a change the referencing columns still compare with is planned, with the warnings a key column deserves
    const p = plan('modify core_action alter column id type bigint');
    expect(p.warnings).toContain('core_actionfield (parent_id) references core_action.id, which becomes bigint; its own column keeps its type (the two still compare)');
    expect(p.warnings).toContain(
      'alter column id type bigint: id is the primary key, the distribution key and the first sort key column: every row is redistributed and re-sorted by the copy, and joins on it now compare bigint',
    );
  });

  it('re-grants what the old table had, in the swap transaction', () => {
    const acl = parseAcl('{awsuser=arwdRxtDPA/awsuser,"group analysts=r/awsuser",etl=a*r*w/awsuser}');
    expect(acl.ok).toBe(true);
    if (!acl.ok) return;
    const p = plan('modify core_usermailing alter column subject_id type bigint', { grants: acl.grants, skipGrantees: ['awsuser'] });
    const swap = sqlOf(step(p, 'swap'));
    expect(swap).toEqual([
      'ALTER TABLE ak_sumofus.core_usermailing RENAME TO old_core_usermailing',
      'ALTER TABLE ak_sumofus.new_core_usermailing RENAME TO core_usermailing',
      'GRANT SELECT ON ak_sumofus.core_usermailing TO GROUP analysts',
      'GRANT UPDATE ON ak_sumofus.core_usermailing TO etl',
      'GRANT INSERT, SELECT ON ak_sumofus.core_usermailing TO etl WITH GRANT OPTION',
    ]);
  });

  it('keeps the swap ONE batch of at most 40 statements: many grantees with one privilege set fit, 40 distinct sets are refused', () => {
    const users = (n: number, letters: (i: number) => string) => `{${Array.from({ length: n }, (_, i) => `u${i}=${letters(i)}/awsuser`).join(',')}}`;
    const same = parseAcl(users(200, () => 'r'));
    if (!same.ok) throw new Error(same.error);
    const p = plan('modify core_action alter column link type bigint', { grants: same.grants });
    const swap = sqlOf(step(p, 'swap'));
    expect(swap.length + 2).toBeLessThanOrEqual(40); // + the runbook's two SET statement_timeout around the LOCK
    expect(swap.filter((q) => q.startsWith('GRANT'))).toHaveLength(1);
    // every grantee a different privilege set: no GRANT can be shared
    const letters = ['r', 'a', 'w', 'd', 'x', 'D', 'P', 'A'];
    const distinct = parseAcl(users(40, (i) => letters.filter((_, b) => ((i + 1) >> b) & 1).join('')));
    if (!distinct.ok) throw new Error(distinct.error);
    const r = parseCommand('modify core_action alter column link type bigint', { registry: reg });
    if (!r.ok || r.command.kind !== 'modify') throw new Error('parse');
    const current = table('core_action');
    const refused = planModify({ current, ops: r.command.ops, deepCopy: false, referencing: referencingTables(reg, current.schema, current.name), grants: distinct.grants });
    expect(refused).toEqual({ ok: false, error: expect.stringMatching(/^the swap of ak_sumofus\.core_action would be 50 statements in one transaction: .* 40 grantees with 40 different privilege sets \(one GRANT per set\)\. The Data API runs at most 40 statements in one batch/) });
  });

  it('a DMS table stops the task, swaps in one batch, resumes and reads the logs', () => {
    const p = plan('modify core_usermailing alter column subject_id type bigint');
    expect(p.provider).toBe('dms');
    expect(p.strategy).toBeUndefined();
    expect(p.steps.map((s) => s.name)).toEqual([
      'preflight', 'read-grants', 'stop-task', 'create', 'copy', 'verify', 'swap', 'resume-task', 'log-check', 'post-verify', 'approve-drop', 'drop', 'schema-file',
    ]);
    expect(step(p, 'resume-task').actions[0]).toEqual({ kind: 'aws', text: expect.stringContaining('StartReplicationTaskType=resume-processing') });
    expect(step(p, 'log-check').actions[0]).toEqual({ kind: 'aws', text: expect.stringContaining('dms-tasks-core-usermailing-replication') });
    expect(planError(table('core_usermailing'), [{ op: 'alter_column_type', column: 'subject_id', type: 'bigint' }], { strategy: 'rename-first' })).toMatch(/--strategy applies to cdc tables/);
  });

  it('rename-first renames the table away before the copy and copies from old_<t>', () => {
    const p = plan('modify core_userfield alter column id type bigint --strategy rename-first');
    expect(p.strategy).toBe('rename-first');
    const names = p.steps.map((s) => s.name);
    expect(names.slice(0, 6)).toEqual(['preflight', 'read-grants', 'rename-away', 'create', 'copy', 'verify']);
    expect(sqlOf(step(p, 'rename-away'))).toEqual(['ALTER TABLE ak_sumofus.core_userfield RENAME TO old_core_userfield']);
    expect(sqlOf(step(p, 'copy'))[1]).toMatch(/\nFROM ak_sumofus\.old_core_userfield\n/);
    // the re-grants read at run time stand at the end of the batch as a placeholder (run-values.ts fills it)
    expect(sqlOf(step(p, 'rename-in'))).toEqual(['ALTER TABLE ak_sumofus.new_core_userfield RENAME TO core_userfield', '{{regrants}}']);
  });

  it('live copy of core_action: mark before copy, locked swap with the delta, syncs, late writes, rollback', () => {
    const p = plan('modify core_action alter column link type bigint');
    expect(p.strategy).toBe('live-copy');
    expect(p.delta?.kind).toBe('updated_at');
    expect(p.steps.map((s) => s.name)).toEqual([
      'preflight', 'read-grants', 'create', 'mark', 'copy', 'pre-sync', 'verify', 'catch-up', 'swap', 'post-sync', 'late-writes', 'freshness', 'post-verify', 'approve-drop', 'drop', 'schema-file',
    ]);
    // unlocked catch-up rounds from the copy mark: statistics for new_core_action, the next mark, then the delta
    const cu = step(p, 'catch-up').actions;
    expect(cu.map((a) => a.kind)).toEqual(['sql', 'query', 'batch']);
    expect(cu[0]).toEqual({ kind: 'sql', sql: 'ANALYZE ak_sumofus.new_core_action' });
    // a catch-up round re-copies only the rows of the two windows (updated_at ≥ the last mark) that differ
    expect(cu[2]!.kind === 'batch' ? cu[2]!.sql[0] : '').toMatch(/FROM ak_sumofus\.new_core_action WHERE updated_at >= \{\{catchup_mark\}\} UNION ALL SELECT .* FROM ak_sumofus\.core_action WHERE updated_at >= \{\{catchup_mark\}\}\) AS w GROUP BY /);
    const swap = sqlOf(step(p, 'swap'));
    expect(swap[0]).toBe('LOCK TABLE ak_sumofus.core_action');
    expect(swap.at(-3)).toBe('ALTER TABLE ak_sumofus.core_action RENAME TO old_core_action');
    expect(swap.at(-2)).toBe('ALTER TABLE ak_sumofus.new_core_action RENAME TO core_action');
    expect(swap.at(-1)).toBe('{{regrants}}');
    // under the lock, from the last catch-up mark: the rows of both windows (a range on updated_at, never a scan of the
    // table) grouped by every copied column; the keys of rows found on one side only are re-copied
    expect(swap[1]).toMatch(
      /^CREATE TEMP TABLE rso_swap_delta AS SELECT id, created_at, updated_at, .*, MIN\(rso_delta_side\) AS rso_delta_side FROM \(SELECT id, created_at, updated_at, .*, 0 AS rso_delta_side FROM ak_sumofus\.new_core_action WHERE updated_at >= \{\{catchup_mark\}\} UNION ALL SELECT id AS id, .*CAST\(link AS bigint\) AS link, .*, 1 AS rso_delta_side FROM ak_sumofus\.core_action WHERE updated_at >= \{\{catchup_mark\}\}\) AS w GROUP BY id, created_at, updated_at, .* HAVING MIN\(rso_delta_side\) = MAX\(rso_delta_side\)$/,
    );
    // Redshift: no NOT IN (a NULL key makes it match nothing) and no IN (subquery) on keys anywhere in the plan
    const all = [...p.steps, ...p.rollback].flatMap((s) => s.actions.flatMap((a) => (a.kind === 'sql' || a.kind === 'query' ? [a.sql] : a.kind === 'batch' ? a.sql : [])));
    expect(all.filter((q) => /\bIN \(SELECT/i.test(q))).toEqual([]);
    expect(swap[p.swapMarkIndex!]).toMatch(/AS swap_mark FROM ak_sumofus\.core_action WHERE updated_at >= \{\{catchup_mark\}\}$/);
    // with the worker's lock timeout: the wait for the lock is bounded, then the bound lifted, and the mark index follows
    const bounded = plan('modify core_action alter column link type bigint', { swapLockTimeoutMs: 2_000 });
    const b = sqlOf(step(bounded, 'swap'));
    expect(b.slice(0, 3)).toEqual(['SET statement_timeout TO 2000', 'LOCK TABLE ak_sumofus.core_action', 'SET statement_timeout TO 0']);
    expect(b[bounded.swapMarkIndex!]).toMatch(/AS swap_mark FROM ak_sumofus\.core_action WHERE updated_at >= \{\{catchup_mark\}\}$/);
    // every read of the table under the lock goes through the window's range or the keys of the rows that differ
    const reads = swap.filter((q) => q.includes('FROM ak_sumofus.core_action '));
    expect(reads).toHaveLength(3);
    for (const q of reads) for (const from of q.split('FROM ak_sumofus.core_action ').slice(1)) expect(from).toMatch(/^(WHERE updated_at >= \{\{catchup_mark\}\}|AS o JOIN rso_swap_delta AS n ON n\.id = o\.id WHERE n\.rso_delta_side = 0)/);
    expect(p.rollback.map((s) => s.name)).toEqual(['swap-back', 'drop-new']);
    expect(sqlOf(p.rollback[0]!).slice(-2)).toEqual([
      'ALTER TABLE ak_sumofus.core_action RENAME TO new_core_action',
      'ALTER TABLE ak_sumofus.old_core_action RENAME TO core_action',
    ]);
  });

  it('never selects * in any statement of any plan', () => {
    const texts = [
      'modify core_action alter column link type bigint',
      'modify core_user alter column zip type varchar(10), rename column plus4 to zip4, add column note varchar(20) default \'n/a\'',
      'modify core_userfield alter column id type bigint',
      'modify core_userfield alter column id type bigint --strategy rename-first',
      'modify core_usermailing alter column subject_id type bigint',
      'modify core_mailing add column x integer --deep-copy',
      'modify core_list set sortkey interleaved (id, created_at)',
    ];
    let n = 0;
    for (const t of texts) {
      for (const s of allSql(plan(t))) {
        n++;
        expect(s, s).not.toMatch(/select\s+\*/i);
        expect(s, s).not.toMatch(/\.\*/);
        expect(s, s).not.toMatch(/,\s*\*/);
      }
    }
    expect(n).toBeGreaterThan(80);
  });

  it('refuses a table name that new_<t> would push past 127 bytes', () => {
    const long = tableDef.parse({ ...table('core_list'), name: 'x'.repeat(125), unique: [] });
    const p = planModify({ current: long, ops: [opSchema.parse({ op: 'alter_column_type', column: 'id', type: 'bigint' })], deepCopy: false, referencing: [] });
    expect(p).toEqual({ ok: false, error: expect.stringContaining('would be longer than 127 bytes') });
  });
});

// ─── casts and narrowing checks ──────────────────────────────────────────────────────────────────────────────────────

describe('casts', () => {
  const rule = (from: string, to: string) => castRule(from, to, 'c');
  const preds = (from: string, to: string): string[] => {
    const r = rule(from, to);
    return r.kind === 'ok' ? r.checks.map((c) => c.predicate('c')) : [`refused: ${r.reason}`];
  };

  it('widening needs no check; narrowing integers checks the range', () => {
    expect(preds('integer', 'bigint')).toEqual([]);
    expect(preds('smallint', 'numeric(18,0)')).toEqual([]);
    expect(preds('bigint', 'integer')).toEqual(['c NOT BETWEEN -2147483648 AND 2147483647']);
    expect(preds('integer', 'smallint')).toEqual(['c NOT BETWEEN -32768 AND 32767']);
  });

  it('numeric scale and precision losses are checked', () => {
    expect(preds('numeric(10,2)', 'numeric(8,1)')).toEqual(['c <> ROUND(c, 1)', 'ABS(c) >= 10000000']);
    expect(preds('numeric(10,2)', 'integer')).toEqual(['c <> ROUND(c, 0)']);
    expect(preds('numeric(12,0)', 'integer')).toEqual(['c NOT BETWEEN -2147483648 AND 2147483647']);
    expect(preds('double precision', 'integer')).toEqual(['c <> FLOOR(c)', 'c NOT BETWEEN -2147483648 AND 2147483647']);
    expect(preds('integer', 'numeric(5,2)')).toEqual(['ABS(CAST(c AS numeric(38,0))) >= 1000']);
  });

  it('text to numbers and dates checks the format without backslashes', () => {
    expect(preds('varchar(20)', 'integer')).toEqual([
      "CASE WHEN c ~ '^[-+]?[0-9]{1,37}$' THEN CAST(c AS numeric(38,0)) NOT BETWEEN -2147483648 AND 2147483647 ELSE TRUE END",
    ]);
    expect(preds('varchar(20)', 'numeric(6,2)')).toEqual(["c !~ '^[-+]?[0-9]{1,4}([.][0-9]{0,2})?$'"]);
    expect(preds('varchar(30)', 'date')).toEqual(["c !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'"]);
    for (const p of [...preds('varchar(30)', 'timestamp'), ...preds('char(10)', 'double precision')]) expect(p).not.toContain('\\');
  });

  it('numbers into short text check the text length; timestamp → date only warns', () => {
    expect(preds('integer', 'varchar(11)')).toEqual([]);
    expect(preds('bigint', 'varchar(8)')).toEqual(['OCTET_LENGTH(CAST(c AS varchar(64))) > 8']);
    const r = rule('timestamp', 'date');
    expect(r.kind === 'ok' && r.checks.map((c) => [c.kind, c.severity])).toEqual([['time-of-day', 'warn']]);
  });

  it('refuses boolean/text and SUPER conversions with a way forward', () => {
    expect(rule('boolean', 'varchar(5)')).toEqual({ kind: 'refuse', reason: expect.stringContaining('add a new column of type varchar(5), fill it, and drop c') });
    expect(rule('super', 'varchar(100)').kind).toBe('refuse');
  });

  it('narrowingChecks reads the old table and words the refusal for a range check', () => {
    const current = tableDef.parse({ schema: 's', name: 'facts', columns: [{ name: 'id', type: 'bigint' }, { name: 'n', type: 'numeric(10,2)' }] });
    const checks = narrowingChecks(current, [
      { target: 'id', kind: 'cast', from: 'id', type: 'integer' },
      { target: 'n', kind: 'cast', from: 'n', type: 'numeric(8,1)' },
    ]);
    expect(checks.map((c) => c.kind)).toEqual(['range', 'scale', 'magnitude']);
    expect(checks[0]!.sql).toBe(
      'SELECT count(*) AS offending, CAST(MAX(ABS(CAST(id AS numeric(38,0)))) AS varchar(64)) AS worst FROM s.facts WHERE id IS NOT NULL AND (id NOT BETWEEN -2147483648 AND 2147483647)',
    );
    expect(narrowingMessage(checks[0]!, { offending: '1', worst: '3000000000' })).toBe(
      '1 row of facts.id is outside the range of integer (-2147483648 to 2147483647); the largest magnitude is 3000000000: bigint → integer would fail; fix those rows or choose a wider type',
    );
    expect(narrowingMessage(checks[1]!, { offending: 2 })).toMatch(/^2 rows of facts\.n have more than 1 decimal place and would be rounded/);
  });
});

// ─── verification ────────────────────────────────────────────────────────────────────────────────────────────────────

describe('verifyQueries', () => {
  it('compares counts and FNV_HASH checksums typed as the new column; samples by the integer key', () => {
    const cur = table('core_list');
    const r = applyOps(cur, opsOf('modify core_list alter column id type bigint, rename column notes to note'));
    if (!r.ok) throw new Error(r.error);
    const v = verifyQueries(cur, r.next, r.mapping, { oldTable: 'core_list', newTable: 'new_core_list', sampleEvery: 100 });
    expect(v.sampled).toBe(true);
    const flat = v.checksums.replace(/\s+/g, ' ');
    expect(flat).toContain("SELECT 'old' AS side, count(*) AS row_count, COUNT(CAST(id AS bigint)) AS n1, SUM(CAST(FNV_HASH(CAST(id AS bigint)) AS numeric(38,0))) AS h1");
    expect(flat).toContain("SELECT 'new' AS side, count(*) AS row_count, COUNT(id) AS n1, SUM(CAST(FNV_HASH(id) AS numeric(38,0))) AS h1");
    expect(v.checksums).toContain('FROM ak_sumofus.core_list\nWHERE MOD(id, 100) = 0\nUNION ALL');
    expect(v.checksums).toContain('SUM(CAST(FNV_HASH(note) AS numeric(38,0))) AS h6');
    expect(v.checksums).toMatch(/FROM ak_sumofus\.new_core_list\nWHERE MOD\(id, 100\) = 0$/);
    expect(v.duplicatesNew).toBe('SELECT id, count(*) AS copies FROM ak_sumofus.new_core_list GROUP BY id HAVING count(*) > 1 ORDER BY 2 DESC LIMIT 5');
  });

  it('compareChecksums finds nothing on equal rows and names the column that differs', () => {
    const cur = table('core_tag');
    const r = applyOps(cur, [opSchema.parse({ op: 'alter_column_type', column: 'id', type: 'bigint' })]);
    if (!r.ok) throw new Error(r.error);
    const v = verifyQueries(cur, r.next, r.mapping, { oldTable: 'core_tag', newTable: 'new_core_tag' });
    const row = (side: string, h2: string): Record<string, unknown> => {
      const o: Record<string, unknown> = { side, row_count: '3' };
      for (const c of v.columns) {
        o[c.count] = 3;
        if (c.hash) o[c.hash] = '12345';
      }
      o[v.columns[1]!.hash!] = h2;
      return o;
    };
    expect(compareChecksums(v, [row('old', '7'), row('new', '7')])).toEqual([]);
    expect(compareChecksums(v, [row('old', '7'), row('new', '8')])).toEqual([`column ${v.columns[1]!.target}: the values differ (checksums 7 vs 8)`]);
    expect(compareChecksums(v, [row('old', '7')])).toEqual(['the checksum query did not return one row for each table']);
  });
});

// ─── grants ──────────────────────────────────────────────────────────────────────────────────────────────────────────

describe('grants', () => {
  it('parses array and ~-joined ACLs: users, groups, PUBLIC, grant options, quoted names', () => {
    const a = parseAcl('{alice=arwdRxtD/owner,"group analysts=r/owner",=r/owner,"\\"odd\\"\\"name\\"=w/owner"}');
    expect(a).toEqual({
      ok: true,
      grants: [
        { grantee: 'alice', granteeKind: 'user', privileges: ['INSERT', 'SELECT', 'UPDATE', 'DELETE', 'REFERENCES', 'DROP'], grantable: [], grantor: 'owner' },
        { grantee: 'analysts', granteeKind: 'group', privileges: ['SELECT'], grantable: [], grantor: 'owner' },
        { grantee: '', granteeKind: 'public', privileges: ['SELECT'], grantable: [], grantor: 'owner' },
        { grantee: 'odd"name', granteeKind: 'user', privileges: ['UPDATE'], grantable: [], grantor: 'owner' },
      ],
    });
    const b = parseAcl('bob=r*w/owner~group etl=a/owner');
    expect(b.ok && b.grants.map((g) => [g.grantee, g.privileges, g.grantable])).toEqual([
      ['bob', ['SELECT', 'UPDATE'], ['SELECT']],
      ['etl', ['INSERT'], []],
    ]);
    expect(parseAcl(null)).toEqual({ ok: true, grants: [] });
  });

  it('reads the PostgreSQL letters for the sandbox and refuses unknown ones', () => {
    const pg = parseAcl('{alice=arwdDxt/postgres}', 'postgres');
    expect(pg.ok && pg.grants[0]!.privileges).toEqual(['INSERT', 'SELECT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']);
    expect(parseAcl('{alice=rZ/x}')).toEqual({ ok: false, error: 'cannot read the table\'s grants: "alice=rZ/x": unknown privilege letter "Z" for redshift' });
  });

  it('re-grants to users, groups and PUBLIC with quoted names; skips the bot user; can set the owner', () => {
    const acl = parseAcl('{bot=arwd/bot,"group Team A=r/bot",=r/bot,carol=r*/bot}');
    if (!acl.ok) throw new Error(acl.error);
    // grantees with the same privileges share one GRANT (the swap batch holds at most 40 statements); grant options per user
    expect(regrantStatements(acl.grants, 'ak_sumofus', 'core_action', { skip: ['bot'] })).toEqual([
      'GRANT SELECT ON ak_sumofus.core_action TO GROUP "Team A", PUBLIC',
      'GRANT SELECT ON ak_sumofus.core_action TO carol WITH GRANT OPTION',
    ]);
    const many = parseAcl(`{${Array.from({ length: 50 }, (_, i) => `u${i}=${i % 2 ? 'r' : 'ar'}/bot`).join(',')},"group g=ar/bot"}`);
    if (!many.ok) throw new Error(many.error);
    const st = regrantStatements(many.grants, 's', 't');
    expect(st).toHaveLength(2);
    expect(st[0]).toMatch(/^GRANT INSERT, SELECT ON s\.t TO u0, u2, .*, u48, GROUP g$/);
    expect(regrantStatements([], 'ak_sumofus', 'limit', { owner: 'alice' })).toEqual(['ALTER TABLE ak_sumofus."limit" OWNER TO alice']);
  });
});

// ─── live-copy delta ─────────────────────────────────────────────────────────────────────────────────────────────────

describe('delta', () => {
  const same = (name: string) => {
    const t = table(name);
    const r = applyOps(t, [opSchema.parse({ op: 'add_column', column: { name: 'extra', type: 'integer', default: '0' } })]);
    if (!r.ok) throw new Error(r.error);
    return { t, next: r.next, mapping: r.mapping };
  };

  it('core_action has updated_at: delta by updated_at with a margin', () => {
    const { t, next, mapping } = same('core_action');
    const d = deltaPlan(t, next, mapping, { marginSeconds: 120 });
    expect(d.kind).toBe('updated_at');
    if (d.kind !== 'updated_at') return;
    expect(d.markQuery).toBe(
      "SELECT CAST(COALESCE(MAX(updated_at) - INTERVAL '120 seconds', CAST('1900-01-01 00:00:00' AS timestamp)) AS varchar(32)) AS mark FROM ak_sumofus.core_action",
    );
  });

  it("core_userfield declares changeTracking none: 'full' with a warning; declared append_only makes it an id delta", () => {
    const { t, next, mapping } = same('core_userfield');
    expect(t.changeTracking).toBe('none');
    const d = deltaPlan(t, next, mapping);
    expect(d.kind).toBe('full');
    expect(d.notes[0]).toMatch(/core_userfield declares changeTracking none: .* under the lock/);
    const p = plan('modify core_userfield alter column id type bigint');
    expect(p.delta?.kind).toBe('full');
    expect(p.warnings.join('\n')).toMatch(/declares changeTracking none/);
    expect(p.steps.map((s) => s.name)).not.toContain('mark');
    const a = deltaPlan({ ...t, changeTracking: { append_only: 'id' } }, { ...next, changeTracking: { append_only: 'id' } }, mapping);
    expect(a.kind).toBe('append-id');
    expect(a.kind === 'append-id' && a.notes[0]).toMatch(/NOT covered/);
  });

  it('append-id: the locked swap first removes the rows above the mark the copy already took (no duplicates)', () => {
    const { t, next, mapping } = same('core_open');
    const d = deltaPlan(t, next, mapping);
    expect(d.kind).toBe('append-id');
    const b = lockedSwapBatch(t, next, mapping, d, { mark: { int: '155' } });
    expect(b.sql.slice(0, 3)).toEqual([
      'LOCK TABLE ak_sumofus.core_open',
      'DELETE FROM ak_sumofus.new_core_open WHERE id > 155',
      expect.stringMatching(/^INSERT INTO ak_sumofus\.new_core_open \(id, .*\) SELECT id, .* FROM ak_sumofus\.core_open WHERE id > 155$/),
    ]);
  });

  it('the change column is declared, not guessed from a column name', () => {
    const { t, next, mapping } = same('core_action');
    expect(t.changeTracking).toEqual({ updated_at: 'updated_at' });
    // core_action has an updated_at column, but a table declaring none is compared in full
    expect(deltaPlan({ ...t, changeTracking: 'none' }, next, mapping).kind).toBe('full');
    // no declaration at all: treated as none, and the plan says what to declare
    const { changeTracking: _, ...undeclared } = t;
    const u = deltaPlan(undeclared, next, mapping);
    expect(u.kind).toBe('full');
    expect(u.notes[0]).toMatch(/core_action declares no changeTracking in schemas\/: treated as none \(declare changeTracking: \{ updated_at: <column> \}/);
  });

  it('lockedSwapBatch: ONE batch — lock, delta by key, swap mark, both renames, grants', () => {
    const { t, next, mapping } = same('core_action');
    const d = deltaPlan(t, next, mapping);
    const acl = parseAcl('{"group analysts=r/x"}');
    const b = lockedSwapBatch(t, next, mapping, d, { mark: { ts: '2024-05-01 10:00:00.123456' }, ...(acl.ok ? { grants: acl.grants } : {}) });
    expect(b.sql[0]).toBe('LOCK TABLE ak_sumofus.core_action');
    const m = "'2024-05-01 10:00:00.123456'";
    expect(b.sql[1]).toMatch(/^CREATE TEMP TABLE rso_swap_delta AS SELECT id, created_at, .*, MIN\(rso_delta_side\) AS rso_delta_side FROM \(SELECT id, created_at, .*, 0 AS rso_delta_side FROM ak_sumofus\.new_core_action WHERE updated_at >= '2024-05-01 10:00:00\.123456' UNION ALL SELECT id AS id, .*, 1 AS rso_delta_side FROM ak_sumofus\.core_action WHERE updated_at >= '2024-05-01 10:00:00\.123456'\) AS w GROUP BY id, created_at, .* HAVING MIN\(rso_delta_side\) = MAX\(rso_delta_side\)$/);
    // the added column (a default) is not compared: t does not have it
    expect(b.sql[1]).not.toMatch(/extra/);
    // every key that differs goes, and comes back from t: its row of the window from the delta, or its current row when
    // only its copy was in the window (a key t no longer has stays gone)
    expect(b.sql[2]).toBe('DELETE FROM ak_sumofus.new_core_action USING rso_swap_delta AS o WHERE new_core_action.id = o.id');
    expect(b.sql[3]).toMatch(
      new RegExp(`^INSERT INTO ak_sumofus\\.new_core_action \\(id, created_at, .*, extra\\) SELECT id, created_at, .*, CAST\\(0 AS integer\\) FROM rso_swap_delta WHERE rso_delta_side = 1 UNION ALL SELECT o\\.id, o\\.created_at, .*, CAST\\(0 AS integer\\) FROM ak_sumofus\\.core_action AS o JOIN rso_swap_delta AS n ON n\\.id = o\\.id WHERE n\\.rso_delta_side = 0 AND \\(o\\.updated_at < ${m.replace(/\./g, '\\.')} OR o\\.updated_at IS NULL\\)$`),
    );
    expect(b.swapMarkIndex).toBe(4);
    expect(b.sql[4]).toBe(`SELECT CAST(MAX(updated_at) AS varchar(32)) AS swap_mark FROM ak_sumofus.core_action WHERE updated_at >= ${m}`);
    expect(b.sql[5]).toBe('DROP TABLE rso_swap_delta');
    expect(b.sql.slice(6)).toEqual([...swapBatch('ak_sumofus', 'core_action').slice(0, 2), 'GRANT SELECT ON ak_sumofus.core_action TO GROUP analysts']);
  });

  it("'full' compares the copied columns under the lock (added columns keep their value)", () => {
    const { t, next, mapping } = same('core_userfield');
    const b = lockedSwapBatch(t, next, mapping, deltaPlan(t, next, mapping), { mark: { placeholder: 'copy_mark' } });
    expect(b.sql[1]).toBe(
      'DELETE FROM ak_sumofus.new_core_userfield USING (SELECT id FROM (SELECT id, parent_id, name, value FROM ak_sumofus.new_core_userfield EXCEPT SELECT id, parent_id, name, value FROM ak_sumofus.core_userfield) AS diff) AS changed WHERE new_core_userfield.id = changed.id',
    );
    expect(b.sql[2]).toMatch(/FROM ak_sumofus\.core_userfield AS o WHERE NOT EXISTS \(SELECT 1 FROM ak_sumofus\.new_core_userfield AS n WHERE n\.id = o\.id\)$/);
    expect(b.swapMarkIndex).toBeUndefined();
  });

  it('delete syncs, late writes and the reverse delta use the right names on each side', () => {
    const t = table('core_action');
    const r = applyOps(t, opsOf('modify core_action rename column id to action_id, alter column link type bigint'));
    if (!r.ok) throw new Error(r.error);
    const d = deltaPlan(t, r.next, r.mapping);
    expect(preSwapDeleteSync(t, r.next, d)).toBe('DELETE FROM ak_sumofus.new_core_action WHERE NOT EXISTS (SELECT 1 FROM ak_sumofus.core_action AS o WHERE new_core_action.action_id = o.id)');
    expect(postSwapDeleteSync(t, r.next, d, { ts: '2024-05-01 10:00:00' })).toBe(
      "DELETE FROM ak_sumofus.core_action WHERE updated_at < '2024-05-01 10:00:00' AND NOT EXISTS (SELECT 1 FROM ak_sumofus.old_core_action AS o WHERE core_action.action_id = o.id)",
    );
    const late = lateWritesToOld(t, r.next, r.mapping, d, { ts: '2024-05-01 10:05:00' })!;
    expect(late.check).toBe("SELECT count(*) AS late_rows FROM ak_sumofus.old_core_action WHERE updated_at > '2024-05-01 10:05:00'");
    expect(late.move[0]).toBe(
      "DELETE FROM ak_sumofus.core_action USING ak_sumofus.old_core_action WHERE core_action.action_id = old_core_action.id AND old_core_action.updated_at > '2024-05-01 10:05:00' AND core_action.updated_at < old_core_action.updated_at",
    );
    expect(late.move[1]).toMatch(/FROM ak_sumofus\.old_core_action WHERE old_core_action\.updated_at > '2024-05-01 10:05:00' AND NOT EXISTS \(SELECT 1 FROM ak_sumofus\.core_action AS n WHERE n\.action_id = old_core_action\.id\)$/);
    const rev = reverseDelta(t, r.next, r.mapping, d, { ts: '2024-05-01 10:05:00' });
    expect(rev.ok).toBe(true);
    if (rev.ok) {
      // rows deleted since the swap leave old_core_action too (the locked swap left both with the same keys)
      expect(rev.sql[0]).toBe('DELETE FROM ak_sumofus.old_core_action WHERE NOT EXISTS (SELECT 1 FROM ak_sumofus.core_action AS n WHERE n.action_id = old_core_action.id)');
      expect(rev.sql[2]).toMatch(/^INSERT INTO ak_sumofus\.old_core_action \(id, created_at, updated_at, user_id, mailing_id, page_id, link,/);
      expect(rev.sql[2]).toMatch(/SELECT action_id, created_at, updated_at, user_id, mailing_id, page_id, CAST\(link AS integer\),/);
      expect(swapBackBatch('ak_sumofus', 'core_action', rev.sql)).toHaveLength(5);
    }
  });

  it('renderMark accepts only values the bot produced', () => {
    expect(renderMark({ ts: '2024-05-01 10:00:00' })).toBe("'2024-05-01 10:00:00'");
    expect(renderMark({ int: '9223372036854775807' })).toBe('9223372036854775807');
    expect(() => renderMark({ ts: "2024-05-01'; DROP TABLE x; --" })).toThrow(/is not a timestamp the bot wrote/);
    expect(() => renderMark({ int: '1 OR 1=1' })).toThrow(/not a whole number/);
    expect(() => renderMark({ placeholder: 'a; b' })).toThrow();
  });

  it('copyRows filters by a mark and orders by the new sort key', () => {
    const { t, next, mapping } = same('core_list');
    const sql = copyRows(t, next, mapping, { from: 'core_list', to: 'new_core_list', where: [{ column: 'updated_at', op: '>=', value: { ts: '2024-01-02 03:04:05' } }] });
    expect(sql).toBe(
      [
        'INSERT INTO ak_sumofus.new_core_list (id, created_at, updated_at, hidden, name, notes, is_default, extra)',
        'SELECT id, created_at, updated_at, hidden, name, notes, is_default, CAST(0 AS integer)',
        'FROM ak_sumofus.core_list',
        "WHERE updated_at >= '2024-01-02 03:04:05'",
        'ORDER BY id',
      ].join('\n'),
    );
    expect(() => copyRows(t, next, mapping.slice(1), { from: 'core_list', to: 'new_core_list' })).toThrow(/does not match the columns/);
  });
});

// ─── printing ────────────────────────────────────────────────────────────────────────────────────────────────────────

describe('formatPlan', () => {
  it('prints an in-place plan', () => {
    expect(formatPlan(plan('modify core_list set sortkey compound (created_at, id), alter column notes type varchar(1000)'))).toMatchInlineSnapshot(`
      "modify ak_sumofus.core_list: in place
      steps:
       1. set sortkey compound (created_at, id)  [alter-1]
          done when: the sort key is COMPOUND (created_at, id)
          sql:
            ALTER TABLE ak_sumofus.core_list ALTER COMPOUND SORTKEY (created_at, id);
          note: Redshift re-sorts the rows; the table stays readable
       2. alter column notes type varchar(1000)  [alter-2]
          done when: column notes has type varchar(1000)
          sql (alone, outside any transaction):
            ALTER TABLE ak_sumofus.core_list ALTER COLUMN notes TYPE varchar(1000);
          note: Redshift runs ALTER COLUMN TYPE only outside a transaction block: submitted on its own
       3. Rewrite the table in schemas/  [schema-file]
          bot: rewrite schemas/ak_sumofus/core_list.yml with the new definition (and commit it when SCHEMA_GIT_DIR is set)
      "
    `);
  });

  it('prints a deep copy with every step, its SQL and AWS calls', () => {
    const text = formatPlan(plan('modify core_usermailing alter column subject_id type bigint, rename column created_at to sent_at'));
    expect(text).toMatchSnapshot();
    expect(text).toContain('why a deep copy:\n  • alter column subject_id type bigint: integer → bigint is not a VARCHAR widening');
    expect(text).toContain('  sent_at ← created_at (renamed)');
    expect(text).toContain('aws: DMS StopReplicationTask flydata-core-usermailing');
  });
});

describe('strategy from changeTracking, expected lock time, post-swap verification (issue 7 items 4, 5)', () => {
  const size = { rows: 2_000_000, sizeMb: 400 };

  it('plan core_open set sortkey compound (created_at, id): append_only by id, explained, with the expected lock time', () => {
    const p = plan('modify core_open set sortkey compound (created_at, id)', { tableSize: size, throughput: { scanMbPerSecond: 100, copyMbPerSecond: 25 } });
    expect(p.strategy).toBe('live-copy');
    expect(p.delta?.kind).toBe('append-id');
    const text = formatPlan(p);
    expect(text).toContain('strategy: live-copy, from changeTracking { append_only: id } in schemas/ak_sumofus/core_open.yml');
    expect(text).toContain('  • core_open only gets inserts: the rows added during the copy are those with id > max(id) read before the copy, inserted under the lock');
    expect(text).toContain(
      '  • expected lock: the rows added since the last catch-up round only, found by id ranges (zone maps), not by scanning the table — it does not grow with the table (size from svv_table_info: 2,000,000 rows, 400 MB)',
    );
    const names = p.steps.map((s) => s.name);
    expect(names.indexOf('post-verify')).toBe(names.indexOf('approve-drop') - 1);
    expect(names.indexOf('post-verify')).toBeGreaterThan(names.indexOf('late-writes'));
    const post = p.steps.find((s) => s.name === 'post-verify')!;
    expect(post.title).toBe('Verify after the swap: old_core_open and core_open agree on every row with id ≤ the swap mark');
    const q = post.actions[0];
    expect(q?.kind === 'query' && q.sql).toContain('WHERE id <= CAST(:swap_mark AS bigint)');
    expect(q?.kind === 'query' && q.sql).toContain('FROM ak_sumofus.old_core_open');
  });

  it('a none table: the lock time of the whole-table compare, and rename-first offered only when it is shorter', () => {
    const slowCopy = formatPlan(plan('modify core_userfield set sortkey compound (parent_id, id) --deep-copy', { tableSize: size, throughput: { scanMbPerSecond: 100, copyMbPerSecond: 25 } }));
    expect(slowCopy).toContain('strategy: live-copy, from changeTracking none in schemas/ak_sumofus/core_userfield.yml');
    expect(slowCopy).toContain('  • expected lock: ≈ 24 s = 6 scans × 400 MB ÷ 100 MB/s (the whole-table compare under the lock and the checksum for the post-swap verification)');
    expect(slowCopy).toContain('  • rename-first would leave core_userfield missing for ≈ 32 s (copy 400 MB ÷ 25 MB/s + verify 4 scans × 400 MB ÷ 100 MB/s; the CDC service buffers meanwhile): longer than the lock, so the live copy stays');
    const fastCopy = formatPlan(plan('modify core_userfield set sortkey compound (parent_id, id) --deep-copy', { tableSize: size, throughput: { scanMbPerSecond: 100, copyMbPerSecond: 80 } }));
    expect(fastCopy).toContain('  • rename-first would leave core_userfield missing for ≈ 21 s (copy 400 MB ÷ 80 MB/s + verify 4 scans × 400 MB ÷ 100 MB/s; the CDC service buffers meanwhile): shorter than the lock — add --strategy rename-first');
    const unknown = formatPlan(plan('modify core_userfield set sortkey compound (parent_id, id) --deep-copy'));
    expect(unknown).toContain('  • expected lock: unknown (the table size was not read from svv_table_info)');
    // the locked swap takes the new table's checksum for the post-swap verification
    const p = plan('modify core_userfield set sortkey compound (parent_id, id) --deep-copy');
    const swap = p.steps.find((s) => s.name === 'swap')!.actions[0]!;
    expect(swap.kind === 'batch' && swap.sql.some((x) => /^SELECT 'new' AS side, count\(\*\) AS row_count/.test(x) && x.includes('FROM ak_sumofus.new_core_userfield'))).toBe(true);
    const post = p.steps.find((s) => s.name === 'post-verify')!;
    expect(post.title).toBe('Verify after the swap: every row of old_core_userfield against core_userfield as it was at the swap');
  });

  it('a DMS table verifies after the log check, against the copy verified while the task was stopped', () => {
    const p = plan('modify core_usermailing alter column subject_id type bigint');
    const names = p.steps.map((s) => s.name);
    expect(names.slice(names.indexOf('log-check'))).toEqual(['log-check', 'post-verify', 'approve-drop', 'drop', 'schema-file']);
    const text = formatPlan(p);
    expect(text).toContain('strategy: the DMS task is stopped for the copy and the swap; changeTracking none in schemas/ak_sumofus/core_usermailing.yml is not needed for it');
  });

  it('verify titles say which rows they compare', () => {
    expect(plan('modify core_open set sortkey compound (created_at, id)').steps.find((s) => s.name === 'verify')?.title).toBe('Verify the copy (rows with id ≤ the copy mark)');
    expect(plan('modify core_action set sortkey compound (created_at, id) --deep-copy').steps.find((s) => s.name === 'verify')?.title).toBe('Verify the copy (rows with updated_at < the copy mark)');
    expect(plan('modify core_userfield set sortkey compound (parent_id, id) --deep-copy').steps.find((s) => s.name === 'verify')?.title).toBe('Verify the copy (whole table, while replication writes)');
    expect(plan('modify core_usermailing alter column subject_id type bigint').steps.find((s) => s.name === 'verify')?.title).toBe('Verify the copy (whole table)');
  });
});
