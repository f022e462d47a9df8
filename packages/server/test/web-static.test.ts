import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasWebUi, serveWebUi, WEB_DIST } from '../src/http/web.js';
import { removeDir, serverPerSuite, tempDir } from './helpers.js';

// The built web UI at `/`: hashed assets cached for a year, index.html revalidated, compressed
// (pre-compressed files from the build, anything else on the fly), and the landing page when
// there is no build.

const script = `console.log(${JSON.stringify('roomcast '.repeat(400))});\n`;
const data = JSON.stringify({ words: Array.from({ length: 300 }, (_, i) => `word-${i}`) });

function fakeBuild(): string {
  const dir = tempDir('roomcast-web-');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>roomcast</title><div id="app"></div><script type="module" src="/assets/index-abc123.js"></script>');
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), script);
  writeFileSync(join(dir, 'assets', 'index-abc123.js.br'), brotliCompressSync(script));
  writeFileSync(join(dir, 'assets', 'index-abc123.js.gz'), gzipSync(script));
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(dir, 'words.json'), data);
  return dir;
}

describe('web UI static files', () => {
  let dir: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = fakeBuild();
    app = Fastify();
    app.get('/healthz', async () => ({ status: 'ok' }));
    expect(serveWebUi(app, dir)).toBe('ui');
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    removeDir(dir);
  });

  it('serves index.html at / with no-cache and a strict content security policy', async () => {
    const r = await app.inject({ url: '/' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('text/html');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(String(r.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.body).toContain('<div id="app">');
    // Revalidation works: the same page again is a 304.
    const again = await app.inject({ url: '/', headers: { 'if-none-match': String(r.headers.etag) } });
    expect(again.statusCode).toBe(304);
  });

  it('caches hashed assets for a year and sends the pre-compressed files', async () => {
    const br = await app.inject({ url: '/assets/index-abc123.js', headers: { 'accept-encoding': 'br, gzip' } });
    expect(br.statusCode).toBe(200);
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(br.headers['content-encoding']).toBe('br');
    expect(String(br.headers.vary)).toMatch(/accept-encoding/i);
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(script);

    const gz = await app.inject({ url: '/assets/index-abc123.js', headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(script);

    const plain = await app.inject({ url: '/assets/index-abc123.js' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(script);
  });

  it('compresses files the build did not pre-compress, and caches unhashed files briefly', async () => {
    const r = await app.inject({ url: '/words.json', headers: { 'accept-encoding': 'gzip' } });
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(r.rawPayload).toString()).toBe(data);
    expect(r.headers['cache-control']).toBe('public, max-age=3600');
    const icon = await app.inject({ url: '/favicon.svg' });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['cache-control']).toBe('public, max-age=3600');
  });

  it('leaves the other routes alone: no compression there, unknown paths 404', async () => {
    const h = await app.inject({ url: '/healthz', headers: { 'accept-encoding': 'gzip' } });
    expect(h.json()).toEqual({ status: 'ok' });
    expect(h.headers['content-encoding']).toBeUndefined();
    expect((await app.inject({ url: '/assets/nope.js' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/../package.json' })).statusCode).toBe(404);
  });

  it('falls back to the landing page when the UI is not built', async () => {
    const empty = tempDir('roomcast-noweb-');
    const bare = Fastify();
    try {
      expect(serveWebUi(bare, empty)).toBe('landing');
      const r = await bare.inject({ url: '/' });
      expect(r.statusCode).toBe(200);
      expect(r.body).toContain('/ws?name=');
    } finally {
      await bare.close();
      removeDir(empty);
    }
  });
});

describe.skipIf(!hasWebUi())('the server with the built UI', () => {
  const server = serverPerSuite();

  it('serves the app at / beside the API, metrics and health', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    expect(html).toContain('<div id="app">');
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset, `no script in ${WEB_DIST}index.html`).toBeTruthy();
    const js = await fetch(`${server.url}${asset}`, { headers: { 'accept-encoding': 'br' } });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-encoding')).toBe('br');
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(((await (await fetch(`${server.url}/api/stats`)).json()) as { connections: number }).connections).toBe(0);
    expect(await (await fetch(`${server.url}/metrics`)).text()).toContain('roomcast_connections');
    expect(await (await fetch(`${server.url}/api/client-config`)).json()).toEqual({ auth: 'guest' });
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
  });
});
