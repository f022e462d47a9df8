import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Authenticator } from './auth/authenticator.js';
import { GuestTokens } from './auth/guest.js';
import { JwtVerifier } from './auth/jwt.js';
import { hostname } from 'node:os';
import { MemoryBroker } from './broker/memory.js';
import { RedisBroker } from './broker/redis.js';
import { createRedisLink } from './broker/redis-connect.js';
import { randomId } from './core/ids.js';
import { openPostgresStore } from './store/postgres.js';
import type { Broker } from './broker/broker.js';
import { createCore, type Core } from './core/core.js';
import { DEFAULT_CHAT_CONFIG } from './core/config.js';
import { checkConfig, ConfigError, DEFAULT_CONFIG, parseOrigins, type ServerConfig } from './config.js';
import { Gateway } from './gateway/gateway.js';
import { buildHttp } from './http/app.js';
import { createLogger } from './log.js';
import { openSqliteStore, readSecretDespiteDamage } from './store/sqlite.js';
import { damageFields, describeDamage } from './store/integrity.js';
import { StoreDamagedError } from './store/guard.js';
import type { Store } from './store/store.js';
import type { Authorize } from './core/authorize.js';
import type { BeforeMessage } from './core/message-gate.js';
import { buildGates } from './gate/gates.js';
import type { Mount } from './library-mount.js';

import type { WebhookEndpoint } from './webhooks/index.js';
import { webhookEndpointsFrom } from './webhooks/config.js';
import { setUpWebhooks } from './webhooks/wiring.js';

/** In-process hooks of library mode (createRoomcast) and of embedders calling startServer. */
export interface StartExtras {
  beforeMessage?: BeforeMessage;
  authorize?: Authorize;
  webhookEndpoints?: WebhookEndpoint[];
  /** Library mode (library.ts): served through the application's own server, no port of its own. */
  mount?: Mount;
}

export interface RoomcastServer {
  /** `http://host:port` as bound (the real port when 0 was asked for). */
  readonly url: string;
  readonly port: number;
  readonly core: Core;
  readonly store: Store;
  /** Reads the --filter-words and --filter-patterns lists again (the CLI's SIGHUP); a bad list keeps the old ones, logged. */
  reloadFilter(): void;
  /** Graceful stop: refuse new connections, close clients with 1001, flush the store. */
  close(): Promise<void>;
}

const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Starts roomcast in embedded mode (SQLite + in-process broker). */
export async function startServer(options: Partial<ServerConfig> = {}, logger?: Logger, extras: StartExtras = {}): Promise<RoomcastServer> {
  // What a failed start had opened is closed again, newest first: a caller that catches the
  // error (library mode, tests) keeps no database connection, worker thread or timer of it.
  const undo: Array<() => unknown> = [];
  try {
    return await start(options, logger, extras, undo);
  } catch (err) {
    for (const step of undo.reverse()) await Promise.resolve().then(step).catch(() => undefined);
    throw err;
  }
}

