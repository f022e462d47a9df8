import { describe, expect, it } from 'vitest';
import { serverPerSuite } from './helpers.js';

describe('messaging', () => {
  const server = serverPerSuite({ ratePerSec: 0 });

  it('delivers to every other member and to the sender\'s other tabs, with a server-set from', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const aliceTab2 = await server.connect({ guest: alice.welcome.guestToken as string });
    const bob = await server.connect({ name: 'Bob' });
    await alice.ok('create', { room: 'm1' });
    await aliceTab2.ok('join', { room: 'm1' });
    const bobJoin = await bob.ok('join', { room: 'm1' });
    // Two tabs of one user count once.
    expect(bobJoin.online).toBe(2);
    const reply = await alice.ok('send', { room: 'm1', text: 'hello', from: { id: bob.userId, name: 'Bob' }, meta: { kind: 'greeting' } });
    expect(reply).toMatchObject({ room: 'm1', seq: 1, id: expect.any(String), ts: expect.any(Number) });
    for (const c of [bob, aliceTab2]) {
      expect(await c.next('msg')).toEqual({
        op: 'msg',
        room: 'm1',
        seq: 1,
        id: reply.id,
        from: { id: alice.userId, name: 'Alice' },
        text: 'hello',
        meta: { kind: 'greeting' },
        ts: reply.ts,
      });
    }
    // The sending connection gets the reply, not the msg.
    await alice.barrier();
    expect(alice.take('msg')).toEqual([]);
  });

  it('keeps per-room seq gapless and ordered under concurrent senders', async () => {
    const clients = await Promise.all([1, 2, 3, 4].map((i) => server.connect({ name: `S${i}` })));
    const watcher = await server.connect({ name: 'Watcher' });
    await clients[0]!.ok('create', { room: 'busy' });
    for (const c of clients.slice(1)) await c.ok('join', { room: 'busy' });
    await watcher.ok('join', { room: 'busy' });
    const perClient = 50;
    const replies = await Promise.all(
      clients.flatMap((c, ci) => Array.from({ length: perClient }, (_, i) => c.ok('send', { room: 'busy', text: `${ci}:${i}` }))),
    );
    const seqs = replies.map((r) => r.seq as number).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: clients.length * perClient }, (_, i) => i + 1));
    const received: number[] = [];
    for (let i = 0; i < seqs.length; i++) received.push((await watcher.next('msg')).seq);
    expect(received).toEqual(seqs);
    // Each sender's own messages keep their sending order.
    const history = await watcher.ok('history', { room: 'busy', limit: 200 });
    const fromFirst = history.messages.filter((m: { text: string }) => m.text.startsWith('0:')).map((m: { text: string }) => m.text);
    expect(fromFirst).toEqual(Array.from({ length: perClient }, (_, i) => `0:${i}`));
  });

  it('makes a resent send with the same id a no-op that returns the first result', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    await alice.ok('create', { room: 'idem' });
    await bob.ok('join', { room: 'idem' });
    const first = await alice.ok('send', { room: 'idem', text: 'once', id: 'c-1' });
    const again = await alice.ok('send', { room: 'idem', text: 'once', id: 'c-1' });
    expect(again).toMatchObject({ seq: first.seq, ts: first.ts, id: 'c-1', duplicate: true });
    // Even from another connection of the same user, and sent twice in one burst.
    const tab2 = await server.connect({ guest: alice.welcome.guestToken as string });
    const [x, y] = await Promise.all([tab2.ok('send', { room: 'idem', text: 'twice', id: 'c-2' }), tab2.ok('send', { room: 'idem', text: 'twice', id: 'c-2' })]);
    expect(y.seq).toBe(x.seq);
    await bob.barrier();
    expect(bob.take('msg').map((m) => m.text)).toEqual(['once', 'twice']);
    // Another user may use the same client id.
    const bobs = await bob.ok('send', { room: 'idem', text: 'mine', id: 'c-1' });
    expect(bobs.duplicate).toBeUndefined();
    expect(bobs.seq).toBe(x.seq + 1);
  });

  it('relays typing to the other members only, without storing it', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const aliceTab2 = await server.connect({ guest: alice.welcome.guestToken as string });
    const bob = await server.connect({ name: 'Bob' });
    await alice.ok('create', { room: 'typing' });
    await aliceTab2.ok('join', { room: 'typing' });
    await bob.ok('join', { room: 'typing' });
    await alice.ok('typing', { room: 'typing' });
    expect(await bob.next('typing')).toEqual({ op: 'typing', room: 'typing', user: { id: alice.userId, name: 'Alice' } });
    await aliceTab2.barrier();
    expect(aliceTab2.take('typing')).toEqual([]);
    expect((await bob.ok('history', { room: 'typing' })).messages).toEqual([]);
    const outsider = await server.connect({ name: 'Eve' });
    expect(await outsider.request('typing', { room: 'typing' })).toMatchObject({ ok: false, error: { code: 'not_member' } });
  });

  it('pages back through history', async () => {
    const alice = await server.connect({ name: 'Alice' });
    await alice.ok('create', { room: 'pages' });
    for (let i = 1; i <= 25; i++) await alice.ok('send', { room: 'pages', text: `m${i}` });
    const last10 = await alice.ok('history', { room: 'pages', limit: 10 });
    expect(last10.messages.map((m: { seq: number }) => m.seq)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    expect(last10.more).toBe(true);
    const older = await alice.ok('history', { room: 'pages', before: 16, limit: 10 });
    expect(older.messages.map((m: { seq: number }) => m.seq)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    const oldest = await alice.ok('history', { room: 'pages', before: 6, limit: 10 });
    expect(oldest.messages.map((m: { text: string }) => m.text)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(oldest.more).toBe(false);
    expect(await alice.request('history', { room: 'pages', limit: 500 })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    const eve = await server.connect({ name: 'Eve' });
    expect(await eve.request('history', { room: 'pages' })).toMatchObject({ ok: false, error: { code: 'not_member' } });
  });

  it('join streams recent history, or exactly what came after since, before live messages', async () => {
    const alice = await server.connect({ name: 'Alice' });
    await alice.ok('create', { room: 'backlog' });
    for (let i = 1; i <= 8; i++) await alice.ok('send', { room: 'backlog', text: `b${i}` });
    const bob = await server.connect({ name: 'Bob' });
    const j = await bob.ok('join', { room: 'backlog', history: 3 });
    expect(j.lastSeq).toBe(8);
    const recent = [await bob.next('msg'), await bob.next('msg'), await bob.next('msg')];
    expect(recent.map((m) => m.seq)).toEqual([6, 7, 8]);
    const carol = await server.connect({ name: 'Carol' });
    carol.send({ op: 'join', ref: 'j', room: 'backlog', since: 2 });
    // A live message sent while Carol's backlog streams must come after it, exactly once.
    await alice.ok('send', { room: 'backlog', text: 'live' });
    await carol.next('reply', (f) => f.ref === 'j');
    const got: number[] = [];
    for (let i = 0; i < 7; i++) got.push((await carol.next('msg')).seq);
    expect(got).toEqual([3, 4, 5, 6, 7, 8, 9]);
    await carol.barrier();
    expect(carol.take('msg')).toEqual([]);
  });

  it('moves the read cursor forward only and reports unread', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    await alice.ok('create', { room: 'reads' });
    await bob.ok('join', { room: 'reads' });
    for (let i = 0; i < 5; i++) await alice.ok('send', { room: 'reads', text: `r${i}` });
    expect(await bob.ok('read', { room: 'reads', seq: 3 })).toMatchObject({ readSeq: 3, unread: 2 });
    expect(await bob.ok('read', { room: 'reads', seq: 1 })).toMatchObject({ readSeq: 3, unread: 2 });
    expect(await bob.ok('read', { room: 'reads', seq: 99 })).toMatchObject({ readSeq: 5, unread: 0 });
    // The sender has read their own messages.
    const mine = await alice.ok('rooms');
    expect(mine.rooms.find((r: { id: string }) => r.id === 'reads')).toMatchObject({ lastSeq: 5, readSeq: 5, unread: 0 });
  });

  it('sends direct messages through a room of two, live to an online recipient', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const bobTab2 = await server.connect({ guest: bob.welcome.guestToken as string });
    const r = await alice.ok('dm', { to: bob.userId, text: 'psst' });
    expect(r.room).toMatch(/^dm-[0-9a-f]{32}$/);
    expect(r.online).toBe(true);
    for (const c of [bob, bobTab2]) {
      expect(await c.next('msg')).toMatchObject({ room: r.room, seq: 1, text: 'psst', from: { id: alice.userId, name: 'Alice' } });
    }
    // Bob answers in the same conversation, with dm or with send to its room.
    const back = await bob.ok('dm', { to: alice.userId, text: 'hi' });
    expect(back).toMatchObject({ room: r.room, seq: 2 });
    await bob.ok('send', { room: r.room, text: 'also hi' });
    expect((await alice.next('msg')).text).toBe('hi');
    expect((await alice.next('msg')).text).toBe('also hi');
    const summary = (await bob.ok('rooms')).rooms.find((x: { id: string }) => x.id === r.room);
    expect(summary).toMatchObject({ direct: true, peer: { id: alice.userId, name: 'Alice' }, title: 'Alice' });
    // Nobody else can read or join it.
    const eve = await server.connect({ name: 'Eve' });
    expect(await eve.request('join', { room: r.room })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await eve.request('history', { room: r.room })).toMatchObject({ ok: false, error: { code: 'not_member' } });
    expect(await eve.request('dm', { to: 'u_nobody', text: 'x' })).toMatchObject({ ok: false, error: { code: 'user_not_found' } });
    expect(await eve.request('dm', { to: eve.userId, text: 'x' })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  });
});

describe('direct conversations after leaving', () => {
  const server = serverPerSuite();

  it('brings both users back into the conversation when a new direct message is sent', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const first = await alice.ok('dm', { to: bob.userId, text: 'one' });
    await bob.next('msg');
    await bob.ok('leave', { room: first.room });
    expect(await bob.request('history', { room: first.room })).toMatchObject({ ok: false, error: { code: 'not_member' } });
    const second = await alice.ok('dm', { to: bob.userId, text: 'two' });
    expect(second).toMatchObject({ room: first.room, seq: 2 });
    expect(await bob.next('msg')).toMatchObject({ room: first.room, seq: 2, text: 'two' });
    const history = await bob.ok('history', { room: first.room });
    expect(history.messages.map((m: { text: string }) => m.text)).toEqual(['one', 'two']);
  });
});
