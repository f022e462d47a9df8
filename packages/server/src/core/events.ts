import type { MsgEvent, RoomInfo, UserRef } from '@roomcast/protocol';
import type { RoomRecord, StoredMessage } from '../store/store.js';

// Turning stored records into protocol objects.

/** URL path serving a binary message's bytes to members. */
export function fileUrl(room: string, seq: number): string {
  return `/api/rooms/${encodeURIComponent(room)}/files/${seq}`;
}

export function toMsgEvent(m: StoredMessage): MsgEvent {
  const e: MsgEvent = { op: 'msg', room: m.room, seq: m.seq, id: m.id, from: m.from, ts: m.ts };
  if (m.text !== undefined) e.text = m.text;
  if (m.binary) e.binary = { ...m.binary, url: fileUrl(m.room, m.seq) };
  if (m.meta !== undefined) e.meta = m.meta;
  return e;
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
  };
}
