import { existsSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { clientBundleFile, serveClientBundle } from '../src/http/client-bundle.js';
import { serverPerSuite } from './helpers.js';

// GET /roomcast-client.js: the SDK's <script> build, from the server a page talks to, cached an
// hour and revalidated by ETag. The real server serves the bundle `npm run build` wrote.

describe('GET /roomcast-client.js', () => {
  const server = serverPerSuite();
  const url = () => `http://127.0.0.1:${server.port}/roomcast-client.js`;

  it('serves the built bundle as JavaScript with caching headers, and 304 on If-None-Match', async () => {
    const file = clientBundleFile();
    expect(existsSync(file), `${file} is built by npm run build`).toBe(true);
    const r = await fetch(url(), { headers: { 'accept-encoding': 'identity' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(r.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    const etag = r.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]{20,}"$/);
    const body = Buffer.from(await r.arrayBuffer());
    expect(body.equals(readFileSync(file))).toBe(true);
    expect(body.toString('utf8')).toContain('var Roomcast=');

    const again = await fetch(url(), { headers: { 'if-none-match': String(etag) } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(again.headers.get('cache-control')).toBe('public, max-age=3600');
    expect((await again.arrayBuffer()).byteLength).toBe(0);

    const stale = await fetch(url(), { headers: { 'if-none-match': '"something-else"', 'accept-encoding': 'identity' } });
    expect(stale.status).toBe(200);
  });

  it('sends it gzipped to clients that take gzip', async () => {
    const res = await new Promise<{ status: number; encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      // node:http, not fetch: fetch would decompress and hide the encoding.
      get(url(), { headers: { 'accept-encoding': 'gzip' } }, (msg) => {
        const chunks: Buffer[] = [];
        msg.on('data', (c: Buffer) => chunks.push(c));
        msg.on('end', () => resolve({ status: msg.statusCode ?? 0, encoding: msg.headers['content-encoding'], body: Buffer.concat(chunks) }));
      }).on('error', reject);
    });
    expect(res.status).toBe(200);
    expect(res.encoding).toBe('gzip');
    expect(gunzipSync(res.body).equals(readFileSync(clientBundleFile()))).toBe(true);
  });

  it('answers 404 with what to do when the bundle was not built', async () => {
    const app = Fastify();
    expect(serveClientBundle(app, join('/nonexistent', 'roomcast-client.js'))).toBe(false);
    const r = await app.inject({ url: '/roomcast-client.js' });
    await app.close();
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ error: { code: 'not_found', message: expect.stringContaining('npm run build') } });
  });
});
