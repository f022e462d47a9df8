import { DIRECT_PREFIX, type RoomSummary, type ServerEvent, type UserRef, type WelcomeEvent } from '@roomcast/protocol';
import { Channel } from './channel.js';
import { Emitter, type Listener } from './emitter.js';
import { FileKeys } from './file-keys.js';
import { Link } from './link.js';
import { isMsgEvent, toMessage, type Message } from './messages.js';
import { resolveOptions, type ClientOptions } from './options.js';
import { searchBody, shareBody, shareResult } from './room-requests.js';
import { Room } from './room.js';
import { changeItem, messageItem } from './stream.js';
import type { BinaryOptions, ClientEvents, ClientStats, ConnectionState, CreateOptions, DmResult, JoinOptions, SearchOptions, SearchResult, SendOptions, ShareResult } from './types.js';
import { httpOrigin } from './url.js';

// The public API. The connection lifecycle is the Link's (link.ts), the request API the
// Channel's (channel.ts), a room's life the Room's (room.ts); this file wires them together and
// routes what arrives to the rooms.

/**
 * A roomcast connection that survives the network: it reconnects with backoff, re-joins rooms
 * from the last seq it saw, replays unacknowledged sends with their ids, and delivers every
 * message of a room once, in order.
 *
 * @example
 * const chat = new RoomcastClient('wss://chat.example.com/ws', { name: 'Alice' });
 * await chat.connect();
 * const room = await chat.join('lobby');
 * room.on('message', (m) => console.log(m.from.name, m.text));
 * await room.send('hi');
 */
export class RoomcastClient {
  /** Counters since construction. */
  readonly stats: ClientStats = { sent: 0, acknowledged: 0, delivered: 0, duplicates: 0, reconnects: 0, gapsFilled: 0 };

  private readonly events = new Emitter<ClientEvents>();
  private readonly link: Link;
  private readonly channel: Channel;
  private readonly fileKeys: FileKeys;
  private readonly followed = new Map<string, Room>();
  private summaries = new Map<string, RoomSummary>();
  private everConnected = false;

  /**
   * @param url the server: `wss://HOST/ws`, `ws://HOST:PORT/ws`, or just `https://HOST`.
   */
  constructor(
    readonly url: string,
    options: ClientOptions = {},
  ) {
    const opts = resolveOptions(options);
    this.link = new Link(url, opts, this.events, {
      welcomed: (w) => this.welcomed(w),
      // After the re-joins and the queued sends: a file key matters less than the messages.
      replayed: () => this.fileKeys.welcomed(),
      received: (f, payload) => this.received(f, payload),
      lost: () => {
        this.fileKeys.lost();
        for (const room of this.followed.values()) room.disconnected();
      },
      stopped: (error) => {
        this.fileKeys.stopped(error);
        for (const room of this.followed.values()) room.stopped(error);
      },
    });
    this.channel = new Channel(this.link, opts, this.stats, (m) => this.stored(m));
    this.fileKeys = new FileKeys(this.channel, (ctx) => this.events.emit('filekey', ctx));
  }

  /** `connecting` (also while waiting to retry), `connected`, or `disconnected` (not started, closed, or refused for good). */
  get state(): ConnectionState {
    return this.link.state;
  }

  /** Who the server says we are (from the latest `welcome`). */
  get user(): UserRef | null {
    return this.link.user;
  }

  /** The guest token to store and pass as `guestToken` next time, to stay the same guest. */
  get guestToken(): string | undefined {
    return this.link.guestToken;
  }

  /** Server limits from the latest `welcome` (text length, binary size, rate). */
  get serverLimits(): WelcomeEvent['limits'] | null {
    return this.link.limits;
  }

