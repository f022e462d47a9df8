import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

// Retention: a room's messages older than its `retention` (days; null: the server's default,
// `--retention-days`; 0 there: keep forever) are deleted, with their reactions and mentions
// rows, and so are change events (edits, unsends, reactions) that old.
//
// Room by room, oldest first in seq order, and only ever a prefix of the room's stream: seqs
// follow the clock, so the old rows of a room are its first ones, and reading the room from its
// first seq finds them without reading anything else (no index on (room, ts) needed, and a room
// with nothing old costs one look-up). A message dated later than one after it (nodes' clocks a
// little apart) waits until the one before it is old too, a delay of that clock difference.

const DAY_MS = 24 * 60 * 60 * 1000;
/** Rows deleted per transaction: a big prune never holds the database (SQLite: the event loop) long. */
const BATCH = 1000;
/** Rows read first in a room: most sweeps find only the few messages that aged in the last minute. */
const FIRST_READ = 64;
/** Rooms looked at per query. */
const ROOMS_PAGE = 500;

/**
 * Deletes what is older than each persisted room's retention at `now` (`defaultDays` for rooms
 * without one; 0 = keep). Returns how many stream events (messages-table rows: messages and
 * change events) were deleted; reactions and mentions rows of deleted messages go with them
 * and are not counted. Idempotent: nodes running it at the same time only repeat each other.
 */
export async function pruneMessages(db: Kysely<Database>, now: number, defaultDays: number): Promise<number> {
  let deleted = 0;
  let after = '';
  for (;;) {
    const rooms = await db
      .selectFrom('rooms')
      .select((eb) => [
        'rooms.id',
        sql<number>`coalesce(rooms.retention, ${defaultDays})`.as('days'),
        eb.selectFrom('messages').select('messages.ts').whereRef('messages.room_id', '=', 'rooms.id').orderBy('messages.seq').limit(1).as('oldest'),
      ])
      .where('rooms.persist', '=', 1)
      .where('rooms.id', '>', after)
      .where(sql<boolean>`coalesce(rooms.retention, ${defaultDays}) > 0`)
      .orderBy('rooms.id')
      .limit(ROOMS_PAGE)
      .execute();
    for (const room of rooms) {
      const cutoff = now - Number(room.days) * DAY_MS;
      if (room.oldest !== null && Number(room.oldest) < cutoff) deleted += await pruneRoom(db, room.id, cutoff);
    }
    if (rooms.length < ROOMS_PAGE) return deleted;
    after = rooms[rooms.length - 1]!.id;
    await breathe();
  }
}

/** Deletes the room's first events while they are older than `cutoff`, a batch per transaction. */
async function pruneRoom(db: Kysely<Database>, room: string, cutoff: number): Promise<number> {
  let deleted = 0;
  let read = FIRST_READ;
  for (;;) {
    const rows = await db.selectFrom('messages').select(['seq', 'ts']).where('room_id', '=', room).orderBy('seq').limit(read).execute();
    let old = 0;
    while (old < rows.length && Number(rows[old]!.ts) < cutoff) old++;
    if (old === 0) return deleted;
    // Seqs only grow, so "seq up to the last old one" is exactly the rows just read as old.
    const last = Number(rows[old - 1]!.seq);
    deleted += await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('reactions').where('room_id', '=', room).where('seq', '<=', last).execute();
      await trx.deleteFrom('mentions').where('room_id', '=', room).where('seq', '<=', last).execute();
      const res = await trx.deleteFrom('messages').where('room_id', '=', room).where('seq', '<=', last).executeTakeFirst();
      return Number(res.numDeletedRows);
    });
    if (old < rows.length || rows.length < read) return deleted;
    read = BATCH;
    await breathe();
  }
}

/**
 * Lets the event loop run between batches: better-sqlite3 is synchronous, and a chain of awaits
 * on its settled promises would otherwise never let a socket be read until the prune is done.
 */
function breathe(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
