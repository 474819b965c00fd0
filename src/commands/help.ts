/**
 * `help [command]` and the help text itself, generated from the command and op definitions the parser uses.
 */
import { ENCODINGS } from '../schema/types.js';
import { type Cursor, clip, suggestWord } from './cursor.js';
import type { CommandDefinition } from './definition.js';
import { OTHER_COMMANDS } from './list.js';
import { checkNameChars } from './names.js';
import { OP_DEFINITIONS } from './ops.js';

export const help: CommandDefinition = {
  name: 'help',
  usage: ['help [command]'],
  summary: "list the commands, or show one command's grammar, options and examples",
  examples: ['help', 'help modify'],
  parse(cur: Cursor) {
    cur.usage = this.usage[0];
    if (cur.atEnd()) return { kind: 'help' };
    const t = cur.next()!;
    if (t.kind !== 'word') cur.fail(t, 'expected a command name after help');
    checkNameChars(cur, t, 'command name', { resolve: (a) => findCommand(a)?.name });
    const w = t.value.toLowerCase();
    const def = findCommand(w);
    if (def === undefined) {
      const hint = suggestWord(w, COMMANDS.map((c) => c.name));
      cur.fail(t, `no command ${clip(w)}${hint ? ` — did you mean ${hint}?` : ' (help lists the commands)'}`, hint ? { suggestion: hint } : {});
    }
    if (def.name === 'schema' && !cur.accept('diff')) cur.accept('apply');
    cur.expectEnd('help takes one command name');
    return { kind: 'help', topic: def.name };
  },
};

export const COMMANDS: readonly CommandDefinition[] = [help, ...OTHER_COMMANDS];

export function findCommand(word: string): CommandDefinition | undefined {
  const w = word.toLowerCase();
  return COMMANDS.find((c) => c.name === w || (c.aliases ?? []).includes(w));
}

const WIDTH = 30;

function twoColumns(left: string, right: string, indent = '  '): string[] {
  if (left.length <= WIDTH - 2 || right === '') return [`${indent}${left.padEnd(WIDTH)}${right}`];
  return [`${indent}${left}`, `${indent}${' '.repeat(WIDTH)}${right}`];
}

const TYPES_LINE =
  'Types: smallint, integer (int), bigint, numeric(p,s) (decimal), real, double precision (float), boolean, char(n), varchar(n|max), ' +
  'date, timestamp (datetime), timestamptz, time, timetz, super, varbyte(n), geometry, geography, hllsketch';
const DEFAULTS_LINE = "Defaults: NULL, a number (12, -0.5), a 'quoted string' ('' for a quote inside), true/false, getdate()";

/** The help text: every command (no topic), or one command in full. Plain text; wrap it in a code block for Slack. */
export function renderHelp(topic?: string): string {
  if (topic === undefined) {
    const lines = ['/redshift <command> — change Redshift tables safely from chat (the tables are described in schemas/)', ''];
    for (const c of COMMANDS) {
      c.usage.forEach((u, i) => lines.push(...twoColumns(u, c.summaries?.[i] ?? (i === 0 ? c.summary : ''))));
    }
    lines.push('', '/redshift help <command> shows its grammar and examples; help modify lists every op.');
    return lines.map((l) => l.trimEnd()).join('\n');
  }
  const def = findCommand(topic);
  if (def === undefined) return renderHelp();
  const lines: string[] = def.summaries ? def.usage.flatMap((u, i) => [u, `  ${def.summaries?.[i] ?? def.summary}`]) : [...def.usage, `  ${def.summary}`];
  if (def.details) lines.push('', ...def.details);
  if (def.name === 'modify' || def.name === 'plan') {
    lines.push('', 'Ops (separate several with commas):');
    for (const op of OP_DEFINITIONS) {
      lines.push(`  ${op.usage}`, `      ${op.summary}`);
      for (const ex of op.examples) lines.push(`      e.g. ${ex}`);
    }
    lines.push('', TYPES_LINE, `Encodings: ${ENCODINGS.join(', ')}`, DEFAULTS_LINE, 'Names: plain lower-case letters, digits and _ (never quoted, not a reserved word).');
  }
  if (def.flags && def.flags.length > 0) {
    lines.push('', 'Options:');
    for (const f of def.flags) lines.push(...twoColumns(f.value ? `${f.name} ${f.value.placeholder}` : f.name, f.summary));
  }
  if (def.aliases && def.aliases.length > 0) lines.push('', `Also: ${def.aliases.join(', ')}`);
  lines.push('', 'Examples:', ...def.examples.map((e) => `  /redshift ${e}`));
  return lines.map((l) => l.trimEnd()).join('\n');
}
