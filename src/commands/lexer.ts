/**
 * Tokens of a `/redshift` command, each with its exact position in the text as given (so an error's caret lands on the
 * word the user typed). The lexer is total: it never throws anything but a ParseFailure, whatever the input.
 *
 * What chat does to text, and what the lexer does about it:
 * - smart quotes (‘ ’ “ ”) — read as ' and " (a string may open with ‘ and close with ’; '' or ’’ is an escaped quote);
 * - `code` formatting — backticks are read as spaces;
 * - &amp; &lt; &gt; and <http://…|label> links — Slack's escaping of slash-command text is undone once, before the
 *   text gets here (src/slack/app.ts, decodeSlackText): the lexer reads what the user typed, so `&amp;` typed in the
 *   console is the text `&amp;`;
 * - no-break and other Unicode spaces — read as spaces; invisible characters (zero-width space…) are NOT spaces: they
 *   stay in the word and the word is refused, naming the character.
 */
import { CommandErrorFailure, codePointLabel } from './cursor.js';

export type TokenKind = 'word' | 'string' | 'qident' | 'punct' | 'flag';

export interface Token {
  kind: TokenKind;
  /** word/flag: the text as typed; string/qident: the content (quotes normalized, escapes undone); punct: the char */
  value: string;
  /** the exact source text of the token */
  raw: string;
  /** 0-based offset of the first char in the full input */
  start: number;
  /** 0-based offset after the last char */
  end: number;
}

const SINGLE_QUOTES = new Set(["'", '\u2018', '\u2019']);
const DOUBLE_QUOTES = new Set(['"', '\u201c', '\u201d']);
const PUNCT = new Set(['(', ')', ',', ';']);

function isSpace(ch: string): boolean {
  return ch === '`' || /^\s$/u.test(ch);
}

/** C0 controls other than tab/newline/CR, DEL, and C1 controls: never legitimate in a command. */
function isForbiddenControl(code: number, inString: boolean): boolean {
  if (code === 0x09 || code === 0x0a || code === 0x0d) return inString;
  return code < 0x20 || code === 0x7f || (code >= 0x80 && code <= 0x9f);
}

function controlError(text: string, i: number, inString: boolean): never {
  const code = text.charCodeAt(i);
  const what = codePointLabel(code);
  throw new CommandErrorFailure({
    message: inString
      ? `a string may not contain ${what}: defaults are one-line text`
      : `the command contains ${what} — retype it without control characters`,
    column: i + 1,
    word: text[i] ?? '',
  });
}

/** A flag word: `--x`, or what autocorrect made of it (`—x`, `–x`), or a single-hyphen attempt (`-x`). */
export const FLAG_START = /^(?:--|\u2014|\u2013|-(?=[A-Za-z]))/;

/** Tokenize `text` from offset `from`. */
export function tokenize(text: string, from = 0): Token[] {
  const tokens: Token[] = [];
  let i = from;
  const n = text.length;
  while (i < n) {
    const ch = text[i]!;
    const code = ch.charCodeAt(0);
    if (isForbiddenControl(code, false)) controlError(text, i, false);
    if (isSpace(ch)) {
      i++;
      continue;
    }
    if (PUNCT.has(ch)) {
      tokens.push({ kind: 'punct', value: ch, raw: ch, start: i, end: i + 1 });
      i++;
      continue;
    }
    if (SINGLE_QUOTES.has(ch) || DOUBLE_QUOTES.has(ch)) {
      const quotes = SINGLE_QUOTES.has(ch) ? SINGLE_QUOTES : DOUBLE_QUOTES;
      const start = i;
      let value = '';
      let closed = false;
      i++;
      while (i < n) {
        const c = text[i]!;
        if (isForbiddenControl(c.charCodeAt(0), true)) controlError(text, i, true);
        if (quotes.has(c)) {
          if (i + 1 < n && quotes.has(text[i + 1]!)) {
            value += quotes === SINGLE_QUOTES ? "'" : '"';
            i += 2;
            continue;
          }
          closed = true;
          i++;
          break;
        }
        value += c;
        i++;
      }
      if (!closed) {
        const q = quotes === SINGLE_QUOTES ? "'" : '"';
        throw new CommandErrorFailure({
          message: `this ${q === "'" ? 'string' : 'quoted name'} is never closed — end it with ${q} (write ${q}${q} for a ${q} inside it)`,
          column: start + 1,
          word: text.slice(start, Math.min(n, start + 40)),
        });
      }
      const raw = text.slice(start, i);
      if (quotes === SINGLE_QUOTES && i < n && /[\p{L}\p{N}_]/u.test(text[i]!)) {
        // 'it's' — the apostrophe closed the string early
        throw new CommandErrorFailure({
          message: `this string ends at ${text[i - 1]} but text follows it directly — a quote inside a string is written twice ('it''s')`,
          column: i,
          word: text[i - 1]!,
        });
      }
      if (quotes === SINGLE_QUOTES) tokens.push({ kind: 'string', value, raw, start, end: i });
      else tokens.push({ kind: 'qident', value, raw, start, end: i });
      continue;
    }
    // a word: everything up to a space, a quote, punctuation or a backtick
    const start = i;
    while (i < n) {
      const c = text[i]!;
      if (isSpace(c) || PUNCT.has(c) || SINGLE_QUOTES.has(c) || DOUBLE_QUOTES.has(c)) break;
      if (isForbiddenControl(c.charCodeAt(0), false)) controlError(text, i, false);
      // keep surrogate pairs together so a non-BMP character is reported whole
      i += text.codePointAt(i)! > 0xffff ? 2 : 1;
    }
    const raw = text.slice(start, i);
    tokens.push({ kind: FLAG_START.test(raw) ? 'flag' : 'word', value: raw, raw, start, end: i });
  }
  return tokens;
}
