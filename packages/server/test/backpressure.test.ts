import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { binaryFrame, serversPerTest, type Frame, type TestClient, type TestServer } from './helpers.js';

// Fair backpressure (issue 13, item 2 and 3): a reader at loopback speed is never closed however
// much a room sends at once, and one that stops reading always is, with the server holding at
// most --send-buffer for it. Default flags unless a test says otherwise.

const LONG = 'x'.repeat(3900);

/**
 * Stores `count` messages of ~4,000 characters in `room` straight through the store (fast). Only
 * for a room nobody has joined live: a live room's sequencer would see the seqs jump.
 */
async function fillRoom(server: TestServer, room: string, count: number): Promise<void> {
  expect(server.core.delivery.rooms.get(room)).toBeUndefined();
  const from = { id: 'filler', name: 'Filler' };
  await Promise.all(
    Array.from({ length: count }, (_, i) => server.store.append({ room, persist: true, from, msgId: `m_fill_${i}`, ts: Date.now(), text: `${i + 1} ${LONG}` })),
  );
}

/** Waits for `count` msg events of `room` and checks they are `first`, first + 1, … in order, once each. */
async function expectSeqs(client: TestClient, room: string, first: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const m: Frame = await client.next('msg', (f) => f.room === room);
    expect(m.seq).toBe(first + i);
  }
  await client.barrier();
  expect(client.take('msg').filter((f) => f.room === room)).toEqual([]);
}

const pause = (c: TestClient) => (c.ws as unknown as { _socket: Socket })._socket.pause();
const resume = (c: TestClient) => (c.ws as unknown as { _socket: Socket })._socket.resume();

