import { CloseCode, type RoomInfo } from '@roomcast/protocol';
import type { ChatService } from './chat.js';
import type { RequestContext } from './context.js';
import { ChatError } from './errors.js';
import { toMsgEvent } from './events.js';
import type { HeldEvents } from './live-rooms.js';
import { encodeJson, type Session } from './session.js';

// Stored messages sent to one connection before it gets a room live: a joining connection's
// backlog (what it missed, or the recent history), and the catch-up of a member that fell behind
// (its socket could not take the room's messages as fast as they came). Both are paced by the
// socket: a page is read from the store, written while the socket has room, and the next one
// waits for it to drain; live events meanwhile wait in the member's HeldEvents, in order.

/** Stored messages read per query. */
const PAGE = 200;

/** Subscribes a session and sends it the room's backlog (missed messages or recent history). */
export async function joinAndStream(chat: ChatService, ctx: RequestContext, room: RoomInfo, opts: { since?: number | undefined; history: number }): Promise<void> {
  const s = ctx.session;
  await chat.attach(s, room, true);
  const hold = chat.rooms.held(s, room.id);
  if (!hold) return; // closed meanwhile
  let upTo: number;
  try {
    const rec = await chat.store.getRoom(room.id);
    if (!rec) throw new ChatError('room_not_found', `room "${room.id}" was deleted`);
    upTo = rec.lastSeq;
    const online = await chat.broker.presenceList(room.id);
    ctx.ok({ room, online: online.length, members: online, lastSeq: rec.lastSeq });
  } catch (err) {
    chat.rooms.goLive(s, room.id, 0, hold);
    throw err;
  }
  try {
    if (room.persist) {
      const from = opts.since ?? Math.max(0, upTo - opts.history);
      await sendStored(chat, s, room.id, from, upTo, hold);
    }
    await finishCatchUp(chat, s, room.id, upTo, hold);
  } catch (err) {
    failedCatchUp(chat, s, room.id, err);
  }
}

/**
 * A live member's socket could not take the room's next message (`afterSeq` + 1): it now gets
 * the room from the store, as fast as it reads, and goes live again once it has caught up.
 */
export function catchUpBehind(chat: ChatService, s: Session, roomId: string, afterSeq: number): void {
  const hold = chat.rooms.held(s, roomId);
  if (!hold) return;
  hold.dropped = true;
  void chat.track(
    (async () => {
      // Nothing can be written before the socket drains; waiting also leaves the delivery pass.
      await s.conn.drained();
      await finishCatchUp(chat, s, roomId, afterSeq, hold);
    })().catch((err: unknown) => failedCatchUp(chat, s, roomId, err)),
  );
}

/**
 * Goes live once nothing was dropped from the hold; until then reads from the store up to what
 * this node delivered so far, which is all committed, and tries again.
 */
async function finishCatchUp(chat: ChatService, s: Session, roomId: string, sentUpTo: number, hold: HeldEvents): Promise<void> {
  let upTo = sentUpTo;
  let current: HeldEvents | undefined = hold;
  for (;;) {
    const after = chat.rooms.goLive(s, roomId, upTo, current);
    if (after === null) return;
    current = chat.rooms.held(s, roomId);
    const live = chat.rooms.get(roomId);
    if (!current || !live || s.closed) return;
    const head = live.deliveredSeq ?? (await chat.store.getRoom(roomId))?.lastSeq ?? after;
    if (chat.rooms.held(s, roomId) !== current) return;
    current.dropped = false;
    current.forgetStream();
    await sendStored(chat, s, roomId, after, head, current);
    upTo = Math.max(after, head);
  }
}

/**
 * Writes the stored messages with seq in (after, upTo], waiting for the socket to drain whenever
 * it holds more than Outbound.streamLimit. Stops when the session closes or a newer hold (a
 * second join) replaced this one.
 */
async function sendStored(chat: ChatService, s: Session, roomId: string, after: number, upTo: number, hold: HeldEvents): Promise<void> {
  let cursor = after;
  const current = () => !s.closed && chat.rooms.held(s, roomId) === hold;
  while (cursor < upTo && current()) {
    const page = await chat.store.messagesAfter(roomId, cursor, Math.min(PAGE, upTo - cursor));
    if (page.length === 0) {
      // Seqs are gapless and committed before they are announced: rows must be there.
      throw new ChatError('internal', `room "${roomId}" is missing stored messages ${cursor + 1} to ${upTo}; the server's database may be damaged`);
    }
    for (const m of page) {
      if (m.seq > upTo) return;
      if (s.conn.bufferedAmount > chat.outbound.streamLimit) await s.conn.drained();
      if (!current()) return;
      chat.write(s, encodeJson(toMsgEvent(m)), false, true);
      cursor = m.seq;
    }
  }
}

/**
 * The stored messages could not be sent: the connection cannot be told which ones it lacks, so
 * it is closed with 1011 and resumes by `since` when it comes back.
 */
function failedCatchUp(chat: ChatService, s: Session, roomId: string, err: unknown): void {
  chat.log.error({ err, session: s.id, room: roomId }, 'sending stored messages failed');
  if (s.closed) return;
  const message = err instanceof ChatError ? err.message : 'the server could not read the stored messages of this room';
  s.sendJson({ op: 'error', error: { code: 'internal', message: `${message}; reconnect and join with since to resume` } });
  s.conn.close(CloseCode.Internal, 'could not send the stored messages of a room; reconnect and resume with since');
}
