import type { PresenceEvent, RoomInfo, TypingEvent, UserRef } from '@roomcast/protocol';
import { Emitter, type Listener } from './emitter.js';
import { isTransient, RETRY_AFTER_MS, RoomcastError } from './errors.js';
import { Feed, type FeedLink } from './feed.js';
import { isMsgEvent, toMessage, type Message } from './messages.js';
import type { ResolvedOptions } from './options.js';
import { cancel, later, now, type TimerHandle } from './timers.js';
import type { BinaryOptions, HistoryOptions, HistoryPage, MemberInfo, PostContent, SendOptions, SendResult } from './types.js';

/** @internal What a Room needs from its client: the connection to talk over, and its settings. */
export interface RoomLink extends FeedLink {
  readonly options: Pick<ResolvedOptions, 'history' | 'typingInterval' | 'requestTimeout'>;
  /** A frame without a reply (typing): only while connected, never queued. */
  fire(body: Record<string, unknown>): void;
  /** A message through the client's outbox: resolves once stored. */
  post(target: { room: string }, content: PostContent): Promise<SendResult>;
}

// ---- the room's events ----

export type PresenceContext = { room: Room; online: number; members: readonly UserRef[] } & (
  | { event: 'join' | 'leave'; user: UserRef }
  /** The room was (re)joined: `online` and `members` were fetched anew. */
  | { event: 'sync' }
);

export interface TypingContext {
  room: Room;
  user: UserRef;
}

export interface UpdateContext {
  room: Room;
  info: RoomInfo;
}

export interface ClosedContext {
  room: Room;
  /** left: `leave()`; kicked/deleted: by the owner or an admin; error: a re-join was refused. */
  reason: 'left' | 'kicked' | 'deleted' | 'error';
  error?: RoomcastError;
}

export interface RoomEvents {
  /** Every message of the room, in seq order, each exactly once (your own sends included). */
  message: Message;
  presence: PresenceContext;
  typing: TypingContext;
  /** The owner changed the room's title or capacity. */
  update: UpdateContext;
  /** This client no longer receives the room. */
  closed: ClosedContext;
}

/**
 * A room this client follows: its messages in order and exactly once, presence, and the
 * requests that act on it. Get one from `chat.join(id)` or `chat.create()`.
 */
export class Room {
  private roomInfo: RoomInfo | null = null;
  private onlineCount = 0;
  private onlineMembers: readonly UserRef[] = [];

  private readonly events = new Emitter<RoomEvents>();
  /** Its messages: ordering, holding for the app, gap filling. */
  private readonly feed: Feed;
  /** The app joined it: re-joined after every reconnect. A direct room followed only for `dm` is not. */
  private wanted = false;
  private joining = false;
  private historyCount: number;
  private ready: Promise<Room> | null = null;
  private readyWaiter: { resolve: (r: Room) => void; reject: (e: RoomcastError) => void; timer: TimerHandle } | null = null;
  private retryTimer: TimerHandle | undefined;
  /** Bumped whenever the connection ends: a join reply from before is not acted on. */
  private round = 0;
  private lastTyping = -Infinity;
  private ended = false;

  /** @internal */
  constructor(
    private readonly link: RoomLink,
    readonly id: string,
    position?: number,
  ) {
    this.feed = new Feed(link, id, position, (m) => this.events.emit('message', m));
    this.historyCount = link.options.history;
  }

  /** Settings from the last join (null until the first join answered). */
  get info(): RoomInfo | null {
    return this.roomInfo;
  }

  /** Distinct users online in the room. */
  get online(): number {
    return this.onlineCount;
  }

  /** Users online in the room (from the join, kept current by presence events). */
  get members(): readonly UserRef[] {
    return this.onlineMembers;
  }

  /** Seq of the last message delivered in order; store it to resume later with `join(id, { since })`. */
  get lastSeq(): number {
    return this.feed.lastSeq;
  }

  /** Joined on the current connection. */
  get joined(): boolean {
    return this.feed.live && this.wanted;
  }

  /** Adds a listener; returns its unsubscribe function. */
  on<K extends keyof RoomEvents>(event: K, listener: Listener<RoomEvents[K]>): () => void {
    return this.events.on(event, listener);
  }

