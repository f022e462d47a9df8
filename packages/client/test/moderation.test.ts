import { afterEach, describe, expect, it } from 'vitest';
import type { RoomcastClient } from '../src/client.js';
import type { ModerationContext, Room } from '../src/room.js';
import { connect, serverPerSuite } from './helpers.js';

// Moderation through the SDK against a real server: roles, bans, mutes and slow mode, the
// `moderation` event, and the new error codes with their `until` / `retryAfter`.

/** The next `moderation` event of a room matching `action`. */
function nextModeration(room: Room, action: string): Promise<ModerationContext> {
  return new Promise((resolve) => {
    const off = room.on('moderation', (m) => {
      if (m.event.action !== action) return;
      off();
      resolve(m);
    });
  });
}

describe('moderation', () => {
  const server = serverPerSuite({ ratePerSec: 0 });
  const clients: RoomcastClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  it('role, ban, unban, mute, unmute and slow mode, with moderation events and typed errors', async () => {
    const alice = await connect(server.wsUrl, { name: 'Alice' }, clients);
    const bob = await connect(server.wsUrl, { name: 'Bob' }, clients);
    const carol = await connect(server.wsUrl, { name: 'Carol' }, clients);
    const club = await alice.create({ title: 'Club' });
    const bobs = await bob.join(club.id);
    const carols = await carol.join(club.id);
    const bobId = bob.user?.id as string;
    const carolId = carol.user?.id as string;

    const promoted = nextModeration(carols, 'role');
    await club.role(bobId, 'admin');
    expect((await promoted).event).toMatchObject({ action: 'role', role: 'admin', user: { id: bobId }, by: { name: 'Alice' } });
    expect((await carols.listMembers()).find((m) => m.id === bobId)).toMatchObject({ role: 'admin' });

    const until = Date.now() + 3_600_000;
    const muted = nextModeration(carols, 'mute');
    expect(await bobs.mute(carolId, { until: new Date(until) })).toEqual({ until });
    expect((await muted).event.until).toBe(until);
    await expect(carols.send('hello?')).rejects.toMatchObject({ code: 'muted', until });
    await bobs.unmute(carolId);
    await carols.send('back');

    await club.update({ slowMode: 60 });
    await carols.send('one');
    const early = await carols.send('two').catch((e: unknown) => e);
    expect(early).toMatchObject({ code: 'slow_mode' });
    expect((early as { retryAfter: number }).retryAfter).toBeGreaterThan(0);

    const closed = new Promise((resolve) => carols.on('closed', (c) => resolve(c.reason)));
    const banned = nextModeration(carols, 'ban');
    expect(await bobs.ban(carolId, { reason: 'spam' })).toEqual({ until: null });
    expect((await banned).event).toMatchObject({ action: 'ban', reason: 'spam', until: null });
    expect(await closed).toBe('kicked');
    await expect(carol.join(club.id)).rejects.toMatchObject({ code: 'banned', until: null });
    await bobs.unban(carolId);
    await carol.join(club.id);
  });
});
