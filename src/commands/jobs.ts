import type { CommandDefinition } from './definition.js';

export const jobs: CommandDefinition = {
  name: 'jobs',
  usage: ['jobs'],
  summary: 'list running, waiting and recent jobs',
  examples: ['jobs'],
  parse(cur) {
    cur.usage = this.usage[0];
    cur.expectEnd('jobs takes no arguments (job <id> shows one job)');
    return { kind: 'jobs' };
  },
};
