import { readdirSync } from 'node:fs';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from './config.js';
import { CLIENT_BUNDLE_PATH } from './http/client-bundle.js';
import { hasWebUi, WEB_DIST } from './http/web.js';

// Library mode's plumbing: which requests of the application's server are roomcast's, and how
// they reach roomcast's own Fastify instance (built as usual, never listening) and its gateway.

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** How startServer serves through someone else's server (StartExtras.mount). */
export interface Mount {
  /** The WebSocket endpoint's path on the application's server, e.g. `/chat/ws`. */
  readonly wsPath: string;
  /** Hooks roomcast's HTTP side and its gateway's upgrade handler into the application's server. */
  attach(http: FastifyInstance, upgrade: UpgradeHandler): Promise<{ url: string; port: number }>;
  /** Gives the application's server back as it was (roomcast's requests go to the app again). */
  detach(): void;
}

/** `/chat`, `chat/`, `/chat/` → `/chat`; `/` or `` → `` (roomcast's routes at the root). */
export function normalizeMountPath(path: string): string {
  const trimmed = path.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  const p = trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
  if (/[?#*:\s]/.test(p)) throw new ConfigError(`library mode: path ${JSON.stringify(path)} may not contain ?, #, *, : or spaces; give a plain path such as "/chat"`);
  return p;
}

/** roomcast's own top-level routes besides /api/ (the web UI's files are added when it is on). */
const FIXED_ROUTES = ['/healthz', '/readyz', '/metrics', CLIENT_BUNDLE_PATH];

/**
 * Decides which request paths are roomcast's: under `prefix`, its API (/api/…), health, metrics
 * and SDK bundle, and with `webUi` the built UI's files. Answers the path roomcast's own instance
 * knows it by (prefix removed, query kept), or null: the application's request.
 */
export function routeClaimer(prefix: string, webUi: boolean): (url: string | undefined) => string | null {
  const fixed = new Set(FIXED_ROUTES);
  if (webUi) {
    // The UI's page, socket and API calls are root-relative (/assets/…, /ws, /api/…).
    if (prefix !== '') throw new ConfigError('library mode: webUi needs path "/" (the built UI loads /assets/…, /ws and /api/… from the root); leave webUi off under a path, or serve the UI from a roomcast of its own');
    if (!hasWebUi()) throw new ConfigError(`library mode: webUi is on but there is no built UI in ${WEB_DIST}; run npm run build first`);
    fixed.add('/');
    for (const f of readdirSync(WEB_DIST, { withFileTypes: true })) if (f.isFile()) fixed.add(`/${f.name}`);
  }
  return (url) => {
    if (url === undefined) return null;
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    if (prefix !== '' && pathname !== prefix && !pathname.startsWith(`${prefix}/`)) return null;
    const inner = pathname.slice(prefix.length) || '/';
    const ours = inner.startsWith('/api/') || fixed.has(inner) || (webUi && inner.startsWith('/assets/'));
    return ours ? inner + (q === -1 ? '' : url.slice(q)) : null;
  };
}

/** The WebSocket path's own test, query allowed: only these upgrades are roomcast's. */
export function isUpgradeFor(wsPath: string, url: string | undefined): boolean {
  if (url === undefined) return false;
  const q = url.indexOf('?');
  return (q === -1 ? url : url.slice(0, q)) === wsPath;
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Mounts on a plain Node server (Express, Koa, node:http): the application's `request` listeners
 * are taken off and called by one dispatcher for every request that is not roomcast's (what
 * socket.io does too); roomcast's upgrades are taken, other upgrades left to the app's listeners.
 */
export function nodeServerMount(server: HttpServer | HttpsServer, prefix: string, webUi: boolean): Mount & { readonly url: string | undefined } {
  const wsPath = `${prefix}/ws`;
  const claim = routeClaimer(prefix, webUi);
  let restore: (() => void) | null = null;
  const urlOf = () => mountedUrl(server, prefix);
  return {
    wsPath,
    get url() {
      return urlOf();
    },
    async attach(http, upgrade) {
      await http.ready();
      const appListeners = server.listeners('request') as Listener[];
      server.removeAllListeners('request');
      const dispatch: Listener = (req, res) => {
        const inner = claim(req.url);
        if (inner === null) {
          for (const l of appListeners) l.call(server, req, res);
          return;
        }
        req.url = inner;
        http.routing(req, res);
      };
      server.on('request', dispatch);
      const onUpgrade = upgradesFor(server, wsPath, upgrade);
      server.on('upgrade', onUpgrade);
      restore = () => {
        server.off('request', dispatch);
        server.off('upgrade', onUpgrade);
        for (const l of appListeners) server.on('request', l);
      };
      const a = server.address() as AddressInfo | null;
      return { url: urlOf() ?? '', port: a && typeof a === 'object' ? a.port : 0 };
    },
    detach() {
      restore?.();
      restore = null;
    },
  };
}

/**
 * The `upgrade` listener: roomcast's path to the gateway, others left to the application's own
 * listeners; with none, refused as Node itself does when nobody listens (else they would hang).
 */
export function upgradesFor(server: HttpServer | HttpsServer, wsPath: string, upgrade: UpgradeHandler): UpgradeHandler {
  return (req, socket, head) => {
    if (isUpgradeFor(wsPath, req.url)) upgrade(req, socket, head);
    else if (server.listenerCount('upgrade') === 1) socket.destroy();
  };
}

/** `http(s)://host:port/prefix` of a listening server; undefined before it listens. */
export function mountedUrl(server: HttpServer | HttpsServer, prefix: string): string | undefined {
  const a = server.address() as AddressInfo | string | null;
  if (a === null || typeof a === 'string') return undefined;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  // https.Server has setSecureContext (tls.Server's); http.Server has not.
  const tls = typeof (server as { setSecureContext?: unknown }).setSecureContext === 'function';
  return `${tls ? 'https' : 'http'}://${host}:${a.port}${prefix}`;
}
