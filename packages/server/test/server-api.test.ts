import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { serverPerSuite } from './helpers.js';
import { ADMIN_KEY, asUser, caller, HASHED_KEY, keysFile, PUBLISH_KEY, READ_KEY, unexercised } from './server-api-kit.js';
import { hs256, SECRET } from './tokens.js';

// The full server API on a real server: rooms, members, messages, users, moderation, scoped
// keys and hostile input. The last test checks that every endpoint of the OpenAPI document was
// called by one of these (so a new endpoint without a test fails it).

const server = serverPerSuite(() => ({ apiKey: ADMIN_KEY, apiKeys: keysFile(), auth: 'both', jwtSecret: SECRET, httpRate: 0, ratePerSec: 0 }));
const call = (path: string, init?: Parameters<ReturnType<typeof caller>>[1]) => caller(server)(path, init);

describe('server API: rooms and members', () => {
  it('creates a room with its owner, members and roles; gets, lists (by member too) and updates it', async () => {
    const created = await call('/api/rooms', {
      method: 'POST',
      body: { id: 'sa-team', title: 'Team', capacity: 10, owner: 'sa-olga', members: [{ id: 'sa-ben', name: 'Ben' }, { id: 'sa-ada', name: 'Ada', role: 'admin' }] },
    });
    expect(created).toMatchObject({ status: 201, body: { id: 'sa-team', title: 'Team', owner: 'sa-olga', capacity: 10, members: 3, lastSeq: 0 } });
    expect((await call('/api/rooms', { method: 'POST', body: { id: 'sa-team' } })).body).toMatchObject({ error: { code: 'room_exists' } });
    expect((await call('/api/rooms/sa-team')).body).toMatchObject({ id: 'sa-team', members: 3 });

    const members = await call('/api/rooms/sa-team/members');
    expect(members.body.members.map((m: { id: string; role: string; name: string }) => [m.id, m.role, m.name])).toEqual([
      ['sa-olga', 'owner', 'sa-olga'],
      ['sa-ben', 'member', 'Ben'],
      ['sa-ada', 'admin', 'Ada'],
    ]);
    const mine = await call('/api/rooms?member=sa-ben');
    expect(mine.body.rooms.map((r: { id: string }) => r.id)).toEqual(['sa-team']);

    // A member on a socket sees the update as the socket's `update` would show it.
    const ben = await asUser(server, 'sa-ben', 'Ben');
    await ben.ok('join', { room: 'sa-team' });
    const updated = await call('/api/rooms/sa-team', { method: 'PATCH', body: { title: 'The Team', retention: 7, receipts: false, slowMode: 5 } });
    expect(updated).toMatchObject({ status: 200, body: { title: 'The Team', retention: 7, receipts: false, slowMode: 5 } });
    expect(await ben.next('room')).toMatchObject({ room: { id: 'sa-team', title: 'The Team', receipts: false } });
    expect((await call('/api/rooms/sa-none', { method: 'PATCH', body: { title: 'x' } })).body).toMatchObject({ error: { code: 'room_not_found' } });
  });

  it('adds a member (a user who never connected too), sets a role, removes and deletes with the socket\'s effects', async () => {
    await call('/api/rooms', { method: 'POST', body: { id: 'sa-club', owner: 'sa-owner' } });
    const carl = await asUser(server, 'sa-carl', 'Carl');
    expect((await call('/api/rooms/sa-club/members', { method: 'POST', body: { user: 'sa-carl' } })).body).toEqual({ room: 'sa-club', user: 'sa-carl', added: true });
    expect((await call('/api/rooms/sa-club/members', { method: 'POST', body: { user: 'sa-carl' } })).body).toMatchObject({ added: false });
    expect((await call('/api/rooms/sa-club/members', { method: 'POST', body: { user: 'sa-newbie', name: 'Newbie' } })).body).toMatchObject({ added: true });
    // Carl was told of the room by the add: he joins without an invite.
    await carl.ok('join', { room: 'sa-club' });

    expect((await call('/api/rooms/sa-club/members/sa-carl/role', { method: 'PUT', body: { role: 'admin' } })).body).toEqual({ room: 'sa-club', user: 'sa-carl', role: 'admin' });
    const roles = (await call('/api/rooms/sa-club/members')).body.members.map((m: { id: string; role: string }) => `${m.id}:${m.role}`);
    expect(roles).toEqual(['sa-owner:owner', 'sa-carl:admin', 'sa-newbie:member']);
    expect((await call('/api/rooms/sa-club/members/sa-carl/role', { method: 'PUT', body: { role: 'owner' } })).status).toBe(400);

    expect((await call('/api/rooms/sa-club/members/sa-carl', { method: 'DELETE' })).body).toEqual({ room: 'sa-club', user: 'sa-carl', removed: true });
    expect(await carl.next('room', (f) => (f as unknown as { room: { kicked?: boolean } }).room.kicked === true)).toBeTruthy();
    expect((await call('/api/rooms/sa-club', { method: 'DELETE' })).body).toEqual({ room: 'sa-club', deleted: true });
    expect((await call('/api/rooms/sa-club')).status).toBe(404);
  });
});

