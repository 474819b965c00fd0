import { type CommandDefinition, NOT_BUILT_DRY_RUN } from './definition.js';
import { readTable } from './names.js';

export const recover: CommandDefinition = {
  name: 'recover',
  usage: ['recover <table> [--dry-run]'],
  summary: 'not built yet: the command and table name are checked, then the bot says so; nothing is run or queued',
  details: [
    'The recover runbook is not built yet. Today /redshift recover reads the command, checks that the table is in',
    'schemas/, answers that no runbook exists, and changes nothing. A failed job that left old_<table> or new_<table>',
    'behind is continued with the Retry step button in its thread, or undone with /redshift rollback <job id>.',
  ],
  flags: [NOT_BUILT_DRY_RUN],
  examples: ['recover core_action', 'recover core_usermailing --dry-run'],
  parse(cur, ctx, flags) {
    cur.usage = this.usage[0];
    const { ref } = readTable(cur, ctx, 'recover');
    cur.expectEnd('recover takes one table');
    return { kind: 'recover', table: ref, dryRun: flags.has('--dry-run') };
  },
};
