import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../test/pg.js';
import { startPostgres, startRedis, type PostgresServer, type RedisServer } from '../../../test/services.js';
import { startTcpProxy, type TcpProxy } from '../../../test/tcp-proxy.js';
import { spawnServe, type ChildServer } from './child-server.js';
import { TestClient, startTestServer, type Frame, type TestServer } from './helpers.js';

// Presence across nodes when things go wrong (issue 17, item 4): a node restarted with the same
// --node-id, a node that crashed (its users' `~user:` entries too), a user who disconnects while
// their node is cut off from Redis, and a silent cut longer than the lease. Node 1 reaches Redis
// through a TCP proxy that can cut silently; node 2 and the child nodes go direct.

const LEASE = 1500;
const common = { presenceLeaseMs: LEASE, presenceGraceMs: 0, redisTimeoutMs: 500, ratePerSec: 0 };

let redis: RedisServer;
let pg: PostgresServer;
let postgresUrl: string;
let proxy: TcpProxy;
let cutOff: TestServer;
let direct: TestServer;
let r: Redis;

beforeAll(async () => {
  [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
  postgresUrl = await freshDatabase(pg.url, 'presence');
  proxy = await startTcpProxy(Number(new URL(redis.url).port));
  direct = await startTestServer({ ...common, postgresUrl, redisUrl: redis.url, nodeId: 'p2' });
  cutOff = await startTestServer({ ...common, postgresUrl, redisUrl: proxy.url(redis.url), nodeId: 'p1' });
  r = new Redis(redis.url);
}, 30_000);
afterAll(async () => {
  proxy?.heal();
  r?.disconnect();
  await Promise.all([cutOff?.close(), direct?.close()]);
  await proxy?.close();
  await Promise.all([redis?.stop(), pg?.stop()]);
});

const isPresence = (event: string, userId: string) => (f: Frame) => f.event === event && f.user?.id === userId;

/** A roomcast child process on this cluster (SIGKILL-able: a crash, no clean-up). */
function child(nodeId: string, leaseMs = LEASE): Promise<ChildServer> {
  return spawnServe(['--port', '0', '--host', '127.0.0.1', '--postgres', postgresUrl, '--redis', redis.url, '--node-id', nodeId, '--presence-lease', String(leaseMs), '--presence-grace', '0', '--log-level', 'silent']);
}

/** Members flagged online (the stored list with its online flags, as before paging existed). */
async function onlineIds(via: TestClient, room: string): Promise<string[]> {
  const reply = await via.ok('members', { room });
  return (reply.members as Array<{ id: string; online: boolean }>).filter((m) => m.online).map((m) => m.id);
}

/** Node 1's connections count (HTTP; needs no Redis). */
async function connections(server: TestServer): Promise<number> {
  return ((await (await fetch(`${server.url}/api/stats`)).json()) as { connections: number }).connections;
}

describe('cluster presence under restarts, crashes and partitions', () => {
  it('a node restarted with the same --node-id: its previous users go within one lease, their ~user: entries too', async () => {
    const room = 'restarted';
    const carol = await direct.connect({ name: 'Carol' });
    await carol.ok('create', { room });
    // A lease longer than a restart takes: the old process's users must not wait for it to lapse.
    const longLease = 10_000;
    let node = await child('pr', longLease);
    const ghost = await TestClient.connect(`ws://127.0.0.1:${node.port}/ws`, { name: 'Ghost' });
    await ghost.ok('join', { room });
    await carol.next('presence', isPresence('join', ghost.userId));
    node.child.kill('SIGKILL');
    await node.exited;
    node = await child('pr', longLease);
    try {
      await carol.next('presence', isPresence('leave', ghost.userId), 2 * LEASE);
      expect(await onlineIds(carol, room)).toEqual([carol.userId]);
      // Nothing of the ghost is left in Redis: its `~user:` scope was swept too.
      await expect.poll(async () => r.keys(`*~user:${ghost.userId}*`), { timeout: LEASE }).toEqual([]);
    } finally {
      node.child.kill('SIGKILL');
      await carol.close();
    }
  });

  it('a crashed node\'s users go within about a lease, with no key of theirs left behind', async () => {
    const room = 'crashed';
    const carol = await direct.connect({ name: 'Carol' });
    await carol.ok('create', { room });
    const node = await child('pcrash');
    const ghost = await TestClient.connect(`ws://127.0.0.1:${node.port}/ws`, { name: 'Ghost' });
    await ghost.ok('join', { room });
    await carol.next('presence', isPresence('join', ghost.userId));
    node.child.kill('SIGKILL');
    await carol.next('presence', isPresence('leave', ghost.userId), 2 * LEASE + 1000);
    await expect.poll(async () => r.keys(`*~user:${ghost.userId}*`), { timeout: 2 * LEASE }).toEqual([]);
    await carol.close();
  });

  it('a user who disconnects while their node is cut off from Redis goes offline once it is back', async () => {
    const room = 'cut-leave';
    const carol = await direct.connect({ name: 'Carol' });
    await carol.ok('create', { room });
    // Keeps the room subscribed on node 1, so Bob's departure goes straight to presence.
    const keeper = await cutOff.connect({ name: 'Keeper' });
    await keeper.ok('join', { room });
    const bob = await cutOff.connect({ name: 'Bob' });
    await bob.ok('join', { room });
    await carol.next('presence', isPresence('join', bob.userId));
    // A partition TCP noticed: node 1's connections to Redis drop, new ones get no answer.
    proxy.cut();
    proxy.reset();
    await bob.close();
    await expect.poll(() => connections(cutOff)).toBe(1);
    proxy.heal();
    await carol.next('presence', isPresence('leave', bob.userId), 3 * LEASE);
    expect((await onlineIds(carol, room)).sort()).toEqual([carol.userId, keeper.userId].sort());
    await Promise.all([carol.close(), keeper.close()]);
  });

  it('a posting user whose node was silently cut off longer than the lease comes back online after the heal', async () => {
    const room = 'long-cut';
    const carol = await direct.connect({ name: 'Carol' });
    await carol.ok('create', { room });
    const dave = await cutOff.connect({ name: 'Dave' });
    await dave.ok('join', { room });
    await carol.next('presence', isPresence('join', dave.userId));
    proxy.cut();
    // Node 2 sees node 1's lease lapse and sweeps Dave (a true statement from where it stands).
    await carol.next('presence', isPresence('leave', dave.userId), 3 * LEASE);
    proxy.heal();
    await carol.next('presence', isPresence('join', dave.userId), 3 * LEASE);
    await expect.poll(async () => (await dave.request('send', { room, text: 'still here' })).ok, { timeout: 3 * LEASE, interval: 100 }).toBe(true);
    expect((await onlineIds(carol, room)).sort()).toEqual([carol.userId, dave.userId].sort());
    // And it stays so: no late sweep of node 1's old entries takes Dave away again.
    const later = await carol.ok('members', { room });
    expect(later.online).toBe(2);
    await Promise.all([carol.close(), dave.close()]);
  });
});

describe('paged members of a join', () => {
  it('lists the first 100 online in the order they came online, then pages the rest with members {cursor}', async () => {
    const room = 'paged';
    const owner = await direct.connect({ name: 'Owner' });
    await owner.ok('create', { room });
    const others: TestClient[] = [];
    for (let i = 0; i < 104; i++) {
      const c = await (i % 2 ? direct : cutOff).connect({ name: `M${i}` });
      await c.ok('join', { room, history: 0 });
      others.push(c);
    }
    const last = await cutOff.connect({ name: 'Last' });
    const reply = await last.ok('join', { room });
    const order = [owner, ...others, last].map((c) => c.userId);
    expect(reply.online).toBe(106);
    expect((reply.members as Array<{ id: string }>).map((m) => m.id)).toEqual(order.slice(0, 100));
    expect(typeof reply.membersNext).toBe('string');
    const rest = await last.ok('members', { room, cursor: reply.membersNext });
    expect((rest.members as Array<{ id: string }>).map((m) => m.id)).toEqual(order.slice(100));
    expect(rest.next).toBeUndefined();
    await Promise.all([owner, last, ...others].map((c) => c.close()));
  }, 30_000);
});