describe('server API: messages', () => {
  it('posts as a user and as the system, lists, gets, edits, unsends and searches, with live delivery', async () => {
    await call('/api/rooms', { method: 'POST', body: { id: 'sa-news', owner: 'sa-reader', members: [{ id: 'sa-writer', name: 'Writer' }] } });
    const reader = await asUser(server, 'sa-reader', 'Reader');
    await reader.ok('join', { room: 'sa-news' });

    const asWriter = await call('/api/rooms/sa-news/messages', { method: 'POST', body: { text: 'hello from the writer', from: { id: 'sa-writer', name: 'Writer' }, mentions: ['sa-reader'] } });
    expect(asWriter).toMatchObject({ status: 201, body: { room: 'sa-news', seq: 1 } });
    expect(await reader.next('msg')).toMatchObject({ seq: 1, text: 'hello from the writer', from: { id: 'sa-writer' } });
    const asSystem = await call('/api/rooms/sa-news/messages', { method: 'POST', body: { text: 'maintenance at noon', replyTo: 1 } });
    expect(asSystem).toMatchObject({ status: 201, body: { seq: 2 } });
    expect(await reader.next('msg')).toMatchObject({ seq: 2, from: { id: 'system' }, replyTo: { seq: 1 } });

    expect((await call('/api/rooms/sa-news/messages?limit=1')).body).toMatchObject({ room: 'sa-news', messages: [{ seq: 2 }], more: true });
    expect((await call('/api/rooms/sa-news/messages/1')).body).toMatchObject({ seq: 1, text: 'hello from the writer', from: { id: 'sa-writer', name: 'Writer' } });
    expect((await call('/api/rooms/sa-news/messages/99')).body).toMatchObject({ error: { code: 'not_found' } });

    const edited = await call('/api/rooms/sa-news/messages/1', { method: 'PATCH', body: { text: 'hello, edited by the backend' } });
    expect(edited).toMatchObject({ status: 200, body: { room: 'sa-news', target: 1, seq: 3 } });
    expect(await reader.next('edit')).toMatchObject({ target: 1, text: 'hello, edited by the backend' });
    expect((await call('/api/rooms/sa-news/messages/1')).body).toMatchObject({ text: 'hello, edited by the backend', edited: expect.any(Number) });

    const found = await call('/api/search?q=EDITED&user=sa-reader');
    expect(found.body).toMatchObject({ messages: [{ seq: 1, room: 'sa-news' }], more: false });
    expect((await call('/api/search?q=edited&user=sa-stranger')).body).toEqual({ messages: [], more: false });
    expect((await call('/api/search?q=edited&user=sa-stranger&room=sa-news')).body).toMatchObject({ error: { code: 'not_member' } });

    const unsent = await call('/api/rooms/sa-news/messages/2', { method: 'DELETE' });
    expect(unsent.body).toEqual({ room: 'sa-news', target: 2, seq: 4 });
    expect(await reader.next('unsend')).toMatchObject({ target: 2 });
    expect((await call('/api/rooms/sa-news/messages/2', { method: 'DELETE' })).body).toEqual({ room: 'sa-news', target: 2, already: true });
    expect((await call('/api/rooms/sa-news/messages/2')).body).toMatchObject({ seq: 2, unsent: true });
  });
});

