/**
 * applyOps: the current TableDef + a `modify` command's ops → the new TableDef and, for a deep copy, where each of its
 * columns gets its values (the explicit column mapping — never `SELECT *`).
 *
 * Ops apply in order, each to the table the earlier ones left. Renames follow into the primary/unique/foreign/dist/sort
 * keys. A dropped column leaves the unique keys and this table's own foreign keys that name it (informational in
 * Redshift; said in `notes`); dropping a primary key column is refused; dropping a dist/sort key column is allowed only
 * when the same command sets a new dist/sort key. Type changes are checked against casts.ts (some conversions are
 * refused) and a column's default must still fit its new type. The result is validated with the model's tableDef.
 */
import { opText } from '../commands/ops.js';
import { checkDefault, parseStoredDefault } from '../commands/literals.js';
import type { Op } from '../commands/types.js';
import { changeColumn, formatIssues, tableDef, type ColumnDef, type TableDef } from '../schema/model.js';
import { parseRedshiftType, suggest } from '../schema/types.js';
import { castRule } from './casts.js';
import type { ColumnSource } from './types.js';

export type ApplyResult =
  | { ok: true; next: TableDef; mapping: ColumnSource[]; notes: string[] }
  | { ok: false; error: string };

interface Draft {
  col: ColumnDef;
  /** the column's name in the current table; undefined for an added column */
  from?: string;
}

/** `[id, created_at]` → "id, created_at" */
const list = (cols: readonly string[]): string => cols.join(', ');

/** The op as the user would write it, for messages: `alter column link type bigint` (an added column by name only). */
export function describeOp(op: Op): string {
  return op.op === 'add_column' ? `add column ${op.column.name}` : opText(op);
}

/** A default literal that does not fit the column's type, as a message; undefined when it fits (or there is none). */
function defaultProblem(c: ColumnDef): string | undefined {
  if (c.default === undefined) return undefined;
  const lit = parseStoredDefault(c.default);
  const type = parseRedshiftType(c.type);
  if (!type.ok) return type.error;
  if (lit === undefined) return `default ${c.default} is not a literal redshift-ops can check`;
  return checkDefault(lit, type.type)?.message;
}

