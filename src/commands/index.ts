/**
 * The `/redshift` command language: parseCommand turns the text Slack (or the console) sends into a typed, validated
 * Command, or into a CommandError the user can act on; formatCommandError shows that error with a caret under the
 * offending word. One file per command (status.ts, modify.ts, …) holds its grammar and help; ops.ts holds the ops of
 * modify/plan; help.ts renders help from the same definitions.
 *
 * Never throws, whatever the input (4,000 characters at most; NUL bytes, SQL, Unicode look-alikes are errors).
 */
import { CommandErrorFailure, Cursor, clip, show, suggestWord } from './cursor.js';
import { extractFlags } from './definition.js';
import { COMMANDS, findCommand } from './help.js';
import { tokenize } from './lexer.js';
import { checkNameChars } from './names.js';
import { opText } from './ops.js';
import { type Command, type CommandError, MAX_INPUT_LENGTH, WEEKDAYS, type ParseContext, type ParseResult, type TableRef, commandSchema } from './types.js';

export { COMMANDS, renderHelp } from './help.js';
export { OP_DEFINITIONS } from './ops.js';
export * from './types.js';

/** `/redshift` (any case) at the very start: the console passes it, Slack does not. */
const PREFIX = /^\s*\/redshift(?=\s|`|$)/i;

/** Words people type for the SQL they know, and the command that does it here. */
const SQL_WORDS: Record<string, string> = { alter: 'modify', drop: 'modify', create: 'schema', select: 'status', show: 'status', describe: 'status', desc: 'status' };

function parseOrThrow(text: string, ctx: ParseContext): Command {
  if (text.length > MAX_INPUT_LENGTH) {
    throw new CommandErrorFailure({
      message: `the command is ${text.length.toLocaleString('en-US')} characters long; /redshift takes at most ${MAX_INPUT_LENGTH.toLocaleString('en-US')} — split the change into several commands`,
      column: MAX_INPUT_LENGTH + 1,
    });
  }
  const m = PREFIX.exec(text);
  const tokens = tokenize(text, m ? m[0].length : 0);
  const cur0: Cursor = new Cursor(text, tokens);
  const semi = tokens.find((t) => t.kind === 'punct' && t.value === ';');
  if (semi) cur0.fail(semi, '";" is not accepted: /redshift reads one command, never SQL statements');
  const first = tokens[0];
  if (first === undefined) cur0.fail(undefined, 'no command given — /redshift help lists the commands', { suggestion: 'help', column: 1, word: '' });
  if (first.kind !== 'word') cur0.fail(first, `expected a command, found ${show(first)} — /redshift help lists the commands`);
  checkNameChars(cur0, first, 'command name', { resolve: (a) => findCommand(a)?.name });
  const word = first.value.toLowerCase();
  const def = findCommand(word);
  if (def === undefined) {
    const hint = suggestWord(word, COMMANDS.map((c) => c.name)) ?? SQL_WORDS[word];
    cur0.fail(first, `unknown command ${clip(word)}${hint ? ` — did you mean ${hint}?` : ''} (/redshift help lists the commands)`, hint ? { suggestion: hint } : {});
  }
  const { rest, flags } = extractFlags(text, tokens.slice(1), def);
  const cur: Cursor = new Cursor(text, rest);
  cur.usage = def.usage.join('  |  ');
  const cmd = def.parse(cur, ctx, flags);
  cur.expectEnd(`${def.name} is complete before it`);
  const checked = commandSchema.safeParse(cmd);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    cur.fail(first, `internal error: the command read does not validate (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown'}) — please report it`);
  }
  return checked.data;
}

