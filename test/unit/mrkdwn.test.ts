import { describe, expect, it } from 'vitest';
import { codeBlock, decodeSlackText, escapeMrkdwn, md, trusted } from '../../src/slack/mrkdwn.js';

describe('decodeSlackText', () => {
  it.each([
    ['a&amp;b', 'a&b'],
    ['&lt;!everyone&gt;', '<!everyone>'],
    ['&amp;lt;', '&lt;'], // exactly once
    ['&amp;amp;', '&amp;'],
    ['&quot; &#39; &nbsp;', '&quot; &#39; &nbsp;'], // Slack escapes only & < >
    ['<https://x.org/?a=1&amp;b=2>', 'https://x.org/?a=1&b=2'],
    ['<https://x.org|x.org>', 'x.org'],
    ['<mailto:a@b.org|a@b.org>', 'a@b.org'],
    ['<@U0ALICE01> <#C0OPS0001|ops> <!here>', '<@U0ALICE01> <#C0OPS0001|ops> <!here>'], // Slack's own markup stays
    ['', ''],
  ])('%s → %s', (sent, typed) => {
    expect(decodeSlackText(sent)).toBe(typed);
  });

  it('escape then decode is the identity on any text', () => {
    for (const s of ['a & b', '<!channel>', '&amp;lt;', '`<>`&&', 'plain']) expect(decodeSlackText(escapeMrkdwn(s))).toBe(s);
  });
});

describe('code and md', () => {
  it('a code block holds user text that has fences and markup: only its own fences remain', () => {
    const b = codeBlock("default 'a```b' <!everyone>");
    expect(b.match(/```/g)).toHaveLength(2);
    expect(b).not.toContain('<!everyone>');
  });

  it('md escapes values, keeps its own words and trusted markup', () => {
    const m = md`Queued \`job ${'1`2'}\` for ${'<!here> & co'} by ${trusted('<@U0ALICE01>', 'U0ALICE01')}`;
    expect(m.text).toBe('Queued `job 1`2` for <!here> & co by U0ALICE01');
    expect(m.slackText).toBe('Queued `job 1\u02cb2` for &lt;!here&gt; &amp; co by <@U0ALICE01>');
  });
});
