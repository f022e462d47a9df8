import { CloseCode, encodeBinaryFrame, type MsgEvent, type RoomInfo, type RoomSummary, type UserRef } from '@roomcast/protocol';
import { userChannel, type Broker } from '../broker/broker.js';
import type { AppendInput, AppendResult, BinaryPayload, MembershipRecord, RoomRecord, Store } from '../store/store.js';
import { ClusterSync } from './cluster-sync.js';
import type { ChatConfig } from './config.js';
import type { RequestContext } from './context.js';
import { ChatError } from './errors.js';
import { fileUrl, roomInfoOf, userRef } from './events.js';
import { roomGranted } from './grants.js';
import { newMessageId } from './ids.js';
import { FrameIntake } from './intake.js';
import { holdsNul, nestsDeeperThan, TokenBucket } from './limits.js';
import { catchUpBehind } from './backlog.js';
import { LiveRooms } from './live-rooms.js';
import { Outbound } from './outbound.js';
import { encodeCursor, PublicRoomDirectory } from './room-pages.js';
import { encodeJson, Session, type Connection, type SessionAuth, type User } from './session.js';
import { ChatStats } from './stats.js';

export type { Logger } from './logger.js';
import type { Logger } from './logger.js';

/** A verified token, as core needs it for an in-band refresh. */
export interface VerifiedToken {
  sub: string;
  exp: number;
  rooms: string[];
  admin: boolean;
}

export interface ChatDeps {
  store: Store;
  broker: Broker;
  config: ChatConfig;
  log: Logger;
  /** Verifies a JWT for `auth` refreshes; absent when the server accepts guests only. */
  verifyToken?: (token: string) => Promise<VerifiedToken>;
  /** Clock, ms since epoch; injectable for tests. */
  now?: () => number;
  /** How often rooms are checked for users of crashed nodes (brokers with `sweep`), ms. */
  sweepMs?: number;
  /** How long an out-of-order message waits before the gap is read from the store, ms. */
  gapMs?: number;
}

/** What a posted message carries besides its room and sender. */
export interface PostBody {
  text?: string;
  meta?: Record<string, unknown>;
  clientId?: string;
  binary?: BinaryPayload;
}


const userKey = (userId: string): string => `~user:${userId}`;

/**
 * The chat semantics: sessions, rooms, presence, delivery. Knows the Store and Broker
 * interfaces and the Connection type, never a socket library or a database driver.
 */
export class ChatService {
  readonly store: Store;
  readonly broker: Broker;
  readonly config: ChatConfig;
  readonly log: Logger;
  readonly now: () => number;
  readonly verifyToken: ((token: string) => Promise<VerifiedToken>) | undefined;
  readonly stats = new ChatStats();
  readonly rooms: LiveRooms;
  /** Where every frame leaves the core: the slow-consumer rule. */
  readonly outbound: Outbound;
  private readonly stallSweep: NodeJS.Timeout;
  /** The most active public rooms, re-read every few seconds (rooms {scope: "public"}). */
  readonly directory: PublicRoomDirectory;
  /** Invites and new direct conversations per user on this node (--invite-rate a minute). */
  private readonly inviteBuckets = new Map<string, TokenBucket>();
  /** Local sessions by user id (an array: almost every user has one or two). */
  readonly users = new Map<string, Session[]>();
  readonly sessions = new Set<Session>();
  /** Tracked work in flight, and who waits for it to reach zero (shutdown). */
  private inFlight = 0;
  private readonly idleWaiters: Array<() => void> = [];
  readonly intake: FrameIntake;
  readonly cluster: ClusterSync;

  constructor(deps: ChatDeps) {
    this.store = deps.store;
    this.broker = deps.broker;
    this.config = deps.config;
    this.log = deps.log;
    this.now = deps.now ?? Date.now;
    this.verifyToken = deps.verifyToken;
    this.outbound = new Outbound({ sendBufferLimit: this.config.sendBufferLimit, sendTimeoutMs: this.config.sendTimeoutMs }, this.stats, this.log);
    this.rooms = new LiveRooms({
      write: (s, data, binary, paced) => this.outbound.deliver(s, data, binary, paced),
      full: (s, size) => this.outbound.full(s, size),
      busy: (s) => this.outbound.busy(s),
      behind: (s, room, afterSeq) => catchUpBehind(this, s, room.info.id, afterSeq),
      overflow: (s) => this.outbound.closeSlow(s, 'slow consumer: too many events waiting behind its backlog; reconnect and resume with since'),
      heldBudget: this.outbound.streamLimit,
    });
    // Checking a few times per timeout ends a stalled reader soon after its time is up.
    this.stallSweep = setInterval(() => this.outbound.sweep(this.sessions, this.now()), Math.max(50, Math.min(1000, Math.floor(this.config.sendTimeoutMs / 4))));
    this.stallSweep.unref();
    this.directory = new PublicRoomDirectory(this.store, this.now);
    this.intake = new FrameIntake(this);
    this.cluster = new ClusterSync(this, { gapMs: deps.gapMs, sweepMs: deps.sweepMs });
  }

