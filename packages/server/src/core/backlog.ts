import { CloseCode } from '@roomcast/protocol';
import type { Store } from '../store/store.js';
import { ChatError } from './errors.js';
import { toStreamEvent } from './events.js';
import type { HeldEvents, LiveRooms } from './live-rooms.js';
import type { Logger } from './logger.js';
import { encodeJson, type Session } from './session.js';
import type { Work } from './work.js';

// Stored messages sent to one connection before it gets a room live: a joining connection's
// backlog (what it missed, or the recent history), and the catch-up of a member that fell behind
// (its socket could not take the room's messages as fast as they came). Both are paced by the
// socket: a page is read from the store, written while the socket has room, and the next one
// waits for it to drain; live events meanwhile wait in the member's HeldEvents, in order.

/** Stored messages read per query. */
const PAGE = 200;

/** What sending stored messages needs (Delivery provides it). */
export interface BacklogDeps {
  rooms: LiveRooms;
  store: Store;
  work: Work;
  log: Logger;
  /** Past this many unsent bytes, wait for the socket to drain (Outbound.streamLimit). */
  streamLimit: number;
  /** Writes a paced room event (Outbound.deliver with `paced`). */
  write(session: Session, data: Uint8Array): void;
}

/**
 * A live member's socket could not take the room's next message (`afterSeq` + 1): it now gets
 * the room from the store, as fast as it reads, and goes live again once it has caught up.
 */
export function catchUpBehind(d: BacklogDeps, s: Session, roomId: string, afterSeq: number): void {
  const hold = d.rooms.held(s, roomId);
  if (!hold) return;
  hold.dropped = true;
  void d.work.track(
    (async () => {
      // Nothing can be written before the socket drains; waiting also leaves the delivery pass.
      await s.conn.drained();
      await finishCatchUp(d, s, roomId, afterSeq, hold);
    })().catch((err: unknown) => failedCatchUp(d, s, roomId, err)),
  );
}

/**
 * Goes live once nothing was dropped from the hold; until then reads from the store up to what
 * this node delivered so far, which is all committed, and tries again.
 */
export async function finishCatchUp(d: BacklogDeps, s: Session, roomId: string, sentUpTo: number, hold: HeldEvents): Promise<void> {
  let upTo = sentUpTo;
  let current: HeldEvents | undefined = hold;
  for (;;) {
    const after = d.rooms.goLive(s, roomId, upTo, current);
    if (after === null) return;
    current = d.rooms.held(s, roomId);
    const live = d.rooms.get(roomId);
    if (!current || !live || s.closed) return;
    const head = live.deliveredSeq ?? (await d.store.getRoom(roomId))?.lastSeq ?? after;
    if (d.rooms.held(s, roomId) !== current) return;
    current.dropped = false;
    current.forgetStream();
    await sendStored(d, s, roomId, after, head, current);
    upTo = Math.max(after, head);
  }
}

/**
 * Writes the stored messages with seq in (after, upTo], waiting for the socket to drain whenever
 * it holds more than Outbound.streamLimit. Stops when the session closes or a newer hold (a
 * second join) replaced this one.
 */
export async function sendStored(d: BacklogDeps, s: Session, roomId: string, after: number, upTo: number, hold: HeldEvents): Promise<void> {
  let cursor = after;
  const current = () => !s.closed && d.rooms.held(s, roomId) === hold;
  while (cursor < upTo && current()) {
    const page = await d.store.messagesAfter(roomId, cursor, Math.min(PAGE, upTo - cursor), { viewer: s.user.id });
    // Seqs are committed before they are announced, so rows are missing only where retention
    // deleted them: nothing is left to send.
    if (page.length === 0) return;
    for (const m of page) {
      if (m.seq > upTo) return;
      if (s.conn.bufferedAmount > d.streamLimit) await s.conn.drained();
      if (!current()) return;
      d.write(s, encodeJson(toStreamEvent(m)));
      cursor = m.seq;
    }
  }
}

/**
 * The stored messages could not be sent: the connection cannot be told which ones it lacks, so
 * it is closed with 1011 and resumes by `since` when it comes back.
 */
export function failedCatchUp(d: BacklogDeps, s: Session, roomId: string, err: unknown): void {
  d.log.error({ err, session: s.id, room: roomId }, 'sending stored messages failed');
  if (s.closed) return;
  const message = err instanceof ChatError ? err.message : 'the server could not read the stored messages of this room';
  s.sendJson({ op: 'error', error: { code: 'internal', message: `${message}; reconnect and join with since to resume` } });
  s.conn.close(CloseCode.Internal, 'could not send the stored messages of a room; reconnect and resume with since');
}
