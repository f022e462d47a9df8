import type { RoomInfo } from '@roomcast/protocol';
import type { Session } from './session.js';

interface Queued {
  data: Uint8Array;
  binary: boolean;
  seq: number | undefined;
}

/**
 * A member's live events held back while it is sent stored messages first (its `join` backlog,
 * or a catch-up after it fell behind). Bounded: once the stream events held pass the budget,
 * they are dropped and the catch-up reads them from the store instead (`dropped`).
 */
export class HeldEvents {
  readonly items: Queued[] = [];
  bytes = 0;
  /** Stream events were dropped: the catch-up must read the store again before going live. */
  dropped = false;

  constructor(dropped = false) {
    this.dropped = dropped;
  }

  /** Forgets the held stream events (the store pass about to run covers them); keeps the rest. */
  forgetStream(): void {
    let kept = 0;
    let bytes = 0;
    for (const q of this.items) {
      if (q.seq !== undefined) continue;
      this.items[kept++] = q;
      bytes += q.data.byteLength;
    }
    this.items.length = kept;
    this.bytes = bytes;
  }
}

/** A room with members connected to this node: who receives its events. */
export class LiveRoom {
  /** Sessions receiving live events. */
  readonly live = new Set<Session>();
  /** Sessions being sent stored messages; their live events wait here so nothing overtakes them. */
  readonly joining = new Map<Session, HeldEvents>();
  /** User id → this node's sessions of that user in the room (live or joining). */
  readonly userSessions = new Map<string, number>();
  /** Seq of the next `msg` to deliver, in cluster mode; null until read from the store (see Sequencer). */
  nextSeq: number | null = null;
  /** The highest seq delivered here (every seq up to it is committed); null before the first. */
  deliveredSeq: number | null = null;
  /** `msg` events that arrived ahead of `nextSeq`, by seq. */
  readonly early = new Map<number, DeliveryTarget>();
  gapTimer: NodeJS.Timeout | undefined;

  constructor(public info: RoomInfo) {}

  get size(): number {
    return this.live.size + this.joining.size;
  }
}

export interface DeliveryTarget {
  data: Uint8Array;
  binary: boolean;
  seq?: number | undefined;
  exceptSession?: string | undefined;
  exceptUser?: string | undefined;
  /** A hint (typing) that a member with a backlog to get through can do without. */
  droppable?: boolean | undefined;
}

/** How LiveRooms writes and paces; core supplies it (Outbound and the catch-up in backlog.ts). */
export interface DeliveryPolicy {
  /** Writes a frame to one session (counts; unless `paced`, the send-buffer check). */
  write(session: Session, data: Uint8Array, binary: boolean, paced: boolean): void;
  /** Whether a stream event of `size` bytes should wait in the store instead of the socket. */
  full(session: Session, size: number): boolean;
  /** Whether the session has enough queued that hints are not worth sending. */
  busy(session: Session): boolean;
  /** The session fell behind in a persisted room: catch it up from the store after `afterSeq`. */
  behind(session: Session, room: LiveRoom, afterSeq: number): void;
  /** Too much that cannot be read again is held for a session: close it (slow consumer). */
  overflow(session: Session): void;
  /** Bytes of stream events held per catching-up session before they are left to the store. */
  heldBudget: number;
}

/** This node's rooms that have local members. Delivery walks one room's set, never all sessions. */
export class LiveRooms {
  private readonly rooms = new Map<string, LiveRoom>();

  constructor(private readonly policy: DeliveryPolicy) {}

  get(id: string): LiveRoom | undefined {
    return this.rooms.get(id);
  }

  get count(): number {
    return this.rooms.size;
  }

  /**
   * Adds a session to a room, in backlog mode when `joining` (live events are held until
   * `goLive`; a second join starts a fresh hold, which ends any catch-up of the first).
   * Returns whether it is the user's first session in the room on this node and whether the
   * room is new on this node.
   */
  attach(session: Session, info: RoomInfo, joining: boolean): { firstForUser: boolean; newRoom: boolean } {
    let room = this.rooms.get(info.id);
    const newRoom = room === undefined;
    if (!room) this.rooms.set(info.id, (room = new LiveRoom(info)));
    const already = room.live.has(session) || room.joining.has(session);
    if (joining) {
      room.live.delete(session);
      room.joining.set(session, new HeldEvents());
    } else if (!room.joining.has(session)) {
      room.live.add(session);
    }
    session.rooms.add(info.id);
    let firstForUser = false;
    if (!already) {
      const n = room.userSessions.get(session.user.id) ?? 0;
      room.userSessions.set(session.user.id, n + 1);
      firstForUser = n === 0;
    }
    return { firstForUser, newRoom };
  }