  // ---- connection lifecycle ---------------------------------------------------------------

  /** Registers a new connection and sends its `welcome`. Frames that arrive meanwhile wait. */
  open(conn: Connection, user: User, auth: SessionAuth = { exp: null, rooms: [] }, guestToken?: string): Session {
    const burst = Math.max(1, this.config.ratePerSec * 2);
    const session = new Session(conn, user, new TokenBucket(this.config.ratePerSec, burst, this.now()), auth, this.replySink);
    this.scheduleExpiry(session);
    this.sessions.add(session);
    this.stats.connectionsTotal++;
    const mine = this.users.get(user.id);
    if (mine) {
      mine.push(session);
    } else {
      // A literal, not push: a first push reserves room for 17 elements.
      this.users.set(user.id, [session]);
      void this.broker.subscribe(userChannel(user.id), this.cluster.onBrokerMessage).catch((err: unknown) => this.log.warn({ err }, 'user channel subscribe failed'));
    }
    session.enqueue(() => this.track(this.welcome(session, guestToken)));
    return session;
  }

  private readonly replySink = (s: Session, data: Uint8Array): void => this.outbound.reply(s, data);

  private async welcome(session: Session, guestToken: string | undefined): Promise<void> {
    try {
      await this.broker.presenceAdd(userKey(session.user.id), userRef(session.user));
      await this.store.upsertUser(userRef(session.user));
      // One more than listed tells whether there are more: a user invited into thousands of
      // rooms gets a welcome of bounded size and pages through the rest.
      const rows = await this.store.memberRooms(session.user.id, { limit: this.config.welcomeRooms + 1 });
      const more = rows.length > this.config.welcomeRooms;
      const rooms = await this.summaries(more ? rows.slice(0, -1) : rows, true);
      for (const r of rooms) session.memberOf.add(r.id);
      const last = rooms.at(-1);
      session.sendJson({
        op: 'welcome',
        session: session.id,
        user: userRef(session.user),
        ...(guestToken ? { guestToken } : {}),
        heartbeat: this.config.heartbeatMs,
        rooms,
        ...(more && last ? { roomsNext: encodeCursor(last) } : {}),
        limits: { maxText: this.config.maxText, maxBinary: this.config.maxBinary, ratePerSec: this.config.ratePerSec },
      });
    } catch (err) {
      this.log.error({ err, session: session.id }, 'welcome failed');
      session.conn.close(CloseCode.Internal, 'the server could not load your rooms; reconnect shortly');
    }
  }

  /** Closes the connection with 4401 when its token expires, unless a refresh moved `exp`. */
  scheduleExpiry(session: Session): void {
    clearTimeout(session.expiryTimer);
    session.expiryTimer = undefined;
    const exp = session.auth.exp;
    if (exp === null) return;
    // setTimeout cannot wait longer than ~24.8 days; re-arm until the real expiry.
    const wait = Math.min(exp - this.now(), 2 ** 31 - 1);
    session.expiryTimer = setTimeout(() => {
      if (session.auth.exp !== exp) return;
      if (this.now() < exp) return this.scheduleExpiry(session);
      session.sendJson({ op: 'error', error: { code: 'unauthorized', message: 'your token expired; reconnect with a fresh one (or refresh it with "auth" before it expires)' } });
      session.conn.close(CloseCode.Unauthorized, 'token expired');
    }, Math.max(0, wait));
    session.expiryTimer.unref();
  }

