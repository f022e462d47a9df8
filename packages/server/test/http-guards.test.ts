import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/services.js';
import { removeDir, serversPerTest, tempDir } from './helpers.js';

// The HTTP side's guards (issue "One request must never kill the server"): a rate limit per
// client address on the API, a token for /metrics and /api/stats, and a listener of their own.

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A GET over node:http, so the request can leave from another loopback address (`localAddress`):
 * Linux routes all of 127/8 to lo, so 127.0.0.2 is a second client on the same machine.
 */
function get(url: string, opts: { from?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: opts.headers ?? {}, ...(opts.from ? { localAddress: opts.from } : {}), agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends `n` requests one after another and returns their statuses. */
async function statuses(n: number, url: string, opts: Parameters<typeof get>[1] = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await get(url, opts)).status);
  return out;
}

const TOKEN = 'metrics-token-0123456789';
/** The built `roomcast` command, as `npx roomcast` runs it. */
const BIN = fileURLToPath(new URL('../bin/roomcast.js', import.meta.url));

describe('HTTP rate limit per client address (--http-rate)', () => {
  const start = serversPerTest();

  it('answers a burst over twice the rate with 429, Retry-After and the JSON error; other addresses go on', async () => {
    // 2 a second, bursts of 4. The window is 2 s: these requests all fall in the first one.
    const server = await start({ httpRate: 2 });
    const url = `${server.url}/api/client-config`;
    expect(await statuses(4, url)).toEqual([200, 200, 200, 200]);
    const refused = await get(url);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(2);
    expect(refused.headers['content-type']).toContain('application/json');
    const body = JSON.parse(refused.body) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('rate_limited');
    expect(body.error.message).toMatch(/2 a second.*retry in \d s/);
    // Every /api route shares the address's budget: the files route is refused too.
    expect((await get(`${server.url}/api/rooms/lobby/files/1`)).status).toBe(429);
    // Another client address is not affected.
    expect(await statuses(4, url, { from: '127.0.0.2' })).toEqual([200, 200, 200, 200]);
    // Refusals are counted (read from a third address, whose budget is untouched).
    const stats = JSON.parse((await get(`${server.url}/api/stats`, { from: '127.0.0.3' })).body) as { httpRateLimited: number };
    expect(stats.httpRateLimited).toBe(2);
  });

  it('never limits /healthz, /readyz or the page at /', async () => {
    const server = await start({ httpRate: 1 });
    expect(await statuses(3, `${server.url}/api/client-config`)).toEqual([200, 200, 429]);
    expect(new Set(await statuses(20, `${server.url}/healthz`))).toEqual(new Set([200]));
    expect(new Set(await statuses(5, `${server.url}/readyz`))).toEqual(new Set([200]));
    expect(new Set(await statuses(5, `${server.url}/`))).toEqual(new Set([200]));
    // /api is still refused: the unlimited routes did not reset anything.
    expect((await get(`${server.url}/api/client-config`)).status).toBe(429);
  });

  it('keys on the X-Forwarded-For address with --trust-proxy 1, as the WebSocket limits do', async () => {
    const server = await start({ httpRate: 2, trustProxy: 1 });
    const url = `${server.url}/api/client-config`;
    const as = (xff: string) => ({ headers: { 'x-forwarded-for': xff } });
    expect(await statuses(4, url, as('203.0.113.7'))).toEqual([200, 200, 200, 200]);
    expect((await get(url, as('203.0.113.7'))).status).toBe(429);
    // Entries left of the proxy's are the client's own writing: no way around the limit.
    expect((await get(url, as('198.51.100.1, 203.0.113.7'))).status).toBe(429);
    // Same TCP peer (127.0.0.1), another forwarded client: its own budget.
    expect(await statuses(4, url, as('203.0.113.8'))).toEqual([200, 200, 200, 200]);
  });

  it('is off with --http-rate 0', async () => {
    const server = await start({ httpRate: 0 });
    expect(new Set(await statuses(30, `${server.url}/api/client-config`))).toEqual(new Set([200]));
  });
});

