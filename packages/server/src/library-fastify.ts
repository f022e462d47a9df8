import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Mount, mountedUrl, routeClaimer, upgradesFor } from './library-mount.js';

/**
 * Mounts inside a Fastify application, in the scope of `app.register(roomcastPlugin, { prefix })`:
 * one catch-all route under the prefix hands roomcast's requests, untouched (the scope parses no
 * bodies), to roomcast's own Fastify instance; any other path under it is the app's 404. Routes
 * the app itself declares under the prefix win over the catch-all (Fastify prefers static routes).
 */
export function fastifyMount(scope: FastifyInstance, prefix: string, webUi: boolean): Mount & { readonly url: string | undefined } {
  const wsPath = `${prefix}/ws`;
  const claim = routeClaimer(prefix, webUi);
  let inner: FastifyInstance | null = null;
  // Bodies stay in the request stream for roomcast's instance to read (and limit) itself.
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
  const forward = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const path = inner ? claim(req.raw.url) : null;
    if (path === null || !inner) return reply.callNotFound();
    reply.hijack();
    req.raw.url = path;
    inner.routing(req.raw, reply.raw);
  };
  // At the root, `/` is roomcast's only with the web UI (else the app's own `/` would clash).
  if (prefix !== '' || webUi) scope.all('/', forward);
  scope.all('/*', forward);
  let onUpgrade: ReturnType<typeof upgradesFor> | null = null;
  return {
    wsPath,
    get url() {
      return mountedUrl(scope.server, prefix);
    },
    async attach(http, upgrade) {
      await http.ready();
      inner = http;
      onUpgrade = upgradesFor(scope.server, wsPath, upgrade);
      scope.server.on('upgrade', onUpgrade);
      return { url: mountedUrl(scope.server, prefix) ?? '', port: 0 };
    },
    detach() {
      inner = null;
      if (onUpgrade) scope.server.off('upgrade', onUpgrade);
      onUpgrade = null;
    },
  };
}
