import { type CommandDefinition, DRY_RUN } from './definition.js';
import { readTable } from './names.js';

export const recover: CommandDefinition = {
  name: 'recover',
  usage: ['recover <table> [--dry-run]'],
  summary: 'finish or roll back an interrupted change (old_<table> / new_<table> left behind), checking for duplicate keys',
  flags: [DRY_RUN],
  examples: ['recover core_action', 'recover core_usermailing --dry-run'],
  parse(cur, ctx, flags) {
    cur.usage = this.usage[0];
    const { ref } = readTable(cur, ctx, 'recover');
    cur.expectEnd('recover takes one table');
    return { kind: 'recover', table: ref, dryRun: flags.has('--dry-run') };
  },
};