async function start(options: Partial<ServerConfig>, logger: Logger | undefined, extras: StartExtras, undo: Array<() => unknown>): Promise<RoomcastServer> {
  const config: ServerConfig = { ...DEFAULT_CONFIG, ...options };
  checkConfig(config);
  const webhookEndpoints = [...webhookEndpointsFrom(config), ...(extras.webhookEndpoints ?? [])];
  const tls = config.tlsCert ? { cert: readPem(config.tlsCert, '--tls-cert'), key: readPem(config.tlsKey, '--tls-key') } : undefined;
  const jwt = config.auth === 'guest' ? null : openJwtVerifier(config);
  const log = logger ?? createLogger(config.logLevel);
  // Filter, hook URL, in-process hook: one chain; a list that cannot be loaded stops the start here.
  const gates = buildGates(config, log, extras.beforeMessage);
  undo.push(() => gates.close());
  const opened = await openStore(config, log);
  undo.push(() => opened.close());
  // With webhooks, the core's room and member writes carry their events (webhooks/wiring.ts).
  const webhooks = setUpWebhooks(opened, { endpoints: webhookEndpoints, maxAgeMs: config.webhookMaxAgeMs, timeoutMs: config.webhookTimeoutMs, unreachedDelayMs: config.unreachedDelayMs, clustered: Boolean(config.postgresUrl), nodeId: config.nodeId }, log);
  const store = webhooks?.store ?? opened;
  // Redis reconnects call back into the core, which is made after the broker.
  let coreRef: Core | undefined;
  let broker: Broker;
  if (config.redisUrl) {
    // Another cluster publishes on our channels (a shared Redis, the same prefix): its messages
    // are dropped; warn at most once a minute, with how many were dropped since the last warning.
    let foreignAt = 0;
    let foreignDropped = 0;
    const foreign = (other: string) => {
      foreignDropped++;
      if (Date.now() - foreignAt < 60_000) return;
      foreignAt = Date.now();
      log.warn({ cluster: other, dropped: foreignDropped, prefix: config.redisPrefix }, `dropped broker messages of another roomcast cluster on this Redis; give each cluster its own --redis-prefix (this one uses "${config.redisPrefix}")`);
      foreignDropped = 0;
    };
    const redis = new RedisBroker({
      link: (events) => createRedisLink(config.redisUrl.split(','), config.redisCluster === 'on', { timeoutMs: config.redisTimeoutMs }, events),
      prefix: config.redisPrefix,
      // Every node of a cluster shares one PostgreSQL database, so they agree on it.
      clusterId: await store.sharedSecret('cluster-id', randomId(16)),
      nodeId: config.nodeId || `${hostname()}-${process.pid}-${randomId(4)}`,
      leaseMs: config.presenceLeaseMs,
      onRecover: () => {
        log.info({}, 'broker connection recovered; catching up on missed messages');
        coreRef?.cluster.recover();
      },
      onError: (err) => log.warn({ err: err.message }, 'broker connection problem'),
      onForeign: foreign,
    });
    undo.push(() => redis.close());
    await redis.connect();
    broker = redis;
  } else {
    broker = new MemoryBroker();
  }
  const auth = new Authenticator(config.auth, await GuestTokens.open(store), jwt);
  const core = createCore({
    sweepMs: Math.max(100, Math.floor(config.presenceLeaseMs / 3)),
    store,
    broker,
    log,
    clustered: Boolean(config.redisUrl),
    ...(auth.acceptsTokens ? { verifyToken: (token: string) => auth.verifyToken(token) } : {}),
    ...(extras.authorize ? { authorize: extras.authorize } : {}),
    ...(gates.beforeMessage ? { beforeMessage: gates.beforeMessage } : {}),
    config: {
      ...DEFAULT_CHAT_CONFIG,
      maxText: config.maxText,
      maxBinary: config.maxBinary,
      ratePerSec: config.ratePerSec,
      heartbeatMs: config.heartbeatMs,
      sendBufferLimit: config.sendBufferLimit,
      guestsCreatePrivate: config.guestCreate === 'on',
      userRate: config.userRate,
      resumeBurst: config.resumeBurst,
      sendTimeoutMs: config.sendTimeoutMs,
      maxRoomsPerUser: config.maxRoomsPerUser,
      inviteRate: config.inviteRate,
      welcomeRooms: config.welcomeRooms,
      editWindowMs: config.editWindowMs,
      retentionDays: config.retentionDays,
      presenceGraceMs: config.presenceGraceMs,
      searchRate: config.searchRate,
    },
  });
  coreRef = core;
  undo.push(() => core.shutdown());
  await webhooks?.start((userId) => core.membership.isOnline(userId));
  undo.push(() => webhooks?.stop());
  const gateway = new Gateway(
    core,
    auth,
    {
      path: extras.mount?.wsPath ?? '/ws',
      maxConnPerIp: config.maxConnPerIp,
      maxUnauthPerIp: config.maxUnauthPerIp,
      heartbeatMs: config.heartbeatMs,
      maxText: config.maxText,
      maxBinary: config.maxBinary,
      authTimeoutMs: config.authTimeoutMs,
      allowedOrigins: parseOrigins(config.allowedOrigins),
      trustProxy: config.trustProxy,
      handshakeTimeoutMs: config.handshakeTimeoutMs,
      maxPendingPerIp: config.maxPendingPerIp,
      maxConnections: config.maxConnections,
    },
    log,
  );
  const app = buildHttp({
    core,
    store,
    broker,
    auth,
    log,
    apiKey: config.apiKey,
    apiKeysFile: config.apiKeys,
    mint: { secret: config.jwtSecret, issuer: config.jwtIssuer, audience: config.jwtAudience },
    tls,
    connectionCount: () => gateway.connectionCount,
    httpRate: config.httpRate,
    trustProxy: config.trustProxy,
    metricsToken: config.metricsToken,
    // Its listener binds in app.listen and closes in app.close (below).
    metricsAddress: config.metricsAddress,
    ...(webhooks ? { webhooks: { endpoints: webhooks.endpoints, stats: webhooks.stats, backlog: () => opened.outboxBacklog() } } : {}),
  });
  undo.push(() => app.close(), () => gateway.close());
  let bound: { url: string; port: number };
  if (extras.mount) {
    bound = await extras.mount.attach(app, gateway.handleUpgrade);
  } else {
    app.server.on('upgrade', gateway.handleUpgrade);
    gateway.guard(app.server);
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    bound = { url: `${tls ? 'https' : 'http'}://${host}:${address.port}`, port: address.port };
  }

  const prune = setInterval(() => {
    store.pruneDedup(Date.now() - core.config.dedupWindowMs).catch((err: unknown) => log.warn({ err }, 'pruning idempotency keys failed'));
  }, PRUNE_EVERY_MS);
  prune.unref();

  let closing: Promise<void> | null = null;
  return {
    url: bound.url,
    port: bound.port,
    core,
    store,
    reloadFilter: () => gates.reload(),
    close() {
      closing ??= (async () => {
        clearInterval(prune);
        await gateway.close();
        extras.mount?.detach();
        await app.close();
        await webhooks?.stop();
        await store.close();
        await broker.close();
        gates.close();
      })();
      return closing;
    },
  };
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`${flag}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

function openJwtVerifier(c: ServerConfig): JwtVerifier {
  try {
    return JwtVerifier.create({ secret: c.jwtSecret, publicKeyFile: c.jwtPublicKey, jwksUrl: c.jwksUrl, issuer: c.jwtIssuer, audience: c.jwtAudience });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

async function openStore(c: ServerConfig, log: Logger) {
  if (!c.postgresUrl) {
    const store = await openSqliteStore({
      dataDir: c.dataDir,
      sync: c.sync,
      integrityCheck: c.integrityCheck,
      onCheckpointError: (err) => log.warn({ err: err.message }, 'SQLite checkpoint problem'),
      onDamage: (d) => log.fatal(damageFields(d), describeDamage(d)),
    });
    // A damaged store refuses every call, but the server still starts so that /readyz and the log
    // say why: nothing to clean up then, and the guest-token key is read from the file if it still
    // can be, else a throwaway one that is never stored (no welcome goes out, so no token either).
    const unlessDamaged = <T>(fallback: () => T) => (err: unknown): T => {
      if (err instanceof StoreDamagedError) return fallback();
      throw err;
    };
    // One process owns the file: ephemeral rooms left by a crash have no members online any more.
    await store.deleteEphemeralRooms().catch(unlessDamaged(() => 0));
    // Only sharedSecret is overridden; every other call reaches the store through the prototype.
    const sharedSecret = (name: string, candidate: string) =>
      store.sharedSecret(name, candidate).catch(unlessDamaged(() => readSecretDespiteDamage(c.dataDir, name) ?? candidate));
    return Object.create(store, { sharedSecret: { value: sharedSecret } }) as typeof store;
  }
  try {
    return await openPostgresStore({ url: c.postgresUrl, timeoutMs: c.pgTimeoutMs });
  } catch (err) {
    throw new Error(`PostgreSQL at ${c.postgresUrl.replace(/\/\/[^@]*@/, '//***@')}: ${(err as Error).message}`);
  }
}