export function applyOps(current: TableDef, ops: readonly Op[]): ApplyResult {
  const t: TableDef = structuredClone(current);
  const cols: Draft[] = t.columns.map((c) => ({ col: c, from: c.name }));
  const notes: string[] = [];
  const where = `${current.schema}.${current.name}`;
  const dropped = new Set<string>();

  const find = (name: string): Draft | undefined => cols.find((d) => d.col.name === name);
  const unknown = (name: string, what: string): ApplyResult => {
    const hint = dropped.has(name) ? ' (this command drops it earlier)' : (() => {
      const s = suggest(name, cols.map((d) => d.col.name));
      return s ? ` — did you mean ${s}?` : '';
    })();
    return { ok: false, error: `${what}: ${where} has no column "${name}"${hint}` };
  };
  const renameIn = (arr: string[], from: string, to: string): string[] => arr.map((c) => (c === from ? to : c));
  const selfRef = (schema: string | undefined, table: string): boolean => (schema ?? t.schema) === t.schema && table === t.name;

  for (const op of ops) {
    const what = describeOp(op);
    switch (op.op) {
      case 'add_column': {
        const c = op.column;
        if (find(c.name)) return { ok: false, error: `${what}: ${where} already has a column "${c.name}"` };
        const p = defaultProblem(c);
        if (p) return { ok: false, error: `${what}: ${p}` };
        if (c.notNull && (c.default === undefined || c.default === 'NULL'))
          return { ok: false, error: `${what}: a NOT NULL column added to a table with rows needs a non-NULL default` };
        cols.push({ col: { ...c } });
        break;
      }
      case 'drop_column': {
        const d = find(op.column);
        if (!d) return unknown(op.column, what);
        if (t.primaryKey?.includes(op.column))
          return { ok: false, error: `${what}: ${op.column} is in the primary key of ${where} (${list(t.primaryKey)}); redshift-ops does not drop primary key columns` };
        if (cols.length === 1) return { ok: false, error: `${what}: it is the last column of ${where}; a table needs at least one column` };
        cols.splice(cols.indexOf(d), 1);
        dropped.add(op.column);
        const uniques = t.unique.filter((u) => u.includes(op.column));
        if (uniques.length) {
          t.unique = t.unique.filter((u) => !u.includes(op.column));
          notes.push(`the UNIQUE key (${uniques.map(list).join('), (')}) goes with ${op.column}`);
        }
        const fks = t.foreignKeys.filter((fk) => fk.columns.includes(op.column));
        if (fks.length) {
          t.foreignKeys = t.foreignKeys.filter((fk) => !fk.columns.includes(op.column));
          for (const fk of fks) notes.push(`the foreign key (${list(fk.columns)}) → ${fk.references.table} (${list(fk.references.columns)}) goes with ${op.column}`);
        }
        // a self-reference to the dropped column cannot stay either
        const selfFks = t.foreignKeys.filter((fk) => selfRef(fk.references.schema, fk.references.table) && fk.references.columns.includes(op.column));
        if (selfFks.length) return { ok: false, error: `${what}: ${op.column} is referenced by the foreign key (${list(selfFks[0]!.columns)}) of ${where} itself; drop that column first` };
        break;
      }
      case 'rename_column': {
        const d = find(op.from);
        if (!d) return unknown(op.from, what);
        if (find(op.to)) return { ok: false, error: `${what}: ${where} already has a column "${op.to}"` };
        d.col = { ...d.col, name: op.to };
        if (t.primaryKey) t.primaryKey = renameIn(t.primaryKey, op.from, op.to);
        t.unique = t.unique.map((u) => renameIn(u, op.from, op.to));
        t.foreignKeys = t.foreignKeys.map((fk) => ({
          columns: renameIn(fk.columns, op.from, op.to),
          references: selfRef(fk.references.schema, fk.references.table)
            ? { ...fk.references, columns: renameIn(fk.references.columns, op.from, op.to) }
            : fk.references,
        }));
        if (t.distKey === op.from) t.distKey = op.to;
        t.sortKey = { ...t.sortKey, columns: renameIn(t.sortKey.columns, op.from, op.to) };
        break;
      }
      case 'alter_column_type': {
        const d = find(op.column);
        if (!d) return unknown(op.column, what);
        if (d.col.type === op.type) return { ok: false, error: `${what}: ${where}.${op.column} is already ${op.type}; nothing to change` };
        const next = { ...d.col, type: op.type };
        const p = defaultProblem(next);
        if (p) return { ok: false, error: `${what}: the column's ${p}; it cannot keep that default as ${op.type}` };
        d.col = next;
        break;
      }
      case 'alter_column_encode': {
        const d = find(op.column);
        if (!d) return unknown(op.column, what);
        if (d.col.encode === op.encode) return { ok: false, error: `${what}: ${where}.${op.column} already has encoding ${op.encode}; nothing to change` };
        d.col = { ...d.col, encode: op.encode };
        break;
      }
      case 'set_distkey': {
        if (!find(op.column)) return unknown(op.column, what);
        if (t.distStyle === 'KEY' && t.distKey === op.column) return { ok: false, error: `${what}: ${where} is already distributed by ${op.column}; nothing to change` };
        t.distStyle = 'KEY';
        t.distKey = op.column;
        break;
      }
      case 'set_diststyle': {
        if (t.distStyle === op.style) return { ok: false, error: `${what}: ${where} already has DISTSTYLE ${op.style}; nothing to change` };
        t.distStyle = op.style;
        delete t.distKey;
        break;
      }
      case 'set_sortkey': {
        for (const c of op.columns) if (!find(c)) return unknown(c, what);
        if (t.sortKey.style === op.style && list(t.sortKey.columns) === list(op.columns))
          return { ok: false, error: `${what}: ${where} already has that sort key; nothing to change` };
        t.sortKey = { style: op.style, columns: [...op.columns] };
        break;
      }
    }
  }

  // keys that still name a dropped column: the command dropped a key column without setting a new key
  if (t.distKey !== undefined && !find(t.distKey))
    return {
      ok: false,
      error: `drop column ${t.distKey}: it is the distribution key of ${where}; set a new one in the same command (\`set distkey <column>\` or \`set diststyle even\`)`,
    };
  const goneSort = t.sortKey.columns.filter((c) => !find(c));
  if (goneSort.length)
    return {
      ok: false,
      error: `drop column ${goneSort[0]}: it is in the sort key of ${where} (${t.sortKey.style.toLowerCase()} ${list(t.sortKey.columns)}); set a new sort key in the same command (\`set sortkey compound (…)\`)`,
    };

  t.columns = cols.map((d) => d.col);
  // the declared change column follows a rename; a table that loses it is no longer tracked
  const ct = changeColumn(current.changeTracking);
  if (ct) {
    const d = cols.find((x) => x.from === ct.column);
    if (!d) {
      t.changeTracking = 'none';
      notes.push(`${where} loses its change column ${ct.column}: schemas/ will declare changeTracking none`);
    } else t.changeTracking = ct.kind === 'updated_at' ? { updated_at: d.col.name } : { append_only: d.col.name };
  }
  const parsed = tableDef.safeParse(t);
  if (!parsed.success) return { ok: false, error: `the changed ${where} is not a valid table: ${formatIssues(parsed.error).join('; ')}` };
  const next = parsed.data;

  const mapping: ColumnSource[] = [];
  for (const d of cols) {
    if (d.from === undefined) {
      mapping.push({ target: d.col.name, kind: 'default' });
      continue;
    }
    const old = current.columns.find((c) => c.name === d.from)!;
    if (old.type === d.col.type) {
      mapping.push({ target: d.col.name, kind: 'column', from: old.name });
      continue;
    }
    const rule = castRule(old.type, d.col.type, old.name);
    if (rule.kind === 'refuse') return { ok: false, error: rule.reason };
    mapping.push({ target: d.col.name, kind: 'cast', from: old.name, type: d.col.type });
  }
  return { ok: true, next, mapping, notes };
}
