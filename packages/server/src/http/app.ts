import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import type { Authenticator } from '../auth/authenticator.js';
import { registerAdminRoutes } from './admin-api.js';
import { registerApiRoutes } from './api.js';
import { loadApiKeys } from './api-keys.js';
import { adminGuard, keyGuard } from './admin-guard.js';
import { idempotentWrites } from './idempotency.js';
import { registerOpenApi } from './openapi.js';
import { registerMessageRoutes } from './server-api-messages.js';
import { registerModerationRoutes, type MintSettings } from './server-api-moderation.js';
import type { Broker } from '../broker/broker.js';
import { parseHostPort } from '../config.js';
import type { Core } from '../core/core.js';
import type { Store } from '../store/store.js';
import { serveClientBundle } from './client-bundle.js';
import { answerErrorsAsJson } from './errors.js';
import { registerFileRoutes } from './files.js';
import { createMetrics, HttpStats } from './metrics.js';
import { listenApart } from './metrics-listener.js';
import { registerMonitoringRoutes } from './monitoring.js';
import { limitPerAddress } from './rate-limit.js';
import { serveWebUi } from './web.js';
import { addWebhookMetrics, registerWebhookStatus, type WebhookStatusSource } from './webhook-status.js';

/** How long /readyz waits for each dependency's ping before it counts as down. */
const READY_CHECK_MS = 1000;

export interface HttpDeps {
  core: Pick<Core, 'stats' | 'registry' | 'delivery' | 'membership' | 'config' | 'log' | 'store' | 'broker' | 'now' | 'directory' | 'moderation'>;
  store: Store;
  broker: Broker;
  auth: Authenticator;
  log: PinoLogger;
  connectionCount: () => number;
  /** Server-side API key; empty turns that API off. */
  apiKey: string;
  /** --api-keys FILE: scoped keys (http/api-keys.ts); empty: none. */
  apiKeysFile?: string | undefined;
  /** What POST /api/users/:user/token signs with (--jwt-secret); absent: minting is off. */
  mint?: MintSettings | undefined;
  /** PEM certificate and key: serve https (and so wss). */
  tls?: { cert: Buffer; key: Buffer } | undefined;
  /** The built web UI to serve at `/` (default packages/web/dist); without one, a landing page. */
  webDir?: string | undefined;
  /** --http-rate: requests a second per client address on the API, bursts of twice that; 0: off. */
  httpRate: number;
  /** --trust-proxy: how the client address (the rate limit's key) is found. */
  trustProxy: number;
  /** --metrics-token: what /metrics and /api/stats want as a bearer token; empty: open. */
  metricsToken: string;
  /** --metrics-address HOST:PORT: serve /metrics and /api/stats there, not on the main port; empty: here. */
  metricsAddress: string;
  /** Webhooks (webhook-status.ts): status route and metrics; absent: none configured. */
  webhooks?: WebhookStatusSource | undefined;
}

/** Largest request head (request line + headers), for plain requests and WebSocket upgrades alike. */
export const MAX_HEADER_BYTES = 16 * 1024;

/**
 * The HTTP side of the port: health, readiness, stats, metrics, files, the server-side API and
 * the web UI at `/`; stats and metrics on a listener of their own with --metrics-address.
 */