  /** The events held for a catching-up session (the hold's identity tells one catch-up from the next). */
  held(session: Session, roomId: string): HeldEvents | undefined {
    return this.rooms.get(roomId)?.joining.get(session);
  }

  /**
   * Ends backlog mode: writes the held events with seq above `sentUpTo`, then goes live. If the
   * socket fills up on the way, the session stays held from the first stream event not written,
   * and that event's seq minus one is returned (catch up from there); null once live.
   */
  goLive(session: Session, roomId: string, sentUpTo: number, hold: HeldEvents): number | null {
    // A session that closed meanwhile stays where it is, so its detach finds and frees it.
    if (session.closed) return null;
    const room = this.rooms.get(roomId);
    if (!room || room.joining.get(session) !== hold) return null;
    if (hold.dropped) return sentUpTo;
    const items = hold.items;
    for (let i = 0; i < items.length; i++) {
      const q = items[i]!;
      if (q.seq !== undefined) {
        if (q.seq <= sentUpTo) continue;
        if (room.info.persist && this.policy.full(session, q.data.byteLength)) {
          const next = new HeldEvents(true);
          for (const rest of items.slice(i + 1)) if (rest.seq === undefined) this.push(next, rest);
          room.joining.set(session, next);
          return q.seq - 1;
        }
      }
      this.policy.write(session, q.data, q.binary, q.seq !== undefined && room.info.persist);
    }
    room.joining.delete(session);
    room.live.add(session);
    return null;
  }

  /** Removes a session. Returns whether it was the user's last one in the room on this node. */
  detach(session: Session, roomId: string): { lastForUser: boolean; roomGone: boolean; wasAttached: boolean } {
    session.rooms.delete(roomId);
    const room = this.rooms.get(roomId);
    if (!room) return { lastForUser: false, roomGone: false, wasAttached: false };
    const was = room.live.delete(session) || room.joining.delete(session);
    if (!was) return { lastForUser: false, roomGone: false, wasAttached: false };
    const n = (room.userSessions.get(session.user.id) ?? 1) - 1;
    if (n <= 0) room.userSessions.delete(session.user.id);
    else room.userSessions.set(session.user.id, n);
    const roomGone = room.size === 0;
    if (roomGone) {
      clearTimeout(room.gapTimer);
      this.rooms.delete(roomId);
    }
    return { lastForUser: n <= 0, roomGone, wasAttached: true };
  }

  /**
   * Sends one encoded frame to every local session in the room, bar the exceptions. A member
   * whose socket cannot take a stored room's message now falls behind: it stops getting the
   * stream live and catches up from the store (see DeliveryPolicy.behind).
   */
  deliver(roomId: string, t: DeliveryTarget): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    const p = this.policy;
    if (t.seq !== undefined && (room.deliveredSeq === null || t.seq > room.deliveredSeq)) room.deliveredSeq = t.seq;
    const stream = t.seq !== undefined && room.info.persist;
    for (const s of room.live) {
      if (s.id === t.exceptSession || s.user.id === t.exceptUser) continue;
      if (t.droppable && p.busy(s)) continue;
      if (stream && p.full(s, t.data.byteLength)) {
        // Deleting the current element keeps a Set's iteration valid.
        room.live.delete(s);
        room.joining.set(s, new HeldEvents(true));
        p.behind(s, room, (t.seq as number) - 1);
        continue;
      }
      p.write(s, t.data, t.binary, stream);
    }
    if (room.joining.size === 0) return;
    for (const [s, hold] of room.joining) {
      if (s.id === t.exceptSession || s.user.id === t.exceptUser || t.droppable) continue;
      if (stream) {
        if (hold.dropped) continue;
        if (hold.bytes + t.data.byteLength > p.heldBudget) {
          hold.dropped = true;
          continue;
        }
      } else if (hold.bytes + t.data.byteLength > 2 * p.heldBudget) {
        p.overflow(s);
        continue;
      }
      this.push(hold, { data: t.data, binary: t.binary, seq: t.seq });
    }
  }

  private push(hold: HeldEvents, q: Queued): void {
    hold.items.push(q);
    hold.bytes += q.data.byteLength;
  }

  /** Every room with local members. */
  all(): IterableIterator<LiveRoom> {
    return this.rooms.values();
  }

  /** Local sessions of one user in a room. */
  sessionsOf(roomId: string, userId: string): Session[] {
    const room = this.rooms.get(roomId);
    if (!room) return [];
    return [...room.live, ...room.joining.keys()].filter((s) => s.user.id === userId);
  }
}
