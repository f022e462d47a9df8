import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { badWord, maskSpans, WordMatcher } from '../../src/gate/filter-words.js';

// The word matcher on its own: folding (case, width), Chinese, phrases, masking by position in the
// text as written, and the property that masking keeps the length and leaves nothing to find.

const mask = (m: WordMatcher, text: string) => maskSpans(text, m.find(text));

describe('WordMatcher', () => {
  const m = new WordMatcher(['fuck', '敏感词', 'bad word', 'ass']);

  it('matches case- and width-insensitively and masks the text as written', () => {
    expect(mask(m, 'what the ｆｕｃｋ')).toBe('what the ****');
    expect(mask(m, 'FUCK this, Fuck that')).toBe('**** this, **** that');
    expect(mask(m, 'no match here')).toBe('no match here');
  });

  it('matches Chinese words and phrases with spaces', () => {
    expect(mask(m, '这是敏感词吗')).toBe('这是***吗');
    expect(mask(m, 'a BAD WORD!')).toBe('a ********!');
  });

  it('sees through zero-width characters put inside a word', () => {
    expect(m.find('f\u200Buck').length).toBe(1);
    expect(mask(m, 'f\u200Buck')).toBe('*****');
  });

  it('drops combining marks, variation selectors, U+034F and the Hangul fillers inside a word', () => {
    for (const t of ['fu\u0301ck', 'fúck', 'f\uFE0Fuck', 'f\u{E0100}uck', 'f\u034Fuck', 'f\u3164uck', 'f\u115Fuck', 'f\uFFA0uck', 'f\u2060uck']) {
      expect(m.find(t).length, JSON.stringify(t)).toBe(1);
      expect(mask(m, t), JSON.stringify(t)).toBe('*'.repeat([...t].length));
    }
    // Spaces are kept (as U+0020): a phrase needs them, and words side by side stay apart.
    expect(mask(m, 'a bad\u00A0word')).toBe('a ********');
    expect(m.find('f u c k')).toEqual([]);
  });

  it('masks a surrogate pair as one character', () => {
    const emoji = new WordMatcher(['😀x']);
    expect(mask(emoji, 'a😀x')).toBe('a**');
  });

  it('refuses words with no visible characters or with the masking character', () => {
    expect(badWord('\u200B')).not.toBeNull();
    expect(badWord('a*b')).not.toBeNull();
    expect(badWord('ａ＊ｂ')).not.toBeNull();
    expect(new WordMatcher(['a*b', 'ok']).size).toBe(1);
  });

  it('handles 10,000 words', () => {
    const words = Array.from({ length: 10_000 }, (_, i) => `w${i.toString(36)}x`);
    const big = new WordMatcher(words);
    expect(big.size).toBe(10_000);
    expect(mask(big, 'say W1Z3X now')).toBe(`say ${'*'.repeat(5)} now`);
  });
});

describe('masking (property)', () => {
  const alphabet = fc.constantFrom('a', 'b', 'A', 'Ｂ', 'ａ', '敏', '感', ' ', '\u200B', '😀', 'ﬁ', 'İ', '*', 'x', '\u0301', 'á', '\uFE0F', '\u3164', '\u00A0');
  const word = fc.array(alphabet, { minLength: 1, maxLength: 4 }).map((cs) => cs.join(''));

  it('keeps the length in code points and leaves no listed word findable', () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 6 }), fc.array(alphabet, { maxLength: 40 }), (words, chars) => {
        const m = new WordMatcher(words);
        const text = chars.join('');
        const masked = mask(m, text);
        expect([...masked].length).toBe([...text].length);
        expect(m.find(masked)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});
