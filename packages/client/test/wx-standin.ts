import WebSocket from 'ws';
import type { WxConnectOptions, WxLike, WxSocketTask } from '../src/wx.js';

// A stand-in for a mini program's `wx.connectSocket` / SocketTask, backed by a real WebSocket, for
// code that runs in another realm (a `vm` context): ArrayBuffers are recognised by their tag,
// not by `instanceof` (each realm has its own ArrayBuffer), and the ones handed to the page are
// made in that realm, as a mini program's would be. wx.test.ts has the same-realm one it checks
// the adapter's contract with.

export interface WxStandIn extends WxLike {
  /** Every `data` given to SocketTask.send. */
  sent: Array<string | ArrayBuffer>;
  sockets: WebSocket[];
}

function isArrayBuffer(v: unknown): v is ArrayBuffer {
  return Object.prototype.toString.call(v) === '[object ArrayBuffer]';
}

/** `newBuffer` makes an ArrayBuffer of the caller's realm (default: this one). */
export function wxStandIn(newBuffer: (n: number) => ArrayBuffer = (n) => new ArrayBuffer(n)): WxStandIn {
  const wx: WxStandIn = {
    sent: [],
    sockets: [],
    connectSocket(options: WxConnectOptions): WxSocketTask {
      const ws = new WebSocket(options.url, options.protocols ?? [], { headers: options.header ?? {} });
      wx.sockets.push(ws);
      const on = { open: [] as Array<() => void>, message: [] as Array<(r: { data: string | ArrayBuffer }) => void>, close: [] as Array<(r: { code: number; reason: string }) => void>, error: [] as Array<(r: { errMsg: string }) => void> };
      ws.on('open', () => on.open.forEach((l) => l()));
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        let payload: string | ArrayBuffer = data.toString('utf8');
        if (isBinary) {
          payload = newBuffer(data.byteLength);
          new Uint8Array(payload).set(data);
        }
        for (const l of on.message) l({ data: payload });
      });
      ws.on('close', (code, reason) => on.close.forEach((l) => l({ code, reason: reason.toString() })));
      ws.on('error', (err) => {
        options.fail?.({ errMsg: `connectSocket:fail ${err.message}` });
        for (const l of on.error) l({ errMsg: err.message });
      });
      return {
        onOpen: (l) => void on.open.push(() => l({})),
        onMessage: (l) => void on.message.push(l),
        onClose: (l) => void on.close.push(l),
        onError: (l) => void on.error.push(l),
        send({ data, success, fail }) {
          if (typeof data !== 'string' && !isArrayBuffer(data)) {
            fail?.({ errMsg: 'sendSocketMessage:fail parameter error: parameter.data should be String or ArrayBuffer' });
            return;
          }
          if (ws.readyState !== WebSocket.OPEN) {
            fail?.({ errMsg: 'sendSocketMessage:fail WebSocket is not connected' });
            return;
          }
          wx.sent.push(data);
          ws.send(typeof data === 'string' ? data : Buffer.from(new Uint8Array(data)));
          success?.();
        },
        close({ code = 1000, reason = '', success }) {
          ws.close(code, reason);
          success?.();
        },
      };
    },
  };
  return wx;
}
