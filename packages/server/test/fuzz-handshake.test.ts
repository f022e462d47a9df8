import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { within } from '../../../test/wait.js';
import { serverPerSuite, TestClient, type TestServer } from './helpers.js';
import { GOOD_KEY, httpGet, openRaw } from './raw-http.js';

// Property: whatever request head, and after an upgrade whatever WebSocket frames, a client
// throws at the server over raw TCP, the server answers or closes, and keeps serving everyone
// else. One server for the whole file; each run is a batch of sockets in parallel, and after
// every batch /healthz must answer and a real client must connect and ping. The seed is fixed
// (fast-check prints it, and the failing batch, on failure).

const SEED = 0x5eed_2024;
const BATCHES = 200;
const PER_BATCH = 24;
/** How long one socket may take to be answered or closed before the property fails. */
const ANSWER_MS = 4000;

// ---- request heads ----

const tchar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&\'*+-.^_`|~'.split(''));
/** Headers the model sets itself, and ones that make Node wait for a body (that is not a head's fault). */
const RESERVED = new Set(['host', 'upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'content-length', 'transfer-encoding', 'expect']);
const headerName = fc.string({ unit: tchar, minLength: 1, maxLength: 24 }).filter((n) => !RESERVED.has(n.toLowerCase()));
const junk = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.constantFrom(...'[]%:@/?#\\ {}|^`"<>\u0000\u007f\u00e9\u4e2d\ud83d\ude42'.split('')), maxLength: 16 }),
);
/** A value every HTTP parser takes: printable ASCII, no surrounding spaces. */
const plainValue = fc.stringMatching(/^[!-~]([ -~]{0,58}[!-~])?$/);
const headerValue = fc.oneof({ arbitrary: plainValue, weight: 4 }, { arbitrary: junk, weight: 1 });
/** An extra header, and whether it is one a valid upgrade may carry. */
const extraHeader = fc.oneof(
  { arbitrary: fc.tuple(headerName, plainValue).map(([n, v]) => ({ line: `${n}: ${v}`, safe: true })), weight: 12 },
  fc.tuple(headerName, junk).map(([n, v]) => ({ line: `${n}: ${v}`, safe: false })),
);

const goodTarget = fc.oneof(
  fc.constant('/ws'),
  fc.stringMatching(/^[A-Za-z0-9]{1,12}$/).map((n) => `/ws?name=${n}`),
  fc.tuple(fc.constantFrom('http', 'https', 'ws'), fc.stringMatching(/^[a-z][a-z0-9-]{0,8}(\.[a-z][a-z0-9-]{0,8}){0,2}$/), fc.integer({ min: 1, max: 65535 })).map(([s, h, p]) => `${s}://${h}:${p}/ws?name=abs`),
);
const knownBadTarget = fc.constantFrom('http://[', '//[/ws', 'http://a:b/ws', 'http://%zz/ws', 'http://a:99999/ws');
const badTarget = fc.oneof(
  knownBadTarget,
  fc.integer({ min: 65536, max: Number.MAX_SAFE_INTEGER }).map((p) => `http://host:${p}/ws`),
  junk.map((j) => `/ws?${j}`),
  junk.map((j) => `/${j}`),
  junk.map((j) => `http://${j}/ws`),
  fc.stringMatching(/^%[0-9A-Za-z]{0,2}$/).map((e) => `/ws${e}`),
  fc.constantFrom('*', 'example.com:443', '/', '/healthz', '/ws/', 'ws', '/ws#x', 'http:///ws', 'http://[::1/ws', 'http://u@h/ws'),
  junk,
);

interface HeaderChoice {
  lines: readonly string[];
  good: boolean;
}

/** One header line: the usual value, a bad one, none, or twice. */
function usual(name: string, good: string, bad: fc.Arbitrary<string>): fc.Arbitrary<HeaderChoice> {
  return fc.oneof(
    { arbitrary: fc.constant<HeaderChoice>({ lines: [`${name}: ${good}`], good: true }), weight: 30 },
    { arbitrary: bad.map((v): HeaderChoice => ({ lines: [`${name}: ${v}`], good: false })), weight: 1 },
    { arbitrary: fc.constant<HeaderChoice>({ lines: [], good: false }), weight: 1 },
    { arbitrary: bad.map((v): HeaderChoice => ({ lines: [`${name}: ${good}`, `${name}: ${v}`], good: false })), weight: 1 },
  );
}