describe('server API: posts obey moderation', () => {
  it('refuses a post from a user banned from the server or the room, or muted there (403 with until); the system still posts', async () => {
    await call('/api/rooms', { method: 'POST', body: { id: 'sa-gate', members: [{ id: 'sa-g-muted' }, { id: 'sa-g-banned' }, { id: 'sa-g-server' }] } });
    const until = Date.now() + 3_600_000;
    expect((await call('/api/rooms/sa-gate/mutes', { method: 'POST', body: { user: 'sa-g-muted', until } })).status).toBe(200);
    expect((await call('/api/rooms/sa-gate/bans', { method: 'POST', body: { user: 'sa-g-banned' } })).status).toBe(200);
    expect((await call('/api/users/sa-g-server/ban', { method: 'POST', body: {} })).status).toBe(200);
    const post = (id: string) => call('/api/rooms/sa-gate/messages', { method: 'POST', key: PUBLISH_KEY, body: { text: 'hi', from: { id, name: id } } });
    expect(await post('sa-g-muted')).toMatchObject({ status: 403, body: { error: { code: 'muted', until, message: expect.stringContaining('leave out "from"') } } });
    expect(await post('sa-g-banned')).toMatchObject({ status: 403, body: { error: { code: 'banned', until: null, message: expect.stringContaining('banned from room "sa-gate"') } } });
    expect(await post('sa-g-server')).toMatchObject({ status: 403, body: { error: { code: 'banned', until: null, message: expect.stringContaining('banned from this server') } } });
    expect((await call('/api/rooms/sa-gate/messages', { method: 'POST', key: PUBLISH_KEY, body: { text: 'from the system' } })).status).toBe(201);
    expect((await call('/api/rooms/sa-gate/messages')).body.messages.map((m: { text: string }) => m.text)).toEqual(['from the system']);
    await call('/api/users/sa-g-server/ban', { method: 'DELETE' });
    expect((await post('sa-g-server')).status).toBe(201);
  });
});

