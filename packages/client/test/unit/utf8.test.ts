import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeUtf8, encodeUtf8 } from '../../src/utf8.js';

// The built-in UTF-8 codec (for runtimes without TextEncoder/TextDecoder) against Node's own,
// which follows the WHATWG Encoding standard.

const encoder = new TextEncoder();
const strict = new TextDecoder('utf-8', { fatal: true });

/** What the strict TextDecoder makes of `bytes`: the string, or 'throws'. */
function reference(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    return 'throws';
  }
}

function ours(bytes: Uint8Array): string {
  try {
    return decodeUtf8(bytes);
  } catch {
    return 'throws';
  }
}

describe('built-in UTF-8 codec', () => {
  it('encodes every string as TextEncoder does, lone surrogates included', () => {
    for (const s of ['', 'abc', 'café', '图片.png', '👋🏽', '\u{10ffff}', 'a\ud800b', '\udc00', 'x\ud83d']) {
      expect([...encodeUtf8(s)], JSON.stringify(s)).toEqual([...encoder.encode(s)]);
    }
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => encodeUtf8(s).join() === encoder.encode(s).join()));
  });

  it('decodes what it encodes, and JSON headers round-trip', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => decodeUtf8(encodeUtf8(s)) === new TextDecoder().decode(encoder.encode(s))));
    const header = { op: 'send', name: 'ça.gif', meta: { note: '你好 👋' } };
    expect(JSON.parse(decodeUtf8(encodeUtf8(JSON.stringify(header))))).toEqual(header);
  });

  it('refuses what a strict TextDecoder refuses: overlong, surrogate, out-of-range and truncated sequences', () => {
    const bad = [[0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xe4, 0xbd], [0x80], [0xff], [0x61, 0xc3]];
    for (const b of bad) expect(ours(new Uint8Array(b)), b.join(',')).toBe('throws');
    fc.assert(fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => ours(bytes) === reference(bytes)), { numRuns: 5000 });
  });
});