interface Head {
  /** The head as sent (UTF-8). */
  text: string;
  /** Every part was chosen valid: the upgrade must succeed. */
  valid: boolean;
  /** The target is one of the five: the answer must be 400. */
  knownBad: boolean;
}

const head: fc.Arbitrary<Head> = fc
  .record({
    method: fc.oneof({ arbitrary: fc.constant('GET'), weight: 16 }, fc.constantFrom('POST', 'HEAD', 'PUT', 'OPTIONS', 'DELETE', 'get', 'CONNECT'), fc.string({ unit: tchar, minLength: 1, maxLength: 8 })),
    target: fc.oneof({ arbitrary: goodTarget.map((t) => ({ t, good: true, knownBad: false })), weight: 6 }, knownBadTarget.map((t) => ({ t, good: false, knownBad: true })), badTarget.map((t) => ({ t, good: false, knownBad: false }))),
    version: fc.oneof({ arbitrary: fc.constant('HTTP/1.1'), weight: 24 }, fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 x', 'HTTP/9', 'http/1.1', '')),
    host: usual('Host', '127.0.0.1', headerValue),
    upgrade: usual('Upgrade', 'websocket', fc.oneof(fc.constantFrom('h2c', 'websocket, h2c', ''), headerValue)),
    connection: usual('Connection', 'Upgrade', fc.constantFrom('close', 'keep-alive', '', 'upgrade, close')),
    key: usual('Sec-WebSocket-Key', GOOD_KEY, fc.oneof(fc.constantFrom('', 'short', `${GOOD_KEY}x`, GOOD_KEY.toLowerCase()), fc.base64String({ maxLength: 40 }), headerValue)),
    wsVersion: usual('Sec-WebSocket-Version', '13', fc.oneof(fc.constantFrom('8', '12', '14', '13, 8', '', '0x0d'), headerValue)),
    extra: fc.array(extraHeader, { maxLength: 4 }),
    overlong: fc.oneof({ arbitrary: fc.constant(0), weight: 20 }, fc.integer({ min: 8_000, max: 40_000 })),
  })
  .map((r) => {
    const lines = [
      `${r.method} ${r.target.t} ${r.version}`.replace(/\r|\n/g, ''),
      ...[r.host, r.upgrade, r.connection, r.key, r.wsVersion].flatMap((h) => h.lines),
      ...r.extra.map((e) => e.line),
      ...(r.overlong ? [`X-Long: ${'y'.repeat(r.overlong)}`] : []),
    ].map((l) => l.replace(/\r|\n/g, ' '));
    const wellFormed = r.method === 'GET' && r.version === 'HTTP/1.1' && r.overlong === 0 && r.extra.every((e) => e.safe);
    const valid = wellFormed && r.target.good && [r.host, r.upgrade, r.connection, r.key, r.wsVersion].every((h) => h.good);
    // Every head ends with the empty line, so Node's parser never waits for more of it.
    // Without Upgrade and Connection: Upgrade it is a plain request, which Fastify answers.
    const isUpgrade = r.upgrade.good && r.connection.good;
    return { text: `${lines.join('\r\n')}\r\n\r\n`, valid, knownBad: wellFormed && isUpgrade && r.target.knownBad };
  });

// ---- WebSocket frames (client to server) ----

const opsText = fc.oneof(
  fc.constantFrom('{"op":"ping","ref":1}', '{"op":"create","ref":2,"room":"fz"}', '{"op":"send","ref":3,"room":"fz","text":"hi"}', '{"op":"join","ref":4,"room":"fz","since":-1}', '{"op":"auth","token":"x"}', '{', 'null', '[]'),
  fc.json({ maxDepth: 3 }),
);
const payload = fc.oneof(opsText.map((t) => Buffer.from(t)), fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)));

interface FrameSpec {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
  /** The length the header claims, when it lies. */
  claimed: number | null;
  /** Force the 16- or 64-bit length form even for small lengths. */
  form: 7 | 16 | 64;
}

const frame: fc.Arbitrary<FrameSpec> = fc.record({
  fin: fc.oneof({ arbitrary: fc.constant(true), weight: 5 }, fc.constant(false)),
  rsv: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, fc.integer({ min: 1, max: 7 })),
  opcode: fc.oneof({ arbitrary: fc.constantFrom(1, 2), weight: 5 }, fc.constantFrom(0, 8, 9, 10), fc.integer({ min: 0, max: 15 })),
  masked: fc.oneof({ arbitrary: fc.constant(true), weight: 8 }, fc.constant(false)),
  payload,
  claimed: fc.oneof({ arbitrary: fc.constant(null), weight: 6 }, fc.integer({ min: 0, max: 400 }), fc.constantFrom(2 ** 31, 2 ** 53, 2 ** 63)),
  form: fc.oneof({ arbitrary: fc.constant(7 as const), weight: 6 }, fc.constantFrom(16 as const, 64 as const)),
});

