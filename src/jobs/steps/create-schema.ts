/**
 * Shared step: create the schemas the tables live in, if missing (`CREATE SCHEMA IF NOT EXISTS`, one statement per
 * schema under its own handle). isDone looks at pg_namespace; nothing to undo (an empty schema is harmless, and dropping
 * one another job may have filled is not this step's call). Used by `schema apply` and `setup`.
 */
import type { RunbookDeps } from '../deps.js';
import type { Step, StepContext } from '../runbook.js';
import { runOnce } from '../statements.js';
import { quoteIdentAlways } from '../../schema/identifiers.js';

export async function schemaExists(ctx: Pick<StepContext<RunbookDeps>, 'deps'>, schema: string): Promise<boolean> {
  const r = await ctx.deps.warehouse.query('SELECT nspname FROM pg_namespace WHERE nspname = :schema', { schema });
  return r.rows.length > 0;
}

export const createSchemaSql = (schema: string): string => `CREATE SCHEMA IF NOT EXISTS ${quoteIdentAlways(schema)}`;

export function createSchemaStep(schemas: readonly string[], o: { name?: string } = {}): Step<RunbookDeps> {
  return {
    name: o.name ?? 'create-schema',
    title: `Create schema ${schemas.join(', ')} if missing`,
    plan: () => schemas.map((s) => ({ kind: 'sql' as const, text: createSchemaSql(s) })),
    isDone: async (ctx) => {
      for (const s of schemas) if (!(await schemaExists(ctx, s))) return false;
      return true;
    },
    run: async (ctx) => {
      const made: string[] = [];
      for (const s of schemas) {
        if (await schemaExists(ctx, s)) continue;
        await runOnce(ctx, `schema:${s}`, { sql: createSchemaSql(s) }, `job ${ctx.job.id} create schema`);
        made.push(s);
      }
      return made.length ? `created schema ${made.join(', ')}` : `schema ${schemas.join(', ')} exists already`;
    },
  };
}
