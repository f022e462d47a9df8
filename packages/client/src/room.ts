import type { EditEvent, ModerationEvent, PresenceEvent, ReactionEvent, ReceiptEvent, RoomInfo, TypingEvent, UnsendEvent, UserRef } from '@roomcast/protocol';
import { Emitter, type Listener } from './emitter.js';
import { RoomcastError } from './errors.js';
import { Feed } from './feed.js';
import { MessageCache } from './message-cache.js';
import { isMsgEvent, toMessage, type Message } from './messages.js';
import { RoomJoin } from './room-join.js';
import type { RoomLink } from './room-link.js';
import type * as Events from './room-events.js';
import { banBody, muteBody, untilOf, type BanOptions, type MuteOptions } from './room-moderation.js';
import { changeCall, editBody, editResult, historyBody, membersOf, reactBody, reactResult, roomInfoOf, shareBody, shareResult, unsendBody, unsendResult, updateBody } from './room-requests.js';
import { changeItem, type ChangeEvent, type StreamItem } from './stream.js';
import { now } from './timers.js';
import type { BinaryOptions, EditOptions, EditResult, HistoryOptions, HistoryPage, MemberInfo, ReactResult, SendOptions, SendResult, ShareResult, UnsendResult, UpdateOptions } from './types.js';

export type { RoomLink } from './room-link.js';

// ---- the room's events (room-events.ts, named here with this class) ----

export type PresenceContext = Events.PresenceContext<Room>;
export type TypingContext = Events.TypingContext<Room>;
export type UpdateContext = Events.UpdateContext<Room>;
export type ClosedContext = Events.ClosedContext<Room>;
export type ChangeContext<E extends ChangeEvent = ChangeEvent> = Events.ChangeContext<Room, E>;
export type EditContext = ChangeContext<EditEvent>;
export type UnsendContext = ChangeContext<UnsendEvent>;
export type ReactionContext = ChangeContext<ReactionEvent>;
export type ReceiptContext = Events.ReceiptContext<Room>;
export type ModerationContext = Events.ModerationContext<Room>;
export type RoomEvents = Events.RoomEvents<Room>;

/**
 * A room this client follows: its messages in order and exactly once, presence, and the
 * requests that act on it. Get one from `chat.join(id)` or `chat.create()`.
 */
export class Room {
  private roomInfo: RoomInfo | null = null;
  private onlineCount = 0;
  private onlineMembers: readonly UserRef[] = [];

  private readonly events = new Emitter<RoomEvents>();
  /** Its stream: ordering, holding for the app, gap filling. */
  private readonly feed: Feed;
  /** The Message objects it handed out, kept current. */
  private readonly cache: MessageCache;
  /** Its joins: the first, after each reconnect, to fill a gap. */
  private readonly join: RoomJoin<Room>;
  private lastTyping = -Infinity;
  private ended = false;

