import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freshDatabase } from '../../../test/pg.js';
import { waitUntil } from '../../../test/wait.js';
import { TestClient } from '../../server/test/helpers.js';
import type { RoomcastClient } from '../src/client.js';
import type { Message } from '../src/messages.js';
import type { Room } from '../src/room.js';
import { ServerProcess } from './chaos/server-process.js';
import { connect, removeDir, tempDir, whenState } from './helpers.js';

// Issue 6's failover proof: three real nodes (child processes) on one PostgreSQL and one Redis,
// SDK clients behind a round-robin TCP balancer sending steadily, and one node killed with
// SIGKILL. Its clients reconnect through the balancer to the others and resume; every
// acknowledged message reaches every member exactly once, in order; its users go offline
// within the presence lease.

/** A TCP load balancer: round robin over the backends that accept a connection. */
class Balancer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private next = 0;
  port = 0;

  constructor(readonly backends: number[]) {
    this.server = createServer((client) => this.route(client, 0));
  }

  async start(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  private route(client: Socket, tried: number): void {
    if (tried >= this.backends.length) return void client.destroy();
    const port = this.backends[this.next++ % this.backends.length] as number;
    const upstream = tcpConnect(port, '127.0.0.1');
    client.pause();
    upstream.once('error', () => {
      if (!upstream.readyState.startsWith('open')) this.route(client, tried + 1); // dead backend: the next one
    });
    upstream.once('connect', () => {
      this.sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      client.resume();
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

interface Sender {
  client: RoomcastClient;
  rooms: Room[];
  /** Messages delivered per room, in delivery order. */
  got: Map<string, Message[]>;
  acked: Array<{ room: string; seq: number }>;
}

describe('cluster failover through the SDK', () => {
  const dir = tempDir('roomcast-failover-');
  const nodes: ServerProcess[] = [];
  const clients: RoomcastClient[] = [];
  let balancer: Balancer | undefined;
  afterAll(async () => {
    for (const c of clients) c.close();
    await balancer?.close();
    await Promise.all(nodes.map((n) => n.kill()));
    removeDir(dir);
  });

  it('survives SIGKILL of a node under steady traffic: no loss, no duplicates, presence drops within the lease', async () => {
    const postgres = await freshDatabase(inject('pgUrl'), 'failover');
    const leaseMs = 1500;
    for (let i = 1; i <= 3; i++) {
      const flags = ['--postgres', postgres, '--redis', inject('redisUrl'), '--node-id', `fo${i}-${process.pid}`];
      nodes.push(new ServerProcess(dir, [...flags, '--presence-lease', String(leaseMs), '--rate', '0', '--log-level', 'warn']));
    }
    const ports = await Promise.all(nodes.map((n) => n.start()));
    balancer = new Balancer(ports);
    const lb = `ws://127.0.0.1:${await balancer.start()}/ws`;
    const [, doomed] = nodes as [ServerProcess, ServerProcess, ServerProcess];

    // A watcher on node 1 and a user on node 2 who will not come back.
    const watcher = await TestClient.connect(`ws://127.0.0.1:${ports[0]}/ws`, { name: 'Watcher' });
    const stranded = await TestClient.connect(`ws://127.0.0.1:${ports[1]}/ws`, { name: 'Stranded' });

    const roomIds = ['fo-a', 'fo-b'];
    const senders: Sender[] = [];
    for (let i = 0; i < 6; i++) {
      const client = await connect(lb, { name: `User${i}` }, clients);
      senders.push({ client, rooms: [], got: new Map(roomIds.map((r) => [r, []])), acked: [] });
    }
    for (const id of roomIds) await senders[0]!.client.create({ room: id });
    for (const s of senders) {
      for (const id of roomIds) {
        const room = s.client.room(id) ?? (await s.client.join(id, { history: 0 }));
        room.on('message', (m) => s.got.get(id)!.push(m));
        s.rooms.push(room);
      }
    }
    await watcher.ok('join', { room: 'fo-a', history: 0 });
    await stranded.ok('join', { room: 'fo-a', history: 0 });
    await watcher.next('presence', (f) => f.user.id === stranded.userId && f.event === 'join');

    // Steady traffic: each client sends to its rooms in turn, one message in flight at a time.
    let running = true;
    const loops = senders.map(async (s, si) => {
      for (let n = 0; running; n++) {
        const room = s.rooms[n % s.rooms.length] as Room;
        try {
          const r = await room.send(`${si}:${n}`);
          s.acked.push({ room: roomIds[n % roomIds.length] as string, seq: r.seq });
        } catch (err) {
          throw new Error(`a send failed instead of being retried: ${String(err)}`);
        }
      }
    });
    const ackedTotal = () => senders.reduce((n, s) => n + s.acked.length, 0);
    // Acks resolve sends; no event says so, so this one polls.
    await waitUntil(() => ackedTotal() >= 60, { what: 'traffic before the kill', seen: () => `${ackedTotal()} acked`, timeoutMs: 20_000 });

    const killedAt = Date.now();
    await doomed.kill();
    const left = await watcher.next('presence', (f) => f.user.id === stranded.userId && f.event === 'leave', 15_000);
    const presenceDropMs = Date.now() - killedAt;
    expect(left.online).toBeGreaterThanOrEqual(1);
    const beforeRecovery = ackedTotal();
    await Promise.all(senders.map((s) => whenState(s.client, 'connected', 20_000)));
    await waitUntil(() => ackedTotal() >= beforeRecovery + 60, { what: 'traffic after the kill', seen: () => `${ackedTotal() - beforeRecovery} acked since`, timeoutMs: 20_000 });
    const recoveredMs = Date.now() - killedAt;
    running = false;
    await Promise.all(loops);

    // Every acknowledged message is stored; every client delivered each room's stored log, once, in order.
    const reader = await connect(lb, { name: 'Reader' }, clients);
    let duplicates = 0;
    let delivered = 0;
    for (const id of roomIds) {
      const stored: number[] = [];
      const room = await reader.join(id, { history: 0 });
      for (let before: number | undefined; ; ) {
        const page = await room.history({ limit: 200, ...(before ? { before } : {}) });
        stored.unshift(...page.messages.map((m) => m.seq));
        if (!page.more) break;
        before = page.messages[0]!.seq;
      }
      expect(stored).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
      const acked = senders.flatMap((s) => s.acked.filter((a) => a.room === id).map((a) => a.seq));
      expect(new Set(acked).size).toBe(acked.length);
      for (const seq of acked) expect(seq).toBeLessThanOrEqual(stored.length);
      for (const s of senders) {
        await waitUntil(() => (s.got.get(id)!.at(-1)?.seq ?? 0) >= stored.length, {
          what: `client ${s.client.user?.name} to catch up in ${id}`,
          seen: () => `last seq ${s.got.get(id)!.at(-1)?.seq ?? 0} of ${stored.length}`,
          timeoutMs: 15_000,
          on: (wake) => s.rooms[roomIds.indexOf(id)]!.on('message', wake),
        });
        const seqs = s.got.get(id)!.map((m) => m.seq);
        expect(seqs).toEqual(stored);
        delivered += seqs.length;
      }
    }
    for (const s of senders) duplicates += s.client.stats.duplicates;
    const reconnects = senders.reduce((n, s) => n + s.client.stats.reconnects, 0);
    console.log(
      `failover: ${ackedTotal()} sent and acknowledged, ${delivered} delivered, ${duplicates} duplicates suppressed, ` +
        `${reconnects} reconnects; the dead node's user went offline after ${presenceDropMs} ms (lease ${leaseMs} ms); ` +
        `traffic was flowing again ${recoveredMs} ms after the kill`,
    );
    expect(reconnects).toBeGreaterThan(0);
  }, 90_000);
});
