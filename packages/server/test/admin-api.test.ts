import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { serverPerSuite, TestClient, type Frame, type TestServer } from './helpers.js';
import { hs256, SECRET } from './tokens.js';

// The admin API's guard and its rooms: list and search, one room, members, delete, kick. Real
// server, real sockets; users sign in with JWTs (admins carry `admin: true`) or as guests.

const KEY = 'admin-api-key-0123456789';

type Call = (path: string, init?: { method?: string; auth?: string | null; body?: unknown; headers?: Record<string, string> }) => Promise<{ status: number; body: any }>;

/** A fetch against the server with a bearer credential (the API key unless told otherwise). */
function caller(server: TestServer, fallback: string | null = KEY): Call {
  return async (path, init = {}) => {
    const auth = init.auth === undefined ? fallback : init.auth;
    const res = await fetch(`${server.url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(auth !== null ? { authorization: `Bearer ${auth}` } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    return { status: res.status, body: await res.json() };
  };
}

/** A JWT user's connection. */
const asUser = (server: TestServer, sub: string, admin = false) => hs256({ sub, name: sub, admin }).then((token) => TestClient.connect(server.wsUrl, { token }));

/** Every admin route, with a path that exists once `ensure` ran. */
const ROUTES: Array<[string, string]> = [
  ['GET', '/api/rooms'],
  ['GET', '/api/rooms/guarded'],
  ['GET', '/api/rooms/guarded/members'],
  ['DELETE', '/api/rooms/guarded'],
  ['DELETE', '/api/rooms/guarded/members/nobody'],
  ['GET', '/api/users'],
  ['GET', '/api/users/nobody'],
  ['POST', '/api/users/nobody/disconnect'],
];

describe('admin API: the guard', () => {
  const server = serverPerSuite({ apiKey: KEY, auth: 'both', jwtSecret: SECRET, httpRate: 0 });
  const call = (path: string, init: Parameters<Call>[1] = {}) => caller(server)(path, init);

  it('refuses every route without a credential or with one that is not valid (401), and a valid non-admin (403)', async () => {
    const guest = await server.connect({ name: 'Gus' });
    const nonAdmin = await hs256({ sub: 'plain', name: 'Plain' });
    const forged = await hs256({ sub: 'root', admin: true }, 'another-secret-that-is-32-chars-long!!');
    const expired = await hs256({ sub: 'root', admin: true, expIn: -120 });
    for (const [method, path] of ROUTES) {
      const none = await call(path, { method, auth: null });
      expect(none, `${method} ${path}`).toMatchObject({ status: 401, body: { error: { code: 'unauthorized', message: expect.stringMatching(/Authorization: Bearer .*--api-key.*admin/) } } });
      for (const bad of [`${KEY}x`, forged, expired, 'garbage']) {
        const r = await call(path, { method, auth: bad });
        expect(r, `${method} ${path} with ${bad.slice(0, 12)}`).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
      }
      const wrongHeader = await call(path, { method, auth: null, headers: { 'x-api-key': 'nope' } });
      expect(wrongHeader.status).toBe(401);
      for (const user of [nonAdmin, guest.welcome.guestToken as string]) {
        const r = await call(path, { method, auth: user });
        expect(r, `${method} ${path} as a non-admin`).toMatchObject({ status: 403, body: { error: { code: 'forbidden', message: expect.stringMatching(/not an administrator.*"admin": true/) } } });
      }
    }
  });

  it('accepts the API key (bearer or X-Api-Key) and an admin user\'s token', async () => {
    const owner = await server.connect({ name: 'Olga' });
    await owner.ok('create', { room: 'guarded' });
    const admin = await hs256({ sub: 'root', name: 'Root', admin: true });
    for (const auth of [KEY, admin]) {
      expect((await call('/api/rooms', { auth })).status).toBe(200);
      expect((await call('/api/rooms/guarded', { auth })).body).toMatchObject({ id: 'guarded' });
      expect((await call('/api/users', { auth })).status).toBe(200);
    }
    expect((await call('/api/rooms/guarded', { auth: null, headers: { 'x-api-key': KEY } })).status).toBe(200);
    // Every route lets both in (404s: `nobody` never connected; the second DELETE finds no room).
    for (const auth of [KEY, admin]) {
      for (const [method, path] of ROUTES) {
        const { status } = await call(path, { method, auth });
        expect([200, 404], `${method} ${path}`).toContain(status);
      }
    }
  });

  it('refuses a server-banned admin\'s token with 403 banned (with until) on every route, lifting the ban too; keys are unaffected', async () => {
    const token = await hs256({ sub: 'banned-root', name: 'Root', admin: true });
    expect((await call('/api/rooms', { auth: token })).status).toBe(200);
    const until = Date.now() + 3_600_000;
    await server.core.moderation.banUser('banned-root', { until });
    const more: Array<[string, string]> = [['POST', '/api/rooms'], ['DELETE', '/api/users/banned-root/ban'], ['GET', '/api/webhooks/status']];
    for (const [method, path] of [...ROUTES, ...more]) {
      const r = await call(path, { method, auth: token, ...(method === 'POST' ? { body: { id: 'by-banned' } } : {}) });
      expect(r, `${method} ${path}`).toMatchObject({ status: 403, body: { error: { code: 'banned', until } } });
    }
    expect(await server.core.moderation.userBan('banned-root')).toMatchObject({ until });
    expect((await call('/api/rooms/by-banned')).status).toBe(404);
    await server.core.moderation.unbanUser('banned-root');
    expect((await call('/api/rooms', { auth: token })).status).toBe(200);
  });

  it('keeps the server-side messages API to the API key', async () => {
    const owner = await server.connect({ name: 'Mia' });
    await owner.ok('create', { room: 'msgs-api' });
    const admin = await hs256({ sub: 'root', name: 'Root', admin: true });
    expect((await call('/api/rooms/msgs-api/messages', { auth: admin })).status).toBe(401);
    expect((await call('/api/rooms/msgs-api/messages', { method: 'POST', auth: admin, body: { text: 'x' } })).status).toBe(401);
    expect((await call('/api/rooms/msgs-api/messages')).status).toBe(200);
  });

  describe('without --api-key', () => {
    const keyless = serverPerSuite({ auth: 'jwt', jwtSecret: SECRET, httpRate: 0 });

    it('serves admin users only, and says that the key is not set', async () => {
      const call2 = caller(keyless, null);
      const admin = await hs256({ sub: 'root', name: 'Root', admin: true });
      expect((await call2('/api/rooms', { auth: admin })).status).toBe(200);
      const key = await call2('/api/rooms', { auth: KEY });
      expect(key).toMatchObject({ status: 401, body: { error: { message: expect.stringMatching(/without --api-key/) } } });
      // The messages API stays off, as before.
      expect((await call2('/api/rooms/x/messages', { auth: admin })).status).toBe(403);
    });
  });

  describe('rate limit', () => {
    const limited = serverPerSuite({ apiKey: KEY, httpRate: 1 });

    it('limits the admin routes like the other API routes', async () => {
      const call2 = caller(limited);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await call2('/api/rooms')).status);
      expect(statuses).toContain(429);
    });
  });
});

describe('admin API: rooms', () => {
  const server = serverPerSuite({ apiKey: KEY, auth: 'both', jwtSecret: SECRET, httpRate: 0 });
  const call = (path: string, init: Parameters<Call>[1] = {}) => caller(server)(path, init);
  const ids = (body: { rooms: Array<{ id: string }> }) => body.rooms.map((r) => r.id);

  it('lists every room with counts, private rooms and direct conversations included', async () => {
    const alice = await asUser(server, 'list-alice');
    const bob = await asUser(server, 'list-bob');
    await alice.ok('create', { room: 'list-pub', title: 'Public Square' });
    await alice.ok('create', { room: 'list-priv', visibility: 'private', capacity: 5 });
    await bob.ok('join', { room: 'list-pub' });
    await alice.ok('send', { room: 'list-pub', text: 'hello' });
    const dm = await alice.ok('dm', { to: 'list-bob', text: 'psst' });
    await bob.close();
    await alice.next('presence', (f) => f.event === 'leave');
    const { status, body } = await call('/api/rooms?q=list');
    expect(status).toBe(200);
    expect(body.next).toBeUndefined();
    const byId = new Map(body.rooms.map((r: { id: string }) => [r.id, r]));
    expect(byId.get('list-pub')).toEqual({
      id: 'list-pub',
      title: 'Public Square',
      visibility: 'public',
      direct: false,
      owner: 'list-alice',
      capacity: null,
      persist: true,
      createdAt: expect.any(Number),
      retention: null,
      receipts: true,
      members: 2,
      online: 1,
      lastSeq: 1,
    });
    expect(byId.get('list-priv')).toMatchObject({ visibility: 'private', capacity: 5, members: 1, online: 1, lastSeq: 0 });
    const direct = await call(`/api/rooms?q=${encodeURIComponent(dm.room)}`);
    expect(direct.body.rooms).toEqual([expect.objectContaining({ id: dm.room, direct: true, visibility: 'private', members: 2, lastSeq: 1 })]);
  });

  it('pages by id with an opaque cursor, and filters by id or title in any case', async () => {
    const owner = await server.connect({ name: 'Pager' });
    const made = ['pg-a', 'pg-b', 'pg-c', 'pg-d', 'pg-e'];
    for (const room of made) await owner.ok('create', { room, ...(room === 'pg-c' ? { title: 'Weekly 100% SYNC' } : {}) });
    await owner.ok('create', { room: 'other-x', title: 'pg_ lookalike' });
    const seen: string[][] = [];
    let cursor: string | undefined;
    do {
      const { status, body } = await call(`/api/rooms?q=pg-&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(status).toBe(200);
      seen.push(ids(body));
      cursor = body.next;
      if (cursor) expect(cursor).not.toContain('pg-');
    } while (cursor);
    expect(seen).toEqual([['pg-a', 'pg-b'], ['pg-c', 'pg-d'], ['pg-e']]);
    expect(ids((await call('/api/rooms?q=weekly')).body)).toEqual(['pg-c']);
    expect(ids((await call('/api/rooms?q=sync')).body)).toEqual(['pg-c']);
    expect(ids((await call(`/api/rooms?q=${encodeURIComponent('100%')}`)).body)).toEqual(['pg-c']);
    // `_` and `%` are themselves, not wildcards.
    expect(ids((await call(`/api/rooms?q=${encodeURIComponent('pg_')}`)).body)).toEqual(['other-x']);
    expect(ids((await call(`/api/rooms?q=${encodeURIComponent('%')}`)).body)).toEqual(['pg-c']);
    expect((await call('/api/rooms?q=no-such-room-anywhere')).body).toEqual({ rooms: [] });
  });

  it('gets one room, and answers 404 room_not_found for an unknown one', async () => {
    const owner = await server.connect({ name: 'One' });
    await owner.ok('create', { room: 'get-one', title: 'Just one' });
    expect((await call('/api/rooms/get-one')).body).toMatchObject({ id: 'get-one', title: 'Just one', members: 1, online: 1, lastSeq: 0 });
    for (const [method, path] of [['GET', '/api/rooms/nope-404'], ['GET', '/api/rooms/nope-404/members'], ['DELETE', '/api/rooms/nope-404'], ['DELETE', '/api/rooms/nope-404/members/u']] as const) {
      expect(await call(path, { method }), `${method} ${path}`).toMatchObject({ status: 404, body: { error: { code: 'room_not_found', message: expect.stringContaining('nope-404') } } });
    }
  });

  it('lists members page by page with role, online, read cursor and join time', async () => {
    // Ids in join order: members joined in the same millisecond are listed by id.
    const owner = await asUser(server, 'mem-0');
    await owner.ok('create', { room: 'mem' });
    const others = [];
    for (const sub of ['mem-1', 'mem-2', 'mem-3']) {
      const c = await asUser(server, sub);
      await c.ok('join', { room: 'mem' });
      others.push(c);
    }
    await owner.ok('send', { room: 'mem', text: 'read me' });
    await others[0]!.ok('read', { room: 'mem', seq: 1 });
    await others[2]!.close();
    await owner.next('presence', (f) => f.event === 'leave' && f.user.id === 'mem-3');
    const pages: any[][] = [];
    let cursor: string | undefined;
    do {
      const { status, body } = await call(`/api/rooms/mem/members?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(status).toBe(200);
      pages.push(body.members);
      cursor = body.next;
    } while (cursor);
    expect(pages.map((p) => p.length)).toEqual([3, 1]);
    const members = pages.flat();
    expect(members.map((m) => m.id)).toEqual(['mem-0', 'mem-1', 'mem-2', 'mem-3']);
    expect(members[0]).toEqual({ id: 'mem-0', name: 'mem-0', role: 'owner', online: true, readSeq: expect.any(Number), joinedAt: expect.any(Number) });
    expect(members[1]).toMatchObject({ role: 'member', online: true, readSeq: 1 });
    expect(members[3]).toMatchObject({ id: 'mem-3', role: 'member', online: false, readSeq: 0 });
  });

  it('deletes a room with the socket delete\'s effects: members told, connections detached, data gone', async () => {
    const owner = await asUser(server, 'del-owner');
    const member = await asUser(server, 'del-member');
    // A second connection of the member that has not joined the room: told directly.
    const memberIdle = await asUser(server, 'del-member');
    const viaSocket = ['del-sock', 'del-api'];
    for (const room of viaSocket) {
      await owner.ok('create', { room });
      await member.ok('join', { room });
      await owner.ok('send', { room, text: 'soon gone' });
    }
    await memberIdle.ok('rooms');
    await owner.ok('delete', { room: 'del-sock' });
    const bySocket = await member.next('room', (f) => f.room.id === 'del-sock');
    const idleBySocket = await memberIdle.next('room', (f) => f.room.id === 'del-sock');
    const res = await call('/api/rooms/del-api', { method: 'DELETE' });
    expect(res).toEqual({ status: 200, body: { room: 'del-api', deleted: true } });
    const byApi = await member.next('room', (f) => f.room.id === 'del-api');
    const idleByApi = await memberIdle.next('room', (f) => f.room.id === 'del-api');
    const same = (f: Frame) => ({ ...f, room: { ...f.room, id: 'X', createdAt: 0 } });
    expect(same(byApi)).toEqual(same(bySocket));
    expect(same(idleByApi)).toEqual(same(idleBySocket));
    expect(byApi.room).toMatchObject({ id: 'del-api', deleted: true });
    // Detached and gone: no more sends, no history, no listing.
    expect(await member.request('send', { room: 'del-api', text: 'x' })).toMatchObject({ ok: false, error: { code: 'room_not_found' } });
    expect(await server.store.messagesAfter('del-api', 0, 10)).toEqual([]);
    expect(await server.store.isMember('del-api', 'del-member')).toBe(false);
    expect((await call('/api/rooms/del-api')).status).toBe(404);
    expect(server.core.delivery.rooms.get('del-api')).toBeUndefined();
    expect((await call('/api/rooms/del-api', { method: 'DELETE' })).status).toBe(404);
  });

  it('removes a member with the socket kick\'s effects', async () => {
    const owner = await asUser(server, 'kick-owner');
    const bob = await asUser(server, 'kick-bob');
    await owner.ok('create', { room: 'kick-api', visibility: 'private' });
    await owner.ok('invite', { room: 'kick-api', user: 'kick-bob' });
    await bob.ok('join', { room: 'kick-api' });
    await owner.next('presence', (f) => f.event === 'join');
    const res = await call('/api/rooms/kick-api/members/kick-bob', { method: 'DELETE' });
    expect(res).toEqual({ status: 200, body: { room: 'kick-api', user: 'kick-bob', removed: true } });
    expect(await bob.next('room')).toMatchObject({ room: { id: 'kick-api', kicked: true } });
    await owner.next('presence', (f) => f.event === 'leave' && f.user.id === 'kick-bob');
    await owner.ok('send', { room: 'kick-api', text: 'after the kick' });
    await bob.barrier();
    expect(bob.take('msg')).toEqual([]);
    expect(await bob.request('join', { room: 'kick-api' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const again = await call('/api/rooms/kick-api/members/kick-bob', { method: 'DELETE' });
    expect(again).toMatchObject({ status: 404, body: { error: { code: 'not_member' } } });
  });

  it('answers hostile input with 400 bad_request, never a 500', async () => {
    const owner = await server.connect({ name: 'Host' });
    await owner.ok('create', { room: 'hostile' });
    const forged = Buffer.from(JSON.stringify({ id: 5 })).toString('base64url');
    const paths = [
      '/api/rooms?limit=1000000000000000000000',
      '/api/rooms?limit=201',
      '/api/rooms?limit=-1',
      '/api/rooms?limit=0',
      '/api/rooms?limit=abc',
      '/api/rooms?cursor=%%%garbage',
      '/api/rooms?cursor=not-a-cursor',
      `/api/rooms?cursor=${forged}`,
      `/api/rooms?cursor=${'x'.repeat(2000)}`,
      `/api/rooms?q=${'q'.repeat(201)}`,
      '/api/rooms?q=a%00b',
      '/api/rooms/hostile/members?limit=-5',
      '/api/rooms/hostile/members?cursor=garbage',
      `/api/rooms/hostile/members?cursor=${Buffer.from(JSON.stringify({ j: 'x', id: 'y' })).toString('base64url')}`,
      '/api/rooms/bad%20id!',
      '/api/users?limit=99999',
      '/api/users?cursor=garbage',
      '/api/users?online=maybe',
    ];
    for (const path of paths) {
      const r = await call(path);
      expect(r, path).toMatchObject({ status: 400, body: { error: { code: 'bad_request', message: expect.any(String) } } });
    }
    expect((await call('/api/rooms/hostile/members/a%00b', { method: 'DELETE' })).status).toBe(400);
    expect((await call('/api/users/a%00b')).status).toBe(400);
    // Wildcards are fine: they are matched literally.
    for (const q of ['%', '_', '\\', '%_%', "'; drop table rooms; --"]) {
      expect((await call(`/api/rooms?q=${encodeURIComponent(q)}`)).status, q).toBe(200);
    }
  });
});

describe('admin API: the examples of docs/deployment.md', () => {
  const server = serverPerSuite({ apiKey: KEY, auth: 'both', jwtSecret: SECRET, httpRate: 0 });

  it('run as written, in order, each answering 200', async () => {
    const doc = readFileSync(fileURLToPath(new URL('../../../docs/deployment.md', import.meta.url)), 'utf8');
    const section = doc.slice(doc.indexOf('## Admin API'), doc.indexOf('\n## ', doc.indexOf('## Admin API') + 1));
    const curls = section.split('\n').filter((l) => l.startsWith('curl '));
    expect(curls.length).toBeGreaterThanOrEqual(5);
    const owner = await asUser(server, 'u_123');
    await owner.ok('create', { room: 'ops', title: 'Ops' });
    for (const line of curls) {
      const m = /^curl (?:-X (\w+) )?-H "Authorization: Bearer \$KEY" '?(https:\/\/chat\.example\.com[^' ]+)'?$/.exec(line);
      expect(m, line).not.toBeNull();
      const res = await fetch(m![2]!.replace('https://chat.example.com', server.url), { method: m![1] ?? 'GET', headers: { authorization: `Bearer ${KEY}` } });
      expect(res.status, line).toBe(200);
    }
    expect(await server.store.getRoom('ops')).toBeNull();
    expect((await owner.closed).code).toBe(4410);
  });
});
