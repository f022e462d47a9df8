import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshDatabase } from '../../../test/pg.js';
import { waitUntil } from '../../../test/wait.js';
import { serversPerTest, startTestServer, type TestClient, type TestServer } from './helpers.js';
import { startKit, type KitClient, type KitCluster, type KitNode } from './kit/cluster.js';

// The presence grace (--presence-grace, issue #15): a user whose last connection in a room closed
// is announced gone only when they have not come back within the grace; in an ephemeral room
// their seat frees then, and the room goes with the last one online. Waits are for events (or,
// where a state has no event, for that state); no test sleeps for the grace.

/** Resolves once the server has `n` users within their grace (a close it has fully handled). */
async function pendingIs(server: Pick<TestServer, 'core'>, n: number): Promise<void> {
  const d = server.core.membership.departures;
  await waitUntil(() => d.pending === n, { what: `${n} users within their presence grace`, seen: () => `${d.pending}` });
}

/** `create` then `join` by a second user, with the first's `join` presence event consumed. */
async function twoInRoom(alice: TestClient | KitClient, bob: TestClient | KitClient, room: string, create: Record<string, unknown> = {}): Promise<void> {
  await alice.ok('create', { room, ...create });
  await bob.ok('join', { room });
  expect(await alice.next('presence')).toMatchObject({ event: 'join', user: { id: bob.userId } });
}

describe('presence grace, one server', () => {
  const start = serversPerTest();

  it('announces nothing for a reload within the grace, and counts the user online meanwhile', async () => {
    const server = await start({ presenceGraceMs: 60_000 });
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    await twoInRoom(alice, bob, 'lobby');
    await bob.close();
    await pendingIs(server, 1);
    const during = await alice.ok('members', { room: 'lobby' });
    expect(during.online).toBe(2);
    expect(during.members.find((m: { id: string }) => m.id === bob.userId)).toMatchObject({ online: true });
    const back = await server.connect({ guest: bob.welcome.guestToken as string });
    expect((await back.ok('join', { room: 'lobby' })).online).toBe(2);
    expect(server.core.membership.departures.pending).toBe(0);
    await back.ok('send', { room: 'lobby', text: 'back' });
    // Everything the reload could have caused reached Alice before this message.
    expect((await alice.next('msg')).text).toBe('back');
    expect(alice.take('presence')).toEqual([]);
  });

  it('announces a departure once the grace has passed', async () => {
    const server = await start({ presenceGraceMs: 300 });
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    await twoInRoom(alice, bob, 'lobby');
    await bob.close();
    const left = await alice.next('presence');
    expect(left).toEqual({ op: 'presence', room: 'lobby', event: 'leave', user: { id: bob.userId, name: 'Bob' }, online: 1 });
    const after = await alice.ok('members', { room: 'lobby' });
    expect(after.online).toBe(1);
    expect(after.members.find((m: { id: string }) => m.id === bob.userId)).toMatchObject({ online: false });
    expect(server.core.membership.departures.pending).toBe(0);
  });

  it('announces a leave and a kick at once, even while the user is within the grace', async () => {
    const server = await start({ presenceGraceMs: 60_000 });
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    await twoInRoom(alice, bob, 'lobby');
    await bob.ok('leave', { room: 'lobby' });
    expect(await alice.next('presence')).toMatchObject({ event: 'leave', user: { id: bob.userId }, online: 1 });

    const carol = await server.connect({ name: 'Carol' });
    await carol.ok('join', { room: 'lobby' });
    await alice.next('presence', (f) => f.event === 'join');
    await alice.ok('kick', { room: 'lobby', user: carol.userId });
    expect(await alice.next('presence')).toMatchObject({ event: 'leave', user: { id: carol.userId }, online: 1 });

    // Dave's tab in the room closed (his grace runs); his other tab leaves the room.
    const dave = await server.connect({ name: 'Dave' });
    const daveElsewhere = await server.connect({ guest: dave.welcome.guestToken as string });
    await dave.ok('join', { room: 'lobby' });
    await alice.next('presence', (f) => f.event === 'join');
    await dave.close();
    await pendingIs(server, 1);
    await daveElsewhere.ok('leave', { room: 'lobby' });
    expect(await alice.next('presence')).toMatchObject({ event: 'leave', user: { id: dave.userId }, online: 1 });
    expect(server.core.membership.departures.pending).toBe(0);

    // Erin's only connection closed (her grace runs); the owner kicks her.
    const erin = await server.connect({ name: 'Erin' });
    await erin.ok('join', { room: 'lobby' });
    await alice.next('presence', (f) => f.event === 'join');
    await erin.close();
    await pendingIs(server, 1);
    await alice.ok('kick', { room: 'lobby', user: erin.userId });
    expect(await alice.next('presence')).toMatchObject({ event: 'leave', user: { id: erin.userId }, online: 1 });
    expect(server.core.membership.departures.pending).toBe(0);
  });

  it('drops the grace of a deleted room without an event, leaving no one online in a new one', async () => {
    const server = await start({ presenceGraceMs: 60_000 });
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    await twoInRoom(alice, bob, 'lobby');
    await bob.close();
    await pendingIs(server, 1);
    await alice.ok('delete', { room: 'lobby' });
    expect(server.core.membership.departures.pending).toBe(0);
    const again = await alice.ok('create', { room: 'lobby' });
    expect(again.online).toBe(1);
    expect(again.members.map((m: { id: string }) => m.id)).toEqual([alice.userId]);
    await alice.barrier();
    expect(alice.take('presence')).toEqual([]);
  });

  it("frees a closed tab's seat in an ephemeral room after the grace, and deletes the room when no one is left", async () => {
    const server = await start({ presenceGraceMs: 300 });
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const carol = await server.connect({ name: 'Carol' });
    await twoInRoom(alice, bob, 'pop', { persist: false, capacity: 2 });
    expect((await carol.request('join', { room: 'pop' })).error?.code).toBe('room_full');
    await bob.close();
    expect(await alice.next('presence')).toMatchObject({ event: 'leave', user: { id: bob.userId }, online: 1 });
    // The seat was freed before the leave went out.
    expect(await server.store.isMember('pop', bob.userId)).toBe(false);
    expect((await carol.ok('join', { room: 'pop' })).online).toBe(2);
    await alice.close();
    await carol.close();
    await waitUntil(async () => (await server.store.getRoom('pop')) === null, { what: 'the ephemeral room deleted' });
    const dave = await server.connect({ name: 'Dave' });
    expect((await dave.request('join', { room: 'pop' })).error?.code).toBe('room_not_found');
  });

  it('keeps an ephemeral room and its seat for a user back within the grace', async () => {
    const server = await start({ presenceGraceMs: 60_000 });
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const carol = await server.connect({ name: 'Carol' });
    await twoInRoom(alice, bob, 'pop', { persist: false, capacity: 2 });
    await bob.close();
    await pendingIs(server, 1);
    expect((await carol.request('join', { room: 'pop' })).error?.code).toBe('room_full');
    const bobBack = await server.connect({ guest: bob.welcome.guestToken as string });
    expect((await bobBack.ok('join', { room: 'pop' })).online).toBe(2);
    // Alone in it, Alice reloads: the room does not vanish under her.
    await bobBack.ok('leave', { room: 'pop' });
    await alice.close();
    await pendingIs(server, 1);
    const aliceBack = await server.connect({ guest: alice.welcome.guestToken as string });
    expect((await aliceBack.ok('join', { room: 'pop' })).online).toBe(1);
    expect(await server.store.getRoom('pop')).not.toBeNull();
  });
});

