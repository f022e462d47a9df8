import type { RoomInfo, RoomSummary } from '@roomcast/protocol';
import { ROOMS_CHANNEL, type Broker } from '../broker/broker.js';
import type { MembershipRecord, RoomRecord, Store } from '../store/store.js';
import type { Delivery } from './delivery.js';
import { Departures, type Departure } from './departures.js';
import type { PublicRoomDirectory } from './directory.js';
import { ChatError } from './errors.js';
import { roomInfoOf, userRef } from './events.js';
import { roomGranted } from './grants.js';
import type { Logger } from './logger.js';
import type { SessionRegistry } from './registry.js';
import type { Session } from './session.js';
import type { Work } from './work.js';

export interface MembershipDeps {
  store: Store;
  broker: Broker;
  delivery: Delivery;
  registry: SessionRegistry;
  directory: PublicRoomDirectory;
  now: () => number;
  work: Work;
  log: Logger;
  /** How long a user whose last connection in a room closed stays online there, ms. */
  presenceGraceMs: number;
}

/** Presence key under which each connected user is kept, for "is this user online". */
export const userKey = (userId: string): string => `~user:${userId}`;

/**
 * Who belongs to which room and who receives it here: loading rooms, checking and making
 * membership, attaching sessions to live rooms (with presence), deleting rooms, room summaries.
 */
export class Membership {
  /** Users going offline in rooms: the leave event, the presence grace, ephemeral seats. */
  readonly departures: Departures;

  constructor(private readonly d: MembershipDeps) {
    this.departures = new Departures({
      store: d.store,
      broker: d.broker,
      delivery: d.delivery,
      registry: d.registry,
      work: d.work,
      log: d.log,
      graceMs: d.presenceGraceMs,
      deleteRoom: (roomId) => this.deleteRoom(roomId),
    });
  }

  /** The room's settings, from this node's live copy when it has one. */
  async loadRoom(roomId: string): Promise<RoomInfo> {
    const live = this.d.delivery.rooms.get(roomId);
    if (live) return live.info;
    const rec = await this.d.store.getRoom(roomId);
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
    return this.d.delivery.rooms.get(roomId)?.info;
  }

  /** Throws not_member unless the session's user belongs to the room. */
  async requireMember(session: Session, roomId: string): Promise<RoomInfo> {
    const room = await this.loadRoom(roomId);
    if (!session.memberOf.has(roomId) && !session.user.admin) {
      if (!(await this.d.store.isMember(roomId, session.user.id))) {
        throw new ChatError('not_member', `you are not a member of room "${roomId}"; join it first`);
      }
      session.memberOf.add(roomId);
    }
    return room;
  }

  /**
   * Makes the user a member (checking privacy and capacity) unless they already are. `invite`
   * checks an invite link's token (throwing `forbidden` when it does not hold): it is asked only
   * when it is what lets the user into a private room, so a member's stale link changes nothing.
   */
  async ensureMembership(session: Session, room: RoomInfo, invite?: () => Promise<void>): Promise<void> {
    if (session.memberOf.has(room.id)) return;
    const granted = session.user.admin || (!room.direct && roomGranted(room.id, session.auth.rooms));
    const closed = room.visibility === 'private' && !granted;
    if (!closed || !(await this.d.store.isMember(room.id, session.user.id))) {
      if (closed && !invite) throw new ChatError('forbidden', `room "${room.id}" is private; ask a member to invite you`);
      if (closed) await invite?.();
      const res = await this.d.store.addMember(room.id, session.user.id, room.capacity, this.d.now());
      if (res === 'full') {
        throw new ChatError('room_full', `room "${room.id}" is full (${room.capacity}/${room.capacity}); try again when someone leaves`);
      }
    }
    session.memberOf.add(room.id);
  }

