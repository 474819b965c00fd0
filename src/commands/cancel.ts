import type { CommandDefinition } from './definition.js';
import { readJobId } from './jobid.js';

export const cancel: CommandDefinition = {
  name: 'cancel',
  usage: ['cancel <id>'],
  summary: 'cancel a waiting or running job; it stops at a safe step and leaves the table as it was',
  examples: ['cancel 42'],
  parse(cur) {
    cur.usage = this.usage[0];
    const id = readJobId(cur, 'cancel');
    cur.expectEnd('cancel takes one job id');
    return { kind: 'cancel', id };
  },
};
