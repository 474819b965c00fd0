/**
 * Create one table exactly as schemas/ defines it (src/schema/render.ts renderCreateTable: columns, keys, informational
 * constraints, DISTKEY, SORTKEY), if it is missing: the library's create-table step with schemas/'s DDL. Used by
 * `schema apply` and `setup`, each table in foreign-key order (src/schema/registry.ts foreignKeyOrder).
 *
 * Done when the table exists (an existing table is never touched here: drift is `schema diff`'s business, changes are
 * `modify`'s). Undo drops only a table THIS job created (`created:<schema>.<table>`), and only while it is still empty:
 * a rollback never destroys rows someone (a replication service) loaded meanwhile.
 */
import type { RunbookDeps } from '../deps.js';
import type { Step } from '../runbook.js';
import { createTableStep } from './create-table.js';
import { renderCreateTable } from '../../schema/render.js';
import type { TableDef } from '../../schema/model.js';

/** The handle a create step sets once it created the table. */
export const createdHandle = (t: Pick<TableDef, 'schema' | 'name'>): string => `created:${t.schema}.${t.name}`;

/** Step name of the create step of `t` (unique per table, valid for runbookProblems). */
export const createStepName = (t: Pick<TableDef, 'schema' | 'name'>): string => `create-${t.schema}.${t.name}`.replace(/[^a-z0-9._-]/gi, '_');

export function createFromSchemasStep(t: TableDef): Step<RunbookDeps> {
  const key = `${t.schema}.${t.name}`;
  return createTableStep({
    name: createStepName(t),
    title: `Create ${key}`,
    schema: t.schema,
    table: t.name,
    sql: renderCreateTable(t),
    handle: `create:${key}`,
    statementName: (ctx) => `job ${ctx.job.id} create ${key}`,
    createdHandle: createdHandle(t),
    detail: (id) => `created (statement ${id})`,
    undo: { kind: 'if-empty', handle: `drop:${key}` },
  });
}
