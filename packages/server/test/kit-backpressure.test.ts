import { afterEach, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../src/store/store.js';
import { startKit, type KitCluster } from './kit/cluster.js';

// A member that fell behind while the store went silent (not down) in the middle of its
// catch-up: what is held for it stays bounded, the room's other members and senders carry on,
// and once the store answers the member gets everything, in order, once.

describe('kit: falling behind while the store is silent', () => {
  let kit: KitCluster | undefined;
  afterEach(async () => {
    await kit?.close();
    kit = undefined;
  });

  it('holds at most its budget, keeps the room going, and catches up once the store answers', async () => {
    const limit = 64 * 1024;
    const k = (kit = await startKit({ nodes: 1, config: { sendBufferLimit: limit } }));
    const node = k.nodes[0]!;
    const alice = await node.connect('Alice');
    const bob = await node.connect('Bob');
    const carol = await node.connect('Carol');
    await alice.ok('create', { room: 'r' });
    await bob.ok('join', { room: 'r' });
    await carol.ok('join', { room: 'r' });

    // The store's reads go silent: they neither answer nor fail.
    const store = k.store as unknown as { messagesAfter: (room: string, since: number, limit: number) => Promise<StoredMessage[]> };
    const read = store.messagesAfter.bind(store);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    store.messagesAfter = async (...args) => {
      await gate;
      return read(...args);
    };

    // Bob's socket is full: the next message leaves him behind.
    bob.conn.bufferedAmount = limit;
    const text = 'x'.repeat(1000);
    for (let i = 0; i < 200; i++) await alice.ok('send', { room: 'r', text: `${i + 1} ${text}` });
    for (let i = 1; i <= 200; i++) expect((await carol.next('msg')).seq).toBe(i);
    const hold = node.core.delivery.rooms.held(bob.session, 'r');
    expect(hold?.dropped).toBe(true);
    expect(hold!.bytes).toBeLessThanOrEqual(limit / 2);

    // His socket drains; his catch-up's read hangs on the silent store; the room goes on.
    bob.conn.drain();
    await alice.ok('send', { room: 'r', text: 'while the store is silent' });
    expect((await carol.next('msg')).seq).toBe(201);
    expect(bob.take('msg')).toEqual([]);

    open();
    for (let i = 1; i <= 201; i++) expect((await bob.next('msg')).seq).toBe(i);
    await alice.ok('send', { room: 'r', text: 'live again' });
    expect(await bob.next('msg')).toMatchObject({ seq: 202, text: 'live again' });
    await bob.barrier();
    expect(bob.take('msg')).toEqual([]);
    expect(bob.conn.isOpen).toBe(true);
  });
});
