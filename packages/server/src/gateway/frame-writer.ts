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

/** A connection's frames held by a CoalescingWriter until the end of the current job. */
export interface FrameQueue {
  /** The first frame queued in this job, or null when nothing is queued. */
  queued: Buffer | null;
  /** Frames after the first (null until a second one comes: most sockets get one per job). */
  queuedMore: Buffer[] | null;
  queuedBytes: number;
  /** Writes out and clears what is queued. */
  writeQueued(): void;
}

/**
 * Holds each connection's frames until the JavaScript job that wrote them is done, then writes
 * them: a lone frame with a plain write, several with one writev. Holding frames in the
 * connection (not in a corked stream) keeps the lone-frame case, which is most of a many-rooms
 * load, free of the stream's buffering objects.
 */
export class CoalescingWriter {
  private readonly pending: FrameQueue[] = [];
  private scheduled = false;

  write(q: FrameQueue, frame: Buffer): void {
    if (q.queued === null) {
      q.queued = frame;
      this.pending.push(q);
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(this.flush);
      }
    } else if (q.queuedMore === null) {
      q.queuedMore = [frame];
    } else {
      q.queuedMore.push(frame);
    }
    q.queuedBytes += frame.byteLength;
  }

  /** Writes out everything queued so far. */
  readonly flush = (): void => {
    this.scheduled = false;
    const pending = this.pending;
    // By index: a write can fail synchronously and close a connection, which may queue more.
    for (let i = 0; i < pending.length; i++) pending[i]!.writeQueued();
    pending.length = 0;
  };
}

/**
 * Empties a queue into its socket: one write for a lone frame, one writev for several; when
 * `open` is false (a close frame already went out) what was queued is dropped.
 */
export function writeQueuedTo(q: FrameQueue, socket: Writable, open: boolean): void {
  const first = q.queued;
  const more = q.queuedMore;
  q.queued = null;
  q.queuedMore = null;
  q.queuedBytes = 0;
  if (first === null || !open) return;
  if (more === null) {
    socket.write(first);
    return;
  }
  socket.cork();
  socket.write(first);
  for (const frame of more) socket.write(frame);
  socket.uncork();
}
