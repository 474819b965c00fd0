/**
 * `schema apply`: bootstrap the warehouse from schemas/. Creates missing schemas (CREATE SCHEMA IF NOT EXISTS) and then
 * every missing table, referenced tables first (foreignKeyOrder), with renderCreateTable's DDL. Tables that exist are
 * left alone and reported as "exists (no change)": changing a live table is a job's work, and telling how it differs is
 * `schema diff`'s. Idempotent: a second run creates nothing and says "nothing to do".
 *
 * Each CREATE is its own statement (named `schema apply <schema.table>` in the Data API), so the report says exactly
 * which table failed; a run that stops half-way is finished by running it again.
 */
import type { Warehouse } from '../warehouse/port.js';
import { quoteIdentAlways } from './identifiers.js';
import { listTables } from './catalog.js';
import { tableKey, type TableDef } from './model.js';
import { foreignKeyOrder, referencedKey, type Registry } from './registry.js';
import { renderCreateTable } from './render.js';
import { suggest } from './types.js';

export interface ApplyOptions {
  /** table names ("core_user" in the registry's default schema, or "schema.table"); all tables when omitted */
  tables?: string[];
  /** report what would be created, with the SQL, and change nothing */
  dryRun?: boolean;
}

export interface ApplyResult {
  /** schemas created (or, on a dry run, that would be) */
  schemasCreated: string[];
  /** schema.table keys created (or that would be), in creation order */
  created: string[];
  /** schema.table keys that already existed */
  existing: string[];
  /** the statements run (or that would run), in order */
  statements: string[];
}

/** A request apply cannot carry out (unknown table, a referenced table missing): the message says what to do. */
export class ApplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApplyError';
  }
}

function selectTables(registry: Registry, names: readonly string[] | undefined): TableDef[] {
  if (names === undefined) return [...registry.tables.values()];
  const out: TableDef[] = [];
  const unknown: string[] = [];
  for (const n of names) {
    const t = registry.find(n);
    if (t === undefined) {
      const hint = suggest(n, [...registry.names(), ...registry.tables.keys()]);
      unknown.push(`"${n}"${hint !== undefined ? ` (did you mean ${hint}?)` : ''}`);
    } else if (!out.includes(t)) out.push(t);
  }
  if (unknown.length > 0) throw new ApplyError(`no table ${unknown.join(', ')} in ${registry.dir}; \`schema apply --all\` applies every table there`);
  return out;
}

async function existingSchemas(wh: Warehouse, schemas: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const s of schemas) {
    const r = await wh.query('SELECT nspname FROM pg_namespace WHERE nspname = :schema', { schema: s });
    if (r.rows.length > 0) found.add(s);
  }
  return found;
}

export async function applySchema(
  wh: Warehouse,
  registry: Registry,
  opts: ApplyOptions,
  report: (line: string) => void,
): Promise<ApplyResult> {
  const selected = foreignKeyOrder(selectTables(registry, opts.tables));
  const dry = opts.dryRun === true;
  const result: ApplyResult = { schemasCreated: [], created: [], existing: [], statements: [] };
  if (selected.length === 0) {
    report(`nothing to do: ${registry.dir} holds no tables`);
    return result;
  }

  const schemas = [...new Set(selected.map((t) => t.schema))];
  const presentSchemas = await existingSchemas(wh, schemas);
  const existing = new Set<string>();
  for (const s of schemas) if (presentSchemas.has(s)) for (const t of await listTables(wh, s)) existing.add(`${s}.${t}`);

  // a table to create must find the tables it references, either already there or created before it in this run
  const willExist = new Set([...existing, ...selected.map(tableKey)]);
  const missingRefs: string[] = [];
  for (const t of selected) {
    if (existing.has(tableKey(t))) continue;
    for (const fk of t.foreignKeys) {
      const ref = referencedKey(t, fk);
      if (!willExist.has(ref)) missingRefs.push(`${tableKey(t)} references ${ref}, which is not in the warehouse`);
    }
  }
  if (missingRefs.length > 0) {
    const refs = [...new Set(missingRefs.map((m) => m.replace(/^.* references (\S+),.*$/, '$1')))];
    throw new ApplyError(`${[...new Set(missingRefs)].join('; ')}: apply ${refs.join(', ')} in the same run (or use --all)`);
  }

  for (const s of schemas) {
    if (presentSchemas.has(s)) continue;
    const sql = `CREATE SCHEMA IF NOT EXISTS ${quoteIdentAlways(s)}`;
    result.statements.push(sql);
    result.schemasCreated.push(s);
    if (dry) {
      report(`schema ${s}: would create — ${sql}`);
    } else {
      await wh.execute(sql, undefined, { name: `schema apply ${s}` });
      report(`schema ${s}: created`);
    }
  }

  for (const t of selected) {
    const key = tableKey(t);
    if (existing.has(key)) {
      result.existing.push(key);
      report(`${key}: exists (no change)`);
      continue;
    }
    const sql = renderCreateTable(t);
    result.statements.push(sql);
    result.created.push(key);
    if (dry) {
      report(`${key}: would create\n${sql.trimEnd()}`);
    } else {
      try {
        await wh.execute(sql, undefined, { name: `schema apply ${key}` });
      } catch (err) {
        const done = result.created.length - 1;
        report(`${key}: FAILED — ${err instanceof Error ? err.message : String(err)}`);
        report(`stopped after creating ${done} table${done === 1 ? '' : 's'}; fix the cause and run it again (tables that exist are skipped)`);
        result.created.pop();
        throw err;
      }
      report(`${key}: created`);
    }
  }

  const n = selected.length;
  if (result.created.length === 0 && result.schemasCreated.length === 0) {
    report(`nothing to do: all ${n} table${n === 1 ? '' : 's'} exist`);
  } else {
    const verb = dry ? 'would create' : 'created';
    report(
      `${dry ? 'dry run: ' : ''}${verb} ${result.created.length} of ${n} table${n === 1 ? '' : 's'}` +
        (result.existing.length > 0 ? `; ${result.existing.length} already existed` : '') +
        (dry ? ' (nothing was changed)' : ''),
    );
  }
  return result;
}
