/**
 * `schema apply <table…>|--all`: create the tables schemas/ defines and the warehouse lacks, in foreign-key order, behind
 * one approval. Existing tables are never touched (drift is `schema diff`'s business; changes are `modify`'s).
 *
 * Steps: preflight (what exists) → approval → create schema → one step per table → verify (the catalog matches schemas/).
 * The create steps are the library's (steps/create-schema.ts, steps/create-from-schemas.ts: the create-table step with
 * schemas/'s DDL), shared with `setup`: each looks at the catalog first (isDone), so a resumed job skips what it already
 * created. Undo drops a table only if this job created it AND it is still empty: a rollback never destroys rows
 * someone loaded meanwhile.
 */
import { z } from 'zod';
import { defineRunbook, type PlanContext, type Step } from '../runbook.js';
import type { RunbookDeps } from '../deps.js';
import { tableExists } from '../steps/table-names.js';
import { createSchemaStep } from '../steps/create-schema.js';
import { createFromSchemasStep } from '../steps/create-from-schemas.js';
import { verifySchemasStep } from '../steps/verify-schemas.js';
import { tableRef } from '../../commands/types.js';
import { foreignKeyOrder } from '../../schema/registry.js';
import type { TableDef } from '../../schema/model.js';

export const schemaApplyParams = z.strictObject({ tables: z.array(tableRef).min(1) });
export type SchemaApplyParams = z.output<typeof schemaApplyParams>;

function resolve(params: SchemaApplyParams, deps: RunbookDeps): TableDef[] {
  const defs = params.tables.map((r) => {
    const t = deps.registry.get(r.schema, r.name);
    if (!t) throw new Error(`${r.schema}.${r.name} is not in ${deps.registry.dir}; was the file removed after the job was queued?`);
    return t;
  });
  return foreignKeyOrder(defs);
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

    const createSchemas = createSchemaStep(schemas);
    const creates = tables.map(createFromSchemasStep);
    const verify = verifySchemasStep(tables);

    return { kind: 'schema-apply', steps: [preflight, approval, createSchemas, ...creates, verify] };
  },
});
