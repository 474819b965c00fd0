/**
 * Source schema (information_schema, or a dump read by mysql-dump.ts) → proposed Redshift TableDefs, with the CDC
 * service's type conventions (mysql-types.ts). Names fold to lower case as Redshift stores them. Dist/sort keys and
 * replication come from the existing schemas/ file when there is one (they are Redshift decisions the source cannot
 * know); otherwise AUTO / no sort key / cdc. A table with a column that cannot be mapped is not proposed, and says why.
 */
import { formatIssues, tableDef, type TableDef, type TableDefInput } from '../schema/model.js';
import type { Registry } from '../schema/registry.js';
import { mapMysqlType, mysqlDefault } from './mysql-types.js';
import type { SourceLocation, SourceSchema } from './port.js';

export interface ProposeOptions {
  /** the Redshift schema of the proposed tables */
  targetSchema: string;
  /** dumps: prefixes every location `file:line:col` */
  file?: string;
  /** keep dist/sort keys and replication of tables schemas/ already has */
  registry?: Pick<Registry, 'get'>;
}

export interface Proposal {
  tables: TableDef[];
  /** lossy but accepted mappings, defaults that could not be kept, … */
  notes: string[];
  /** tables not proposed, and why */
  problems: string[];
}

const fold = (s: string): string => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

export function proposeTables(src: SourceSchema, o: ProposeOptions): Proposal {
  const notes: string[] = [];
  const problems: string[] = [];
  const tables: TableDef[] = [];
  const where = (at: SourceLocation | undefined): string => (o.file !== undefined && at !== undefined ? `${o.file}:${at.line}:${at.col}: ` : o.file !== undefined ? `${o.file}: ` : '');
  for (const rawTable of src.tables) {
    const name = fold(rawTable);
    const cols = src.columns.filter((c) => c.table === rawTable).sort((a, b) => a.position - b.position);
    const tableProblems: string[] = [];
    const columns: NonNullable<TableDefInput['columns']> = [];
    for (const c of cols) {
      const m = mapMysqlType(c.columnType, c.charset);
      const label = `${name}.${fold(c.name)}`;
      if (!m.ok) {
        tableProblems.push(`${where(c.at)}${label}: ${m.error} — the table is not proposed`);
        continue;
      }
      for (const n of m.notes) notes.push(`${where(c.at)}${label}: ${n}`);
      const d = mysqlDefault(c.default, m.type);
      if (!d.ok) notes.push(`${where(c.at)}${label}: ${d.error}; no default proposed`);
      if (/generated/.test(c.extra)) notes.push(`${where(c.at)}${label}: a generated column in the source; replicated as a plain column`);
      columns.push({ name: fold(c.name), type: m.type, notNull: !c.nullable, ...(d.ok && d.value !== undefined ? { default: d.value } : {}) });
    }
    if (tableProblems.length > 0 || columns.length === 0) {
      problems.push(...(tableProblems.length > 0 ? tableProblems : [`${where(src.tableAt?.[rawTable])}${name}: no columns read — the table is not proposed`]));
      continue;
    }
    const idx = src.indexes.filter((i) => i.table === rawTable && i.unique);
    const pk = idx.find((i) => i.name === 'PRIMARY');
    const unique = idx.filter((i) => i.name !== 'PRIMARY').map((i) => i.columns.map(fold));
    const foreignKeys = src.foreignKeys.filter((f) => f.table === rawTable).map((f) => ({ columns: f.columns.map(fold), references: { table: fold(f.refTable), columns: f.refColumns.map(fold) } }));
    const existing = o.registry?.get(o.targetSchema, name);
    const input: TableDefInput = {
      schema: o.targetSchema,
      name,
      columns,
      ...(pk ? { primaryKey: pk.columns.map(fold) } : {}),
      unique,
      foreignKeys,
      ...(existing
        ? { distStyle: existing.distStyle, ...(existing.distKey ? { distKey: existing.distKey } : {}), sortKey: existing.sortKey, replication: existing.replication }
        : {}),
    };
    let parsed = tableDef.safeParse(input);
    if (!parsed.success && existing) {
      // the kept dist/sort keys name a column the source no longer has: propose without them, and say so
      notes.push(`${where(src.tableAt?.[rawTable])}${name}: the dist/sort keys of schemas/ do not fit the source's columns; proposed without them`);
      parsed = tableDef.safeParse({ ...input, distStyle: 'AUTO', distKey: undefined, sortKey: undefined });
    }
    if (!parsed.success) {
      problems.push(`${where(src.tableAt?.[rawTable])}${name}: ${formatIssues(parsed.error).join('; ')} — the table is not proposed`);
      continue;
    }
    tables.push(parsed.data);
  }
  return { tables, notes, problems };
}
