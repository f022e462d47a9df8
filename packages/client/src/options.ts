import { RoomcastError } from './errors.js';
import type { NetworkWatcher } from './network.js';
import { webSocketFactory, type SocketFactory, type WebSocketConstructor } from './socket.js';

/** Options of `new RoomcastClient(url, options)`. Every one is optional. */
export interface ClientOptions {
  /** Guest nickname, 1–32 characters (default: the server picks `guest-xxxx`). */
  name?: string;
  /** A JWT from your backend, sent as `?token=` (servers in `jwt` or `both` mode). */
  token?: string;
  /**
   * Returns a fresh JWT. Called before the first connection when no `token` is given, and again
   * before reconnecting whenever the server refused or expired the current one (close 4401).
   */
  getToken?: () => string | Promise<string>;
  /** A guest token saved from an earlier session (`chat.guestToken`), to come back as the same guest. */
  guestToken?: string;
  /** The WebSocket class: `WebSocket` from the `ws` package in Node (default: `globalThis.WebSocket`). */
  WebSocket?: WebSocketConstructor;
  /** A custom transport instead of a WebSocket class, e.g. `wxSocket(wx)` in a WeChat mini program. */
  socket?: SocketFactory;
  /** Ceiling of the first reconnect delay, ms; doubles per failed attempt (default 500). */
  minReconnectDelay?: number;
  /** Largest reconnect delay, ms (default 20000). */
  maxReconnectDelay?: number;
  /**
   * Ignored: every connection that delivers `welcome` resets the backoff to
   * `minReconnectDelay`. Still accepted (and checked) so existing code keeps compiling.
   */
  stableAfter?: number;
  /** Time for a connection attempt to deliver the server's `welcome`, ms (default 10000). */
  connectTimeout?: number;
  /** Time a request (join, history, …) may wait for its reply, including offline time, ms (default 15000). Sends have none: they wait in the outbox. */
  requestTimeout?: number;
  /** Heartbeat interval, ms: ping when idle this long, reconnect after twice as long in silence (default: the server's, from `welcome`). */
  heartbeat?: number;
  /** Most sends waiting for acknowledgement, online or not (default 1000); more fail with `outbox_full`. */
  outboxLimit?: number;
  /** Messages of history a first join delivers (default 50). */
  history?: number;
  /** Least time between two typing notices, ms (default 3000). */
  typingInterval?: number;
  /**
   * Network and foreground hints: drop the connection when the device goes offline, reconnect at
   * once when it is back or the page becomes visible. Default: `browserNetwork()` where `window`
   * or `document` exist, else `wxNetwork(wx)` in a mini program, else none; `null` turns it off.
   */
  network?: NetworkWatcher | null;
  /** Random source for backoff jitter (default Math.random); for tests. */
  random?: () => number;
}

/** The options with their defaults applied. */
export type ResolvedOptions = Required<
  Pick<
    ClientOptions,
    | 'minReconnectDelay'
    | 'maxReconnectDelay'
    | 'stableAfter'
    | 'connectTimeout'
    | 'requestTimeout'
    | 'outboxLimit'
    | 'history'
    | 'typingInterval'
    | 'random'
  >
> &
  Omit<ClientOptions, 'minReconnectDelay' | 'maxReconnectDelay' | 'stableAfter' | 'connectTimeout' | 'requestTimeout' | 'outboxLimit' | 'history' | 'typingInterval' | 'random'>;

export const DEFAULTS = {
  minReconnectDelay: 500,
  maxReconnectDelay: 20_000,
  stableAfter: 5000,
  connectTimeout: 10_000,
  requestTimeout: 15_000,
  outboxLimit: 1000,
  history: 50,
  typingInterval: 3000,
  random: Math.random,
} satisfies Partial<ClientOptions>;

function positive(name: string, value: number, min = 0): void {
  if (!Number.isFinite(value) || value < min) throw new RoomcastError('bad_request', `option ${name} must be a number of at least ${min}, got ${String(value)}`);
}

/** Merges the defaults once and refuses values that cannot work, naming the option. */
export function resolveOptions(options: ClientOptions): ResolvedOptions {
  const o: ResolvedOptions = { ...DEFAULTS, ...options };
  positive('minReconnectDelay', o.minReconnectDelay, 1);
  positive('maxReconnectDelay', o.maxReconnectDelay, o.minReconnectDelay);
  positive('stableAfter', o.stableAfter);
  positive('connectTimeout', o.connectTimeout, 1);
  positive('requestTimeout', o.requestTimeout, 1);
  positive('outboxLimit', o.outboxLimit, 1);
  positive('history', o.history);
  positive('typingInterval', o.typingInterval);
  if (o.heartbeat !== undefined) positive('heartbeat', o.heartbeat, 10);
  if (o.token !== undefined && o.getToken !== undefined) {
    throw new RoomcastError('bad_request', 'pass either token or getToken, not both: getToken supplies every token');
  }
  return o;
}

/** The SocketFactory the options ask for: `socket`, else `WebSocket`, else the global one; throws when there is none. */
export function pickSocketFactory(options: ClientOptions): SocketFactory {
  if (options.socket) return options.socket;
  const ws = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!ws) {
    throw new RoomcastError(
      'bad_request',
      'no WebSocket implementation: in Node pass { WebSocket } from the "ws" package; in a mini program pass { socket: wxSocket(wx) }',
    );
  }
  return webSocketFactory(ws);
}
