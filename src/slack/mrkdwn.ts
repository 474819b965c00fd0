/**
 * Slack's text rules, in one place (https://docs.slack.dev/messaging/formatting-message-text#escaping):
 * `&`, `<` and `>` are Slack's control characters. Slack sends them typed by a user as `&amp;`, `&lt;`, `&gt;` (also in
 * slash-command text, whatever `should_escape` says), and any text the bot sends must escape them the same way, or a
 * `<!everyone>` a user typed becomes a live mention. Backticks have no escape in mrkdwn: user text shown in a code span
 * or block has them replaced by a look-alike (U+02CB MODIFIER LETTER GRAVE ACCENT) so it can never close the span.
 */

const DECODE = /<((?:https?|mailto|tel):[^<>|]*)(?:\|([^<>]*))?>|&(amp|lt|gt);/g;
const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>' };
const ENTITIES = /&(amp|lt|gt);/g;

function decodeEntities(s: string): string {
  return s.replace(ENTITIES, (_m, e: string) => ENTITY[e] ?? _m);
}

/**
 * The text a user typed, from the text Slack sent: `&amp;` `&lt;` `&gt;` decoded exactly once (`&amp;lt;` is the text
 * `&lt;`), and links Slack wrapped around URL-looking words undone (`<https://x.org|x.org>` → `x.org`,
 * `<https://x.org>` → `https://x.org`, `<mailto:a@b.org|a@b.org>` → `a@b.org`). A `<` the user typed always arrives as
 * `&lt;`, so a raw `<` is Slack's own markup; other markup (`<@U…>`, `<#C…>`, `<!here>`) is left as it came.
 */
export function decodeSlackText(text: string): string {
  return text.replace(DECODE, (m, url: string | undefined, label: string | undefined, entity: string | undefined) => {
    if (entity !== undefined) return ENTITY[entity] ?? m;
    return decodeEntities(label ?? url ?? '');
  });
}

/** Escape the three characters Slack treats as control sequences in any text field. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The look-alike shown instead of a backtick inside a code span or block. */
export const BACKTICK_STANDIN = '\u02cb';

/** Backticks replaced by a look-alike: the text can sit inside a code span/block without closing it. */
export function neutralizeBackticks(text: string): string {
  return text.replace(/`/g, BACKTICK_STANDIN);
}

/** User text for any mrkdwn field: escaped, and unable to open or close code formatting. */
export function userMrkdwn(text: string): string {
  return neutralizeBackticks(escapeMrkdwn(text));
}

/** A code block (```…```) of plain text: escaped, backticks neutralized, so only our own fences delimit it. */
export function codeBlock(text: string): string {
  return '```' + userMrkdwn(text) + '```';
}

/** Bot-made mrkdwn (a mention of a validated user id, markup the bot itself writes): inserted as it is. */
export interface Trusted {
  readonly trusted: string;
  /** how the console shows it */
  readonly plain: string;
}

export function trusted(mrkdwn: string, plain: string = mrkdwn): Trusted {
  return { trusted: mrkdwn, plain };
}

/** The two forms of a message: `text` for the console, `slackText` (mrkdwn) for Slack. */
export interface DualText {
  text: string;
  slackText: string;
}

/**
 * A message whose literal parts are the bot's own words (they may use mrkdwn: `code`, *bold*) and whose interpolated
 * values are data (user text, names, warehouse values): escaped for Slack — and, inside a code span the literal parts
 * opened, unable to close it. `trusted(…)` values are inserted as they are.
 */
export function md(strings: TemplateStringsArray, ...values: ReadonlyArray<string | number | Trusted>): DualText {
  let text = strings[0] ?? '';
  let slackText = strings[0] ?? '';
  values.forEach((v, i) => {
    const lit = strings[i + 1] ?? '';
    if (typeof v === 'object') {
      text += v.plain;
      slackText += v.trusted;
    } else {
      text += String(v);
      slackText += userMrkdwn(String(v));
    }
    text += lit;
    slackText += lit;
  });
  return { text, slackText };
}
