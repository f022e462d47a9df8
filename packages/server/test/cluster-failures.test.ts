import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshDatabase } from '../../../test/pg.js';
import { startPostgres, startRedis, type PostgresServer, type RedisServer } from '../../../test/services.js';
import { startTestServer, type TestClient, type TestServer } from './helpers.js';

// Redis, then PostgreSQL, go away under steady traffic and come back. Private instances, so the
// rest of the suite is not disturbed. What must hold: every acknowledged message is stored and
// reaches the other node's member exactly once, in order; the rest were refused with
// `unavailable` (never silently dropped); the nodes recover by themselves.

interface Traffic {
  acked: number[];
  refused: number;
  stop: () => Promise<void>;
}

/** Sends one message after another until stopped, recording what was acknowledged. */
function steadyTraffic(sender: TestClient, room: string): Traffic {
  const t: Traffic = { acked: [], refused: 0, stop: async () => {} };
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const r = await sender.request('send', { room, text: `m${i}`, id: `t-${i}` });
      if (r.ok) t.acked.push(r.seq as number);
      else {
        expect(r.error.code).toBe('unavailable');
        t.refused++;
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

async function ready(server: TestServer): Promise<number> {
  return (await fetch(`${server.url}/readyz`)).status;
}

/** Bob's msgs until he has seen `lastSeq`: they must be exactly 1..lastSeq in order. */
async function receivedUpTo(bob: TestClient, lastSeq: number): Promise<number[]> {
  const seqs: number[] = [];
  while (seqs.length === 0 || (seqs[seqs.length - 1] as number) < lastSeq) seqs.push((await bob.next('msg', undefined, 20_000)).seq);
  return seqs;
}

describe('cluster: losing Redis and PostgreSQL under traffic', () => {
  let redis: RedisServer;
  let pg: PostgresServer;
  let nodes: TestServer[];
  beforeAll(async () => {
    [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
    const postgresUrl = await freshDatabase(pg.url, 'fail');
    nodes = await Promise.all([1, 2].map((i) => startTestServer({ postgresUrl, redisUrl: redis.url, nodeId: `f${i}`, ratePerSec: 0 })));
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()));
    await Promise.all([redis.stop(), pg.stop()]);
  });

  /** One outage under traffic: the backend dies, sends are refused, it returns, traffic resumes. */
  async function outage(name: string, room: string, backend: { kill(): Promise<void>; start(): Promise<void> }): Promise<void> {
    const alice = await nodes[0]!.connect({ name: 'Alice' });
    const bob = await nodes[1]!.connect({ name: 'Bob' });
    await alice.ok('create', { room });
    await bob.ok('join', { room });
    const traffic = steadyTraffic(alice, room);
    await bob.next('msg');
    await backend.kill();
    await expect.poll(() => ready(nodes[0]!), { timeout: 10_000 }).toBe(503);
    await expect.poll(() => traffic.refused, { timeout: 15_000 }).toBeGreaterThan(0);
    await backend.start();
    for (const node of nodes) await expect.poll(() => ready(node), { timeout: 15_000, interval: 100 }).toBe(200);
    const ackedBefore = traffic.acked.length;
    await expect.poll(() => traffic.acked.length, { timeout: 15_000 }).toBeGreaterThan(ackedBefore + 5);
    await traffic.stop();

    const last = Math.max(...traffic.acked);
    const seqs = await receivedUpTo(bob, last);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => (seqs[0] as number) + i));
    const history = await bob.ok('history', { room, limit: 200, before: last + 1 });
    const stored = new Set(history.messages.map((m: { seq: number }) => m.seq));
    for (const seq of traffic.acked.filter((x) => x > last - 150)) expect(stored.has(seq)).toBe(true);
    // Presence is back too (after a Redis restart it was rebuilt from what the nodes hold).
    await expect.poll(async () => (await bob.ok('members', { room })).online, { timeout: 10_000 }).toBe(2);
    console.log(
      `${name} outage: ${traffic.acked.length} acknowledged, ${traffic.refused} refused with unavailable, ` +
        `${seqs.length + 1} delivered to the other node, in order, no duplicates`,
    );
  }

  it('refuses sends while Redis is down, recovers by itself, and loses no acknowledged message', () => outage('redis', 'r-redis', redis));

  it('refuses sends while PostgreSQL is down, recovers by itself, and loses no acknowledged message', () => outage('postgres', 'r-pg', pg));
});

void inject;
