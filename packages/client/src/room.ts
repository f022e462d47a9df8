import type { PresenceEvent, RoomInfo, TypingEvent, UserRef } from '@roomcast/protocol';
import { Emitter, type Listener } from './emitter.js';
import { isTransient, RoomcastError } from './errors.js';
import { isMsgEvent, toMessage, type Message } from './messages.js';
import type { Pending } from './outbox.js';
import { Sequencer } from './sequencer.js';
import { cancel, later, now, type TimerHandle } from './timers.js';
import type { BinaryOptions, ClosedContext, HistoryOptions, HistoryPage, MemberInfo, PostContent, RoomEvents, SendOptions, SendResult } from './types.js';

/** @internal What a Room needs from its client. */
export interface RoomHost {
  readonly userId: string | null;
  readonly connected: boolean;
  /** Changes whenever a connection ends: replies from before are not acted on. */
  readonly epoch: number;
  readonly historyCount: number;
  readonly typingInterval: number;
  readonly requestTimeout: number;
  request(body: Record<string, unknown>, onDrop: Pending['onDrop'], timeout: boolean): Promise<Record<string, unknown>>;
  /** Like request, with the reply handled synchronously (before the next frame is read). */
  call(
    body: Record<string, unknown>,
    onDrop: Pending['onDrop'],
    timeout: boolean,
    done: (error: RoomcastError | null, reply: Record<string, unknown> | null) => void,
  ): void;
  post(room: Room, content: PostContent): Promise<SendResult>;
  fire(body: Record<string, unknown>): void;
  forget(room: Room): void;
  delivered(message: Message): void;
  duplicate(): void;
  filled(count: number): void;
  report(error: RoomcastError, room: string): void;
}

/** Pause, ms, before repeating a request the server refused for now (rate limit). */
const RETRY_MS = 1000;
/** The server's largest history page. */
const MAX_PAGE = 200;

/**
 * A room this client follows: its messages in order and exactly once, presence, and the
 * requests that act on it. Get one from `chat.join(id)` or `chat.create()`.
 */
export class Room {
  private roomInfo: RoomInfo | null = null;
  private onlineCount = 0;
  private onlineMembers: readonly UserRef[] = [];

  private readonly events = new Emitter<RoomEvents>();
  private readonly seq: Sequencer<Message>;
  /** Whether `seq` has a real position yet (a first join without `since` learns it from the reply). */
  private positioned: boolean;
  /** The app joined it: re-joined after every reconnect. A direct room followed only for `dm` is not. */
  private wanted = false;
  /** Joined (or, for a followed direct room, attached) on the current connection. */
  private live = false;
  private joining = false;
  /** The join's backlog runs up to this seq; a gap below it is not a gap yet. */
  private backlogUntil = 0;
  private filling = false;
  private historyCount: number;
  /** Until the app had its turn after `join()` resolved, messages wait here (see `startHold`). */
  private holding = false;
  private held: Message[] = [];
  private ready: Promise<Room> | null = null;
  private readyWaiter: { resolve: (r: Room) => void; reject: (e: RoomcastError) => void; timer: TimerHandle } | null = null;
  private retryTimer: TimerHandle | undefined;
  private lastTyping = -Infinity;
  private ended = false;

  /** @internal */
  constructor(
    private readonly host: RoomHost,
    readonly id: string,
    position?: number,
  ) {
    this.seq = new Sequencer(position ?? 0);
    this.positioned = position !== undefined;
    this.historyCount = host.historyCount;
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
    return this.seq.lastSeq;
  }

  /** Joined on the current connection. */
  get joined(): boolean {
    return this.live && this.wanted;
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
    return this.host.post(this, { ...options, text });
  }

  /**
   * Sends bytes (an image, a file) as a binary message.
   * @example await room.sendBinary(png, { mime: 'image/png', name: 'cat.png' });
   */
  sendBinary(data: Uint8Array | ArrayBuffer, options: BinaryOptions): Promise<SendResult> {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    return this.host.post(this, { ...options, data: bytes });
  }

  /** Pages back through stored messages (oldest first within a page). */
  async history(options: HistoryOptions = {}): Promise<HistoryPage> {
    const body: Record<string, unknown> = { op: 'history', room: this.id };
    if (options.before !== undefined) body.before = options.before;
    if (options.limit !== undefined) body.limit = options.limit;
    const r = await this.host.request(body, 'resend', true);
    const raw = Array.isArray(r.messages) ? (r.messages as unknown[]) : [];
    return { messages: raw.filter(isMsgEvent).map((e) => toMessage(e, this.host.userId)), more: r.more === true };
  }

