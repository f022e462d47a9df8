import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshDatabase } from '../../../test/pg.js';
import { startTestServer, type Frame, type TestClient, type TestServer } from './helpers.js';

// Three nodes on one PostgreSQL database and one Redis: everything of the core protocol must work
// with the users spread over them.

describe('cluster: three nodes', () => {
  let nodes: [TestServer, TestServer, TestServer];
  beforeAll(async () => {
    const postgresUrl = await freshDatabase(inject('pgUrl'), 'cluster');
    const redisUrl = inject('redisUrl');
    nodes = (await Promise.all(
      [1, 2, 3].map((i) => startTestServer({ postgresUrl, redisUrl, nodeId: `node${i}-${process.pid}`, ratePerSec: 0, presenceLeaseMs: 1500 })),
    )) as [TestServer, TestServer, TestServer];
  });
  afterAll(() => Promise.all(nodes.map((n) => n.close())));
  const on = (i: 0 | 1 | 2, params: Record<string, string>) => nodes[i].connect(params);

  it('shares presence: online counts, join and leave events, member lists', async () => {
    const alice = await on(0, { name: 'Alice' });
    const bob = await on(1, { name: 'Bob' });
    const bobTab = await on(2, { guest: bob.welcome.guestToken as string });
    expect(bobTab.userId).toBe(bob.userId);
    await alice.ok('create', { room: 'c-presence' });
    const joined = await bob.ok('join', { room: 'c-presence' });
    expect(joined.online).toBe(2);
    expect(await alice.next('presence')).toMatchObject({ event: 'join', user: { id: bob.userId }, online: 2 });
    // Bob's second tab on a third node: still two users, and no second join event.
    expect((await bobTab.ok('join', { room: 'c-presence' })).online).toBe(2);
    const members = await alice.ok('members', { room: 'c-presence' });
    expect(members.members.filter((m: { online: boolean }) => m.online)).toHaveLength(2);
    await bob.close();
    await alice.barrier();
    expect(alice.take('presence')).toEqual([]);
    await bobTab.close();
    expect(await alice.next('presence')).toMatchObject({ event: 'leave', user: { id: bob.userId }, online: 1 });
  });

  it('delivers every message to every node in seq order, once, with senders on all nodes', async () => {
    const senders = await Promise.all(([0, 1, 2] as const).map((i) => on(i, { name: `S${i}` })));
    const watchers = await Promise.all(([0, 1, 2] as const).map((i) => on(i, { name: `W${i}` })));
    await senders[0]!.ok('create', { room: 'c-order' });
    for (const c of [...senders.slice(1), ...watchers]) await c.ok('join', { room: 'c-order' });
    const perSender = 60;
    const replies = await Promise.all(
      senders.flatMap((s, si) => Array.from({ length: perSender }, (_, i) => s.ok('send', { room: 'c-order', text: `${si}:${i}` }))),
    );
    const total = senders.length * perSender;
    expect(replies.map((r) => r.seq as number).sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    for (const w of watchers) {
      const seqs: number[] = [];
      for (let i = 0; i < total; i++) seqs.push((await w.next('msg')).seq);
      expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      await w.barrier();
      expect(w.take('msg')).toEqual([]);
    }
  });

  it('streams edits, reactions and unsends made on every node to every node, in seq order, once', async () => {
    const people = await Promise.all(([0, 1, 2] as const).map((i) => on(i, { name: `R${i}` })));
    const watcher = await on(2, { name: 'Watcher' });
    await people[0]!.ok('create', { room: 'c-changes' });
    for (const c of [...people.slice(1), watcher]) await c.ok('join', { room: 'c-changes' });
    const first = await people[0]!.ok('send', { room: 'c-changes', text: 'vote' });
    // Everyone reacts at once from three nodes; the author edits meanwhile, then one unsends their own.
    const own = await people[1]!.ok('send', { room: 'c-changes', text: 'mine', replyTo: first.seq, mentions: [people[0]!.userId] });
    const replies = await Promise.all([
      ...people.map((p) => p.ok('react', { room: 'c-changes', seq: first.seq, emoji: '👍' })),
      people[0]!.ok('edit', { room: 'c-changes', seq: first.seq, text: 'vote!' }),
      people[1]!.ok('unsend', { room: 'c-changes', seq: own.seq }),
    ]);
    const last = Math.max(...replies.map((r) => r.seq as number));
    expect(last).toBe(7);
    const seen: Frame[] = [];
    while (seen.at(-1)?.seq !== last) seen.push(await watcher.next(undefined, (f) => ['msg', 'edit', 'reaction', 'unsend'].includes(String(f.op))));
    expect(seen.map((f) => f.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const counts = seen.filter((f) => f.op === 'reaction').map((f) => (f as unknown as { count: number }).count);
    expect(counts).toEqual([1, 2, 3]);
    // A node that had the room on no connection reads it back in its current state.
    const late = await on(1, { name: 'Late' });
    await late.ok('join', { room: 'c-changes', history: 10 });
    const history = await late.ok('history', { room: 'c-changes' });
    expect(history.messages).toEqual([
      expect.objectContaining({ seq: 1, text: 'vote!', edited: expect.any(Number), reactions: [{ emoji: '👍', count: 3, me: false }] }),
      expect.objectContaining({ seq: 2, unsent: true }),
    ]);
    const mine = await people[0]!.ok('rooms');
    expect(mine.rooms.find((r: { id: string }) => r.id === 'c-changes')).toMatchObject({ mentions: 0, unread: 1 });
  });

  it('relays typing and room updates across nodes', async () => {
    const alice = await on(0, { name: 'Alice' });
    const bob = await on(2, { name: 'Bob' });
    await alice.ok('create', { room: 'c-typing' });
    await bob.ok('join', { room: 'c-typing' });
    await alice.ok('typing', { room: 'c-typing' });
    expect(await bob.next('typing')).toMatchObject({ user: { id: alice.userId } });
    await alice.ok('update', { room: 'c-typing', title: 'Renamed' });
    expect(await bob.next('room')).toMatchObject({ room: { title: 'Renamed' } });
  });

  it('sends direct messages to a user online on another node, and to one who is offline', async () => {
    const alice = await on(0, { name: 'Alice' });
    const bob = await on(1, { name: 'Bob' });
    const r = await alice.ok('dm', { to: bob.userId, text: 'across nodes' });
    expect(r.online).toBe(true);
    expect(await bob.next('msg')).toMatchObject({ room: r.room, seq: 1, text: 'across nodes' });
    const again = await alice.ok('dm', { to: bob.userId, text: 'second' });
    expect(await bob.next('msg')).toMatchObject({ seq: again.seq, text: 'second' });
    const carol = await on(2, { name: 'Carol' });
    const token = carol.welcome.guestToken as string;
    await carol.close();
    const off = await alice.ok('dm', { to: carol.userId, text: 'while you were out' });
    expect(off.online).toBe(false);
    const back = await on(1, { guest: token });
    expect(back.welcome.rooms).toEqual([expect.objectContaining({ id: off.room, unread: 1, direct: true })]);
    await back.ok('join', { room: off.room, since: 0 });
    expect((await back.next('msg')).text).toBe('while you were out');
  });

  it('keeps unread counts, history and idempotency across nodes', async () => {
    const alice = await on(0, { name: 'Alice' });
    const bob = await on(1, { name: 'Bob' });
    await alice.ok('create', { room: 'c-unread' });
    await bob.ok('join', { room: 'c-unread' });
    const token = bob.welcome.guestToken as string;
    await bob.close();
    const first = await alice.ok('send', { room: 'c-unread', text: 'one', id: 'x-1' });
    await alice.ok('send', { room: 'c-unread', text: 'two' });
    // The same client id resent through another node is the same message.
    const aliceElsewhere = await on(2, { guest: alice.welcome.guestToken as string });
    expect(await aliceElsewhere.ok('send', { room: 'c-unread', text: 'one', id: 'x-1' })).toMatchObject({ seq: first.seq, duplicate: true });
    const back = await on(2, { guest: token });
    expect(back.welcome.rooms.find((x) => x.id === 'c-unread')).toMatchObject({ lastSeq: 2, unread: 2 });
    const history = await back.ok('history', { room: 'c-unread' });
    expect(history.messages.map((m: { text: string }) => m.text)).toEqual(['one', 'two']);
  });

  it('applies kick and delete to connections on every node', async () => {
    const owner = await on(0, { name: 'Owner' });
    const bob = await on(1, { name: 'Bob' });
    const carol = await on(2, { name: 'Carol' });
    await owner.ok('create', { room: 'c-kick' });
    await bob.ok('join', { room: 'c-kick' });
    await carol.ok('join', { room: 'c-kick' });
    await owner.ok('kick', { room: 'c-kick', user: bob.userId });
    expect(await bob.next('room')).toMatchObject({ room: { id: 'c-kick', kicked: true } });
    await owner.ok('send', { room: 'c-kick', text: 'after the kick' });
    expect((await carol.next('msg')).text).toBe('after the kick');
    await bob.barrier();
    expect(bob.take('msg')).toEqual([]);
    await owner.ok('delete', { room: 'c-kick' });
    expect(await carol.next('room')).toMatchObject({ room: { id: 'c-kick', deleted: true } });
    expect(await carol.request('send', { room: 'c-kick', text: 'x' })).toMatchObject({ ok: false, error: { code: 'room_not_found' } });
  });

  it('reports readiness of the store and the broker', async () => {
    const res = await fetch(`${nodes[0].url}/readyz`);
    expect(await res.json()).toEqual({ status: 'ready', store: 'ok', broker: 'ok' });
  });
});

export type { TestClient };
