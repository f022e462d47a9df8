import type { Writable } from 'node:stream';

// The delivery hot path. On loopback and LANs a send syscall costs ~10 µs, far more than the
// JavaScript around it, so the goal is fewer syscalls: each message is framed once (not once per
// recipient, as ws.send would), and a socket written several times in one JavaScript job (a
// group commit delivers many messages in one) gets them in one writev at the end of that job.
// Nothing waits for a later event-loop turn: the flush runs on process.nextTick, right after the
// job that wrote, so a lone frame goes out as soon as the current delivery pass ends.

/** Builds an unmasked, final WebSocket frame (RFC 6455 §5.2) around a payload. */
export function encodeFrame(payload: Uint8Array, binary: boolean): Buffer {
  const len = payload.byteLength;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + len);
  frame[0] = 0x80 | (binary ? 0x02 : 0x01);
  if (head === 2) {
    frame[1] = len;
  } else if (head === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    frame.writeUInt32BE(len >>> 0, 6);
  }
  frame.set(payload, head);
  return frame;
}

/**
 * Frames payloads, reusing the last frame while the same payload goes to one recipient after
 * another (a room delivery hands every member the same bytes).
 */
export class FrameCache {
  private lastPayload: Uint8Array | null = null;
  private lastBinary = false;
  private lastFrame: Buffer | null = null;

  frame(payload: Uint8Array, binary: boolean): Buffer {
    if (payload === this.lastPayload && binary === this.lastBinary && this.lastFrame) return this.lastFrame;
    const frame = encodeFrame(payload, binary);
    this.lastPayload = payload;
    this.lastBinary = binary;
    this.lastFrame = frame;
    return frame;
  }
}

/** Corks sockets on their first write in a job and uncorks them all once the job is done. */
export class CoalescingWriter {
  private readonly corked: Writable[] = [];
  private scheduled = false;

  write(socket: Writable, frame: Buffer): void {
    if (!socket.writableCorked) {
      socket.cork();
      this.corked.push(socket);
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(this.flush);
      }
    }
    socket.write(frame);
  }

  /** Writes out everything corked so far (one writev per socket). */
  readonly flush = (): void => {
    this.scheduled = false;
    const sockets = this.corked.splice(0);
    for (const s of sockets) {
      // A socket may have been corked more than once (by ws inside the job): undo them all.
      while (s.writableCorked > 0) s.uncork();
    }
  };
}
