import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { problem } from './files.js';

// The SDK's single-file ES2015 bundle (packages/client/dist/roomcast-client.js, global
// `Roomcast`) at /roomcast-client.js, for pages that load it with a plain <script> tag from the
// server they talk to. It is read once at start-up: the file only changes with a new build, and
// a restart picks that up. Its URL is not versioned, so browsers keep it an hour and then
// revalidate with the ETag (a 304 costs no bytes).

export const CLIENT_BUNDLE_PATH = '/roomcast-client.js';

const CACHE_CONTROL = 'public, max-age=3600';

/**
 * Where the bundle is: from the installed `@roomcast/client` package when there is one, else the
 * monorepo's packages/client/dist (from packages/server/{src,dist}/http).
 */
export function clientBundleFile(): string {
  try {
    return createRequire(import.meta.url).resolve('@roomcast/client/roomcast-client.js');
  } catch {
    return fileURLToPath(new URL('../../../client/dist/roomcast-client.js', import.meta.url));
  }
}

interface Bundle {
  body: Buffer;
  gzipped: Buffer;
  etag: string;
}

function load(file: string): Bundle | null {
  let body: Buffer;
  try {
    body = readFileSync(file);
  } catch {
    return null;
  }
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, gzipped: gzipSync(body, { level: 9 }), etag };
}

/** Whether an If-None-Match header names this ETag (or is `*`). */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === '*' || tag === etag;
  });
}

/** GET /roomcast-client.js; 404 `not_found` with how to build it when there is no bundle. */
export function serveClientBundle(app: FastifyInstance, file: string = clientBundleFile()): boolean {
  const bundle = load(file);
  app.get(CLIENT_BUNDLE_PATH, async (req, reply) => {
    if (!bundle) {
      return problem(reply, 404, 'not_found', `the client bundle is not built (no ${file} when the server started): run "npm run build", then restart the server`);
    }
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', CACHE_CONTROL)
      .header('etag', bundle.etag)
      .header('vary', 'accept-encoding')
      .header('x-content-type-options', 'nosniff')
      // Any page may load it with <script src>, as from a CDN.
      .header('access-control-allow-origin', '*')
      .header('cross-origin-resource-policy', 'cross-origin');
    if (matches(req.headers['if-none-match'], bundle.etag)) return reply.code(304).send();
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      return reply.header('content-encoding', 'gzip').send(bundle.gzipped);
    }
    return reply.send(bundle.body);
  });
  return bundle !== null;
}
