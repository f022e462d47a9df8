import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import type { Connection } from '../core/session.js';
import type { CoalescingWriter, FrameCache } from './frame-writer.js';

/** What all connections of a gateway share for writing frames. */
export interface FrameOutput {
  frames: FrameCache;
  writer: CoalescingWriter;
}

/** How long a closing handshake may take before the socket is dropped. */
const CLOSE_GRACE_MS = 5000;

/** Close reasons are limited to 123 bytes by RFC 6455. */
function clip(reason: string): string {
  const buf = Buffer.from(reason);
  return buf.length <= 123 ? reason : buf.subarray(0, 120).toString('utf8').replace(/\uFFFD$/, '') + '...';
}

/** A `ws` WebSocket as the core's Connection. */
export class WsConnection implements Connection {
  /** Last time anything (a frame or a pong) arrived, ms. */
  lastSeen = Date.now();
  /** Last time the heartbeat pinged it, ms. */
  lastPingAt = 0;
  private closing = false;

  constructor(
    readonly id: string,
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
    readonly ip: string,
    private readonly out: FrameOutput,
  ) {}

  /**
   * Writes a frame straight to the socket: ws would frame it again for every recipient. Safe
   * beside ws's own writes (pings, close): ws compresses nothing here, so it never holds frames
   * back in a queue, and both write whole frames to the same stream in call order.
   */
  send(data: Uint8Array, binary: boolean): void {
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) return;
    this.out.writer.write(this.socket, this.out.frames.frame(data, binary));
  }

  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(code, clip(reason));
    }
    // A peer that stopped reading never completes the handshake: drop it after a grace period.
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  ping(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
  }

  terminate(): void {
    this.closing = true;
    this.ws.terminate();
  }

  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  get isOpen(): boolean {
    return !this.closing && this.ws.readyState === WebSocket.OPEN;
  }

  drained(): Promise<void> {
    if (this.socket.writableLength === 0 || !this.isOpen) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }
}
