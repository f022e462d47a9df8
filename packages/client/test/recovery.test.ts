import { afterEach, describe, expect, it } from 'vitest';
import type { RoomcastClient } from '../src/client.js';
import { waitUntil } from '../../../test/wait.js';
import { connect, removeDir, startTestServer, tempDir, whenState, type TestServer } from './helpers.js';

// Recovery after faults (issue 19) against real servers restarted on the same port and data:
// the backoff starts from the minimum again after every welcome, and an outbox queued while the
// server was down drains in one go on the resume burst, in order, without `rate_limited`.

describe('recovery', () => {
  const servers: TestServer[] = [];
  const clients: RoomcastClient[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of servers.splice(0)) await s.close();
    for (const d of dirs.splice(0)) removeDir(d);
  });
  const serve = async (options: Parameters<typeof startTestServer>[0] = {}) => {
    const s = await startTestServer(options);
    servers.push(s);
    return s;
  };
  const stop = async (s: TestServer) => {
    servers.splice(servers.indexOf(s), 1);
    await s.close();
  };

  it('starts the backoff from the minimum again after each welcome, while the server keeps dying', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    let server = await serve({ dataDir });
    const min = 40;
    // Jitter pinned to the top: each delay is its ceiling, min * 2^attempt.
    const alice = await connect(server.wsUrl, { name: 'Alice', minReconnectDelay: min, maxReconnectDelay: 5000, random: () => 0.999 }, clients);
    const delays: number[] = [];
    alice.on('retry', (r) => delays.push(r.retryAt - Date.now()));
    for (let round = 0; round < 3; round++) {
      const before = delays.length;
      await stop(server);
      // Dials to a closed port fail: the ceiling doubles with each of them.
      await waitUntil(() => delays.length >= before + 4, { what: 'four failed attempts', seen: () => JSON.stringify(delays), pollMs: 5 });
      const down = delays.slice(before, before + 4);
      expect(down[0]).toBeLessThan(min);
      expect(down[3]).toBeGreaterThanOrEqual(4 * min); // grown: 8 * min ceiling, minus the time it took to report
      server = await serve({ dataDir, port: server.port });
      await whenState(alice, 'connected');
    }
    // After the last welcome, the next loss waits at most the minimum again.
    const before = delays.length;
    await stop(server);
    await waitUntil(() => delays.length > before, { what: 'a retry', pollMs: 5 });
    expect(delays[before]).toBeLessThan(min);
  });

  it('drains 140 queued sends right after the server is back: in order, once each, none rate-limited', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const first = await serve({ dataDir });
    const alice = await connect(first.wsUrl, { name: 'Alice' }, clients);
    const room = await alice.create({ room: 'tunnel' });
    await room.send('before');
    const limited: string[] = [];
    alice.on('error', (e) => {
      if (e.error.code === 'rate_limited') limited.push(e.error.message);
    });
    await stop(first);
    await waitUntil(() => alice.state === 'connecting', { what: 'the client to notice', on: (wake) => alice.on('state', wake) });
    const texts = Array.from({ length: 140 }, (_, i) => `queued ${i}`);
    let acked = 0;
    let lastAck = 0;
    const sends = texts.map((t) =>
      room.send(t).then((r) => {
        acked++;
        lastAck = performance.now();
        return r;
      }),
    );
    let welcomedAt = 0;
    alice.on('state', (s) => {
      if (s.state === 'connected') welcomedAt = performance.now();
    });
    const second = await serve({ dataDir, port: first.port });
    const results = await Promise.all(sends);
    expect(acked).toBe(140);
    expect(results.map((r) => r.seq)).toEqual(texts.map((_, i) => i + 2));
    expect(results.some((r) => r.duplicate)).toBe(false);
    expect(limited).toEqual([]);
    expect(second.core.stats.rateLimited).toBe(0);
    const history = await room.history({ limit: 200 });
    expect(history.messages.map((m) => m.text)).toEqual(['before', ...texts]);
    expect(new Set(history.messages.map((m) => m.id)).size).toBe(141);
    // A measurement, not an assertion: paced at 20 frames/s this took about 6 s.
    console.log(`[recovery] 140 queued sends: last ack ${(lastAck - welcomedAt).toFixed(1)} ms after welcome`);
  });
});