describe('server API: users and moderation', () => {
  it('refuses an until past the end of year 9999 or in the past (400) on every route that takes one', async () => {
    await call('/api/rooms', { method: 'POST', body: { id: 'sa-far', members: [{ id: 'sa-far-u' }] } });
    const far = await asUser(server, 'sa-far-u');
    const routes: Array<[string, Record<string, unknown>]> = [['/api/users/sa-far-u/ban', {}], ['/api/rooms/sa-far/bans', { user: 'sa-far-u' }], ['/api/rooms/sa-far/mutes', { user: 'sa-far-u' }]];
    for (const until of [9e15, 253_402_300_800_000, Date.now() - 1000]) {
      for (const [path, body] of routes) {
        expect(await call(path, { method: 'POST', body: { ...body, until } }), `${path} until ${until}`).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
      }
    }
    await far.ok('ping');
    const max = 253_402_300_799_999;
    expect((await call('/api/users/sa-far-u/ban', { method: 'POST', body: { until: max } })).body).toMatchObject({ user: 'sa-far-u', until: max });
    expect(await far.closed).toMatchObject({ code: 4403, reason: expect.stringContaining('9999-12-31') });
    await call('/api/users/sa-far-u/ban', { method: 'DELETE' });
  });


  it('gets a user with rooms and online, mints a token that signs in, disconnects', async () => {
    const minted = await call('/api/users/sa-min/token', { method: 'POST', body: { name: 'Min', ttl: 600 } });
    expect(minted).toMatchObject({ status: 201, body: { user: 'sa-min', token: expect.any(String), expires: expect.any(Number) } });
    const min = await server.connect({ token: minted.body.token });
    expect(min.welcome.user).toMatchObject({ id: 'sa-min', name: 'Min' });
    await call('/api/rooms', { method: 'POST', body: { id: 'sa-min-room', owner: 'sa-min' } });
    expect((await call('/api/users/sa-min')).body).toMatchObject({ id: 'sa-min', online: true, rooms: ['sa-min-room'] });
    expect((await call('/api/users?online=true')).body.users.map((u: { id: string }) => u.id)).toContain('sa-min');
    expect((await call('/api/users/sa-min/disconnect', { method: 'POST' })).body).toEqual({ user: 'sa-min', disconnected: true });
    expect((await min.closed).code).toBe(4410);
  });

  it('bans and mutes in a room, lists and lifts them; bans a user server-wide and lifts it', async () => {
    await call('/api/rooms', { method: 'POST', body: { id: 'sa-mod', owner: 'sa-mod-owner', members: [{ id: 'sa-troll' }, { id: 'sa-loud' }] } });
    const loud = await asUser(server, 'sa-loud');
    await loud.ok('join', { room: 'sa-mod' });
    const muted = await call('/api/rooms/sa-mod/mutes', { method: 'POST', body: { user: 'sa-loud' } });
    expect(muted).toMatchObject({ status: 200, body: { room: 'sa-mod', user: 'sa-loud', until: null } });
    expect(await loud.request('send', { room: 'sa-mod', text: 'hi' })).toMatchObject({ ok: false, error: { code: 'muted' } });
    expect((await call('/api/rooms/sa-mod/mutes')).body.mutes).toMatchObject([{ user: 'sa-loud' }]);
    expect((await call('/api/rooms/sa-mod/mutes/sa-loud', { method: 'DELETE' })).body).toMatchObject({ unmuted: true });
    await loud.ok('send', { room: 'sa-mod', text: 'hi again' });

    const banned = await call('/api/rooms/sa-mod/bans', { method: 'POST', body: { user: 'sa-troll', reason: 'spam' } });
    expect(banned).toMatchObject({ status: 200, body: { room: 'sa-mod', user: 'sa-troll', reason: 'spam' } });
    expect((await call('/api/rooms/sa-mod/bans')).body.bans).toMatchObject([{ user: 'sa-troll' }]);
    expect((await call('/api/rooms/sa-mod/members', { method: 'POST', body: { user: 'sa-troll' } })).body).toMatchObject({ error: { code: 'banned' } });
    expect((await call('/api/rooms/sa-mod/bans/sa-troll', { method: 'DELETE' })).body).toMatchObject({ unbanned: true });

    const victim = await asUser(server, 'sa-banned');
    const ban = await call('/api/users/sa-banned/ban', { method: 'POST', body: { reason: 'abuse' } });
    expect(ban).toMatchObject({ status: 200, body: { room: null, user: 'sa-banned' } });
    expect((await victim.closed).code).not.toBe(1000);
    await expect(asUser(server, 'sa-banned')).rejects.toThrow();
    expect((await call('/api/users/sa-banned/ban', { method: 'DELETE' })).body).toMatchObject({ unbanned: true });
    const back = await asUser(server, 'sa-banned');
    await back.ok('ping');
  });

  it('answers the webhook status behind the same guard', async () => {
    expect(await call('/api/webhooks/status')).toMatchObject({ status: 200, body: { endpoints: [] } });
    expect((await call('/api/webhooks/status', { key: null })).status).toBe(401);
    expect((await call('/api/webhooks/status', { key: READ_KEY })).status).toBe(200);
    const user = await hs256({ sub: 'sa-nobody', name: 'Nobody' });
    expect((await call('/api/webhooks/status', { key: user })).status).toBe(403);
  });
});

