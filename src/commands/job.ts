import type { CommandDefinition } from './definition.js';
import { readJobId } from './jobid.js';

export const job: CommandDefinition = {
  name: 'job',
  usage: ['job <id>'],
  summary: 'show one job: its plan, steps, progress, approvals and errors',
  examples: ['job 42', 'job #42'],
  parse(cur) {
    cur.usage = this.usage[0];
    const id = readJobId(cur, 'job');
    cur.expectEnd('job takes one job id');
    return { kind: 'job', id };
  },
};