export function buildHttp(deps: HttpDeps): FastifyInstance {
  // pino's Logger is a FastifyBaseLogger; the cast keeps the instance's type the plain default one.
  const tls = deps.tls;
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // On shutdown, cut HTTP connections too: a client that stopped reading a file must not hold it up.
    forceCloseConnections: true,
    // User ids are up to 128 characters, which percent-encoded can be 1,536 bytes of a path part.
    routerOptions: { maxParamLength: 2048 },
    // A malformed URL or an over-long path part: answered in our error shape like every other.
    frameworkErrors: (err, _req, reply) => {
      // (The option's reply type is generic over route schemas; this one has none.)
      void (reply as unknown as FastifyReply).code(err.statusCode ?? 400).send({ error: { code: 'bad_request', message: err.message } });
    },
    // Our own server, so the handshake size limit (and TLS) apply to the WebSocket upgrade too.
    serverFactory: (handler) =>
      (tls
        ? createHttpsServer({ cert: tls.cert, key: tls.key, maxHeaderSize: MAX_HEADER_BYTES }, handler)
        : createHttpServer({ maxHeaderSize: MAX_HEADER_BYTES }, handler)) as Server,
  });
  answerErrorsAsJson(app, deps.log as FastifyBaseLogger);
  // Before every route: the document is made from the routes as they are registered.
  registerOpenApi(app, '1');
  const keys = loadApiKeys(deps.apiKey, deps.apiKeysFile ?? '');
  const adminOnly = adminGuard(deps.auth, keys);
  // Routes other parts add under /api/webhooks/ (webhook-status.ts) get the admin guard and its scopes.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/webhooks/') && !route.onRequest) route.onRequest = adminOnly;
  });
  const http = new HttpStats();
  const limits = { rate: deps.httpRate, trustProxy: deps.trustProxy, onLimited: () => {
      http.rateLimited++;
    } };
  const monitoring = {
    core: deps.core,
    store: deps.store,
    connectionCount: deps.connectionCount,
    metrics: createMetrics(deps.core, deps.connectionCount, http),
    http,
    token: deps.metricsToken,
  };

  addWebhookMetrics(monitoring.metrics, deps.webhooks);

  // Not rate-limited: load balancers and orchestrators poll these, and they must keep answering
  // while a flood is being refused (a limited /healthz would get a busy node restarted).
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    // Never hangs: a check that has not answered within READY_CHECK_MS counts as down, and a
    // broker that already knows it lost Redis answers at once (no ping to wait for).
    const check = async (ping: () => Promise<void>) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`down: no answer within ${READY_CHECK_MS} ms`), READY_CHECK_MS)));
      const answer = Promise.resolve().then(ping).then(() => 'ok', (e: unknown) => `down: ${(e as Error).message}`);
      return Promise.race([answer, late]).finally(() => clearTimeout(timer));
    };
    const [store, broker] = await Promise.all([
      check(() => deps.store.ping()),
      deps.broker.available ? check(() => deps.broker.ping()) : 'down: the cluster broker lost its connection to Redis',
    ]);
    const ready = store === 'ok' && broker === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', store, broker });
  });

  // Not rate-limited either: the UI's built files touch no store, browsers cache them, and one
  // page load fetches several at once, which would eat a shared office address's budget.
  serveWebUi(app, deps.webDir);
  serveClientBundle(app);

  // Everything that does work per request, limited per client address (a scope of its own, so
  // the limit's hook applies to these routes only).
  const apart = deps.metricsAddress ? parseHostPort(deps.metricsAddress, '--metrics-address') : null;
  app.register(async (api) => {
    await limitPerAddress(api, limits);
    if (!apart) registerMonitoringRoutes(api, monitoring);
    // What the web UI needs to know before it connects: how users sign in.
    api.get('/api/client-config', async () => ({ auth: deps.auth.mode }));
    registerFileRoutes(api, deps.store, deps.auth);
    // The server API (docs/integration.md, "The server API"): Idempotency-Key on its writes.
    idempotentWrites(api, deps.store.idempotency(), deps.core.log);
    const messagesGuard = keyGuard(keys);
    registerApiRoutes(api, deps.core, messagesGuard);
    registerMessageRoutes(api, deps.core, messagesGuard);
    // Rooms and users for the admin page (an API key or an admin's token; admin-guard.ts).
    registerAdminRoutes(api, deps.core, adminOnly);
    registerModerationRoutes(api, deps.core, adminOnly, deps.mint ?? { secret: '', issuer: '', audience: '' });
    registerWebhookStatus(api, deps.webhooks);
  });
  if (apart) {
    listenApart(app, apart, deps.log as FastifyBaseLogger, async (side) => {
      await limitPerAddress(side, limits);
      registerMonitoringRoutes(side, monitoring);
    });
  }
  return app;
}
