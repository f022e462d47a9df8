import type { Database, RoomsTable } from './schema.js';
import type { RoomRecord, StoredMessage, StreamKind } from './store.js';

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
  'kind',
  'target',
  'reply_to',
  'mentions',
  'edited_at',
  'unsent',
  'detail',
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
    retention: r.retention === null || r.retention === undefined ? null : Number(r.retention),
    receipts: r.receipts === undefined ? true : Boolean(Number(r.receipts)),
    lastSeq: Number(r.last_seq),
    // Present only when on, so rooms without it look as they did before moderation.
    ...(Number(r.slow_mode ?? 0) > 0 ? { slowMode: Number(r.slow_mode) } : {}),
  };
}

const KINDS: ReadonlySet<string> = new Set<StreamKind>(['msg', 'edit', 'unsend', 'reaction']);

/**
 * A row as a stream event, without what needs other rows (reaction counts and reply quotes:
 * read-messages.ts adds them). `replyTo` is only the answered seq here.
 */
export function toMessage(r: MessageRow): StoredMessage {
  const kind = (KINDS.has(r.kind) ? r.kind : 'msg') as StreamKind;
  const m: StoredMessage = {
    room: r.room_id,
    seq: Number(r.seq),
    kind,
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
  if (r.target !== null) m.target = Number(r.target);
  if (kind !== 'msg') {
    if (kind === 'reaction' && r.detail !== null) m.reaction = JSON.parse(r.detail) as NonNullable<StoredMessage['reaction']>;
    return m;
  }
  if (r.reply_to !== null) m.replyTo = { seq: Number(r.reply_to) };
  if (r.mentions !== null) m.mentions = JSON.parse(r.mentions) as string[];
  if (r.edited_at !== null) m.edited = Number(r.edited_at);
  if (Number(r.unsent) === 1) m.unsent = true;
  return m;
}
