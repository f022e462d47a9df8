import { asRunnerError, backoffMs, LinkUnavailableError, within } from './redis-link-common.js';
import type { RedisLinkEvents } from './redis-types.js';

/**
 * The life cycle both RedisLinks share (one server: a connection pair; a Redis Cluster: a Cluster
 * client): one generation of connections at a time, up or down, a heartbeat, and after the first
 * sign of trouble the whole generation thrown away (a half-dead connection may never error by
 * itself) and a fresh one built with backoff until Redis answers again, then onUp. A subclass
 * says how a generation is opened, pinged and released.
 */
export abstract class RevivingLink<G> {
  /** The current generation; null while down. */
  protected gen: G | null = null;
  protected up = false;
  protected closed = false;
  private heartbeat: NodeJS.Timeout | null = null;
  private reviveTimer: NodeJS.Timeout | null = null;
  private attempts = 0;

  constructor(
    protected readonly events: RedisLinkEvents,
    /** Command timeout, ms; the heartbeat runs every half of it. */
    protected readonly timeoutMs: number,
    /** How long one revival attempt may take before the next is tried. */
    private readonly reviveWithinMs: number,
  ) {}

  get available(): boolean {
    return this.up;
  }

  /** Builds a fresh generation (setting `gen`), checks it answers, subscribes the channel set. */
  protected abstract open(): Promise<void>;
  /** PINGs every connection of a generation; rejects when one does not answer. */
  protected abstract pingAll(gen: G): Promise<unknown>;
  /** Disconnects a generation that was thrown away. */
  protected abstract release(gen: G): void;

  /** After a successful first connect. */
  protected started(): void {
    this.up = true;
    const every = Math.max(50, Math.floor(this.timeoutMs / 2));
    this.heartbeat = setInterval(() => {
      const gen = this.gen;
      if (!this.up || !gen) return;
      this.pingAll(gen).catch((err: Error) => this.down(gen, `heartbeat: ${err.message}`));
    }, every);
    this.heartbeat.unref();
  }

  /** Marks the link down (once per generation) and starts building a fresh one. */
  protected down(gen: G, reason: string): void {
    if (this.closed || this.gen !== gen || !this.up) return;
    this.up = false;
    this.drop();
    this.events.onDown?.(reason);
    this.scheduleRevive();
  }

  protected drop(): void {
    const gen = this.gen;
    this.gen = null;
    if (gen) this.release(gen);
  }

  private scheduleRevive(): void {
    if (this.closed || this.reviveTimer) return;
    this.reviveTimer = setTimeout(() => {
      this.reviveTimer = null;
      void this.revive();
    }, backoffMs(++this.attempts));
    this.reviveTimer.unref();
  }

  private async revive(): Promise<void> {
    if (this.closed) return;
    try {
      await within(this.open(), this.reviveWithinMs, () => new Error('no answer'));
    } catch {
      this.drop();
      this.scheduleRevive();
      return;
    }
    if (this.closed) return this.drop();
    this.attempts = 0;
    this.up = true;
    this.events.onUp?.();
  }

  /** The live generation, or `unavailable` at once while the link is down. */
  protected live(): G {
    if (!this.up || !this.gen) throw new LinkUnavailableError();
    return this.gen;
  }

  /** Maps a failure: a lost connection or timeout marks the link down; a script error passes. */
  protected fail(gen: G, err: unknown): never {
    const mapped = asRunnerError(err);
    if (mapped instanceof LinkUnavailableError) this.down(gen, mapped.reason);
    throw mapped;
  }

  /**
   * Runs a (un)subscribe on the live generation, bounded by the timeout: a subscriber in a silent
   * partition never answers, and a room's first join or last leave must not wait for the
   * heartbeat to notice. While down it does nothing: the next generation subscribes the set.
   */
  protected async onLive(what: string, run: (gen: G) => Promise<unknown>): Promise<void> {
    const gen = this.gen;
    if (!this.up || !gen) return;
    try {
      await within(run(gen), this.timeoutMs, () => new LinkUnavailableError(`${what} timed out`));
    } catch (err) {
      this.fail(gen, err);
    }
  }

  /** Stops the heartbeat and any revival; returns the generation left to close. */
  protected stop(): G | null {
    this.closed = true;
    this.up = false;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.reviveTimer) clearTimeout(this.reviveTimer);
    this.heartbeat = this.reviveTimer = null;
    const gen = this.gen;
    this.gen = null;
    return gen;
  }
}
