import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/wait.js';
import type { RoomcastClient } from '../src/client.js';
import type { Message } from '../src/messages.js';
import type { ChangeContext, ReceiptContext, Room } from '../src/room.js';
import { ChaosProxy } from './chaos/proxy.js';
import { collect, connect, serverPerSuite, whenState } from './helpers.js';

// Message features against a real server: replies, mentions, edits, unsend, reactions reaching
// the other members and keeping their Message objects current, a member offline during changes
// ending in the same state as one who stayed, search, history after a seq, read receipts.

/** Waits until the room has delivered everything up to `seq` (messages and changes). */
function reached(room: Room, seq: number): Promise<true> {
  return waitUntil(() => room.lastSeq >= seq || false, {
    what: `${room.id} delivered up to seq ${seq}`,
    seen: () => `lastSeq ${room.lastSeq}`,
    on: [(wake) => room.on('message', wake), (wake) => room.on('change', wake)],
  });
}

/** Collects a room's change events. */
function changes(room: Room): ChangeContext[] {
  const got: ChangeContext[] = [];
  room.on('change', (c) => got.push(c));
  return got;
}

/** A port with nothing listening: connections to it are refused at once. */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('message features against a server', () => {
  const server = serverPerSuite({ searchRate: 0 });
  const clients: RoomcastClient[] = [];
  const open = (name: string, options = {}) => connect(server.wsUrl, { name, ...options }, clients);

  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  it('edits, unsends and reactions reach the other members and update their Message objects in place', async () => {
    const alice = await open('Alice');
    const bob = await open('Bob');
    const aRoom = await alice.create({ title: 'Lobby' });
    const aSeen = collect(aRoom);
    const bRoom = await bob.join(aRoom.id);
    const bSeen = collect(bRoom);
    const bChanges = changes(bRoom);
    const aChanges = changes(aRoom);
    const sent = await aRoom.send('helo');
    const [bobsCopy] = await bSeen.until(1);
    const [alicesCopy] = await aSeen.until(1);

    const edited = await aRoom.edit(sent.seq, 'hello', { meta: { fixed: true } });
    expect(edited).toMatchObject({ seq: 2, target: 1 });
    expect(typeof edited.editedAt).toBe('number');
    await reached(bRoom, 2);
    expect(bobsCopy).toMatchObject({ text: 'hello', meta: { fixed: true }, edited: edited.editedAt });
    expect(bChanges.map((c) => [c.event.op, c.message])).toEqual([['edit', bobsCopy]]);
    // The author's own copy changes too, and the change is one event in her stream as well.
    expect(alicesCopy).toMatchObject({ text: 'hello', edited: edited.editedAt });
    expect(aChanges.map((c) => c.event.op)).toEqual(['edit']);

    const reacted = await bRoom.react(1, '👍');
    expect(reacted).toEqual({ seq: 3, target: 1, emoji: '👍', on: true, count: 1 });
    await reached(aRoom, 3);
    expect(alicesCopy?.reactions).toEqual([{ emoji: '👍', count: 1, me: false }]);
    expect(bobsCopy?.reactions).toEqual([{ emoji: '👍', count: 1, me: true }]);
    expect(await bRoom.react(1, '👍')).toMatchObject({ target: 1, count: 1, already: true });
    expect((await bRoom.react(1, '👍', false)).count).toBe(0);
    await reached(aRoom, 4);
    expect(alicesCopy?.reactions).toBeUndefined();

    const unsent = await aRoom.unsend(1);
    expect(unsent).toEqual({ seq: 5, target: 1 });
    expect(await aRoom.unsend(1)).toEqual({ target: 1, already: true });
    await reached(bRoom, 5);
    expect(bobsCopy).toMatchObject({ seq: 1, unsent: true });
    expect(bobsCopy?.text).toBeUndefined();
    expect(bobsCopy?.meta).toBeUndefined();
    expect(bChanges.map((c) => c.event.op)).toEqual(['edit', 'reaction', 'reaction', 'unsend']);
    expect(bRoom.lastSeq).toBe(5);
    expect(aSeen.messages).toHaveLength(1);
    expect(bSeen.messages).toHaveLength(1);
  });

  it('rejects changes the server refuses, with its error code', async () => {
    const alice = await open('Alice');
    const bob = await open('Bob');
    const room = await alice.create();
    const bRoom = await bob.join(room.id);
    await room.send('mine');
    await expect(bRoom.edit(1, 'not yours')).rejects.toMatchObject({ name: 'RoomcastError', code: 'forbidden' });
    await expect(room.edit(99, 'nothing there')).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('99') });
    await expect(bRoom.unsend(1)).rejects.toMatchObject({ code: 'forbidden' });
    await room.unsend(1);
    await expect(bRoom.react(1, '👍')).rejects.toMatchObject({ code: 'not_found' });
    await expect(room.send('?', { replyTo: 42 })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('sends replies and mentions: quoted for everyone, counted as mentions in room lists', async () => {
    const alice = await open('Alice');
    const bob = await open('Bob');
    const aRoom = await alice.create();
    const aSeen = collect(aRoom);
    const bRoom = await bob.join(aRoom.id);
    const bSeen = collect(bRoom);
    await aRoom.send('who deploys today?');
    await bSeen.until(1);
    const aliceId = alice.user?.id as string;
    await bRoom.send('@Alice I do', { replyTo: 1, mentions: [aliceId, aliceId] });
    const [, toAlice] = await aSeen.until(2);
    expect(toAlice).toMatchObject({ seq: 2, replyTo: { seq: 1, from: alice.user, text: 'who deploys today?' }, mentions: [aliceId], mentionsMe: true });
    const [, own] = await bSeen.until(2);
    // Bob's own copy quotes the answered message as the others see it.
    expect(own).toMatchObject({ mine: true, replyTo: { seq: 1, from: alice.user, text: 'who deploys today?' }, mentions: [aliceId], mentionsMe: false });
    expect((await alice.rooms()).find((r) => r.id === aRoom.id)).toMatchObject({ unread: 1, mentions: 1 });
    // The quote follows the answered message.
    await aRoom.edit(1, 'who deploys tomorrow?');
    await reached(bRoom, 3);
    expect(own?.replyTo?.text).toBe('who deploys tomorrow?');
    expect((await bRoom.history()).messages[1]?.replyTo).toEqual(own?.replyTo);
    await aRoom.unsend(1);
    await reached(bRoom, 4);
    expect(own?.replyTo).toEqual({ seq: 1, unsent: true });
  });

  describe('a member offline during changes', () => {
    let proxy: ChaosProxy;
    beforeAll(async () => {
      proxy = new ChaosProxy(server.port);
      await proxy.start();
    });
    afterAll(() => proxy.close());

    it('ends, after the reconnect, in the same state as a member who stayed online', async () => {
      const alice = await open('Alice');
      const bob = await open('Bob');
      const dave = await open('Dave');
      const carol = await connect(`ws://127.0.0.1:${proxy.port}/ws`, { name: 'Carol' }, clients);
      const aRoom = await alice.create();
      const bRoom = await bob.join(aRoom.id);
      const cRoom = await carol.join(aRoom.id);
      const dRoom = await dave.join(aRoom.id);
      const carolsMessages = collect(cRoom);
      const carolsChanges = changes(cRoom);
      await aRoom.send('first');
      await aRoom.send('second', { replyTo: 1, mentions: [alice.user?.id as string] });
      await aRoom.send('third');
      await aRoom.send('to be unsent');
      await dRoom.send('answering 4', { replyTo: 4 });
      await reached(cRoom, 5);

      // Carol goes offline, and stays so: her reconnect attempts are refused until retargeted.
      proxy.retarget(await deadPort());
      proxy.drop();
      await whenState(carol, 'connecting');
      await aRoom.edit(1, 'first!');
      await aRoom.react(1, '🎉');
      await dRoom.react(1, '👍');
      await dRoom.react(2, '😀');
      await dRoom.react(2, '😀', false);
      await aRoom.unsend(3);
      await aRoom.unsend(4);
      await aRoom.send('sent while Carol was away', { replyTo: 1 });
      await aRoom.edit(1, 'first!!');
      const last = (await dRoom.react(13, '👀')).seq as number;
      await reached(bRoom, last);

      proxy.retarget(server.port);
      await whenState(carol, 'connected');
      await reached(cRoom, last);
      expect(cRoom.lastSeq).toBe(bRoom.lastSeq);
      const seqs = [1, 2, 3, 4, 5, 13];
      for (const seq of seqs) expect(cRoom.message(seq), `message ${seq}`).toEqual(bRoom.message(seq));
      expect(cRoom.message(1)).toMatchObject({
        text: 'first!!',
        reactions: [
          { emoji: '🎉', count: 1, me: false },
          { emoji: '👍', count: 1, me: false },
        ],
      });
      expect(cRoom.message(2)?.reactions).toBeUndefined();
      expect(cRoom.message(3)).toMatchObject({ unsent: true });
      expect(cRoom.message(5)?.replyTo).toEqual({ seq: 4, unsent: true });
      expect(cRoom.message(13)).toMatchObject({ text: 'sent while Carol was away', replyTo: { seq: 1, text: 'first!!' }, reactions: [{ emoji: '👀', count: 1, me: false }] });
      // Each message and each change once, in seq order.
      expect(carolsMessages.messages.map((m) => m.seq)).toEqual(seqs);
      expect(carolsChanges.map((c) => c.event.seq)).toEqual([6, 7, 8, 9, 10, 11, 12, 14, 15]);

      // And both are what the server has now: a newcomer reading history sees the same messages.
      const eve = await open('Eve');
      const eRoom = await eve.join(aRoom.id, { history: 0 });
      const stored = (await eRoom.history()).messages;
      expect(stored.map((m) => m.seq)).toEqual(seqs);
      for (const m of stored) expect(m, `stored message ${m.seq}`).toEqual(bRoom.message(m.seq));
    });
  });

  it('fills a gap left by a lost change event by joining again on the same connection', async () => {
    const alice = await open('Alice');
    const bob = await open('Bob');
    const aRoom = await alice.create();
    const bRoom = await bob.join(aRoom.id);
    const bChanges = changes(bRoom);
    await aRoom.send('one');
    await reached(bRoom, 1);
    // Bob's connection loses the next edit event on its way (the server sent it).
    const session = [...server.core.registry.sessions].find((x) => x.user.id === bob.user?.id);
    const conn = session?.conn as { send(data: Uint8Array, binary: boolean): void };
    const send = conn.send.bind(conn);
    let lost = 0;
    conn.send = (data, binary) => {
      if (lost === 0 && !binary && new TextDecoder().decode(data).includes('"op":"edit"')) lost++;
      else send(data, binary);
    };
    await aRoom.edit(1, 'one, edited');
    await aRoom.react(1, '👍');
    await reached(bRoom, 3);
    expect(lost).toBe(1);
    expect(bChanges.map((c) => [c.event.op, c.event.seq])).toEqual([
      ['edit', 2],
      ['reaction', 3],
    ]);
    expect(bRoom.message(1)).toMatchObject({ text: 'one, edited', reactions: [{ emoji: '👍', count: 1, me: false }] });
    expect(bob.stats.gapsFilled).toBe(1);
    expect(bob.stats.reconnects).toBe(0);
    await aRoom.send('two');
    await reached(bRoom, 4);
  });

  it('searches the rooms you are in, newest first, a page at a time, in current state', async () => {
    const alice = await open('Alice');
    const room = await alice.create();
    const other = await alice.create();
    await room.send('大家你好啊');
    const five = await room.send('Deploy at five');
    await room.send('lunch?');
    // Newest first is by time: hits sent in the same millisecond would come in either order.
    await waitUntil(() => Date.now() > five.ts || undefined, { what: 'the clock to pass the first hit' });
    await other.send('deploy again at six');
    await room.send('deploy: secret'); // seq 4 of its room
    await room.unsend(4);
    await room.edit(2, 'Deploy at five, really');
    const all = await alice.search('deploy');
    expect(all.messages.map((m) => [m.room, m.text])).toEqual([
      [other.id, 'deploy again at six'],
      [room.id, 'Deploy at five, really'],
    ]);
    expect(all.more).toBe(false);
    // Hits in a followed room are its kept objects: changed later, they change.
    expect(all.messages[1]).toBe(room.message(2));
    const chinese = await alice.search('你好', { room: room.id });
    expect(chinese.messages.map((m) => m.seq)).toEqual([1]);
    const first = await alice.search('deploy', { limit: 1 });
    expect(first.more).toBe(true);
    expect(typeof first.next).toBe('number');
    const second = await alice.search('deploy', { limit: 1, before: first.next as number });
    expect(second.messages.map((m) => m.text)).toEqual(['Deploy at five, really']);
    await expect(alice.search('x'.repeat(201))).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('pages history forward after a seq, oldest first, skipping change events', async () => {
    const alice = await open('Alice');
    const room = await alice.create();
    for (let i = 1; i <= 3; i++) await room.send(`m${i}`);
    await room.react(1, '👍'); // seq 4
    await room.send('m5');
    await room.edit(2, 'm2 edited'); // seq 6
    await room.send('m7');
    const page = await room.history({ after: 1, limit: 3 });
    expect(page.messages.map((m) => [m.seq, m.text])).toEqual([
      [2, 'm2 edited'],
      [3, 'm3'],
      [5, 'm5'],
    ]);
    expect(page.more).toBe(true);
    const rest = await room.history({ after: 5 });
    expect(rest.messages.map((m) => m.seq)).toEqual([7]);
    expect(rest.more).toBe(false);
    expect(page.messages[0]).toBe(room.message(2));
    await expect(room.history({ before: 5, after: 1 })).rejects.toMatchObject({ code: 'bad_request' });
    expect(room.lastSeq).toBe(7);
  });

  it('tells members when others read, lists read cursors, and sends no receipts in rooms that turned them off', async () => {
    const alice = await open('Alice');
    const bob = await open('Bob');
    const room = await alice.create({ retention: 30 });
    expect(room.info).toMatchObject({ retention: 30, receipts: true });
    const receipts: ReceiptContext[] = [];
    room.on('receipt', (r) => receipts.push(r));
    const bRoom = await bob.join(room.id);
    await room.send('seen?');
    await reached(bRoom, 1);
    await bRoom.markRead();
    await waitUntil(() => receipts.length > 0, { what: "Bob's receipt", on: (wake) => room.on('receipt', wake) });
    expect(receipts.map((r) => [r.user.id, r.seq])).toEqual([[bob.user?.id, 1]]);
    const members = await room.listMembers();
    expect(members.map((m) => [m.name, m.readSeq]).sort()).toEqual([
      ['Alice', 1],
      ['Bob', 1],
    ]);

    const quiet = await alice.create({ receipts: false });
    expect(quiet.info?.receipts).toBe(false);
    const quietReceipts: ReceiptContext[] = [];
    quiet.on('receipt', (r) => quietReceipts.push(r));
    const seen = collect(quiet);
    const bQuiet = await bob.join(quiet.id);
    await quiet.send('unseen');
    await reached(bQuiet, 1);
    await bQuiet.markRead();
    // A receipt would have come before Bob's next message: the room's events arrive in order.
    await bQuiet.send('next');
    await seen.until(2);
    expect(quietReceipts).toEqual([]);
    const updated = await quiet.update({ receipts: true, retention: null });
    expect(updated).toMatchObject({ receipts: true, retention: null });
  });

  it('keeps messages loaded with history current when they change later', async () => {
    const alice = await open('Alice');
    const bob = await open('Bob');
    const room = await alice.create();
    for (let i = 1; i <= 3; i++) await room.send(`m${i}`);
    const bRoom = await bob.join(room.id, { history: 0 });
    const { messages } = await bRoom.history();
    expect(messages.map((m: Message) => m.seq)).toEqual([1, 2, 3]);
    await room.edit(2, 'changed');
    await room.react(3, '🎉');
    await reached(bRoom, 5);
    expect(messages[1]?.text).toBe('changed');
    expect(messages[2]?.reactions).toEqual([{ emoji: '🎉', count: 1, me: false }]);
  });
});
