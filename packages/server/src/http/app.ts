import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import type { Authenticator } from '../auth/authenticator.js';
import { registerApiRoutes } from './api.js';
import type { Broker } from '../broker/broker.js';
import type { ChatService } from '../core/chat.js';
import type { Store } from '../store/store.js';
import { registerFileRoutes } from './files.js';
import { createMetrics } from './metrics.js';
import { serveWebUi } from './web.js';

export interface HttpDeps {
  chat: ChatService;
  store: Store;
  broker: Broker;
  auth: Authenticator;
  log: PinoLogger;
  connectionCount: () => number;
  /** Server-side API key; empty turns that API off. */
  apiKey: string;
  /** PEM certificate and key: serve https (and so wss). */
  tls?: { cert: Buffer; key: Buffer } | undefined;
  /** The built web UI to serve at `/` (default packages/web/dist); without one, a landing page. */
  webDir?: string | undefined;
}

/** Largest request head (request line + headers), for plain requests and WebSocket upgrades alike. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** The HTTP side of the port: health, readiness, stats, metrics, files, and the web UI at `/`. */
export function buildHttp(deps: HttpDeps): FastifyInstance {
  // pino's Logger is a FastifyBaseLogger; the cast keeps the instance's type the plain default one.
  const tls = deps.tls;
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // On shutdown, cut HTTP connections too: a client that stopped reading a file must not hold it up.
    forceCloseConnections: true,
    // Our own server, so the handshake size limit (and TLS) apply to the WebSocket upgrade too.
    serverFactory: (handler) =>
      (tls
        ? createHttpsServer({ cert: tls.cert, key: tls.key, maxHeaderSize: MAX_HEADER_BYTES }, handler)
        : createHttpServer({ maxHeaderSize: MAX_HEADER_BYTES }, handler)) as Server,
  });
  // Errors in the same shape as the WebSocket side: {error: {code, message}}.
  app.setErrorHandler((err: { validation?: unknown; statusCode?: number; message: string }, _req, reply) => {
    if (err.validation) return reply.code(400).send({ error: { code: 'bad_request', message: err.message } });
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: { code: 'bad_request', message: err.message } });
    deps.log.error({ err }, 'HTTP request failed');
    return reply.code(500).send({ error: { code: 'internal', message: 'the server failed to handle this request; it was logged' } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } }),
  );
  const metrics = createMetrics(deps.chat, deps.connectionCount);

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const check = async (p: Promise<void>) => p.then(() => 'ok', (e: unknown) => `down: ${(e as Error).message}`);
    const [store, broker] = await Promise.all([check(deps.store.ping()), check(deps.broker.ping())]);
    const ready = store === 'ok' && broker === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', store, broker });
  });

  app.get('/api/stats', async () => {
    const s = deps.chat.stats;
    return {
      connections: deps.connectionCount(),
      onlineUsers: deps.chat.users.size,
      rooms: deps.chat.rooms.count,
      roomsStored: await deps.store.countRooms(),
      messagesIn: s.messagesIn,
      messagesOut: s.messagesOut,
      bytesOut: s.bytesOut,
      framesIn: s.framesIn,
      errors: s.errors,
      rateLimited: s.rateLimited,
      slowConsumers: s.slowConsumers,
      connectionsTotal: s.connectionsTotal,
      uptimeSec: Math.round((Date.now() - s.startedAt) / 1000),
    };
  });

  app.get('/metrics', async (_req, reply) => reply.header('content-type', metrics.contentType).send(await metrics.metrics()));

  // What the web UI needs to know before it connects: how users sign in.
  app.get('/api/client-config', async () => ({ auth: deps.auth.mode }));

  serveWebUi(app, deps.webDir);

  registerFileRoutes(app, deps.store, deps.auth);
  registerApiRoutes(app, deps.chat, deps.apiKey);
  return app;
}
