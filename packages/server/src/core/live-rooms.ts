import type { RoomInfo } from '@roomcast/protocol';
import type { Session } from './session.js';

interface Queued {
  data: Uint8Array;
  binary: boolean;
  seq: number | undefined;
}

/** A room with members connected to this node: who receives its events. */
export class LiveRoom {
  /** Sessions receiving live events. */
  readonly live = new Set<Session>();
  /** Sessions still being sent their backlog; live events wait here so nothing overtakes it. */
  readonly joining = new Map<Session, Queued[]>();
  /** User id → this node's sessions of that user in the room (live or joining). */
  readonly userSessions = new Map<string, number>();
  /** Seq of the next `msg` to deliver; null until read from the store (see Sequencer). */
  nextSeq: number | null = null;
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
}

/** Writes a frame to one session; core supplies it (counts, slow-consumer check). */
export type Writer = (session: Session, data: Uint8Array, binary: boolean) => void;

/** This node's rooms that have local members. Delivery walks one room's set, never all sessions. */
export class LiveRooms {
  private readonly rooms = new Map<string, LiveRoom>();

  constructor(private readonly write: Writer) {}

  get(id: string): LiveRoom | undefined {
    return this.rooms.get(id);
  }

  get count(): number {
    return this.rooms.size;
  }

  /**
   * Adds a session to a room, in backlog mode when `joining` (live events are held until
   * `goLive`). Returns whether it is the user's first session in the room on this node and
   * whether the room is new on this node.
   */
  attach(session: Session, info: RoomInfo, joining: boolean): { firstForUser: boolean; newRoom: boolean } {
    let room = this.rooms.get(info.id);
    const newRoom = room === undefined;
    if (!room) this.rooms.set(info.id, (room = new LiveRoom(info)));
    const already = room.live.has(session) || room.joining.has(session);
    if (joining) {
      room.live.delete(session);
      if (!room.joining.has(session)) room.joining.set(session, []);
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

  /** Ends backlog mode: sends held events with seq above `sentUpTo`, then goes live. */
  goLive(session: Session, roomId: string, sentUpTo: number): void {
    // A session that closed meanwhile stays where it is, so its detach finds and frees it.
    if (session.closed) return;
    const room = this.rooms.get(roomId);
    const queued = room?.joining.get(session);
    if (!room || !queued) return;
    room.joining.delete(session);
    for (const q of queued) {
      if (q.seq !== undefined && q.seq <= sentUpTo) continue;
      this.write(session, q.data, q.binary);
    }
    room.live.add(session);
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

  /** Sends one encoded frame to every local session in the room, bar the exceptions. */
  deliver(roomId: string, t: DeliveryTarget): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    for (const s of room.live) {
      if (s.id === t.exceptSession || s.user.id === t.exceptUser) continue;
      this.write(s, t.data, t.binary);
    }
    if (room.joining.size === 0) return;
    for (const [s, queue] of room.joining) {
      if (s.id === t.exceptSession || s.user.id === t.exceptUser) continue;
      queue.push({ data: t.data, binary: t.binary, seq: t.seq });
    }
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
