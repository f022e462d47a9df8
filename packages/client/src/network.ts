// Network and foreground hints. A connection cut by the device going offline may never report a
// close: without these the client would say "connected" until its heartbeat times out (two
// intervals, ~50 s by default), and after the network returns it would wait out its backoff.
// With them it drops the connection the moment the device goes offline and redials the moment
// the network, or the page, comes back.

/** What a network watcher tells the client. */
export interface NetworkHandlers {
  /** The device has no network: the current connection cannot work. */
  offline(): void;
  /** The network is back, or the app came to the foreground: a good moment to reconnect now. */
  online(): void;
}

/** Starts watching; returns the function that stops it. Option `network` of the client. */
export type NetworkWatcher = (handlers: NetworkHandlers) => () => void;

/** The part of the DOM's EventTarget used here; `window` and `document` fit it. */
export interface EventTargetLike {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

/** Where the browser hints come from (by default the globals of the same names). */
export interface BrowserHints {
  /** Fires `online` and `offline`. */
  window?: EventTargetLike;
  /** Fires `visibilitychange`; `visibilityState` is then read. */
  document?: EventTargetLike & { visibilityState?: string };
}

function isTarget(x: unknown): x is EventTargetLike {
  return typeof x === 'object' && x !== null && typeof (x as EventTargetLike).addEventListener === 'function' && typeof (x as EventTargetLike).removeEventListener === 'function';
}

/**
 * Watches `online`/`offline` on `window` and `visibilitychange` on `document`; null where
 * neither exists (Node, a worker without them), so the client simply goes without.
 */
export function browserNetwork(hints: BrowserHints = globalThis as BrowserHints): NetworkWatcher | null {
  const win = isTarget(hints.window) ? hints.window : null;
  const doc = isTarget(hints.document) ? hints.document : null;
  if (!win && !doc) return null;
  return (h) => {
    const offline = () => h.offline();
    const online = () => h.online();
    const visibility = () => {
      if (doc?.visibilityState === 'visible') h.online();
    };
    win?.addEventListener('offline', offline);
    win?.addEventListener('online', online);
    doc?.addEventListener('visibilitychange', visibility);
    return () => {
      win?.removeEventListener('offline', offline);
      win?.removeEventListener('online', online);
      doc?.removeEventListener('visibilitychange', visibility);
    };
  };
}

/** The `wx` global, as far as network status and foregrounding go (every member optional). */
export interface WxNetworkLike {
  onNetworkStatusChange?(listener: (res: { isConnected: boolean; networkType?: string }) => void): void;
  /** Base library 2.9.3+; without it the watcher cannot stop listening, only ignore. */
  offNetworkStatusChange?(listener: (res: { isConnected: boolean; networkType?: string }) => void): void;
  onAppShow?(listener: () => void): void;
  offAppShow?(listener: () => void): void;
}

/** Watches `wx.onNetworkStatusChange` (and `wx.onAppShow`) in a WeChat mini program. */
export function wxNetwork(wx: WxNetworkLike): NetworkWatcher {
  return (h) => {
    let active = true;
    const status = (res: { isConnected: boolean }) => {
      if (!active) return;
      if (res.isConnected) h.online();
      else h.offline();
    };
    const show = () => {
      if (active) h.online();
    };
    wx.onNetworkStatusChange?.(status);
    wx.onAppShow?.(show);
    return () => {
      active = false;
      wx.offNetworkStatusChange?.(status);
      wx.offAppShow?.(show);
    };
  };
}

/** The watcher option `network` asks for: given, none (`null`), else the browser's, else wx's. */
export function pickNetwork(option: NetworkWatcher | null | undefined): NetworkWatcher | null {
  if (option !== undefined) return option;
  const browser = browserNetwork();
  if (browser) return browser;
  const wx = (globalThis as { wx?: WxNetworkLike }).wx;
  return wx && typeof wx.onNetworkStatusChange === 'function' ? wxNetwork(wx) : null;
}
