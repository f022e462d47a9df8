import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CloseCode } from '@roomcast/protocol';
import { freshDatabase } from '../../../test/pg.js';
import { serverPerSuite, startTestServer, TestClient, type TestServer } from './helpers.js';
import { hs256, SECRET } from './tokens.js';

// The admin API's users: who is connected, one user, and disconnecting a user (close 4410) on one
// server and across two cluster nodes (PostgreSQL + Redis).

const KEY = 'admin-users-key-0123456789';

async function call(server: TestServer, path: string, init: { method?: string; body?: unknown; auth?: string } = {}) {
  const res = await fetch(`${server.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.auth ?? KEY}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const asUser = (url: string, sub: string) => hs256({ sub, name: `Name of ${sub}` }).then((token) => TestClient.connect(url, { token }));

describe('admin API: users', () => {
  const server = serverPerSuite({ apiKey: KEY, auth: 'both', jwtSecret: SECRET, httpRate: 0 });

  it('lists the users connected now, with their connections and joined rooms, page by page', async () => {
    const a = await asUser(server.wsUrl, 'on-a');
    const a2 = await asUser(server.wsUrl, 'on-a');
    const b = await asUser(server.wsUrl, 'on-b');
    await a.ok('create', { room: 'on-r1' });
    await a2.ok('create', { room: 'on-r2' });
    await b.ok('join', { room: 'on-r1' });
    const gone = await asUser(server.wsUrl, 'on-c');
    await gone.close();
    const first = await call(server, '/api/users?online=true&limit=1');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ scope: 'server', users: [{ id: 'on-a', name: 'Name of on-a', connections: 2, rooms: ['on-r1', 'on-r2'] }] });
    expect(typeof first.body.next).toBe('string');
    const rest = await call(server, `/api/users?limit=1&cursor=${encodeURIComponent(first.body.next)}`);
    expect(rest.body).toEqual({ scope: 'server', users: [{ id: 'on-b', name: 'Name of on-b', connections: 1, rooms: ['on-r1'] }] });
    expect((await call(server, '/api/users')).body.users.map((u: { id: string }) => u.id)).toEqual(['on-a', 'on-b']);
    const offline = await call(server, '/api/users?online=false');
    expect(offline).toMatchObject({ status: 400, body: { error: { code: 'bad_request', message: expect.stringMatching(/online=true/) } } });
    await Promise.all([a.close(), a2.close(), b.close()]);
  });

  it('gets one user: online, connections, and the rooms they are a member of; 404 for an unknown id', async () => {
    const u = await asUser(server.wsUrl, 'one-u');
    await u.ok('create', { room: 'one-b' });
    await u.ok('create', { room: 'one-a' });
    await u.ok('leave', { room: 'one-b' });
    expect((await call(server, '/api/users/one-u')).body).toEqual({ id: 'one-u', name: 'Name of one-u', online: true, connections: 1, rooms: ['one-a'], scope: 'server' });
    await u.close();
    expect((await call(server, '/api/users/one-u')).body).toMatchObject({ online: false, connections: 0, rooms: ['one-a'] });
    expect(await call(server, '/api/users/never-seen')).toMatchObject({ status: 404, body: { error: { code: 'user_not_found', message: expect.stringContaining('never-seen') } } });
  });

  it('disconnects every connection of a user with 4410, and no one else', async () => {
    const tab1 = await asUser(server.wsUrl, 'dis-u');
    const tab2 = await asUser(server.wsUrl, 'dis-u');
    const other = await asUser(server.wsUrl, 'dis-other');
    await tab1.ok('create', { room: 'dis-room' });
    await other.ok('join', { room: 'dis-room' });
    const res = await call(server, '/api/users/dis-u/disconnect', { method: 'POST', body: {} });
    expect(res).toEqual({ status: 200, body: { user: 'dis-u', disconnected: true } });
    for (const tab of [tab1, tab2]) expect(await tab.closed).toEqual({ code: CloseCode.Disconnected, reason: 'disconnected by an administrator' });
    expect(CloseCode.Disconnected).toBe(4410);
    // The others see them leave and carry on.
    await other.next('presence', (f) => f.event === 'leave' && f.user.id === 'dis-u');
    await other.ok('ping');
    expect((await call(server, '/api/users/dis-u')).body).toMatchObject({ online: false, connections: 0 });
    // Without a body too; a user who never connected is 404.
    expect((await call(server, '/api/users/dis-u/disconnect', { method: 'POST' })).status).toBe(200);
    expect((await call(server, '/api/users/nobody-here/disconnect', { method: 'POST' })).status).toBe(404);
  });

  it('lets an admin user disconnect someone with their own token', async () => {
    const victim = await server.connect({ name: 'Guest' });
    const admin = await hs256({ sub: 'root', name: 'Root', admin: true });
    expect((await call(server, `/api/users/${victim.userId}/disconnect`, { method: 'POST', auth: admin })).status).toBe(200);
    expect((await victim.closed).code).toBe(4410);
  });

  it('manages a user whose id is 128 characters long (the longest a token may carry)', async () => {
    const id = `L${'o'.repeat(126)}g`;
    const long = await asUser(server.wsUrl, id);
    await long.ok('create', { room: 'long-room' });
    expect(await call(server, `/api/users/${id}`)).toMatchObject({ status: 200, body: { id, online: true, rooms: ['long-room'] } });
    expect((await call(server, `/api/users/${id}/disconnect`, { method: 'POST' })).status).toBe(200);
    expect((await long.closed).code).toBe(4410);
    expect(await call(server, `/api/rooms/long-room/members/${id}`, { method: 'DELETE' })).toMatchObject({ status: 200, body: { removed: true } });
    // Longer than the router takes (2,048 bytes): our error shape, not the framework's.
    const huge = await call(server, `/api/users/${'x'.repeat(3000)}`);
    expect(huge).toMatchObject({ status: 414, body: { error: { code: 'bad_request' } } });
    expect(await call(server, '/api/users/%ED%A0%80')).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
  });

  it('answers a caller without a credential 401 before it looks at the body or the path', async () => {
    for (const [path, init] of [
      ['/api/users/x/disconnect', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }],
      ['/api/users/x/disconnect', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<x/>' }],
      ['/api/rooms/x', { method: 'DELETE', headers: { 'content-type': 'application/json' } }],
      ['/api/rooms?limit=-5', {}],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, init);
      expect(res.status, `${init.method ?? 'GET'} ${path}`).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
  });
});

describe('admin API: users across two cluster nodes', () => {
  let nodes: [TestServer, TestServer];
  beforeAll(async () => {
    const postgresUrl = await freshDatabase(inject('pgUrl'), 'admin');
    const redisUrl = inject('redisUrl');
    nodes = (await Promise.all(
      [1, 2].map((i) => startTestServer({ postgresUrl, redisUrl, nodeId: `admin${i}-${process.pid}`, apiKey: KEY, auth: 'both', jwtSecret: SECRET, httpRate: 0, ratePerSec: 0 })),
    )) as [TestServer, TestServer];
  });
  afterAll(() => Promise.all(nodes.map((n) => n.close())));

  it('closes the user\'s connections on every node with 4410', async () => {
    const here = await asUser(nodes[0].wsUrl, 'cl-u');
    const there = await asUser(nodes[1].wsUrl, 'cl-u');
    const bystander = await asUser(nodes[1].wsUrl, 'cl-other');
    expect((await call(nodes[0], '/api/users/cl-u/disconnect', { method: 'POST' })).status).toBe(200);
    for (const c of [here, there]) expect(await c.closed).toEqual({ code: 4410, reason: 'disconnected by an administrator' });
    await bystander.ok('ping');
    // Online is the cluster's answer; the list is each node's own, and says so.
    expect((await call(nodes[0], '/api/users/cl-other')).body).toMatchObject({ online: true, connections: 0, scope: 'node' });
    expect((await call(nodes[1], '/api/users')).body).toMatchObject({ scope: 'node', users: [{ id: 'cl-other', connections: 1 }] });
    expect((await call(nodes[0], '/api/users')).body).toEqual({ scope: 'node', users: [] });
  });

  it('deletes a room and removes a member on every node, with online counts from the broker', async () => {
    const owner = await asUser(nodes[0].wsUrl, 'cl-owner');
    const member = await asUser(nodes[1].wsUrl, 'cl-member');
    const kicked = await asUser(nodes[1].wsUrl, 'cl-kicked');
    await owner.ok('create', { room: 'cl-room' });
    await member.ok('join', { room: 'cl-room' });
    await kicked.ok('join', { room: 'cl-room' });
    expect((await call(nodes[0], '/api/rooms/cl-room')).body).toMatchObject({ members: 3, online: 3 });
    expect((await call(nodes[0], '/api/rooms/cl-room/members/cl-kicked', { method: 'DELETE' })).status).toBe(200);
    expect(await kicked.next('room')).toMatchObject({ room: { id: 'cl-room', kicked: true } });
    await owner.next('presence', (f) => f.event === 'leave' && f.user.id === 'cl-kicked');
    expect((await call(nodes[0], '/api/rooms/cl-room', { method: 'DELETE' })).status).toBe(200);
    expect(await member.next('room')).toMatchObject({ room: { id: 'cl-room', deleted: true } });
    expect(await member.request('send', { room: 'cl-room', text: 'x' })).toMatchObject({ ok: false, error: { code: 'room_not_found' } });
  });
});
