import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshDatabase } from '../../../test/pg.js';
import { startTestServer, TestClient, type Frame, type TestServer } from './helpers.js';

// Moderation on two real nodes (one PostgreSQL database, one Redis): what a moderator does on
// one node holds on the other at once.

describe('moderation across two nodes', () => {
  let nodes: [TestServer, TestServer];
  beforeAll(async () => {
    const postgresUrl = await freshDatabase(inject('pgUrl'), 'modcluster');
    const redisUrl = inject('redisUrl');
    nodes = (await Promise.all([1, 2].map((i) => startTestServer({ postgresUrl, redisUrl, nodeId: `mod${i}-${process.pid}`, ratePerSec: 0, presenceLeaseMs: 1500 })))) as [TestServer, TestServer];
  });
  afterAll(() => Promise.all(nodes.map((n) => n.close())));
  const on = (i: 0 | 1, params: Record<string, string>) => nodes[i].connect(params);
  const tab = (i: 0 | 1, of: TestClient) => on(i, { guest: of.welcome.guestToken as string });

  it('a ban on node 1 kicks the user on node 2, where nobody else joined the room, and refuses their rejoin there', async () => {
    const owner = await on(0, { name: 'Owner' });
    const watcher = await on(0, { name: 'Watcher' });
    const bob = await on(1, { name: 'Bob' });
    await owner.ok('create', { room: 'mc-ban' });
    await watcher.ok('join', { room: 'mc-ban' });
    await bob.ok('join', { room: 'mc-ban' });
    await owner.ok('ban', { room: 'mc-ban', user: bob.userId });
    expect(await bob.next('moderation')).toMatchObject({ room: 'mc-ban', action: 'ban', user: { id: bob.userId }, by: { id: owner.userId } });
    expect(await bob.next('room')).toMatchObject({ room: { id: 'mc-ban', kicked: true } });
    await owner.ok('send', { room: 'mc-ban', text: 'after the ban' });
    await watcher.next('msg', (f) => f.text === 'after the ban');
    await bob.barrier();
    expect(bob.take('msg')).toEqual([]);
    expect(await bob.request('join', { room: 'mc-ban' })).toMatchObject({ ok: false, error: { code: 'banned', until: null } });
    await owner.ok('unban', { room: 'mc-ban', user: bob.userId });
    await bob.ok('join', { room: 'mc-ban' });
  });

  it('a mute on node 1 refuses the muted user’s very next send on node 2; an unmute lets it through', async () => {
    const owner = await on(0, { name: 'Owner' });
    const carol = await on(1, { name: 'Carol' });
    await owner.ok('create', { room: 'mc-mute' });
    await carol.ok('join', { room: 'mc-mute' });
    const first = await carol.ok('send', { room: 'mc-mute', text: 'hi' });
    await owner.ok('mute', { room: 'mc-mute', user: carol.userId });
    // No wait for the moderation event: the mute is in force as soon as the owner's reply came.
    expect(await carol.request('send', { room: 'mc-mute', text: 'still here?' })).toMatchObject({ ok: false, error: { code: 'muted', until: null } });
    expect(await carol.request('react', { room: 'mc-mute', seq: first.seq, emoji: '👍' })).toMatchObject({ ok: false, error: { code: 'muted' } });
    await owner.ok('unmute', { room: 'mc-mute', user: carol.userId });
    await carol.ok('send', { room: 'mc-mute', text: 'back' });
  });

  it('a role granted on node 1 holds on node 2 at once: the new admin moderates there, and loses it when revoked', async () => {
    const owner = await on(0, { name: 'Owner' });
    const bob = await on(1, { name: 'Bob' });
    const carol = await on(1, { name: 'Carol' });
    await owner.ok('create', { room: 'mc-role' });
    await bob.ok('join', { room: 'mc-role' });
    await carol.ok('join', { room: 'mc-role' });
    expect(await bob.request('mute', { room: 'mc-role', user: carol.userId })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    await owner.ok('role', { room: 'mc-role', user: bob.userId, role: 'admin' });
    // No wait for the moderation event: the role is in force on node 2 as soon as the owner's reply came.
    await bob.ok('mute', { room: 'mc-role', user: carol.userId });
    expect(await carol.request('send', { room: 'mc-role', text: 'hm' })).toMatchObject({ ok: false, error: { code: 'muted' } });
    await owner.ok('role', { room: 'mc-role', user: bob.userId, role: 'member' });
    expect(await bob.request('unmute', { room: 'mc-role', user: carol.userId })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('slow mode holds one member to one message per window over both nodes', async () => {
    const owner = await on(0, { name: 'Owner' });
    const dave = await on(0, { name: 'Dave' });
    const daveThere = await tab(1, dave);
    await owner.ok('create', { room: 'mc-slow' });
    await dave.ok('join', { room: 'mc-slow' });
    await daveThere.ok('join', { room: 'mc-slow' });
    // Set on node 1; node 2 (whose copy of the room predates it) holds to it too.
    await owner.ok('update', { room: 'mc-slow', slowMode: 60 });
    await daveThere.ok('send', { room: 'mc-slow', text: 'one' });
    const early = await dave.request('send', { room: 'mc-slow', text: 'two' });
    expect(early).toMatchObject({ ok: false, error: { code: 'slow_mode' } });
    expect(early.error.retryAfter).toBeGreaterThan(0);
    expect(await daveThere.request('send', { room: 'mc-slow', text: 'three' })).toMatchObject({ ok: false, error: { code: 'slow_mode' } });
    await owner.ok('send', { room: 'mc-slow', text: 'the owner is exempt' });
  });

  it('a server-wide ban closes the user’s connections on both nodes and refuses them on either', async () => {
    const eve = await on(0, { name: 'Eve' });
    const eveThere = await tab(1, eve);
    const closed = (c: TestClient) => c.closed;
    await nodes[0].core.moderation.banUser(eve.userId, { reason: 'spam' });
    for (const c of [eve, eveThere]) expect(await closed(c)).toMatchObject({ code: 4403, reason: 'banned from this server until lifted' });
    for (const i of [0, 1] as const) {
      const again = await TestClient.open(nodes[i].wsUrl, { guest: eve.welcome.guestToken as string });
      expect((await again.closed).code).toBe(4403);
    }
    expect(await nodes[1].core.moderation.unbanUser(eve.userId)).toBe(true);
    const back = await tab(1, eve);
    expect(back.userId).toBe(eve.userId);
  });
});

export type { Frame };
