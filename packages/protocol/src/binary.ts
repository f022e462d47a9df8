// Binary frames: 4-byte big-endian header length N, N bytes of UTF-8 JSON header, then the payload.
// Uint8Array only (no Buffer) so the SDK can use this in browsers and mini programs.

/**
 * UTF-8 for the JSON header. The default is TextEncoder/TextDecoder; the SDK passes its own in
 * runtimes without them (some mini-program base libraries). `decode` throws on invalid UTF-8.
 */
export interface Utf8Codec {
  encode(text: string): Uint8Array;
  decode(bytes: Uint8Array): string;
}

// Made on first use: a runtime without TextEncoder can still import this module.
let native: Utf8Codec | undefined;
function nativeUtf8(): Utf8Codec {
  if (!native) {
    const encoder = new TextEncoder();
    const decoder = new TextDecoder('utf-8', { fatal: true });
    native = { encode: (text) => encoder.encode(text), decode: (bytes) => decoder.decode(bytes) };
  }
  return native;
}

/** Largest JSON header accepted in a binary frame. */
export const MAX_BINARY_HEADER = 16 * 1024;

/** Builds a binary frame from a JSON header and a payload. */
export function encodeBinaryFrame(header: object, payload: Uint8Array, utf8: Utf8Codec = nativeUtf8()): Uint8Array {
  const head = utf8.encode(JSON.stringify(header));
  const out = new Uint8Array(4 + head.length + payload.length);
  new DataView(out.buffer).setUint32(0, head.length, false);
  out.set(head, 4);
  out.set(payload, 4 + head.length);
  return out;
}

export type DecodedBinaryFrame =
  | { ok: true; header: unknown; payload: Uint8Array }
  | { ok: false; reason: string };

/** Splits a binary frame into its parsed JSON header and its payload (a view, not a copy). */
export function decodeBinaryFrame(frame: Uint8Array, utf8: Utf8Codec = nativeUtf8()): DecodedBinaryFrame {
  if (frame.length < 4) return { ok: false, reason: 'binary frame is shorter than its 4-byte header length' };
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const n = view.getUint32(0, false);
  if (n === 0 || n > MAX_BINARY_HEADER) {
    return { ok: false, reason: `binary frame header length must be 1–${MAX_BINARY_HEADER} bytes, got ${n}` };
  }
  if (4 + n > frame.length) return { ok: false, reason: `binary frame header length ${n} runs past the end of the frame` };
  let header: unknown;
  try {
    header = JSON.parse(utf8.decode(frame.subarray(4, 4 + n)));
  } catch {
    return { ok: false, reason: 'binary frame header is not valid UTF-8 JSON' };
  }
  return { ok: true, header, payload: frame.subarray(4 + n) };
}
