import { type CommandDefinition, DRY_RUN } from './definition.js';

export const setup: CommandDefinition = {
  name: 'setup',
  usage: ['setup [--dry-run]'],
  summary: 'check access to the warehouse and replication, and create what the bot needs there (run once)',
  flags: [DRY_RUN],
  examples: ['setup --dry-run', 'setup'],
  parse(cur, _ctx, flags) {
    cur.usage = this.usage[0];
    cur.expectEnd('setup takes no arguments');
    return { kind: 'setup', dryRun: flags.has('--dry-run') };
  },
};
