import {
  CloseCode,
  encodeBinaryFrame,
  type BinaryHeader,
  type ClientRequest,
  type MsgEvent,
  type RoomInfo,
  type RoomSummary,
  type UserRef,
} from '@roomcast/protocol';
import { refOf, validateBinaryHeader, validateRequest } from '@roomcast/protocol/validate';
import { decodeBinaryFrame } from '@roomcast/protocol';
import { userChannel, type Broker, type BrokerMessage, type ControlMessage } from '../broker/broker.js';
import type { AppendInput, AppendResult, BinaryPayload, MembershipRecord, RoomRecord, Store, StoredMessage } from '../store/store.js';
import type { ChatConfig } from './config.js';
import { RequestContext } from './context.js';
import { ChatError, toErrorBody } from './errors.js';
import { roomGranted } from './grants.js';
import { newMessageId } from './ids.js';
import { TokenBucket } from './limits.js';
import { LiveRooms, type LiveRoom } from './live-rooms.js';
import { Sequencer } from './sequencer.js';
import { fileUrl, roomInfoOf, toMsgEvent, userRef } from './events.js';
import { HANDLERS, sendBinary } from './ops.js';
import { encodeJson, Session, type Connection, type SessionAuth, type User } from './session.js';
import { ChatStats } from './stats.js';

