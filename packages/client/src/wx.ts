import type { SocketFactory } from './socket.js';

// WeChat mini programs have no WebSocket class: wx.connectSocket returns a SocketTask. These
// interfaces are the documented subset the adapter uses, so no WeChat typings are needed.

/** Result passed to `fail` callbacks and `onError` listeners. */
export interface WxError {
  errMsg: string;
}

/** The SocketTask returned by `wx.connectSocket` (base library 1.7.0+). */
export interface WxSocketTask {
  send(options: { data: string | ArrayBuffer; success?: () => void; fail?: (err: WxError) => void }): void;
  close(options: { code?: number; reason?: string; success?: () => void; fail?: (err: WxError) => void }): void;
  onOpen(listener: (res: { header?: Record<string, string> }) => void): void;
  onMessage(listener: (res: { data: string | ArrayBuffer }) => void): void;
  onClose(listener: (res: { code: number; reason: string }) => void): void;
  onError(listener: (res: WxError) => void): void;
}

/** Options of `wx.connectSocket` that the adapter passes. */
export interface WxConnectOptions {
  url: string;
  header?: Record<string, string>;
  protocols?: string[];
  /** Milliseconds (base library 2.10.0+). */
  timeout?: number;
  success?: () => void;
  fail?: (err: WxError) => void;
}

/** The `wx` global, as far as sockets go. */
export interface WxLike {
  connectSocket(options: WxConnectOptions): WxSocketTask;
}

export interface WxSocketOptions {
  /** Extra HTTP headers for the upgrade request (`Referer` cannot be set). */
  header?: Record<string, string>;
}

/** Copies bytes into an ArrayBuffer of exactly their length: SocketTask.send takes no views. */
function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}

/**
 * A SocketFactory over `wx.connectSocket`, for `new RoomcastClient(url, { socket: wxSocket(wx) })`
 * in a WeChat mini program (and in platforms with the same API, such as `tt` or `swan`).
 */
export function wxSocket(wx: WxLike, options: WxSocketOptions = {}): SocketFactory {
  return (url, protocols, h) => {
    let failed = false;
    const fail = (err: WxError) => {
      if (failed) return;
      failed = true;
      h.onError(err.errMsg || 'wx socket error');
    };
    const connect: WxConnectOptions = { url, fail };
    if (protocols.length > 0) connect.protocols = protocols;
    if (options.header) connect.header = options.header;
    const task = wx.connectSocket(connect);
    task.onOpen(() => h.onOpen());
    task.onMessage((res) => {
      const d = res.data;
      if (typeof d === 'string') h.onMessage(d);
      else h.onMessage(new Uint8Array(d));
    });
    task.onClose((res) => h.onClose(res.code, res.reason ?? ''));
    task.onError((err) => h.onError(err.errMsg || 'wx socket error'));
    return {
      // A failed send means the socket is unusable: report it so the client reconnects.
      send: (data) => task.send({ data: typeof data === 'string' ? data : toArrayBuffer(data), fail }),
      close: (code, reason) => task.close({ code, reason }),
    };
  };
}
