import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import { ConfigError, type ServerConfig } from './config.js';
import type { Authorize } from './core/authorize.js';
import type { Core } from './core/core.js';
import type { BeforeMessage } from './core/message-gate.js';
import { fastifyMount } from './library-fastify.js';
import { type Mount, nodeServerMount, normalizeMountPath } from './library-mount.js';
import { startServer, type StartExtras } from './server.js';
import type { Store } from './store/store.js';
import type { WebhookEvent } from './webhooks/index.js';

// Library mode: roomcast inside an application's process, on the application's port.

/** An event as webhooks carry it: `{ id, type, ts, data }` (the id stays the same on a retry). */
export type RoomcastEvent = WebhookEvent;

/** The in-process twins of the hook URL and the webhooks. */
export interface RoomcastHooks {
  /** The application's veto on create / join / send / history: false answers `forbidden`. */
  authorize?: Authorize;
  /** Allows, rejects (`rejected`) or rewrites a message or an edit before it is stored. */
  beforeMessage?: BeforeMessage;
  /**
   * Each event, as a webhook endpoint would get it: durable (from the outbox), in order per room,
   * retried with backoff while it throws or its promise rejects; so at least once: dedupe by `id`.
   */
  onEvent?: (event: RoomcastEvent) => void | Promise<void>;
}

export interface RoomcastOptions extends Partial<ServerConfig> {
  /** The application's server to share: roomcast listens on no port of its own. Without: it listens on `port`. */
  server?: HttpServer | HttpsServer;
  /** Where roomcast's routes live on that server (default `/roomcast`): the socket at `${path}/ws`, the API at `${path}/api/…`. */
  path?: string;
  /** Also serve the built web UI; it loads /assets/…, /ws and /api/… from the root, so only with path `/`. */
  webUi?: boolean;
  hooks?: RoomcastHooks;
  logger?: Logger;
}

export interface Roomcast {
  readonly core: Core;
  readonly store: Store;
  /** `http://host:port/path` once the server listens (undefined before). */
  readonly url: string | undefined;
  /** Stops roomcast (its sockets get 1001, the store is flushed); the application's server keeps running. */
  close(): Promise<void>;
}

export const DEFAULT_MOUNT_PATH = '/roomcast';

/**
 * Starts roomcast in this process. With `server`: attached to it at `path`, sharing its port (the
 * app's own requests and upgrades reach the app untouched). Without: on a port of its own.
 */
export async function createRoomcast(options: RoomcastOptions = {}): Promise<Roomcast> {
  const { server, path, webUi, hooks, logger, ...config } = options;
  if (!server) {
    if (path !== undefined || webUi !== undefined) throw new ConfigError('createRoomcast: path and webUi apply when attaching to a server; pass server, or leave them out to listen on a port of its own');
    const rc = await startServer(config, logger, extrasOf(hooks));
    return { core: rc.core, store: rc.store, url: rc.url, close: () => rc.close() };
  }
  refuseOwnListener(config);
  const mount = nodeServerMount(server, normalizeMountPath(path ?? DEFAULT_MOUNT_PATH), webUi ?? false);
  return startMounted(config, logger, hooks, mount);
}

/** Options of the Fastify plugin: those of createRoomcast but `server` and `path` (Fastify's `prefix` says where). */
export type RoomcastPluginOptions = Omit<RoomcastOptions, 'server' | 'path'>;

/**
 * `app.register(roomcastPlugin, { prefix: '/chat', ...options })`: roomcast under the prefix of
 * a Fastify application, closed with it (app.close()).
 */
export const roomcastPlugin: FastifyPluginAsync<RoomcastPluginOptions> = async (scope, opts) => {
  const { webUi, hooks, logger, ...rest } = opts;
  // Fastify hands its own register option `prefix` to the plugin too; it is not roomcast's.
  const config: Partial<ServerConfig> = { ...rest };
  delete (config as { prefix?: unknown }).prefix;
  refuseOwnListener(config);
  const mount = fastifyMount(scope, normalizeMountPath(scope.prefix), webUi ?? false);
  const rc = await startMounted(config, logger, hooks, mount);
  // preClose, not onClose: the app's server waits for open connections, so roomcast's
  // WebSockets must be closed before it closes, or app.close() would wait for them for ever.
  scope.addHook('preClose', async () => rc.close());
};

async function startMounted(config: Partial<ServerConfig>, logger: Logger | undefined, hooks: RoomcastHooks | undefined, mount: Mount & { readonly url: string | undefined }): Promise<Roomcast> {
  const rc = await startServer(config, logger, { ...extrasOf(hooks), mount });
  return {
    core: rc.core,
    store: rc.store,
    get url() {
      return mount.url;
    },
    close: () => rc.close(),
  };
}

function refuseOwnListener(config: Partial<ServerConfig>): void {
  for (const key of ['port', 'host', 'tlsCert', 'tlsKey', 'metricsAddress'] as const) {
    if (config[key] !== undefined) {
      throw new ConfigError(`createRoomcast: ${key} belongs to the application's server when roomcast is attached to it; leave it out (roomcast opens no port of its own)`);
    }
  }
}

function extrasOf(hooks: RoomcastHooks | undefined): StartExtras {
  const extras: StartExtras = {};
  if (hooks?.authorize) extras.authorize = hooks.authorize;
  if (hooks?.beforeMessage) extras.beforeMessage = hooks.beforeMessage;
  const onEvent = hooks?.onEvent;
  if (onEvent) {
    // An in-process webhook endpoint of the dispatcher: a throw is a failed delivery, retried.
    extras.webhookEndpoints = [{ name: 'onEvent', deliver: async (event) => { await onEvent(event); } }];
  }
  return extras;
}
