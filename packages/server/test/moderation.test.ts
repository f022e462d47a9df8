import { describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/wait.js';
import { serverPerSuite, TestClient, type Frame } from './helpers.js';
import { hs256, SECRET } from './tokens.js';

// Moderation over real sockets on one server: roles, bans (of a room and of the server), mutes
// and slow mode, and who may do each.

const server = serverPerSuite({ auth: 'both', jwtSecret: SECRET, ratePerSec: 0 });

let rooms = 0;
/** Alice creates a fresh room that Bob and Carol join. */
async function trio(opts: { visibility?: 'private' } = {}) {
  const room = `mod-${++rooms}`;
  const alice = await server.connect({ name: 'Alice' });
  const bob = await server.connect({ name: 'Bob' });
  const carol = await server.connect({ name: 'Carol' });
  await alice.ok('create', { room, ...opts });
  for (const c of [bob, carol]) {
    if (opts.visibility) await alice.ok('invite', { room, user: c.userId });
    await c.ok('join', { room });
  }
  return { room, alice, bob, carol };
}

const moderation = (action: string, user: string) => (f: Frame) => f.action === action && f.user.id === user;

describe('roles', () => {
  it('the owner grants and revokes admin; admins and members cannot; members replies show roles', async () => {
    const { room, alice, bob, carol } = await trio();
    expect(await bob.request('role', { room, user: carol.userId, role: 'admin' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    await alice.ok('role', { room, user: bob.userId, role: 'admin' });
    expect(await carol.next('moderation', moderation('role', bob.userId))).toMatchObject({ room, role: 'admin', by: { id: alice.userId, name: 'Alice' } });
    // An admin cannot grant roles either, nor change the owner's.
    expect(await bob.request('role', { room, user: carol.userId, role: 'admin' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await alice.request('role', { room, user: alice.userId, role: 'member' })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    const listed = await carol.ok('members', { room });
    const roles = Object.fromEntries(listed.members.map((m: { id: string; role: string }) => [m.id, m.role]));
    expect(roles).toEqual({ [alice.userId]: 'owner', [bob.userId]: 'admin', [carol.userId]: 'member' });
    await alice.ok('role', { room, user: bob.userId, role: 'member' });
    expect(await bob.request('kick', { room, user: carol.userId })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('room admins kick, ban, mute, update and unsend others’ messages; only the owner deletes; admins cannot act on the owner or each other', async () => {
    const { room, alice, bob, carol } = await trio();
    const dave = await server.connect({ name: 'Dave' });
    await dave.ok('join', { room });
    await alice.ok('role', { room, user: bob.userId, role: 'admin' });
    await alice.ok('role', { room, user: dave.userId, role: 'admin' });
    const sent = await carol.ok('send', { room, text: 'spam' });
    await bob.ok('unsend', { room, seq: sent.seq });
    await bob.ok('update', { room, title: 'Moderated' });
    await bob.ok('mute', { room, user: carol.userId });
    await bob.ok('unmute', { room, user: carol.userId });
    await bob.ok('kick', { room, user: carol.userId });
    expect(await carol.next('room', (f) => f.room.kicked === true)).toMatchObject({ room: { id: room, title: 'Moderated' } });
    expect(await alice.next('moderation', moderation('kick', carol.userId))).toMatchObject({ by: { id: bob.userId } });
    for (const op of ['ban', 'mute', 'kick']) {
      expect(await bob.request(op, { room, user: alice.userId })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      expect(await bob.request(op, { room, user: dave.userId })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
    expect(await bob.request('delete', { room })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // The owner may act on an admin.
    await alice.ok('mute', { room, user: dave.userId });
  });

  it('room admins unsend members’ messages, not the owner’s or another admin’s; the owner and server admins unsend anyone’s', async () => {
    const { room, alice, bob, carol } = await trio();
    await alice.ok('role', { room, user: bob.userId, role: 'admin' });
    await alice.ok('role', { room, user: carol.userId, role: 'admin' });
    const owners = await alice.ok('send', { room, text: 'from the owner' });
    const carols = await carol.ok('send', { room, text: 'from an admin' });
    expect(await bob.request('unsend', { room, seq: owners.seq })).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.stringContaining('by the owner') } });
    expect(await bob.request('unsend', { room, seq: carols.seq })).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.stringContaining('by an admin') } });
    await alice.ok('role', { room, user: carol.userId, role: 'member' });
    await bob.ok('unsend', { room, seq: carols.seq });
    const bobs = await bob.ok('send', { room, text: 'from an admin too' });
    await alice.ok('unsend', { room, seq: bobs.seq });
    const root = await TestClient.connect(server.wsUrl, { token: await hs256({ sub: 'root-unsend', name: 'Root', admin: true }) });
    await root.ok('join', { room });
    await root.ok('unsend', { room, seq: owners.seq });
    expect((await carol.ok('history', { room })).messages.filter((m: { unsent?: boolean }) => m.unsent).length).toBe(3);
  });
});

describe('bans', () => {
  it('a member cannot ban; a ban kicks, announces, and refuses rejoin, invites and invite links until lifted', async () => {
    const { room, alice, bob, carol } = await trio({ visibility: 'private' });
    expect(await bob.request('ban', { room, user: carol.userId })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const link = (await alice.ok('share', { room })).invite as string;
    const banned = await alice.ok('ban', { room, user: bob.userId, reason: 'trolling' });
    expect(banned).toMatchObject({ room, user: bob.userId, until: null });
    expect(await bob.next('moderation', moderation('ban', bob.userId))).toMatchObject({ room, until: null, reason: 'trolling', by: { id: alice.userId } });
    expect(await bob.next('room')).toMatchObject({ room: { id: room, kicked: true } });
    expect(await carol.next('moderation', moderation('ban', bob.userId))).toMatchObject({ user: { id: bob.userId, name: 'Bob' } });
    expect((await alice.ok('members', { room })).members.map((m: { id: string }) => m.id)).not.toContain(bob.userId);
    const refused = { ok: false, error: { code: 'banned', until: null } };
    expect(await bob.request('join', { room })).toMatchObject(refused);
    expect(await bob.request('join', { room, invite: link })).toMatchObject(refused);
    expect(await carol.request('invite', { room, user: bob.userId })).toMatchObject(refused);
    expect(await alice.request('invite', { room, user: bob.userId })).toMatchObject(refused);
    expect((await server.core.moderation.bans(room)).map((b) => b.user)).toEqual([bob.userId]);
    await alice.ok('unban', { room, user: bob.userId });
    expect(await carol.next('moderation', moderation('unban', bob.userId))).toMatchObject({ room });
    expect(await alice.ok('unban', { room, user: bob.userId })).toMatchObject({ already: true });
    await bob.ok('join', { room, invite: link });
  });

  it('a ban with an end lifts itself when it passes', async () => {
    const { room, alice, bob } = await trio();
    const until = Date.now() + 300;
    await alice.ok('ban', { room, user: bob.userId, until });
    expect(await bob.request('join', { room })).toMatchObject({ ok: false, error: { code: 'banned', until } });
    // Checked at use: once the time has passed, the next join is let in (no sweeper needed).
    await waitUntil(async () => (await bob.request('join', { room })).ok, { what: 'the ban to expire' });
    expect(await alice.request('ban', { room, user: bob.userId, until: Date.now() - 1 })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  });
});

describe('mutes', () => {
  it('a muted member can read but not send, edit or react (error muted with until), until unmuted', async () => {
    const { room, alice, bob } = await trio();
    const before = await bob.ok('send', { room, text: 'before' });
    const until = Date.now() + 3_600_000;
    expect(await bob.request('mute', { room, user: alice.userId })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    await alice.ok('mute', { room, user: bob.userId, until });
    expect(await bob.next('moderation', moderation('mute', bob.userId))).toMatchObject({ until });
    const muted = { ok: false, error: { code: 'muted', until } };
    expect(await bob.request('send', { room, text: 'hello?' })).toMatchObject(muted);
    expect(await bob.request('edit', { room, seq: before.seq, text: 'edited' })).toMatchObject(muted);
    expect(await bob.request('react', { room, seq: before.seq, emoji: '👍' })).toMatchObject(muted);
    await alice.ok('send', { room, text: 'you can still read' });
    expect(await bob.next('msg', (f) => f.text === 'you can still read')).toMatchObject({ from: { id: alice.userId } });
    expect((await bob.ok('history', { room })).messages.map((m: { text: string }) => m.text)).toEqual(['before', 'you can still read']);
    expect((await server.core.moderation.mutes(room)).map((m) => [m.user, m.until])).toEqual([[bob.userId, until]]);
    await alice.ok('unmute', { room, user: bob.userId });
    await bob.ok('send', { room, text: 'back' });
  });
});

describe('slow mode', () => {
  it('one message per member per window, with retryAfter; the owner, room admins and server admins are exempt', async () => {
    const { room, alice, bob, carol } = await trio();
    expect(await bob.request('update', { room, slowMode: 30 })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect((await alice.ok('update', { room, slowMode: 30 })).room).toMatchObject({ id: room, slowMode: 30 });
    expect(await bob.next('room')).toMatchObject({ room: { slowMode: 30 } });
    await alice.ok('role', { room, user: carol.userId, role: 'admin' });
    await bob.ok('send', { room, text: 'one' });
    const early = await bob.request('send', { room, text: 'two' });
    expect(early).toMatchObject({ ok: false, error: { code: 'slow_mode' } });
    expect(early.error.retryAfter).toBeGreaterThan(0);
    expect(early.error.retryAfter).toBeLessThanOrEqual(30_000);
    // Edits are not messages: slow mode does not hold them back.
    await bob.ok('react', { room, seq: 1, emoji: '👍' });
    for (const c of [alice, carol]) for (const text of ['a', 'b']) await c.ok('send', { room, text });
    const root = await TestClient.connect(server.wsUrl, { token: await hs256({ sub: 'root', name: 'Root', admin: true }) });
    await root.ok('join', { room });
    for (const text of ['a', 'b']) await root.ok('send', { room, text });
    // Off again: Bob sends at once.
    const off = await alice.ok('update', { room, slowMode: null });
    expect(off.room.slowMode).toBeUndefined();
    await bob.ok('send', { room, text: 'three' });
  });
});

describe('server-wide ban', () => {
  it('closes every connection of the user with 4403 and refuses their token until lifted', async () => {
    const token = await hs256({ sub: 'troll', name: 'Troll' });
    const tabs = await Promise.all([1, 2].map(() => TestClient.connect(server.wsUrl, { token })));
    const guest = await server.connect({ name: 'Guesty' });
    const until = Date.now() + 3_600_000;
    const ban = await server.core.moderation.banUser('troll', { until, reason: 'spam' });
    expect(ban).toMatchObject({ room: null, user: 'troll', until, reason: 'spam', by: null });
    for (const t of tabs) {
      const closed = await t.closed;
      expect(closed.code).toBe(4403);
      expect(closed.reason).toContain('banned from this server until');
    }
    const again = await TestClient.open(server.wsUrl, { token });
    expect((await again.closed).code).toBe(4403);
    expect(await server.core.moderation.userBan('troll')).toMatchObject({ until });
    // A guest's token too.
    await server.core.moderation.banUser(guest.userId);
    expect((await guest.closed).code).toBe(4403);
    const back = await TestClient.open(server.wsUrl, { guest: guest.welcome.guestToken as string });
    expect(await back.closed).toMatchObject({ code: 4403, reason: 'banned from this server until lifted' });
    expect(await server.core.moderation.unbanUser('troll')).toBe(true);
    expect(await server.core.moderation.unbanUser('troll')).toBe(false);
    expect(await server.core.moderation.userBan('troll')).toBeNull();
    const welcome = await TestClient.connect(server.wsUrl, { token });
    expect(welcome.userId).toBe('troll');
  });
});

describe('until', () => {
  const FAR = 9e15; // an integer, but past what a Date can hold (8.64e15)
  const MAX = 253_402_300_799_999; // the end of year 9999

  it('is refused past the end of year 9999 or in the past, by the socket and by the service', async () => {
    const { room, alice, bob, carol } = await trio();
    for (const until of [FAR, MAX + 1]) {
      for (const op of ['ban', 'mute']) expect(await alice.request(op, { room, user: carol.userId, until })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
      await expect(server.core.moderation.mute({ kind: 'system' }, room, carol.userId, { until })).rejects.toMatchObject({ code: 'bad_request' });
    }
    for (const until of [FAR, Date.now() - 1]) await expect(server.core.moderation.banUser(bob.userId, { until })).rejects.toMatchObject({ code: 'bad_request' });
    await bob.ok('send', { room, text: 'not banned' });
    // The last allowed instant works, and its reason names it.
    await server.core.moderation.banUser(bob.userId, { until: MAX });
    expect(await bob.closed).toMatchObject({ code: 4403, reason: 'banned from this server until 9999-12-31T23:59:59.999Z' });
  });

  it('already stored beyond Date’s range still enforces, with the time in ms (never an internal error)', async () => {
    const { room, bob, carol } = await trio();
    const dave = await server.connect({ name: 'Dave' });
    const at = Date.now();
    await server.store.putMute({ room, user: carol.userId, until: FAR, by: null, at });
    expect(await carol.request('send', { room, text: 'x' })).toMatchObject({ ok: false, error: { code: 'muted', until: FAR, message: expect.stringContaining('9000000000000000 ms') } });
    await server.store.putBan({ room, user: dave.userId, until: FAR, reason: null, by: null, at });
    expect(await dave.request('join', { room })).toMatchObject({ ok: false, error: { code: 'banned', until: FAR } });
    await server.store.putBan({ room: null, user: bob.userId, until: FAR, reason: null, by: null, at });
    const back = await TestClient.open(server.wsUrl, { guest: bob.welcome.guestToken as string });
    expect(await back.closed).toMatchObject({ code: 4403, reason: 'banned from this server until 9000000000000000 ms since epoch' });
  });
});

describe('webhook events', () => {
  const hooked = serverPerSuite({ ratePerSec: 0 });

  /** Every outbox row, lane by lane in order (a lane's next row is claimable once the one before is done). */
  async function drain(): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
    const out: Array<{ type: string; data: Record<string, unknown> }> = [];
    for (;;) {
      const now = Date.now();
      const rows = await hooked.store.claimOutbox({ endpoint: 'test', owner: 'test', now, leaseUntil: now + 60_000, limit: 100 });
      if (rows.length === 0) return out;
      for (const r of rows.sort((a, b) => a.pos - b.pos)) {
        out.push(JSON.parse(r.body) as { type: string; data: Record<string, unknown> });
        await hooked.store.completeOutbox(r.pos);
      }
    }
  }

  it('each action writes its webhook event with the change: member.role, banned (with its kick), unbanned, muted, unmuted, user.banned, user.unbanned', async () => {
    hooked.store.configureOutbox([{ endpoint: 'test', types: null }]);
    const alice = await hooked.connect({ name: 'Alice' });
    const bob = await hooked.connect({ name: 'Bob' });
    await alice.ok('create', { room: 'hooked' });
    await bob.ok('join', { room: 'hooked' });
    await alice.ok('role', { room: 'hooked', user: bob.userId, role: 'admin' });
    await alice.ok('role', { room: 'hooked', user: bob.userId, role: 'member' });
    await alice.ok('mute', { room: 'hooked', user: bob.userId });
    await alice.ok('unmute', { room: 'hooked', user: bob.userId });
    await alice.ok('unmute', { room: 'hooked', user: bob.userId });
    await alice.ok('ban', { room: 'hooked', user: bob.userId, reason: 'spam' });
    await alice.ok('unban', { room: 'hooked', user: bob.userId });
    await hooked.core.moderation.banUser(bob.userId);
    await hooked.core.moderation.unbanUser(bob.userId);
    const events = (await drain()).filter((e) => /^(member\.(role|banned|unbanned|muted|unmuted|kicked)|user\.(banned|unbanned))$/.test(e.type));
    const by = { id: alice.userId, name: 'Alice' };
    const user = { id: bob.userId, name: 'Bob' };
    // In order per lane: the room's, and the user's. The second unmute changed nothing: no event.
    const room = events.filter((e) => e.type.startsWith('member.'));
    const server = events.filter((e) => e.type.startsWith('user.'));
    expect(room.map((e) => e.type)).toEqual(['member.role', 'member.role', 'member.muted', 'member.unmuted', 'member.banned', 'member.kicked', 'member.unbanned']);
    expect(server.map((e) => e.type)).toEqual(['user.banned', 'user.unbanned']);
    expect(room[0]?.data).toEqual({ room: 'hooked', user, by, role: 'admin' });
    expect(room[4]?.data).toEqual({ room: 'hooked', user, by, until: null, reason: 'spam' });
    expect(server[0]?.data).toEqual({ user, until: null, reason: null });
  });
});
