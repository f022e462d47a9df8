import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Broker, BrokerMessage } from '../src/broker/broker.js';
import { Signal, waitUntil } from '../../../test/wait.js';

// The Broker contract: the in-process broker and the Redis broker both run it. Each test gets
// nodes that share one backend (one bus, one Redis), as the nodes of a cluster do.

export interface BrokerNodes {
  nodes: Broker[];
  cleanup: () => Promise<void>;
}

/** Collects what a node receives for a room and lets a test wait for a count. */
class Inbox {
  readonly got: BrokerMessage[] = [];
  private readonly changed = new Signal();
  readonly handler = (m: BrokerMessage) => {
    this.got.push(m);
    this.changed.notify();
  };
  async atLeast(n: number, ms = 5000): Promise<BrokerMessage[]> {
    await waitUntil(() => this.got.length >= n, { what: `${n} messages`, seen: () => `got ${this.got.length}`, timeoutMs: ms, on: this.changed.on });
    return this.got;
  }
}

const text = (s: string) => new TextEncoder().encode(s);
const decode = (m: BrokerMessage) => new TextDecoder().decode(m.data);

export function brokerContract(name: string, open: (count: number) => Promise<BrokerNodes>): void {
  describe(`Broker contract: ${name}`, () => {
    let env: BrokerNodes;
    let a: Broker;
    let b: Broker;
    let c: Broker;
    // Fresh room names per test: a shared Redis keeps no state between tests that way.
    let room: (n: string) => string;
    beforeEach(async () => {
      env = await open(3);
      [a, b, c] = env.nodes as [Broker, Broker, Broker];
      const tag = randomBytes(4).toString('hex');
      room = (n) => `${n}-${tag}`;
    });
    afterEach(() => env.cleanup());

    it('delivers a room event to the other subscribed nodes only, with every field intact', async () => {
      const r = room('fan');
      const inB = new Inbox();
      const inC = new Inbox();
      const inA = new Inbox();
      await a.subscribe(r, inA.handler);
      await b.subscribe(r, inB.handler);
      await c.subscribe(room('other'), inC.handler);
      const payload = new Uint8Array([0, 1, 2, 255]);
      a.publish({ room: r, data: payload, binary: true, seq: 7, exceptConn: 's_1', exceptUser: 'u_1' });
      a.publish({ room: r, data: text('two'), binary: false });
      a.publish({ room: r, data: new Uint8Array(0), binary: false, control: { kind: 'drop-user', user: 'u_9', notify: { op: 'room' } } });
      const got = await inB.atLeast(3);
      expect(got[0]).toMatchObject({ room: r, binary: true, seq: 7, exceptConn: 's_1', exceptUser: 'u_1' });
      expect([...got[0]!.data]).toEqual([...payload]);
      expect(decode(got[1]!)).toBe('two');
      expect(got[1]!.seq).toBeUndefined();
      expect(got[2]!.control).toEqual({ kind: 'drop-user', user: 'u_9', notify: { op: 'room' } });
      // A round trip through b proves a had its chance to deliver to itself and c.
      const back = new Inbox();
      await a.subscribe(r, back.handler);
      b.publish({ room: r, data: text('marker'), binary: false });
      await back.atLeast(1);
      expect(inA.got).toEqual([]);
      expect(inC.got).toEqual([]);
    });

    it('keeps one room\'s events in publish order', async () => {
      const r = room('order');
      const inB = new Inbox();
      await b.subscribe(r, inB.handler);
      for (let i = 1; i <= 200; i++) a.publish({ room: r, data: text(String(i)), binary: false, seq: i });
      const got = await inB.atLeast(200);
      expect(got.map((m) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    });

    it('stops delivering after unsubscribe', async () => {
      const r = room('unsub');
      const inB = new Inbox();
      const marker = new Inbox();
      await b.subscribe(r, inB.handler);
      a.publish({ room: r, data: text('1'), binary: false });
      await inB.atLeast(1);
      await b.unsubscribe(r);
      await c.subscribe(r, marker.handler);
      a.publish({ room: r, data: text('2'), binary: false });
      await marker.atLeast(1);
      expect(inB.got).toHaveLength(1);
    });

    it('counts distinct users across nodes and reports the first and last of each', async () => {
      const r = room('pres');
      const alice = { id: 'alice', name: 'Alice' };
      const bob = { id: 'bob', name: 'Bob' };
      expect(await a.presenceAdd(r, alice)).toEqual({ changed: true, online: 1 });
      expect(await b.presenceAdd(r, alice)).toEqual({ changed: false, online: 1 });
      expect(await b.presenceAdd(r, bob)).toEqual({ changed: true, online: 2 });
      expect((await c.presencePage(r, { limit: 10 })).users).toEqual([alice, bob]);
      expect(await c.presenceCounts([r, room('empty')])).toEqual(new Map([[r, 2], [room('empty'), 0]]));
      expect(await a.presenceRemove(r, 'alice')).toEqual({ changed: false, online: 2 });
      expect(await b.presenceRemove(r, 'alice')).toEqual({ changed: true, online: 1 });
      expect(await b.presenceRemove(r, 'nobody')).toEqual({ changed: false, online: 1 });
      expect(await c.presencePage(r, { limit: 10 })).toEqual({ users: [bob], online: 1 });
    });

    it('pages online users in the order they came online, exactly once each, with a count', async () => {
      const r = room('page');
      const users = Array.from({ length: 7 }, (_, i) => ({ id: `u${(7 - i) * 13}`, name: `U${i}` }));
      // Ids in descending order, added through different nodes: the order is time online, not id.
      for (const [i, u] of users.entries()) await [a, b, c][i % 3]!.presenceAdd(r, u);
      await b.presenceAdd(r, users[0]!); // a second node holding the first one moves nothing
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await c.presencePage(r, { limit: 3, ...(cursor ? { cursor } : {}) });
        expect(page.online).toBe(7);
        seen.push(...page.users.map((u) => u.id));
        cursor = page.next;
        if (!cursor) break;
        // Someone leaving and coming back between pages goes to the end, and is listed there.
        if (pages === 0) {
          await a.presenceRemove(r, users[0]!.id);
          expect(await b.presenceRemove(r, users[0]!.id)).toEqual({ changed: true, online: 6 });
          await a.presenceAdd(r, users[0]!);
        }
      }
      expect(seen).toEqual([...users.slice(0, 7), users[0]!].map((u) => u.id));
      expect((await c.presencePage(r, { limit: 7 })).next).toBeUndefined();
      expect((await c.presencePage(r, { limit: 6 })).next).toBeDefined();
    });

    it('tells which of some users are online, whatever their number online', async () => {
      const r = room('among');
      await a.presenceAdd(r, { id: 'p', name: 'P' });
      await b.presenceAdd(r, { id: 'q', name: 'Q' });
      await b.presenceAdd(r, { id: 's', name: 'S' });
      const page = await c.presencePage(r, { limit: 1, among: ['q', 'nobody', 'p'] });
      expect(page).toEqual({ online: 3, users: [{ id: 'q', name: 'Q' }, { id: 'p', name: 'P' }] });
      expect(await c.presencePage(room('empty'), { limit: 1, among: ['q'] })).toEqual({ online: 0, users: [] });
    });

    it('shares each user\'s message bucket between nodes', async () => {
      const user = room('rate');
      const taken: boolean[] = [];
      // Rate 5 allows a burst of 10, whichever node the messages come through.
      for (let i = 0; i < 12; i++) taken.push(await (i % 2 ? a : b).takeUserToken(user, 5));
      expect(taken.filter(Boolean).length).toBeGreaterThanOrEqual(10);
      expect(taken.filter(Boolean).length).toBeLessThanOrEqual(11); // a token may refill meanwhile
      expect(taken.slice(0, 10).every(Boolean)).toBe(true);
      expect(await c.takeUserToken(room('other-user'), 5)).toBe(true);
    });

    it('forgets a node\'s users when the node closes', async () => {
      const r = room('close');
      await a.presenceAdd(r, { id: 'x', name: 'X' });
      await b.presenceAdd(r, { id: 'y', name: 'Y' });
      await a.close();
      expect((await c.presencePage(r, { limit: 10 })).users).toEqual([{ id: 'y', name: 'Y' }]);
      expect(b.available).toBe(true);
      await expect(b.ping()).resolves.toBeUndefined();
    });
  });
}
