import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { MemoryBroker, MemoryBus } from '../src/broker/memory.js';
import { RedisBroker } from '../src/broker/redis.js';
import { brokerContract } from './broker-contract.js';

brokerContract('in-process', async (count) => {
  const bus = new MemoryBus();
  const nodes = Array.from({ length: count }, () => new MemoryBroker(bus));
  return { nodes, cleanup: async () => void (await Promise.all(nodes.map((n) => n.close()))) };
});

brokerContract('Redis', async (count) => {
  const nodes = Array.from({ length: count }, () => new RedisBroker({ url: inject('redisUrl'), nodeId: `n-${randomBytes(4).toString('hex')}` }));
  await Promise.all(nodes.map((n) => n.connect()));
  return { nodes, cleanup: async () => void (await Promise.all(nodes.map((n) => n.close()))) };
});

describe('Redis broker: a node that dies', () => {
  it('loses its users within one lease, and sweep reports them gone once', async () => {
    const url = inject('redisUrl');
    const room = `lease-${randomBytes(4).toString('hex')}`;
    const dist = new URL('../dist/broker/redis.js', import.meta.url).href;
    // A node in its own process, killed without a chance to clean up.
    const child = spawn(process.execPath, [
      '--input-type=module',
      '-e',
      `import { RedisBroker } from ${JSON.stringify(dist)};
       const b = new RedisBroker({ url: ${JSON.stringify(url)}, nodeId: 'doomed-${room}', leaseMs: 600 });
       await b.connect();
       await b.presenceAdd(${JSON.stringify(room)}, { id: 'ghost', name: 'Ghost' });
       console.log('ready');
       setInterval(() => {}, 1000);`,
    ]);
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`node exited early (${code})`)));
    });
    const observer = new RedisBroker({ url, nodeId: `obs-${room}`, leaseMs: 600 });
    await observer.connect();
    try {
      await observer.presenceAdd(room, { id: 'alive', name: 'Alive' });
      expect((await observer.presenceList(room)).map((u) => u.id)).toEqual(['alive', 'ghost']);
      child.kill('SIGKILL');
      await expect.poll(async () => (await observer.presenceList(room)).map((u) => u.id), { timeout: 5000, interval: 100 }).toEqual(['alive']);
      expect(await observer.sweep(room)).toEqual({ online: 1, gone: [{ id: 'ghost', name: 'Ghost' }] });
      expect(await observer.sweep(room)).toEqual({ online: 1, gone: [] });
    } finally {
      child.kill('SIGKILL');
      await observer.close();
    }
  });
});