  /** Moves your read cursor (never backwards); defaults to the last delivered message. */
  async markRead(seq: number = this.lastSeq): Promise<{ readSeq: number; unread: number }> {
    const r = await this.host.request({ op: 'read', room: this.id, seq }, 'resend', true);
    return { readSeq: Number(r.readSeq), unread: Number(r.unread) };
  }

  /**
   * Tells the others you are typing. Call it on every keystroke: it sends at most once per
   * `typingInterval` and never while offline (a stale typing notice is worse than none).
   */
  typing(): void {
    const t = now();
    if (!this.joined || !this.host.connected || t - this.lastTyping < this.host.typingInterval) return;
    this.lastTyping = t;
    this.host.fire({ op: 'typing', room: this.id });
  }

  /** Every member with an online flag (`members` holds only those online). */
  async listMembers(): Promise<MemberInfo[]> {
    const r = await this.host.request({ op: 'members', room: this.id }, 'resend', true);
    return Array.isArray(r.members) ? (r.members as MemberInfo[]) : [];
  }

  /** Ends your membership. The room stops delivering at once; resolves when the server agreed. */
  async leave(): Promise<void> {
    this.end('left');
    try {
      await this.host.request({ op: 'leave', room: this.id }, 'resend', true);
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
    this.startHold();
    if (options.since !== undefined && !this.positioned) {
      this.seq.reset(options.since);
      this.positioned = true;
    }
    if (options.history !== undefined) this.historyCount = options.history;
    this.ready = new Promise<Room>((resolve, reject) => {
      const timer = later(() => {
        const err = new RoomcastError('timeout', `joining room "${this.id}" took over ${this.host.requestTimeout} ms; check the connection and retry`);
        this.end('error', err);
      }, this.host.requestTimeout);
      this.readyWaiter = { resolve, reject, timer };
    });
    if (this.host.connected && !this.joining) this.startJoin();
    return this.ready;
  }

  /** @internal The server answered a `create`: joined, at position `lastSeq`. */
  created(reply: Record<string, unknown>): void {
    this.wanted = true;
    this.historyCount = 0;
    this.ready = Promise.resolve(this);
    this.startHold();
    this.joined_(reply);
  }

  /** @internal A new connection is ready: re-join, or for a followed direct room, catch up. */
  resume(lastSeqOnServer: number | undefined): void {
    if (this.ended) return;
    if (this.wanted || (lastSeqOnServer !== undefined && lastSeqOnServer > this.seq.lastSeq)) this.startJoin();
    else this.live = true; // the server attaches a direct room by itself when a message comes
  }

  /** @internal The connection ended: whatever was in flight is void. */
  disconnected(): void {
    this.live = false;
    this.joining = false;
    this.filling = false;
    cancel(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** @internal A `msg` from the server. */
  receive(message: Message): void {
    if (!this.ended) this.accept(message);
  }

  /** @internal The server acknowledged our own message: it takes its place in the sequence. */
  acknowledged(message: Message): void {
    if (!this.ended) this.accept(message);
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

  /** @internal This client no longer follows the room. */
  end(reason: ClosedContext['reason'], error?: RoomcastError): void {
    if (this.ended) return;
    this.ended = true;
    this.wanted = false;
    this.disconnected();
    this.host.forget(this);
    if (this.readyWaiter) {
      cancel(this.readyWaiter.timer);
      this.readyWaiter.reject(error ?? new RoomcastError('not_member', `room "${this.id}" was ${reason} before the join finished`));
      this.readyWaiter = null;
    }
    this.held = [];
    this.events.emit('closed', error ? { room: this, reason, error } : { room: this, reason });
  }

  // ---- joining --------------------------------------------------------------------------------------

  private startJoin(): void {
    this.joining = true;
    this.live = false; // no gap fill-in while the join's backlog streams
    const epoch = this.host.epoch;
    const body: Record<string, unknown> = { op: 'join', room: this.id };
    // Resuming: exactly what came after our position. First time: the recent history.
    if (this.positioned) body.since = this.seq.lastSeq;
    else body.history = this.historyCount;
    this.host.call(body, 'forget', false, (err, reply) => {
      if (epoch !== this.host.epoch || this.ended) return;
      this.joining = false;
      if (reply) this.joined_(reply);
      else if (err && isTransient(err.code)) this.retryLater(() => this.startJoin());
      else if (err && err.code !== 'disconnected' && err.code !== 'closed') this.end('error', err);
    });
  }

  private joined_(reply: Record<string, unknown>): void {
    const info = reply.room as RoomInfo;
    const lastSeq = Number(reply.lastSeq);
    const first = !this.positioned;
    this.roomInfo = info;
    this.onlineCount = Number(reply.online ?? 0);
    this.onlineMembers = Array.isArray(reply.members) ? (reply.members as UserRef[]) : [];
    let ready: Message[] = [];
    if (first) {
      // The server streams the last `history` messages next; our position is just before them.
      ready = this.seq.reset(info.persist ? Math.max(0, lastSeq - this.historyCount) : lastSeq);
      this.positioned = true;
    } else if (!info.persist) {
      // An ephemeral room keeps no history: what was sent while we were away is gone.
      ready = this.seq.skipTo(lastSeq);
    } else if (lastSeq < this.seq.lastSeq) {
      this.host.report(
        new RoomcastError('internal', `room "${this.id}" is at seq ${lastSeq} but this client saw ${this.seq.lastSeq}; the server lost history, continuing from ${lastSeq}`),
        this.id,
      );
      ready = this.seq.reset(lastSeq);
    }
    this.backlogUntil = lastSeq;
    this.live = true;
    this.deliver(ready);
    if (this.readyWaiter) {
      cancel(this.readyWaiter.timer);
      this.readyWaiter.resolve(this);
      this.readyWaiter = null;
    } else if (!first) {
      this.events.emit('presence', { room: this, event: 'sync', online: this.onlineCount, members: this.onlineMembers });
    }
    if (this.holding) later(() => this.releaseHold(), 0);
    this.checkGap();
  }

  // ---- ordering and delivery ----------------------------------------------------------------------

  private accept(message: Message): void {
    const ready = this.seq.offer(message.seq, message);
    if (ready === null) {
      this.host.duplicate();
      return;
    }
    this.deliver(ready);
    this.checkGap();
  }

  /**
   * `await chat.join(id)` resolves when the reply arrives, but the backlog may be parsed in the
   * same turn, before the caller's code after `await` adds its listeners. Holding messages until
   * a timer turn after the join resolved means `room.on('message')` right after the await sees
   * the whole backlog.
   */
  private startHold(): void {
    this.holding = true;
  }

  private releaseHold(): void {
    if (!this.holding) return;
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const m of held) this.emit(m);
  }

  private deliver(messages: Message[]): void {
    for (const m of messages) {
      if (this.holding) this.held.push(m);
      else this.emit(m);
    }
  }

  private emit(m: Message): void {
    this.host.delivered(m);
    this.events.emit('message', m);
  }

  /** A seq gap seen live (not explained by a backlog still streaming): fetch what is missing. */
  private checkGap(): void {
    const gap = this.seq.gap;
    if (!gap || this.filling || !this.live || !this.host.connected || this.seq.lastSeq < this.backlogUntil) return;
    this.filling = true;
    const epoch = this.host.epoch;
    const limit = Math.min(MAX_PAGE, gap.to - gap.from + 1);
    // The bottom of the gap first: `before` is exclusive, pages end just below it.
    this.host.call({ op: 'history', room: this.id, before: gap.from + limit, limit }, 'forget', true, (err, reply) => {
      if (epoch !== this.host.epoch || this.ended) return;
      this.filling = false;
      if (!reply) {
        if (!err || err.code === 'disconnected' || err.code === 'closed') return;
        if (isTransient(err.code) || err.code === 'timeout') this.retryLater(() => this.checkGap());
        else this.host.report(err, this.id);
        return;
      }
      const raw = Array.isArray(reply.messages) ? (reply.messages as unknown[]) : [];
      let filled = 0;
      for (const e of raw) {
        if (!isMsgEvent(e)) continue;
        const ready = this.seq.offer(e.seq, toMessage(e, this.host.userId));
        if (ready === null) continue;
        filled++;
        this.deliver(ready);
      }
      this.host.filled(filled);
      // Whatever history cannot give (an ephemeral room stores nothing) is gone for good.
      const still = this.seq.gap;
      if (still && still.from === gap.from) this.deliver(this.seq.skipTo(gap.from + limit - 1));
      this.checkGap();
    });
  }

  private retryLater(fn: () => void): void {
    cancel(this.retryTimer);
    this.retryTimer = later(() => {
      this.retryTimer = undefined;
      if (this.host.connected && !this.ended) fn();
    }, RETRY_MS);
  }
}
