import { describe, expect, it } from 'vitest';
import { serverPerSuite, TestClient } from './helpers.js';
import { hs256, SECRET } from './tokens.js';

describe('access control', () => {
  const server = serverPerSuite({ auth: 'both', jwtSecret: SECRET, guestCreate: 'off' });
  const as = async (sub: string, extra: { rooms?: string[]; admin?: boolean } = {}) =>
    TestClient.connect(server.wsUrl, { token: await hs256({ sub, name: sub, ...extra }) });

  it('lets a token\'s rooms claim into matching private rooms only, and leaks nothing to the refused', async () => {
    const owner = await as('owner');
    await owner.ok('create', { room: 'team-red', visibility: 'private' });
    await owner.ok('create', { room: 'board', visibility: 'private' });
    const member = await as('ted', { rooms: ['team-*'] });
    const joined = await member.ok('join', { room: 'team-red' });
    expect(joined.room).toMatchObject({ id: 'team-red', visibility: 'private' });
    const outsider = await as('olga', { rooms: ['team-blue', 'board-*'] });
    expect(await outsider.request('join', { room: 'team-red' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await outsider.request('join', { room: 'board' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await outsider.request('history', { room: 'team-red' })).toMatchObject({ ok: false, error: { code: 'not_member' } });
    expect(await outsider.request('members', { room: 'team-red' })).toMatchObject({ ok: false, error: { code: 'not_member' } });
    expect(await outsider.request('send', { room: 'team-red', text: 'let me in' })).toMatchObject({ ok: false, error: { code: 'not_member' } });
    await owner.ok('send', { room: 'team-red', text: 'red only' });
    await owner.ok('typing', { room: 'team-red' });
    expect((await member.next('msg')).text).toBe('red only');
    await member.next('typing');
    await outsider.barrier();
    expect(outsider.frames).toEqual([]);
    // A guest with a forged claim cannot exist: guests carry no claims. Invitation is their way in.
    const guest = await server.connect({ name: 'Gus' });
    expect(await guest.request('join', { room: 'team-red' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    await owner.ok('invite', { room: 'team-red', user: guest.userId });
    await guest.ok('join', { room: 'team-red' });
  });

  it('lets admins into any room, kick anyone and delete rooms; members are told', async () => {
    const owner = await as('own2');
    const bob = await as('bob2');
    await owner.ok('create', { room: 'secret', visibility: 'private' });
    await owner.ok('invite', { room: 'secret', user: 'bob2' });
    await bob.ok('join', { room: 'secret' });
    const admin = await as('root', { admin: true });
    await admin.ok('join', { room: 'secret' });
    await admin.ok('kick', { room: 'secret', user: 'bob2' });
    expect(await bob.next('room')).toMatchObject({ room: { id: 'secret', kicked: true } });
    expect(await bob.request('kick', { room: 'secret', user: 'own2' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await bob.request('delete', { room: 'secret' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    await admin.ok('delete', { room: 'secret' });
    expect(await owner.next('room')).toMatchObject({ room: { id: 'secret', deleted: true } });
    expect(await owner.request('join', { room: 'secret' })).toMatchObject({ ok: false, error: { code: 'room_not_found' } });
    expect(await owner.request('send', { room: 'secret', text: 'gone' })).toMatchObject({ ok: false, error: { code: 'room_not_found' } });
  });

  it('lets an owner delete their own room', async () => {
    const owner = await as('own3');
    const guest = await server.connect({ name: 'Gina' });
    await owner.ok('create', { room: 'mine-3' });
    await guest.ok('join', { room: 'mine-3' });
    await owner.ok('delete', { room: 'mine-3' });
    expect(await guest.next('room')).toMatchObject({ room: { id: 'mine-3', deleted: true } });
    expect((await guest.ok('rooms')).rooms.map((r: { id: string }) => r.id)).not.toContain('mine-3');
  });

  it('stops guests from creating private rooms when --guest-create is off', async () => {
    const guest = await server.connect({ name: 'Gary' });
    const refused = await guest.request('create', { room: 'g-priv', visibility: 'private' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    await guest.ok('create', { room: 'g-pub' });
    const user = await as('ursula');
    await user.ok('create', { room: 'u-priv', visibility: 'private' });
  });
});
