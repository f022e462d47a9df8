import { describe, expect, it } from 'vitest';
import { serversPerTest } from './helpers.js';

// What one account may make the server keep or do for it (issue 13, item 6): rooms it owns,
// invitations it sends, how big a welcome gets, and what listing public rooms costs.

describe('quotas', () => {
  const start = serversPerTest();

  it('limits the rooms a user owns with --max-rooms-per-user; deleting one frees a place', async () => {
    const server = await start({ maxRoomsPerUser: 3 });
    const alice = await server.connect({ name: 'Alice' });
    for (const room of ['a1', 'a2', 'a3']) await alice.ok('create', { room });
    const refused = await alice.request('create', { room: 'a4' });
    expect(refused.error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('3 rooms') });
    // Ephemeral rooms count too, and without an id as well.
    expect((await alice.request('create', { persist: false })).ok).toBe(false);
    await alice.ok('delete', { room: 'a2' });
    await alice.ok('create', { room: 'a4' });
    // Another user has a quota of their own.
    const bob = await server.connect({ name: 'Bob' });
    await bob.ok('create', { room: 'b1' });
  });

  it('limits invitations and new direct conversations per user with --invite-rate', async () => {
    const server = await start({ inviteRate: 3 });
    const alice = await server.connect({ name: 'Alice' });
    const others = await Promise.all(['B', 'C', 'D', 'E'].map((name) => server.connect({ name })));
    await alice.ok('create', { room: 'club', visibility: 'private' });
    await alice.ok('invite', { room: 'club', user: others[0]!.userId });
    await alice.ok('invite', { room: 'club', user: others[1]!.userId });
    await alice.ok('dm', { to: others[2]!.userId, text: 'hi' });
    const refused = await alice.request('invite', { room: 'club', user: others[3]!.userId });
    expect(refused.error).toMatchObject({ code: 'rate_limited', message: expect.stringContaining('3 a minute') });
    expect((await alice.request('dm', { to: others[3]!.userId, text: 'hi' })).error?.code).toBe('rate_limited');
    // A conversation that exists already is not a new invitation.
    await alice.ok('dm', { to: others[2]!.userId, text: 'again' });
    // Bob's own budget is untouched.
    await others[0]!.ok('dm', { to: others[3]!.userId, text: 'hello' });
  });

  it('lists at most --welcome-rooms rooms in welcome; rooms {cursor} pages through the rest, newest activity first', async () => {
    const server = await start({ welcomeRooms: 5, maxRoomsPerUser: 0 });
    const owner = await server.connect({ name: 'Owner' });
    const ids = Array.from({ length: 12 }, (_, i) => `room-${String(i).padStart(2, '0')}`);
    for (const room of ids) await owner.ok('create', { room });
    // Activity: room-03 gets two messages, room-07 one; the rest none.
    await owner.ok('send', { room: 'room-03', text: 'one' });
    await owner.ok('send', { room: 'room-03', text: 'two' });
    await owner.ok('send', { room: 'room-07', text: 'one' });
    const again = await server.connect({ guest: owner.welcome.guestToken! });
    const w = again.welcome as typeof again.welcome & { roomsNext?: string };
    expect(w.rooms.map((r) => r.id)).toEqual(['room-03', 'room-07', 'room-00', 'room-01', 'room-02']);
    expect(w.roomsNext).toBe('0:room-02');
    const seen = w.rooms.map((r) => r.id);
    let cursor: string | undefined = w.roomsNext;
    while (cursor) {
      const page = await again.ok('rooms', { cursor, limit: 4 });
      expect(page.rooms.length).toBeLessThanOrEqual(4);
      seen.push(...page.rooms.map((r: { id: string }) => r.id));
      cursor = page.next;
    }
    expect(seen).toEqual(['room-03', 'room-07', ...ids.filter((id) => id !== 'room-03' && id !== 'room-07')]);
    expect((await again.request('rooms', { cursor: 'not a cursor' })).error?.code).toBe('bad_request');
  });

  it('answers public listings from one store read every few seconds, paged, with this node\'s new rooms at once', async () => {
    const server = await start({ maxRoomsPerUser: 0, ratePerSec: 0 });
    const owner = await server.connect({ name: 'Owner' });
    for (let i = 0; i < 150; i++) owner.send({ op: 'create', room: `pub-${String(i).padStart(3, '0')}` });
    await owner.ok('create', { room: 'secret', visibility: 'private' });
    const store = server.store as unknown as { publicRooms: (limit: number) => Promise<unknown[]> };
    let reads = 0;
    const real = store.publicRooms.bind(store);
    store.publicRooms = (limit) => {
      reads++;
      return real(limit);
    };
    const askers = await Promise.all(Array.from({ length: 10 }, (_, i) => server.connect({ name: `asker${i}` })));
    const lists = await Promise.all(askers.flatMap((a) => Array.from({ length: 10 }, () => a.ok('rooms', { scope: 'public' }))));
    expect(reads).toBe(1);
    expect(lists.every((l) => l.rooms.length === 100 && l.next === '0:pub-099')).toBe(true);
    const rest = await askers[0]!.ok('rooms', { scope: 'public', cursor: lists[0]!.next });
    expect(rest.rooms.map((r: { id: string }) => r.id)).toEqual(Array.from({ length: 50 }, (_, i) => `pub-${100 + i}`));
    expect(rest.next).toBeUndefined();
    // Created here: listed at once, without another read.
    const all = async () => {
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await askers[1]!.ok('rooms', { scope: 'public', ...(cursor ? { cursor } : {}) });
        ids.push(...page.rooms.map((r: { id: string }) => r.id));
        cursor = page.next;
      } while (cursor);
      return ids;
    };
    await owner.ok('create', { room: 'pub-new', title: 'New' });
    expect(await all()).toContain('pub-new');
    await owner.ok('delete', { room: 'pub-new' });
    expect(await all()).not.toContain('pub-new');
    expect(await all()).not.toContain('secret');
    expect(reads).toBe(1);
  });
});
