import type { RoomInfo } from '@roomcast/protocol';
import type { StoredMessage } from '../store/store.js';
import type { ChatService } from './chat.js';
import type { RequestContext } from './context.js';
import { ChatError } from './errors.js';
import { toMsgEvent } from './events.js';
import { encodeJson, type Session } from './session.js';

// A joining connection's backlog: the messages it missed (`since`) or the recent history, sent
// before any live message of the room so nothing arrives out of order or twice.

const HISTORY_PAGE = 500;

/** Subscribes a session and sends it the room's backlog (missed messages or recent history). */
export async function joinAndStream(chat: ChatService, ctx: RequestContext, room: RoomInfo, opts: { since?: number | undefined; history: number }): Promise<void> {
  const s = ctx.session;
  await chat.attach(s, room, true);
  let sentUpTo = 0;
  try {
    const rec = await chat.store.getRoom(room.id);
    if (!rec) throw new ChatError('room_not_found', `room "${room.id}" was deleted`);
    sentUpTo = rec.lastSeq;
    const online = await chat.broker.presenceList(room.id);
    ctx.ok({ room, online: online.length, members: online, lastSeq: rec.lastSeq });
    if (!room.persist) return;
    if (opts.since !== undefined) await streamSince(chat, s, room.id, opts.since, rec.lastSeq);
    else if (opts.history > 0) {
      for (const m of await chat.store.messagesBefore(room.id, rec.lastSeq + 1, opts.history)) sendMsg(chat, s, m);
    }
  } finally {
    chat.rooms.goLive(s, room.id, sentUpTo);
  }
}

/** Sends every message after `since` up to `upTo`, page by page, waiting while the socket is full. */
async function streamSince(chat: ChatService, s: Session, roomId: string, since: number, upTo: number): Promise<void> {
  let cursor = since;
  while (cursor < upTo && !s.closed) {
    const page = await chat.store.messagesAfter(roomId, cursor, HISTORY_PAGE);
    if (page.length === 0) return;
    for (const m of page) {
      if (m.seq > upTo) return;
      sendMsg(chat, s, m);
      cursor = m.seq;
    }
    if (s.conn.bufferedAmount > chat.config.sendBufferLimit / 2) await s.conn.drained();
  }
}

function sendMsg(chat: ChatService, s: Session, m: StoredMessage): void {
  chat.write(s, encodeJson(toMsgEvent(m)), false);
}
