import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { GuestTokens } from './auth/guest.js';
import { MemoryBroker } from './broker/memory.js';
import type { Broker } from './broker/broker.js';
import { ChatService } from './core/chat.js';
import { DEFAULT_CHAT_CONFIG } from './core/config.js';
import { DEFAULT_CONFIG, type ServerConfig } from './config.js';
import { Gateway } from './gateway/gateway.js';
import { buildHttp } from './http/app.js';
import { createLogger } from './log.js';
import { openSqliteStore } from './store/sqlite.js';
import type { Store } from './store/store.js';

export interface RoomcastServer {
  /** `http://host:port` as bound (the real port when 0 was asked for). */
  readonly url: string;
  readonly port: number;
  readonly chat: ChatService;
  readonly store: Store;
  /** Graceful stop: refuse new connections, close clients with 1001, flush the store. */
  close(): Promise<void>;
}

const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Starts roomcast in embedded mode (SQLite + in-process broker). */
export async function startServer(options: Partial<ServerConfig> = {}, logger?: Logger): Promise<RoomcastServer> {
  const config: ServerConfig = { ...DEFAULT_CONFIG, ...options };
  const log = logger ?? createLogger(config.logLevel);
  const store = await openSqliteStore({ dataDir: config.dataDir, sync: config.sync });
  // One process owns the file: ephemeral rooms left by a crash have no members online any more.
  await store.deleteEphemeralRooms();
  const broker: Broker = new MemoryBroker();
  const guests = GuestTokens.open(config.dataDir);
  const chat = new ChatService({
    store,
    broker,
    log,
    config: {
      ...DEFAULT_CHAT_CONFIG,
      maxText: config.maxText,
      maxBinary: config.maxBinary,
      ratePerSec: config.ratePerSec,
      heartbeatMs: config.heartbeatMs,
      sendBufferLimit: config.sendBufferLimit,
    },
  });
  const gateway = new Gateway(
    chat,
    guests,
    { path: '/ws', maxConnPerIp: config.maxConnPerIp, heartbeatMs: config.heartbeatMs, maxText: config.maxText, maxBinary: config.maxBinary },
    log,
  );
  const app = buildHttp({ chat, store, broker, guests, log, connectionCount: () => gateway.connectionCount });
  app.server.on('upgrade', gateway.handleUpgrade);
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  const prune = setInterval(() => {
    store.pruneDedup(Date.now() - chat.config.dedupWindowMs).catch((err: unknown) => log.warn({ err }, 'pruning idempotency keys failed'));
  }, PRUNE_EVERY_MS);
  prune.unref();

  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    chat,
    store,
    close() {
      closing ??= (async () => {
        clearInterval(prune);
        await gateway.close();
        await app.close();
        await store.close();
        await broker.close();
      })();
      return closing;
    },
  };
}
