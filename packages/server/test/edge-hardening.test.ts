import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { events, waitUntil, within } from '../../../test/wait.js';
import { selfSignedCert } from './child-server.js';
import { removeDir, serversPerTest, tempDir, TestClient, type TestServer } from './helpers.js';
import { exchange, httpGet, openRaw, parseResponse, upgradeHead, type RawSocket } from './raw-http.js';

// What one unauthenticated client can do before it has a WebSocket: malformed upgrades get an
// HTTP error and never reach the process; slow or silent sockets are dropped; one address can
// hold only so many sockets that have not sent a request yet.

/** The server still serves HTTP and a real client. */
async function stillServes(server: TestServer): Promise<void> {
  expect(await httpGet(`${server.url}/healthz`)).toMatchObject({ status: 200 });
  const client = await server.connect({ name: 'Probe' });
  await client.ok('ping');
  await client.close();
}

describe('malformed upgrades', () => {
  const start = serversPerTest();

  it.each(['http://[', '//[/ws', 'http://a:b/ws', 'http://%zz/ws', 'http://a:99999/ws'])(
    'answers the request target %s with 400 and keeps serving',
    async (target) => {
      const server = await start();
      const res = parseResponse(await within(exchange(server.port, upgradeHead(target)), 5000, 'the answer'));
      expect(res.status).toBe(400);
      expect(res.headers.connection).toBe('close');
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'bad_request' } });
      await stillServes(server);
    },
  );

  it('accepts the absolute form of /ws, and sends other paths 404', async () => {
    const server = await start();
    expect(parseResponse(await exchange(server.port, upgradeHead('/nope'))).status).toBe(404);
    const ok = openRaw(server.port);
    ok.socket.write(upgradeHead(`http://127.0.0.1:${server.port}/ws?name=Abs`));
    await waitUntil(() => ok.received().includes('"welcome"'), { what: 'welcome', seen: () => JSON.stringify(ok.received().slice(0, 300)), timeoutMs: 5000, on: events(ok.socket, 'data') });
    expect(ok.received()).toMatch(/^HTTP\/1\.1 101 /);
    ok.socket.destroy();
  });

  it('refuses bad handshakes with an HTTP error and Connection: close', async () => {
    const server = await start();
    const cases: Array<[string, number]> = [
      [upgradeHead('/ws', { 'Sec-WebSocket-Key': 'short' }), 400],
      [upgradeHead('/ws', { 'Sec-WebSocket-Key': null }), 400],
      [upgradeHead('/ws', { 'Sec-WebSocket-Version': '12' }), 400],
      [upgradeHead('/ws', { 'Sec-WebSocket-Version': null }), 400],
      [upgradeHead('/ws', { Upgrade: 'h2c' }), 400],
      [upgradeHead('/ws', { Host: null }), 400],
      [upgradeHead('/ws', {}, 'POST'), 405],
    ];
    for (const [head, status] of cases) {
      const res = parseResponse(await within(exchange(server.port, head), 5000, head));
      expect(res.status, head).toBe(status);
      expect(res.headers.connection, head).toBe('close');
    }
    expect(parseResponse(await exchange(server.port, upgradeHead('/ws', { 'Sec-WebSocket-Version': '8' }))).headers['sec-websocket-version']).toBe('13');
    await stillServes(server);
  });

  it('closes a refused upgrade itself even when the client keeps its side open', async () => {
    const server = await start();
    // The raw client never ends its side: the close is the server's.
    for (const head of [upgradeHead('/elsewhere'), upgradeHead('http://[')]) {
      const closed = await within(exchange(server.port, head), 5000, `the server closing after ${head.split('\r\n')[0]}`);
      expect(closed).toMatch(/^HTTP\/1\.1 4\d\d /);
    }
  });
});

