import type { RoomInfo, UserRef } from '@roomcast/protocol';
import { userChannel, type Broker, type PresenceChange } from '../broker/broker.js';
import type { Store } from '../store/store.js';
import type { Delivery } from './delivery.js';
import type { Logger } from './logger.js';
import { PresenceGrace, type PendingLeave } from './presence-grace.js';
import type { SessionRegistry } from './registry.js';
import type { Work } from './work.js';

export interface DeparturesDeps {
  store: Store;
  broker: Broker;
  delivery: Delivery;
  registry: SessionRegistry;
  work: Work;
  log: Logger;
  /** How long a user whose last connection in a room closed stays online there, ms (0: none). */
  graceMs: number;
  /** Deletes a room (Membership.deleteRoom): an ephemeral room nobody is online in any more. */
  deleteRoom: (roomId: string) => Promise<void>;
}

/** Why a user has no connection in a room on this node any more. */
export type Departure =
  /** `leave` or a kick (their membership already ended): announced at once. */
  | 'left'
  /** The room is being deleted: no `presence` event, its `room` event says it all. */
  | 'quiet'
  /** Their connection closed: announced once the grace passes without them coming back. */
  | 'closed';

/**
 * A user going offline in a room on this node: their presence, the `leave` event, the grace
 * that lets a reload pass unannounced, and, in an ephemeral room, their seat and the room itself.
 *
 * During the grace the user stays in the broker's presence, so the room's lists and counts go on
 * showing them, and a reconnect here that attaches again finds them there (presenceAdd reports no
 * change, so no `join`). In a cluster they may come back through another node: that node's
 * presenceAdd sees this node's entry (no `join`), and when the grace here ends, presenceRemove
 * reports no change (no `leave`, and the seat stays theirs).
 */
export class Departures {
  private readonly grace: PresenceGrace;

  constructor(private readonly d: DeparturesDeps) {
    this.grace = new PresenceGrace(d.graceMs, (p) => this.track(this.expired(p), p));
  }

  /** The user's last connection in the room on this node went (see Departure). */
  async gone(room: RoomInfo, user: UserRef, why: Departure): Promise<void> {
    if (why === 'closed' && this.grace.hold(room, user)) return;
    await this.offline(room, user, why);
  }

  /** A connection of the user attached to the room here: back within the grace, nothing to say. */
  back(roomId: string, userId: string): void {
    this.grace.take(roomId, userId);
  }

  /**
   * The user left the room or was kicked while within their grace here (their connections had
   * closed): that is announced at once, not when the grace would have passed.
   */
  async leftNow(roomId: string, userId: string): Promise<void> {
    const p = this.grace.take(roomId, userId);
    if (p) await this.offline(p.room, p.user, 'left');
  }

  /** The room was deleted: its users within their grace leave its presence without an event. */
  async roomDeleted(roomId: string): Promise<void> {
    for (const p of this.grace.takeRoom(roomId)) await this.offline(p.room, p.user, 'quiet');
  }

  /**
   * Shutdown: no grace from now on, and the pending leaves are announced now (see
   * PresenceGrace.stop); the caller waits for them with Work.idle.
   */
  stop(): void {
    for (const p of this.grace.stop()) this.track(this.expired(p), p);
  }

  /** Users within their grace on this node. */
  get pending(): number {
    return this.grace.size;
  }

  private track(job: Promise<void>, p: PendingLeave): void {
    void this.d.work.track(job).catch((err: unknown) => this.d.log.warn({ err, room: p.room.id, user: p.user.id }, 'announcing a departure after the presence grace failed'));
  }

  /** The grace passed with the user still gone from this node. */
  private async expired(p: PendingLeave): Promise<void> {
    // Deleted (perhaps made again) meanwhile: only this node's presence entry is left to drop.
    const current = await this.sameRoom(p.room);
    // Back here meanwhile (an attach racing the timer): they are online, and nothing is owed.
    // Checked right before presenceRemove, with no await between: an attach after it adds
    // them again and announces its `join` after this `leave`.
    if (this.attachedHere(p.room.id, p.user.id)) return;
    let change: PresenceChange;
    try {
      change = await this.d.broker.presenceRemove(p.room.id, p.user.id);
    } catch (err) {
      // The broker was away: this node's entry may still be there, so try again after another
      // grace rather than leave the user online for good.
      if (!this.grace.hold(p.room, p.user)) throw err;
      this.d.log.warn({ err, room: p.room.id, user: p.user.id }, 'presence grace: could not take a departed user out of presence; retrying');
      return;
    }
    if (current) await this.announce(current, p.user, 'closed', change);
  }

  private async offline(room: RoomInfo, user: UserRef, why: Departure): Promise<void> {
    const change = await this.d.broker.presenceRemove(room.id, user.id);
    if (why !== 'quiet') await this.announce(room, user, why, change);
  }

  /** After the user left the room's presence on this node: their seat, the event, the room. */
  private async announce(room: RoomInfo, user: UserRef, why: Departure, change: PresenceChange): Promise<void> {
    // Online through another node (change.changed false): no `leave`, and their seat stays.
    // An ephemeral room's membership is a seat for as long as one is there: a member whose
    // connections are all gone past the grace frees it, before the `leave` goes out, so whoever
    // hears it can take the seat.
    if (!room.persist && why === 'closed' && change.changed && !this.attachedHere(room.id, user.id)) await this.freeSeat(room.id, user.id);
    if (change.changed) {
      this.d.delivery.broadcast(room.id, { op: 'presence', room: room.id, event: 'leave', user, online: change.online });
    }
    // And an ephemeral room goes with the last one online in it (after their grace).
    if (!room.persist && change.online === 0) await this.d.deleteRoom(room.id);
  }

  private async freeSeat(roomId: string, userId: string): Promise<void> {
    await this.d.store.removeMember(roomId, userId);
    for (const s of this.d.registry.of(userId)) s.memberOf.delete(roomId);
    // Their connections on other nodes (in other rooms) may hold it as theirs too.
    this.d.delivery.tell(userChannel(userId), { kind: 'drop-user', user: userId, room: roomId });
  }

  /** The room now, unless it was deleted (or deleted and made again) since `room` was read. */
  private async sameRoom(room: RoomInfo): Promise<RoomInfo | null> {
    const now = this.d.delivery.rooms.get(room.id)?.info ?? (await this.d.store.getRoom(room.id));
    return now && Number(now.createdAt) === Number(room.createdAt) ? now : null;
  }

  private attachedHere(roomId: string, userId: string): boolean {
    return this.d.delivery.rooms.get(roomId)?.userSessions.has(userId) ?? false;
  }
}
