import type { RoomInfo, UserRef } from '@roomcast/protocol';

/** A user whose last connection in a room on this node closed, not announced gone yet. */
export interface PendingLeave {
  /** The room as it was when they went (its `createdAt` tells it from a room made again later). */
  room: RoomInfo;
  user: UserRef;
  timer: NodeJS.Timeout;
}

/**
 * The presence grace's timers: one per (room, user) whose last connection here closed, so a
 * reload or a short network drop announces nothing. Only the table; what happens when the grace
 * passes is the caller's (`expire`). Memory stays bounded by the users gone within the last
 * grace: an entry goes when it fires, is cancelled (they came back) or taken (they left).
 */
export class PresenceGrace {
  /** Room id → user id → pending leave. */
  private readonly pending = new Map<string, Map<string, PendingLeave>>();
  private stopped = false;

  constructor(
    private readonly graceMs: number,
    /** Called once the grace passed with the user still gone here; the entry is already removed. */
    private readonly expire: (p: PendingLeave) => void,
  ) {}

  /**
   * Starts the user's grace in the room. false when there is none (0 ms, or the node is
   * stopping): the caller announces the departure now.
   */
  hold(room: RoomInfo, user: UserRef): boolean {
    if (this.graceMs <= 0 || this.stopped) return false;
    let byUser = this.pending.get(room.id);
    if (!byUser) this.pending.set(room.id, (byUser = new Map()));
    clearTimeout(byUser.get(user.id)?.timer);
    const p: PendingLeave = {
      room,
      user,
      timer: setTimeout(() => {
        // Only if it is still this entry: a cancel or a newer hold replaced it meanwhile.
        if (this.pending.get(room.id)?.get(user.id) !== p) return;
        this.take(room.id, user.id);
        this.expire(p);
      }, this.graceMs),
    };
    // A grace never keeps the process alive: shutdown runs what is left (see stop).
    p.timer.unref();
    byUser.set(user.id, p);
    return true;
  }

  /** Removes and returns the user's pending leave in the room, its timer cleared. */
  take(roomId: string, userId: string): PendingLeave | undefined {
    const byUser = this.pending.get(roomId);
    const p = byUser?.get(userId);
    if (!byUser || !p) return undefined;
    clearTimeout(p.timer);
    byUser.delete(userId);
    if (byUser.size === 0) this.pending.delete(roomId);
    return p;
  }

  /** Removes and returns every pending leave of a room (it was deleted). */
  takeRoom(roomId: string): PendingLeave[] {
    const byUser = this.pending.get(roomId);
    if (!byUser) return [];
    this.pending.delete(roomId);
    const all = [...byUser.values()];
    for (const p of all) clearTimeout(p.timer);
    return all;
  }

  /**
   * The node is stopping: no grace from now on, and every pending leave is returned to be
   * announced now. A stopped process could not announce them later, and leaving them would
   * leave their users online in the rooms (and their seats taken in ephemeral ones) for good.
   */
  stop(): PendingLeave[] {
    this.stopped = true;
    const all: PendingLeave[] = [];
    for (const roomId of [...this.pending.keys()]) all.push(...this.takeRoom(roomId));
    return all;
  }

  /** Pending leaves (users within their grace), all rooms. */
  get size(): number {
    let n = 0;
    for (const byUser of this.pending.values()) n += byUser.size;
    return n;
  }
}
