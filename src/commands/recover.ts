import { type CommandDefinition, DRY_RUN } from './definition.js';
import { readTable } from './names.js';

export const recover: CommandDefinition = {
  name: 'recover',
  usage: ['recover <table> [--dry-run]'],
  summary: 'bring a table back after a replication outage: reload it, dedupe keys, compare with the source (plan, approvals, progress)',
  details: [
    'Reads the world first and says why it chose what it does:',
    '  dms table, task running: ReloadTables for the one table; task failed/stopped (FATAL_ERROR, binlog position lost): stop,',
    '  then StartReplicationTask reload-target. A missing table, or one whose shape differs from schemas/, is dropped/created',
    '  from schemas/ only after an approval naming it. Then: wait for Table completed (FullLoadRows shown live, no worker held),',
    '  the CloudWatch log check for ]E: lines, and DMS applying changes again.',
    '  cdc table: posts the exact steps for the CDC service\'s dashboard (the bot cannot reload it), waits — for days if need',
    '  be — until the table exists and its row counts match the source twice in a row, then brings it to its schemas/ definition',
    '  with modify\'s deep copy (its drop of old_<table> needs an approval, as in modify).',
    'Both: duplicate primary keys are counted; removing them (one row kept per key, one locked transaction) needs an',
    'approval. The job succeeds only if the final compare with the MySQL source finds no difference.',
    'A failed job that left old_<table> or new_<table> behind is continued with Retry, or undone with /redshift rollback <job id>.',
  ],
  flags: [DRY_RUN],
  examples: ['recover core_action', 'recover core_usermailing --dry-run'],
  parse(cur, ctx, flags) {
    cur.usage = this.usage[0];
    const { ref } = readTable(cur, ctx, 'recover');
    cur.expectEnd('recover takes one table');
    return { kind: 'recover', table: ref, dryRun: flags.has('--dry-run') };
  },
};
