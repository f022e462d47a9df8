// What the hostile clients of scenario H send: junk and protocol-violating frames for the
// flooders, and oversized or deeply nested requests for the `meta` kind. Big payloads are built
// once per process and shared: a frame is written as [header, ...parts] in one corked write, so
// no frame is ever copied per send (the zero mask key leaves the payload as is).
import { randomBytes } from 'node:crypto';
import { clientHeader } from './rawws.mjs';

const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_PING = 0x9;

const b = (/** @type {string | Buffer} */ v) => (typeof v === 'string' ? Buffer.from(v) : v);

/** One masked (zero-key) client frame as a list of buffers: header, then the payload's parts. */
export function frameParts(/** @type {Array<string | Buffer>} */ parts, opcode = OP_TEXT) {
  const bufs = parts.map(b);
  const len = bufs.reduce((n, p) => n + p.length, 0);
  return [clientHeader(opcode, len), ...bufs];
}

/** One frame in one buffer (for the small ones, concatenated into flood chunks). */
export function frame(/** @type {string | Buffer} */ payload, opcode = OP_TEXT) {
  return Buffer.concat(frameParts([payload], opcode));
}

export const pingFrame = () => frame('are you there', OP_PING);

/**
 * About `size` bytes of frames cycling through `frames`, as one buffer the flooder writes again
 * and again; with how many frames it holds.
 */
function chunkOf(/** @type {Buffer[]} */ frames, size = 64 * 1024) {
  const out = [];
  let bytes = 0;
  for (let i = 0; bytes < size; i++) {
    const f = frames[i % frames.length];
    out.push(f);
    bytes += f.length;
  }
  return { buf: Buffer.concat(out), frames: out.length };
}

/**
 * The flood variants (by client index): each a chunk of frames the server must read, unmask,
 * check and refuse. The last one is not a flood but a protocol violation per connection, after
 * which `ws` closes the connection (1002, 1007) and the client comes back: upgrade churn.
 */
export const FLOODS = [
  {
    name: 'junk JSON',
    // Valid UTF-8 text frames that are not requests; one carries a ref, so each gets a reply.
    chunk: chunkOf(['not json', '{}', '[]', 'null', '{"op":42}', '{"op":"send"}', '{"op":"nope","ref":1}', '{"op":"send","room":7,"text":[]}'].map((t) => frame(t))),
  },
  { name: '1-byte frames', chunk: chunkOf([frame('x'), frame(Buffer.from([0x7b]), OP_BINARY), frame(''), frame('1')]) },
  {
    name: 'random binary',
    chunk: chunkOf(Array.from({ length: 64 }, (_, i) => frame(randomBytes(1 + i), OP_BINARY))),
  },
];

/** Frames `ws` must refuse by closing the connection (one per connection, in turn). */
export const VIOLATIONS = [
  { name: 'invalid UTF-8 text', bytes: frame(Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0x80])) },
  { name: 'RSV1 set', bytes: (() => { const f = frame('{"op":"ping"}'); f[0] |= 0x40; return f; })() },
  { name: 'unmasked frame', bytes: Buffer.concat([Buffer.from([0x81, 13]), Buffer.from('{"op":"ping"}')]) },
  { name: 'reserved opcode', bytes: frame('hello', 0x3) },
  { name: 'continuation first', bytes: frame('hello', 0x0) },
];

// ---- meta -------------------------------------------------------------------------------------

const DEEP_OBJECT_LEVELS = 10_000;
const DEEP_ARRAY_LEVELS = 100_000;
/** 2048 bytes of JSON is the `meta` limit (docs/protocol.md, Limits). */
const META_LIMIT = 2048;
/** The largest frame roomcast reads with the default limits (max(1 MiB + 16388, 4 × 4000 + 16384)). */
const FRAME_LIMIT = 1_064_964;

const deepObject = Buffer.from('{"a":'.repeat(DEEP_OBJECT_LEVELS) + '1' + '}'.repeat(DEEP_OBJECT_LEVELS));
const deepArray = Buffer.from('['.repeat(DEEP_ARRAY_LEVELS) + ']'.repeat(DEEP_ARRAY_LEVELS));
/** `{"p":"…"}` of exactly `bytes` bytes of JSON. */
const metaOf = (/** @type {number} */ bytes) => Buffer.from(`{"p":"${'m'.repeat(bytes - 8)}"}`);
const wideMeta = Buffer.from(`{${Array.from({ length: 50_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`);
const hugeText = Buffer.from('x'.repeat(FRAME_LIMIT - 64_964));
const overText = Buffer.from('x'.repeat(FRAME_LIMIT + 35_036));

/**
 * The `meta` kind's requests, sent in turn by each client to the room it joined. The ref names
 * the variant, so the replies can be counted per variant. `rare`: only every fourth round,
 * because it gets the connection closed (1009) and the client must reconnect and join again.
 * @type {Array<{ name: string, rare?: boolean, parts: (room: string) => Array<string | Buffer> }>}
 */
export const META_VARIANTS = [
  { name: 'deep-object-meta', parts: (room) => [send(room, 'deep-object-meta', 'deep'), ',"meta":', deepObject, '}'] },
  { name: 'deep-array-meta', parts: (room) => [send(room, 'deep-array-meta', 'deep'), ',"meta":{"a":', deepArray, '}}'] },
  { name: 'meta-at-limit', parts: (room) => [send(room, 'meta-at-limit', 'at the limit'), ',"meta":', metaOf(META_LIMIT), '}'] },
  { name: 'meta-over-limit', parts: (room) => [send(room, 'meta-over-limit', 'one byte over'), ',"meta":', metaOf(META_LIMIT + 1), '}'] },
  { name: 'wide-meta', parts: (room) => [send(room, 'wide-meta', 'wide'), ',"meta":', wideMeta, '}'] },
  { name: 'text-over-limit', parts: (room) => [send(room, 'text-over-limit', 'y'.repeat(4001)), '}'] },
  { name: 'deep-unknown-field', parts: (room) => [send(room, 'deep-unknown-field', 'deep elsewhere'), ',"extra":', deepArray, '}'] },
  { name: 'huge-text-frame', parts: (room) => [`{"op":"send","ref":"huge-text-frame","room":${JSON.stringify(room)},"text":"`, hugeText, '"}'] },
  { name: 'frame-over-limit', rare: true, parts: (room) => [`{"op":"send","ref":"frame-over-limit","room":${JSON.stringify(room)},"text":"`, overText, '"}'] },
];

/** The start of a `send` request, without its closing brace. */
function send(/** @type {string} */ room, /** @type {string} */ ref, /** @type {string} */ text) {
  return `{"op":"send","ref":${JSON.stringify(ref)},"room":${JSON.stringify(room)},"text":${JSON.stringify(text)}`;
}
