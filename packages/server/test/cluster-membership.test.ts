import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../test/pg.js';
import { startPostgres, startRedis, type PostgresServer, type RedisServer } from '../../../test/services.js';
import { startTcpProxy, type TcpProxy } from '../../../test/tcp-proxy.js';
import { startTestServer, type TestClient, type TestServer } from './helpers.js';

// Issue #17, item 2: membership changes that must reach a user's connections on another node
// (kick, delete) are control messages over Redis pub/sub, which delivers at most once. A node
// must never go on trusting its cached copy of who belongs where when one was lost: posting is
// checked in the commit, and after the broker comes back the cache is checked against the store.
// Node 1 reaches Redis through a proxy that can drop its connections; node 2 reaches it directly.

describe('cluster: membership changes lost between nodes', () => {
  let redis: RedisServer;
  let pg: PostgresServer;
  let proxy: TcpProxy;
  let n1: TestServer;
  let n2: TestServer;
  beforeAll(async () => {
    [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
    proxy = await startTcpProxy(redis.port);
    const postgresUrl = await freshDatabase(pg.url, 'memb');
    [n1, n2] = await Promise.all([
      startTestServer({ postgresUrl, redisUrl: proxy.url(redis.url), nodeId: 'm1', ratePerSec: 0 }),
      startTestServer({ postgresUrl, redisUrl: redis.url, nodeId: 'm2', ratePerSec: 0 }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([n1, n2].map((n) => n?.close()));
    await proxy?.close();
    await Promise.all([redis?.stop(), pg?.stop()]);
  });

  const ready = async (server: TestServer) => (await fetch(`${server.url}/readyz`)).status;

  /** Node 1's Redis connections drop with whatever was on its way to them, then come back. */
  async function loseWhatIsInFlight(during: () => Promise<void>): Promise<void> {
    proxy.cut();
    await during();
    proxy.reset();
    proxy.heal();
    await expect.poll(() => ready(n1), { timeout: 15_000, interval: 50 }).toBe(200);
  }

  it('a kick whose control message was lost: the kicked user can neither post nor go on reading', async () => {
    const owner = await n2.connect({ name: 'Owner' });
    const bob: TestClient = await n1.connect({ name: 'Bob' });
    const carol = await n2.connect({ name: 'Carol' });
    await owner.ok('create', { room: 'lost-kick' });
    await bob.ok('join', { room: 'lost-kick' });
    await carol.ok('join', { room: 'lost-kick' });
    await owner.ok('send', { room: 'lost-kick', text: 'before' });
    expect((await bob.next('msg')).text).toBe('before');

    await loseWhatIsInFlight(() => owner.ok('kick', { room: 'lost-kick', user: bob.userId }).then(() => undefined));

    // After the broker came back, node 1 checked its cached memberships against the store.
    expect(await bob.next('room', (f) => f.room?.id === 'lost-kick', 15_000)).toMatchObject({ room: { id: 'lost-kick', kicked: true } });
    const refused = await bob.request('send', { room: 'lost-kick', text: 'still here?' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'not_member' } });
    await owner.ok('send', { room: 'lost-kick', text: 'after' });
    expect((await carol.next('msg', (f) => f.text === 'after')).text).toBe('after');
    await bob.barrier();
    expect(bob.take('msg').map((m) => m.text)).not.toContain('after');
    expect(carol.take('msg').map((m) => m.text)).not.toContain('still here?');
  });

  it('a deleted room reaches members connected on a node where nobody joined it, so its id taken again lets nobody in', async () => {
    const owner = await n2.connect({ name: 'Owner' });
    const bobHere = await n2.connect({ name: 'Bob' });
    await owner.ok('create', { room: 'reborn' });
    await bobHere.ok('join', { room: 'reborn' });
    // Bob's other connection, on node 1, belongs to the room (its welcome lists it) but never joined it there.
    const bobThere = await n1.connect({ guest: bobHere.welcome.guestToken as string });
    expect(bobThere.welcome.rooms.map((r: { id: string }) => r.id)).toContain('reborn');
    await owner.ok('delete', { room: 'reborn' });
    expect(await bobThere.next('room', (f) => f.room?.id === 'reborn')).toMatchObject({ room: { id: 'reborn', deleted: true } });
    // The id is taken again, by a private room: Bob's node must not let him in on his old membership.
    await owner.ok('create', { room: 'reborn', visibility: 'private' });
    expect(await bobThere.request('join', { room: 'reborn' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await bobThere.request('send', { room: 'reborn', text: 'in?' })).toMatchObject({ ok: false, error: { code: 'not_member' } });
  });
});
