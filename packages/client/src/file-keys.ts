import { isTransient, RETRY_AFTER_MS, type RoomcastError } from './errors.js';
import type { Pending } from './outbox.js';
import type { ReplyHandler } from './requests.js';
import { cancel, later, now, type TimerHandle } from './timers.js';
import type { FileKeyContext } from './types.js';

/** A file key refresh comes at half the key's life, but never sooner than this after the last (ms)… */
const MIN_REFRESH_MS = 10_000;
/** …nor later: a client clock far behind the server's must not let the key run out first. */
const MAX_REFRESH_MS = 30 * 60_000;

/** @internal What the file keys need from the client. */
export interface FileKeyLink {
  call(body: Record<string, unknown>, onDrop: Pending['onDrop'], timeout: boolean, done: ReplyHandler): void;
}

/**
 * @internal The current file key: asked for after every `welcome`, asked for again at half its
 * life, so file URLs carry a key that fetches files and nothing else instead of the sign-in
 * token. One timer at most, none once the connection is gone or the client stopped.
 */
export class FileKeys {
  private current: FileKeyContext | null = null;
  /** Past half its life (or none yet): `fresh()` waits for the next one. */
  private stale = true;
  /** The server does not know `filekey` (an older one): file URLs carry the token, as they did. */
  private legacy = false;
  private timer: TimerHandle | undefined;
  /** Bumped by every connection and every stop: an older connection's reply is not acted on. */
  private round = 0;
  private waiters: Array<{ resolve: () => void; reject: (e: RoomcastError) => void }> = [];
  private stoppedWith: RoomcastError | null = null;

  constructor(
    private readonly link: FileKeyLink,
    private readonly announce: (ctx: FileKeyContext) => void,
  ) {}

  /** The current key, or null before the first one arrived (and after `close()`). */
  get key(): string | null {
    return this.current?.key ?? null;
  }

  /** The server has no file keys: URLs fall back to the sign-in token. */
  get usesToken(): boolean {
    return this.legacy;
  }

  /** A connection said welcome (and its waiting requests went out): ask for a key on it. */
  welcomed(): void {
    this.round++;
    this.stoppedWith = null;
    this.legacy = false;
    cancel(this.timer);
    this.timer = undefined;
    this.fetch(this.round);
  }

  /** The connection ended: no timer runs until the next `welcome` (the key itself stays usable). */
  lost(): void {
    this.round++;
    cancel(this.timer);
    this.timer = undefined;
  }

  /** The client stopped: the key is forgotten and waiting `fresh()` calls fail with `error`. */
  stopped(error: RoomcastError): void {
    this.lost();
    this.current = null;
    this.stale = true;
    this.stoppedWith = error;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(error);
  }

  /** Resolves once a key within the first half of its life is there (or the server has none to give). */
  fresh(): Promise<void> {
    if (this.legacy || (this.current && !this.stale)) return Promise.resolve();
    if (this.stoppedWith) return Promise.reject(this.stoppedWith);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private fetch(round: number): void {
    const sentAt = now();
    // No timeout of its own: a connection that stops answering is dropped by the heartbeat, and
    // the next one asks again.
    this.link.call({ op: 'filekey' }, 'forget', false, (err, reply) => {
      if (round !== this.round) return;
      if (reply && typeof reply.key === 'string' && typeof reply.expires === 'number') {
        this.current = { key: reply.key, expires: reply.expires };
        this.stale = false;
        // Measured from when we asked, on our own clock: the server's may differ from ours.
        this.schedule(round, Math.min(MAX_REFRESH_MS, Math.max(MIN_REFRESH_MS, (reply.expires - sentAt) / 2)), true);
        this.announce({ ...this.current });
        this.release();
      } else if (err?.code === 'bad_request') {
        this.legacy = true;
        this.release();
      } else if (err && isTransient(err.code)) {
        // Refused for now (rate limited): ask again shortly, on the same connection.
        this.schedule(round, RETRY_AFTER_MS, false);
      }
    });
  }

  private schedule(round: number, ms: number, halfLife: boolean): void {
    cancel(this.timer);
    this.timer = later(() => {
      this.timer = undefined;
      if (round !== this.round) return;
      if (halfLife) this.stale = true;
      this.fetch(round);
    }, ms);
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve();
  }
}
