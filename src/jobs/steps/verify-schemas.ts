/**
 * Shared check step: the live tables match their schemas/ definitions (src/schema/diff.ts: existence, columns in order,
 * types, NOT NULL, defaults, encodings schemas/ names, DISTSTYLE/DISTKEY, sort key — the catalog read in one batch per
 * schema). Fails, listing every difference, when one differs. Informational PRIMARY KEY / UNIQUE / FOREIGN KEY
 * constraints are not compared (diff.ts: the catalog reader does not read them), and the detail line says so.
 */
import type { RunbookDeps } from '../deps.js';
import type { Step } from '../runbook.js';
import { readTables } from '../../schema/catalog.js';
import { diffTable, formatDrift } from '../../schema/diff.js';
import type { TableDef } from '../../schema/model.js';

export interface VerifySchemasOptions {
  name?: string;
  title?: string;
}

export function verifySchemasStep(tables: readonly TableDef[], o: VerifySchemasOptions = {}): Step<RunbookDeps> {
  const names = tables.map((t) => `${t.schema}.${t.name}`);
  return {
    name: o.name ?? 'verify',
    title: o.title ?? 'Verify the catalog matches schemas/',
    plan: () => [{ kind: 'check', text: `catalog (pg_table_def, information_schema.columns, svv_table_info) of ${names.join(', ')} = schemas/` }],
    isDone: async () => false,
    run: async (ctx) => {
      const problems: string[] = [];
      let columns = 0;
      const bySchema = new Map<string, TableDef[]>();
      for (const t of tables) bySchema.set(t.schema, [...(bySchema.get(t.schema) ?? []), t]);
      for (const [schema, defs] of bySchema) {
        const live = await readTables(ctx.deps.warehouse, schema, defs.map((t) => t.name));
        for (const t of defs) {
          const info = live.get(t.name);
          columns += info?.table.columns.length ?? 0;
          problems.push(...diffTable(t, info?.table, { unknown: info?.unknown ?? [] }).map((d) => `${t.schema}.${t.name}: ${formatDrift(d)}`));
        }
      }
      if (problems.length > 0) throw new Error(`the warehouse differs from schemas/:\n${problems.join('\n')}`);
      return `${names.length} table${names.length === 1 ? '' : 's'} match schemas/ (${columns} columns: names, order, types, NOT NULL, defaults; DISTKEY and SORTKEY; informational keys not read back)`;
    },
  };
}
