// The transport seam. The client needs only this small interface; adapters wrap a browser's
// WebSocket, Node's `ws` and a mini program's SocketTask (wx.ts) into it.

/** What one connection reports to the client. */
export interface SocketHandlers {
  onOpen(): void;
  /** A text frame (string) or a binary frame (bytes). */
  onMessage(data: string | Uint8Array): void;
  onClose(code: number, reason: string): void;
  onError(message: string): void;
}

/** One connection, as the client drives it. */
export interface Socket {
  send(data: string | Uint8Array): void;
  /** Closes with a handshake; after this the client ignores the socket's events. */
  close(code: number, reason: string): void;
  /** Drops the connection at once, for a peer that stopped answering (optional). */
  terminate?(): void;
}

/** Opens one connection; `protocols` are WebSocket subprotocols to offer. */
export type SocketFactory = (url: string, protocols: string[], handlers: SocketHandlers) => Socket;

// A handler property whose parameter is checked both ways, so the DOM's WebSocket (Event
// subclasses) and ws's class (its own event types) both fit without casts.
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The part of the WHATWG WebSocket API the adapter uses; browsers' and ws's classes fit it. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<{ message?: string }> | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  /** ws only: destroy the socket without a closing handshake. */
  terminate?(): void;
}

/** A WebSocket class: `globalThis.WebSocket` in browsers, `WebSocket` from the `ws` package in Node. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Close reasons are limited to 123 UTF-8 bytes; ours are short ASCII, but stay safe. */
function clip(reason: string): string {
  return reason.length > 120 ? reason.slice(0, 120) : reason;
}

/** Adapts a WebSocket class (browser or `ws`) to a SocketFactory. */
export function webSocketFactory(WebSocketImpl: WebSocketConstructor): SocketFactory {
  return (url, protocols, h) => {
    const ws = new WebSocketImpl(url, protocols);
    // ArrayBuffer rather than Blob (browsers) or Buffer (ws): one type, readable synchronously.
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => h.onOpen();
    ws.onmessage = (ev) => {
      const d = ev.data;
      if (typeof d === 'string') h.onMessage(d);
      else if (d instanceof ArrayBuffer) h.onMessage(new Uint8Array(d));
      else if (ArrayBuffer.isView(d)) h.onMessage(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    };
    ws.onclose = (ev) => h.onClose(ev.code, ev.reason);
    // Handlers stay attached after close: ws throws on an 'error' event nobody listens to.
    ws.onerror = (ev) => h.onError(ev.message || 'WebSocket error');
    return {
      send: (data) => ws.send(data),
      close: (code, reason) => {
        try {
          ws.close(code, clip(reason));
        } catch {
          // Already closed, or a code the platform refuses: the socket is abandoned either way.
        }
      },
      terminate: () => {
        if (ws.terminate) ws.terminate();
        else ws.close(1000, 'abandoned');
      },
    };
  };
}
