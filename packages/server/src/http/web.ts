import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCompress from '@fastify/compress';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { landingPage } from './landing.js';

// The web UI (packages/web, built by `npm run build` into packages/web/dist), served at `/`.
// Hashed files under /assets/ never change, so browsers keep them for a year; index.html is
// revalidated on every load so a new build is picked up at once. The build writes .br and .gz
// next to each asset (served as they are); anything else is compressed on the fly.

/** packages/web/dist, from packages/server/{src,dist}/http. */
/** ROOMCAST_WEB_DIST serves another build (tests that build the UI into a folder of their own). */
export const WEB_DIST = process.env.ROOMCAST_WEB_DIST ?? fileURLToPath(new URL('../../../web/dist/', import.meta.url));

const YEAR = 'public, max-age=31536000, immutable';

/** Whether `dir` holds a built UI. */
export function hasWebUi(dir: string = WEB_DIST): boolean {
  return existsSync(join(dir, 'index.html'));
}

/** Headers for the page itself: no caching, and no script or frame from anywhere but here. */
const PAGE_HEADERS: Record<string, string> = {
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
};

export async function registerWebUi(app: FastifyInstance, dir: string = WEB_DIST): Promise<void> {
  // Compression stays inside this plugin's scope: the UI's files only, not the API or metrics.
  await app.register(fastifyCompress, { global: true, threshold: 1024, encodings: ['br', 'gzip', 'deflate'] });
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    // One route per built file (listed at start-up) instead of a catch-all: no other route is shadowed.
    wildcard: false,
    index: ['index.html'],
    preCompressed: true,
    cacheControl: false,
    etag: true,
    lastModified: true,
    setHeaders(res, path) {
      const rel = path.slice(dir.length).split(sep).join('/').replace(/^\/+/, '');
      // The same URL may be sent brotli'd, gzipped or plain: shared caches must key on it.
      res.setHeader('vary', 'accept-encoding');
      if (rel.startsWith('assets/')) res.setHeader('cache-control', YEAR);
      else if (rel.endsWith('.html')) for (const [k, v] of Object.entries(PAGE_HEADERS)) res.setHeader(k, v);
      else res.setHeader('cache-control', 'public, max-age=3600');
    },
  });
}

/** The UI at `/` when it is built; otherwise the landing page that says how to connect. */
export function serveWebUi(app: FastifyInstance, dir: string = WEB_DIST): 'ui' | 'landing' {
  if (hasWebUi(dir)) {
    app.register((scope) => registerWebUi(scope, dir));
    return 'ui';
  }
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(landingPage()));
  return 'landing';
}