  /** Adds a listener; returns its unsubscribe function. */
  on<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): () => void {
    return this.events.on(event, listener);
  }

  /**
   * Starts connecting (and reconnecting, until `close()`). Resolves once connected; a failed
   * attempt is retried with backoff, each failure reported on `error`. Rejects only when the
   * server refuses for good (bad parameters, forbidden, a static token refused) or on `close()`.
   */
  connect(): Promise<void> {
    return this.link.connect();
  }

  /** Closes the connection and stops reconnecting. Pending sends and requests fail with `closed`. */
  close(): void {
    this.link.close();
  }

  /** Creates a room (you become its owner and a member) and joins it. */
  create(options: CreateOptions = {}): Promise<Room> {
    return new Promise((resolve, reject) =>
      this.channel.call({ op: 'create', ...options }, 'reject', true, (err, reply) => {
        if (!reply) return reject(err);
        // Set up before the next frame is read: the room may be written to at once.
        const room = this.track(String((reply.room as { id: string }).id));
        room.created(reply);
        resolve(room);
      }),
    );
  }

  /**
   * Joins a room and keeps it joined across reconnects. Resolves once the server accepted; the
   * recent history (or, with `since`, everything after it) then arrives on `message`, in order.
   * With `invite` (an invite link's token) you get into a private room and become its member.
   * @example const room = await chat.join('team', { invite: new URLSearchParams(location.search).get('invite') ?? undefined });
   */
  join(id: string, options: JoinOptions = {}): Promise<Room> {
    return (this.followed.get(id) ?? this.track(id)).want(options);
  }

  /**
   * Makes user `userId` a member of room `id` (any member may invite, into a private room too;
   * not into a direct conversation). The invited user gets no event. `already`: they were one.
   */
  async invite(id: string, userId: string): Promise<{ already: boolean }> {
    const r = await this.channel.request({ op: 'invite', room: id, user: userId }, 'resend', true);
    return { already: r.already === true };
  }

  /** Ends user `userId`'s membership of room `id` (its owner or an admin); they see `closed` with 'kicked'. */
  async kick(id: string, userId: string): Promise<void> {
    await this.channel.request({ op: 'kick', room: id, user: userId }, 'reject', true);
  }

  /** An invite link's token for room `id` (you must be a member): see `Room.share`. */
  async share(id: string, ttlSec?: number): Promise<ShareResult> {
    return shareResult(await this.channel.request(shareBody(id, ttlSec), 'resend', true), id);
  }

  /** A room this client follows (joined, or a direct conversation seen), by id. */
  room(id: string): Room | undefined {
    return this.followed.get(id);
  }

  /** Sends a direct message to a user id; the conversation's messages arrive on `dm`. */
  dm(to: string, text: string, options: SendOptions = {}): Promise<DmResult> {
    return this.channel.post({ to }, { ...options, text }) as Promise<DmResult>;
  }

  /** Sends bytes as a direct message. */
  dmBinary(to: string, data: Uint8Array | ArrayBuffer, options: BinaryOptions): Promise<DmResult> {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    return this.channel.post({ to }, { ...options, data: bytes }) as Promise<DmResult>;
  }

  /**
   * Your rooms with unread counts (`mine`, the default: all of them, page after page), or the
   * first page of public rooms to discover (the 100 most active).
   */
  async rooms(scope: 'mine' | 'public' = 'mine'): Promise<RoomSummary[]> {
    const all: RoomSummary[] = [];
    let cursor: string | undefined;
    do {
      const r = await this.channel.request({ op: 'rooms', scope, ...(cursor ? { cursor } : {}) }, 'resend', true);
      if (Array.isArray(r.rooms)) all.push(...(r.rooms as RoomSummary[]));
      cursor = scope === 'mine' && typeof r.next === 'string' ? r.next : undefined;
    } while (cursor);
    return all;
  }

  /**
   * Finds messages whose text contains `q` (1–200 characters; case-insensitive for Latin
   * letters; any substring, so two Chinese characters find a longer phrase) in your rooms, or in
   * `room` only: newest first, in their current state. Hits in rooms this client follows are
   * the rooms' kept Message objects, kept current from then on. Page on with `before: next`.
   */
  async search(q: string, options: SearchOptions = {}): Promise<SearchResult> {
    const body = searchBody(q, options);
    // Where each followed room stood when the search went out (see MessageCache.adopt).
    const cuts = new Map([...this.followed].map(([id, room]) => [id, room.lastSeq]));
    const r = await this.channel.request(body, 'resend', true);
    const raw = Array.isArray(r.messages) ? (r.messages as unknown[]) : [];
    const messages = raw.filter(isMsgEvent).map((e) => {
      const m = toMessage(e, this.link.user?.id ?? null);
      return this.followed.get(m.room)?.adopt([m], cuts.get(m.room) ?? 0)[0] ?? m;
    });
    const result: SearchResult = { messages, more: r.more === true };
    if (typeof r.next === 'number') result.next = r.next;
    return result;
  }

  /**
   * A full URL for a binary message's bytes, with `?key=` your current file key: it fetches your
   * rooms' files for about an hour and cannot sign in (the server still checks, at each fetch,
   * that you are a member). Null for a message without a file, and until the first key arrived
   * after `connect()` (the `filekey` event says when; `fileLink()` waits for it). From a server
   * without file keys, the URL carries your sign-in token as `?token=`, as before.
   */
  fileUrl(message: Message): string | null {
    const path = message.binary?.url;
    if (!path) return null;
    const origin = httpOrigin(this.url);
    if (this.fileKeys.usesToken) {
      const token = this.link.credential;
      return token ? `${origin}${path}?token=${encodeURIComponent(token)}` : null;
    }
    const key = this.fileKeys.key;
    return key ? `${origin}${path}?key=${encodeURIComponent(key)}` : null;
  }

  /**
   * `fileUrl()` with a fresh key (within the first half of its hour), waiting for one if needed:
   * for a link opened now (a download, a new tab). Null for a message without a file; rejects
   * with `closed` when the client is closed first.
   */
  async fileLink(message: Message): Promise<string | null> {
    if (!message.binary?.url) return null;
    await this.fileKeys.fresh();
    return this.fileUrl(message);
  }

  // ---- the rooms this client follows -----------------------------------------------------------------

  /** A new Room, followed until it ends; its messages count as delivered, a direct one's go to `dm`. */
  private track(id: string, position?: number): Room {
    const room = new Room(this.channel, id, position);
    this.followed.set(id, room);
    // Registered first, so they run before the app's listeners.
    room.on('message', (m) => {
      this.stats.delivered++;
      if (m.direct) this.events.emit('dm', m);
    });
    room.on('closed', () => {
      if (this.followed.get(id) === room) this.followed.delete(id);
    });
    return room;
  }

  /** Starts following a direct conversation for `dm` listeners, positioned before `seq + 1`. */
  private follow(id: string, before: number): Room {
    const known = this.summaries.get(id)?.lastSeq;
    return this.track(id, known !== undefined && known < before ? known : before);
  }

  /** A connection said welcome: every room re-joins (or catches up) from where it was. */
  private welcomed(w: WelcomeEvent): void {
    if (this.everConnected) this.stats.reconnects++;
    this.everConnected = true;
    this.summaries = new Map(w.rooms.map((r) => [r.id, r]));
    for (const room of [...this.followed.values()]) room.resume(this.summaries.get(room.id)?.lastSeq);
    // Direct messages that came while we were away, for `dm` listeners.
    for (const s of w.rooms) {
      if (s.direct && !this.followed.has(s.id) && (s.unread ?? 0) > 0) this.follow(s.id, s.readSeq ?? s.lastSeq).resume(s.lastSeq);
    }
  }

  /** Routes a frame to its room. */
  private received(f: ServerEvent, payload: Uint8Array | undefined): void {
    switch (f.op) {
      case 'msg':
        this.streamOf(f.room, f.seq)?.receive(messageItem(toMessage(f, this.link.user?.id ?? null, payload)), true);
        return;
      case 'edit':
      case 'unsend':
      case 'reaction':
        this.streamOf(f.room, f.seq)?.receive(changeItem(f), true);
        return;
      case 'receipt':
        this.followed.get(f.room)?.receipt(f);
        return;
      case 'presence':
        this.followed.get(f.room)?.presence(f);
        return;
      case 'moderation':
        this.followed.get(f.room)?.moderationEvent(f);
        return;
      case 'typing':
        this.followed.get(f.room)?.typingEvent(f);
        return;
      case 'room':
        this.followed.get(f.room.id)?.changed(f.room);
        return;
      default:
        return; // pong, and ops added to the protocol later
    }
  }

  /**
   * The room a stream event at `seq` belongs to. The server attaches us to a direct conversation
   * by itself when someone writes (or changes a message): such a room is followed from here.
   */
  private streamOf(id: string, seq: number): Room | undefined {
    const room = this.followed.get(id);
    if (room || !id.startsWith(DIRECT_PREFIX)) return room;
    const followed = this.follow(id, seq - 1);
    followed.resume(undefined);
    return followed;
  }

  /** Our stored message takes its seq in the room's sequence, like anyone else's. */
  private stored(m: Message): void {
    this.streamOf(m.room, m.seq)?.receive(messageItem(m), false);
  }
}