  /**
   * Sends a text message. Resolves once the server stored it (`{seq, ts}`); while offline the
   * message waits in the outbox and goes out after the reconnect with the same id, so it is
   * stored once however often it is retried.
   * @example const { seq } = await room.send('hello');
   */
  send(text: string, options: SendOptions = {}): Promise<SendResult> {
    return this.link.post({ room: this.id }, { ...options, text });
  }

  /**
   * Sends bytes (an image, a file) as a binary message.
   * @example await room.sendBinary(png, { mime: 'image/png', name: 'cat.png' });
   */
  sendBinary(data: Uint8Array | ArrayBuffer, options: BinaryOptions): Promise<SendResult> {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    return this.link.post({ room: this.id }, { ...options, data: bytes });
  }

  /** Pages back through stored messages (oldest first within a page). */
  async history(options: HistoryOptions = {}): Promise<HistoryPage> {
    const body: Record<string, unknown> = { op: 'history', room: this.id };
    if (options.before !== undefined) body.before = options.before;
    if (options.limit !== undefined) body.limit = options.limit;
    const r = await this.request(body);
    const raw = Array.isArray(r.messages) ? (r.messages as unknown[]) : [];
    return { messages: raw.filter(isMsgEvent).map((e) => toMessage(e, this.link.userId)), more: r.more === true };
  }

  /** Moves your read cursor (never backwards); defaults to the last delivered message. */
  async markRead(seq: number = this.lastSeq): Promise<{ readSeq: number; unread: number }> {
    const r = await this.request({ op: 'read', room: this.id, seq });
    return { readSeq: Number(r.readSeq), unread: Number(r.unread) };
  }

  /**
   * Tells the others you are typing. Call it on every keystroke: it sends at most once per
   * `typingInterval` and never while offline (a stale typing notice is worse than none).
   */
  typing(): void {
    const t = now();
    if (!this.joined || !this.link.connected || t - this.lastTyping < this.link.options.typingInterval) return;
    this.lastTyping = t;
    this.link.fire({ op: 'typing', room: this.id });
  }

  /** Every member with an online flag (`members` holds only those online). */
  async listMembers(): Promise<MemberInfo[]> {
    const r = await this.request({ op: 'members', room: this.id });
    return Array.isArray(r.members) ? (r.members as MemberInfo[]) : [];
  }

  /** Ends your membership. The room stops delivering at once; resolves when the server agreed. */
  async leave(): Promise<void> {
    this.end('left');
    try {
      await this.request({ op: 'leave', room: this.id });
    } catch (err) {
      // Not a member (any more) is what leaving wanted.
      if (!(err instanceof RoomcastError && err.code === 'not_member')) throw err;
    }
  }

  // ---- driven by the client ---------------------------------------------------------------------

  /** @internal The app asked to join; `since` resumes from a stored position. */
  want(options: { since?: number | undefined; history?: number | undefined }): Promise<Room> {
    if (this.ready) return this.ready;
    this.wanted = true;
    this.feed.hold();
    if (options.since !== undefined) this.feed.startAt(options.since);
    if (options.history !== undefined) this.historyCount = options.history;
    this.ready = new Promise<Room>((resolve, reject) => {
      const ms = this.link.options.requestTimeout;
      const timer = later(() => {
        const err = new RoomcastError('timeout', `joining room "${this.id}" took over ${ms} ms; check the connection and retry`);
        this.end('error', err);
      }, ms);
      this.readyWaiter = { resolve, reject, timer };
    });
    if (this.link.connected && !this.joining) this.startJoin();
    return this.ready;
  }

  /** @internal The server answered a `create`: joined, at position `lastSeq`. */
  created(reply: Record<string, unknown>): void {
    this.wanted = true;
    this.historyCount = 0;
    this.ready = Promise.resolve(this);
    this.feed.hold();
    this.joinedWith(reply);
  }

  /** @internal A new connection is ready: re-join, or for a followed direct room, catch up. */
  resume(lastSeqOnServer: number | undefined): void {
    if (this.ended) return;
    if (this.wanted || (lastSeqOnServer !== undefined && lastSeqOnServer > this.feed.lastSeq)) this.startJoin();
    else this.feed.attached();
  }

  /** @internal The connection ended: whatever was in flight is void. */
  disconnected(): void {
    this.round++;
    this.joining = false;
    cancel(this.retryTimer);
    this.retryTimer = undefined;
    this.feed.disconnected();
  }

