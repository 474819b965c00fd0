import type { CommandDefinition } from './definition.js';
import { readTable } from './names.js';

export const compare: CommandDefinition = {
  name: 'compare',
  usage: ['compare <table>|--all'],
  summary: 'compare a table with the MySQL source: counts, max id, max updated_at and per-id-range checksums',
  details: [
    'Each side computes its own aggregates in SQL (no rows are copied); rows changed within the replication lag window',
    '(COMPARE_LAG_SECONDS, default 300) are left out on both sides. Ranges that differ are listed and narrowed down.',
    'Needs SOURCE_DATABASE_URL (a read-only MySQL user is enough).',
  ],
  flags: [{ name: '--all', summary: 'every table of schemas/ in the default schema' }],
  examples: ['compare core_user', 'compare ak_sumofus.core_usermailing', 'compare --all'],
  parse(cur, ctx, flags) {
    cur.usage = this.usage[0];
    const all = flags.get('--all');
    if (all) {
      if (!cur.atEnd()) cur.fail(cur.peek(), '--all and a table exclude each other: give one or the other');
      return { kind: 'compare', all: true };
    }
    if (cur.atEnd()) cur.fail(undefined, 'compare needs a table, or --all');
    const { ref } = readTable(cur, ctx, 'compare');
    cur.expectEnd('compare takes one table (or --all)');
    return { kind: 'compare', all: false, table: ref };
  },
};