/** Read one `/redshift` command (with or without the leading `/redshift`). Never throws. */
export function parseCommand(text: string, ctx: ParseContext): ParseResult {
  if (typeof text !== 'string') return { ok: false, error: { message: 'the command is not text', column: 1 } };
  try {
    return { ok: true, command: parseOrThrow(text, ctx) };
  } catch (e) {
    if (e instanceof CommandErrorFailure) return { ok: false, error: e.error };
    const why = e instanceof Error ? e.message : String(e);
    return { ok: false, error: { message: `internal error while reading the command: ${clip(why, 200)} — please report it`, column: 1 } };
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Showing an error

export interface FormatOptions {
  /** wrap in a code block and escape &, <, > (and neutralize backticks) for Slack mrkdwn */
  slack?: boolean;
  /** widest echo of the input, in characters (default 100) */
  width?: number;
}

/** One visible character per input character, so the caret stays aligned. */
function visible(ch: string): string {
  const code = ch.codePointAt(0)!;
  if (code < 0x20) return String.fromCodePoint(0x2400 + code);
  if (code === 0x7f) return '\u2421';
  if (/^[\p{Cc}\p{Cf}\p{Mn}\p{Me}\p{Zl}\p{Zp}]$/u.test(ch)) return '\ufffd';
  return ch;
}

/**
 * The error as lines of text: the message, the input (one line of it, cut to `width` around the error) with a caret
 * under the offending word, and the usage.
 */
export function formatCommandError(text: string, err: CommandError, opts: FormatOptions = {}): string {
  const width = Math.max(20, opts.width ?? 100);
  const src = typeof text === 'string' ? text : '';
  const prefix = PREFIX.test(src) ? '' : '/redshift ';
  const full = prefix + src;
  const at = Math.min(Math.max(0, prefix.length + err.column - 1), full.length);
  const lineStart = full.lastIndexOf('\n', at - 1) + 1;
  const nl = full.indexOf('\n', at);
  const lineEnd = nl < 0 ? full.length : nl;
  const chars = Array.from(full.slice(lineStart, lineEnd));
  const rel = Array.from(full.slice(lineStart, at)).length;
  let len = Math.max(1, Array.from(err.word ?? '').length);
  let from = 0;
  let to = chars.length;
  if (chars.length > width) {
    from = Math.max(0, Math.min(rel - Math.floor(width / 3), chars.length - width));
    to = Math.min(chars.length, from + width);
  }
  const shown = chars.slice(from, to).map(visible).join('');
  const lead = from > 0 ? '…' : '';
  const tail = to < chars.length ? '…' : '';
  const caretAt = lead.length + rel - from;
  len = Math.max(1, Math.min(len, lead.length + (to - from) - caretAt + (rel >= to ? 1 : 0)));
  const lines = [err.message, `  ${lead}${shown}${tail}`, `  ${' '.repeat(caretAt)}${'^'.repeat(len)}`];
  if (err.usage) lines.push(`usage: ${err.usage}`);
  let out = lines.join('\n');
  if (opts.slack) {
    out = out.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/`/g, '\u02cb');
    out = `\`\`\`\n${out}\n\`\`\``;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// What a command does

/**
 * Does the command change the warehouse or the bot's jobs (queue a change, cancel/roll back a job, release a lock)?
 * Those are for operators; everything else (help, status, plans, dry runs, listings, diffs) is read-only.
 */
export function isChanging(cmd: Command): boolean {
  switch (cmd.kind) {
    case 'modify':
    case 'recover':
    case 'setup':
    case 'schema-apply':
      return !cmd.dryRun;
    case 'cancel':
    case 'rollback':
    case 'unlock':
    case 'hygiene-run':
      return true;
    case 'hygiene-schedule':
      return cmd.action !== 'show';
    case 'hygiene':
    case 'help':
    case 'status':
    case 'jobs':
    case 'job':
    case 'schema-diff':
    case 'compare':
      return false;
  }
}

const ref = (t: TableRef): string => `${t.schema}.${t.name}`;

/** A short canonical text of the command (parses back to the same Command). */
export function commandSummary(cmd: Command): string {
  switch (cmd.kind) {
    case 'help':
      return cmd.topic ? `help ${cmd.topic}` : 'help';
    case 'status':
      return cmd.table ? `status ${ref(cmd.table)}` : 'status';
    case 'modify': {
      const flags = [cmd.dryRun ? ' --dry-run' : '', cmd.deepCopy ? ' --deep-copy' : '', cmd.forceDrift ? ' --force-drift' : '', cmd.strategy ? ` --strategy ${cmd.strategy}` : ''];
      return `modify ${ref(cmd.table)} ${cmd.ops.map(opText).join(', ')}${flags.join('')}`;
    }
    case 'recover':
      return `recover ${ref(cmd.table)}${cmd.dryRun ? ' --dry-run' : ''}`;
    case 'setup':
      return `setup${cmd.dryRun ? ' --dry-run' : ''}`;
    case 'jobs':
      return 'jobs';
    case 'job':
    case 'cancel':
    case 'rollback':
      return `${cmd.kind} ${cmd.id}`;
    case 'unlock':
      return `unlock ${ref(cmd.table)}`;
    case 'schema-diff':
      return `schema diff${cmd.table ? ` ${ref(cmd.table)}` : ''}${cmd.source ? ' --source' : ''}`;
    case 'compare':
      return cmd.table ? `compare ${ref(cmd.table)}` : 'compare --all';
    case 'schema-apply':
      return `schema apply ${cmd.all ? '--all' : cmd.tables.map(ref).join(' ')}${cmd.dryRun ? ' --dry-run' : ''}`;
    case 'hygiene':
      return 'hygiene';
    case 'hygiene-run':
      return `hygiene run ${ref(cmd.table)}`;
    case 'hygiene-schedule':
      return cmd.action === 'set' ? `hygiene schedule ${WEEKDAYS[cmd.weekday ?? 0]!.slice(0, 3)} ${cmd.time ?? ''}` : cmd.action === 'off' ? 'hygiene schedule off' : 'hygiene schedule';
  }
}
