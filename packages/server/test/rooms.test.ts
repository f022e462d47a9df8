import { describe, expect, it } from 'vitest';
import { serverPerSuite } from './helpers.js';

describe('rooms', () => {
  const server = serverPerSuite();

  it('creates a room with a server-made unguessable id that others can join', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const created = await alice.ok('create', { title: 'Team' });
    const id: string = created.room.id;
    expect(id).toMatch(/^r-[0-9a-z]{12}$/);
    expect(created.room).toMatchObject({ title: 'Team', owner: alice.userId, visibility: 'public', persist: true, capacity: null });
    const other = await alice.ok('create', {});
    expect(other.room.id).not.toBe(id);
    const joined = await bob.ok('join', { room: id });
    expect(joined).toMatchObject({ room: { id, title: 'Team' }, online: 2, lastSeq: 0 });
    expect(joined.members.map((m: { name: string }) => m.name).sort()).toEqual(['Alice', 'Bob']);
    const presence = await alice.next('presence');
    expect(presence).toEqual({ op: 'presence', room: id, event: 'join', user: { id: bob.userId, name: 'Bob' }, online: 2 });
  });

  it('creates named rooms, refuses a taken id and the reserved dm- prefix', async () => {
    const alice = await server.connect({ name: 'Alice' });
    await alice.ok('create', { room: 'named-1', title: 'Named' });
    const again = await alice.request('create', { room: 'named-1' });
    expect(again).toMatchObject({ ok: false, error: { code: 'room_exists' } });
    const reserved = await alice.request('create', { room: 'dm-abc' });
    expect(reserved).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(reserved.error.message).toContain('dm-');
  });

  it('answers room_not_found for unknown rooms', async () => {
    const alice = await server.connect({ name: 'Alice' });
    for (const op of ['join', 'history', 'members', 'leave'] as const) {
      const r = await alice.request(op, { room: 'no-such-room' });
      expect(r, op).toMatchObject({ ok: false, error: { code: 'room_not_found' } });
    }
    const send = await alice.request('send', { room: 'no-such-room', text: 'x' });
    expect(send).toMatchObject({ ok: false, error: { code: 'room_not_found' } });
  });

  it('enforces capacity on distinct members; a member can always rejoin', async () => {
    const users = await Promise.all(['A', 'B', 'C', 'D'].map((name) => server.connect({ name })));
    const [a, b, c, d] = users as [typeof users[0], typeof users[0], typeof users[0], typeof users[0]];
    await a.ok('create', { room: 'cap3', capacity: 3 });
    await b.ok('join', { room: 'cap3' });
    await c.ok('join', { room: 'cap3' });
    const full = await d.request('join', { room: 'cap3' });
    expect(full).toMatchObject({ ok: false, error: { code: 'room_full' } });
    expect(full.error.message).toContain('3/3');
    // A second tab of a member is not a new member.
    const b2 = await server.connect({ guest: b.welcome.guestToken as string });
    expect(b2.userId).toBe(b.userId);
    await b2.ok('join', { room: 'cap3' });
    await c.close();
    const c2 = await server.connect({ guest: c.welcome.guestToken as string });
    await c2.ok('join', { room: 'cap3' });
    // Leaving frees a place.
    await b.ok('leave', { room: 'cap3' });
    await d.ok('join', { room: 'cap3' });
  });

  it('ephemeral rooms keep no history and vanish when the last member leaves', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    await alice.ok('create', { room: 'eph', persist: false });
    await bob.ok('join', { room: 'eph' });
    const sent = await alice.ok('send', { room: 'eph', text: 'gone soon' });
    expect(sent.seq).toBe(1);
    expect((await bob.next('msg')).text).toBe('gone soon');
    const history = await bob.ok('history', { room: 'eph' });
    expect(history.messages).toEqual([]);
    await bob.close();
    await alice.next('presence', (f) => f.event === 'leave');
    await alice.close();
    const carol = await server.connect({ name: 'Carol' });
    // Deletion runs right after the close is seen; wait for it by polling the store.
    await expect.poll(() => server.store.getRoom('eph')).toBeNull();
    expect(await carol.request('join', { room: 'eph' })).toMatchObject({ ok: false, error: { code: 'room_not_found' } });
  });

  it('never sends a room event to a connection outside the room', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const eve = await server.connect({ name: 'Eve' });
    await eve.ok('create', { room: 'eve-room' });
    await alice.ok('create', { room: 'private-talk' });
    await bob.ok('join', { room: 'private-talk' });
    await alice.ok('send', { room: 'private-talk', text: 'secret' });
    await alice.ok('typing', { room: 'private-talk' });
    await bob.next('msg');
    await bob.next('typing');
    await bob.ok('leave', { room: 'private-talk' });
    await alice.next('presence', (f) => f.event === 'leave');
    await eve.barrier();
    expect(eve.frames).toEqual([]);
  });

  it('lets the owner update title and capacity; members get a room event; others are refused', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    await alice.ok('create', { room: 'upd', title: 'Old' });
    await bob.ok('join', { room: 'upd' });
    const refused = await bob.request('update', { room: 'upd', title: 'Mine' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const r = await alice.ok('update', { room: 'upd', title: 'New', capacity: 10 });
    expect(r.room).toMatchObject({ id: 'upd', title: 'New', capacity: 10 });
    expect(await bob.next('room')).toMatchObject({ room: { id: 'upd', title: 'New', capacity: 10 } });
  });

  it('private rooms admit members and invitees only; the owner can kick', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const carol = await server.connect({ name: 'Carol' });
    await alice.ok('create', { room: 'priv', visibility: 'private' });
    expect(await bob.request('join', { room: 'priv' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await carol.request('invite', { room: 'priv', user: bob.userId })).toMatchObject({ ok: false, error: { code: 'not_member' } });
    expect(await alice.request('invite', { room: 'priv', user: 'u_nobody' })).toMatchObject({ ok: false, error: { code: 'user_not_found' } });
    await alice.ok('invite', { room: 'priv', user: bob.userId });
    await bob.ok('join', { room: 'priv' });
    expect(await bob.request('kick', { room: 'priv', user: alice.userId })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    await alice.ok('kick', { room: 'priv', user: bob.userId });
    expect(await bob.next('room')).toMatchObject({ room: { id: 'priv', kicked: true } });
    await alice.next('presence', (f) => f.event === 'leave' && f.user.id === bob.userId);
    // Kicked: no more messages, and no way back in without a new invite.
    await alice.ok('send', { room: 'priv', text: 'after kick' });
    await bob.barrier();
    expect(bob.take('msg')).toEqual([]);
    expect(await bob.request('join', { room: 'priv' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // Public listing hides private rooms.
    const pub = await carol.ok('rooms', { scope: 'public' });
    expect(pub.rooms.map((r: { id: string }) => r.id)).not.toContain('priv');
  });

  it('lists my rooms and public rooms with online counts, and members with online flags', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    await alice.ok('create', { room: 'listed', title: 'Listed' });
    await bob.ok('join', { room: 'listed' });
    await bob.close();
    await alice.next('presence', (f) => f.event === 'leave');
    const mine = await alice.ok('rooms', {});
    expect(mine.rooms.find((r: { id: string }) => r.id === 'listed')).toMatchObject({ title: 'Listed', online: 1, unread: 0 });
    const pub = await alice.ok('rooms', { scope: 'public' });
    expect(pub.rooms.find((r: { id: string }) => r.id === 'listed')).toMatchObject({ online: 1 });
    const members = await alice.ok('members', { room: 'listed' });
    expect(members.online).toBe(1);
    const byName = [...members.members].sort((x: { name: string }, y: { name: string }) => x.name.localeCompare(y.name));
    expect(byName).toEqual([
      { id: alice.userId, name: 'Alice', online: true, readSeq: 0, role: 'owner' },
      { id: bob.userId, name: 'Bob', online: false, readSeq: 0, role: 'member' },
    ]);
  });
});
