import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { serversPerTest, TestClient } from './helpers.js';

describe('limits and bad input', () => {
  const start = serversPerTest();

  it('answers every kind of bad frame with the right code and keeps the connection usable', async () => {
    const server = await start({ maxText: 100 });
    const alice = await server.connect({ name: 'Alice' });
    await alice.ok('create', { room: 'ok-room' });

    alice.sendRaw('{not json');
    expect((await alice.next('error')).error.code).toBe('bad_request');
    for (const raw of ['[1,2]', '"text"', 'null', '42', '{"ref":1}']) {
      alice.sendRaw(raw);
      const e = await alice.next(undefined, (f) => f.op === 'error' || f.op === 'reply');
      expect(e.error.code, raw).toBe('bad_request');
    }
    const unknown = await alice.request('explode', {});
    expect(unknown).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(unknown.error.message).toContain('unknown op "explode"');
    const wrongType = await alice.request('send', { room: 'ok-room', text: 5 });
    expect(wrongType).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(wrongType.error.message).toContain('"text"');
    const badRoomId = await alice.request('join', { room: '../etc/passwd' });
    expect(badRoomId.error.message).toContain('"room"');
    expect(await alice.request('send', { room: 'ok-room', text: 'x'.repeat(101) })).toMatchObject({ ok: false, error: { code: 'too_large' } });
    expect(await alice.request('send', { room: 'ok-room', text: '' })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await alice.request('send', { room: 'ok-room', text: 'hi', meta: { blob: 'y'.repeat(5000) } })).toMatchObject({
      ok: false,
      error: { code: 'too_large' },
    });
    expect(await alice.request('send', { room: 'missing', text: 'hi' })).toMatchObject({ ok: false, error: { code: 'room_not_found' } });
    // A ref that is not a string or integer cannot be echoed: the failure comes as an error event.
    alice.send({ op: 'ping', ref: { nested: true } });
    expect((await alice.next('error')).error.code).toBe('bad_request');
    // Still fully usable.
    expect(await alice.ok('send', { room: 'ok-room', text: 'x'.repeat(100) })).toMatchObject({ seq: 1 });
  });

  it('closes with 1009 on a frame over the maximum size', async () => {
    const server = await start({ maxText: 100, maxBinary: 1024 });
    const alice = await server.connect({ name: 'Alice' });
    alice.sendRaw(`{"op":"ping","pad":"${'x'.repeat(200_000)}"}`);
    expect((await alice.closed).code).toBe(1009);
  });

  it('refuses bad names with 4400', async () => {
    const server = await start({});
    for (const name of ['', '   ', 'x'.repeat(33), 'bad\u0007bell']) {
      const c = await TestClient.open(server.wsUrl, { name });
      const closed = await c.closed;
      expect(closed.code, JSON.stringify(name)).toBe(4400);
      expect(closed.reason).toContain('name');
    }
    const trimmed = await server.connect({ name: '  Zoë 🙂  ' });
    expect(trimmed.welcome.user.name).toBe('Zoë 🙂');
  });

  it('rate-limits a flood with rate_limited and keeps serving the client', async () => {
    const server = await start({ ratePerSec: 5 });
    const alice = await server.connect({ name: 'Alice' });
    const replies = await Promise.all(Array.from({ length: 30 }, () => alice.request('ping')));
    const limited = replies.filter((r) => !r.ok);
    expect(limited.length).toBeGreaterThanOrEqual(15);
    expect(limited[0]).toMatchObject({ error: { code: 'rate_limited' } });
    expect(limited[0]!.error.message).toContain('5 a second');
    expect(server.core.stats.rateLimited).toBe(limited.length);
    // Tokens come back with time: the same connection is served again.
    await expect.poll(async () => (await alice.request('ping')).ok, { timeout: 5000, interval: 100 }).toBe(true);
  });

  it('limits a user\'s messages over all their connections with --user-rate', async () => {
    const server = await start({ ratePerSec: 0, userRate: 3 });
    const tab1 = await server.connect({ name: 'Alice' });
    const tab2 = await server.connect({ guest: tab1.welcome.guestToken as string });
    await tab1.ok('create', { room: 'ur' });
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? tab1 : tab2).request('send', { room: 'ur', text: `m${i}` })));
    const ok = replies.filter((r) => r.ok).length;
    expect(ok).toBeGreaterThanOrEqual(6);
    expect(ok).toBeLessThan(10);
    const limited = replies.find((r) => !r.ok);
    expect(limited?.error).toMatchObject({ code: 'rate_limited' });
    expect(limited?.error.message).toContain('all your connections');
    // Other users are not affected, nor are requests other than messages.
    const bob = await server.connect({ name: 'Bob' });
    await bob.ok('join', { room: 'ur' });
    await bob.ok('send', { room: 'ur', text: 'mine' });
    await tab1.barrier();
  });

  it('closes connections beyond the per-address limit with 4429', async () => {
    const server = await start({ maxConnPerIp: 2 });
    const a = await server.connect({ name: 'A' });
    await server.connect({ name: 'B' });
    const third = await TestClient.open(server.wsUrl, { name: 'C' });
    const closed = await third.closed;
    expect(closed.code).toBe(4429);
    expect(closed.reason).toContain('limit 2');
    await a.close();
    await expect.poll(async () => {
      const c = await TestClient.open(server.wsUrl, { name: 'D' });
      const first = await Promise.race([c.next('welcome').then(() => 'welcome'), c.closed.then((x) => String(x.code))]);
      await c.close();
      return first;
    }).toBe('welcome');
  });

  it('drops a client that stops answering pings, and keeps one that answers', async () => {
    const server = await start({ heartbeatMs: 150 });
    const healthy = await server.connect({ name: 'Healthy' });
    const silent = await server.connect({ name: 'Silent' }, { autoPong: false });
    let pings = 0;
    silent.ws.on('ping', () => pings++);
    const closed = await silent.closed;
    expect(pings).toBeGreaterThanOrEqual(1);
    expect(closed.code).toBe(1006); // terminated: a dead peer gets no closing handshake
    await healthy.barrier();
    expect(healthy.ws.readyState).toBe(healthy.ws.OPEN);
  });

  it('pings only connections that went silent, so a busy server never pings everyone at once', async () => {
    const server = await start({ heartbeatMs: 300 });
    const talker = await server.connect({ name: 'Talker' });
    const quiet = await server.connect({ name: 'Quiet' });
    let talkerPings = 0;
    talker.ws.on('ping', () => talkerPings++);
    const talking = setInterval(() => talker.ws.send(JSON.stringify({ op: 'ping' })), 30);
    try {
      // Two pings to the quiet one take at least two intervals; the talker was never silent that long.
      await new Promise<void>((resolve) => {
        let n = 0;
        quiet.ws.on('ping', () => ++n === 2 && resolve());
      });
    } finally {
      clearInterval(talking);
    }
    expect(talkerPings).toBe(0);
    expect(quiet.ws.readyState).toBe(quiet.ws.OPEN);
  });

  it('closes a client that stops reading in an ephemeral room with 1013 once its buffer passes the limit, holding at most that much', async () => {
    // An ephemeral room's messages cannot be read again from the store, so they are never left
    // for a catch-up (backpressure.test.ts covers stored rooms): past the limit, the reader goes.
    const limit = 64 * 1024;
    const server = await start({ ratePerSec: 0, sendBufferLimit: limit, maxText: 4000 });
    const writer = await server.connect({ name: 'Writer' });
    const slow = await server.connect({ name: 'Slow' });
    await writer.ok('create', { room: 'firehose', persist: false });
    await slow.ok('join', { room: 'firehose' });
    const [slowSession] = server.core.registry.of(slow.userId);
    (slow.ws as unknown as { _socket: Socket })._socket.pause();
    const text = 'z'.repeat(4000);
    let sent = 0;
    while (server.core.stats.slowConsumers === 0) {
      if (sent > 50_000) throw new Error('the slow consumer was never closed');
      await Promise.all(Array.from({ length: 100 }, () => writer.ok('send', { room: 'firehose', text })));
      sent += 100;
    }
    // Once marked slow, nothing more is queued for it: its buffer holds at most the limit plus one frame.
    await Promise.all(Array.from({ length: 100 }, () => writer.ok('send', { room: 'firehose', text })));
    expect(slowSession!.conn.bufferedAmount).toBeLessThanOrEqual(limit + 4100);
    (slow.ws as unknown as { _socket: Socket })._socket.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(1013);
    expect(closed.reason).toContain('since');
    // The writer was never affected.
    await writer.barrier();
  });
});
