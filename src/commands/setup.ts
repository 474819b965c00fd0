import type { CommandDefinition } from './definition.js';

export const setup: CommandDefinition = {
  name: 'setup',
  usage: ['setup [--dry-run]'],
  summary: 'build a brand-new instance from schemas/: schema, every table, the DMS task, the CDC keys, a compare',
  details: [
    'Runs the setup runbook on the default schema, each step looking at the warehouse and AWS first, so a second run on',
    'a complete instance changes nothing and a run on a half-built one finishes it:',
    '  1. CREATE SCHEMA if missing; every table of schemas/ missing from the warehouse, in foreign-key order, exactly as',
    '     schemas/ defines it (keys, informational constraints, DISTKEY, SORTKEY) — the 25 cdc tables too, empty, for the',
    "     CDC service's initial sync to fill;",
    '  2. DMS (core_usermailing): the source endpoint (read-only MySQL) and the Redshift target endpoint checked (the',
    '     target created if missing), the task created from the registry if missing (an existing task with other settings',
    '     is reported, never changed), started with start-replication, its full load watched until Table completed, its',
    '     CloudWatch log checked, the table compared with the source;',
    "  3. the CDC service's initial sync: the bot posts the steps and waits for an approver to confirm it is complete; then",
    '     each cdc table is held to schemas/ (what ALTER TABLE can fix in place is fixed; a table whose shape needs a deep',
    "     copy — read when setup is queued — gets modify's deep copy to its definition, the one recover uses, with modify's",
    '     approval before old_<t> is dropped; anything else is reported with the modify that fixes it) and compared with',
    '     the source.',
    'While setup runs it holds <schema>.*: no other job may change a table of the schema. --dry-run lists every statement',
    'and every AWS call and queues nothing.',
  ],
  flags: [{ name: '--dry-run', summary: 'print every statement and AWS call setup would make; queue nothing' }],
  examples: ['setup --dry-run', 'setup'],
  parse(cur, _ctx, flags) {
    cur.usage = this.usage[0];
    cur.expectEnd('setup takes no arguments');
    return { kind: 'setup', dryRun: flags.has('--dry-run') };
  },
};
