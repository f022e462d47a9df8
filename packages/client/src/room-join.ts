import { isTransient, RETRY_AFTER_MS, RoomcastError } from './errors.js';
import type { Feed } from './feed.js';
import type { ResolvedOptions } from './options.js';
import type { Pending } from './outbox.js';
import type { ReplyHandler } from './requests.js';
import { cancel, later, type TimerHandle } from './timers.js';

/** @internal What joining needs from the client. */
export interface JoinLink {
  /** A welcomed connection is up. */
  readonly connected: boolean;
  readonly options: Pick<ResolvedOptions, 'history' | 'requestTimeout'>;
  /** A request whose reply is handled synchronously (before the next frame is read). */
  call(body: Record<string, unknown>, onDrop: Pending['onDrop'], timeout: boolean, done: ReplyHandler): void;
}

/** @internal What joining tells its room. */
export interface JoinHost {
  /** The server accepted a join (or a create): take its settings and position. Returns whether it was the first. */
  accepted(reply: Record<string, unknown>, history: number): boolean;
  /** A join after the first was answered: online users were fetched anew. */
  synced(): void;
  /** Joining was refused for good, or the first join took too long: the room ends. */
  failed(error: RoomcastError): void;
}

/**
 * @internal A room's joins on every connection: the first (the app's `await chat.join()`, with
 * its timeout), the re-join after each reconnect from the last seq, the re-join that fills a gap,
 * and retries after a refusal for now. `R` is the room, what the first join resolves with.
 */
export class RoomJoin<R> {
  /** The app joined it: re-joined after every reconnect. A direct room followed only for `dm` is not. */
  wanted = false;
  private joining = false;
  private history: number;
  /** An invite link's token, sent with joins until one is accepted (a member needs none). */
  private invite: string | undefined;
  private ready: Promise<R> | null = null;
  private waiter: { resolve: (r: R) => void; reject: (e: RoomcastError) => void; timer: TimerHandle } | null = null;
  private retryTimer: TimerHandle | undefined;
  /** Bumped whenever the connection ends: a join reply from before is not acted on. */
  private round = 0;
  private ended = false;

  constructor(
    private readonly link: JoinLink,
    private readonly id: string,
    private readonly feed: Feed,
    private readonly room: R,
    private readonly host: JoinHost,
  ) {
    this.history = link.options.history;
  }

  /** The app asked to join; `since` resumes from a stored position. */
  want(options: { since?: number | undefined; history?: number | undefined; invite?: string | undefined }): Promise<R> {
    if (this.ready) return this.ready;
    this.wanted = true;
    this.invite = options.invite;
    this.feed.hold();
    if (options.since !== undefined) this.feed.startAt(options.since);
    if (options.history !== undefined) this.history = options.history;
    this.ready = new Promise<R>((resolve, reject) => {
      const ms = this.link.options.requestTimeout;
      const timer = later(() => this.host.failed(new RoomcastError('timeout', `joining room "${this.id}" took over ${ms} ms; check the connection and retry`)), ms);
      this.waiter = { resolve, reject, timer };
    });
    if (this.link.connected && !this.joining) this.start();
    return this.ready;
  }

  /** The server answered a `create`: joined, at position `lastSeq`. */
  created(reply: Record<string, unknown>): void {
    this.wanted = true;
    this.history = 0;
    this.ready = Promise.resolve(this.room);
    this.feed.hold();
    this.accepted(reply);
  }

  /** A new connection is ready: re-join, or for a followed direct room, catch up. */
  resume(lastSeqOnServer: number | undefined): void {
    if (this.ended) return;
    if (this.wanted || (lastSeqOnServer !== undefined && lastSeqOnServer > this.feed.lastSeq)) this.start();
    else this.feed.attached();
  }

  /** A gap was seen live: join again from the last seq (unless a join is on its way already). */
  rejoin(): void {
    if (!this.joining && !this.ended && this.link.connected) this.start();
  }

  /** The connection ended: whatever was in flight is void. */
  disconnected(): void {
    this.round++;
    this.joining = false;
    cancel(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** The client stopped: a pending first join fails with the same error (a later `join()` starts over). */
  stopped(error: RoomcastError): void {
    this.disconnected();
    if (this.settle(error)) this.ready = null;
  }

  /** The room ended: no more joins; a pending first join fails with `error`. */
  end(error: RoomcastError): void {
    this.ended = true;
    this.wanted = false;
    this.disconnected();
    this.settle(error);
  }

  private start(): void {
    this.joining = true;
    this.feed.joining();
    const round = this.round;
    const body: Record<string, unknown> = { op: 'join', room: this.id };
    // Resuming: exactly what came after our position. First time: the recent history.
    if (this.feed.positioned) body.since = this.feed.lastSeq;
    else body.history = this.history;
    if (this.invite !== undefined) body.invite = this.invite;
    this.link.call(body, 'forget', false, (err, reply) => {
      if (round !== this.round || this.ended) return;
      this.joining = false;
      if (reply) this.accepted(reply);
      else if (err && isTransient(err.code)) this.retryLater();
      else if (err && err.code !== 'disconnected' && err.code !== 'closed') this.host.failed(err);
    });
  }

  private accepted(reply: Record<string, unknown>): void {
    this.invite = undefined;
    const first = this.host.accepted(reply, this.history);
    if (!this.settle(null) && !first) this.host.synced();
    this.feed.flow();
  }

  /** Settles the first join's promise, if it waits: resolved without an error. Returns whether one waited. */
  private settle(error: RoomcastError | null): boolean {
    const w = this.waiter;
    if (!w) return false;
    this.waiter = null;
    cancel(w.timer);
    if (error) w.reject(error);
    else w.resolve(this.room);
    return true;
  }

  private retryLater(): void {
    cancel(this.retryTimer);
    this.retryTimer = later(() => {
      this.retryTimer = undefined;
      if (this.link.connected && !this.ended) this.start();
    }, RETRY_AFTER_MS);
  }
}