  /** @internal A `msg` from the server, or our own message the server acknowledged. */
  receive(message: Message): void {
    if (!this.ended) this.feed.offer(message);
  }

  /** @internal */
  presence(e: PresenceEvent): void {
    if (this.ended) return;
    const others = this.onlineMembers.filter((u) => u.id !== e.user.id);
    this.onlineMembers = e.event === 'join' ? [...others, e.user] : others;
    this.onlineCount = e.online;
    this.events.emit('presence', { room: this, event: e.event, user: e.user, online: e.online, members: this.onlineMembers });
  }

  /** @internal */
  typingEvent(e: TypingEvent): void {
    if (!this.ended) this.events.emit('typing', { room: this, user: e.user });
  }

  /** @internal A `room` event: new settings, or the room is gone for us. */
  changed(info: RoomInfo & { deleted?: boolean; kicked?: boolean }): void {
    if (this.ended) return;
    if (info.deleted) return this.end('deleted');
    if (info.kicked) return this.end('kicked');
    const fresh: RoomInfo = {
      id: info.id,
      title: info.title,
      capacity: info.capacity,
      visibility: info.visibility,
      persist: info.persist,
      direct: info.direct,
      owner: info.owner,
      createdAt: info.createdAt,
    };
    this.roomInfo = fresh;
    this.events.emit('update', { room: this, info: fresh });
  }

  /** @internal The client stopped: a pending join fails with the same error. */
  stopped(error: RoomcastError): void {
    this.disconnected();
    if (this.readyWaiter) {
      cancel(this.readyWaiter.timer);
      this.readyWaiter.reject(error);
      this.readyWaiter = null;
      this.ready = null;
    }
  }

  /** @internal This client no longer follows the room (its client forgets it on `closed`). */
  end(reason: ClosedContext['reason'], error?: RoomcastError): void {
    if (this.ended) return;
    this.ended = true;
    this.wanted = false;
    this.disconnected();
    if (this.readyWaiter) {
      cancel(this.readyWaiter.timer);
      this.readyWaiter.reject(error ?? new RoomcastError('not_member', `room "${this.id}" was ${reason} before the join finished`));
      this.readyWaiter = null;
    }
    this.feed.close();
    this.events.emit('closed', error ? { room: this, reason, error } : { room: this, reason });
  }

  // ---- joining --------------------------------------------------------------------------------------

  private startJoin(): void {
    this.joining = true;
    this.feed.joining();
    const round = this.round;
    const body: Record<string, unknown> = { op: 'join', room: this.id };
    // Resuming: exactly what came after our position. First time: the recent history.
    if (this.feed.positioned) body.since = this.feed.lastSeq;
    else body.history = this.historyCount;
    this.link.call(body, 'forget', false, (err, reply) => {
      if (round !== this.round || this.ended) return;
      this.joining = false;
      if (reply) this.joinedWith(reply);
      else if (err && isTransient(err.code)) this.retryLater(() => this.startJoin());
      else if (err && err.code !== 'disconnected' && err.code !== 'closed') this.end('error', err);
    });
  }

  private joinedWith(reply: Record<string, unknown>): void {
    const info = reply.room as RoomInfo;
    this.roomInfo = info;
    this.onlineCount = Number(reply.online ?? 0);
    this.onlineMembers = Array.isArray(reply.members) ? (reply.members as UserRef[]) : [];
    const first = this.feed.joined(Number(reply.lastSeq), info.persist, this.historyCount);
    if (this.readyWaiter) {
      cancel(this.readyWaiter.timer);
      this.readyWaiter.resolve(this);
      this.readyWaiter = null;
    } else if (!first) {
      this.events.emit('presence', { room: this, event: 'sync', online: this.onlineCount, members: this.onlineMembers });
    }
    this.feed.flow();
  }

  /** A request whose reply nothing else depends on; repeated after a reconnect (it is safe to). */
  private request(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => this.link.call(body, 'resend', true, (err, reply) => (reply ? resolve(reply) : reject(err))));
  }

  private retryLater(fn: () => void): void {
    cancel(this.retryTimer);
    this.retryTimer = later(() => {
      this.retryTimer = undefined;
      if (this.link.connected && !this.ended) fn();
    }, RETRY_AFTER_MS);
  }
}
