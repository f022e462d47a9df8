import type { Utf8Codec } from '@roomcast/protocol';

// UTF-8 for binary frames' JSON headers. Browsers and Node have TextEncoder/TextDecoder; some
// WeChat base libraries (and other mini-program runtimes) do not, and a binary message there
// failed with a bare ReferenceError. The built-in one below is used only when they are missing.

interface TextEncoderLike {
  encode(text: string): Uint8Array;
}
interface TextDecoderLike {
  decode(bytes: Uint8Array): string;
}
interface TextGlobals {
  TextEncoder?: new () => TextEncoderLike;
  TextDecoder?: new (label: string, options: { fatal: boolean }) => TextDecoderLike;
}

/** Encodes like TextEncoder: a lone surrogate becomes U+FFFD. */
export function encodeUtf8(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        c = 0xfffd;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}

/** The smallest code point each sequence length may encode: anything below is an overlong form. */
const MIN_CODE_POINT = [0, 0x80, 0x800, 0x10000];

/**
 * Decodes strictly, like `new TextDecoder('utf-8', { fatal: true })`: overlong forms, surrogates,
 * code points past U+10FFFF and truncated sequences throw (a header that is not UTF-8 is refused,
 * never guessed at).
 */
export function decodeUtf8(bytes: Uint8Array): string {
  let s = '';
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0; // a BOM is skipped, as TextDecoder does
  while (i < bytes.length) {
    const b = bytes[i] as number;
    // The lead byte says how many continuation bytes follow (C0, C1 and F5–FF never lead).
    const n = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (n < 0) throw new TypeError(`invalid UTF-8 lead byte 0x${b.toString(16)} at ${i}`);
    let c = n === 0 ? b : b & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const cont = bytes[i + k];
      if (cont === undefined || (cont & 0xc0) !== 0x80) throw new TypeError(`invalid or truncated UTF-8 sequence at ${i}`);
      c = (c << 6) | (cont & 63);
    }
    if (c < (MIN_CODE_POINT[n] as number) || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) throw new TypeError(`invalid UTF-8 sequence at ${i}`);
    s += c < 0x10000 ? String.fromCharCode(c) : String.fromCharCode(0xd800 + ((c - 0x10000) >> 10), 0xdc00 + ((c - 0x10000) & 1023));
    i += n + 1;
  }
  return s;
}

/** The built-in codec, whatever the runtime has (exported for tests). */
export const fallbackUtf8: Utf8Codec = { encode: encodeUtf8, decode: decodeUtf8 };

let chosen: Utf8Codec | undefined;

/**
 * The codec binary frames use: the runtime's TextEncoder/TextDecoder when it has both, else the
 * built-in one. Chosen on first use, so a polyfill loaded after the SDK still counts.
 */
export function utf8(): Utf8Codec {
  if (chosen) return chosen;
  const g = globalThis as TextGlobals;
  if (typeof g.TextEncoder === 'function' && typeof g.TextDecoder === 'function') {
    const encoder = new g.TextEncoder();
    const decoder = new g.TextDecoder('utf-8', { fatal: true });
    chosen = { encode: (text) => encoder.encode(text), decode: (bytes) => decoder.decode(bytes) };
  } else {
    chosen = fallbackUtf8;
  }
  return chosen;
}
