/**
 * What each command file exports: its definition — name, usage, summary, options, examples and parse function. The
 * parser and `help` both read these, so the help text cannot drift from the grammar.
 */
import { type Cursor, CommandErrorFailure, clip, suggestWord } from './cursor.js';
import { FLAG_START, type Token } from './lexer.js';
import type { Command, ParseContext } from './types.js';

export interface FlagDef {
  /** with the leading dashes: "--dry-run" */
  name: string;
  /** a flag with a value: --strategy live-copy (or --strategy=live-copy) */
  value?: { placeholder: string; options: readonly string[] };
  summary: string;
}

export interface FlagValue {
  token: Token;
  value?: string;
}

export type Flags = ReadonlyMap<string, FlagValue>;

export interface CommandDefinition {
  name: string;
  aliases?: readonly string[];
  /** one or more grammar lines (schema has two forms) */
  usage: readonly string[];
  summary: string;
  /** per usage line, when the forms do different things (schema diff / schema apply); else `summary` is used */
  summaries?: readonly string[];
  /** extra lines for `help <command>` */
  details?: readonly string[];
  flags?: readonly FlagDef[];
  /** full command texts (without /redshift); tests check that each parses */
  examples: readonly string[];
  parse(cur: Cursor, ctx: ParseContext, flags: Flags): Command;
}

export const DRY_RUN: FlagDef = { name: '--dry-run', summary: 'show the plan (exact SQL and AWS calls) without queuing a job' };

/** --dry-run of a command whose runbook is not built yet: accepted, but there is no plan to show. */
export const NOT_BUILT_DRY_RUN: FlagDef = { name: '--dry-run', summary: 'accepted; there is no plan to show until the runbook is built' };

/**
 * Take the options out of the tokens (they may stand anywhere after the command word). Autocorrected dashes
 * (—dry-run, –dry-run) count as --; a single dash, an unknown option or a missing value is an error.
 */
export function extractFlags(text: string, tokens: readonly Token[], def: CommandDefinition): { rest: Token[]; flags: Map<string, FlagValue> } {
  const allowed = def.flags ?? [];
  const names = allowed.map((f) => f.name);
  const usage = def.usage.join('  |  ');
  const fail: (tok: Token, message: string, extra?: { suggestion?: string; word?: string }) => never = (tok, message, extra = {}) => {
    throw new CommandErrorFailure({ message, column: tok.start + 1, word: extra.word ?? tok.raw, usage, ...(extra.suggestion !== undefined ? { suggestion: extra.suggestion } : {}) });
  };
  const rest: Token[] = [];
  const flags = new Map<string, FlagValue>();
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok.kind !== 'flag') {
      rest.push(tok);
      continue;
    }
    const m = FLAG_START.exec(tok.value)!;
    const body = tok.value.slice(m[0].length);
    const eq = body.indexOf('=');
    const name = `--${(eq < 0 ? body : body.slice(0, eq)).toLowerCase()}`;
    if (name === '--') {
      fail(tok, `"${tok.raw}" is not an option${tok.raw.startsWith('--') ? ' (and SQL comments are not accepted)' : ''}${names.length ? `; options of ${def.name}: ${names.join(', ')}` : ''}`);
    }
    if (!/^--[a-z][a-z0-9-]*$/.test(name)) fail(tok, `${clip(tok.raw)} is not an option: options are --words-with-dashes`);
    const flag = allowed.find((f) => f.name === name);
    if (flag === undefined) {
      const hint = suggestWord(name, names);
      fail(
        tok,
        names.length === 0
          ? `${def.name} takes no options (found ${clip(tok.raw)})`
          : `unknown option ${clip(tok.raw)} for ${def.name}${hint ? ` — did you mean ${hint}?` : `; options: ${names.join(', ')}`}`,
        hint ? { suggestion: hint } : {},
      );
    }
    if (m[0] === '-') fail(tok, `options start with two hyphens: ${flag.name}`, { suggestion: flag.name });
    if (flags.has(flag.name)) fail(tok, `${flag.name} is given twice`);
    let value: string | undefined;
    if (flag.value) {
      let valueTok: Token | undefined = tok;
      if (eq >= 0) value = body.slice(eq + 1);
      else {
        valueTok = tokens[i + 1];
        if (valueTok === undefined || valueTok.kind !== 'word')
          fail(valueTok ?? tok, `${flag.name} needs a value: ${flag.value.options.join(' or ')}`, valueTok ? {} : { word: tok.raw });
        value = valueTok.value;
        i++;
      }
      const v = value.toLowerCase();
      if (!flag.value.options.includes(v)) {
        const hint = suggestWord(v, flag.value.options);
        fail(valueTok, `${flag.name} is ${flag.value.options.join(' or ')}, not ${clip(value)}${hint ? ` — did you mean ${hint}?` : ''}`, hint ? { suggestion: hint } : {});
      }
      value = v;
    } else if (eq >= 0) {
      fail(tok, `${flag.name} takes no value`, { suggestion: flag.name });
    }
    flags.set(flag.name, value === undefined ? { token: tok } : { token: tok, value });
  }
  return { rest, flags };
}