describe('presence grace, two nodes (kit)', () => {
  let kit: KitCluster | undefined;
  afterEach(async () => {
    await kit?.close();
    kit = undefined;
  });

  async function cluster(presenceGraceMs: number): Promise<[KitNode, KitNode]> {
    kit = await startKit({ config: { presenceGraceMs } });
    return kit.nodes as [KitNode, KitNode];
  }

  it('announces nothing when the user comes back through the other node, nor when the first grace ends', async () => {
    const [a, b] = await cluster(60_000);
    const alice = await a.connect('Alice');
    const bob = await b.connect('Bob');
    const carol = await a.connect('Carol');
    await twoInRoom(alice, bob, 'pop', { persist: false, capacity: 2 });
    await bob.close();
    expect(b.core.membership.departures.pending).toBe(1);
    const bobBack = await a.connect('Bob', bob.userId);
    expect((await bobBack.ok('join', { room: 'pop' })).online).toBe(2);
    // Node b's grace ends now (what its timer does when it fires; stopping runs the same).
    b.core.membership.departures.stop();
    await b.core.work.idle();
    await bobBack.ok('send', { room: 'pop', text: 'back' });
    expect((await alice.next('msg')).text).toBe('back');
    expect(alice.take('presence')).toEqual([]);
    // Still online, through node a, so still a member with their seat.
    const members = await alice.ok('members', { room: 'pop' });
    expect(members.online).toBe(2);
    expect(await kit!.store.isMember('pop', bob.userId)).toBe(true);
    expect((await carol.request('join', { room: 'pop' })).error?.code).toBe('room_full');
  });

  it('leaves no ghost once the grace has passed for a user who really left', async () => {
    const [a, b] = await cluster(300);
    const alice = await a.connect('Alice');
    const bob = await b.connect('Bob');
    await twoInRoom(alice, bob, 'r');
    await bob.close();
    expect(await alice.next('presence')).toMatchObject({ event: 'leave', user: { id: bob.userId }, online: 1 });
    expect(b.core.membership.departures.pending).toBe(0);
    expect((await a.broker.presencePage('r', { limit: 100 })).users.map((u) => u.id)).toEqual([alice.userId]);
    expect((await alice.ok('members', { room: 'r' })).online).toBe(1);
  });

  it('announces at once a kick made on another node while the user is within the grace', async () => {
    const [a, b] = await cluster(60_000);
    const alice = await a.connect('Alice');
    const bob = await b.connect('Bob');
    await twoInRoom(alice, bob, 'r');
    // Bob's other tab, on the same node, not joined to the room (it knows it from its welcome):
    // that node still hears Bob's channel.
    const bobIdle = await b.connect('Bob', bob.userId);
    await bob.close();
    expect(b.core.membership.departures.pending).toBe(1);
    await alice.ok('kick', { room: 'r', user: bob.userId });
    expect(await alice.next('presence')).toMatchObject({ event: 'leave', user: { id: bob.userId }, online: 1 });
    expect(await bobIdle.next('room')).toMatchObject({ room: { id: 'r', kicked: true } });
    expect(b.core.membership.departures.pending).toBe(0);
  });

  it('leaves no ghost when the room is deleted on another node during the grace', async () => {
    const [a, b] = await cluster(300);
    const alice = await a.connect('Alice');
    const bob = await b.connect('Bob');
    await twoInRoom(alice, bob, 'r');
    await bob.close();
    await alice.ok('delete', { room: 'r' });
    // Node b does not hear of the deletion (nobody there is in the room): its grace finds it gone.
    const d = b.core.membership.departures;
    await waitUntil(() => d.pending === 0, { what: "node b's grace to end", seen: () => `${d.pending}` });
    await b.core.work.idle();
    expect((await a.broker.presencePage('r', { limit: 100 })).users).toEqual([]);
    expect(alice.take('presence')).toEqual([]);
    expect((await alice.ok('create', { room: 'r' })).online).toBe(1);
  });

  it('announces, as it stops, the departures waiting for their grace on a node', async () => {
    const [a, b] = await cluster(60_000);
    const alice = await a.connect('Alice');
    const bob = await b.connect('Bob');
    await twoInRoom(alice, bob, 'r');
    await bob.close();
    expect(b.core.membership.departures.pending).toBe(1);
    await b.core.shutdown();
    expect(await alice.next('presence')).toMatchObject({ event: 'leave', user: { id: bob.userId }, online: 1 });
    expect(b.core.membership.departures.pending).toBe(0);
  });
});

