import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emailSpans, loadPatterns, luhn, PatternError, validIdCn } from '../../src/gate/filter-patterns.js';
import { maskSpans } from '../../src/gate/filter-words.js';
import { MessageFilter } from '../../src/gate/filter.js';

// The pattern presets with valid and invalid samples (checksums), and regex files: a catastrophic
// expression is refused at load, naming its line.

const tempDir = () => mkdtempSync(join(tmpdir(), 'roomcast-patterns-'));
const masked = (list: string, text: string) => maskSpans(text, loadPatterns(list).presets.flatMap((p) => p.find(text)));

describe('presets', () => {
  it('phone-cn: mainland mobile numbers, not other digit runs', () => {
    expect(masked('phone-cn', 'call 13812345678 now')).toBe('call *********** now');
    expect(masked('phone-cn', 'call +86 138-1234-5678')).toBe(`call ${'*'.repeat(17)}`);
    expect(masked('phone-cn', 'not 12812345678, not 1381234567, not 138123456789')).toBe('not 12812345678, not 1381234567, not 138123456789');
  });

  it('id-cn: 18-digit ids with a valid MOD 11-2 check character only', () => {
    expect(validIdCn('11010519491231002X')).toBe(true);
    expect(validIdCn('110105194912310021')).toBe(false);
    expect(masked('id-cn', 'id 11010519491231002X.')).toBe(`id ${'*'.repeat(18)}.`);
    expect(masked('id-cn', 'id 11010519491231002x')).toBe(`id ${'*'.repeat(18)}`);
    expect(masked('id-cn', 'id 110105194912310021')).toBe('id 110105194912310021');
  });

  it('email', () => {
    expect(masked('email', 'write to ann.lee+chat@example.co.uk!')).toBe(`write to ${'*'.repeat(26)}!`);
    expect(masked('email', 'not an@address')).toBe('not an@address');
    expect(masked('email', 'a@b.cc1@x.yy and z@q..com @c.de')).toBe('************ and z@q..com @c.de');
  });

  it('email runs in linear time (the regex it replaces took seconds on this)', () => {
    for (const text of ['a'.repeat(200_000), `a@${'a-'.repeat(100_000)}`, `a@a${'.a'.repeat(100_000)}`, 'a@'.repeat(100_000)]) {
      const t0 = performance.now();
      emailSpans(text);
      expect(performance.now() - t0).toBeLessThan(500);
    }
  });

  it('card: 13 to 19 digits with spaces or dashes, Luhn-valid only', () => {
    expect(luhn('4111111111111111')).toBe(true);
    expect(luhn('4111111111111112')).toBe(false);
    expect(masked('card', 'card 4111 1111 1111 1111 ok')).toBe(`card ${'*'.repeat(19)} ok`);
    expect(masked('card', 'card 4111-1111-1111-1111')).toBe(`card ${'*'.repeat(19)}`);
    expect(masked('card', 'card 4111 1111 1111 1112')).toBe('card 4111 1111 1111 1112');
    expect(masked('card', 'short 411111111111')).toBe('short 411111111111');
  });

  it('several at once, and an unknown name is refused', () => {
    expect(masked('phone-cn,email', '13812345678 a@b.cn')).toBe('*********** ******');
    expect(() => loadPatterns('phone')).toThrow(/unknown preset "phone"/);
  });
});

describe('file:PATH', () => {
  it('reads one expression a line, skipping comments and blank lines', async () => {
    const file = join(tempDir(), 'patterns.txt');
    writeFileSync(file, '# order numbers\n\nORD-\\d{6}\n');
    expect(loadPatterns(`file:${file}`).files.map((f) => f.source)).toEqual(['ORD-\\d{6}']);
    const filter = new MessageFilter({ wordsFile: '', patterns: `file:${file}`, mode: 'mask' });
    expect(await filter.check('see ORD-123456')).toEqual({ action: 'replace', text: 'see **********' });
    filter.close();
  });

  it('refuses a repeated group holding an alternation or a repetition, which safe-regex2 lets through', () => {
    const file = join(tempDir(), 'patterns.txt');
    for (const source of ['(\\w|\\d)*!', '(a|a)*$', '(a|aa)*b', '(?:(a|b)c)+', '(?:ab|a){2,9}']) {
      writeFileSync(file, `${source}\n`);
      expect(() => loadPatterns(`file:${file}`), source).toThrow(/line 1: .* can backtrack catastrophically \(a repeated group/);
    }
    for (const source of ['(foo|bar)', '(ab)+c', '(a|b)?c', '[(|)]+', '\\(a|b\\)*', '\\p{L}{2,}(x)+', '(?:ab){2}']) {
      writeFileSync(file, `${source}\n`);
      expect(loadPatterns(`file:${file}`).files.length, source).toBe(1);
    }
  });

  it('refuses a catastrophic expression at load, naming its line', () => {
    const file = join(tempDir(), 'patterns.txt');
    writeFileSync(file, 'ok\\d+\n(a+)+$\n');
    expect(() => loadPatterns(`file:${file}`)).toThrow(PatternError);
    expect(() => loadPatterns(`file:${file}`)).toThrow(/line 2: "\(a\+\)\+\$" can backtrack catastrophically/);
  });

  it('refuses an invalid expression and a missing file', () => {
    const file = join(tempDir(), 'patterns.txt');
    writeFileSync(file, '[unclosed\n');
    expect(() => loadPatterns(`file:${file}`)).toThrow(/line 1: not a valid regular expression/);
    expect(() => loadPatterns(`file:${file}.missing`)).toThrow(/cannot read it \(ENOENT\)/);
  });
});
