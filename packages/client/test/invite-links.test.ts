import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode } from '@roomcast/protocol';
import type { RoomcastClient } from '../src/client.js';
import { collect, connect, nextEvent, serverPerSuite, whenState } from './helpers.js';

// Invite links through the SDK against a real server: a member shares, a stranger joins a
// private room with the token and stays a member across reconnects.

describe('invite links', () => {
  const server = serverPerSuite();
  const clients: RoomcastClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  it('let a stranger into a private room as a member, who comes back after a reconnect without the token', async () => {
    const alice = await connect(server.wsUrl, { name: 'Alice' }, clients);
    const bob = await connect(server.wsUrl, { name: 'Bob' }, clients);
    const club = await alice.create({ visibility: 'private', title: 'Club' });
    await expect(bob.join(club.id)).rejects.toMatchObject({ code: 'forbidden' });

    const link = await club.share(3600);
    expect(link).toMatchObject({ room: club.id, invite: expect.any(String) });
    expect(link.expires).toBeGreaterThan(Date.now() + 3590_000);
    expect(link.expires).toBeLessThanOrEqual(Date.now() + 3600_000);
    const viaClient = await alice.share(club.id);
    expect(viaClient.expires).toBeGreaterThan(Date.now() + 6 * 86_400_000);

    const joinedNotice = new Promise<void>((resolve) => club.on('presence', (p) => p.event === 'join' && p.user.id === bob.user?.id && resolve()));
    const room = await bob.join(club.id, { invite: link.invite });
    expect(room.info).toMatchObject({ id: club.id, visibility: 'private', title: 'Club' });
    await joinedNotice;
    expect((await club.listMembers()).map((m) => m.name).sort()).toEqual(['Alice', 'Bob']);
    expect((await bob.rooms()).map((r) => r.id)).toContain(club.id);

    // The server drops Bob's connection; he re-joins as a member and gets what he missed.
    const seen = collect(room);
    const dropped = nextEvent(bob, 'state', (s) => s.state === 'connecting');
    for (const s of server.core.registry.sessions) if (s.user.id === bob.user?.id) s.conn.close(CloseCode.TryAgainLater, 'test: go away');
    await dropped;
    await club.send('while you were away');
    await whenState(bob, 'connected');
    expect((await seen.until(1)).map((m) => m.text)).toEqual(['while you were away']);
  });

  it('refuse an invalid token: the join rejects with forbidden and the reason', async () => {
    const alice = await connect(server.wsUrl, { name: 'Alice' }, clients);
    const bob = await connect(server.wsUrl, { name: 'Bob' }, clients);
    const club = await alice.create({ visibility: 'private' });
    const other = await alice.create({ visibility: 'private' });
    const { invite } = await other.share();
    await expect(bob.join(club.id, { invite })).rejects.toMatchObject({ code: 'forbidden', message: expect.stringContaining(`not valid for room "${club.id}"`) });
    // A later join with the right token works: a refused join leaves nothing behind.
    await expect(bob.join(club.id, { invite: (await club.share()).invite })).resolves.toMatchObject({ id: club.id });
    await expect(bob.share(club.id)).resolves.toMatchObject({ room: club.id });
    const dm = await alice.dm(bob.user?.id as string, 'hi');
    await expect(alice.share(dm.room)).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('invite a user by id and kick them: invite makes a member (twice is already), kick closes their room', async () => {
    const alice = await connect(server.wsUrl, { name: 'Alice' }, clients);
    const bob = await connect(server.wsUrl, { name: 'Bob' }, clients);
    const club = await alice.create({ visibility: 'private' });
    const bobId = bob.user?.id as string;
    await expect(alice.invite(club.id, bobId)).resolves.toEqual({ already: false });
    await expect(alice.invite(club.id, bobId)).resolves.toEqual({ already: true });
    await expect(alice.invite(club.id, 'u_never-connected')).rejects.toMatchObject({ code: 'user_not_found' });
    const room = await bob.join(club.id);
    await expect(bob.kick(club.id, alice.user?.id as string)).rejects.toMatchObject({ code: 'forbidden' });
    const closed = new Promise<string>((resolve) => room.on('closed', (c) => resolve(c.reason)));
    await alice.kick(club.id, bobId);
    expect(await closed).toBe('kicked');
    await expect(bob.join(club.id)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(alice.kick(club.id, bobId)).rejects.toMatchObject({ code: 'not_member' });
  });
});
