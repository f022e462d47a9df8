import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { selfSignedCert } from './child-server.js';
import { removeDir, serverPerSuite, serversPerTest, startTestServer, tempDir, TestClient } from './helpers.js';
import { hs256, SECRET } from './tokens.js';

describe('transport security', () => {
  const start = serversPerTest();

  it('by default admits non-browser clients and same-origin pages, and closes cross-origin upgrades with 4403', async () => {
    const server = await start({});
    const origin = `http://127.0.0.1:${server.port}`;
    await server.connect({ name: 'NoOrigin' });
    await server.connect({ name: 'Same' }, { origin });
    const evil = await TestClient.open(server.wsUrl, { name: 'Evil' }, { origin: 'https://evil.example' });
    const closed = await evil.closed;
    expect(closed.code).toBe(4403);
    expect(closed.reason).toContain('evil.example');
    expect(evil.frames).toEqual([]);
  });

  it('admits exactly the listed origins with --allowed-origins', async () => {
    const server = await start({ allowedOrigins: 'https://chat.example.com, https://app.example.com' });
    await server.connect({ name: 'A' }, { origin: 'https://app.example.com' });
    await server.connect({ name: 'B' });
    for (const origin of ['https://evil.example', `http://127.0.0.1:${server.port}`, 'https://chat.example.com.evil.example']) {
      const c = await TestClient.open(server.wsUrl, { name: 'X' }, { origin });
      expect((await c.closed).code, origin).toBe(4403);
    }
  });

  it('takes the client address from X-Forwarded-For only with --trust-proxy', async () => {
    const trusting = await start({ trustProxy: 1, maxConnPerIp: 1 });
    const via = (ip: string) => ({ headers: { 'x-forwarded-for': `6.6.6.6, ${ip}` } });
    await trusting.connect({ name: 'A' }, via('203.0.113.1'));
    await trusting.connect({ name: 'B' }, via('203.0.113.2'));
    const again = await TestClient.open(trusting.wsUrl, { name: 'C' }, via('203.0.113.1'));
    expect((await again.closed).code).toBe(4429);

    const plain = await start({ maxConnPerIp: 1 });
    await plain.connect({ name: 'A' }, via('203.0.113.1'));
    const spoofed = await TestClient.open(plain.wsUrl, { name: 'B' }, via('203.0.113.2'));
    expect((await spoofed.closed).code).toBe(4429);
  });

  it('limits connections that have not authenticated yet, per address', async () => {
    const server = await start({ auth: 'jwt', jwtSecret: SECRET, maxUnauthPerIp: 2 });
    await TestClient.open(server.wsUrl);
    await TestClient.open(server.wsUrl);
    const third = await TestClient.open(server.wsUrl);
    const closed = await third.closed;
    expect(closed.code).toBe(4429);
    expect(closed.reason).toContain('unauthenticated');
    // An authenticated connection does not count against that limit.
    const ok = await TestClient.connect(server.wsUrl, { token: await hs256({ sub: 'ann' }) });
    await ok.barrier();
  });

  it('refuses an oversized handshake with 431', async () => {
    const server = await start({});
    const status = await new Promise<string>((resolve) => {
      const sock = netConnect(server.port, '127.0.0.1', () => {
        sock.write(
          `GET /ws?name=big HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Pad: ${'p'.repeat(20_000)}\r\n\r\n`,
        );
      });
      let got = '';
      sock.on('data', (d) => (got += d.toString()));
      sock.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
      sock.on('error', () => resolve(got.split('\r\n')[0] ?? ''));
    });
    expect(status).toContain('431');
  });
});

describe('TLS', () => {
  const dir = tempDir();
  let ca: Buffer;
  // Registered first, so it runs after the server has closed.
  afterAll(() => removeDir(dir));
  const server = serverPerSuite(() => {
    const { cert, key } = selfSignedCert(dir);
    ca = readFileSync(cert);
    return { tlsCert: cert, tlsKey: key };
  });

  it('serves wss and https with the given certificate', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const wss = `wss://127.0.0.1:${server.port}/ws`;
    const alice = await TestClient.connect(wss, { name: 'Alice' }, { ca });
    const bob = await TestClient.connect(wss, { name: 'Bob' }, { ca });
    await alice.ok('create', { room: 'tls' });
    await bob.ok('join', { room: 'tls' });
    await alice.ok('send', { room: 'tls', text: 'over TLS' });
    expect((await bob.next('msg')).text).toBe('over TLS');
    const body = await new Promise<string>((resolve, reject) => {
      httpsRequest(`${server.url}/healthz`, { ca }, (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve(b));
      }).on('error', reject).end();
    });
    expect(JSON.parse(body)).toEqual({ status: 'ok' });
    // A client that does not trust the certificate cannot connect.
    await expect(TestClient.open(wss, { name: 'Mallory' })).rejects.toThrow(/self.signed|certificate/i);
  });

  it('refuses to start with a certificate but no key, or an unreadable file', async () => {
    await expect(startTestServer({ tlsCert: join(dir, 'cert.pem') })).rejects.toThrow(/--tls-cert and --tls-key/);
    await expect(startTestServer({ tlsCert: join(dir, 'nope.pem'), tlsKey: join(dir, 'key.pem') })).rejects.toThrow(/cannot read/);
  });
});
