import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../test/pg.js';
import { startPostgres, startRedis, type PostgresServer, type RedisServer } from '../../../test/services.js';
import { startTcpProxy, type TcpProxy } from '../../../test/tcp-proxy.js';
import { startTestServer, type TestClient, type TestServer } from './helpers.js';

// Issue 17, item 3: node A is cut off from PostgreSQL (silently, by a TCP proxy) in the middle
// of an append transaction, so it holds the counter row of room `shared`. Node B, connected
// directly, must not stall beyond the timeouts, neither on `shared` nor on its other rooms; A
// answers `unavailable` quickly; after the heal nothing acknowledged is lost or duplicated.

const PG_TIMEOUT_MS = 1000;
/** Longest a send may take while the cut lasts: A's open transaction ends after idle_in_transaction (1 s), B waits up to lock_timeout-ish for it. */
const BOUND_MS = 2500;
/** How long the cut lasts at most: longer than the bound, so a stall shows. */
const CUT_MS = 6000;

interface Sent {
  room: string;
  text: string;
  ms: number;
  seq?: number;
  code?: string;
}

async function timedSend(client: TestClient, room: string, text: string): Promise<Sent> {
  const t0 = Date.now();
  try {
    const r = await client.request('send', { room, text, id: text });
    const ms = Date.now() - t0;
    return r.ok ? { room, text, ms, seq: r.seq as number } : { room, text, ms, code: r.error.code };
  } catch {
    return { room, text, ms: Date.now() - t0, code: 'no answer' }; // the helper's reply wait ran out
  }
}

