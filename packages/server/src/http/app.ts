import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import type { GuestTokens } from '../auth/guest.js';
import type { Broker } from '../broker/broker.js';
import type { ChatService } from '../core/chat.js';
import type { Store } from '../store/store.js';
import { registerFileRoutes } from './files.js';
import { landingPage } from './landing.js';
import { createMetrics } from './metrics.js';

export interface HttpDeps {
  chat: ChatService;
  store: Store;
  broker: Broker;
  guests: GuestTokens;
  log: PinoLogger;
  connectionCount: () => number;
}

/** The HTTP side of the port: health, readiness, stats, metrics, files, and the page at `/`. */
export function buildHttp(deps: HttpDeps): FastifyInstance {
  // pino's Logger is a FastifyBaseLogger; the cast keeps the instance's type the plain default one.
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
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

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(landingPage()));

  registerFileRoutes(app, deps.store, deps.guests);
  return app;
}
