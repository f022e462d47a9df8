import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshDatabase } from '../../../test/pg.js';
import { startRedis, type RedisServer } from '../../../test/services.js';
import { startTcpProxy, type TcpProxy } from '../../../test/tcp-proxy.js';
import { startTestServer, type TestClient, type TestServer } from './helpers.js';

// A silent partition between one node and Redis (issue 17, items 5 and 6): the TCP proxy holds
// every byte and closes nothing, as a real partition does. Node 1 goes through the proxy, node 2
// reaches Redis directly. Node 1 must notice within a second or two (command timeouts and
// heartbeats, redisTimeoutMs 500), refuse sends with `unavailable` instead of acknowledging
// what no other node receives, answer /readyz 503 at once, and after the heal acknowledge
// again with nothing acknowledged lost or duplicated at node 2's member. A room that emptied on
// node 1 during the cut is not subscribed again after it.

const channel = (room: string) => `rc:{r:${room}}`;

interface Traffic {
  acked: number[];
  refused: number;
  firstRefusalAt: number;
  stop: () => Promise<void>;
}

/** Sends one message after another until stopped, recording what was acknowledged. */
function steadyTraffic(sender: TestClient, room: string): Traffic {
  const t: Traffic = { acked: [], refused: 0, firstRefusalAt: 0, stop: async () => {} };
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const r = await sender.request('send', { room, text: `m${i}`, id: `t-${i}` });
      if (r.ok) t.acked.push(r.seq as number);
      else {
        expect(r.error.code).toBe('unavailable');
        if (t.refused++ === 0) t.firstRefusalAt = Date.now();
        await new Promise((res) => setTimeout(res, 20)); // a client backs off before retrying
      }
    }
  })();
  t.stop = async () => {
    running = false;
    await loop;
  };
  return t;
}

/** /readyz's status and how long it took to answer. */
async function ready(server: TestServer): Promise<{ status: number; ms: number }> {
  const t0 = Date.now();
  const res = await fetch(`${server.url}/readyz`);
  await res.arrayBuffer();
  return { status: res.status, ms: Date.now() - t0 };
}

describe('cluster: a silent partition between a node and Redis', () => {
  let redis: RedisServer;
  let proxy: TcpProxy;
  let observer: Redis;
  let nodes: TestServer[];
  beforeAll(async () => {
    redis = await startRedis();
    proxy = await startTcpProxy(redis.port);
    observer = new Redis(redis.url);
    const postgresUrl = await freshDatabase(inject('pgUrl'), 'rpart');
    const common = { postgresUrl, ratePerSec: 0, redisTimeoutMs: 500, presenceLeaseMs: 3000 };
    nodes = await Promise.all([
      startTestServer({ ...common, redisUrl: proxy.url(redis.url), nodeId: 'p1' }),
      startTestServer({ ...common, redisUrl: redis.url, nodeId: 'p2' }),
    ]);
  });
  afterAll(async () => {
    proxy?.heal();
    await Promise.all((nodes ?? []).map((n) => n.close()));
    observer?.disconnect();
    await proxy?.close();
    await redis?.stop();
  });

  const numsub = async (room: string) => Number(((await observer.call('PUBSUB', 'NUMSUB', channel(room))) as [string, number])[1]);

  it('stops acknowledging within ~2 s, /readyz 503 at once, recovers with nothing lost or doubled, and drops emptied rooms', async () => {
    const [n1, n2] = nodes as [TestServer, TestServer];
    const room = 'part-room';
    const emptied = 'part-emptied';
    const alice = await n1.connect({ name: 'Alice' });
    const bob = await n2.connect({ name: 'Bob' });
    const carol = await n1.connect({ name: 'Carol' });
    await alice.ok('create', { room });
    await bob.ok('join', { room });
    await carol.ok('create', { room: emptied });
    expect(await numsub(emptied)).toBe(1);
    expect(await numsub(room)).toBe(2);

    const traffic = steadyTraffic(alice, room);
    await bob.next('msg');
    const cutAt = Date.now();
    proxy.cut();
    await expect.poll(() => traffic.refused, { timeout: 5000, interval: 20 }).toBeGreaterThan(0);
    const noticedMs = traffic.firstRefusalAt - cutAt;
    expect(noticedMs).toBeLessThan(2000);
    const r1 = await ready(n1);
    expect(r1.status).toBe(503);
    expect(r1.ms).toBeLessThan(1500);
    expect((await ready(n2)).status).toBe(200);

    // Carol, node 1's only member of `emptied`, leaves during the cut.
    await carol.close();
    await expect.poll(() => n1.core.delivery.rooms.get(emptied), { timeout: 5000 }).toBeUndefined();

    proxy.heal();
    await expect.poll(async () => (await ready(n1)).status, { timeout: 10_000, interval: 100 }).toBe(200);
    const ackedBefore = traffic.acked.length;
    await expect.poll(() => traffic.acked.length, { timeout: 10_000 }).toBeGreaterThan(ackedBefore + 5);
    await traffic.stop();

    // Every acknowledged message reaches Bob on node 2 exactly once, in order.
    const last = Math.max(...traffic.acked);
    const seqs: number[] = [];
    while (seqs.length === 0 || (seqs[seqs.length - 1] as number) < last) seqs.push((await bob.next('msg', undefined, 10_000)).seq as number);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => (seqs[0] as number) + i));
    await bob.barrier();
    expect(bob.take('msg')).toEqual([]);
    const history = await bob.ok('history', { room, limit: 200, before: last + 1 });
    const stored = new Set(history.messages.map((m: { seq: number }) => m.seq));
    for (const seq of traffic.acked.filter((x) => x > last - 150)) expect(stored.has(seq)).toBe(true);

    // Resubscribed from node 1's live rooms: the room it still serves, not the one that emptied.
    expect(await numsub(room)).toBe(2);
    expect(await numsub(emptied)).toBe(0);
    console.log(`silent Redis cut: noticed after ${noticedMs} ms, /readyz 503 in ${r1.ms} ms; ${traffic.acked.length} acknowledged, ${traffic.refused} refused, ${seqs.length + 1} delivered to node 2 in order`);
  });

  it('after a reconnect, subscribes exactly the rooms it serves now (not one that emptied while Redis was away)', async () => {
    const [n1, n2] = nodes as [TestServer, TestServer];
    const room = 'reconn-room';
    const emptied = 'reconn-emptied';
    const alice = await n1.connect({ name: 'Alice' });
    const bob = await n2.connect({ name: 'Bob' });
    const carol = await n1.connect({ name: 'Carol' });
    await alice.ok('create', { room });
    await bob.ok('join', { room });
    await carol.ok('create', { room: emptied });
    expect(await numsub(emptied)).toBe(1);
    // Redis goes away for node 1 (connections dropped, new ones unanswered), Carol leaves meanwhile.
    proxy.cut();
    proxy.reset();
    await expect.poll(async () => (await ready(n1)).status, { timeout: 5000, interval: 50 }).toBe(503);
    await carol.close();
    await expect.poll(() => n1.core.delivery.rooms.get(emptied), { timeout: 5000 }).toBeUndefined();
    proxy.heal();
    await expect.poll(async () => (await ready(n1)).status, { timeout: 10_000, interval: 100 }).toBe(200);
    await expect.poll(() => numsub(room), { timeout: 5000 }).toBe(2);
    expect(await numsub(emptied)).toBe(0);
    // And the room it serves is live again both ways.
    const sent = await alice.ok('send', { room, text: 'after the reconnect' });
    expect((await bob.next('msg', (m) => m.seq === sent.seq)).text).toBe('after the reconnect');
  });
});
