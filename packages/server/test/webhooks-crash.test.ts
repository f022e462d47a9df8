import { afterEach, describe, expect, inject, it } from 'vitest';
import { freshDatabase } from '../../../test/pg.js';
import { waitUntil } from '../../../test/wait.js';
import { spawnServe, type ChildServer } from './child-server.js';
import { removeDir, tempDir, TestClient } from './helpers.js';
import { Receiver, seeded } from './webhooks-receiver.js';

// The "done when": the server is SIGKILLed under traffic while the receiver fails 30% of
// requests; every acknowledged message's message.created still arrives, exactly once after
// dedup by id, in seq order per room. Then the same with a 2-node cluster, one node killed for good.

const SECRET = 'webhook-secret-for-tests-0123';
// Short backoff and poll so retries come quickly; a short lease so a dead node's rows move on.
const TUNING = JSON.stringify({ backoff: { baseMs: 20, capMs: 300 }, pollMs: 100, leaseMs: 1500 });

const running: ChildServer[] = [];
const dirs: string[] = [];
const receivers: Receiver[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const r of running.splice(0)) r.child.kill('SIGKILL');
  for (const r of receivers.splice(0)) await r.close();
  for (const d of dirs.splice(0)) removeDir(d);
});

const serve = async (args: string[]) => {
  const s = await spawnServe(['--port', '0', '--host', '127.0.0.1', '--rate', '0', '--log-level', 'warn', ...args], { env: { ROOMCAST_WEBHOOK_TUNING: TUNING } });
  running.push(s);
  return s;
};

interface Acked {
  room: string;
  seq: number;
  id: string;
}

/** Each client sends into each room, a few in flight, until `stop`; records the acknowledged. */
function traffic(senders: TestClient[], rooms: string[], acked: Acked[]): { stop: () => void; done: Promise<unknown> } {
  let stopped = false;
  const loops = senders.flatMap((c, ci) =>
    rooms.map(async (room) => {
      for (let i = 0; !stopped; i++) {
        const r = await c.request('send', { room, text: `${ci}:${i}`, id: `c${ci}-${room}-${i}` }).catch(() => null);
        if (!r) return;
        if (r.ok) acked.push({ room, seq: r.seq as number, id: r.id as string });
      }
    }),
  );
  return { stop: () => (stopped = true), done: Promise.allSettled(loops) };
}

function undelivered(receiver: Receiver, acked: Acked[]): number {
  const got = new Set(receiver.ofType('message.created').map((e) => `${String(e.data.room)}#${String(e.data.seq)}`));
  return acked.filter((a) => !got.has(`${a.room}#${a.seq}`)).length;
}

/** Every acknowledged message arrived; per room, first arrivals are in seq order, each seq once. */
async function expectAllDelivered(receiver: Receiver, acked: Acked[]): Promise<void> {
  const key = (room: string, seq: number) => `${room}#${seq}`;
  await waitUntil(
    () => {
      const got = new Set(receiver.ofType('message.created').map((e) => key(e.data.room as string, e.data.seq as number)));
      return acked.every((a) => got.has(key(a.room, a.seq)));
    },
    { what: 'message.created of every acknowledged message', on: receiver.on, timeoutMs: 60_000, seen: () => `${receiver.ofType('message.created').length} of ${acked.length}` },
  );
  const byRoom = new Map<string, number[]>();
  for (const e of receiver.ofType('message.created')) {
    const list = byRoom.get(e.data.room as string) ?? [];
    list.push(e.data.seq as number);
    byRoom.set(e.data.room as string, list);
  }
  for (const [room, seqs] of byRoom) {
    // First arrival order is seq order, and no seq came under two ids.
    expect(seqs, `order of room ${room}`).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size, `duplicates in room ${room}`).toBe(seqs.length);
  }
  for (const a of acked) {
    const e = receiver.ofType('message.created').find((x) => x.data.room === a.room && x.data.seq === a.seq);
    expect(e?.data.id).toBe(a.id);
  }
  // Retries really happened: about 30% of requests failed.
  expect(receiver.failures).toBeGreaterThan(0);
}

describe('webhooks survive SIGKILL', () => {
  it('delivers every acknowledged message after a crash and restart (SQLite)', async () => {
    const receiver = await new Receiver({ secret: SECRET, failRate: 0.3, random: seeded(16) }).start();
    receivers.push(receiver);
    const data = tempDir();
    dirs.push(data);
    const args = ['--data', data, '--webhook-url', receiver.url, '--webhook-secret', SECRET];
    const first = await serve(args);
    const url = `ws://127.0.0.1:${first.port}/ws`;
    const senders = await Promise.all(['A', 'B', 'C'].map((name) => TestClient.connect(url, { name })));
    clients.push(...senders);
    const rooms = ['r1', 'r2', 'r3'];
    for (const room of rooms) await senders[0]!.ok('create', { room });
    for (const c of senders.slice(1)) for (const room of rooms) await c.ok('join', { room });
    const acked: Acked[] = [];
    const t = traffic(senders, rooms, acked);
    // Killed mid-traffic, with webhook deliveries (and retries) still under way.
    await waitUntil(() => acked.length >= 150 && receiver.ofType('message.created').length > 0, { what: '150 acknowledged sends', pollMs: 5 });
    // Acknowledged messages whose events had not been delivered when it died: the outbox has them.
    const pending = undelivered(receiver, acked);
    first.child.kill('SIGKILL');
    await first.exited;
    t.stop();
    await t.done;
    expect(pending).toBeGreaterThan(0);

    await serve(args);
    await expectAllDelivered(receiver, acked);
  }, 90_000);

  it('delivers a killed cluster node\'s pending events from the surviving node', async () => {
    const receiver = await new Receiver({ secret: SECRET, failRate: 0.3, random: seeded(61) }).start();
    receivers.push(receiver);
    const postgres = await freshDatabase(inject('pgUrl'), 'webhooks');
    const redis = inject('redisUrl');
    const args = (n: number) => ['--postgres', postgres, '--redis', redis, '--node-id', `wh${n}-${process.pid}`, '--presence-lease', '1000', '--webhook-url', receiver.url, '--webhook-secret', SECRET];
    const doomed = await serve(args(1));
    const survivor = await serve(args(2));
    const onDoomed = await Promise.all(['A', 'B'].map((name) => TestClient.connect(`ws://127.0.0.1:${doomed.port}/ws`, { name })));
    const onSurvivor = await TestClient.connect(`ws://127.0.0.1:${survivor.port}/ws`, { name: 'C' });
    clients.push(...onDoomed, onSurvivor);
    const rooms = ['c1', 'c2', 'c3'];
    for (const room of rooms) await onDoomed[0]!.ok('create', { room });
    for (const room of rooms) await onDoomed[1]!.ok('join', { room });
    for (const room of rooms) await onSurvivor.ok('join', { room });
    const acked: Acked[] = [];
    const t = traffic([...onDoomed, onSurvivor], rooms, acked);
    await waitUntil(() => acked.length >= 150 && receiver.ofType('message.created').length > 0, { what: '150 acknowledged sends', pollMs: 5 });
    const pending = undelivered(receiver, acked);
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    t.stop();
    await t.done;
    expect(pending).toBeGreaterThan(0);
    // Not restarted: the survivor takes over the dead node's leased rows when their lease ends.
    await expectAllDelivered(receiver, acked);
  }, 120_000);
});
