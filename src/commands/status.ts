import type { CommandDefinition } from './definition.js';
import { readTable } from './names.js';

export const status: CommandDefinition = {
  name: 'status',
  usage: ['status [table]'],
  summary: 'problems first (replication, log errors, stale tables, approvals waiting, drift, upkeep), then every table; or one table in depth: catalog DDL vs schemas/, recent jobs',
  examples: ['status', 'status core_action', 'status ak_sumofus.core_usermailing'],
  parse(cur, ctx) {
    cur.usage = this.usage[0];
    if (cur.atEnd()) return { kind: 'status' };
    const { ref } = readTable(cur, ctx, 'status');
    cur.expectEnd('status takes at most one table');
    return { kind: 'status', table: ref };
  },
};
