import { type CommandDefinition, NOT_BUILT_DRY_RUN } from './definition.js';

export const setup: CommandDefinition = {
  name: 'setup',
  usage: ['setup [--dry-run]'],
  summary: 'not built yet: the command is checked, then the bot says so; nothing is run or queued',
  details: [
    'The setup runbook is not built yet. Today /redshift setup reads the command, answers that no runbook exists, and',
    'changes nothing. Tables are created from schemas/ with /redshift schema apply.',
  ],
  flags: [NOT_BUILT_DRY_RUN],
  examples: ['setup --dry-run', 'setup'],
  parse(cur, _ctx, flags) {
    cur.usage = this.usage[0];
    cur.expectEnd('setup takes no arguments');
    return { kind: 'setup', dryRun: flags.has('--dry-run') };
  },
};
