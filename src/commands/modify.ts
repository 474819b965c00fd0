import { clip } from './cursor.js';
import { type CommandDefinition, DRY_RUN, type FlagDef, type Flags } from './definition.js';
import type { Cursor } from './cursor.js';
import { readTable } from './names.js';
import { parseOps } from './ops.js';
import { type Command, type ParseContext, STRATEGIES, type Strategy } from './types.js';

export const MODIFY_FLAGS: readonly FlagDef[] = [
  DRY_RUN,
  { name: '--deep-copy', summary: 'rebuild the table by deep copy even when every op could run in place' },
  { name: '--force-drift', summary: 'go ahead although the live table differs from schemas/ (the differences are listed in the plan)' },
  {
    name: '--strategy',
    value: { placeholder: 'live-copy|rename-first', options: STRATEGIES },
    summary: 'cdc tables: live-copy copies while the table stays readable and swaps with the delta; rename-first renames it away first',
  },
];

/** modify and plan share this: `<table> <op>[, <op>…]` plus the options. */
export function parseModifyBody(cur: Cursor, ctx: ParseContext, flags: Flags, dryRun: boolean, usage: string, word: string): Command {
  cur.usage = usage;
  const { def, ref } = readTable(cur, ctx, word);
  const ops = parseOps(cur, def, usage);
  const strategy = flags.get('--strategy');
  if (strategy !== undefined && def.replication.provider !== 'cdc') {
    cur.fail(
      strategy.token,
      `--strategy applies to cdc tables; ${def.name} is replicated by DMS (task ${clip(def.replication.taskId)}), which is stopped for the swap`,
      { word: cur.text.slice(strategy.token.start, strategy.token.end) },
    );
  }
  const cmd: Command = {
    kind: 'modify',
    table: ref,
    ops,
    dryRun: dryRun || flags.has('--dry-run'),
    deepCopy: flags.has('--deep-copy'),
    forceDrift: flags.has('--force-drift'),
  };
  if (strategy?.value !== undefined) cmd.strategy = strategy.value as Strategy;
  return cmd;
}

export const modify: CommandDefinition = {
  name: 'modify',
  usage: ['modify <table> <op>[, <op>…] [--dry-run] [--deep-copy] [--force-drift] [--strategy live-copy|rename-first]'],
  summary: 'change a table (columns, types, encodings, dist/sort keys): plans it, queues a job, swaps safely',
  details: ['Ops are listed below; several ops are separated by commas and applied in order as one change.'],
  flags: MODIFY_FLAGS,
  examples: [
    'modify core_action add column referrer varchar(256) encode zstd',
    "modify core_user add column is_test boolean not null default false, drop column plus4",
    'modify core_action alter column source type varchar(1024) --dry-run',
    'modify core_page set sortkey compound (created_at, id) --strategy live-copy',
  ],
  parse(cur, ctx, flags) {
    return parseModifyBody(cur, ctx, flags, false, this.usage[0]!, 'modify');
  },
};