describe('presence grace, two servers on PostgreSQL and Redis', () => {
  let nodes: [TestServer, TestServer];
  beforeAll(async () => {
    const postgresUrl = await freshDatabase(inject('pgUrl'), 'grace');
    const redisUrl = inject('redisUrl');
    // A short grace on the first node, a long one on the second (whose end the test brings on).
    nodes = (await Promise.all(
      [300, 60_000].map((presenceGraceMs, i) => startTestServer({ postgresUrl, redisUrl, nodeId: `grace${i}-${process.pid}`, ratePerSec: 0, presenceGraceMs })),
    )) as [TestServer, TestServer];
  });
  afterAll(() => Promise.all(nodes.map((n) => n.close())));

  it('moves a user between nodes unannounced, and announces them once they really go', async () => {
    const [a, b] = nodes;
    const alice = await a.connect({ name: 'Alice' });
    const bob = await b.connect({ name: 'Bob' });
    await twoInRoom(alice, bob, 'g-move');
    await bob.close();
    await pendingIs(b, 1);
    const bobBack = await a.connect({ guest: bob.welcome.guestToken as string });
    expect((await bobBack.ok('join', { room: 'g-move' })).online).toBe(2);
    // Node b's grace ends now (what its timer does when it fires): Redis still has Bob through
    // node a, so no leave.
    b.core.membership.departures.stop();
    await b.core.work.idle();
    await bobBack.ok('send', { room: 'g-move', text: 'back' });
    expect((await alice.next('msg')).text).toBe('back');
    expect(alice.take('presence')).toEqual([]);
    // Bob goes for good: node a announces it after its grace, and nothing of him is left.
    await bobBack.close();
    expect(await alice.next('presence')).toMatchObject({ event: 'leave', user: { id: bob.userId }, online: 1 });
    const members = await alice.ok('members', { room: 'g-move' });
    expect(members.online).toBe(1);
    expect((await b.core.broker.presencePage('g-move', { limit: 100 })).users).toEqual([{ id: alice.userId, name: 'Alice' }]);
  });
});
