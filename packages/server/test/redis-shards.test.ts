import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashRing } from '../src/broker/hash-ring.js';
import { RedisKeys, hashTagOf } from '../src/broker/redis-keys.js';
import { ShardedLink, shardId } from '../src/broker/redis-shards.js';
import { startRedisShards, type RedisServer } from '../../../test/services.js';
import { twoNodesOn } from './redis-two-nodes.js';
import { Recorder } from './link-recorder.js';

// Independent Redis servers as shards of one link: the ring first (pure), then the link on two
// real servers.

describe('hash ring', () => {
  const rooms = Array.from({ length: 10_000 }, (_, i) => `r:room-${i}`);
  const ids = ['10.0.0.1:6379/0', '10.0.0.2:6379/0', '10.0.0.3:6379/0'];
  const ring = (list: string[]) => new HashRing(new Map(list.map((id) => [id, id])));

  it('spreads 10k rooms over 3 shards within 10% of even', () => {
    const r = ring(ids);
    const tally = ids.map((id) => rooms.filter((room) => r.get(room) === id).length);
    for (const n of tally) expect(Math.abs(n - 10_000 / 3) / (10_000 / 3)).toBeLessThan(0.1);
    expect(tally.reduce((a, b) => a + b)).toBe(10_000);
  });

  it('moves only about a quarter of the rooms, all to the new shard, when a 4th shard is added', () => {
    const before = ring(ids);
    const after = ring([...ids, '10.0.0.4:6379/0']);
    const moved = rooms.filter((room) => before.get(room) !== after.get(room));
    expect(moved.length / rooms.length).toBeGreaterThan(0.2);
    expect(moved.length / rooms.length).toBeLessThan(0.3);
    expect(new Set(moved.map((room) => after.get(room)))).toEqual(new Set(['10.0.0.4:6379/0']));
  });

  it('does not depend on the order the shards are listed in', () => {
    const a = ring(ids);
    const b = ring([...ids].reverse());
    expect(rooms.every((room) => a.get(room) === b.get(room))).toBe(true);
  });
});


const keys = new RedisKeys('rc:');
let shards: RedisServer[];
let direct: Redis[];
let urls: string[];
/** Rooms whose tag the ring puts on shard 0 and on shard 1 (`perShard` of each). */
const roomsPerShard = (perShard: number, tag: string): string[][] => {
  const ring = new HashRing(new Map(urls.map((u, i) => [shardId(u), i])));
  const out: string[][] = urls.map(() => []);
  for (let i = 0; out.some((l) => l.length < perShard); i++) {
    const room = `${tag}-${i}`;
    const at = ring.get(hashTagOf(keys.roomChannel(room)));
    if (out[at]!.length < perShard) out[at]!.push(room);
  }
  return out;
};
beforeAll(async () => {
  shards = await startRedisShards(2);
  urls = shards.map((s) => s.url);
  direct = shards.map((s) => {
    const r = new Redis(s.port, '127.0.0.1', { maxRetriesPerRequest: 0 });
    r.on('error', () => {});
    return r;
  });
});
afterAll(async () => {
  for (const r of direct ?? []) r.disconnect();
  await Promise.all((shards ?? []).map((s) => s.stop()));
});

describe('ShardedLink on two real Redis servers', () => {
  it('puts each room\'s channel and keys on the shard of its hash tag, and delivers in order, once', async () => {
    const tag = randomBytes(3).toString('hex');
    const perShard = roomsPerShard(3, `sh-${tag}`);
    const rooms = perShard.flat();
    const [inA, inB] = [new Recorder(), new Recorder()];
    const a = new ShardedLink(urls, { timeoutMs: 500 }, inA);
    const b = new ShardedLink(urls, { timeoutMs: 500 }, inB);
    await Promise.all([a.connect(), b.connect()]);
    try {
      for (const r of rooms) await b.subscribe(keys.roomChannel(r));
      const held = await Promise.all(direct.map((d) => d.call('PUBSUB', 'CHANNELS', `rc:{r:sh-${tag}*`) as Promise<string[]>));
      expect(held.map((l) => l.sort())).toEqual(perShard.map((l) => l.map((r) => keys.roomChannel(r)).sort()));
      const add = { name: 'add', keys: 2, lua: `redis.call('SADD', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])` };
      for (const r of rooms) {
        expect(await a.script(add, [keys.presence(r, 'set'), keys.presence(r, 'n')], ['x'])).toBe(1);
        expect(await a.command('SCARD', keys.presence(r, 'set'), [])).toBe(1);
      }
      const stored = await Promise.all(direct.map((d) => d.keys(`rc:{r:sh-${tag}*`)));
      expect(stored.map((l) => l.length)).toEqual([6, 6]);
      for (let i = 1; i <= 50; i++) for (const r of rooms) a.publish(keys.roomChannel(r), Buffer.from(`${r}#${i}`));
      await inB.until('50 messages in each room', () => inB.got.length >= 300);
      for (const r of rooms) {
        expect(inB.got.filter((m) => m.channel === keys.roomChannel(r)).map((m) => m.text)).toEqual(Array.from({ length: 50 }, (_, i) => `${r}#${i + 1}`));
      }
      await expect(a.ping()).resolves.toBeUndefined();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('is down while one shard is, then restores exactly its channels on both shards', async () => {
    const tag = randomBytes(3).toString('hex');
    const [on0, on1] = roomsPerShard(2, `dn-${tag}`) as [string[], string[]];
    const ev = new Recorder();
    const link = new ShardedLink(urls, { timeoutMs: 400, connectTimeoutMs: 2000 }, ev);
    await link.connect();
    try {
      for (const r of [...on0, ...on1]) await link.subscribe(keys.roomChannel(r));
      await shards[1]!.kill();
      await ev.until('onDown', () => ev.downs.length === 1, 3000);
      expect(link.available).toBe(false);
      expect(ev.downs[0]).toContain(shardId(urls[1]!));
      // The healthy shard's rooms are refused too: the broker treats the link as one Redis.
      await expect(link.command('GET', keys.presence(on0[0]!, 'x'), [])).rejects.toMatchObject({ code: 'unavailable' });
      await link.unsubscribe(keys.roomChannel(on1[0]!));
      await link.unsubscribe(keys.roomChannel(on0[0]!));
      await shards[1]!.start();
      await ev.until('onUp', () => ev.ups === 1, 15_000);
      expect(ev.downs).toHaveLength(1);
      expect(link.available).toBe(true);
      const held = await Promise.all(direct.map((d) => d.call('PUBSUB', 'CHANNELS', `rc:{r:dn-${tag}*`) as Promise<string[]>));
      expect(held).toEqual([[keys.roomChannel(on0[1]!)], [keys.roomChannel(on1[1]!)]]);
      expect([...link.channels].sort()).toEqual([keys.roomChannel(on0[1]!), keys.roomChannel(on1[1]!)].sort());
    } finally {
      await link.close();
    }
  });

  it('refuses a URL listed twice', () => {
    expect(() => new ShardedLink([urls[0]!, `${urls[0]!}/0`], { timeoutMs: 500 }, new Recorder())).toThrow(/listed twice/);
  });
});

twoNodesOn('two independent Redis shards', () => ({
  urls,
  cluster: false,
  servers: direct,
  channelsOn: async (server, pattern) => (await server.call('PUBSUB', 'CHANNELS', pattern)) as string[],
  roomsPerServer: async (perServer, tag) => roomsPerShard(perServer, tag),
}));
