/**
 * The reading position in a command's tokens, and the one way parsing stops: a CommandErrorFailure carrying a
 * CommandError value (caught in parseCommand and returned, never thrown to callers).
 */
import type { Token } from './lexer.js';
import type { CommandError } from './types.js';

export class CommandErrorFailure extends Error {
  constructor(readonly error: CommandError) {
    super(error.message);
    this.name = 'CommandErrorFailure';
  }
}

/** Names of the characters people actually meet in chat text (look-alikes, invisibles, controls). */
const CHAR_NAMES: Record<number, string> = {
  0x00: 'NUL',
  0x09: 'TAB',
  0x0a: 'LINE FEED',
  0x0d: 'CARRIAGE RETURN',
  0x1b: 'ESCAPE',
  0x7f: 'DELETE',
  0xa0: 'NO-BREAK SPACE',
  0xad: 'SOFT HYPHEN',
  0x200b: 'ZERO WIDTH SPACE',
  0x200c: 'ZERO WIDTH NON-JOINER',
  0x200d: 'ZERO WIDTH JOINER',
  0x200e: 'LEFT-TO-RIGHT MARK',
  0x200f: 'RIGHT-TO-LEFT MARK',
  0x202e: 'RIGHT-TO-LEFT OVERRIDE',
  0x2060: 'WORD JOINER',
  0x2010: 'HYPHEN',
  0x2011: 'NON-BREAKING HYPHEN',
  0x2012: 'FIGURE DASH',
  0x2013: 'EN DASH',
  0x2014: 'EM DASH',
  0x2212: 'MINUS SIGN',
  0x2026: 'HORIZONTAL ELLIPSIS',
  0xfffd: 'REPLACEMENT CHARACTER',
};

