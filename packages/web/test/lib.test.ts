import { describe, expect, it } from 'vitest';
import { dayLabel, fullDate, hueOf, initials, userColor } from '../src/lib/format.js';
import { en } from '../src/lib/i18n-en.js';
import { zh } from '../src/lib/i18n-zh.js';
import { pickLocale } from '../src/lib/i18n.js';
import { linkify } from '../src/lib/linkify.js';
import { complete, mentionedIds, queryAt, suggest, withMentions } from '../src/lib/mentions.js';
import { nameTags, tagged, tagOf } from '../src/lib/name-tags.js';
import { runText, summarize } from '../src/lib/notices.js';
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

  it('calls only the picked one of two users with the same name, or both when typed by hand', () => {
    const alices = [{ id: 'a1', name: 'Alice' }, { id: 'a2', name: 'Alice' }, { id: 'b', name: 'Bob' }];
    expect(mentionedIds('@Alice hi', alices, new Set(['a2']))).toEqual(['a2']);
    expect(mentionedIds('@Alice and @Alice', alices, new Set(['a1', 'a2']))).toEqual(['a1', 'a2']);
    expect(mentionedIds('@Alice hi', alices)).toEqual(['a1', 'a2']);
    // A pick only decides between same-name users: Bob, unique, is called whether picked or not.
    expect(mentionedIds('@Alice @Bob', alices, new Set(['a1']))).toEqual(['a1', 'b']);
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

// ---- H4: same-name tags, merged join/leave notices, user colours, full dates ----------------------

describe('same-name tags', () => {
  it('tags only names two or more users share, case and width aside, from the user id', () => {
    const people = [
      { id: 'u_a1', name: 'Alice' },
      { id: 'u_a2', name: 'alice ' },
      { id: 'u_b', name: 'Bob' },
      { id: 'u_a1', name: 'Alice' }, // the same person seen twice is one person
      { id: 'u_x', name: '小明' },
    ];
    const tags = nameTags(people);
    expect([...tags.keys()].sort()).toEqual(['u_a1', 'u_a2']);
    expect(tags.get('u_a1')).toBe(tagOf('u_a1'));
    expect(tags.get('u_a1')).toMatch(/^\d{4}$/);
    expect(tags.get('u_a1')).not.toBe(tags.get('u_a2'));
    expect(tagged({ id: 'u_a1', name: 'Alice' }, tags)).toBe(`Alice #${tagOf('u_a1')}`);
    expect(tagged({ id: 'u_b', name: 'Bob' }, tags)).toBe('Bob');
    // Stable: whoever else is known, in whatever order, a person's tag is the same.
    const other = nameTags([{ id: 'u_a3', name: 'Alice' }, { id: 'u_a1', name: 'Alice' }]);
    expect(other.get('u_a1')).toBe(tags.get('u_a1'));
  });

  it('lengthens the tags of a name whose users collide in four digits', () => {
    // Find two ids with the same four-digit tag (there are many among a few thousand).
    const seen = new Map<string, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; !pair; i++) {
      const id = `u_${i}`;
      const t = tagOf(id);
      const before = seen.get(t);
      if (before) pair = [before, id];
      else seen.set(t, id);
    }
    const tags = nameTags(pair.map((id) => ({ id, name: 'Sam' })));
    expect(tags.get(pair[0])).toMatch(/^\d{6,8}$/);
    expect(tags.get(pair[0])).not.toBe(tags.get(pair[1]));
  });
});

describe('join/leave notices', () => {
  const words = (lang: 'en' | 'zh') => {
    const d = lang === 'en' ? en : zh;
    return { joined: d['chat.joined'], left: d['chat.left'], two: d['notice.two'], three: d['notice.three'], many: d['notice.many'], sep: d['notice.sep'] };
  };
  const j = (id: string, name = id) => ({ event: 'join' as const, id, name });
  const l = (id: string, name = id) => ({ event: 'leave' as const, id, name });

  it('merges a run into one line, in both languages', () => {
    const en = words('en');
    const zh = words('zh');
    expect(runText([j('Bob')], en)).toBe('Bob joined');
    expect(runText([j('Bob'), j('小明')], en)).toBe('Bob and 小明 joined');
    expect(runText([j('Bob'), j('小明')], zh)).toBe('Bob 和 小明 加入了');
    expect(runText([l('Bob'), l('Carol'), l('Dan')], en)).toBe('Bob, Carol and Dan left');
    expect(runText([l('Bob'), l('Carol'), l('Dan'), l('Eve')], en)).toBe('Bob, Carol and 2 others left');
    expect(runText([l('Bob'), l('Carol'), l('Dan'), l('Eve')], zh)).toBe('Bob、Carol 和另外 2 人 离开了');
    expect(runText([j('Bob'), l('Carol')], en)).toBe('Bob joined; Carol left');
    expect(runText([j('Bob'), l('Carol')], zh)).toBe('Bob 加入了；Carol 离开了');
  });

  it('cancels a join and a leave of the same person, in either order', () => {
    const en = words('en');
    expect(runText([j('Bob'), l('Bob')], en)).toBe('');
    expect(runText([l('Bob'), j('Bob')], en)).toBe(''); // a reload
    expect(runText([j('Bob'), j('Carol'), l('Bob')], en)).toBe('Carol joined');
    expect(runText([j('Bob'), l('Bob'), j('Bob')], en)).toBe('Bob joined');
    // Two people with one name are two people: one coming does not cancel the other going.
    expect(summarize([j('u1', 'Alice #1234'), l('u2', 'Alice #0042')])).toEqual({ joined: ['Alice #1234'], left: ['Alice #0042'] });
  });
});

describe('user colours and dates', () => {
  const rgbOf = (css: string): [number, number, number] => {
    const m = /hsl\((\d+) (\d+)% ([\d.]+)%\)/.exec(css)!;
    const [h, s, l] = [Number(m[1]), Number(m[2]) / 100, Number(m[3]) / 100];
    const a = s * Math.min(l, 1 - l);
    const f = (n: number) => {
      const k = (n + h / 30) % 12;
      return l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    };
    return [f(0), f(8), f(4)];
  };
  const lum = (rgb: readonly number[]) => {
    const [r, g, b] = rgb.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a: number, b: number) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);

  it('keeps every hue at AA contrast: white initials on avatars, names on the page', () => {
    const page = lum([0xf4 / 255, 0xf5 / 255, 0xfa / 255]);
    const ids = Array.from({ length: 2000 }, (_, i) => `u_${i}`);
    expect(new Set(ids.map(hueOf)).size).toBe(360);
    for (const id of ids) {
      expect(contrast(1, lum(rgbOf(userColor(id, 0.17))))).toBeGreaterThanOrEqual(4.5);
      expect(contrast(page, lum(rgbOf(userColor(id, 0.15))))).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('writes the full date for titles and screen readers', () => {
    const ts = new Date(2026, 11, 1, 17, 30).getTime();
    expect(fullDate(ts, 'en')).toMatch(/^Tuesday, December 1, 2026.*5:30\sPM$/);
    expect(fullDate(ts, 'zh-CN')).toContain('2026年12月1日星期二');
  });
});

describe('failed sends', () => {
  it('offer Retry only when a retry can work: never for moderation refusals', async () => {
    const { canRetry } = await import('../src/lib/sending.js');
    const failed = (errorCode: string) => ({ state: 'failed', errorCode }) as Parameters<typeof canRetry>[0];
    for (const code of ['rejected', 'banned', 'muted', 'too_large', 'forbidden']) expect(canRetry(failed(code))).toBe(false);
    for (const code of ['slow_mode', 'rate_limited', 'unavailable']) expect(canRetry(failed(code))).toBe(true);
  });

  it('explain the moderation refusals in both languages', () => {
    for (const key of ['err.rejected', 'err.banned', 'err.muted', 'err.slow_mode'] as const) {
      expect(en[key]).toBeTruthy();
      expect(zh[key]).toBeTruthy();
    }
  });
});
