import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshDatabase } from '../../../test/pg.js';
import { startRedis, type RedisServer } from '../../../test/services.js';
import { pino } from 'pino';
import { startServer } from '../src/server.js';
import { removeDir, tempDir, TestClient, type TestServer } from './helpers.js';

// Two clusters (production and staging) on one Redis (issue 17, item 1). Redis pub/sub ignores
// the db number, so with two db numbers and the same prefix their room channels are one; the
// cluster id in every envelope must keep staging's messages away from production's members,
// and production's own live delivery must stay in order (its sequencer must not skip its seqs
// because of staging's). With two prefixes nothing is shared at all.

const ROOM = 'shared-room';
const dirs: string[] = [];

interface Cluster {
  node: Pick<TestServer, 'close'>;
  /** The node's warnings (the foreign-cluster one among them). */
  warnings: string[];
  alice: TestClient;
  bob: TestClient;
}

async function cluster(redisUrl: string, name: string, extra: { redisPrefix?: string } = {}): Promise<Cluster> {
  const postgresUrl = await freshDatabase(inject('pgUrl'), `iso${name}`);
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
  const config = { port: 0, host: '127.0.0.1', presenceGraceMs: 0, dataDir: dirs[dirs.push(tempDir()) - 1] as string, postgresUrl, redisUrl, nodeId: `${name}-1`, ratePerSec: 0, ...extra };
  const node = await startServer(config, log);
  const wsUrl = `ws://127.0.0.1:${node.port}/ws`;
  const alice = await TestClient.connect(wsUrl, { name: `Alice-${name}` });
  const bob = await TestClient.connect(wsUrl, { name: `Bob-${name}` });
  await alice.ok('create', { room: ROOM });
  await bob.ok('join', { room: ROOM });
  return { node, warnings, alice, bob };
}

/** Sends `count` messages; each is acknowledged before the next (as a chat client does). */
async function send(c: TestClient, label: string, count: number, first = 1): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = first; i < first + count; i++) seqs.push((await c.ok('send', { room: ROOM, text: `${label}-${i}` })).seq as number);
  return seqs;
}

/** Bob's msgs until he has `count` of them. */
async function received(bob: TestClient, count: number): Promise<Array<{ seq: number; text: string }>> {
  const out: Array<{ seq: number; text: string }> = [];
  while (out.length < count) {
    const m = await bob.next('msg', undefined, 5000);
    out.push({ seq: m.seq as number, text: m.text as string });
  }
  return out;
}

async function isolated(prod: Cluster, staging: Cluster): Promise<void> {
  // Staging runs ahead: its seqs on the shared channel are far beyond production's.
  await send(staging.alice, 'staging', 20);
  expect((await received(staging.bob, 20)).map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

  const seqs = await send(prod.alice, 'prod', 5);
  expect(seqs).toEqual([1, 2, 3, 4, 5]);
  expect(await received(prod.bob, 5)).toEqual(seqs.map((seq) => ({ seq, text: `prod-${seq}` })));

  // Both keep going at once; production's member sees exactly production's, in order.
  const [more] = await Promise.all([send(prod.alice, 'prod', 5, 6), send(staging.alice, 'staging', 10, 21)]);
  expect(await received(prod.bob, 5)).toEqual((more as number[]).map((seq) => ({ seq, text: `prod-${seq}` })));
  await received(staging.bob, 10);
  await prod.bob.barrier();
  expect(prod.bob.take('msg')).toEqual([]);
  // Presence is each cluster's own.
  expect((await prod.bob.ok('members', { room: ROOM })).online).toBe(2);
  expect((await staging.bob.ok('members', { room: ROOM })).online).toBe(2);
}

describe('two clusters on one Redis', () => {
  let redis: RedisServer;
  const nodes: Array<Pick<TestServer, 'close'>> = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()));
    await redis.stop();
    for (const d of dirs) removeDir(d);
  });

  it('same prefix, different db numbers (/0 and /1): nothing of staging reaches production', async () => {
    const prod = await cluster(`${redis.url}/0`, 'prod');
    const staging = await cluster(`${redis.url}/1`, 'staging');
    nodes.push(prod.node, staging.node);
    await isolated(prod, staging);
    // Production was told, once (throttled), what to do about it.
    const foreign = prod.warnings.filter((w) => w.includes('another roomcast cluster'));
    expect(foreign).toHaveLength(1);
    expect(foreign[0]).toContain('--redis-prefix');
  });

  it('two prefixes on the same db: nothing is shared', async () => {
    const prod = await cluster(`${redis.url}/2`, 'prod2');
    const staging = await cluster(`${redis.url}/2`, 'staging2', { redisPrefix: 'stg:' });
    nodes.push(prod.node, staging.node);
    await isolated(prod, staging);
    expect(prod.warnings.filter((w) => w.includes('another roomcast cluster'))).toEqual([]);
  });
});
