import type { MsgEvent, RoomInfo, StreamEvent, UserRef } from '@roomcast/protocol';
import type { RoomRecord, StoredMessage } from '../store/store.js';

// Turning stored records into protocol objects.

/** URL path serving a binary message's bytes to members. */
export function fileUrl(room: string, seq: number): string {
  return `/api/rooms/${encodeURIComponent(room)}/files/${seq}`;
}

/** A stored message in its current state (a tombstone once unsent). */
export function toMsgEvent(m: StoredMessage): MsgEvent {
  const e: MsgEvent = { op: 'msg', room: m.room, seq: m.seq, id: m.id, from: m.from, ts: m.ts };
  if (m.unsent) {
    e.unsent = true;
    return e;
  }
  if (m.text !== undefined) e.text = m.text;
  if (m.binary) e.binary = { ...m.binary, url: fileUrl(m.room, m.seq) };
  if (m.meta !== undefined) e.meta = m.meta;
  if (m.replyTo !== undefined) e.replyTo = m.replyTo;
  if (m.mentions !== undefined) e.mentions = m.mentions;
  if (m.edited !== undefined) e.edited = m.edited;
  if (m.reactions !== undefined && m.reactions.length > 0) e.reactions = m.reactions;
  return e;
}

/** Any stored event of a room's stream as it is sent: a message, or a change to one. */
export function toStreamEvent(m: StoredMessage): StreamEvent {
  const target = m.target ?? 0;
  switch (m.kind) {
    case 'msg':
      return toMsgEvent(m);
    case 'edit': {
      const e: StreamEvent = { op: 'edit', room: m.room, seq: m.seq, target, editedAt: m.ts, from: m.from };
      // Emptied when the message was unsent later: nothing to apply.
      if (m.text !== undefined) e.text = m.text;
      if (m.meta !== undefined) e.meta = m.meta;
      return e;
    }
    case 'unsend':
      return { op: 'unsend', room: m.room, seq: m.seq, target, by: m.from };
    case 'reaction': {
      const r = m.reaction ?? { emoji: '', on: false, count: 0 };
      return { op: 'reaction', room: m.room, seq: m.seq, target, emoji: r.emoji, user: m.from, on: r.on, count: r.count };
    }
  }
}

export const userRef = (u: UserRef): UserRef => ({ id: u.id, name: u.name });

export function roomInfoOf(r: RoomRecord): RoomInfo {
  return {
    id: r.id,
    title: r.title,
    capacity: r.capacity,
    visibility: r.visibility,
    persist: r.persist,
    direct: r.direct,
    owner: r.owner,
    createdAt: r.createdAt,
    retention: r.retention,
    receipts: r.receipts,
    ...(r.slowMode ? { slowMode: r.slowMode } : {}),
  };
}
