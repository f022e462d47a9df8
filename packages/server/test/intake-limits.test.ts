import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RoomcastServer } from '../src/server.js';
import { serversPerTest, tempDir, TestClient } from './helpers.js';

// What a hostile client's frames can cost (issue 13, items 3, 4 and 7): every frame takes a
// rate-limit token before it is parsed, a flood closes the connection, and no user data becomes
// `internal` or a log line per frame.

const pause = (c: TestClient) => (c.ws as unknown as { _socket: Socket })._socket.pause();
const resume = (c: TestClient) => (c.ws as unknown as { _socket: Socket })._socket.resume();

/** `meta` nested `depth` levels deep, as JSON text (JSON.stringify could not write it). */
const deepMeta = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('frames in', () => {
  const start = serversPerTest();

  it('takes a rate-limit token for invalid JSON too: a burst of 300 gets 40 bad_request and one rate_limited notice', async () => {
    const server = await start();
    const c = await server.connect({ name: 'Noisy' });
    for (let i = 0; i < 300; i++) c.sendRaw('not json');
    await expect.poll(() => server.core.stats.rateLimited, { timeout: 5000 }).toBe(260);
    await expect.poll(() => c.frames.filter((f) => f.op === 'error').length).toBe(41);
    const errors = c.take('error');
    expect(errors.filter((e) => e.error.code === 'bad_request')).toHaveLength(40);
    expect(errors.filter((e) => e.error.code === 'rate_limited')).toHaveLength(1);
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  });

  it('closes a connection that floods far past its rate with 4429, however little it reads', async () => {
    const server = await start();
    const c = await server.connect({ name: 'Flood' });
    const [session] = server.core.registry.of(c.userId);
    pause(c);
    for (let i = 0; i < 2000; i++) c.sendRaw('x');
    await expect.poll(() => session!.conn.isOpen, { timeout: 5000 }).toBe(false);
    expect(session!.conn.bufferedAmount).toBeLessThan(16 * 1024);
    resume(c);
    const closed = await c.closed;
    expect(closed.code).toBe(4429);
    expect(closed.reason).toContain('too many frames');
  });

  it('answers meta nested 100,000 levels deep, or a frame far past the text limit, with too_large, never internal', async () => {
    const server = await start();
    const c = await server.connect({ name: 'Deep' });
    await c.ok('create', { room: 'lobby' });
    // 100,000 levels do not fit a text frame at all: refused before parsing, so without its ref.
    c.sendRaw(`{"op":"send","ref":1,"room":"lobby","text":"hi","meta":${deepMeta(100_000)}}`);
    expect((await c.next('error')).error).toMatchObject({ code: 'too_large', message: expect.stringContaining('text frame') });
    c.sendRaw(`{"op":"send","ref":1,"room":"lobby","text":"hi","meta":${deepMeta(5_000)}}`);
    const deep = await c.next('reply', (f) => f.ref === 1);
    expect(deep.error).toMatchObject({ code: 'too_large', message: expect.stringContaining('levels deep') });
    c.sendRaw(`{"op":"send","ref":2,"room":"lobby","text":"hi","meta":${deepMeta(9)}}`);
    expect((await c.next('reply', (f) => f.ref === 2)).error.code).toBe('too_large');
    c.sendRaw(`{"op":"send","ref":3,"room":"lobby","text":"hi","meta":${deepMeta(8)}}`);
    expect((await c.next('reply', (f) => f.ref === 3)).ok).toBe(true);
    c.sendRaw(JSON.stringify({ op: 'send', ref: 4, room: 'lobby', text: 'y'.repeat(200_000) }));
    expect((await c.next('error')).error.code).toBe('too_large');
    await c.barrier();
  });

  it('refuses the NUL character in any field with bad_request (PostgreSQL cannot store it)', async () => {
    const server = await start();
    const c = await server.connect({ name: 'Nul' });
    await c.ok('create', { room: 'lobby' });
    for (const [i, frame] of [
      { op: 'send', room: 'lobby', text: 'a\u0000b' },
      { op: 'send', room: 'lobby', text: 'ok', id: 'id\u0000' },
      { op: 'send', room: 'lobby', text: 'ok', meta: { k: ['v\u0000'] } },
      { op: 'create', room: 'other', title: 't\u0000' },
      { op: 'dm', to: 'u\u0000', text: 'hi' },
    ].entries()) {
      const { op, ...fields } = frame;
      const r = await c.request(op, fields);
      expect(r.error, `frame ${i}`).toMatchObject({ code: 'bad_request', message: expect.stringContaining('NUL') });
    }
    // A backslash followed by "u0000" is just text.
    expect((await c.request('send', { room: 'lobby', text: 'type \\u0000 to see' })).ok).toBe(true);
  });

  it('answers the HTTP API\'s deep meta with 413 and the NUL character with 400, never 500', async () => {
    const server = await start({ apiKey: 'k'.repeat(32) });
    const c = await server.connect({ name: 'Owner' });
    await c.ok('create', { room: 'lobby' });
    const res = await fetch(`${server.url}/api/rooms/lobby/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${'k'.repeat(32)}`, 'content-type': 'application/json' },
      body: `{"text":"hi","meta":${deepMeta(50_000)}}`,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('too_large');
    for (const body of [{ text: 'a\u0000b' }, { text: 'ok', meta: { k: 'v\u0000' } }, { text: 'ok', from: { id: 'bot\u0000', name: 'Bot' } }]) {
      const nul = await fetch(`${server.url}/api/rooms/lobby/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${'k'.repeat(32)}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(nul.status, JSON.stringify(body)).toBe(400);
      expect(((await nul.json()) as { error: { message: string } }).error.message).toContain('NUL');
    }
  });
});

describe('error logs', () => {
  let server: RoomcastServer | undefined;
  afterEach(async () => {
    await server?.close();
  });

  it('logs unexpected failures at most once per ten seconds per connection', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    server = await startServer({ port: 0, host: '127.0.0.1', dataDir: tempDir(), ratePerSec: 0 }, pino({ level: 'info' }, sink));
    // A store that breaks in a way the core does not expect, for one query.
    const store = server.store as unknown as { getUser: (id: string) => Promise<unknown> };
    store.getUser = async () => {
      throw new TypeError('boom');
    };
    const c = await TestClient.connect(`ws://127.0.0.1:${server.port}/ws`, { name: 'Eve' });
    const replies = await Promise.all(Array.from({ length: 50 }, () => c.request('dm', { to: 'someone', text: 'hi' })));
    expect(replies.filter((r) => r.ok)).toEqual([]);
    expect(lines.filter((l) => l.includes('"request failed"'))).toHaveLength(1);
    await c.close();
  });
});
