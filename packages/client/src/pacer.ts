import { cancel, later, now, type TimerHandle } from './timers.js';

/** How long after `welcome` the resume burst is used, ms (the server's window is 10 s). */
export const RESUME_USE_MS = 5000;

/**
 * Keeps outgoing frames under the server's per-connection rate (`welcome.limits.ratePerSec`),
 * in order. The server refuses frames over its limit with `rate_limited`; pacing here means a
 * reconnect that replays many joins and queued sends is never refused half-way, which would
 * break the order of the sends. Bursts are limited to one second's worth (the server allows
 * two), leaving room for frames that bunch up on the way.
 *
 * Right after `welcome` the server may also grant a resume burst (`limits.resumeBurst`): that
 * many frames beyond the rate, so the replayed joins and queued sends go out in one go. They are
 * spent only once the rate budget is empty, in the same order, and only for RESUME_USE_MS (the
 * server keeps the grant open for 10 s after sending `welcome`; half that leaves room for the
 * time the welcome took to arrive).
 */
export class Pacer {
  private tokens: number;
  private last = now();
  private readonly queue: Array<{ frame: string | Uint8Array; sent?: () => void }> = [];
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** Frames left of the resume burst, usable until `extraUntil`. */
  private extra: number;
  private readonly extraUntil: number;

  /** `ratePerSec` 0 means no limit; `resumeBurst`: extra frames the server granted after welcome. */
  constructor(
    private readonly ratePerSec: number,
    private readonly write: (frame: string | Uint8Array) => void,
    resumeBurst = 0,
  ) {
    this.tokens = ratePerSec;
    this.extra = Math.max(0, Math.floor(resumeBurst));
    this.extraUntil = this.last + RESUME_USE_MS;
  }

  /** Frames of the resume burst not spent yet (0 once its time is over). */
  get burstLeft(): number {
    return now() < this.extraUntil ? this.extra : 0;
  }

  /** Writes the frame now if the budget allows, else after the frames queued before it. */
  push(frame: string | Uint8Array, sent?: () => void): void {
    if (this.stopped) return;
    if (this.queue.length === 0 && this.take()) {
      this.write(frame);
      sent?.();
      return;
    }
    this.queue.push(sent ? { frame, sent } : { frame });
    this.schedule();
  }

  /** Frames waiting for budget. */
  get queued(): number {
    return this.queue.length;
  }

  /** Drops whatever is queued (the connection is gone; the client replays what matters). */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    cancel(this.timer);
    this.timer = undefined;
  }

  private take(): boolean {
    if (this.ratePerSec <= 0) return true;
    const t = now();
    this.tokens = Math.min(this.ratePerSec, this.tokens + ((t - this.last) * this.ratePerSec) / 1000);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    if (this.extra > 0 && t < this.extraUntil) {
      this.extra--;
      return true;
    }
    return false;
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSec));
    this.timer = later(() => {
      this.timer = undefined;
      this.drain();
    }, wait);
  }

  private drain(): void {
    while (!this.stopped && this.queue.length > 0 && this.take()) {
      const item = this.queue.shift() as { frame: string | Uint8Array; sent?: () => void };
      this.write(item.frame);
      item.sent?.();
    }
    if (!this.stopped && this.queue.length > 0) this.schedule();
  }
}
