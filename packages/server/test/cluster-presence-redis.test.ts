import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisKeys } from '../src/broker/redis-keys.js';
import { RedisPresence } from '../src/broker/redis-presence.js';
import type { PresenceResync } from '../src/broker/broker.js';
import { PlainRunner } from './redis-runner.js';

// Presence in Redis (RedisPresence) on a real Redis: order and pages, instances that die, a
// node restarted with the same node id, and the resync after Redis was away in either direction.

let redis: Redis;
const made: Array<{ p: RedisPresence; r: PlainRunner }> = [];
let keys: RedisKeys;

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(async () => {
  for (const { p, r } of made) {
    r.down = false;
    await p.stop();
  }
  redis.disconnect();
});

/** A fresh prefix per test: nothing of another test's instances is seen. */
function cluster(): RedisKeys {
  keys = new RedisKeys(`t${randomBytes(3).toString('hex')}:`);
  return keys;
}

async function node(instanceId: string, leaseMs: number): Promise<{ p: RedisPresence; r: PlainRunner }> {
  const r = new PlainRunner(redis);
  const p = new RedisPresence({ runner: r, keys, instanceId, leaseMs });
  await p.start();
  made.push({ p, r });
  return { p, r };
}

const ids = (l: Array<{ id: string }>) => l.map((u) => u.id);
const of = (changes: PresenceResync[], room: string) => changes.find((c) => c.room === room);

/** Sweeps until the changes of `room` show up (the lease must lapse first), returns them. */
async function sweptIn(p: RedisPresence, room: string, timeout = 5000): Promise<PresenceResync> {
  let found: PresenceResync | undefined;
  await expect.poll(async () => (found = of(await p.sweep(), room) ?? found), { timeout, interval: 50 }).toBeDefined();
  return found as PresenceResync;
}

describe('RedisPresence', () => {
  it('keeps users in the order they came online, counts and pages them with O(page) calls', async () => {
    cluster();
    const { p } = await node('a~1', 5000);
    const { p: q } = await node('b~1', 5000);
    for (let i = 0; i < 250; i++) await (i % 2 ? p : q).add('big', { id: `z${1000 - i}`, name: `n${i}` });
    expect(await p.add('big', { id: 'z1000', name: 'n0' })).toEqual({ changed: false, online: 250 });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await q.page('big', { limit: 100, ...(cursor ? { cursor } : {}) });
      expect(page.online).toBe(250);
      seen.push(...ids(page.users));
      cursor = page.next;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => `z${1000 - i}`));
    expect(await p.counts(['big', 'none'])).toEqual(new Map([['big', 250], ['none', 0]]));
    expect(await p.remove('big', 'z1000')).toEqual({ changed: false, online: 250 });
    expect(await q.remove('big', 'z1000')).toEqual({ changed: true, online: 249 });
  });

  it('sweeps a dead instance once its lease lapsed, including scopes nobody touches again', async () => {
    const k = cluster();
    const dead = await node('crash~1', 600);
    const { p: live } = await node('live~1', 600);
    await dead.p.add('room', { id: 'ghost', name: 'Ghost' });
    await dead.p.add('~user:ghost', { id: 'ghost', name: 'Ghost' });
    await live.add('room', { id: 'alive', name: 'Alive' });
    dead.r.down = true; // it crashed: no more lease refreshes, no clean-up
    expect(await live.sweep()).toEqual([]); // its lease is still running
    const change = await sweptIn(live, 'room');
    expect(change).toEqual({ room: 'room', joined: [], left: [{ id: 'ghost', name: 'Ghost' }], online: 1 });
    expect(ids((await live.page('room', { limit: 10 })).users)).toEqual(['alive']);
    // Its `~user:` scope, its scope set and its lease are gone too: nothing lives on in Redis.
    await expect.poll(async () => redis.keys(`${k.prefix}*crash*`), { timeout: 3000, interval: 50 }).toEqual([]);
    expect(await redis.exists(k.presence('~user:ghost', 'z'), k.presence('~user:ghost', 'u'), k.presence('~user:ghost', 'c'))).toBe(0);
    expect(await redis.zscore(k.global('instances'), 'crash~1')).toBeNull();
    // Reported once.
    expect(of(await live.sweep(), 'room')).toBeUndefined();
  });

  it('a node restarted with the same node id makes its previous process\'s users go at once', async () => {
    cluster();
    const before = await node('n1~old', 60_000);
    await before.p.add('room', { id: 'ghost', name: 'Ghost' });
    before.r.down = true; // SIGKILL
    const { p: after } = await node('n1~new', 60_000);
    // Not a lease (60 s) later: the very first sweep.
    expect(of(await after.sweep(), 'room')).toEqual({ room: 'room', joined: [], left: [{ id: 'ghost', name: 'Ghost' }], online: 0 });
  });

  it('after Redis was away briefly, puts back exactly what the node holds (a user who left meanwhile goes)', async () => {
    cluster();
    const a = await node('a~1', 3000);
    const { p: b } = await node('b~1', 3000);
    await a.p.add('room', { id: 'stays', name: 'S' });
    await a.p.add('room', { id: 'goes', name: 'G' });
    await a.p.add('~user:goes', { id: 'goes', name: 'G' });
    a.r.down = true;
    await expect(a.p.remove('room', 'goes')).rejects.toThrow(/unavailable/);
    await expect(a.p.remove('~user:goes', 'goes')).rejects.toThrow(/unavailable/);
    await expect(a.p.add('room', { id: 'came', name: 'C' })).rejects.toThrow(/unavailable/);
    a.r.down = false;
    const changes = await a.p.resync();
    expect(of(changes, 'room')).toEqual({ room: 'room', joined: [{ id: 'came', name: 'C' }], left: [{ id: 'goes', name: 'G' }], online: 2 });
    expect(of(changes, '~user:goes')?.left).toEqual([{ id: 'goes', name: 'G' }]);
    expect(ids((await b.page('room', { limit: 10 })).users)).toEqual(['stays', 'came']);
    expect(await b.counts(['~user:goes'])).toEqual(new Map([['~user:goes', 0]]));
  });

  it('after a cut longer than the lease (swept by others meanwhile), its users come back', async () => {
    cluster();
    const a = await node('a~1', 600);
    const { p: b } = await node('b~1', 600);
    await a.p.add('room', { id: 'poster', name: 'P' });
    await b.add('room', { id: 'other', name: 'O' });
    a.r.down = true;
    expect((await sweptIn(b, 'room')).left).toEqual([{ id: 'poster', name: 'P' }]);
    a.r.down = false;
    const back = await a.p.resync();
    expect(of(back, 'room')).toEqual({ room: 'room', joined: [{ id: 'poster', name: 'P' }], left: [], online: 2 });
    expect(ids((await b.page('room', { limit: 10 })).users)).toEqual(['other', 'poster']);
    // The old id's leftovers are swept without a second, false departure.
    for (let i = 0; i < 5; i++) expect(of(await b.sweep(), 'room')).toBeUndefined();
    expect(await b.counts(['room'])).toEqual(new Map([['room', 2]]));
  });

  it('a cut shorter than the lease but seen by nobody changes nothing visible', async () => {
    cluster();
    const a = await node('a~1', 3000);
    const { p: b } = await node('b~1', 3000);
    await a.p.add('room', { id: 'u', name: 'U' });
    a.r.down = true;
    a.r.down = false;
    expect(await a.p.resync()).toEqual([]);
    expect(await b.sweep()).toEqual([]);
    expect(ids((await b.page('room', { limit: 10 })).users)).toEqual(['u']);
  });
});
