import { describe, expect, it } from 'vitest';
import { dayLabel, initials } from '../src/lib/format.js';
import { pickLocale } from '../src/lib/i18n.js';
import { linkify } from '../src/lib/linkify.js';
import { complete, mentionedIds, queryAt, suggest, withMentions } from '../src/lib/mentions.js';
import { snippet } from '../src/lib/search.js';
import { parseRoute, roomIdFrom } from '../src/lib/session.js';
import { chartPoints, rate } from '../src/lib/stats.js';

// The UI's pure helpers, without a browser.

describe('linkify', () => {
  it('splits text into text and http(s) link tokens', () => {
    expect(linkify('see https://example.com/a?b=1, then www.roomcast.dev.')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
      { kind: 'text', text: ', then ' },
      { kind: 'link', text: 'www.roomcast.dev', href: 'https://www.roomcast.dev' },
      { kind: 'text', text: '.' },
    ]);
  });

  it('never links other schemes, and keeps markup as plain text', () => {
    for (const s of ['javascript:alert(1)', 'data:text/html,<script>x</script>', '<a href="https://x.y">x</a>']) {
      const toks = linkify(s);
      expect(toks.map((t) => t.text).join('')).toBe(s);
      for (const t of toks) if (t.kind === 'link') expect(t.href).toMatch(/^https:\/\/x\.y/);
    }
    expect(linkify('javascript:alert(1)')).toEqual([{ kind: 'text', text: 'javascript:alert(1)' }]);
  });

  it('keeps balanced parentheses and drops trailing punctuation, in any language', () => {
    expect(linkify('(https://en.wikipedia.org/wiki/Chat_(software))')[1]).toMatchObject({ href: 'https://en.wikipedia.org/wiki/Chat_(software)' });
    expect(linkify('看这里：https://example.cn/页面。')[1]).toMatchObject({ href: 'https://example.cn/页面' });
  });
});

describe('helpers', () => {
  it('picks the language from the saved choice, else the browser', () => {
    expect(pickLocale(null, ['zh-TW', 'en'])).toBe('zh-CN');
    expect(pickLocale(null, ['fr-FR', 'en-GB'])).toBe('en');
    expect(pickLocale('en', ['zh-CN'])).toBe('en');
    expect(pickLocale(null, ['de'])).toBe('en');
  });

  it('routes hashes and reads room ids from links', () => {
    expect(parseRoute('#/r/r-7k2m9xq')).toEqual({ name: 'room', id: 'r-7k2m9xq' });
    expect(parseRoute('#/dm/u_1')).toEqual({ name: 'dm', user: 'u_1' });
    expect(parseRoute('#/admin')).toEqual({ name: 'admin' });
    expect(parseRoute('')).toEqual({ name: 'home' });
    expect(roomIdFrom(' http://chat.example:8080/#/r/r-abc ')).toBe('r-abc');
    expect(roomIdFrom('lobby')).toBe('lobby');
  });

  it('makes avatar initials and day labels', () => {
    expect(initials('Dana (ops)')).toBe('DO');
    expect(initials('小明')).toBe('小');
    expect(initials('   ')).toBe('?');
    const now = new Date(2026, 10, 23, 12).getTime();
    const words = { today: 'Today', yesterday: 'Yesterday' };
    expect(dayLabel(now - 3600_000, 'en', words, now)).toBe('Today');
    expect(dayLabel(now - 86_400_000, 'en', words, now)).toBe('Yesterday');
  });

  it('computes messages per second and chart points', () => {
    expect(rate(null, { at: 1000, messagesIn: 5 })).toBe(0);
    expect(rate({ at: 1000, messagesIn: 5 }, { at: 3000, messagesIn: 25 })).toBe(10);
    expect(rate({ at: 1000, messagesIn: 50 }, { at: 2000, messagesIn: 3 })).toBe(0); // restarted
    const c = chartPoints([0, 5, 10], 100, 50, 3);
    expect(c.max).toBe(10);
    expect(c.line).toBe('0.0,50.0 50.0,27.0 100.0,4.0');
  });
});

describe('mentions', () => {
  const users = [
    { id: 'u1', name: 'Alice' },
    { id: 'u2', name: 'Bob' },
    { id: 'u3', name: 'Bobby' },
    { id: 'u4', name: '小明' },
  ];

  it('finds the "@query" before the caret, only at a word start', () => {
    expect(queryAt('hi @Bo', 6)).toEqual({ start: 3, query: 'Bo' });
    expect(queryAt('@', 1)).toEqual({ start: 0, query: '' });
    expect(queryAt('mail me@example', 15)).toBeNull();
    expect(queryAt('hi @Bo there', 12)).toBeNull();
    expect(queryAt('（@小', 3)).toEqual({ start: 1, query: '小' });
  });

  it('suggests names starting with the query first, then containing it', () => {
    expect(suggest(users, 'bo').map((u) => u.name)).toEqual(['Bob', 'Bobby']);
    expect(suggest(users, 'ob').map((u) => u.name)).toEqual(['Bob', 'Bobby']);
    expect(suggest(users, '').length).toBe(4);
    expect(suggest(users, 'li').map((u) => u.name)).toEqual(['Alice']);
  });

  it('completes the query with the name and a space', () => {
    expect(complete('hi @Bo', 3, 6, 'Bobby')).toEqual({ text: 'hi @Bobby ', caret: 10 });
    expect(complete('@小 你好', 0, 2, '小明')).toEqual({ text: '@小明 你好', caret: 4 });
  });

  it('tells which members the text calls by name', () => {
    expect(mentionedIds('@Bob and @小明你好', users)).toEqual(['u2', 'u4']);
    expect(mentionedIds('@Bobby only', users)).toEqual(['u3']);
    expect(mentionedIds('alice@Alice.example', users)).toEqual([]);
    expect(mentionedIds('no mentions', users)).toEqual([]);
  });

  it('splits text tokens at the mentions, marking mine', () => {
    expect(withMentions([{ kind: 'text', text: 'hey @Bob, @Bobby and @小明!' }], [{ name: 'Bob', me: true }, { name: '小明', me: false }])).toEqual([
      { kind: 'text', text: 'hey ' },
      { kind: 'mention', text: '@Bob', me: true },
      { kind: 'text', text: ', @Bobby and ' },
      { kind: 'mention', text: '@小明', me: false },
      { kind: 'text', text: '!' },
    ]);
  });
});

describe('search snippets', () => {
  it('cuts the text around the first match, case-insensitively', () => {
    expect(snippet('Deploy at five', 'deploy')).toEqual({ before: '', match: 'Deploy', after: ' at five' });
    const long = `${'a'.repeat(60)} needle ${'b'.repeat(100)}`;
    const s = snippet(long, 'needle', 10);
    expect(s.before).toBe(`…${'a'.repeat(9)} `);
    expect(s.match).toBe('needle');
    expect(s.after.endsWith('…')).toBe(true);
  });
});
