import { cancel, later, now, type TimerHandle } from './timers.js';

/**
 * Client-side liveness. Browsers cannot see the server's WebSocket pings, and a connection cut
 * somewhere on the path (a stalled proxy, a phone changing networks) may never report a close.
 * So: after `interval` ms without any frame, send an application `ping`; after two intervals
 * without any frame, the connection is dead and `onDead` replaces it.
 */
export class Heartbeat {
  private lastSeen = now();
  private pinged = false;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    readonly interval: number,
    private readonly onIdle: () => void,
    private readonly onDead: () => void,
  ) {
    this.arm(this.lastSeen + interval);
  }

  /** Something arrived. Cheap on purpose: called for every frame, it never touches the timer. */
  touch(): void {
    this.lastSeen = now();
    this.pinged = false;
  }

  stop(): void {
    this.stopped = true;
    cancel(this.timer);
    this.timer = undefined;
  }

  private arm(at: number): void {
    this.timer = later(() => this.check(), Math.max(1, at - now()));
  }

  private check(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const idle = now() - this.lastSeen;
    if (idle >= 2 * this.interval) {
      this.stop();
      this.onDead();
      return;
    }
    if (idle >= this.interval) {
      if (!this.pinged) {
        this.pinged = true;
        this.onIdle();
      }
      this.arm(this.lastSeen + 2 * this.interval);
    } else {
      this.arm(this.lastSeen + this.interval);
    }
  }
}
