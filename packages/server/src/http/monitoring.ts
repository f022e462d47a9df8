import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { Store } from '../store/store.js';
import { sameKey } from './api.js';
import { cachedFor } from './cached.js';
import { problem } from './files.js';
import type { CountedCore, HttpStats } from './metrics.js';

// /api/stats and /metrics: on the main port, or on --metrics-address. With --metrics-token both
// want `Authorization: Bearer TOKEN` (Prometheus: `authorization: {credentials: TOKEN}`).

/** Stored rooms are a full count in the database; a few seconds stale is fine for a dashboard. */
export const ROOM_COUNT_TTL_MS = 5_000;

export interface MonitoringDeps {
  core: CountedCore;
  store: Store;
  connectionCount: () => number;
  metrics: Registry;
  http: HttpStats;
  /** Empty: open. */
  token: string;
}

/** The routes on `app`; call once per app (each call starts its own count cache). */
export function registerMonitoringRoutes(app: FastifyInstance, deps: MonitoringDeps): void {
  const roomsStored = cachedFor(ROOM_COUNT_TTL_MS, () => deps.store.countRooms());
  const token = deps.token;
  // A preHandler, so the rate limit (onRequest) counts guesses before the token is checked.
  const preHandler = token
    ? async (req: FastifyRequest, reply: FastifyReply) => {
        const h = req.headers.authorization;
        const given = h?.startsWith('Bearer ') ? h.slice(7).trim() : '';
        if (!given || !sameKey(given, token)) {
          reply.header('www-authenticate', 'Bearer realm="roomcast metrics"');
          return problem(reply, 401, 'unauthorized', 'send the metrics token (--metrics-token) as "Authorization: Bearer TOKEN"');
        }
      }
    : undefined;
  const guarded = preHandler ? { preHandler } : {};

  app.get('/api/stats', guarded, async () => {
    const s = deps.core.stats;
    return {
      connections: deps.connectionCount(),
      onlineUsers: deps.core.registry.userCount,
      rooms: deps.core.delivery.rooms.count,
      roomsStored: await roomsStored(),
      messagesIn: s.messagesIn,
      messagesOut: s.messagesOut,
      bytesOut: s.bytesOut,
      framesIn: s.framesIn,
      errors: s.errors,
      rateLimited: s.rateLimited,
      httpRateLimited: deps.http.rateLimited,
      slowConsumers: s.slowConsumers,
      connectionsTotal: s.connectionsTotal,
      uptimeSec: Math.round((Date.now() - s.startedAt) / 1000),
    };
  });

  app.get('/metrics', guarded, async (_req, reply) => reply.header('content-type', deps.metrics.contentType).send(await deps.metrics.metrics()));
}
