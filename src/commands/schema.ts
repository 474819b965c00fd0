import { type CommandDefinition, DRY_RUN } from './definition.js';
import type { TableRef } from './types.js';
import { readTable } from './names.js';

const DIFF = 'schema diff [table] [--source]';
const APPLY = 'schema apply <table…>|--all [--dry-run]';

export const schema: CommandDefinition = {
  name: 'schema',
  usage: [DIFF, APPLY],
  summary: 'compare schemas/ with the live warehouse, or create the tables schemas/ defines and the warehouse lacks',
  summaries: [
    'compare schemas/ with the live warehouse (all tables, or one); --source: with the MySQL source instead',
    'create these tables if the warehouse lacks them (one queued job, behind an approval; existing tables are not changed)',
  ],
  flags: [
    DRY_RUN,
    { name: '--all', summary: 'schema apply: every table of schemas/ (those that exist are skipped)' },
    { name: '--source', summary: 'schema diff: compare schemas/ with the MySQL source (SOURCE_DATABASE_URL) instead of the warehouse' },
  ],
  examples: ['schema diff', 'schema diff core_user', 'schema diff --source', 'schema apply core_user core_page --dry-run', 'schema apply --all'],
  parse(cur, ctx, flags) {
    cur.usage = this.usage.join('  |  ');
    const { word } = cur.expectWord(['diff', 'apply'], 'diff or apply after schema');
    if (word === 'diff') {
      cur.usage = DIFF;
      for (const [name, f] of flags) if (name !== '--source') cur.fail(f.token, `${name} applies to schema apply, not schema diff`);
      const source = flags.has('--source') ? { source: true as const } : {};
      if (cur.atEnd()) return { kind: 'schema-diff', ...source };
      const { ref } = readTable(cur, ctx, 'schema diff');
      cur.expectEnd('schema diff takes at most one table');
      return { kind: 'schema-diff', table: ref, ...source };
    }
    cur.usage = APPLY;
    const src = flags.get('--source');
    if (src) cur.fail(src.token, '--source applies to schema diff, not schema apply (the warehouse is built from schemas/)');
    const all = flags.get('--all');
    const tables: TableRef[] = [];
    while (!cur.atEnd()) {
      if (tables.length > 0) cur.acceptPunct(',');
      const { ref, token } = readTable(cur, ctx, tables.length === 0 ? 'schema apply' : 'a table');
      if (all) cur.fail(token, '--all and a list of tables exclude each other: give one or the other');
      if (tables.some((t) => t.schema === ref.schema && t.name === ref.name)) cur.fail(token, `${ref.name} is listed twice`);
      tables.push(ref);
    }
    if (!all && tables.length === 0) cur.fail(undefined, 'schema apply needs the tables to apply, or --all');
    return { kind: 'schema-apply', all: all !== undefined, tables, dryRun: flags.has('--dry-run') };
  },
};
