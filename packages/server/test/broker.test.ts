import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { MemoryBroker, MemoryBus } from '../src/broker/memory.js';
import { RedisBroker } from '../src/broker/redis.js';
import { ClusterLink } from '../src/broker/redis-cluster-link.js';
import { StandaloneLink } from '../src/broker/redis-link.js';
import { ShardedLink } from '../src/broker/redis-shards.js';
import type { RedisLink, RedisLinkEvents } from '../src/broker/redis-types.js';
import { startRedisCluster, startRedisShards, type RedisCluster, type RedisServer } from '../../../test/services.js';
import { brokerContract, type BrokerNodes } from './broker-contract.js';

brokerContract('in-process', async (count) => {
  const bus = new MemoryBus();
  const nodes = Array.from({ length: count }, () => new MemoryBroker(bus));
  return { nodes, cleanup: async () => void (await Promise.all(nodes.map((n) => n.close()))) };
});

/** `count` brokers of one cluster (one id, one prefix) on links `link` builds. */
async function redisNodes(count: number, link: (events: RedisLinkEvents) => RedisLink): Promise<BrokerNodes> {
  const clusterId = randomBytes(8).toString('hex');
  const nodes = Array.from({ length: count }, () => new RedisBroker({ link, prefix: 'rc:', clusterId, nodeId: `n-${randomBytes(4).toString('hex')}` }));
  await Promise.all(nodes.map((n) => n.connect()));
  return { nodes, cleanup: async () => void (await Promise.all(nodes.map((n) => n.close()))) };
}

brokerContract('Redis', (count) => redisNodes(count, (events) => new StandaloneLink(inject('redisUrl'), { timeoutMs: 1000 }, events)));

// The same contract on a real 3-master Redis Cluster and on two independent shards, each
// started on first use (once for the file).
let cluster: Promise<RedisCluster> | undefined;
let shards: Promise<RedisServer[]> | undefined;
afterAll(async () => {
  await (await cluster)?.stop();
  await Promise.all(((await shards) ?? []).map((s) => s.stop()));
});
brokerContract('Redis Cluster (3 masters)', async (count) => {
  const { urls } = await (cluster ??= startRedisCluster(3));
  return redisNodes(count, (events) => new ClusterLink(urls, { timeoutMs: 1000 }, events));
});
brokerContract('two Redis shards', async (count) => {
  const urls = (await (shards ??= startRedisShards(2))).map((s) => s.url);
  return redisNodes(count, (events) => new ShardedLink(urls, { timeoutMs: 1000 }, events));
});

describe('Redis broker: a node that dies', () => {
  it('loses its users once they are swept, and the sweep reports them gone once', async () => {
    const url = inject('redisUrl');
    const room = `lease-${randomBytes(4).toString('hex')}`;
    const dist = (f: string) => JSON.stringify(new URL(`../dist/broker/${f}`, import.meta.url).href);
    const clusterId = randomBytes(8).toString('hex');
    // A node in its own process, killed without a chance to clean up.
    const child = spawn(process.execPath, [
      '--input-type=module',
      '-e',
      `import { RedisBroker } from ${dist('redis.js')};
       import { StandaloneLink } from ${dist('redis-link.js')};
       const b = new RedisBroker({ link: (ev) => new StandaloneLink(${JSON.stringify(url)}, { timeoutMs: 1000 }, ev), prefix: 'rc:', clusterId: '${clusterId}', nodeId: 'doomed', leaseMs: 600 });
       await b.connect();
       await b.presenceAdd(${JSON.stringify(room)}, { id: 'ghost', name: 'Ghost' });
       console.log('ready');
       setInterval(() => {}, 1000);`,
    ]);
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`node exited early (${code})`)));
    });
    const observer = new RedisBroker({ link: (ev) => new StandaloneLink(url, { timeoutMs: 1000 }, ev), prefix: 'rc:', clusterId, nodeId: 'observer', leaseMs: 600 });
    await observer.connect();
    try {
      await observer.presenceAdd(room, { id: 'alive', name: 'Alive' });
      expect((await observer.presencePage(room, { limit: 10 })).users.map((u) => u.id)).toEqual(['ghost', 'alive']);
      child.kill('SIGKILL');
      const left: string[] = [];
      const sweep = async () => {
        for (const r of await observer.sweep!()) if (r.room === room) left.push(...r.left.map((u) => u.id));
        return left;
      };
      await expect.poll(sweep, { timeout: 5000, interval: 100 }).toEqual(['ghost']);
      expect(await observer.presencePage(room, { limit: 10 })).toEqual({ users: [{ id: 'alive', name: 'Alive' }], online: 1 });
      expect(await sweep()).toEqual(['ghost']);
    } finally {
      child.kill('SIGKILL');
      await observer.close();
    }
  });
});