describe('cluster: a node cut off from PostgreSQL mid-append', () => {
  let redis: RedisServer;
  let pgServer: PostgresServer;
  let proxy: TcpProxy;
  let dbUrl: string;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    [redis, pgServer] = await Promise.all([startRedis(), startPostgres()]);
    dbUrl = await freshDatabase(pgServer.url, 'cut');
    proxy = await startTcpProxy(pgServer.port);
    const common = { redisUrl: redis.url, ratePerSec: 0, pgTimeoutMs: PG_TIMEOUT_MS };
    a = await startTestServer({ ...common, postgresUrl: proxy.url(dbUrl), nodeId: 'a' });
    b = await startTestServer({ ...common, postgresUrl: dbUrl, nodeId: 'b' });
  }, 60_000);
  afterAll(async () => {
    proxy?.heal();
    await Promise.all([a?.close(), b?.close()]);
    await proxy?.close();
    await Promise.all([redis?.stop(), pgServer?.stop()]);
  });

  it('keeps the healthy node answering within the timeouts, A refuses quickly, nothing acknowledged is lost or duplicated', async () => {
    const alice = await a.connect({ name: 'Alice' });
    const bob = await b.connect({ name: 'Bob' });
    const others = ['o1', 'o2', 'o3', 'o4'];
    await alice.ok('create', { room: 'shared' });
    await alice.ok('create', { room: 'a-other' });
    await bob.ok('join', { room: 'shared' });
    for (const r of others) await bob.ok('create', { room: r });

    // A's traffic: several senders in a row to `shared`, so A almost always has an append open.
    const sent: Sent[] = [];
    let running = true;
    let n = 0;
    const loops = [0, 1, 2].map(async () => {
      while (running) {
        const s = await timedSend(alice, 'shared', `a-${n++}`);
        sent.push(s);
        if (s.code) await new Promise((r) => setTimeout(r, 20));
      }
    });
    await expect.poll(() => sent.filter((s) => s.seq).length).toBeGreaterThan(10);

    // Cut until A provably holds `shared`'s counter row in a transaction it cannot finish.
    const direct = new pg.Client({ connectionString: dbUrl });
    await direct.connect();
    const rowHeld = async () => {
      try {
        await direct.query('begin');
        await direct.query(`select 1 from rooms where id = 'shared' for update nowait`);
        return false;
      } catch (err) {
        if ((err as { code?: string }).code === '55P03') return true;
        throw err;
      } finally {
        await direct.query('rollback');
      }
    };
    let held = false;
    for (let attempt = 0; attempt < 20 && !held; attempt++) {
      proxy.cut();
      held = await rowHeld();
      if (!held) {
        proxy.heal();
        const acked = sent.filter((s) => s.seq).length;
        await expect.poll(() => sent.filter((s) => s.seq).length).toBeGreaterThan(acked + 3);
      }
    }
    expect(held).toBe(true);
    const cutAt = Date.now();
    const sentBeforeCut = sent.length;

    // B: 100 sends, 50 to the held room and 50 to its other rooms, ten rounds at once so they
    // share batches (the issue: other rooms of the same batch waited too).
    const bSends: Promise<Sent>[] = [];
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 5; i++) bSends.push(timedSend(bob, 'shared', `b-${round}-s${i}`));
      for (let i = 0; i < 5; i++) bSends.push(timedSend(bob, others[i % others.length] as string, `b-${round}-o${i}`));
      await new Promise((r) => setTimeout(r, 50));
    }
    // A, asked during the cut, refuses quickly (own room and another one).
    const aAsked = Promise.all([timedSend(alice, 'shared', 'a-during-1'), timedSend(alice, 'a-other', 'a-during-2')]);
    // A's /readyz says so at once (store.ping answers within a second whatever the link does).
    const r0 = Date.now();
    const aReady = (await fetch(`${a.url}/readyz`)).status;
    const readyMs = Date.now() - r0;
    const settled = Promise.all([Promise.all(bSends), aAsked]);
    await Promise.race([settled, new Promise((r) => setTimeout(r, Math.max(0, CUT_MS - (Date.now() - cutAt))))]);
    proxy.heal();
    const [bResults, aDuring] = await settled;
    running = false;
    await Promise.all(loops);

    const slow = bResults.filter((s) => s.ms > BOUND_MS);
    const slowShared = slow.filter((s) => s.room === 'shared').length;
    console.log(
      `B: ${bResults.length} sends during the cut, ${slow.length} waited over ${BOUND_MS} ms (${slowShared} to the held room, ${slow.length - slowShared} to others); ` +
        `max ${Math.max(...bResults.map((s) => s.ms))} ms; ${bResults.filter((s) => s.seq).length} acknowledged, ${bResults.filter((s) => s.code).length} unavailable. ` +
        `A during the cut: ${aDuring.map((s) => `${s.code ?? 'ok'} in ${s.ms} ms`).join(', ')}; A's /readyz ${aReady} in ${readyMs} ms`,
    );
    expect(aReady).toBe(503);
    expect(readyMs).toBeLessThan(2000);
    expect(slow.length).toBe(0);
    for (const s of bResults) if (s.code) expect(s.code).toBe('unavailable');
    // Every send to another room went through while the cut lasted.
    expect(bResults.filter((s) => s.room !== 'shared' && s.seq === undefined)).toEqual([]);
    for (const s of aDuring) {
      expect(s.code).toBe('unavailable');
      expect(s.ms).toBeLessThan(BOUND_MS);
    }
    for (const s of sent.slice(sentBeforeCut)) if (s.code) expect(s.code).toBe('unavailable');

    // After the heal: A acknowledges again, and history holds every acknowledged send exactly once.
    await expect.poll(async () => (await timedSend(alice, 'shared', `a-after-${Date.now()}`)).seq !== undefined, { timeout: 10_000, interval: 200 }).toBe(true);
    const rows = (await direct.query<{ room_id: string; seq: string; text: string }>(`select room_id, seq, text from messages where kind = 'msg'`)).rows;
    await direct.end();
    const byText = new Map<string, Array<{ room: string; seq: number }>>();
    for (const r of rows) byText.set(r.text, [...(byText.get(r.text) ?? []), { room: r.room_id, seq: Number(r.seq) }]);
    for (const [text, copies] of byText) expect(copies, text).toHaveLength(1);
    for (const s of [...sent, ...bResults, ...aDuring]) {
      if (s.seq !== undefined) expect(byText.get(s.text), s.text).toEqual([{ room: s.room, seq: s.seq }]);
    }
    for (const room of ['shared', ...others]) {
      const seqs = rows.filter((r) => r.room_id === room).map((r) => Number(r.seq));
      expect(new Set(seqs).size, room).toBe(seqs.length);
    }
  }, 60_000);
});