  /**
   * Subscribes a session to a room. With `backlog`, live events are held back until the caller
   * has sent what the session missed and goes live. With `from` (a direct conversation started
   * on another node), the session first gets the room's messages from that seq on.
   */
  async attach(session: Session, room: RoomInfo, backlog: boolean, from?: number): Promise<void> {
    if (session.closed) throw new ChatError('bad_request', 'the connection is closing');
    const rooms = this.d.delivery.rooms;
    const existing = rooms.get(room.id);
    // Joined an active room mid-stream: it gets what it missed from the store first, like a
    // member that fell behind.
    const midStream = from !== undefined && !backlog && existing !== undefined && existing.deliveredSeq !== null && from <= existing.deliveredSeq;
    const { firstForUser, newRoom } = rooms.attach(session, room, backlog || midStream);
    // Back within the presence grace (a reload): the room never heard them go, so it hears no
    // `join` either (presenceAdd below finds them still there). Cancelled before any await, so
    // the grace's timer cannot fire in between.
    if (firstForUser) this.departures.back(room.id, session.user.id);
    if (newRoom) {
      const live = rooms.get(room.id);
      if (live) await this.d.delivery.opened(live, from);
    } else if (midStream) {
      this.d.delivery.catchUp(session, room.id, (from as number) - 1);
    }
    if (!firstForUser) return;
    const change = await this.d.broker.presenceAdd(room.id, userRef(session.user));
    if (change.changed) {
      this.d.delivery.broadcast(room.id, { op: 'presence', room: room.id, event: 'join', user: userRef(session.user), online: change.online }, { session: session.id });
    }
  }

  /**
   * Unsubscribes a session; the user goes offline in the room at once when it was their last
   * (a leave, a kick). `quiet` skips the presence event (the room is being deleted).
   */
  async detach(session: Session, roomId: string, quiet = false): Promise<void> {
    await this.release(session, roomId, quiet ? 'quiet' : 'left');
  }

  /**
   * The session's connection closed: it stops receiving the room, and when it was the user's
   * last there, they go offline only after the presence grace (a reload announces nothing).
   */
  async disconnected(session: Session, roomId: string): Promise<void> {
    await this.release(session, roomId, 'closed');
  }

  private async release(session: Session, roomId: string, why: Departure): Promise<void> {
    const rooms = this.d.delivery.rooms;
    const info = rooms.get(roomId)?.info;
    const { lastForUser, roomGone, wasAttached } = rooms.detach(session, roomId);
    if (!wasAttached || !info) return;
    if (roomGone) await this.d.delivery.closed(roomId);
    if (lastForUser) await this.departures.gone(info, userRef(session.user), why);
  }

  /** Ends a user's presence in a room on this node: all their sessions stop receiving it. */
  async dropUser(userId: string, roomId: string): Promise<Session[]> {
    const sessions = this.d.registry.of(userId);
    for (const s of sessions) {
      s.memberOf.delete(roomId);
      await this.detach(s, roomId);
    }
    // Their connections had closed and they were within the grace: the leave (or kick) is
    // announced now.
    await this.departures.leftNow(roomId, userId);
    return sessions;
  }

  /** Deletes the stored room; every node's connections forget they belonged to it (`notify`: what members not joined to it are told). */
  async deleteRoom(roomId: string, notify?: object): Promise<void> {
    await this.departures.roomDeleted(roomId);
    await this.d.store.deleteRoom(roomId);
    this.d.directory.removed(roomId);
    for (const s of this.d.registry.sessions) s.memberOf.delete(roomId);
    this.d.delivery.tell(ROOMS_CHANNEL, { kind: 'drop-room', room: roomId, ...(notify ? { notify } : {}) });
  }

  /** Room list entries with unread and online counts. */
  async summaries(rows: Array<RoomRecord | MembershipRecord>, withRead: boolean): Promise<RoomSummary[]> {
    const counts = await this.d.broker.presenceCounts(rows.map((r) => r.id));
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
        sum.unread = r.unread;
        sum.mentions = r.mentions;
      }
      return sum;
    });
  }

  /** Whether the user has a connection (on any node). */
  async isOnline(userId: string): Promise<boolean> {
    if (this.d.registry.hasUser(userId)) return true;
    const counts = await this.d.broker.presenceCounts([userKey(userId)]);
    return (counts.get(userKey(userId)) ?? 0) > 0;
  }
}
