import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers.js';

describe('smoke', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('welcomes a guest and chats in a room', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    expect(alice.welcome.user.name).toBe('Alice');
    await alice.ok('create', { room: 'lobby' });
    await bob.ok('join', { room: 'lobby' });
    const reply = await alice.ok('send', { room: 'lobby', text: 'hi' });
    const msg = await bob.next('msg');
    expect(msg).toMatchObject({ room: 'lobby', seq: reply.seq, text: 'hi', from: { id: alice.userId, name: 'Alice' } });
  });
});