describe('server API: scoped keys', () => {
  it('lets a read key GET only, a publish key post messages too, and admin keys (a hashed one too) everything', async () => {
    await call('/api/rooms', { method: 'POST', body: { id: 'sa-scopes' } });
    const read = await call('/api/rooms/sa-scopes/messages', { key: READ_KEY });
    expect(read.status).toBe(200);
    expect((await call('/api/rooms/sa-scopes', { key: READ_KEY })).status).toBe(200);
    const refused = await call('/api/rooms/sa-scopes/messages', { method: 'POST', key: READ_KEY, body: { text: 'x' } });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'forbidden', message: expect.stringMatching(/"reader" has scope "read".*needs scope "publish"/) } } });

    expect((await call('/api/rooms/sa-scopes/messages', { method: 'POST', key: PUBLISH_KEY, body: { text: 'from the publisher' } })).status).toBe(201);
    expect((await call('/api/rooms/sa-scopes/messages/1', { method: 'PATCH', key: PUBLISH_KEY, body: { text: 'edited' } })).status).toBe(200);
    const noAdmin = await call('/api/rooms', { method: 'POST', key: PUBLISH_KEY, body: { id: 'sa-scopes-2' } });
    expect(noAdmin).toMatchObject({ status: 403, body: { error: { code: 'forbidden', message: expect.stringMatching(/needs scope "admin"/) } } });
    expect((await call('/api/rooms/sa-scopes', { method: 'DELETE', key: READ_KEY })).status).toBe(403);

    expect((await call('/api/rooms', { method: 'POST', key: HASHED_KEY, body: { id: 'sa-scopes-3' } })).status).toBe(201);
    expect((await call('/api/rooms/sa-scopes', { key: `sha256:${'0'.repeat(64)}` })).status).toBe(401);
    expect((await call('/api/rooms/sa-scopes/messages', { key: 'not-a-key-at-all-000' })).status).toBe(401);
    // X-Api-Key carries keys too.
    expect((await call('/api/rooms/sa-scopes', { key: null, headers: { 'x-api-key': READ_KEY } })).status).toBe(200);
    // An admin's sign-in token is admin scope on the admin routes.
    const admin = await hs256({ sub: 'sa-root', name: 'Root', admin: true });
    expect((await call('/api/rooms', { method: 'POST', key: admin, body: { id: 'sa-scopes-4' } })).status).toBe(201);
  });
});

describe('server API: hostile input', () => {
  it('answers arbitrary bodies with a 4xx in the error shape, never a 500', async () => {
    await call('/api/rooms', { method: 'POST', body: { id: 'sa-fuzz', members: [{ id: 'sa-fuzzer' }] } });
    const routes: Array<[string, string]> = [
      ['POST', '/api/rooms'],
      ['PATCH', '/api/rooms/sa-fuzz'],
      ['POST', '/api/rooms/sa-fuzz/members'],
      ['POST', '/api/rooms/sa-fuzz/messages'],
      ['PATCH', '/api/rooms/sa-fuzz/messages/1'],
      ['POST', '/api/rooms/sa-fuzz/bans'],
      ['POST', '/api/users/sa-fuzzer/token'],
    ];
    const body = fc.oneof(
      fc.json(),
      fc.object(),
      fc.record({ id: fc.string(), title: fc.string(), text: fc.string(), user: fc.string(), capacity: fc.integer(), members: fc.array(fc.anything()) }, { requiredKeys: [] }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), body, async ([method, path], b) => {
        const res = await call(path, { method, body: typeof b === 'string' ? b : JSON.stringify(b) });
        if (res.status >= 500) throw new Error(`${method} ${path} ${JSON.stringify(b)} → ${res.status} ${JSON.stringify(res.body)}`);
        if (res.status >= 400) expect(res.body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
      }),
      { numRuns: 150 },
    );
    // A body over the limit (1 MiB) is the protocol's too_large, not bad_request.
    const big = await call('/api/rooms/sa-fuzz/messages', { method: 'POST', key: PUBLISH_KEY, body: { text: 'x'.repeat(1_100_000) } });
    expect(big).toMatchObject({ status: 413, body: { error: { code: 'too_large', message: expect.stringContaining('smaller') } } });
    const badPaths = ['/api/rooms/%00', '/api/rooms/sa-fuzz/messages/0', '/api/rooms/sa-fuzz/messages/x', '/api/search?q=&user=u', '/api/rooms?limit=0', '/api/rooms?cursor=zzz'];
    for (const p of badPaths) expect((await call(p)).status, p).toBe(400);
  });
});

describe('server API: coverage', () => {
  it('exercised every (method, path) of the OpenAPI document', async () => {
    const doc = (await call('/api/openapi.json')).body;
    const operations = Object.values(doc.paths as Record<string, object>).reduce((n: number, ops) => n + Object.keys(ops).length, 0);
    expect(operations).toBeGreaterThanOrEqual(27);
    expect(unexercised(doc)).toEqual([]);
  });
});
