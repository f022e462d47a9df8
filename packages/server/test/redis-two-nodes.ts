import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Redis } from 'ioredis';
import { RedisKeys } from '../src/broker/redis-keys.js';
import { freshDatabase } from '../../../test/pg.js';
import { startTestServer, type TestClient, type TestServer } from './helpers.js';

// Two roomcast nodes on one PostgreSQL database and a Redis made of several servers (a Redis
// Cluster's masters, or independent shards): what must hold whichever server a room lands on.

export interface SpreadRedis {
  /** What `--redis` gets (joined by ','). */
  urls: string[];
  cluster: boolean;
  /** One direct connection per server, in the order `roomsPerServer` uses. */
  servers: Redis[];
  /** The channels of ours that server `i` holds subscriptions for (SHARDCHANNELS or CHANNELS). */
  channelsOn(server: Redis, pattern: string): Promise<string[]>;
  /** Room ids, `perServer` per server, whose keys and channel land on that server. */
  roomsPerServer(perServer: number, tag: string): Promise<string[][]>;
}

const keys = new RedisKeys('rc:');

export function twoNodesOn(name: string, redis: () => SpreadRedis): void {
  describe(`two nodes on ${name}`, () => {
    let nodes: [TestServer, TestServer];
    let r: SpreadRedis;
    beforeAll(async () => {
      r = redis();
      const postgresUrl = await freshDatabase(inject('pgUrl'), 'spread');
      const redisUrl = r.urls.join(',');
      nodes = (await Promise.all(
        [1, 2].map((i) =>
          startTestServer({ postgresUrl, redisUrl, redisCluster: r.cluster ? 'on' : 'off', redisTimeoutMs: 1000, nodeId: `sp${i}-${process.pid}`, ratePerSec: 0, presenceLeaseMs: 1500 }),
        ),
      )) as [TestServer, TestServer];
    });
    afterAll(() => Promise.all((nodes ?? []).map((n) => n.close())));

    it('delivers messages of rooms on every server to the other node in order, once; each server carries its rooms\' channels', async () => {
      const tag = `m${randomBytes(3).toString('hex')}`;
      const perServer = await r.roomsPerServer(2, tag);
      const rooms = perServer.flat();
      const alice = await nodes[0].connect({ name: 'Alice' });
      const bob = await nodes[1].connect({ name: 'Bob' });
      for (const room of rooms) {
        await alice.ok('create', { room });
        await bob.ok('join', { room });
      }
      // Each server holds the subscriptions of exactly its own rooms (both nodes subscribe them).
      const held = await Promise.all(r.servers.map((s) => r.channelsOn(s, `rc:{r:${tag}-*`)));
      expect(held.map((l) => [...new Set(l)].sort())).toEqual(perServer.map((l) => l.map((room) => keys.roomChannel(room)).sort()));
      const perRoom = 15;
      const sent = await Promise.all(rooms.flatMap((room) => Array.from({ length: perRoom }, (_, i) => alice.ok('send', { room, text: `${room}:${i}` }))));
      expect(sent).toHaveLength(rooms.length * perRoom);
      const got = new Map<string, number[]>(rooms.map((room) => [room, []]));
      for (let i = 0; i < rooms.length * perRoom; i++) {
        const m = await bob.next('msg');
        got.get(m.room as string)!.push(m.seq as number);
      }
      for (const room of rooms) expect(got.get(room)).toEqual(Array.from({ length: perRoom }, (_, i) => i + 1));
      await bob.barrier();
      expect(bob.take('msg')).toEqual([]);
      await Promise.all([alice.close(), bob.close()]);
    });

    it('shares presence across the nodes: counts, join and leave', async () => {
      const [[room]] = (await r.roomsPerServer(1, `p${randomBytes(3).toString('hex')}`)) as [[string]];
      const alice = await nodes[0].connect({ name: 'Alice' });
      const bob = await nodes[1].connect({ name: 'Bob' });
      await alice.ok('create', { room });
      const joined = await bob.ok('join', { room });
      expect(joined.online).toBe(2);
      expect(await alice.next('presence')).toMatchObject({ event: 'join', user: { id: bob.userId }, online: 2 });
      await bob.close();
      expect(await alice.next('presence')).toMatchObject({ event: 'leave', user: { id: bob.userId }, online: 1 });
      await alice.close();
    });

    it('a kick on one node reaches the user on the other, where nobody else has the room', async () => {
      const rooms = (await r.roomsPerServer(1, `k${randomBytes(3).toString('hex')}`)).flat();
      const owner = await nodes[0].connect({ name: 'Owner' });
      const bob: TestClient = await nodes[1].connect({ name: 'Bob' });
      // One kick per server: the user's control channel and the room's may sit on different ones.
      for (const room of rooms) {
        await owner.ok('create', { room });
        await bob.ok('join', { room });
        await owner.ok('kick', { room, user: bob.userId });
        expect(await bob.next('room', (f) => f.room?.id === room)).toMatchObject({ room: { id: room, kicked: true } });
        expect(await bob.request('send', { room, text: 'still here?' })).toMatchObject({ ok: false });
      }
      await Promise.all([owner.close(), bob.close()]);
    });
  });
}