/** The logging the core needs (pino satisfies it). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

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

const textDecoder = new TextDecoder('utf-8');
const HISTORY_PAGE = 500;

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
  /** Local sessions by user id. */
  readonly users = new Map<string, Set<Session>>();
  readonly sessions = new Set<Session>();
  private readonly pendingWork = new Set<Promise<unknown>>();
  private lastRateError = new WeakMap<Session, number>();
  private readonly sequencer: Sequencer;
  private readonly sweeper: NodeJS.Timeout | undefined;

  constructor(deps: ChatDeps) {
    this.store = deps.store;
    this.broker = deps.broker;
    this.config = deps.config;
    this.log = deps.log;
    this.now = deps.now ?? Date.now;
    this.verifyToken = deps.verifyToken;
    this.rooms = new LiveRooms((s, data, binary) => this.write(s, data, binary));
    this.sequencer = new Sequencer({
      rooms: this.rooms,
      load: (room, after, upTo) => this.store.messagesAfter(room, after, upTo - after),
      lastSeq: async (room) => (await this.store.getRoom(room))?.lastSeq ?? 0,
      encode: (m) => encodeJson(toMsgEvent(m)),
      gapMs: deps.gapMs ?? 200,
      onError: (err, room) => this.log.warn({ err, room }, 'could not read missed messages from the store; will retry'),
    });
    if (this.broker.sweep) {
      this.sweeper = setInterval(() => void this.sweep(), deps.sweepMs ?? 5000);
      this.sweeper.unref();
    }
  }

  /** Users of nodes that died without saying goodbye go offline: tell the rooms. */
  private async sweep(): Promise<void> {
    for (const room of [...this.rooms.all()]) {
      try {
        const { online, gone } = (await this.broker.sweep?.(room.info.id)) ?? { online: 0, gone: [] };
        for (const user of gone) this.broadcast(room.info.id, { op: 'presence', room: room.info.id, event: 'leave', user, online });
      } catch (err) {
        this.log.debug({ err, room: room.info.id }, 'presence sweep failed');
      }
    }
  }

  /** The broker is back after an outage: deliver what other nodes published meanwhile. */
  recover(): void {
    for (const room of [...this.rooms.all()]) void this.sequencer.catchUp(room);
  }

  // ---- connection lifecycle ---------------------------------------------------------------

  /** Registers a new connection and sends its `welcome`. Frames that arrive meanwhile wait. */
  open(conn: Connection, user: User, auth: SessionAuth = { exp: null, rooms: [] }, guestToken?: string): Session {
    const burst = Math.max(1, this.config.ratePerSec * 2);
    const session = new Session(conn, user, new TokenBucket(this.config.ratePerSec, burst, this.now()), auth);
    this.scheduleExpiry(session);
    this.sessions.add(session);
    this.stats.connectionsTotal++;
    let mine = this.users.get(user.id);
    if (!mine) {
      this.users.set(user.id, (mine = new Set()));
      void this.broker.subscribe(userChannel(user.id), this.onBrokerMessage).catch((err: unknown) => this.log.warn({ err }, 'user channel subscribe failed'));
    }
    mine.add(session);
    session.enqueue(() => this.track(this.welcome(session, guestToken)));
    return session;
  }

  private async welcome(session: Session, guestToken: string | undefined): Promise<void> {
    try {
      await this.broker.presenceAdd(userKey(session.user.id), userRef(session.user));
      await this.store.upsertUser(userRef(session.user));
      const rooms = await this.summaries(await this.store.memberRooms(session.user.id), true);
      for (const r of rooms) session.memberOf.add(r.id);
      session.sendJson({
        op: 'welcome',
        session: session.id,
        user: userRef(session.user),
        ...(guestToken ? { guestToken } : {}),
        heartbeat: this.config.heartbeatMs,
        rooms,
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
    mine?.delete(session);
    if (mine && mine.size === 0) {
      this.users.delete(session.user.id);
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
    clearInterval(this.sweeper);
    for (const s of [...this.sessions]) s.conn.close(CloseCode.GoingAway, 'server shutting down; reconnect to resume');
    while (this.pendingWork.size > 0) await Promise.allSettled([...this.pendingWork]);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.pendingWork.add(p);
    void p.finally(() => this.pendingWork.delete(p)).catch(() => {});
    return p;
  }

  // ---- incoming frames ----------------------------------------------------------------------

  /** A text frame: parse, validate, rate-limit, then run in the session's order. */
  handleText(session: Session, data: Uint8Array): void {
    if (!session.conn.isOpen) return; // closing: what it sends now is not answered
    this.stats.framesIn++;
    let value: unknown;
    try {
      value = JSON.parse(textDecoder.decode(data));
    } catch {
      this.reject(session, undefined, new ChatError('bad_request', 'the frame is not valid JSON; send one JSON object per text frame'));
      return;
    }
    const ref = refOf(value);
    if (!this.allow(session, ref)) return;
    const v = validateRequest(value);
    if (!v.ok) {
      this.reject(session, ref, new ChatError('bad_request', v.message));
      return;
    }
    this.dispatch(session, v.value);
  }

  /** A binary frame: JSON header (a `send` or `dm` plus `mime`) and the payload. */
  handleBinary(session: Session, data: Uint8Array): void {
    if (!session.conn.isOpen) return;
    this.stats.framesIn++;
    const decoded = decodeBinaryFrame(data);
    const ref = decoded.ok ? refOf(decoded.header) : undefined;
    if (!this.allow(session, ref)) return;
    if (!decoded.ok) {
      this.reject(session, undefined, new ChatError('bad_request', decoded.reason));
      return;
    }
    const v = validateBinaryHeader(decoded.header);
    if (!v.ok) {
      this.reject(session, ref, new ChatError('bad_request', v.message));
      return;
    }
    const header: BinaryHeader = v.value;
    const payload = decoded.payload;
    if (payload.byteLength === 0) {
      this.reject(session, ref, new ChatError('bad_request', 'the binary frame has no payload after its header'));
      return;
    }
    if (payload.byteLength > this.config.maxBinary) {
      this.reject(session, ref, new ChatError('too_large', `the payload is ${payload.byteLength} bytes; the limit is ${this.config.maxBinary}`));
      return;
    }
    const ctx = new RequestContext(session, ref, header.op);
    session.enqueue(() => this.run(ctx, () => sendBinary(this, ctx, header, payload)));
  }

  private allow(session: Session, ref: string | number | undefined): boolean {
    if (session.bucket.take(this.now())) return true;
    this.stats.rateLimited++;
    // Without a ref, tell a flooding client at most once a second instead of once per frame.
    const last = this.lastRateError.get(session) ?? 0;
    if (ref !== undefined || this.now() - last >= 1000) {
      this.lastRateError.set(session, this.now());
      this.reject(
        session,
        ref,
        new ChatError('rate_limited', `too many frames: the limit is ${this.config.ratePerSec} a second; slow down and retry`),
      );
    }
    return false;
  }

  private dispatch(session: Session, req: ClientRequest): void {
    const ctx = new RequestContext(session, req.ref, req.op);
    const handler = HANDLERS[req.op] as (chat: ChatService, ctx: RequestContext, req: ClientRequest) => Promise<void>;
    session.enqueue(() => this.run(ctx, () => handler(this, ctx, req)));
  }

  private async run(ctx: RequestContext, task: () => Promise<void>): Promise<void> {
    if (ctx.session.closed) return;
    try {
      await this.track(task());
    } catch (err) {
      this.fail(ctx, err);
    }
  }

  /** Reports a failed request: a `reply` when it had a ref, else an `error` event. */
  fail(ctx: RequestContext, err: unknown): void {
    const { body, unexpected } = toErrorBody(err);
    if (unexpected) this.log.error({ err, op: ctx.op, session: ctx.session.id }, 'request failed');
    this.stats.errors++;
    this.sendError(ctx.session, ctx.ref, body);
  }

  private reject(session: Session, ref: string | number | undefined, err: ChatError): void {
    this.stats.errors++;
    this.sendError(session, ref, err.toBody());
  }

  private sendError(session: Session, ref: string | number | undefined, error: { code: string; message: string }): void {
    if (ref !== undefined) session.sendJson({ op: 'reply', ref, ok: false, error });
    else session.sendJson({ op: 'error', error });
  }

  // ---- delivery ---------------------------------------------------------------------------------

  /** Writes one frame to one session, and closes it if it stopped reading. */
  write(session: Session, data: Uint8Array, binary: boolean): void {
    if (session.closed || !session.conn.isOpen) return;
    session.conn.send(data, binary);
    this.stats.messagesOut++;
    this.stats.bytesOut += data.byteLength;
    if (session.conn.bufferedAmount > this.config.sendBufferLimit) {
      this.stats.slowConsumers++;
      this.log.info({ session: session.id, buffered: session.conn.bufferedAmount }, 'closing slow consumer');
      session.conn.close(CloseCode.TryAgainLater, 'slow consumer: too much unread data; reconnect and resume with since');
    }
  }

  /** Sends an event to the room's members here and on other nodes. */
  broadcast(roomId: string, event: object, except: { session?: string; user?: string } = {}): void {
    const data = encodeJson(event);
    this.rooms.deliver(roomId, { data, binary: false, exceptSession: except.session, exceptUser: except.user });
    this.broker.publish({ room: roomId, data, binary: false, exceptConn: except.session, exceptUser: except.user });
  }

  private onBrokerMessage = (m: BrokerMessage): void => {
    if (m.control) {
      void this.track(this.applyControl(m.room, m.control)).catch((err: unknown) => this.log.warn({ err, room: m.room }, 'control message failed'));
      return;
    }
    const target = { data: m.data, binary: m.binary, seq: m.seq, exceptSession: m.exceptConn, exceptUser: m.exceptUser };
    const live = this.rooms.get(m.room);
    if (m.seq !== undefined && live) this.sequencer.offer(live, { ...target, seq: m.seq });
    else this.rooms.deliver(m.room, target);
  };

  /** Tells the other nodes to apply a membership change to their connections too. */
  control(channel: string, control: ControlMessage): void {
    this.broker.publish({ room: channel, data: new Uint8Array(0), binary: false, control });
  }

  /** A membership change made on another node, applied to this node's connections. */
  private async applyControl(channel: string, c: ControlMessage): Promise<void> {
    if (c.kind === 'attach') {
      const userId = channel.slice(userChannel('').length);
      const sessions = [...(this.users.get(userId) ?? [])].filter((s) => !s.closed);
      if (sessions.length === 0) return;
      const room = await this.loadRoom(c.room);
      for (const s of sessions) {
        s.memberOf.add(room.id);
        if (!s.rooms.has(room.id)) await this.attach(s, room, false, c.after + 1);
      }
      return;
    }
    for (const s of [...this.sessions]) {
      const dropped = c.kind === 'drop-room' || s.user.id === c.user;
      if (!dropped || !(s.memberOf.has(channel) || s.rooms.has(channel))) continue;
      s.memberOf.delete(channel);
      if (c.kind === 'drop-user' && c.notify) s.sendJson(c.notify);
      if (c.kind === 'drop-room' && c.notify && !s.rooms.has(channel)) s.sendJson(c.notify);
      if (s.rooms.has(channel)) await this.detach(s, channel, c.kind === 'drop-room');
    }
  }

  /**
   * Stores a message, then delivers it to the room and answers the sender. Returns at once:
   * the session's next request need not wait for the commit.
   */
  post(ctx: RequestContext, room: RoomInfo, body: PostBody, replyExtra: object = {}): void {
    void this.track(
      this.publish(room, userRef(ctx.session.user), body, ctx.session.id).then(
        (res) => ctx.ok({ room: res.room, seq: res.seq, ts: res.ts, id: res.id, ...(res.duplicate ? { duplicate: true } : {}), ...replyExtra }),
        (err: unknown) => this.fail(ctx, err),
      ),
    );
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
    if (live) this.sequencer.offer(live, { data, binary, seq: res.seq, exceptSession });
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
    const { firstForUser, newRoom } = this.rooms.attach(session, room, backlog);
    const live = this.rooms.get(room.id) as LiveRoom;
    if (newRoom) {
      await this.broker.subscribe(room.id, this.onBrokerMessage);
      await this.sequencer.start(live, from);
    } else if (from !== undefined && !backlog && live.nextSeq !== null && from < live.nextSeq) {
      // Joined an active room mid-stream (a direct message from another node): send what it missed.
      for (const m of await this.store.messagesAfter(room.id, from - 1, live.nextSeq - from)) {
        this.write(session, encodeJson(toMsgEvent(m)), false);
      }
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
    for (const s of this.sessions) s.memberOf.delete(roomId);
  }

  /** Subscribes a session and sends it the room's backlog (missed messages or recent history). */
  async joinAndStream(ctx: RequestContext, room: RoomInfo, opts: { since?: number | undefined; history: number }): Promise<void> {
    const s = ctx.session;
    await this.attach(s, room, true);
    let sentUpTo = 0;
    try {
      const rec = await this.store.getRoom(room.id);
      if (!rec) throw new ChatError('room_not_found', `room "${room.id}" was deleted`);
      sentUpTo = rec.lastSeq;
      const online = await this.broker.presenceList(room.id);
      ctx.ok({ room, online: online.length, members: online, lastSeq: rec.lastSeq });
      if (!room.persist) return;
      if (opts.since !== undefined) await this.streamSince(s, room.id, opts.since, rec.lastSeq);
      else if (opts.history > 0) {
        for (const m of await this.store.messagesBefore(room.id, rec.lastSeq + 1, opts.history)) this.sendMsg(s, m);
      }
    } finally {
      this.rooms.goLive(s, room.id, sentUpTo);
    }
  }

  /** Sends every message after `since` up to `upTo`, page by page, waiting while the socket is full. */
  private async streamSince(s: Session, roomId: string, since: number, upTo: number): Promise<void> {
    let cursor = since;
    while (cursor < upTo && !s.closed) {
      const page = await this.store.messagesAfter(roomId, cursor, HISTORY_PAGE);
      if (page.length === 0) return;
      for (const m of page) {
        if (m.seq > upTo) return;
        this.sendMsg(s, m);
        cursor = m.seq;
      }
      if (s.conn.bufferedAmount > this.config.sendBufferLimit / 2) await s.conn.drained();
    }
  }

  private sendMsg(s: Session, m: StoredMessage): void {
    this.write(s, encodeJson(toMsgEvent(m)), false);
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

  /** Rejects text that is empty or longer than the limit. */
  checkText(text: string): void {
    if (text.length === 0) throw new ChatError('bad_request', 'text must not be empty');
    if (text.length > this.config.maxText) {
      throw new ChatError('too_large', `text is ${text.length} characters; the limit is ${this.config.maxText}`);
    }
  }

  checkMeta(meta: Record<string, unknown> | undefined): void {
    if (meta === undefined) return;
    const size = Buffer.byteLength(JSON.stringify(meta));
    if (size > this.config.maxMetaBytes) {
      throw new ChatError('too_large', `meta is ${size} bytes as JSON; the limit is ${this.config.maxMetaBytes}`);
    }
  }

  /** Work still in flight (for tests and shutdown). */
  get pending(): number {
    return this.pendingWork.size;
  }
}
