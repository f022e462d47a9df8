import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/wait.js';
import type { RoomcastClient } from '../src/client.js';
import type { Message } from '../src/messages.js';
import type { PresenceContext } from '../src/room.js';
import { collect, connect, serverPerSuite } from './helpers.js';

// The SDK's API against a real server over real sockets.

describe('RoomcastClient against a server', () => {
  const server = serverPerSuite({ maxBinary: 64 * 1024, maxText: 500 });
  const clients: RoomcastClient[] = [];
  const open = (name: string) => connect(server.wsUrl, { name }, clients);

  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  it('connects, reports its state once per change, and knows who it is', async () => {
    const states: string[] = [];
    const alice = await connect(server.wsUrl, { name: 'Alice' }, clients);
    alice.on('state', (s) => states.push(`${s.previous}->${s.state}`));
    expect(alice.state).toBe('connected');
    expect(alice.user).toMatchObject({ name: 'Alice' });
    expect(alice.user?.id).toMatch(/^u_/);
    expect(alice.guestToken).toBeTruthy();
    expect(alice.serverLimits).toMatchObject({ maxText: 500, maxBinary: 64 * 1024 });
    alice.close();
    expect(states).toEqual(['connected->disconnected']);
  });

  it('creates, joins, sends and delivers in order to every member, the sender included, each once', async () => {
    const alice = await open('Alice');
    const bob = await open('Bob');
    const aRoom = await alice.create({ title: 'Lobby' });
    expect(aRoom.id).toMatch(/^r-/);
    expect(aRoom.info).toMatchObject({ title: 'Lobby', owner: alice.user?.id });
    const aSeen = collect(aRoom);
    const bRoom = await bob.join(aRoom.id);
    const bSeen = collect(bRoom);
    const results = await Promise.all(['one', 'two', 'three'].map((t) => aRoom.send(t)));
    expect(results.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(results[0]).toMatchObject({ room: aRoom.id, duplicate: false });
    expect(typeof results[0]?.ts).toBe('number');
    await bRoom.send('from bob');
    for (const seen of [aSeen, bSeen]) {
      const got = await seen.until(4);
      expect(got.map((m) => [m.seq, m.text])).toEqual([
        [1, 'one'],
        [2, 'two'],
        [3, 'three'],
        [4, 'from bob'],
      ]);
    }
    expect(aSeen.messages.map((m) => m.mine)).toEqual([true, true, true, false]);
    expect(bSeen.messages[0]?.from).toEqual(alice.user);
    expect(bRoom.lastSeq).toBe(4);
  });

  it('delivers the recent history after a join, even to a listener added after the await', async () => {
    const alice = await open('Alice');
    const room = await alice.create();
    for (let i = 1; i <= 5; i++) await room.send(`m${i}`);
    const carol = await connect(server.wsUrl, { name: 'Carol', history: 3 }, clients);
    const joined = await carol.join(room.id);
    const seen = collect(joined);
    expect((await seen.until(3)).map((m) => m.text)).toEqual(['m3', 'm4', 'm5']);
    // With `since`, exactly what came after it.
    const dave = await open('Dave');
    const fromTwo = collect(await dave.join(room.id, { since: 2 }));
    expect((await fromTwo.until(3)).map((m) => m.seq)).toEqual([3, 4, 5]);
  });

  it('pages through history and moves the read cursor', async () => {
    const alice = await open('Alice');
    const room = await alice.create();
    for (let i = 1; i <= 7; i++) await room.send(`h${i}`);
    const page = await room.history({ limit: 3 });
    expect(page.messages.map((m) => m.seq)).toEqual([5, 6, 7]);
    expect(page.more).toBe(true);
    const older = await room.history({ before: 5, limit: 10 });
    expect(older.messages.map((m) => m.text)).toEqual(['h1', 'h2', 'h3', 'h4']);
    expect(older.more).toBe(false);
    // A new member starts with everything read; what comes later is unread until marked.
    const bob = await open('Bob');
    const bRoom = await bob.join(room.id, { history: 0 });
    const bSeen = collect(bRoom);
    for (let i = 8; i <= 10; i++) await room.send(`h${i}`);
    expect((await bob.rooms()).find((r) => r.id === room.id)).toMatchObject({ lastSeq: 10, unread: 3 });
    await bSeen.until(3);
    expect(await bRoom.markRead(8)).toEqual({ readSeq: 8, unread: 2 });
    expect(await bRoom.markRead(2)).toEqual({ readSeq: 8, unread: 2 }); // never backwards
    expect(await bRoom.markRead()).toEqual({ readSeq: 10, unread: 0 });
  });

  it('keeps presence: online count, members, join and leave events, typing', async () => {
    const alice = await open('Alice');
    const room = await alice.create();
    expect(room.online).toBe(1);
    expect(room.members).toEqual([alice.user]);
    const presence: PresenceContext[] = [];
    room.on('presence', (p) => presence.push(p));
    const bob = await open('Bob');
    const bRoom = await bob.join(room.id);
    expect(bRoom.online).toBe(2);
    expect(bRoom.members.map((u) => u.name).sort()).toEqual(['Alice', 'Bob']);
    const typing = new Promise((resolve) => room.on('typing', (t) => resolve(t.user)));
    bRoom.typing();
    bRoom.typing(); // throttled: one notice
    expect(await typing).toEqual(bob.user);
    const all = await room.listMembers();
    expect(all.map((m) => [m.name, m.online]).sort()).toEqual([
      ['Alice', true],
      ['Bob', true],
    ]);
    await bRoom.leave();
    await waitUntil(() => presence.length >= 2, { what: 'the join and the leave', seen: () => JSON.stringify(presence.map((p) => p.event)), on: (wake) => room.on('presence', wake) });
    expect(presence.map((p) => [p.event, p.online, p.event === 'sync' ? null : p.user.name])).toEqual([
      ['join', 2, 'Bob'],
      ['leave', 1, 'Bob'],
    ]);
    expect(room.members).toEqual([alice.user]);
    expect(bob.room(room.id)).toBeUndefined();
  });

  it('stops delivering a room after leave() and says why on closed', async () => {
    const alice = await open('Alice');
    const room = await alice.create();
    const bob = await open('Bob');
    const bRoom = await bob.join(room.id);
    const seen = collect(bRoom);
    const closed = new Promise((resolve) => bRoom.on('closed', (e) => resolve(e.reason)));
    await bRoom.leave();
    expect(await closed).toBe('left');
    await room.send('after');
    await bob.rooms(); // a round trip: anything sent before it has arrived
    expect(seen.messages).toEqual([]);
  });

  it('sends binary messages, delivered with their bytes and fetchable by URL', async () => {
    const alice = await open('Alice');
    const room = await alice.create();
    const bob = await open('Bob');
    const bSeen = collect(await bob.join(room.id));
    const aSeen = collect(room);
    const bytes = new Uint8Array(5000).map((_, i) => i % 251);
    const res = await room.sendBinary(bytes.buffer, { mime: 'image/png', name: 'pic.png', meta: { w: 10 } });
    const [got] = await bSeen.until(1);
    expect(got).toMatchObject({ seq: res.seq, binary: { mime: 'image/png', name: 'pic.png', size: 5000 }, meta: { w: 10 }, mine: false });
    expect(Buffer.compare(Buffer.from(got?.data as Uint8Array), Buffer.from(bytes))).toBe(0);
    const [own] = await aSeen.until(1);
    expect(own).toMatchObject({ seq: res.seq, mine: true, binary: { mime: 'image/png', size: 5000 } });
    const url = bob.fileUrl(got as Message);
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/api/rooms/`));
    const fetched = await fetch(url as string);
    expect(fetched.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await fetched.arrayBuffer()), Buffer.from(bytes))).toBe(0);
    const [stored] = (await room.history()).messages;
    expect(stored?.binary).toMatchObject({ mime: 'image/png', size: 5000, url: `/api/rooms/${room.id}/files/${res.seq}` });
    await expect(room.sendBinary(new Uint8Array(70 * 1024), { mime: 'image/png' })).rejects.toMatchObject({ code: 'too_large' });
  });

  it('sends direct messages: both sides see the conversation on dm, in order', async () => {
    const alice = await open('Alice');
    const bob = await open('Bob');
    const aliceDms: Message[] = [];
    const bobDms: Message[] = [];
    alice.on('dm', (m) => aliceDms.push(m));
    bob.on('dm', (m) => bobDms.push(m));
    const first = await alice.dm(bob.user?.id as string, 'psst');
    expect(first).toMatchObject({ seq: 1, online: true, duplicate: false });
    expect(first.room).toMatch(/^dm-/);
    await waitUntil(() => bobDms.length === 1, { what: "Bob's dm", on: (wake) => bob.on('dm', wake) });
    await bob.dm(alice.user?.id as string, 'yes?');
    await waitUntil(() => aliceDms.length === 2, { what: "Alice's dm", on: (wake) => alice.on('dm', wake) });
    expect(aliceDms.map((m) => [m.seq, m.text, m.mine])).toEqual([
      [1, 'psst', true],
      [2, 'yes?', false],
    ]);
    expect(bobDms.map((m) => [m.seq, m.text, m.mine, m.direct])).toEqual([
      [1, 'psst', false, true],
      [2, 'yes?', true, true],
    ]);
    await expect(alice.dm('u_nobody', 'hello?')).rejects.toMatchObject({ code: 'user_not_found' });
  });

  it('rejects with the protocol error code and an actionable message', async () => {
    const alice = await open('Alice');
    await expect(alice.join('no-such-room')).rejects.toMatchObject({ name: 'RoomcastError', code: 'room_not_found', message: expect.stringContaining('no-such-room') });
    expect(alice.room('no-such-room')).toBeUndefined();
    const room = await alice.create({ room: 'taken-id' });
    await expect(alice.create({ room: 'taken-id' })).rejects.toMatchObject({ code: 'room_exists' });
    await expect(room.send('x'.repeat(501))).rejects.toMatchObject({ code: 'too_large', message: expect.stringContaining('500') });
    const full = await alice.create({ capacity: 1 });
    const bob = await open('Bob');
    await expect(bob.join(full.id)).rejects.toMatchObject({ code: 'room_full' });
  });

  it('lists public rooms', async () => {
    const alice = await open('Alice');
    const room = await alice.create({ title: 'Public one' });
    const bob = await open('Bob');
    const list = await bob.rooms('public');
    expect(list.find((r) => r.id === room.id)).toMatchObject({ title: 'Public one', online: 1 });
  });
});
