import type { CommandDefinition } from './definition.js';
import { MODIFY_FLAGS, parseModifyBody } from './modify.js';

export const plan: CommandDefinition = {
  name: 'plan',
  usage: ['plan <table> <op>[, <op>…] [--deep-copy] [--force-drift] [--strategy live-copy|rename-first]'],
  summary: 'show what modify would do (steps, exact SQL, AWS calls) without queuing anything — modify --dry-run',
  flags: MODIFY_FLAGS,
  examples: ['plan core_action drop column opq_id', 'plan core_usermailing set distkey mailing_id --deep-copy'],
  parse(cur, ctx, flags) {
    return parseModifyBody(cur, ctx, flags, true, this.usage[0]!, 'plan');
  },
};