describe('sockets that have not sent a request head', () => {
  const start = serversPerTest();
  const TIMEOUT = 300;

  it('drops a silent socket after the handshake timeout', async () => {
    const server = await start({ handshakeTimeoutMs: TIMEOUT });
    const silent = openRaw(server.port);
    const { afterMs } = await within(silent.closed, 10_000, 'the server dropping a silent socket');
    // Timers may fire a millisecond early against Date.now.
    expect(afterMs).toBeGreaterThanOrEqual(TIMEOUT - 2);
    await stillServes(server);
  });

  it('drops a socket that trickles its upgrade head, before the head is complete', async () => {
    const server = await start({ handshakeTimeoutMs: TIMEOUT });
    const head = upgradeHead('/ws?name=Slow');
    const slow = openRaw(server.port);
    await slow.connected;
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < head.length && !slow.socket.destroyed) slow.socket.write(head[sent++] as string);
    }, 20);
    try {
      const { afterMs, received } = await within(slow.closed, 10_000, 'the server dropping a trickling socket');
      expect(afterMs).toBeGreaterThanOrEqual(TIMEOUT - 2);
      expect(sent).toBeLessThan(head.length);
      expect(received).not.toContain('101 Switching Protocols');
    } finally {
      clearInterval(drip);
    }
  });

  it('leaves alone a WebSocket that upgraded in time, however long it lives', async () => {
    const server = await start({ handshakeTimeoutMs: TIMEOUT });
    const client = await server.connect({ name: 'Stays' });
    // Proving that something does not happen takes waiting past the moment it would have.
    await new Promise((r) => setTimeout(r, TIMEOUT * 3));
    await client.ok('ping');
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });

  it('drops sockets beyond --max-pending-per-ip from one address at once; others are not affected', async () => {
    const cap = 5;
    const server = await start({ maxPendingPerIp: cap, handshakeTimeoutMs: 20_000 });
    const held: RawSocket[] = [];
    for (let i = 0; i < cap; i++) {
      const s = openRaw(server.port);
      await s.connected;
      held.push(s);
    }
    // Held sockets are admitted one by one: a request on the server side proves the last one was seen.
    expect(await httpGet(`${server.url}/healthz`, { from: '127.0.0.2' })).toMatchObject({ status: 200 });
    const extras = Array.from({ length: 5 }, () => openRaw(server.port));
    for (const e of extras) {
      const { afterMs, received } = await within(e.closed, 5000, 'an extra socket being dropped');
      expect(afterMs).toBeLessThan(2000);
      expect(received).toBe('');
    }
    expect(held.every((s) => !s.socket.destroyed)).toBe(true);
    // Another address is not affected by this one's pending sockets.
    const other = await TestClient.connect(server.wsUrl, { name: 'Elsewhere' }, { localAddress: '127.0.0.3' });
    await other.ok('ping');
    // Once the held ones are gone, this address connects again.
    for (const s of held) s.socket.destroy();
    await expect
      .poll(async () => {
        try {
          const c = await TestClient.connect(server.wsUrl, { name: 'Back' });
          await c.close();
          return 'connected';
        } catch (err) {
          return (err as Error).message;
        }
      }, { timeout: 5000, interval: 50 })
      .toBe('connected');
  });

  it('does not cap pending sockets per address behind a trusted proxy (all come from its address)', async () => {
    const cap = 3;
    const server = await start({ maxPendingPerIp: cap, trustProxy: 1, handshakeTimeoutMs: 20_000 });
    const held = Array.from({ length: cap + 5 }, () => openRaw(server.port));
    await Promise.all(held.map((s) => s.connected));
    // The answer to a later connection means every earlier one was admitted (or dropped) by now.
    expect(await httpGet(`${server.url}/healthz`)).toMatchObject({ status: 200 });
    expect(held.filter((s) => s.socket.destroyed || s.socket.readableEnded)).toHaveLength(0);
    for (const s of held) s.socket.destroy();
  });
});

describe('the handshake timeout over TLS', () => {
  const start = serversPerTest();
  const dir = tempDir();
  afterAll(() => removeDir(dir));
  const TIMEOUT = 300;

  it('drops a socket that never starts TLS, and keeps a wss client that upgraded', async () => {
    const { cert, key } = selfSignedCert(dir);
    const server = await start({ tlsCert: cert, tlsKey: key, handshakeTimeoutMs: TIMEOUT });
    const silent = openRaw(server.port);
    expect((await within(silent.closed, 10_000, 'the server dropping a silent socket')).afterMs).toBeGreaterThanOrEqual(TIMEOUT - 2);
    // The timer belongs to the TCP socket; the upgrade arrives on the TLS socket over it.
    const client = await TestClient.connect(`wss://127.0.0.1:${server.port}/ws`, { name: 'Tls' }, { ca: readFileSync(cert) });
    await new Promise((r) => setTimeout(r, TIMEOUT * 3));
    await client.ok('ping');
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });
});