function encode(f: FrameSpec): Buffer {
  const len = f.claimed ?? f.payload.length;
  const form = len > 0xffff ? 64 : len > 125 && f.form === 7 ? 16 : f.form;
  const head: number[] = [(f.fin ? 0x80 : 0) | (f.rsv << 4) | f.opcode];
  const maskBit = f.masked ? 0x80 : 0;
  if (form === 7) head.push(maskBit | len);
  else if (form === 16) head.push(maskBit | 126, (len >> 8) & 0xff, len & 0xff);
  else {
    head.push(maskBit | 127);
    const big = BigInt(len >= 2 ** 63 ? '9223372036854775808' : len);
    for (let i = 7; i >= 0; i--) head.push(Number((big >> BigInt(i * 8)) & 0xffn));
  }
  const key = [0x12, 0x34, 0x56, 0x78];
  const body = f.masked ? Buffer.from(f.payload.map((b, i) => b ^ (key[i % 4] as number))) : f.payload;
  return Buffer.concat([Buffer.from(head), f.masked ? Buffer.from(key) : Buffer.alloc(0), body]);
}

/** What follows a successful upgrade, as hex (so a failing batch prints compactly). */
const afterUpgrade = fc.oneof(
  { arbitrary: fc.array(frame, { maxLength: 8 }).map((fs) => Buffer.concat(fs.map(encode)).toString('hex')), weight: 4 },
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((a) => Buffer.from(a).toString('hex')),
);

// ---- running one case ----

/** Server errors a head may get: at capacity or shutting down, or an HTTP version Node does not speak. 500 never. */
const ALLOWED_5XX = new Set([503, 505]);

let nextFrom = 0;

async function runCase(server: TestServer, h: Head, framesHex: string): Promise<void> {
  const raw = openRaw(server.port, { from: `127.0.0.${2 + (nextFrom++ % 8)}` });
  raw.socket.write(h.text, 'utf8');
  const what = JSON.stringify(h.text.slice(0, 300));
  // Answered (a whole response head) or closed, whichever is first.
  await within(
    new Promise<void>((resolve) => {
      const check = () => raw.received().includes('\r\n\r\n') && resolve();
      raw.socket.on('data', check);
      void raw.closed.then(() => resolve());
    }),
    ANSWER_MS,
    `an answer to ${what}`,
  );
  const answer = raw.received();
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1];
  // Heads without an upgrade are plain requests (/healthz answers 200): anything but a failure.
  if (status !== undefined) expect(Number(status) < 500 || ALLOWED_5XX.has(Number(status)), `${status} for ${what}`).toBe(true);
  if (h.valid) expect(status, `a valid upgrade ${what}`).toBe('101');
  if (h.knownBad) expect(status, `a malformed target ${what}`).toBe('400');
  if (status === '101' && !raw.socket.destroyed) raw.socket.write(Buffer.from(framesHex, 'hex'));
  // Our side ends; the server must close its side too (a WebSocket, or a keep-alive HTTP socket).
  raw.socket.end();
  await within(raw.closed, ANSWER_MS, `the server closing after ${what}`);
}

async function healthy(server: TestServer): Promise<void> {
  expect((await httpGet(`${server.url}/healthz`)).status).toBe(200);
  const client = await TestClient.connect(server.wsUrl, { name: 'Probe' });
  client.send({ op: 'ping', ref: 1 });
  expect(await client.next('reply', (f) => f.ref === 1)).toMatchObject({ op: 'reply', ref: 1, ok: true });
  await client.close();
}

describe('fuzzed handshakes and frames against one server', () => {
  // A short handshake timeout bounds heads the parser is still waiting on.
  const server = serverPerSuite({ handshakeTimeoutMs: 500 });

  it(`survives ${BATCHES * PER_BATCH} generated connections`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(head, afterUpgrade), { minLength: PER_BATCH, maxLength: PER_BATCH }), async (batch) => {
        await Promise.all(batch.map(([h, frames]) => runCase(server, h, frames)));
        await healthy(server);
      }),
      { numRuns: BATCHES, seed: SEED, endOnFailure: true },
    );
  }, 60_000);
});
