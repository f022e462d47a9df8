import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterLink } from '../src/broker/redis-cluster-link.js';
import { RedisKeys } from '../src/broker/redis-keys.js';
import { startRedisCluster, type RedisCluster } from '../../../test/services.js';
import { twoNodesOn } from './redis-two-nodes.js';
import { Recorder } from './link-recorder.js';

// A real 3-master Redis Cluster (no replicas) started for this file. The link is checked
// through its RedisLink interface, then two roomcast nodes run on it (see the second describe).


/** One direct connection per master, for asking each what it holds. */
async function masterClients(cluster: RedisCluster): Promise<Redis[]> {
  return Promise.all(cluster.masters.map(async (m) => {
    const r = new Redis(m.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
    r.on('error', () => {});
    await r.connect();
    return r;
  }));
}

/**
 * Room ids whose channel slots sit on each master: the first `perMaster` found for every master,
 * in master order (deterministic: slots are computed by Redis itself, CLUSTER KEYSLOT).
 */
async function roomsPerMaster(masters: Redis[], keys: RedisKeys, perMaster: number, tag: string): Promise<string[][]> {
  const ranges = await Promise.all(masters.map(async (m) => {
    const slots = (await m.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const port = m.options.port;
    return slots.filter((s) => s[2][1] === port).map((s) => [s[0], s[1]] as const);
  }));
  const out: string[][] = masters.map(() => []);
  for (let i = 0; out.some((l) => l.length < perMaster); i++) {
    const room = `${tag}-${i}`;
    const slot = (await masters[0]!.call('CLUSTER', 'KEYSLOT', keys.roomChannel(room))) as number;
    const owner = ranges.findIndex((rs) => rs.some(([a, b]) => slot >= a && slot <= b));
    if (owner >= 0 && out[owner]!.length < perMaster) out[owner]!.push(room);
  }
  return out;
}

let cluster: RedisCluster;
let masters: Redis[];
beforeAll(async () => {
  cluster = await startRedisCluster(3);
  masters = await masterClients(cluster);
});
afterAll(async () => {
  for (const m of masters ?? []) m.disconnect();
  await cluster?.stop();
});

describe('ClusterLink on a real 3-master Redis Cluster', () => {
  const keys = new RedisKeys('rc:');

  it('publishes with SPUBLISH to subscribers on every master, in order, once; channels spread over the masters', async () => {
    const tag = randomBytes(3).toString('hex');
    const rooms = (await roomsPerMaster(masters, keys, 2, `spread-${tag}`)).flat();
    const [inA, inB] = [new Recorder(), new Recorder()];
    const a = new ClusterLink(cluster.urls, { timeoutMs: 500 }, inA);
    const b = new ClusterLink(cluster.urls, { timeoutMs: 500 }, inB);
    await Promise.all([a.connect(), b.connect()]);
    try {
      for (const r of rooms) await b.subscribe(keys.roomChannel(r));
      expect([...b.channels].sort()).toEqual(rooms.map((r) => keys.roomChannel(r)).sort());
      // Each master holds exactly the shard channels of its own slots; plain PUBSUB has none of ours.
      const perMaster = await Promise.all(masters.map((m) => m.call('PUBSUB', 'SHARDCHANNELS', `rc:{r:spread-${tag}*`) as Promise<string[]>));
      expect(perMaster.map((l) => l.length)).toEqual([2, 2, 2]);
      const plain = await Promise.all(masters.map((m) => m.call('PUBSUB', 'CHANNELS', 'rc:*') as Promise<string[]>));
      expect(plain.flat()).toEqual([]);
      for (let i = 1; i <= 50; i++) for (const r of rooms) a.publish(keys.roomChannel(r), Buffer.from(`${r}#${i}`));
      await inB.until('50 messages in each of 6 rooms', () => inB.got.length >= 300);
      for (const r of rooms) {
        expect(inB.got.filter((m) => m.channel === keys.roomChannel(r)).map((m) => m.text)).toEqual(Array.from({ length: 50 }, (_, i) => `${r}#${i + 1}`));
      }
      // Each master counted its own SPUBLISHes, nobody used PUBLISH.
      const stats = await Promise.all(masters.map(async (m) => String(await m.info('commandstats'))));
      for (const s of stats) expect(s).toMatch(/cmdstat_spublish:calls=\d+/);
      expect(stats.join('\n')).not.toMatch(/cmdstat_publish:/);
      expect(inA.got).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('runs scripts and commands on the master of their keys\' slot', async () => {
    const tag = randomBytes(3).toString('hex');
    const rooms = (await roomsPerMaster(masters, keys, 1, `keys-${tag}`)).flat();
    const link = new ClusterLink(cluster.urls, { timeoutMs: 500 }, new Recorder());
    await link.connect();
    try {
      const incrBoth = { name: 'incrBoth', keys: 2, lua: `return {redis.call('INCRBY', KEYS[1], ARGV[1]), redis.call('INCRBY', KEYS[2], ARGV[1])}` };
      for (const r of rooms) {
        expect(await link.script(incrBoth, [keys.presence(r, 'a'), keys.presence(r, 'b')], [3])).toEqual([3, 3]);
        expect(await link.script(incrBoth, [keys.presence(r, 'a'), keys.presence(r, 'b')], [4])).toEqual([7, 7]);
        expect(await link.command('GET', keys.presence(r, 'a'), [])).toBe('7');
      }
      // Each key landed on its own master only.
      const held = await Promise.all(masters.map((m) => m.keys(`rc:{r:keys-${tag}*`)));
      expect(held.map((l) => l.length)).toEqual([2, 2, 2]);
      // A script's own error is the Redis error, not `unavailable`.
      const bad = { name: 'bad', keys: 1, lua: `return redis.call('HGET', KEYS[1], 'x')` };
      await expect(link.script(bad, [keys.presence(rooms[0]!, 'a')], [])).rejects.toThrow(/WRONGTYPE/);
      expect(link.available).toBe(true);
      await expect(link.ping()).resolves.toBeUndefined();
    } finally {
      await link.close();
    }
  });

  it('goes down at once when a master dies, refuses with unavailable, and restores exactly its channels (as they are now) when it is back', async () => {
    const tag = randomBytes(3).toString('hex');
    const [onDead, ...others] = (await roomsPerMaster(masters, keys, 3, `down-${tag}`)).map((l) => l.slice(0, 2));
    const late = (await roomsPerMaster(masters, keys, 3, `down-${tag}`))[1]![2]!;
    const victim = cluster.masters[0]!;
    const ev = new Recorder();
    const link = new ClusterLink(cluster.urls, { timeoutMs: 400, connectTimeoutMs: 3000 }, ev);
    const pub = new Recorder();
    const publisher = new ClusterLink(cluster.urls, { timeoutMs: 400 }, pub);
    await Promise.all([link.connect(), publisher.connect()]);
    try {
      const all = [...onDead!, ...others.flat()];
      for (const r of all) await link.subscribe(keys.roomChannel(r));
      await victim.kill();
      await ev.until('onDown', () => ev.downs.length === 1, 3000);
      expect(link.available).toBe(false);
      await expect(link.command('GET', keys.presence(all[0]!, 'x'), [])).rejects.toMatchObject({ code: 'unavailable' });
      await expect(link.ping()).rejects.toMatchObject({ code: 'unavailable' });
      // Rooms that empty during the outage must not come back subscribed.
      const [gone, kept] = [[onDead![0]!, others[0]![0]!], [...all.filter((r) => r !== onDead![0] && r !== others[0]![0]), late]];
      for (const r of gone) await link.unsubscribe(keys.roomChannel(r));
      // …and a room joined during the outage must be subscribed once Redis is back.
      await link.subscribe(keys.roomChannel(late));
      await victim.start();
      await ev.until('onUp', () => ev.ups === 1, 20_000);
      expect(ev.downs).toHaveLength(1);
      expect(link.available).toBe(true);
      const subscribed = (await Promise.all(masters.map((m) => m.call('PUBSUB', 'SHARDCHANNELS', `rc:{r:down-${tag}*`) as Promise<string[]>))).flat();
      expect(subscribed.sort()).toEqual(kept.map((r) => keys.roomChannel(r)).sort());
      // Delivery works again on every master, the restarted one included.
      await pub.until('publisher up', () => publisher.available, 20_000);
      for (const r of [...all, late]) publisher.publish(keys.roomChannel(r), Buffer.from(`after ${r}`));
      await ev.until('a message in each kept room', () => kept.every((r) => ev.got.some((m) => m.channel === keys.roomChannel(r))));
      const marker = keys.roomChannel(kept[0]!);
      publisher.publish(marker, Buffer.from('marker'));
      await ev.until('the marker', () => ev.got.some((m) => m.text === 'marker'));
      expect(ev.got.filter((m) => gone.some((r) => m.channel === keys.roomChannel(r)))).toEqual([]);
    } finally {
      await Promise.all([link.close(), publisher.close()]);
    }
  });

  it('notices a master that stops answering (no error, no close) within about the timeout, and comes back by itself', async () => {
    const ev = new Recorder();
    const link = new ClusterLink(cluster.urls, { timeoutMs: 400, connectTimeoutMs: 3000 }, ev);
    await link.connect();
    try {
      // CLIENT PAUSE holds every client's commands unanswered: a hung server, as a silent cut looks.
      const started = Date.now();
      await masters[1]!.call('CLIENT', 'PAUSE', '1500', 'ALL');
      await ev.until('onDown', () => ev.downs.length === 1, 3000);
      expect(Date.now() - started).toBeLessThan(1200);
      expect(ev.downs[0]).toMatch(/timed out|heartbeat/i);
      expect(link.available).toBe(false);
      await ev.until('onUp', () => ev.ups === 1, 15_000);
      expect(link.available).toBe(true);
      await expect(link.ping()).resolves.toBeUndefined();
    } finally {
      await link.close();
    }
  });

  it('keeps receiving a room whose slot moves to another master (resharding)', async () => {
    const tag = randomBytes(3).toString('hex');
    const [[room]] = (await roomsPerMaster(masters, keys, 1, `move-${tag}`)) as [[string]];
    const channel = keys.roomChannel(room);
    const ev = new Recorder();
    const [sub, pub] = [new ClusterLink(cluster.urls, { timeoutMs: 500 }, ev), new ClusterLink(cluster.urls, { timeoutMs: 500 }, new Recorder())];
    await Promise.all([sub.connect(), pub.connect()]);
    try {
      await sub.subscribe(channel);
      const [from, to] = [masters[0]!, masters[1]!];
      const slot = String(await from.call('CLUSTER', 'KEYSLOT', channel));
      const [fromId, toId] = await Promise.all([from, to].map(async (m) => String(await m.call('CLUSTER', 'MYID'))));
      // The manual resharding steps (the slot holds no keys: only the channel hashes to it).
      await to.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId);
      await from.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId);
      await to.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);
      await from.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);
      let n = 0;
      await expect
        .poll(() => {
          pub.publish(channel, Buffer.from(`after-move-${++n}`));
          return (to.call('PUBSUB', 'SHARDCHANNELS', channel) as Promise<string[]>).then((l) => l.length === 1 && ev.got.some((m) => m.text.startsWith('after-move-')));
        }, { timeout: 10_000, interval: 100 })
        .toBe(true);
      expect(await from.call('PUBSUB', 'SHARDCHANNELS', channel)).toEqual([]);
      expect(sub.available).toBe(true);
    } finally {
      await Promise.all([sub.close(), pub.close()]);
    }
  });

  it('fails to connect with a sentence naming the nodes when nothing answers', async () => {
    const link = new ClusterLink(['redis://127.0.0.1:1'], { timeoutMs: 300, connectTimeoutMs: 1000 }, new Recorder());
    const started = Date.now();
    await expect(link.connect()).rejects.toThrow(/cannot connect to Redis at the Redis Cluster \(127\.0\.0\.1:1\).*check/);
    expect(Date.now() - started).toBeLessThan(3000);
    await link.close();
  });

  it('shows WRONGPASS / NOAUTH in the connect failure, without the password', async () => {
    const password = `s3cret-${randomBytes(3).toString('hex')}`;
    await Promise.all(masters.map((m) => m.call('CONFIG', 'SET', 'requirepass', password)));
    try {
      const url = (pw: string | null) => cluster.urls.map((u) => (pw === null ? u : u.replace('redis://', `redis://:${pw}@`)));
      const wrong = new ClusterLink(url('nope-wrong'), { timeoutMs: 300, connectTimeoutMs: 2000 }, new Recorder());
      const err = await wrong.connect().then(() => null, (e: Error) => e);
      expect(err?.message).toMatch(/WRONGPASS.*check the user name and password/);
      expect(err?.message).not.toContain('nope-wrong');
      const none = new ClusterLink(url(null), { timeoutMs: 300, connectTimeoutMs: 2000 }, new Recorder());
      await expect(none.connect()).rejects.toThrow(/NOAUTH/);
      const right = new ClusterLink(url(password), { timeoutMs: 300, connectTimeoutMs: 2000 }, new Recorder());
      await right.connect();
      await expect(right.ping()).resolves.toBeUndefined();
      await Promise.all([wrong.close(), none.close(), right.close()]);
    } finally {
      // Our direct clients authenticated before the password was set; they clear it for the rest.
      await Promise.all(masters.map((m) => m.call('CONFIG', 'SET', 'requirepass', '')));
    }
  });
});

twoNodesOn('a 3-master Redis Cluster (sharded pub/sub)', () => ({
  urls: cluster.urls,
  cluster: true,
  servers: masters,
  channelsOn: async (server, pattern) => {
    // Sharded pub/sub really used: plain PUBSUB CHANNELS shows none of ours on any master.
    expect(await server.call('PUBSUB', 'CHANNELS', 'rc:*')).toEqual([]);
    return (await server.call('PUBSUB', 'SHARDCHANNELS', pattern)) as string[];
  },
  roomsPerServer: (perServer, tag) => roomsPerMaster(masters, new RedisKeys('rc:'), perServer, tag),
}));