  /** @internal */
  constructor(
    private readonly link: RoomLink,
    readonly id: string,
    position?: number,
  ) {
    this.cache = new MessageCache(() => link.userId);
    this.feed = new Feed(link, id, position, { deliver: (item) => this.deliver(item), rejoin: () => this.join.rejoin() });
    this.join = new RoomJoin<Room>(link, id, this.feed, this, {
      accepted: (reply, history) => this.accepted(reply, history),
      synced: () => this.events.emit('presence', { room: this, event: 'sync', online: this.onlineCount, members: this.onlineMembers }),
      failed: (err) => this.end('error', err),
    });
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

  /**
   * Seq of the last stream event (message, edit, unsend or reaction) delivered in order; store it
   * to resume later with `join(id, { since })`.
   */
  get lastSeq(): number {
    return this.feed.lastSeq;
  }

  /** The kept Message with this seq, current (see `message` and `history`), if the room has it. */
  message(seq: number): Message | undefined {
    return this.cache.get(seq);
  }

  /** Joined on the current connection. */
  get joined(): boolean {
    return this.feed.live && this.join.wanted;
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

  /**
   * Pages through stored messages, oldest first within a page: back with `before`, forward with
   * `after`. They come in their current state, and the room keeps them current from then on.
   */
  async history(options: HistoryOptions = {}): Promise<HistoryPage> {
    const body = historyBody(this.id, options);
    const after = this.lastSeq;
    const r = await this.request(body);
    const raw = Array.isArray(r.messages) ? (r.messages as unknown[]) : [];
    return { messages: this.adopt(raw.filter(isMsgEvent).map((e) => toMessage(e, this.link.userId)), after), more: r.more === true };
  }

  /** Changes the text (and, with `meta`, the meta) of your message `seq`. */
  async edit(seq: number, text: string, options: EditOptions = {}): Promise<EditResult> {
    return this.changeRequest(editBody(this.id, seq, text, options, this.link.limits), (r) => editResult(r, seq));
  }

  /** Takes message `seq` back (yours, or anyone's as the room's owner): its content is deleted. */
  async unsend(seq: number): Promise<UnsendResult> {
    return this.changeRequest(unsendBody(this.id, seq), (r) => unsendResult(r, seq));
  }

  /** Gives (`on`, the default) or takes back your reaction `emoji` to message `seq`. */
  async react(seq: number, emoji: string, on = true): Promise<ReactResult> {
    return this.changeRequest(reactBody(this.id, seq, emoji, on), (r) => reactResult(r, seq, emoji, on));
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

  /** Every member with an online flag and read cursor (`members` holds only those online). */
  async listMembers(): Promise<MemberInfo[]> {
    return membersOf(await this.request({ op: 'members', room: this.id }));
  }

  /**
   * A page of the users online in the room, in the order they came online (`join` lists at most
   * the first 100; its `membersNext`, or a page's `next`, is the `cursor` of the next page).
   */
  async listOnline(cursor?: string): Promise<{ members: UserRef[]; online: number; next?: string }> {
    const r = await this.request({ op: 'members', room: this.id, scope: 'online', ...(cursor === undefined ? {} : { cursor }) });
    const members = Array.isArray(r.members) ? (r.members as UserRef[]).map((m) => ({ id: m.id, name: m.name })) : [];
    return { members, online: Number(r.online ?? members.length), ...(typeof r.next === 'string' ? { next: r.next } : {}) };
  }

  /** Changes the room's settings (owner or admin); resolves with the new settings, also announced on `update`. */
  async update(options: UpdateOptions): Promise<RoomInfo> {
    const r = await this.request(updateBody(this.id, options));
    return r.room as RoomInfo;
  }

  /**
   * An invite link's token for this room (any member may make one; not for a direct
   * conversation), valid `ttlSec` seconds: 60 to 30 days, 7 days by default. Whoever joins with
   * it (`chat.join(id, { invite })`) becomes a member, even of a private room. Counted with
   * invitations by the server's invite rate.
   * @example const { invite } = await room.share(24 * 3600); const link = `${base}#/r/${room.id}?invite=${invite}`;
   */
  async share(ttlSec?: number): Promise<ShareResult> {
    return shareResult(await this.request(shareBody(this.id, ttlSec)), this.id);
  }

  /** Makes member `userId` an admin of the room, or (`'member'`) a member again: the owner only. */
  async role(userId: string, role: 'admin' | 'member'): Promise<void> {
    await this.request({ op: 'role', room: this.id, user: userId, role });
  }

  /**
   * Bans `userId` (the owner or an admin): they are kicked, and cannot join or be invited until
   * `unban` or `until`. Resolves with the ban's end (null: until lifted).
   * @example await room.ban(userId, { until: Date.now() + 3600_000, reason: 'spam' });
   */
  async ban(userId: string, options: BanOptions = {}): Promise<{ until: number | null }> {
    return { until: untilOf(await this.request(banBody(this.id, userId, options))) };
  }

  async unban(userId: string): Promise<void> {
    await this.request({ op: 'unban', room: this.id, user: userId });
  }

  /** Mutes `userId` (the owner or an admin): they still read, but cannot send, edit or react (`muted`). */
  async mute(userId: string, options: MuteOptions = {}): Promise<{ until: number | null }> {
    return { until: untilOf(await this.request(muteBody(this.id, userId, options))) };
  }

  async unmute(userId: string): Promise<void> {
    await this.request({ op: 'unmute', room: this.id, user: userId });
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

  /** @internal The app asked to join; `since` resumes from a stored position, `invite` opens a private room. */
  want(options: { since?: number | undefined; history?: number | undefined; invite?: string | undefined }): Promise<Room> {
    return this.join.want(options);
  }

  /** @internal The server answered a `create`: joined, at position `lastSeq`. */
  created(reply: Record<string, unknown>): void {
    this.join.created(reply);
  }

  /** @internal A new connection is ready: re-join, or for a followed direct room, catch up. */
  resume(lastSeqOnServer: number | undefined): void {
    this.join.resume(lastSeqOnServer);
  }

  /** @internal The connection ended: whatever was in flight is void. */
  disconnected(): void {
    this.join.disconnected();
    this.feed.disconnected();
  }

  /** @internal A stream event from the server, or (`fromServer` false) our own message the server acknowledged. */
  receive(item: StreamItem, fromServer: boolean): void {
    if (!this.ended) this.feed.offer(item, fromServer);
  }

  /** @internal */
  receipt(e: ReceiptEvent): void {
    if (!this.ended) this.events.emit('receipt', { room: this, user: e.user, seq: e.seq });
  }

  /** @internal Messages the app loaded (history, search): the kept objects, current (see MessageCache.adopt). */
  adopt(messages: readonly Message[], after: number): Message[] {
    return this.cache.adopt(messages, after);
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

  /** @internal */
  moderationEvent(e: ModerationEvent): void {
    if (!this.ended) this.events.emit('moderation', { room: this, event: e });
  }

  /** @internal A `room` event: new settings, or the room is gone for us. */
  changed(info: RoomInfo & { deleted?: boolean; kicked?: boolean }): void {
    if (this.ended) return;
    if (info.deleted) return this.end('deleted');
    if (info.kicked) return this.end('kicked');
    const fresh = roomInfoOf(info);
    this.roomInfo = fresh;
    this.events.emit('update', { room: this, info: fresh });
  }

  /** @internal The client stopped: a pending join fails with the same error. */
  stopped(error: RoomcastError): void {
    this.join.stopped(error);
    this.feed.disconnected();
  }

  /** @internal This client no longer follows the room (its client forgets it on `closed`). */
  end(reason: ClosedContext['reason'], error?: RoomcastError): void {
    if (this.ended) return;
    this.ended = true;
    this.join.end(error ?? new RoomcastError('not_member', `room "${this.id}" was ${reason} before the join finished`));
    this.feed.close();
    this.events.emit('closed', error ? { room: this, reason, error } : { room: this, reason });
  }

  /** A join (or create) was accepted: its settings, online users and position. */
  private accepted(reply: Record<string, unknown>, history: number): boolean {
    const info = reply.room as RoomInfo;
    this.roomInfo = info;
    this.onlineCount = Number(reply.online ?? 0);
    this.onlineMembers = Array.isArray(reply.members) ? (reply.members as UserRef[]) : [];
    return this.feed.joined(Number(reply.lastSeq), info.persist, history);
  }

  /** An item in order: a message is kept and delivered; a change is applied to its message, then announced. */
  private deliver(item: StreamItem): void {
    if (item.kind === 'message') return this.events.emit('message', this.cache.delivered(item.message));
    const e = item.event;
    const message = this.cache.change(e);
    const base = message ? { room: this, message } : { room: this };
    if (e.op === 'edit') this.events.emit('edit', { ...base, event: e });
    else if (e.op === 'unsend') this.events.emit('unsend', { ...base, event: e });
    else this.events.emit('reaction', { ...base, event: e });
    this.events.emit('change', { ...base, event: e });
  }

  /** A request whose reply nothing else depends on; repeated after a reconnect (it is safe to). */
  private request(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => this.link.call(body, 'resend', true, (err, reply) => (reply ? resolve(reply) : reject(err))));
  }

  /** An edit, unsend or reaction; our own change takes its place in the stream (see `changeCall`). */
  private changeRequest<T>(body: Record<string, unknown>, result: (reply: Record<string, unknown>) => T): Promise<T> {
    return changeCall(this.link, body, result, (own) => {
      if (!this.ended) this.feed.offer(changeItem(own), false);
    });
  }
}
