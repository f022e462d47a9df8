import { spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { within } from '../../../test/wait.js';
import { effectiveMaxConnections, webSocketLimit } from '../src/gateway/fd-limit.js';
import { spawnServe } from './child-server.js';
import { removeDir, tempDir, TestClient } from './helpers.js';
import { exchange, httpGet, openRaw, parseResponse, upgradeHead, type RawSocket } from './raw-http.js';

// The overall connection cap, on a real `roomcast serve` under a file-descriptor limit of 400:
// WebSockets stop 32 short of the cap (503), so /healthz still answers; TCP connections beyond
// the cap are refused by Node itself; and the process never runs out of descriptors.

const NOFILE = 400;
const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;
const serveLimited = (args: string[]) => spawnServe(args, { prefix: ['prlimit', `--nofile=${NOFILE}:${NOFILE}`] });



/** Loopback addresses to spread clients over, so no per-address limit is what refuses them. */
const from = (i: number) => `127.0.0.${2 + (i % 8)}`;

describe.skipIf(!hasPrlimit)('the overall connection cap (prlimit --nofile=400)', () => {
  const dirs: string[] = [];
  const children: ChildProcessWithoutNullStreams[] = [];
  const clients: TestClient[] = [];
  const raws: RawSocket[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.ws.terminate();
    for (const r of raws.splice(0)) r.socket.destroy();
    for (const c of children.splice(0)) c.kill('SIGKILL');
    for (const d of dirs.splice(0)) removeDir(d);
  });

  it('answers upgrades past the cap with 503 and keeps answering /healthz', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const server = await serveLimited(['--port', '0', '--host', '127.0.0.1', '--data', dir, '--log-level', 'warn', '--handshake-timeout', '20000']);
    children.push(server.child);
    const maxConnections = effectiveMaxConnections(0, NOFILE);
    const maxWs = webSocketLimit(maxConnections);
    expect([maxConnections, maxWs]).toEqual([NOFILE - 256, NOFILE - 256 - 32]);
    const wsUrl = `ws://127.0.0.1:${server.port}/ws`;
    const httpUrl = `http://127.0.0.1:${server.port}`;

    const admitted = await Promise.all(
      Array.from({ length: maxWs }, (_, i) => TestClient.connect(wsUrl, { name: `c${i}` }, { localAddress: from(i) })),
    );
    clients.push(...admitted);

    // Past the WebSocket cap: 503 with Retry-After, from any address.
    for (let i = 0; i < 3; i++) {
      const res = parseResponse(await within(exchange(server.port, upgradeHead('/ws?name=late'), { from: from(i) }), 5000, 'a refused upgrade'));
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(res.headers.connection).toBe('close');
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'unavailable' } });
    }
    await expect(TestClient.open(wsUrl, { name: 'late' }, { localAddress: from(5) })).rejects.toThrow('HTTP 503');
    expect(await httpGet(`${httpUrl}/healthz`)).toMatchObject({ status: 200 });
    expect(await httpGet(`${httpUrl}/readyz`)).toMatchObject({ status: 200 });

    // The reserve is the HTTP side's; silent sockets filling it are held until the cap, then
    // Node refuses further TCP connections at once instead of running out of descriptors.
    const reserve = maxConnections - maxWs;
    for (let i = 0; i < reserve; i++) {
      const r = openRaw(server.port, { from: from(i) });
      raws.push(r);
      await r.connected;
    }
    const beyond = openRaw(server.port, { from: from(0) });
    raws.push(beyond);
    const refused = await within(beyond.closed, 5000, 'a connection beyond --max-connections being refused');
    expect(refused.received).toBe('');
    for (const r of raws.splice(0)) r.socket.destroy();
    await expect.poll(async () => (await httpGet(`${httpUrl}/healthz`).catch(() => ({ status: 0 }))).status, { timeout: 5000, interval: 50 }).toBe(200);

    // A WebSocket that leaves makes room for another; the server never stopped.
    await admitted[0]!.close();
    await expect
      .poll(async () => {
        try {
          const c = await TestClient.connect(wsUrl, { name: 'next' }, { localAddress: from(3) });
          clients.push(c);
          await c.ok('ping');
          return 'connected';
        } catch (err) {
          return (err as Error).message;
        }
      }, { timeout: 5000, interval: 50 })
      .toBe('connected');
    expect(server.child.exitCode).toBeNull();
    expect(server.stderr()).toContain('refused a WebSocket with 503');
    expect(server.stderr()).toContain('refused a TCP connection');
    expect(server.stderr()).not.toContain('EMFILE');
  });
});
