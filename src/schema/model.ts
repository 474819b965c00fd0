/**
 * TableDef: the typed model of one Redshift table — the contract between schemas/, the DDL renderer and importer, the
 * catalog reader, the planner and the runbooks. Validated with zod at every boundary (files, imports, catalog reads).
 *
 * Conventions: names are stored as Redshift stores them (lower case unless the file says otherwise); types are stored in
 * canonical form (see types.ts); a default is a restricted SQL literal (see DEFAULT_LITERAL) so it can be rendered safely.
 */
import { z } from 'zod';
import { checkIdentifier } from './identifiers.js';
import { ENCODINGS, canonicalType, parseRedshiftType } from './types.js';

export const identifier = z.string().superRefine((s, ctx) => {
  const c = checkIdentifier(s);
  if (!c.ok) ctx.addIssue({ code: 'custom', message: c.error });
});

/** Type as written in a file: any accepted spelling; parsed and turned into the canonical spelling. */
export const redshiftType = z.string().transform((s, ctx) => {
  const p = parseRedshiftType(s);
  if (!p.ok) {
    ctx.addIssue({ code: 'custom', message: p.error });
    return z.NEVER;
  }
  return canonicalType(s);
});

/**
 * Defaults Redshift tables here use: NULL, numbers, string literals (quotes doubled), booleans and the current-time
 * functions. Anything else is refused rather than rendered into DDL.
 */
export const DEFAULT_LITERAL = /^(?:null|true|false|-?\d+(?:\.\d+)?|'(?:[^'\\]|'')*'|getdate\(\)|sysdate|current_date|current_timestamp)$/i;

export const defaultLiteral = z
  .string()
  .refine((s) => DEFAULT_LITERAL.test(s.trim()), {
    message: "default must be NULL, a number, a quoted string without backslashes ('it''s'), true/false, getdate(), sysdate, current_date or current_timestamp",
  })
  .transform((s) => {
    const t = s.trim();
    return /^'/.test(t) ? t : t.toUpperCase() === 'NULL' ? 'NULL' : /^(true|false|getdate\(\)|sysdate|current_date|current_timestamp)$/i.test(t) ? t.toLowerCase() : t;
  });

export const columnDef = z.strictObject({
  name: identifier,
  type: redshiftType,
  notNull: z.boolean().default(false),
  default: defaultLiteral.optional(),
  encode: z.enum(ENCODINGS).optional(),
});
export type ColumnDef = z.output<typeof columnDef>;

export const foreignKeyDef = z.strictObject({
  columns: z.array(identifier).min(1),
  references: z.strictObject({
    schema: identifier.optional(),
    table: identifier,
    columns: z.array(identifier).min(1),
  }),
});
export type ForeignKeyDef = z.output<typeof foreignKeyDef>;

/** AWS DMS identifiers: 1–255 letters, digits, hyphens; first a letter; no trailing hyphen, no two hyphens in a row. */
export const DMS_IDENTIFIER = /^(?!.*--)[A-Za-z](?:[A-Za-z0-9-]{0,253}[A-Za-z0-9])?$/;

export const replicationDef = z.discriminatedUnion('provider', [
  z.strictObject({ provider: z.literal('cdc'), service: z.string().min(1).default('flydata') }),
  z.strictObject({
    provider: z.literal('dms'),
    /** replication task identifier (the ARN is looked up with DescribeReplicationTasks) */
    taskId: z
      .string()
      .regex(
        DMS_IDENTIFIER,
        'a DMS task identifier is 1–255 letters, digits and hyphens, starts with a letter, and has no trailing or double hyphen',
      ),
    replicationInstance: z.string().min(1).optional(),
    logGroup: z.string().min(1),
    /** CloudWatch log stream (dms-task-<resource id>); optional: all streams of the group are read when absent */
    logStream: z.string().min(1).optional(),
  }),
]);
export type ReplicationDef = z.output<typeof replicationDef>;

/**
 * How changes to the table can be found (the live copy's delta, the post-swap verification) — declared, never guessed
 * from column names:
 * - `{ updated_at: <column> }`: every insert and update sets this timestamp column;
 * - `{ append_only: <id column> }`: the table only gets inserts (no updates, no deletes), with increasing integer ids;
 * - `none`: nothing tells a changed row from an unchanged one (a live copy compares whole tables under its lock).
 */
export const changeTrackingDef = z.union([
  z.literal('none'),
  z.strictObject({ updated_at: identifier }),
  z.strictObject({ append_only: identifier }),
]);
export type ChangeTracking = z.output<typeof changeTrackingDef>;

/** The column a declaration names (undefined for none / not declared). */
export function changeColumn(ct: ChangeTracking | undefined): { kind: 'updated_at' | 'append_only'; column: string } | undefined {
  if (ct === undefined || ct === 'none') return undefined;
  return 'updated_at' in ct ? { kind: 'updated_at', column: ct.updated_at } : { kind: 'append_only', column: ct.append_only };
}

/** `none`, `{ updated_at: updated_at }`, `{ append_only: id }` — as schemas/ files write it. */
export function changeTrackingText(ct: ChangeTracking | undefined): string {
  const c = changeColumn(ct);
  return c ? `{ ${c.kind}: ${c.column} }` : ct === 'none' ? 'none' : '(not declared)';
}

export const DIST_STYLES = ['AUTO', 'EVEN', 'ALL', 'KEY'] as const;
export const SORT_STYLES = ['NONE', 'AUTO', 'COMPOUND', 'INTERLEAVED'] as const;

