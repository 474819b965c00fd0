/**
 * TableDef → the CREATE TABLE statement Redshift runs. Deterministic (same TableDef, same text, byte for byte): one column
 * per line, table constraints after the columns, then DISTSTYLE / DISTKEY / SORTKEY each on their own line.
 *
 * Every name goes through quoteIdent, every type through formatRedshiftType (the allow-list) and every default is checked
 * against DEFAULT_LITERAL again here, so nothing but validated text reaches the SQL (invariant 5).
 * importDdl (import.ts) reads this output back to the same TableDef; test/unit/import.test.ts proves it for every table.
 */
import { qualified, quoteIdent } from './identifiers.js';
import { DEFAULT_LITERAL, type ColumnDef, type ForeignKeyDef, type TableDef } from './model.js';
import { canonicalType, isEncoding } from './types.js';

export interface RenderOptions {
  /** table name to create instead of t.name (a runbook renders `new_<t>`) */
  name?: string;
  /** schema to create the table in instead of t.schema; same-schema foreign keys follow it */
  schema?: string;
  /** CREATE TABLE IF NOT EXISTS */
  ifNotExists?: boolean;
  /** render PRIMARY KEY / UNIQUE / FOREIGN KEY table constraints (default true) */
  constraints?: boolean;
}

const INDENT = '  ';

/** One column as it appears in CREATE TABLE or ALTER TABLE … ADD COLUMN: `name type [DEFAULT lit] [NOT NULL] [ENCODE enc]`. */
export function renderColumnDef(c: ColumnDef): string {
  const parts = [quoteIdent(c.name), canonicalType(c.type)];
  if (c.default !== undefined) parts.push(`DEFAULT ${renderDefault(c.default, c.name)}`);
  if (c.notNull) parts.push('NOT NULL');
  if (c.encode !== undefined) {
    if (!isEncoding(c.encode)) throw new Error(`column ${c.name}: "${String(c.encode)}" is not a Redshift column encoding`);
    parts.push(`ENCODE ${c.encode}`);
  }
  return parts.join(' ');
}

/** The full CREATE TABLE statement, ending with `;` and a newline. */
export function renderCreateTable(t: TableDef, opts: RenderOptions = {}): string {
  const schema = opts.schema ?? t.schema;
  const name = opts.name ?? t.name;
  const withConstraints = opts.constraints ?? true;

  const items = t.columns.map(renderColumnDef);
  if (withConstraints) {
    if (t.primaryKey !== undefined && t.primaryKey.length > 0) items.push(`PRIMARY KEY (${columnList(t.primaryKey)})`);
    for (const u of t.unique) items.push(`UNIQUE (${columnList(u)})`);
    for (const fk of t.foreignKeys) items.push(renderForeignKey(fk, t, schema, name));
  }

  const lines = [`CREATE TABLE ${opts.ifNotExists ? 'IF NOT EXISTS ' : ''}${qualified(schema, name)} (`];
  items.forEach((item, i) => lines.push(`${INDENT}${item}${i < items.length - 1 ? ',' : ''}`));
  lines.push(')');

  if (t.distStyle === 'KEY') {
    if (t.distKey === undefined) throw new Error(`table ${t.schema}.${t.name}: DISTSTYLE KEY needs a distKey`);
    lines.push('DISTSTYLE KEY', `DISTKEY (${quoteIdent(t.distKey)})`);
  } else {
    lines.push(`DISTSTYLE ${t.distStyle}`);
  }

  switch (t.sortKey.style) {
    case 'NONE':
      break;
    case 'AUTO':
      lines.push('SORTKEY AUTO');
      break;
    case 'COMPOUND':
    case 'INTERLEAVED':
      lines.push(`${t.sortKey.style} SORTKEY (${columnList(t.sortKey.columns)})`);
      break;
  }

  return `${lines.join('\n')};\n`;
}

function columnList(cols: readonly string[]): string {
  return cols.map(quoteIdent).join(', ');
}

/**
 * A foreign key names the referenced table with its schema. A reference without a schema means "the table's own schema",
 * so it follows the table when it is rendered into another schema (opts.schema). A reference to the table itself
 * (share_link.referring_share_id) follows opts.name too: `new_share_link` refers to itself, not to the table it replaces.
 */
function renderForeignKey(fk: ForeignKeyDef, t: TableDef, renderedSchema: string, renderedName: string): string {
  const sameSchema = fk.references.schema === undefined || fk.references.schema === t.schema;
  const self = sameSchema && fk.references.table === t.name;
  const refSchema = sameSchema ? renderedSchema : fk.references.schema!;
  const refTable = self ? renderedName : fk.references.table;
  return `FOREIGN KEY (${columnList(fk.columns)}) REFERENCES ${qualified(refSchema, refTable)} (${columnList(fk.references.columns)})`;
}

function renderDefault(value: string, column: string): string {
  const v = value.trim();
  // Redshift treats a backslash in a string literal as an escape: '\' would not end the string. Refuse rather than guess.
  if (v.includes('\\')) throw new Error(`column ${column}: default ${JSON.stringify(value)} contains a backslash, which Redshift reads as an escape; remove it`);
  if (!DEFAULT_LITERAL.test(v)) throw new Error(`column ${column}: default ${JSON.stringify(value)} is not a literal the renderer accepts`);
  return v;
}
