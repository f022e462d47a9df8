import { cancel, later, now, type TimerHandle } from './timers.js';

/**
 * Keeps outgoing frames under the server's per-connection rate (`welcome.limits.ratePerSec`),
 * in order. The server refuses frames over its limit with `rate_limited`; pacing here means a
 * reconnect that replays many joins and queued sends is never refused half-way, which would
 * break the order of the sends. Bursts are limited to one second's worth (the server allows
 * two), leaving room for frames that bunch up on the way.
 */
export class Pacer {
  private tokens: number;
  private last = now();
  private readonly queue: Array<{ frame: string | Uint8Array; sent?: () => void }> = [];
  private timer: TimerHandle | undefined;
  private stopped = false;

  /** `ratePerSec` 0 means no limit. */
  constructor(
    private readonly ratePerSec: number,
    private readonly write: (frame: string | Uint8Array) => void,
  ) {
    this.tokens = ratePerSec;
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
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
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
