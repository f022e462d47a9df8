import { afterEach, describe, expect, it } from 'vitest';
import { startKit, type KitClient, type KitCluster } from './kit/cluster.js';
import type { Held } from './kit/faulty-broker.js';

// Cross-node logic on the in-process kit: two cores on one bus, messages between them dropped,
// held and reordered, a node that dies, a kick that must reach another node.

/** The next `count` msg events of a room, checked to be seqs first, first + 1, … once each. */
async function expectSeqs(c: KitClient, room: string, first: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) expect((await c.next('msg', (f) => f.room === room)).seq).toBe(first + i);
  await c.barrier();
  expect(c.take('msg').filter((f) => f.room === room)).toEqual([]);
}

describe('kit: two nodes', () => {
  let kit: KitCluster | undefined;
  afterEach(async () => {
    await kit?.close();
    kit = undefined;
  });

  async function twoMembers(): Promise<{ alice: KitClient; bob: KitClient; k: KitCluster }> {
    const k = (kit = await startKit());
    const [a, b] = k.nodes as [KitCluster['nodes'][number], KitCluster['nodes'][number]];
    const alice = await a.connect('Alice');
    const bob = await b.connect('Bob');
    await alice.ok('create', { room: 'r' });
    await bob.ok('join', { room: 'r' });
    await alice.next('presence');
    return { alice, bob, k };
  }

  it('puts messages that arrive reordered back in seq order, each once', async () => {
    const { alice, bob, k } = await twoMembers();
    const b = k.nodes[1]!.broker;
    b.fault = (m) => (m.room === 'r' && m.seq !== undefined ? 'hold' : 'deliver');
    for (const text of ['one', 'two', 'three']) await alice.ok('send', { room: 'r', text });
    const [m1, m2, m3] = (await b.holding(3)) as [Held, Held, Held];
    b.fault = () => 'deliver';
    m3.release();
    m1.release();
    m2.release();
    const got = [await bob.next('msg'), await bob.next('msg'), await bob.next('msg')];
    expect(got.map((m) => [m.seq, m.text])).toEqual([[1, 'one'], [2, 'two'], [3, 'three']]);
    await bob.barrier();
    expect(bob.take('msg')).toEqual([]);
  });

  it('fills a message dropped between the nodes from the store, in order, once', async () => {
    const { alice, bob, k } = await twoMembers();
    k.nodes[1]!.broker.fault = (m) => (m.seq === 2 ? 'drop' : 'deliver');
    for (const text of ['one', 'two', 'three', 'four']) await alice.ok('send', { room: 'r', text });
    await expectSeqs(bob, 'r', 1, 4);
  });

  it("reports a user of a node that died as gone, from the other node's sweep", async () => {
    const { bob, k } = await twoMembers();
    k.nodes[0]!.broker.kill();
    const left = await bob.next('presence', (f) => f.event === 'leave');
    expect(left).toMatchObject({ room: 'r', user: { name: 'Alice' }, online: 1 });
    expect((await bob.ok('members', { room: 'r' })).online).toBe(1);
  });

  it('makes a kick reach the user on another node, joined to the room there or not', async () => {
    const k = (kit = await startKit());
    const [a, b] = k.nodes as [KitCluster['nodes'][number], KitCluster['nodes'][number]];
    const alice = await a.connect('Alice');
    await alice.ok('create', { room: 'club' });
    const bob = await b.connect('Bob');
    await bob.ok('join', { room: 'club' });
    // Bob's second connection, on the same node, knows the room from its welcome but never
    // joined it: that node has the room live only through the first one.
    const bobIdle = await b.connect('Bob', bob.userId);
    expect((bobIdle.welcome.rooms as Array<{ id: string }>).map((r) => r.id)).toEqual(['club']);
    await bob.close();
    await alice.ok('kick', { room: 'club', user: bobIdle.userId });
    expect(await bobIdle.next('room')).toMatchObject({ room: { id: 'club', kicked: true } });
    expect((await bobIdle.request('send', { room: 'club', text: 'still here?' })).error?.code).toBe('not_member');
    // A member joined on the other node is detached as well, and gets nothing more.
    const carol = await b.connect('Carol');
    await carol.ok('join', { room: 'club' });
    await alice.ok('kick', { room: 'club', user: carol.userId });
    expect(await carol.next('room')).toMatchObject({ room: { kicked: true } });
    await alice.ok('send', { room: 'club', text: 'after the kick' });
    await alice.barrier();
    await carol.barrier();
    expect(carol.take('msg')).toEqual([]);
    expect(k.nodes[1]!.core.delivery.rooms.get('club')).toBeUndefined();
  });
});