describe('/metrics and /api/stats guards', () => {
  const start = serversPerTest();

  it('want the --metrics-token as a bearer token: 401 without it or with a wrong one, 200 with it', async () => {
    const server = await start({ metricsToken: TOKEN });
    for (const path of ['/metrics', '/api/stats']) {
      const none = await get(`${server.url}${path}`);
      expect(none.status, path).toBe(401);
      expect(none.headers['www-authenticate']).toContain('Bearer');
      expect(JSON.parse(none.body)).toMatchObject({ error: { code: 'unauthorized', message: expect.stringContaining('--metrics-token') } });
      const wrong = await get(`${server.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}x` } });
      expect(wrong.status, path).toBe(401);
      expect(JSON.parse(wrong.body)).toMatchObject({ error: { code: 'unauthorized' } });
      const short = await get(`${server.url}${path}`, { headers: { authorization: 'Bearer x' } });
      expect(short.status, path).toBe(401);
    }
    const metrics = await get(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^roomcast_connections 0$/m);
    const stats = await get(`${server.url}/api/stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(stats.status).toBe(200);
    expect(JSON.parse(stats.body)).toMatchObject({ connections: 0 });
    // The token guards those two only.
    expect((await get(`${server.url}/api/client-config`)).status).toBe(200);
    expect((await get(`${server.url}/healthz`)).status).toBe(200);
  });

  it('serve both on --metrics-address and 404 them on the main port; the listener closes with the server', async () => {
    const port = await freePort();
    const server = await start({ metricsAddress: `127.0.0.1:${port}`, metricsToken: TOKEN });
    const side = `http://127.0.0.1:${port}`;
    const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
    const metrics = await get(`${side}/metrics`, auth);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('roomcast_http_rate_limited_total 0');
    expect(JSON.parse((await get(`${side}/api/stats`, auth)).body)).toMatchObject({ connections: 0, roomsStored: 0 });
    expect((await get(`${side}/metrics`)).status).toBe(401);
    // Only those two there; and not there on the main port.
    expect((await get(`${side}/healthz`)).status).toBe(404);
    for (const path of ['/metrics', '/api/stats']) {
      const main = await get(`${server.url}${path}`, auth);
      expect(main.status, path).toBe(404);
      expect(JSON.parse(main.body)).toMatchObject({ error: { code: 'not_found' } });
    }
    expect((await get(`${server.url}/healthz`)).status).toBe(200);
    await server.close();
    await expect(get(`${side}/metrics`, auth)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

});

describe('roomcast serve --metrics-address', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) removeDir(d);
  });
  const serve = (...args: string[]) => {
    const data = tempDir();
    dirs.push(data);
    return spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', data, '--log-level', 'silent', ...args]);
  };

  it('prints the metrics listener\'s URLs at start', async () => {
    const port = await freePort();
    const child = serve('--metrics-address', `127.0.0.1:${port}`);
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('data:')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`roomcast exited with ${code}`)));
      });
      expect(out).toContain(`metrics:   http://127.0.0.1:${port}/metrics`);
      expect(out).toContain(`stats:     http://127.0.0.1:${port}/api/stats`);
      expect((await get(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('stops with a clear error when the address cannot be bound', async () => {
    const port = await freePort();
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    const child = serve('--metrics-address', `127.0.0.1:${port}`);
    try {
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(2);
      expect(err).toContain(`--metrics-address 127.0.0.1:${port}: cannot listen (EADDRINUSE)`);
    } finally {
      child.kill('SIGKILL');
      holder.close();
    }
  });
});

describe('/api/stats under a flood', () => {
  const start = serversPerTest();

  it('counts the stored rooms at most once per few seconds, however many requests come', async () => {
    const server = await start({ httpRate: 0 });
    const alice = await server.connect({ name: 'Alice' });
    await alice.ok('create', { room: 'counted' });
    const store = server.store;
    const count = store.countRooms.bind(store);
    let calls = 0;
    store.countRooms = () => {
      calls++;
      return count();
    };
    const one = async () => JSON.parse((await get(`${server.url}/api/stats`)).body) as { roomsStored: number };
    const answers = await Promise.all(Array.from({ length: 20 }, one));
    for (const a of answers) expect(a.roomsStored).toBe(1);
    expect((await one()).roomsStored).toBe(1);
    expect(calls).toBe(1);
    await alice.close();
  });
});
