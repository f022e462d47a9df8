import type { Kysely } from 'kysely';
import { readMessages } from './read-messages.js';
import { MESSAGE_COLUMNS } from './rows.js';
import type { Database } from './schema.js';
import type { BinaryPayload, StoredMessage } from './store.js';

/**
 * Reading a room's stream and its messages (SqlStore's read side): the stream with its change
 * events for backlogs, messages only for history, one message, a file's bytes.
 */
export class MessageReads {
  constructor(private readonly db: Kysely<Database>) {}

  /** Every stream event with seq > since, ascending. */
  async after(room: string, since: number, limit: number, viewer?: string): Promise<StoredMessage[]> {
    const rows = await this.db
      .selectFrom('messages')
      .select(MESSAGE_COLUMNS)
      .where('room_id', '=', room)
      .where('seq', '>', since)
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
    return readMessages(this.db, rows, viewer);
  }

  /** The newest messages with seq < before, ascending. */
  async before(room: string, before: number | null, limit: number, viewer?: string): Promise<StoredMessage[]> {
    let q = this.db.selectFrom('messages').select(MESSAGE_COLUMNS).where('room_id', '=', room).where('kind', '=', 'msg');
    if (before !== null) q = q.where('seq', '<', before);
    const rows = await q.orderBy('seq', 'desc').limit(limit).execute();
    return readMessages(this.db, rows.reverse(), viewer);
  }

  /** The oldest messages with seq > after, ascending. */
  async since(room: string, after: number, limit: number, viewer?: string): Promise<StoredMessage[]> {
    const rows = await this.db
      .selectFrom('messages')
      .select(MESSAGE_COLUMNS)
      .where('room_id', '=', room)
      .where('kind', '=', 'msg')
      .where('seq', '>', after)
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
    return readMessages(this.db, rows, viewer);
  }

  async one(room: string, seq: number, viewer?: string): Promise<StoredMessage | null> {
    const rows = await this.db.selectFrom('messages').select(MESSAGE_COLUMNS).where('room_id', '=', room).where('seq', '=', seq).execute();
    return (await readMessages(this.db, rows, viewer))[0] ?? null;
  }

  /** A binary message's bytes; null once unsent (they are deleted) or for any other row. */
  async getBlob(room: string, seq: number): Promise<BinaryPayload | null> {
    const row = await this.db
      .selectFrom('messages')
      .select(['mime', 'file_name', 'blob'])
      .where('room_id', '=', room)
      .where('seq', '=', seq)
      .where('kind', '=', 'msg')
      .executeTakeFirst();
    if (!row || row.mime === null || row.blob === null) return null;
    const out: BinaryPayload = { mime: row.mime, data: row.blob };
    if (row.file_name !== null) out.name = row.file_name;
    return out;
  }
}
