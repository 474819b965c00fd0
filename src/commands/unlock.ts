import type { CommandDefinition } from './definition.js';
import { readTable } from './names.js';

export const unlock: CommandDefinition = {
  name: 'unlock',
  usage: ['unlock <table>'],
  summary: "release a table's lock left by a crashed job (refused while a live job holds it)",
  examples: ['unlock core_action'],
  parse(cur, ctx) {
    cur.usage = this.usage[0];
    const { ref } = readTable(cur, ctx, 'unlock');
    cur.expectEnd('unlock takes one table');
    return { kind: 'unlock', table: ref };
  },
};
