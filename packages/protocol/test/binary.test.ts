import { describe, expect, it } from 'vitest';
import { MAX_BINARY_HEADER, decodeBinaryFrame, encodeBinaryFrame } from '../src/binary.js';

/** A frame with an arbitrary declared header length and body. */
function rawFrame(declared: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, declared, false);
  out.set(body, 4);
  return out;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

function reasonOf(frame: Uint8Array): string {
  const d = decodeBinaryFrame(frame);
  if (d.ok) throw new Error('decoded a malformed frame');
  return d.reason;
}

describe('binary frames', () => {
  it('round-trips header and payload; the length prefix is big-endian', () => {
    const header = { op: 'send', room: 'café', mime: 'image/png', ref: 7 };
    const payload = new Uint8Array(300).map((_, i) => i % 256);
    const frame = encodeBinaryFrame(header, payload);
    const headerBytes = utf8(JSON.stringify(header));
    expect([...frame.subarray(0, 4)]).toEqual([0, 0, (headerBytes.length >> 8) & 255, headerBytes.length & 255]);
    expect(frame.length).toBe(4 + headerBytes.length + payload.length);

    const d = decodeBinaryFrame(frame);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.header).toEqual(header);
    expect(d.payload).toEqual(payload);
  });

  it('accepts an empty payload, and a frame inside a larger buffer', () => {
    const empty = decodeBinaryFrame(encodeBinaryFrame({ a: 1 }, new Uint8Array(0)));
    expect(empty).toEqual({ ok: true, header: { a: 1 }, payload: new Uint8Array(0) });

    const frame = encodeBinaryFrame({ op: 'dm' }, new Uint8Array([9, 8, 7]));
    const backing = new Uint8Array(frame.length + 10).fill(0xee);
    backing.set(frame, 5);
    const d = decodeBinaryFrame(backing.subarray(5, 5 + frame.length));
    expect(d).toEqual({ ok: true, header: { op: 'dm' }, payload: new Uint8Array([9, 8, 7]) });
  });

  it('accepts a header of exactly MAX_BINARY_HEADER bytes', () => {
    const header = { p: 'x'.repeat(MAX_BINARY_HEADER - 8) }; // {"p":"…"} is 8 bytes of JSON around it
    const frame = encodeBinaryFrame(header, new Uint8Array([1]));
    expect(new DataView(frame.buffer).getUint32(0)).toBe(MAX_BINARY_HEADER);
    expect(decodeBinaryFrame(frame)).toMatchObject({ ok: true, header });
  });

  it('refuses frames shorter than the 4-byte length', () => {
    expect(reasonOf(new Uint8Array(0))).toMatch(/shorter than its 4-byte header length/);
    expect(reasonOf(new Uint8Array([0, 0, 1]))).toMatch(/shorter than its 4-byte header length/);
  });

  it('refuses a header length of zero or above the maximum', () => {
    expect(reasonOf(rawFrame(0, utf8('{}')))).toMatch(/header length must be 1–16384 bytes, got 0/);
    const big = MAX_BINARY_HEADER + 1;
    expect(reasonOf(rawFrame(big, new Uint8Array(big + 10)))).toMatch(new RegExp(`got ${big}$`));
    expect(reasonOf(rawFrame(0xffffffff, utf8('{}')))).toMatch(/got 4294967295/);
  });

  it('refuses a header that runs past the end of the frame', () => {
    expect(reasonOf(rawFrame(10, utf8('{"a":1}')))).toMatch(/header length 10 runs past the end/);
  });

  it('refuses a header that is not UTF-8 JSON', () => {
    expect(reasonOf(rawFrame(5, utf8('{oops')))).toMatch(/not valid UTF-8 JSON/);
    expect(reasonOf(rawFrame(4, new Uint8Array([0x22, 0xff, 0xfe, 0x22])))).toMatch(/not valid UTF-8 JSON/);
    // The header ends where its length says: valid JSON followed by payload bytes.
    expect(decodeBinaryFrame(rawFrame(2, utf8('{}garbage')))).toMatchObject({ ok: true, header: {}, payload: utf8('garbage') });
  });
});
