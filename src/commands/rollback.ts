import type { CommandDefinition } from './definition.js';
import { readJobId } from './jobid.js';

export const rollback: CommandDefinition = {
  name: 'rollback',
  usage: ['rollback <id>'],
  summary: "undo a finished or failed job's change while its old_<table> copy still exists (needs approval)",
  examples: ['rollback 42'],
  parse(cur) {
    cur.usage = this.usage[0];
    const id = readJobId(cur, 'rollback');
    cur.expectEnd('rollback takes one job id');
    return { kind: 'rollback', id };
  },
};
