import type { CommandDefinition } from './definition.js';
import { readJobId } from './jobid.js';

export const rollback: CommandDefinition = {
  name: 'rollback',
  usage: ['rollback <id>'],
  summary: 'undo the completed steps of a failed job, or of one waiting for an approval (a modify before old_<table> is dropped)',
  examples: ['rollback 42'],
  parse(cur) {
    cur.usage = this.usage[0];
    const id = readJobId(cur, 'rollback');
    cur.expectEnd('rollback takes one job id');
    return { kind: 'rollback', id };
  },
};
