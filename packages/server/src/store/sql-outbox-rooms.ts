import type { Kysely, Transaction } from 'kysely';
import type { OutboxEvent, OutboxRouting } from './outbox.js';
import { toRoom } from './rows.js';
import { nextJoinedAt } from './sql-admin.js';
import { deleteRoomModeration } from './sql-moderation.js';
import { writeEventsIn } from './sql-outbox.js';
import type { Database, RoomsTable, SqlDialectName } from './schema.js';
import type { AddMemberResult, NewRoom, RoomPatch, RoomRecord } from './store.js';

// The Store's room and membership writes, each with its webhook events (contract A: `events`
// are written in the same transaction, and only when the change happened). Moved out of
// sql-store.ts, which is at its size limit.

type Events = readonly OutboxEvent[] | undefined;

/** What the writes share: the database, its dialect, and who wants which events. */
export interface RoomWrites {
  db: Kysely<Database>;
  dialect: SqlDialectName;
  routing: OutboxRouting;
}

/** Runs `write` in a transaction, then wakes the dispatcher when events were written. */
async function withEvents<T>(w: RoomWrites, events: Events, write: (trx: Transaction<Database>) => Promise<{ result: T; happened: boolean }>): Promise<T> {
  const wanted = w.routing.active && events !== undefined && events.length > 0;
  const { result, wrote } = await w.db.transaction().execute(async (trx) => {
    const out = await write(trx);
    return { result: out.result, wrote: wanted && out.happened ? await writeEventsIn(trx, w.routing, events) : false };
  });
  if (wrote) w.routing.written();
  return result;
}

export function createRoom(w: RoomWrites, room: NewRoom, events: Events): Promise<boolean> {
  return withEvents(w, events, async (trx) => {
    const res = await trx
      .insertInto('rooms')
      .values({
        id: room.id,
        title: room.title,
        capacity: room.capacity,
        visibility: room.visibility,
        persist: room.persist ? 1 : 0,
        direct: room.direct ? 1 : 0,
        owner: room.owner,
        created_at: room.createdAt,
        last_seq: 0,
        msg_count: 0,
        retention: room.retention,
        receipts: room.receipts ? 1 : 0,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    const created = Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
    return { result: created, happened: created };
  });
}

export function updateRoom(w: RoomWrites, id: string, patch: RoomPatch, events: Events): Promise<RoomRecord | null> {
  return withEvents(w, events, async (trx) => {
    const set: Partial<Pick<RoomsTable, 'title' | 'capacity' | 'retention' | 'receipts' | 'slow_mode'>> = {};
    if (patch.title !== undefined) set.title = patch.title;
    if (patch.capacity !== undefined) set.capacity = patch.capacity;
    if (patch.retention !== undefined) set.retention = patch.retention;
    if (patch.receipts !== undefined) set.receipts = patch.receipts ? 1 : 0;
    if (patch.slowMode !== undefined) set.slow_mode = patch.slowMode;
    if (Object.keys(set).length > 0) await trx.updateTable('rooms').set(set).where('id', '=', id).execute();
    const row = await trx.selectFrom('rooms').selectAll().where('id', '=', id).executeTakeFirst();
    return { result: row ? toRoom(row) : null, happened: row !== undefined };
  });
}

export function deleteRoom(w: RoomWrites, id: string, events: Events): Promise<void> {
  return withEvents(w, events, async (trx) => {
    await trx.deleteFrom('messages').where('room_id', '=', id).execute();
    await trx.deleteFrom('reactions').where('room_id', '=', id).execute();
    await trx.deleteFrom('mentions').where('room_id', '=', id).execute();
    await trx.deleteFrom('members').where('room_id', '=', id).execute();
    await trx.deleteFrom('sends').where('room_id', '=', id).execute();
    await trx.deleteFrom('webhook_checks').where('room_id', '=', id).execute();
    await trx.deleteFrom('webhook_told').where('room_id', '=', id).execute();
    await deleteRoomModeration(trx, id);
    const res = await trx.deleteFrom('rooms').where('id', '=', id).executeTakeFirst();
    return { result: undefined, happened: Number(res.numDeletedRows) > 0 };
  });
}

export function addMember(w: RoomWrites, room: string, userId: string, capacity: number | null, now: number, events: Events): Promise<AddMemberResult> {
  return withEvents(w, events, async (trx) => {
    if (w.dialect === 'postgres') {
      // Serializes concurrent joins of one room so the capacity check holds.
      await trx.selectFrom('rooms').select('id').where('id', '=', room).forUpdate().execute();
    }
    const existing = await trx.selectFrom('members').select('user_id').where('room_id', '=', room).where('user_id', '=', userId).executeTakeFirst();
    if (existing) return { result: 'already' as const, happened: false };
    if (capacity !== null) {
      const row = await trx
        .selectFrom('members')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('room_id', '=', room)
        .executeTakeFirstOrThrow();
      if (Number(row.n) >= capacity) return { result: 'full' as const, happened: false };
    }
    // A new member starts with everything before now read: unread counts what came after joining.
    const seqRow = await trx.selectFrom('rooms').select('last_seq').where('id', '=', room).executeTakeFirst();
    const joinedAt = await nextJoinedAt(trx, room, now);
    await trx
      .insertInto('members')
      .values({ room_id: room, user_id: userId, read_seq: Number(seqRow?.last_seq ?? 0), joined_at: joinedAt })
      .execute();
    return { result: 'added' as const, happened: true };
  });
}

export function removeMember(w: RoomWrites, room: string, userId: string, events: Events): Promise<boolean> {
  return withEvents(w, events, async (trx) => {
    const res = await trx.deleteFrom('members').where('room_id', '=', room).where('user_id', '=', userId).executeTakeFirst();
    const removed = Number(res.numDeletedRows) > 0;
    return { result: removed, happened: removed };
  });
}
