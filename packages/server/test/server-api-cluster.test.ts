import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshDatabase } from '../../../test/pg.js';
import { startTestServer, type TestServer } from './helpers.js';
import { ADMIN_KEY, asUser, caller } from './server-api-kit.js';
import { SECRET } from './tokens.js';

// The server API on one node of a two-node cluster (PostgreSQL + Redis) has the socket's effects
// on the other: messages, edits, room updates, member changes, mutes and bans reach members
// connected there, and an Idempotency-Key retried on the other node gets the first answer.

describe('server API across two cluster nodes', () => {
  let nodes: [TestServer, TestServer];
  beforeAll(async () => {
    const postgresUrl = await freshDatabase(inject('pgUrl'), 'sapi');
    const redisUrl = inject('redisUrl');
    nodes = (await Promise.all(
      [1, 2].map((i) => startTestServer({ postgresUrl, redisUrl, nodeId: `sapi${i}-${process.pid}`, apiKey: ADMIN_KEY, auth: 'both', jwtSecret: SECRET, httpRate: 0, ratePerSec: 0 })),
    )) as [TestServer, TestServer];
  });
  afterAll(() => Promise.all(nodes.map((n) => n.close())));

  it('reaches members on the other node', async () => {
    const one = caller(nodes[0]);
    const two = caller(nodes[1]);
    expect((await one('/api/rooms', { method: 'POST', body: { id: 'cl-api', owner: 'cl-api-owner', members: [{ id: 'cl-api-m' }] } })).status).toBe(201);
    const member = await asUser(nodes[1], 'cl-api-m');
    await member.ok('join', { room: 'cl-api' });

    const posted = await one('/api/rooms/cl-api/messages', { method: 'POST', body: { text: 'from node one' }, headers: { 'idempotency-key': 'cl-k' } });
    expect(posted.status).toBe(201);
    expect(await member.next('msg')).toMatchObject({ text: 'from node one', from: { id: 'system' } });
    // The retry lands on the other node: the same answer, nothing posted twice.
    const retried = await two('/api/rooms/cl-api/messages', { method: 'POST', body: { text: 'from node one' }, headers: { 'idempotency-key': 'cl-k' } });
    expect([retried.status, retried.headers.get('idempotent-replayed'), retried.body]).toEqual([201, 'true', posted.body]);

    await one('/api/rooms/cl-api/messages/1', { method: 'PATCH', body: { text: 'edited on node one' } });
    expect(await member.next('edit')).toMatchObject({ target: 1, text: 'edited on node one' });
    await one('/api/rooms/cl-api', { method: 'PATCH', body: { title: 'Renamed' } });
    expect(await member.next('room')).toMatchObject({ room: { title: 'Renamed' } });

    await one('/api/rooms/cl-api/mutes', { method: 'POST', body: { user: 'cl-api-m' } });
    expect(await member.request('send', { room: 'cl-api', text: 'x' })).toMatchObject({ ok: false, error: { code: 'muted' } });
    await one('/api/rooms/cl-api/members/cl-api-m', { method: 'DELETE' });
    expect(await member.next('room', (f) => (f as unknown as { room: { kicked?: boolean } }).room.kicked === true)).toBeTruthy();

    const banned = await asUser(nodes[1], 'cl-api-banned');
    expect((await one('/api/users/cl-api-banned/ban', { method: 'POST', body: {} })).status).toBe(200);
    expect((await banned.closed).code).not.toBe(1000);
  });
});