describe('backpressure', () => {
  const start = serversPerTest();

  it('sends a whole catch-up of 1,000 messages of 4,000 characters (since 0, since 700, history 1000) without closing the reader', async () => {
    const server = await start();
    const owner = await server.connect({ name: 'Owner' });
    await owner.ok('create', { room: 'big' });
    await owner.ok('leave', { room: 'big' });
    await fillRoom(server, 'big', 1000);

    const a = await server.connect({ name: 'A' });
    const b = await server.connect({ name: 'B' });
    const c = await server.connect({ name: 'C' });
    await a.ok('join', { room: 'big', since: 0 });
    await b.ok('join', { room: 'big', since: 700 });
    await c.ok('join', { room: 'big', history: 1000 });
    await Promise.all([expectSeqs(a, 'big', 1, 1000), expectSeqs(b, 'big', 701, 300), expectSeqs(c, 'big', 1, 1000)]);
    expect(server.core.stats.slowConsumers).toBe(0);

    // Live messages come after the backlog, once.
    await a.ok('send', { room: 'big', text: 'live' });
    await a.barrier();
    for (const r of [b, c]) expect(await r.next('msg')).toMatchObject({ seq: 1001, text: 'live' });
    expect(a.take('msg')).toEqual([]);
  });

  it('delivers a burst of 25 guests × 40 messages of 4,000 characters to every reader, in order, closing nobody', async () => {
    const server = await start();
    const owner = await server.connect({ name: 'Owner' });
    await owner.ok('create', { room: 'party' });
    const readers = await Promise.all(['R1', 'R2', 'R3'].map((name) => server.connect({ name })));
    for (const r of readers) await r.ok('join', { room: 'party' });
    const guests = await Promise.all(Array.from({ length: 25 }, (_, i) => server.connect({ name: `guest${i}` })));
    for (const g of guests) await g.ok('join', { room: 'party' });

    // Each guest's whole allowed burst at once.
    const replies = guests.flatMap((g) => Array.from({ length: 40 }, (_, i) => g.request('send', { room: 'party', text: `${g.userId} ${i} ${LONG}` })));
    const settled = await Promise.all(replies);
    expect(settled.filter((r) => !r.ok)).toEqual([]);
    await Promise.all([owner, ...readers].map((r) => expectSeqs(r, 'party', 1, 1000)));
    expect(server.core.stats.slowConsumers).toBe(0);
    for (const c of [owner, ...readers, ...guests]) expect(c.ws.readyState).toBe(c.ws.OPEN);
  });

  it('closes a member that stops reading during a burst with 1013, holding no more than --send-buffer for it', async () => {
    const limit = 256 * 1024;
    const server = await start({ sendBufferLimit: limit, sendTimeoutMs: 400, ratePerSec: 0 });
    const writer = await server.connect({ name: 'Writer' });
    await writer.ok('create', { room: 'firehose' });
    const reader = await server.connect({ name: 'Reader' });
    const stopped = await server.connect({ name: 'Stopped' });
    await reader.ok('join', { room: 'firehose' });
    await stopped.ok('join', { room: 'firehose' });
    const [session] = server.core.registry.of(stopped.userId);
    pause(stopped);
    // Loopback sockets take megabytes before anything waits in the server: send until it does.
    let maxBuffered = 0;
    let sent = 0;
    while (server.core.stats.slowConsumers === 0) {
      if (sent >= 5000) throw new Error('the member that stopped reading was never closed');
      await Promise.all(Array.from({ length: 50 }, () => writer.ok('send', { room: 'firehose', text: LONG })));
      sent += 50;
      maxBuffered = Math.max(maxBuffered, session!.conn.bufferedAmount);
    }
    await expectSeqs(reader, 'firehose', 1, sent);
    // It fell behind: nothing more was queued for it than the limit allows.
    expect(maxBuffered).toBeLessThanOrEqual(limit);
    // And it is closed once its socket has taken nothing for --send-timeout.
    await expect.poll(() => server.core.stats.slowConsumers, { timeout: 5000 }).toBe(1);
    resume(stopped);
    const closed = await stopped.closed;
    expect(closed.code).toBe(1013);
    expect(closed.reason).toContain('since');
  });

  it('counts replies against the send buffer: a client that never reads but keeps asking is closed, its memory bounded', async () => {
    const limit = 128 * 1024;
    const server = await start({ sendBufferLimit: limit, ratePerSec: 0 });
    const c = await server.connect({ name: 'Asker' });
    const [session] = server.core.registry.of(c.userId);
    pause(c);
    let maxBuffered = 0;
    for (let i = 0; i < 20_000 && c.ws.readyState === c.ws.OPEN && !session!.closed && session!.conn.isOpen; i++) {
      c.send({ op: 'ping', ref: i });
      if (i % 200 === 0) {
        await new Promise<void>((resolve) => c.ws.send('{"op":"ping"}', () => resolve()));
        maxBuffered = Math.max(maxBuffered, session!.conn.bufferedAmount);
      }
    }
    await expect.poll(() => server.core.stats.slowConsumers, { timeout: 5000 }).toBe(1);
    expect(maxBuffered).toBeLessThanOrEqual(limit + 200);
    resume(c);
    expect((await c.closed).code).toBe(1013);
  });

  it('splits a history page of long messages so it fits the send buffer, and says there is more', async () => {
    const server = await start({ sendBufferLimit: 256 * 1024 });
    const owner = await server.connect({ name: 'Owner' });
    await owner.ok('create', { room: 'long' });
    await owner.ok('leave', { room: 'long' });
    await fillRoom(server, 'long', 200);
    await owner.ok('join', { room: 'long', history: 0 });
    const page = await owner.ok('history', { room: 'long', limit: 200 });
    expect(page.more).toBe(true);
    expect(page.messages.length).toBeGreaterThan(0);
    expect(page.messages.length).toBeLessThan(200);
    expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThanOrEqual(64 * 1024);
    // The newest ones, ascending; paging on reaches the first message.
    expect(page.messages.at(-1).seq).toBe(200);
    let before = page.messages[0].seq as number;
    let seen = page.messages.length as number;
    while (before > 1) {
      const older = await owner.ok('history', { room: 'long', before, limit: 200 });
      expect(older.messages.at(-1).seq).toBe(before - 1);
      seen += older.messages.length as number;
      before = older.messages[0].seq;
      expect(older.more).toBe(before > 1);
    }
    expect(seen).toBe(200);
  });

  it('delivers binary messages as big as --max-binary to idle readers live, closing nobody', async () => {
    const server = await start();
    const [alice, bob] = await Promise.all([server.connect({ name: 'Alice' }), server.connect({ name: 'Bob' })]);
    await alice.ok('create', { room: 'pics' });
    await bob.ok('join', { room: 'pics' });
    const payload = Buffer.alloc(1024 * 1024, 7);
    for (const ref of [1, 2]) {
      alice.sendRaw(binaryFrame({ op: 'send', ref, room: 'pics', mime: 'image/png' }, payload));
      expect((await alice.next('reply', (f) => f.ref === ref)).ok).toBe(true);
      const got = await bob.next('msg');
      expect(got.payload?.length).toBe(payload.length);
    }
    expect(server.core.stats.slowConsumers).toBe(0);
  });
});
