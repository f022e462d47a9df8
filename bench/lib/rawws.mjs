// A lean WebSocket client on a raw TCP socket, for the load generator: it does the HTTP upgrade
// itself, parses only frame headers, and hands each payload to the caller as (buffer, start,
// end) without copying. Client frames are masked as RFC 6455 requires, with an all-zero key
// (valid, and XOR with zero leaves the payload as is, so sending costs no copy-and-mask pass).
import net from 'node:net';

const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/**
 * @typedef {object} RawWsHandlers
 * @property {(ws: RawWs, buf: Buffer, start: number, end: number) => void} onMessage text/binary payload
 * @property {(ws: RawWs, err?: Error) => void} [onClose]
 */

/** Frame header for a masked client frame with a zero key (its payload goes out as is). */
export function clientHeader(opcode, len) {
  if (len < 126) {
    const h = Buffer.allocUnsafe(6);
    h[0] = 0x80 | opcode;
    h[1] = 0x80 | len;
    h.writeUInt32BE(0, 2);
    return h;
  }
  if (len < 65536) {
    const h = Buffer.allocUnsafe(8);
    h[0] = 0x80 | opcode;
    h[1] = 0x80 | 126;
    h.writeUInt16BE(len, 2);
    h.writeUInt32BE(0, 4);
    return h;
  }
  const h = Buffer.allocUnsafe(14);
  h[0] = 0x80 | opcode;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(len), 2);
  h.writeUInt32BE(0, 10);
  return h;
}

/** Encodes one masked (zero-key) client text frame. */
export function clientFrame(text, opcode = OP_TEXT) {
  const payload = typeof text === 'string' ? Buffer.from(text) : text;
  const h = clientHeader(opcode, payload.length);
  return Buffer.concat([h, payload], h.length + payload.length);
}

export class RawWs {
  /**
   * @param {net.Socket} socket
   * @param {RawWsHandlers} handlers
   */
  constructor(socket, handlers) {
    this.socket = socket;
    this.handlers = handlers;
    /** @type {Buffer | null} */
    this.rest = null;
    this.open = false;
    this.closed = false;
    /** Frames the parser could not make sense of (fragmented, masked by the server, …). */
    this.protocolErrors = 0;
    /** The code of the server's close frame (1005 when it had none), or null before one came. */
    /** @type {number | null} */
    this.closeCode = null;
    this.closeReason = '';
    /** Free slot for the scenario's per-connection state. */
    /** @type {any} */
    this.state = null;
  }

  /** Sends one text frame. */
  send(text) {
    if (this.closed) return false;
    return this.socket.write(clientFrame(text));
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
  }

  /** @param {Buffer} chunk */
  onData(chunk) {
    let buf = chunk;
    if (this.rest !== null) {
      buf = Buffer.concat([this.rest, chunk], this.rest.length + chunk.length);
      this.rest = null;
    }
    const n = buf.length;
    let off = 0;
    while (n - off >= 2) {
      const b0 = buf[off];
      const b1 = buf[off + 1];
      let len = b1 & 0x7f;
      let hdr = 2;
      if (len === 126) {
        if (n - off < 4) break;
        len = buf.readUInt16BE(off + 2);
        hdr = 4;
      } else if (len === 127) {
        if (n - off < 10) break;
        len = Number(buf.readBigUInt64BE(off + 2));
        hdr = 10;
      }
      if (b1 & 0x80) {
        this.protocolErrors++; // a server must not mask; skip the key and carry on
        hdr += 4;
      }
      if (n - off < hdr + len) break;
      const start = off + hdr;
      const end = start + len;
      off = end;
      const opcode = b0 & 0x0f;
      if ((b0 & 0x80) === 0 || opcode === 0) this.protocolErrors++; // fragments: not expected here
      if (opcode === OP_TEXT || opcode === 0x2 || opcode === 0) {
        this.handlers.onMessage(this, buf, start, end);
      } else if (opcode === OP_PING) {
        if (!this.closed) this.socket.write(clientFrame(buf.subarray(start, end), OP_PONG));
      } else if (opcode === OP_CLOSE) {
        // Kept so a scenario can tell why the server let go (1013 slow consumer, 1009 too big, …).
        this.closeCode = len >= 2 ? buf.readUInt16BE(start) : 1005;
        this.closeReason = len > 2 ? buf.toString('utf8', start + 2, end) : '';
        this.close();
        this.handlers.onClose?.(this);
        return;
      }
    }
    // The read buffer is reused for the next read: keep a copy of a partial frame.
    if (off < n) this.rest = Buffer.from(buf.subarray(off));
  }
}

/**
 * One read buffer shared by every socket of the process: `onread` reads into it and the parser
 * consumes each read synchronously (keeping a copy of any partial frame), which spares the
 * per-read allocation and the stream machinery of 'data' events.
 */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

/**
 * When the read being parsed arrived (wall-clock µs): every frame of one read arrived together,
 * so the clock is read once per read rather than once per frame.
 */
export const readClock = { us: 0 };

/**
 * Opens a TCP connection and performs the WebSocket upgrade.
 * @param {{ port: number, host?: string, path: string, handlers: RawWsHandlers, state?: any, timeoutMs?: number }} o
 * @returns {Promise<RawWs>}
 */
export function connectRawWs(o) {
  const host = o.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    /** @type {RawWs} */
    let ws;
    let head = Buffer.alloc(0);
    let upgraded = false;
    const onRead = (/** @type {number} */ nread, /** @type {Buffer} */ buf) => {
      if (upgraded) {
        readClock.us = Math.round((performance.timeOrigin + performance.now()) * 1000);
        ws.onData(buf.subarray(0, nread));
        return true;
      }
      head = Buffer.concat([head, buf.subarray(0, nread)]);
      const endOfHead = head.indexOf('\r\n\r\n');
      if (endOfHead < 0) {
        if (head.length > 16384) fail(new Error('upgrade response too large'));
        return true;
      }
      const status = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      if (!/^HTTP\/1\.1 101/.test(status)) {
        fail(new Error(`upgrade refused: ${status}`));
        return false;
      }
      upgraded = true;
      ws.open = true;
      clearTimeout(timer);
      resolve(ws);
      const rest = head.subarray(endOfHead + 4);
      head = Buffer.alloc(0);
      if (rest.length > 0) ws.onData(rest);
      return true;
    };
    const socket = net.connect({ port: o.port, host, noDelay: true, onread: { buffer: READ_BUFFER, callback: onRead } });
    ws = new RawWs(socket, o.handlers);
    ws.state = o.state ?? null;
    const timer = setTimeout(() => fail(new Error(`upgrade timed out after ${o.timeoutMs ?? 20000} ms`)), o.timeoutMs ?? 20000);
    const fail = (/** @type {Error} */ err) => {
      clearTimeout(timer);
      if (!upgraded) {
        socket.destroy();
        reject(err);
      }
    };
    socket.on('connect', () => {
      socket.write(
        `GET ${o.path} HTTP/1.1\r\nHost: ${host}:${o.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on('error', (err) => {
      if (!upgraded) return fail(err);
      if (!ws.closed) {
        ws.closed = true;
        ws.handlers.onClose?.(ws, err);
      }
    });
    socket.on('close', () => {
      if (!upgraded) return fail(new Error('connection closed during upgrade'));
      if (!ws.closed) {
        ws.closed = true;
        ws.handlers.onClose?.(ws);
      }
    });
  });
}
