/**
 * `schema apply <table…>|--all`: create the tables schemas/ defines and the warehouse lacks, in foreign-key order, behind
 * one approval. Existing tables are never touched (drift is `schema diff`'s business; changes are `modify`'s).
 *
 * Steps: preflight (what exists) → approval → create schema → one step per table → verify (the catalog matches schemas/).
 * Each create step (the library's steps/create-table.ts) looks at the catalog first (isDone), so a resumed job skips
 * what it already created. Undo drops a table only if this job created it AND it is still empty: a rollback never
 * destroys rows someone loaded meanwhile.
 */
import { z } from 'zod';
import { defineRunbook, type PlanContext, type Step, type StepContext } from '../runbook.js';
import type { RunbookDeps } from '../deps.js';
import { runOnce } from '../statements.js';
import { createTableStep } from '../steps/create-table.js';
import { tableExists } from '../steps/table-names.js';
import { tableRef } from '../../commands/types.js';
import { foreignKeyOrder } from '../../schema/registry.js';
import { renderCreateTable } from '../../schema/render.js';
import { readTable } from '../../schema/catalog.js';
import { diffTable, formatDrift } from '../../schema/diff.js';
import { quoteIdentAlways } from '../../schema/identifiers.js';
import type { TableDef } from '../../schema/model.js';

export const schemaApplyParams = z.strictObject({ tables: z.array(tableRef).min(1) });
export type SchemaApplyParams = z.output<typeof schemaApplyParams>;

type Ctx = StepContext<RunbookDeps>;

function resolve(params: SchemaApplyParams, deps: RunbookDeps): TableDef[] {
  const defs = params.tables.map((r) => {
    const t = deps.registry.get(r.schema, r.name);
    if (!t) throw new Error(`${r.schema}.${r.name} is not in ${deps.registry.dir}; was the file removed after the job was queued?`);
    return t;
  });
  return foreignKeyOrder(defs);
}

async function schemaExists(ctx: Ctx, schema: string): Promise<boolean> {
  const r = await ctx.deps.warehouse.query('SELECT nspname FROM pg_namespace WHERE nspname = :schema', { schema });
  return r.rows.length > 0;
}


async function runStatement(ctx: Ctx, handle: string, sql: string, name: string): Promise<string> {
  return (await runOnce(ctx, handle, { sql }, name)).id;
}

export const schemaApplyRunbook = defineRunbook<RunbookDeps, SchemaApplyParams>({
  kind: 'schema-apply',
  paramsSchema: schemaApplyParams,
  build(params, deps) {
    const tables = resolve(params, deps);
    const schemas = [...new Set(tables.map((t) => t.schema))];
    const names = tables.map((t) => `${t.schema}.${t.name}`);

    const preflight: Step<RunbookDeps> = {
      name: 'preflight',
      title: `Look up ${names.length === 1 ? names[0] : `${names.length} tables`} in the catalog`,
      plan: () => [{ kind: 'check', text: `catalog: which of ${names.join(', ')} exist` }],
      isDone: async () => false,
      run: async (ctx) => {
        const present: string[] = [];
        for (const t of tables) if (await tableExists(ctx, t.schema, t.name)) present.push(`${t.schema}.${t.name}`);
        const missing = names.filter((n) => !present.includes(n));
        return missing.length === 0
          ? `all ${names.length} exist already: nothing will be created`
          : `to create: ${missing.join(', ')}${present.length ? `; exist (left alone): ${present.join(', ')}` : ''}`;
      },
    };

    const approval: Step<RunbookDeps> = {
      name: 'approve-create',
      title: 'Approval to create the tables',
      approval: {
        prompt: (ctx: PlanContext<RunbookDeps>) =>
          `Create ${names.length === 1 ? names[0] : `${names.length} tables (${names.join(', ')})`} in the warehouse as schemas/ defines? Requested by <@${ctx.job.requester}>.`,
      },
      plan: () => [],
      isDone: async () => false,
      run: async () => 'approved',
    };

    const createSchemas: Step<RunbookDeps> = {
      name: 'create-schema',
      title: `Create schema ${schemas.join(', ')} if missing`,
      plan: () => schemas.map((s) => ({ kind: 'sql' as const, text: `CREATE SCHEMA IF NOT EXISTS ${quoteIdentAlways(s)}` })),
      isDone: async (ctx) => {
        for (const s of schemas) if (!(await schemaExists(ctx, s))) return false;
        return true;
      },
      run: async (ctx) => {
        for (const s of schemas) await runStatement(ctx, `schema:${s}`, `CREATE SCHEMA IF NOT EXISTS ${quoteIdentAlways(s)}`, `job ${ctx.job.id} create schema`);
        return `schema ${schemas.join(', ')} ready`;
      },
    };

    // the library's create step: done when the table exists; undo drops it only if this job created it and it is empty
    const creates: Step<RunbookDeps>[] = tables.map((t) => {
      const key = `${t.schema}.${t.name}`;
      return createTableStep({
        name: `create-${t.schema}.${t.name}`.replace(/[^a-z0-9._-]/gi, '_'),
        title: `Create ${key}`,
        schema: t.schema,
        table: t.name,
        sql: renderCreateTable(t),
        handle: `create:${key}`,
        statementName: (ctx) => `job ${ctx.job.id} create ${key}`,
        createdHandle: `created:${key}`,
        detail: (id) => `created (statement ${id})`,
        undo: { kind: 'if-empty', handle: `drop:${key}` },
      });
    });

    const verify: Step<RunbookDeps> = {
      name: 'verify',
      title: 'Verify the catalog matches schemas/',
      plan: () => [{ kind: 'check', text: `catalog (pg_table_def, svv_table_info) of ${names.join(', ')} = schemas/` }],
      isDone: async () => false,
      run: async (ctx) => {
        const problems: string[] = [];
        for (const t of tables) {
          const live = await readTable(ctx.deps.warehouse, t.schema, t.name);
          problems.push(...diffTable(t, live).map((d) => `${t.schema}.${t.name}: ${formatDrift(d)}`));
        }
        if (problems.length > 0) throw new Error(`the warehouse differs from schemas/ after the apply:\n${problems.join('\n')}`);
        return `${names.length} table${names.length === 1 ? '' : 's'} match schemas/`;
      },
    };

    return { kind: 'schema-apply', steps: [preflight, approval, createSchemas, ...creates, verify] };
  },
});
