import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { INVITE_TTL_DEFAULT, INVITE_TTL_MAX } from '@roomcast/protocol';
import { LinkKeys } from '../src/auth/link-keys.js';
import { removeDir, serverPerSuite, serversPerTest, tempDir, TestClient } from './helpers.js';
import { hs256, SECRET } from './tokens.js';

// Invite links: a member mints a signed, expiring token with `share`; `join {invite}` lets its
// holder into a private room as a member, exactly as an `invite` would have.

let nextRoom = 0;
/** A fresh room id per test, so tests on one server do not meet. */
const roomId = (what: string) => `${what}-${++nextRoom}`;

async function privateRoom(owner: TestClient, id: string, extra: Record<string, unknown> = {}): Promise<{ id: string; createdAt: number }> {
  const r = await owner.ok('create', { room: id, visibility: 'private', ...extra });
  return { id, createdAt: r.room.createdAt as number };
}

async function share(c: TestClient, room: string, ttl?: number): Promise<string> {
  const r = await c.ok('share', ttl === undefined ? { room } : { room, ttl });
  return r.invite as string;
}

describe('invite links', () => {
  const server = serverPerSuite();
  /** The `share` maker claim of a member, as the server puts it in a token. */
  async function madeBy(room: string, user: string): Promise<{ since: number }> {
    const since = await server.store.memberSince(room, user);
    if (since === null) throw new Error(`${user} is not a member of ${room}`);
    return { since };
  }

  it('admit a non-member into a private room as a member, who needs no token after that', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const club = roomId('club');
    const room = await privateRoom(alice, club);
    const before = Date.now();
    const minted = await alice.ok('share', { room: club });
    expect(minted).toMatchObject({ room: club, invite: expect.stringMatching(/^ey[\w-]+\.[\w-]+\.[\w-]+$/) });
    // Seven days by default (exp has whole seconds).
    expect(minted.expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + INVITE_TTL_DEFAULT * 1000);
    expect(minted.expires).toBeLessThanOrEqual(Date.now() + INVITE_TTL_DEFAULT * 1000);

    expect((await bob.request('join', { room: club })).error).toMatchObject({ code: 'forbidden' });
    const joined = await bob.ok('join', { room: club, invite: minted.invite });
    expect(joined).toMatchObject({ room: { id: club, visibility: 'private' }, online: 2 });
    // The same notices as an ordinary join.
    expect(await alice.next('presence')).toMatchObject({ room: club, event: 'join', user: { id: bob.userId, name: 'Bob' }, online: 2 });
    const members = await alice.ok('members', { room: club });
    expect(members.members.map((m: { id: string }) => m.id).sort()).toEqual([alice.userId, bob.userId].sort());

    // A member now: another connection (a reconnect) joins without the token, and lists the room.
    const again = await server.connect({ guest: bob.welcome.guestToken as string });
    expect(again.userId).toBe(bob.userId);
    expect(again.welcome.rooms.map((r) => r.id)).toContain(club);
    await bob.close();
    await again.ok('join', { room: club });
    // A member whose old link has expired since is not refused for it.
    const keys = await LinkKeys.open(server.store);
    const expired = await keys.invite(room, alice.userId, -60, Date.now(), await madeBy(room.id, alice.userId));
    await again.ok('join', { room: club, invite: expired.token });
  });

  it('takes ttl in seconds, from a minute to 30 days', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const club = roomId('club');
    await privateRoom(alice, club);
    const before = Date.now();
    const r = await alice.ok('share', { room: club, ttl: 60 });
    expect(r.expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 60_000);
    expect(r.expires).toBeLessThanOrEqual(Date.now() + 60_000);
    await alice.ok('share', { room: club, ttl: INVITE_TTL_MAX });
    for (const ttl of [59, INVITE_TTL_MAX + 1, 1.5]) {
      expect((await alice.request('share', { room: club, ttl })).error, `ttl ${ttl}`).toMatchObject({ code: 'bad_request', message: expect.stringContaining('ttl') });
    }
  });

  it('refuse an expired token with a sentence saying what to do', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const club = roomId('club');
    const room = await privateRoom(alice, club);
    // Signed with the server's own key, as `share` signs, but with an exp a minute ago.
    const keys = await LinkKeys.open(server.store);
    const { token, expires } = await keys.invite(room, alice.userId, -60, Date.now(), await madeBy(room.id, alice.userId));
    expect(expires).toBeLessThan(Date.now());
    const r = await bob.request('join', { room: club, invite: token });
    expect(r.error).toEqual({ code: 'forbidden', message: 'this invite link has expired; ask a member of the room for a new one' });
    // The same module's fresh token works: the refusal was the expiry, not the signing.
    await bob.ok('join', { room: club, invite: (await keys.invite(room, alice.userId, 60, Date.now(), await madeBy(room.id, alice.userId))).token });
  });

  it("refuse another room's token, naming the room", async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const a = roomId('club-a');
    const b = roomId('club-b');
    await privateRoom(alice, a);
    await privateRoom(alice, b);
    const forA = await share(alice, a);
    const r = await bob.request('join', { room: b, invite: forA });
    expect(r.error).toMatchObject({ code: 'forbidden', message: expect.stringContaining(`this invite link is not valid for room "${b}"`) });
    const members = await alice.ok('members', { room: b });
    expect(members.members.map((m: { id: string }) => m.id)).toEqual([alice.userId]);
  });

  it('refuse forged, damaged and foreign tokens', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const club = roomId('club');
    const room = await privateRoom(alice, club);
    const real = await share(alice, club);
    const forged = await new SignJWT({ typ: 'invite', room: club, rc: room.createdAt, by: alice.userId })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(randomBytes(32));
    const [head, body] = real.split('.');
    const candidates = {
      garbage: 'not-a-token',
      forged,
      'another signature': `${head}.${body}.${forged.split('.')[2]}`,
      'a guest token': alice.welcome.guestToken as string,
      'a file key': (await alice.ok('filekey')).key as string,
    };
    for (const [what, invite] of Object.entries(candidates)) {
      const r = await bob.request('join', { room: club, invite });
      expect(r.error, what).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/^this invite link is not valid .*ask a member of room/) });
    }
    expect((await bob.request('join', { room: club, invite: '' })).error).toMatchObject({ code: 'bad_request' });
  });

  it('are minted by members only (admins count), not for direct conversations, not for missing rooms', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const carol = await server.connect({ name: 'Carol' });
    const club = roomId('club');
    await privateRoom(alice, club);
    expect((await carol.request('share', { room: club })).error).toMatchObject({ code: 'not_member' });
    const lobby = roomId('lobby');
    await alice.ok('create', { room: lobby });
    expect((await carol.request('share', { room: lobby })).error).toMatchObject({ code: 'not_member' });
    expect((await carol.request('share', { room: roomId('nowhere') })).error).toMatchObject({ code: 'room_not_found' });
    const dm = await alice.ok('dm', { to: carol.userId, text: 'hi' });
    const r = await alice.request('share', { room: dm.room });
    expect(r.error).toMatchObject({ code: 'bad_request', message: expect.stringContaining('direct conversation') });
  });

  it('are simply accepted on a public room', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const lobby = roomId('lobby');
    await alice.ok('create', { room: lobby });
    await bob.ok('join', { room: lobby, invite: await share(alice, lobby) });
    const carol = await server.connect({ name: 'Carol' });
    await carol.ok('join', { room: lobby, invite: 'whatever' });
  });

  it('count toward capacity: a full room refuses the holder with room_full', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const club = roomId('club');
    await privateRoom(alice, club, { capacity: 1 });
    const r = await bob.request('join', { room: club, invite: await share(alice, club) });
    expect(r.error).toMatchObject({ code: 'room_full' });
    const members = await alice.ok('members', { room: club });
    expect(members.members).toHaveLength(1);
  });

  it('end with the room: a room deleted and made again under the same id refuses old links', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const club = roomId('club');
    await privateRoom(alice, club);
    const old = await share(alice, club);
    await alice.ok('delete', { room: club });
    await privateRoom(alice, club);
    const r = await bob.request('join', { room: club, invite: old });
    expect(r.error).toMatchObject({ code: 'forbidden', message: expect.stringContaining(`not valid for room "${club}"`) });
  });

  it('end when the member who made them is kicked', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const carol = await server.connect({ name: 'Carol' });
    const club = roomId('club');
    await privateRoom(alice, club);
    await alice.ok('invite', { room: club, user: carol.userId });
    const carols = await share(carol, club);
    const alices = await share(alice, club);
    const firstSince = (await madeBy(club, carol.userId)).since;
    await alice.ok('kick', { room: club, user: carol.userId });
    const r = await bob.request('join', { room: club, invite: carols });
    expect(r.error).toMatchObject({ code: 'forbidden', message: `the member who made this invite link is no longer in room "${club}"; ask a member of the room for a new one` });
    await bob.ok('join', { room: club, invite: alices });
    // Let back in, Carol has a new membership: her old (perhaps leaked) link stays dead.
    await alice.ok('invite', { room: club, user: carol.userId });
    const dave = await server.connect({ name: 'Dave' });
    const again = await dave.request('join', { room: club, invite: carols });
    expect(again.error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('no longer in room') });
    // The store begins each membership later than the one before, even within one ms.
    expect((await madeBy(club, carol.userId)).since).toBeGreaterThan(firstSince);
    // A link she makes now works.
    await dave.ok('join', { room: club, invite: await share(carol, club) });
  });
});