const tableShape = z.strictObject({
  schema: identifier,
  name: identifier,
  columns: z.array(columnDef).min(1),
  primaryKey: z.array(identifier).min(1).optional(),
  // defaults are functions so every table gets its own arrays/objects (a shared default would leak mutations across tables)
  unique: z.array(z.array(identifier).min(1)).default(() => []),
  foreignKeys: z.array(foreignKeyDef).default(() => []),
  distStyle: z.enum(DIST_STYLES).default('AUTO'),
  distKey: identifier.optional(),
  sortKey: z
    .strictObject({ style: z.enum(SORT_STYLES), columns: z.array(identifier).default(() => []) })
    .default(() => ({ style: 'NONE' as const, columns: [] })),
  replication: replicationDef.default(() => ({ provider: 'cdc' as const, service: 'flydata' })),
  /** how changed rows are found; optional, and absent means nothing is known (treated as none) */
  changeTracking: changeTrackingDef.optional(),
});

/** Checks that need the whole table: every key names a column, dist/sort styles agree with their columns. */
export const tableDef = tableShape.superRefine((t, ctx) => {
  const names = new Set<string>();
  t.columns.forEach((c, i) => {
    if (names.has(c.name)) ctx.addIssue({ code: 'custom', path: ['columns', i, 'name'], message: `duplicate column "${c.name}"` });
    names.add(c.name);
  });
  const known = (col: string, path: (string | number)[], what: string): void => {
    if (!names.has(col)) ctx.addIssue({ code: 'custom', path, message: `${what} "${col}" is not a column of ${t.name}` });
  };
  const twice = (cols: readonly string[], path: (string | number)[], what: string): void => {
    const seenCols = new Set<string>();
    cols.forEach((c, i) => {
      if (seenCols.has(c)) ctx.addIssue({ code: 'custom', path: [...path, i], message: `${what} column "${c}" appears twice` });
      seenCols.add(c);
    });
  };
  t.primaryKey?.forEach((c, i) => known(c, ['primaryKey', i], 'primary key column'));
  if (t.primaryKey) twice(t.primaryKey, ['primaryKey'], 'primary key');
  t.unique.forEach((u, i) => twice(u, ['unique', i], 'unique key'));
  t.unique.forEach((u, i) => u.forEach((c, j) => known(c, ['unique', i, j], 'unique column')));
  t.foreignKeys.forEach((fk, i) => {
    fk.columns.forEach((c, j) => known(c, ['foreignKeys', i, 'columns', j], 'foreign key column'));
    if (fk.columns.length !== fk.references.columns.length)
      ctx.addIssue({ code: 'custom', path: ['foreignKeys', i], message: 'foreign key and referenced column lists differ in length' });
  });
  if (t.distStyle === 'KEY') {
    if (t.distKey === undefined) ctx.addIssue({ code: 'custom', path: ['distKey'], message: 'distStyle KEY needs a distKey' });
    else known(t.distKey, ['distKey'], 'distkey');
  } else if (t.distKey !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['distKey'], message: `a distKey needs distStyle KEY (found ${t.distStyle})` });
  }
  const sk = t.sortKey;
  if ((sk.style === 'COMPOUND' || sk.style === 'INTERLEAVED') && sk.columns.length === 0)
    ctx.addIssue({ code: 'custom', path: ['sortKey', 'columns'], message: `a ${sk.style} sort key needs at least one column` });
  if ((sk.style === 'NONE' || sk.style === 'AUTO') && sk.columns.length > 0)
    ctx.addIssue({ code: 'custom', path: ['sortKey', 'columns'], message: `sort key style ${sk.style} takes no columns` });
  if (sk.style === 'INTERLEAVED' && sk.columns.length > 8)
    ctx.addIssue({ code: 'custom', path: ['sortKey', 'columns'], message: 'an interleaved sort key has at most 8 columns' });
  if (sk.columns.length > 400) ctx.addIssue({ code: 'custom', path: ['sortKey', 'columns'], message: 'a sort key has at most 400 columns' });
  const seen = new Set<string>();
  sk.columns.forEach((c, i) => {
    known(c, ['sortKey', 'columns', i], 'sort key column');
    if (seen.has(c)) ctx.addIssue({ code: 'custom', path: ['sortKey', 'columns', i], message: `sort key column "${c}" appears twice` });
    seen.add(c);
  });
  const ct = changeColumn(t.changeTracking);
  if (ct) {
    const path = ['changeTracking', ct.kind];
    const c = t.columns.find((x) => x.name === ct.column);
    const p = c ? parseRedshiftType(c.type) : undefined;
    if (!c) ctx.addIssue({ code: 'custom', path, message: `"${ct.column}" is not a column of ${t.name}` });
    else if (ct.kind === 'updated_at' && !(p?.ok && (p.type.kind === 'timestamp' || p.type.kind === 'timestamptz')))
      ctx.addIssue({ code: 'custom', path, message: `${c.name} is ${c.type}; the change column must be a timestamp` });
    else if (ct.kind === 'append_only' && !(p?.ok && (p.type.kind === 'smallint' || p.type.kind === 'integer' || p.type.kind === 'bigint')))
      ctx.addIssue({ code: 'custom', path, message: `${c.name} is ${c.type}; an append-only table is tracked by an integer id column` });
  }
  if (t.columns.length > 1600) ctx.addIssue({ code: 'custom', path: ['columns'], message: 'a table has at most 1,600 columns' });
});

/** What a schemas/ file may hold (defaults not yet applied). */
export type TableDefInput = z.input<typeof tableDef>;
/** A validated table: defaults applied, types canonical. */
export type TableDef = z.output<typeof tableDef>;

export function tableKey(t: { schema: string; name: string }): string {
  return `${t.schema}.${t.name}`;
}

/** Turn a zod error into one line per problem: `path: message`. */
export function formatIssues(err: z.ZodError): string[] {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
}