/** Look-alikes of ASCII letters: code point → [ASCII, Unicode name]. */
export const CONFUSABLES: ReadonlyMap<number, readonly [string, string]> = new Map<number, readonly [string, string]>([
  // Cyrillic
  [0x0430, ['a', 'CYRILLIC SMALL LETTER A']],
  [0x0435, ['e', 'CYRILLIC SMALL LETTER IE']],
  [0x043e, ['o', 'CYRILLIC SMALL LETTER O']],
  [0x0440, ['p', 'CYRILLIC SMALL LETTER ER']],
  [0x0441, ['c', 'CYRILLIC SMALL LETTER ES']],
  [0x0443, ['y', 'CYRILLIC SMALL LETTER U']],
  [0x0445, ['x', 'CYRILLIC SMALL LETTER HA']],
  [0x0456, ['i', 'CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I']],
  [0x0458, ['j', 'CYRILLIC SMALL LETTER JE']],
  [0x0455, ['s', 'CYRILLIC SMALL LETTER DZE']],
  [0x0501, ['d', 'CYRILLIC SMALL LETTER KOMI DE']],
  [0x04bb, ['h', 'CYRILLIC SMALL LETTER SHHA']],
  [0x04cf, ['l', 'CYRILLIC SMALL LETTER PALOCHKA']],
  [0x051b, ['q', 'CYRILLIC SMALL LETTER QA']],
  [0x051d, ['w', 'CYRILLIC SMALL LETTER WE']],
  [0x0410, ['A', 'CYRILLIC CAPITAL LETTER A']],
  [0x0412, ['B', 'CYRILLIC CAPITAL LETTER VE']],
  [0x0415, ['E', 'CYRILLIC CAPITAL LETTER IE']],
  [0x041a, ['K', 'CYRILLIC CAPITAL LETTER KA']],
  [0x041c, ['M', 'CYRILLIC CAPITAL LETTER EM']],
  [0x041d, ['H', 'CYRILLIC CAPITAL LETTER EN']],
  [0x041e, ['O', 'CYRILLIC CAPITAL LETTER O']],
  [0x0420, ['P', 'CYRILLIC CAPITAL LETTER ER']],
  [0x0421, ['C', 'CYRILLIC CAPITAL LETTER ES']],
  [0x0422, ['T', 'CYRILLIC CAPITAL LETTER TE']],
  [0x0425, ['X', 'CYRILLIC CAPITAL LETTER HA']],
  [0x0406, ['I', 'CYRILLIC CAPITAL LETTER BYELORUSSIAN-UKRAINIAN I']],
  [0x0408, ['J', 'CYRILLIC CAPITAL LETTER JE']],
  [0x0405, ['S', 'CYRILLIC CAPITAL LETTER DZE']],
  // Greek
  [0x03b1, ['a', 'GREEK SMALL LETTER ALPHA']],
  [0x03bf, ['o', 'GREEK SMALL LETTER OMICRON']],
  [0x03b9, ['i', 'GREEK SMALL LETTER IOTA']],
  [0x03ba, ['k', 'GREEK SMALL LETTER KAPPA']],
  [0x03bd, ['v', 'GREEK SMALL LETTER NU']],
  [0x03c1, ['p', 'GREEK SMALL LETTER RHO']],
  [0x03c4, ['t', 'GREEK SMALL LETTER TAU']],
  [0x03c5, ['u', 'GREEK SMALL LETTER UPSILON']],
  [0x03c7, ['x', 'GREEK SMALL LETTER CHI']],
  [0x0391, ['A', 'GREEK CAPITAL LETTER ALPHA']],
  [0x0392, ['B', 'GREEK CAPITAL LETTER BETA']],
  [0x0395, ['E', 'GREEK CAPITAL LETTER EPSILON']],
  [0x0396, ['Z', 'GREEK CAPITAL LETTER ZETA']],
  [0x0397, ['H', 'GREEK CAPITAL LETTER ETA']],
  [0x0399, ['I', 'GREEK CAPITAL LETTER IOTA']],
  [0x039a, ['K', 'GREEK CAPITAL LETTER KAPPA']],
  [0x039c, ['M', 'GREEK CAPITAL LETTER MU']],
  [0x039d, ['N', 'GREEK CAPITAL LETTER NU']],
  [0x039f, ['O', 'GREEK CAPITAL LETTER OMICRON']],
  [0x03a1, ['P', 'GREEK CAPITAL LETTER RHO']],
  [0x03a4, ['T', 'GREEK CAPITAL LETTER TAU']],
  [0x03a5, ['Y', 'GREEK CAPITAL LETTER UPSILON']],
  [0x03a7, ['X', 'GREEK CAPITAL LETTER CHI']],
  // Latin look-alikes outside ASCII
  [0x0131, ['i', 'LATIN SMALL LETTER DOTLESS I']],
  [0x0261, ['g', 'LATIN SMALL LETTER SCRIPT G']],
  [0x2010, ['-', 'HYPHEN']],
  [0x2011, ['-', 'NON-BREAKING HYPHEN']],
  [0x2212, ['-', 'MINUS SIGN']],
]);