describe('invite links across restarts and under the invite rate', () => {
  const start = serversPerTest();

  it('a token minted before a restart still admits on the same data dir', async () => {
    const dataDir = tempDir();
    try {
      const first = await start({ dataDir });
      const alice = await first.connect({ name: 'Alice' });
      await privateRoom(alice, 'club');
      const token = await share(alice, 'club');
      await first.close();
      const second = await start({ dataDir });
      const bob = await second.connect({ name: 'Bob' });
      await bob.ok('join', { room: 'club', invite: token });
      const members = await bob.ok('members', { room: 'club' });
      expect(members.members).toHaveLength(2);
    } finally {
      removeDir(dataDir);
    }
  });

  it('an admin, member or not, may mint; their links do not end with a membership', async () => {
    const server = await start({ auth: 'both', jwtSecret: SECRET });
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    await privateRoom(alice, 'club');
    const root = await TestClient.connect(server.wsUrl, { token: await hs256({ sub: 'root', name: 'Root', admin: true }) });
    const token = await share(root, 'club');
    await bob.ok('join', { room: 'club', invite: token });
    const members = await alice.ok('members', { room: 'club' });
    expect(members.members.map((m: { id: string }) => m.id).sort()).toEqual([alice.userId, bob.userId].sort());
  });

  it('minting is limited per user by --invite-rate, with invites', async () => {
    const server = await start({ inviteRate: 2 });
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    await privateRoom(alice, 'club');
    await alice.ok('share', { room: 'club' });
    await alice.ok('invite', { room: 'club', user: bob.userId });
    const r = await alice.request('share', { room: 'club' });
    expect(r.error).toMatchObject({ code: 'rate_limited', message: expect.stringContaining('invite links') });
    // Per user: Bob, a member now, still has his.
    await bob.ok('share', { room: 'club' });
  });
});
