import type { StoredMessage } from '../store/store.js';
import type { DeliveryTarget, LiveRoom, LiveRooms } from './live-rooms.js';

export interface SequencerDeps {
  rooms: LiveRooms;
  /** Stored messages with seq in (after, upTo], ascending. */
  load: (room: string, after: number, upTo: number) => Promise<StoredMessage[]>;
  /** The room's last seq in the store. */
  lastSeq: (room: string) => Promise<number>;
  encode: (m: StoredMessage) => Uint8Array;
  /** How long an early message waits for the ones before it before they are read from the store. */
  gapMs: number;
  onError: (err: unknown, room: string) => void;
}

/**
 * Delivers each room's `msg` events to local members in seq order, once. In one process they
 * arrive in order and pass straight through. Between nodes they can arrive out of order or not
 * at all (Redis pub/sub is at-most-once): an early one waits briefly, then the gap is read from
 * the store, so no member misses a message and none sees one twice.
 */
export class Sequencer {
  constructor(private readonly d: SequencerDeps) {}

  /**
   * Starts sequencing a room that just got its first local member: from `from` when given (the
   * first message its members still need), else from the store's next seq.
   */
  async start(room: LiveRoom, from?: number): Promise<void> {
    const next = from ?? (await this.d.lastSeq(room.info.id)) + 1;
    if (room.nextSeq !== null) return;
    room.nextSeq = next;
    // What came before `next` is committed and was not this node's to deliver.
    if (room.deliveredSeq === null || room.deliveredSeq < next - 1) room.deliveredSeq = next - 1;
    if (from !== undefined) await this.catchUp(room);
    else this.drain(room);
  }

  /** A `msg` to deliver (committed here, or from another node). */
  offer(room: LiveRoom, t: DeliveryTarget & { seq: number }): void {
    if (room.nextSeq === null) {
      room.early.set(t.seq, t);
      return;
    }
    if (t.seq < room.nextSeq) return; // already delivered (or sent as backlog)
    if (t.seq === room.nextSeq && room.early.size === 0) {
      room.nextSeq++;
      this.d.rooms.deliver(room.info.id, t);
      return;
    }
    room.early.set(t.seq, t);
    this.drain(room);
  }

  /** Delivers what is now in order; if a gap remains, arms the timer that fills it. */
  private drain(room: LiveRoom): void {
    if (room.nextSeq === null) return;
    for (const seq of [...room.early.keys()]) if (seq < room.nextSeq) room.early.delete(seq);
    let next = room.early.get(room.nextSeq);
    while (next) {
      room.early.delete(room.nextSeq);
      room.nextSeq++;
      this.d.rooms.deliver(room.info.id, next);
      next = room.early.get(room.nextSeq);
    }
    if (room.early.size > 0 && !room.gapTimer) {
      room.gapTimer = setTimeout(() => {
        room.gapTimer = undefined;
        void this.fill(room, Math.max(...room.early.keys()));
      }, this.d.gapMs);
      room.gapTimer.unref();
    }
  }

  /**
   * Reads from the store whatever is missing up to `upTo` and delivers it in order. Used for
   * gaps, and after the broker came back (upTo = the store's last seq).
   */
  async fill(room: LiveRoom, upTo: number): Promise<void> {
    const id = room.info.id;
    try {
      if (room.nextSeq === null || upTo < room.nextSeq) return;
      const missing = room.info.persist ? await this.d.load(id, room.nextSeq - 1, upTo) : [];
      for (const m of missing) {
        if (room.nextSeq === null || m.seq < room.nextSeq) continue;
        if (m.seq > room.nextSeq) break;
        // Prefer the copy that came live (a binary message keeps its payload).
        const t = room.early.get(m.seq) ?? { data: this.d.encode(m), binary: false, seq: m.seq };
        room.early.delete(m.seq);
        room.nextSeq++;
        this.d.rooms.deliver(id, t);
      }
      if (room.nextSeq !== null && room.early.size > 0 && !room.early.has(room.nextSeq)) await this.skipGap(room, upTo);
      this.drain(room);
    } catch (err) {
      this.d.onError(err, id);
      // Try again later; what arrives meanwhile keeps waiting in order.
      if (!room.gapTimer && room.early.size > 0) this.drain(room);
    }
  }

  /**
   * A gap the store could not fill (an ephemeral room keeps no messages; or never committed
   * after all): skip to the lowest early seq, but only to one the store has committed. A seq
   * beyond the store's (another cluster's on a shared Redis, a corrupt one) is dropped: it must
   * never make the room skip its own messages, which would then count as already delivered.
   */
  private async skipGap(room: LiveRoom, upTo: number): Promise<void> {
    // Only entries that were here before the read: a later one may be newer than what it saw.
    const seen = [...room.early.keys()];
    const committed = await this.d.lastSeq(room.info.id);
    for (const seq of seen) if (seq > committed) room.early.delete(seq);
    if (room.nextSeq === null || room.early.size === 0 || room.early.has(room.nextSeq)) return;
    const lowest = Math.min(...room.early.keys());
    if (lowest > room.nextSeq && upTo >= lowest - 1 && lowest <= committed) room.nextSeq = lowest;
  }

  /** After the broker was away: deliver whatever the store has that we never received. */
  async catchUp(room: LiveRoom): Promise<void> {
    try {
      await this.fill(room, await this.d.lastSeq(room.info.id));
    } catch (err) {
      this.d.onError(err, room.info.id);
    }
  }
}
