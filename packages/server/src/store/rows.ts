import type { Database, RoomsTable } from './schema.js';
import type { RoomRecord, StoredMessage } from './store.js';

// Rows as records: the same mapping for SQLite and PostgreSQL (integers may come back as strings
// from pg's bigint, booleans as 0/1).

export const MESSAGE_COLUMNS = [
  'room_id',
  'seq',
  'msg_id',
  'user_id',
  'user_name',
  'text',
  'meta',
  'mime',
  'file_name',
  'size',
  'ts',
] as const;

export type MessageRow = Pick<Database['messages'], (typeof MESSAGE_COLUMNS)[number]>;

export function toRoom(r: RoomsTable): RoomRecord {
  return {
    id: r.id,
    title: r.title,
    capacity: r.capacity === null ? null : Number(r.capacity),
    visibility: r.visibility === 'private' ? 'private' : 'public',
    persist: Boolean(r.persist),
    direct: Boolean(r.direct),
    owner: r.owner,
    createdAt: Number(r.created_at),
    lastSeq: Number(r.last_seq),
  };
}

export function toMessage(r: MessageRow): StoredMessage {
  const m: StoredMessage = {
    room: r.room_id,
    seq: Number(r.seq),
    id: r.msg_id,
    from: { id: r.user_id, name: r.user_name },
    ts: Number(r.ts),
  };
  if (r.text !== null) m.text = r.text;
  if (r.meta !== null) m.meta = JSON.parse(r.meta) as Record<string, unknown>;
  if (r.mime !== null) {
    m.binary = { mime: r.mime, size: Number(r.size ?? 0) };
    if (r.file_name !== null) m.binary.name = r.file_name;
  }
  return m;
}

