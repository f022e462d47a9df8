import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPatterns, luhn, PatternError, validIdCn } from '../../src/gate/filter-patterns.js';
import { maskSpans } from '../../src/gate/filter-words.js';

// The pattern presets with valid and invalid samples (checksums), and regex files: a catastrophic
// expression is refused at load, naming its line.

const tempDir = () => mkdtempSync(join(tmpdir(), 'roomcast-patterns-'));
const masked = (list: string, text: string) => maskSpans(text, loadPatterns(list).flatMap((p) => p.find(text)));

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
  it('reads one expression a line, skipping comments and blank lines', () => {
    const file = join(tempDir(), 'patterns.txt');
    writeFileSync(file, '# order numbers\n\nORD-\\d{6}\n');
    expect(masked(`file:${file}`, 'see ORD-123456')).toBe('see **********');
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