  /** The connection is gone: leave presence everywhere, free its rooms. */
  async close(session: Session): Promise<void> {
    if (session.closed) return;
    session.closed = true;
    clearTimeout(session.expiryTimer);
    this.sessions.delete(session);
    const mine = this.users.get(session.user.id);
    const i = mine ? mine.indexOf(session) : -1;
    if (mine && i >= 0) mine.splice(i, 1);
    if (mine && mine.length === 0) {
      this.users.delete(session.user.id);
      this.inviteBuckets.delete(session.user.id);
      void this.broker.unsubscribe(userChannel(session.user.id)).catch(() => {});
    }
    await this.track(
      (async () => {
        for (const roomId of [...session.rooms]) await this.detach(session, roomId);
        if (!this.users.has(session.user.id)) await this.broker.presenceRemove(userKey(session.user.id), session.user.id);
      })().catch((err: unknown) => this.log.error({ err, session: session.id }, 'cleanup after disconnect failed')),
    );
  }

  /** Closes every connection with 1001 and waits for in-flight work, so the store can close. */
  async shutdown(): Promise<void> {
    this.cluster.stop();
    clearInterval(this.stallSweep);
    for (const s of [...this.sessions]) s.conn.close(CloseCode.GoingAway, 'server shutting down; reconnect to resume');
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Registers work that shutdown must wait for. A counter, not a set of promises: two of these
   * per message, and a Set's table churn was a visible share of the garbage.
   */
  track<T>(p: Promise<T>): Promise<T> {
    this.inFlight++;
    p.then(this.settled, this.settled);
    return p;
  }

  private readonly settled = (): void => {
    if (--this.inFlight > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  };

  // ---- delivery ---------------------------------------------------------------------------------

  /** Writes one room event to one session (see Outbound for the slow-consumer rule and `paced`). */
  write(session: Session, data: Uint8Array, binary: boolean, paced = false): void {
    this.outbound.deliver(session, data, binary, paced);
  }

  /**
   * Sends an event to the room's members here and on other nodes. `droppable` marks a hint
   * (typing) that members with a backlog to get through may miss.
   */
  broadcast(roomId: string, event: object, except: { session?: string; user?: string } = {}, droppable = false): void {
    const data = encodeJson(event);
    this.rooms.deliver(roomId, { data, binary: false, exceptSession: except.session, exceptUser: except.user, droppable });
    this.broker.publish({ room: roomId, data, binary: false, exceptConn: except.session, exceptUser: except.user, ...(droppable ? { droppable } : {}) });
  }

  /**
   * Stores a message, then delivers it to the room and answers the sender. Returns at once:
   * the session's next request need not wait for the commit.
   */
  async post(ctx: RequestContext, room: RoomInfo, body: PostBody, replyExtra: object = {}): Promise<void> {
    if (this.config.userRate > 0) await this.takeUserToken(ctx.session.user.id);
    void this.track(
      this.publish(room, userRef(ctx.session.user), body, ctx.session.id).then(
        (res) => ctx.ok({ room: res.room, seq: res.seq, ts: res.ts, id: res.id, ...(res.duplicate ? { duplicate: true } : {}), ...replyExtra }),
        (err: unknown) => this.intake.fail(ctx, err),
      ),
    );
  }

  /**
   * The per-user limit on invites and new direct conversations (--invite-rate a minute): what
   * keeps one account from filling strangers' room lists. Kept per node.
   */
  takeInviteToken(user: User): void {
    const perMinute = this.config.inviteRate;
    if (perMinute <= 0 || user.admin) return;
    let bucket = this.inviteBuckets.get(user.id);
    if (!bucket) this.inviteBuckets.set(user.id, (bucket = new TokenBucket(perMinute / 60, perMinute, this.now())));
    if (!bucket.take(this.now())) {
      this.stats.rateLimited++;
      throw new ChatError('rate_limited', `too many invitations: the limit is ${perMinute} a minute (invites and new direct conversations); try again later`);
    }
  }

  /** The per-user message limit, shared by all the user's connections on every node. */
  async takeUserToken(userId: string): Promise<void> {
    if (this.config.userRate <= 0) return;
    if (!(await this.broker.takeUserToken(userId, this.config.userRate))) {
      this.stats.rateLimited++;
      throw new ChatError('rate_limited', `too many messages from your account: the limit is ${this.config.userRate} a second over all your connections; slow down and retry`);
    }
  }

  /**
   * Stores a message and, once committed, delivers it to the room's members here and on other
   * nodes (all but `exceptSession`, the sender's own connection). A duplicate is not delivered.
   */
  async publish(room: RoomInfo, from: UserRef, body: PostBody, exceptSession?: string): Promise<AppendResult> {
    // Never acknowledge what other nodes could not be told about: the client retries instead.
    if (!this.broker.available) throw new ChatError('unavailable', 'the cluster broker is unavailable right now; retry in a moment');
    const input: AppendInput = { room: room.id, persist: room.persist, from, msgId: newMessageId(), ts: this.now() };
    if (body.clientId !== undefined) input.clientId = body.clientId;
    if (body.text !== undefined) input.text = body.text;
    if (body.meta !== undefined) input.meta = body.meta;
    if (body.binary !== undefined) input.binary = body.binary;
    const res = await this.store.append(input);
    if (res.duplicate) return res;
    this.stats.messagesIn++;
    const event: MsgEvent = { op: 'msg', room: res.room, seq: res.seq, id: res.id, from, ts: res.ts };
    if (input.text !== undefined) event.text = input.text;
    if (input.meta !== undefined) event.meta = input.meta;
    let data: Uint8Array;
    if (input.binary) {
      const b = input.binary;
      const info = { mime: b.mime, ...(b.name ? { name: b.name } : {}), size: b.data.byteLength };
      data = encodeBinaryFrame({ ...event, ...info, binary: { ...info, url: fileUrl(res.room, res.seq) } }, b.data);
    } else {
      data = encodeJson(event);
    }
    const binary = input.binary !== undefined;
    const live = this.rooms.get(res.room);
    if (live) this.cluster.sequencer.offer(live, { data, binary, seq: res.seq, exceptSession });
    this.broker.publish({ room: res.room, data, binary, seq: res.seq, exceptConn: exceptSession });
    return res;
  }

  // ---- rooms, membership, presence ----------------------------------------------------------

  /** The room's settings, from this node's live copy when it has one. */
  async loadRoom(roomId: string): Promise<RoomInfo> {
    const live = this.rooms.get(roomId);
    if (live) return live.info;
    const rec = await this.store.getRoom(roomId);
    if (!rec) throw new ChatError('room_not_found', `room "${roomId}" does not exist; check the id, or create it`);
    return roomInfoOf(rec);
  }

  /**
   * The room, without a look-up, when it is live here and the session's user is known to belong
   * to it: the common case of a `send`, answered without a promise. Else undefined (ask
   * requireMember).
   */
  knownMemberRoom(session: Session, roomId: string): RoomInfo | undefined {
    if (!session.memberOf.has(roomId) && !session.user.admin) return undefined;
    return this.rooms.get(roomId)?.info;
  }

  /** Throws not_member unless the session's user belongs to the room. */
  async requireMember(session: Session, roomId: string): Promise<RoomInfo> {
    const room = await this.loadRoom(roomId);
    if (!session.memberOf.has(roomId) && !session.user.admin) {
      if (!(await this.store.isMember(roomId, session.user.id))) {
        throw new ChatError('not_member', `you are not a member of room "${roomId}"; join it first`);
      }
      session.memberOf.add(roomId);
    }
    return room;
  }

  /** Makes the user a member (checking privacy and capacity) unless they already are. */
  async ensureMembership(session: Session, room: RoomInfo): Promise<void> {
    if (session.memberOf.has(room.id)) return;
    const granted = session.user.admin || (!room.direct && roomGranted(room.id, session.auth.rooms));
    if (room.visibility === 'private' && !granted) {
      if (!(await this.store.isMember(room.id, session.user.id))) {
        throw new ChatError('forbidden', `room "${room.id}" is private; ask a member to invite you`);
      }
    } else {
      const res = await this.store.addMember(room.id, session.user.id, room.capacity, this.now());
      if (res === 'full') {
        throw new ChatError('room_full', `room "${room.id}" is full (${room.capacity}/${room.capacity}); try again when someone leaves`);
      }
    }
    session.memberOf.add(room.id);
  }

  /**
   * Subscribes a session to a room. With `backlog`, live events are held back until the caller
   * has sent what the session missed and calls `rooms.goLive`.
   */
  async attach(session: Session, room: RoomInfo, backlog: boolean, from?: number): Promise<void> {
    if (session.closed) throw new ChatError('bad_request', 'the connection is closing');
    const live = this.rooms.get(room.id);
    // Joined an active room mid-stream (a direct message from another node): it gets what it
    // missed from the store first, like a member that fell behind.
    const midStream = from !== undefined && !backlog && live !== undefined && live.nextSeq !== null && from < live.nextSeq;
    const { firstForUser, newRoom } = this.rooms.attach(session, room, backlog || midStream);
    if (newRoom) {
      await this.broker.subscribe(room.id, this.cluster.onBrokerMessage);
      const created = this.rooms.get(room.id);
      if (created) await this.cluster.sequencer.start(created, from);
    } else if (midStream) {
      catchUpBehind(this, session, room.id, (from as number) - 1);
    }
    if (!firstForUser) return;
    const change = await this.broker.presenceAdd(room.id, userRef(session.user));
    if (change.changed) {
      this.broadcast(room.id, { op: 'presence', room: room.id, event: 'join', user: userRef(session.user), online: change.online }, { session: session.id });
    }
  }

  /**
   * Unsubscribes a session; the user goes offline in the room when it was their last. `quiet`
   * skips the presence event (the room is being deleted).
   */
  async detach(session: Session, roomId: string, quiet = false): Promise<void> {
    const info = this.rooms.get(roomId)?.info;
    const { lastForUser, roomGone, wasAttached } = this.rooms.detach(session, roomId);
    if (!wasAttached) return;
    if (roomGone) await this.broker.unsubscribe(roomId);
    if (!lastForUser) return;
    const change = await this.broker.presenceRemove(roomId, session.user.id);
    if (change.changed && !quiet) {
      this.broadcast(roomId, { op: 'presence', room: roomId, event: 'leave', user: userRef(session.user), online: change.online });
    }
    // An ephemeral room disappears with its last online member.
    if (info && !info.persist && change.online === 0) await this.deleteRoom(roomId);
  }

  async deleteRoom(roomId: string): Promise<void> {
    await this.store.deleteRoom(roomId);
    this.directory.removed(roomId);
    for (const s of this.sessions) s.memberOf.delete(roomId);
  }

  /** Room list entries with unread and online counts. */
  async summaries(rows: Array<RoomRecord | MembershipRecord>, withRead: boolean): Promise<RoomSummary[]> {
    const counts = await this.broker.presenceCounts(rows.map((r) => r.id));
    return rows.map((r) => {
      const peer = 'peer' in r ? r.peer : undefined;
      const sum: RoomSummary = {
        id: r.id,
        title: r.direct ? (peer?.name ?? r.title) : r.title,
        visibility: r.visibility,
        persist: r.persist,
        direct: r.direct,
        lastSeq: r.lastSeq,
        online: counts.get(r.id) ?? 0,
      };
      if (peer) sum.peer = peer;
      if (withRead && 'readSeq' in r) {
        sum.readSeq = r.readSeq;
        sum.unread = Math.max(0, r.lastSeq - r.readSeq);
      }
      return sum;
    });
  }

  /** Whether the user has a connection (on any node). */
  async isOnline(userId: string): Promise<boolean> {
    if (this.users.has(userId)) return true;
    const counts = await this.broker.presenceCounts([userKey(userId)]);
    return (counts.get(userKey(userId)) ?? 0) > 0;
  }

  /** Rejects text that is empty, longer than the limit, or holds U+0000 (PostgreSQL cannot store it). */
  checkText(text: string): void {
    if (text.length === 0) throw new ChatError('bad_request', 'text must not be empty');
    if (text.length > this.config.maxText) {
      throw new ChatError('too_large', `text is ${text.length} characters; the limit is ${this.config.maxText}`);
    }
    if (text.includes('\u0000')) throw new ChatError('bad_request', 'text contains the NUL character (U+0000); remove it');
  }

  /** Rejects `meta` nested too deep or too big, checking depth first: that walk cannot overflow the stack. */
  checkMeta(meta: Record<string, unknown> | undefined): void {
    if (meta === undefined) return;
    if (nestsDeeperThan(meta, this.config.maxMetaDepth)) {
      throw new ChatError('too_large', `meta nests objects or arrays more than ${this.config.maxMetaDepth} levels deep; flatten it`);
    }
    if (holdsNul(meta)) throw new ChatError('bad_request', 'meta contains the NUL character (U+0000); remove it');
    const size = Buffer.byteLength(JSON.stringify(meta));
    if (size > this.config.maxMetaBytes) {
      throw new ChatError('too_large', `meta is ${size} bytes as JSON; the limit is ${this.config.maxMetaBytes}`);
    }
  }

  /** How big a history page may get: a quarter of the send buffer, so it always fits. */
  get historyBytes(): { max: number; metaMax: number } {
    return { max: Math.floor(this.config.sendBufferLimit / 4), metaMax: this.config.maxMetaBytes };
  }

  /** Work still in flight (for tests and shutdown). */
  get pending(): number {
    return this.inFlight;
  }
}
