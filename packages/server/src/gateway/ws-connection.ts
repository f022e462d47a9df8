import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import type { Connection } from '../core/session.js';
import { writeQueuedTo, type CoalescingWriter, type FrameCache, type FrameQueue } from './frame-writer.js';

/** What all connections of a gateway share for writing frames. */
export interface FrameOutput {
  frames: FrameCache;
  writer: CoalescingWriter;
}

/** How long a closing handshake may take before the socket is dropped. */
const CLOSE_GRACE_MS = 5000;
/** The same for a connection closed without reading it any more: time for our close frame to leave. */
const STOPPED_GRACE_MS = 1000;

/** Close reasons are limited to 123 bytes by RFC 6455. */
function clip(reason: string): string {
  const buf = Buffer.from(reason);
  return buf.length <= 123 ? reason : buf.subarray(0, 120).toString('utf8').replace(/\uFFFD$/, '') + '...';
}

/** A `ws` WebSocket as the core's Connection. */
export class WsConnection implements Connection, FrameQueue {
  /** Last time anything (a frame or a pong) arrived, ms. */
  lastSeen = Date.now();
  /** Last time the heartbeat pinged it, ms. */
  lastPingAt = 0;
  queued: Buffer | null = null;
  queuedMore: Buffer[] | null = null;
  queuedBytes = 0;
  private closing = false;

  constructor(
    readonly id: string,
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
    readonly ip: string,
    private readonly out: FrameOutput,
  ) {}

  /**
   * Queues a frame for the socket, written at the end of the job (see CoalescingWriter); ws would
   * frame it again for every recipient. Safe beside ws's own writes: ws compresses nothing here,
   * both write whole frames, a ping or pong may go between two messages, and what is queued goes
   * out before our close frame and never after the peer's.
   */
  send(data: Uint8Array, binary: boolean): void {
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) return;
    this.out.writer.write(this, this.out.frames.frame(data, binary));
  }

  writeQueued(): void {
    // Once a close frame went either way, nothing more may be sent (RFC 6455 §5.5.1).
    writeQueuedTo(this, this.socket, this.ws.readyState === WebSocket.OPEN);
  }

  close(code: number, reason: string, stopReading = false): void {
    // ws.pause, not the socket's: ws resumes its socket when its parser drains unless paused itself.
    if (stopReading) this.ws.pause();
    if (this.closing) return;
    this.writeQueued();
    this.closing = true;
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(code, clip(reason));
    }
    // A peer that stopped reading never completes the handshake: drop it after a grace period
    // (a short one when we stopped reading it: its close frame would not be read anyway).
    setTimeout(() => this.ws.terminate(), stopReading ? STOPPED_GRACE_MS : CLOSE_GRACE_MS).unref();
  }

  ping(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
  }

  terminate(): void {
    this.closing = true;
    this.queued = null;
    this.queuedMore = null;
    this.queuedBytes = 0;
    this.ws.terminate();
  }

  get bufferedAmount(): number {
    return this.socket.writableLength + this.queuedBytes;
  }

  get taken(): number {
    // bytesWritten counts what was handed to the socket, buffered bytes included.
    const written = (this.socket as Duplex & { bytesWritten?: number }).bytesWritten ?? 0;
    return written - this.socket.writableLength;
  }

  get isOpen(): boolean {
    return !this.closing && this.ws.readyState === WebSocket.OPEN;
  }

  drained(): Promise<void> {
    // Queued frames are written on the next tick (the writer's flush was scheduled first).
    if (this.queuedBytes > 0) return new Promise<void>((resolve) => process.nextTick(resolve)).then(() => this.drained());
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