export function hex(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The Unicode name we know for a code point (look-alikes, invisibles, fullwidth forms), or undefined. */
export function charName(code: number): string | undefined {
  const c = CONFUSABLES.get(code);
  if (c) return c[1];
  const n = CHAR_NAMES[code];
  if (n) return n;
  if (code >= 0xff21 && code <= 0xff3a) return `FULLWIDTH LATIN CAPITAL LETTER ${String.fromCharCode(code - 0xff21 + 0x41)}`;
  if (code >= 0xff41 && code <= 0xff5a) return `FULLWIDTH LATIN SMALL LETTER ${String.fromCharCode(code - 0xff41 + 0x41)}`;
  if (code >= 0xff10 && code <= 0xff19) return `FULLWIDTH DIGIT ${code - 0xff10}`;
  if (code === 0xff3f) return 'FULLWIDTH LOW LINE';
  return undefined;
}

/** `U+0000 (NUL)`, for characters that cannot be shown. */
export function codePointLabel(code: number): string {
  const name = charName(code);
  return name ? `${hex(code)} (${name})` : hex(code);
}

/** `"а" (U+0430 CYRILLIC SMALL LETTER A)`, or an invisible character by code point and name only. */
export function describeChar(ch: string): string {
  const code = ch.codePointAt(0)!;
  const name = charName(code);
  const invisible = /^[\p{Cf}\p{Cc}\p{Zs}\p{Mn}]$/u.test(ch);
  const id = name ? `${hex(code)} ${name}` : hex(code);
  return invisible ? `the invisible character ${id}` : `"${ch}" (${id})`;
}

/** Shorten text shown back to the user (a 10 kB word must not become a 10 kB message). */
export function clip(s: string, max = 40): string {
  const chars = Array.from(s);
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

/** How a token reads in a message: words as typed, punctuation and strings quoted. */
export function show(t: Token): string {
  switch (t.kind) {
    case 'punct':
      return `"${t.value}"`;
    default:
      return clip(t.raw);
  }
}

export class Cursor {
  private pos = 0;
  /** the grammar shown with errors; commands and ops set it while they read */
  usage: string | undefined;

  constructor(
    readonly text: string,
    readonly tokens: readonly Token[],
  ) {}

  peek(k = 0): Token | undefined {
    return this.tokens[this.pos + k];
  }

  next(): Token | undefined {
    const t = this.tokens[this.pos];
    if (t !== undefined) this.pos++;
    return t;
  }

  atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }

  /** The previous token (for errors "after X"). */
  prev(): Token | undefined {
    return this.tokens[this.pos - 1];
  }

  /** Is the next token the keyword (case-insensitive)? */
  isWord(kw: string, k = 0): boolean {
    const t = this.peek(k);
    return t !== undefined && t.kind === 'word' && t.value.toLowerCase() === kw;
  }

  isPunct(p: string, k = 0): boolean {
    const t = this.peek(k);
    return t !== undefined && t.kind === 'punct' && t.value === p;
  }

  /** Consume the keyword if it is next. */
  accept(kw: string): Token | undefined {
    return this.isWord(kw) ? this.next() : undefined;
  }

  acceptPunct(p: string): Token | undefined {
    return this.isPunct(p) ? this.next() : undefined;
  }

  /** Error at a token (or at the end of the text when `at` is undefined). */
  fail(at: Token | undefined, message: string, extra: { suggestion?: string; usage?: string; word?: string; column?: number } = {}): never {
    const err: CommandError = {
      message,
      column: extra.column ?? (at ? at.start + 1 : this.text.length + 1),
    };
    const word = extra.word ?? at?.raw;
    if (word !== undefined) err.word = word;
    if (extra.suggestion !== undefined) err.suggestion = extra.suggestion;
    const usage = extra.usage ?? this.usage;
    if (usage !== undefined) err.usage = usage;
    throw new CommandErrorFailure(err);
  }

  /** Error spanning tokens first..last (the caret covers all of them). */
  failSpan(first: Token, last: Token, message: string, extra: { suggestion?: string; usage?: string } = {}): never {
    return this.fail(first, message, { ...extra, word: this.text.slice(first.start, last.end) });
  }

  /** Consume one keyword of `options` or fail with "expected …". */
  expectWord(options: readonly string[], what: string): { token: Token; word: string } {
    const t = this.peek();
    if (t === undefined) this.fail(undefined, `expected ${what} at the end`);
    if (t.kind === 'word') {
      const w = t.value.toLowerCase();
      if (options.includes(w)) {
        this.next();
        return { token: t, word: w };
      }
    }
    const hint = t.kind === 'word' ? suggestWord(t.value.toLowerCase(), options) : undefined;
    this.fail(t, `expected ${what}, found ${show(t)}${hint ? ` — did you mean ${hint}?` : ''}`, hint ? { suggestion: hint } : {});
  }

  /** Nothing may follow. */
  expectEnd(context: string): void {
    const t = this.peek();
    if (t === undefined) return;
    this.fail(t, `unexpected ${show(t)}: ${context}`);
  }
}

/** Closest keyword, within typo distance. */
export function suggestWord(word: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const o of options) {
    const d = distance(word, o);
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  const budget = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  return bestD <= budget ? best : undefined;
}

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions (dorp → drop is one typo). */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
