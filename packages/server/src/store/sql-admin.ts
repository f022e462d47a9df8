import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import { toRoom } from './rows.js';
import type { Database, RoomsTable, SqlDialectName } from './schema.js';
import { likePattern } from './sql-search.js';
import { roleOf } from './sql-moderation.js';
import type { MemberPage, MemberRecord, RoomListQuery, RoomRecord } from './store.js';

// What the admin API reads (SqlStore's admin side): every room by id with a search, member counts,
// a room's members page by page, a user's room ids, when a membership began (invite links are tied
// to it). Each is one query along an index.

/**
 * Rooms ordered by id after `after`, whose id or title contains `q` (letters in any case: ASCII
 * ones on SQLite, the database locale's on PostgreSQL; `%` and `_` match themselves). Ordered
 * by the primary key, so a page costs `limit` index entries (more when `q` matches rarely: the
 * walk along the key skips what does not match), never a sort of every room.
 */
export function roomList(db: Kysely<Database>, dialect: SqlDialectName, query: RoomListQuery): SelectQueryBuilder<Database, 'rooms', RoomsTable> {
  let q = db.selectFrom('rooms').selectAll();
  if (query.after !== undefined) q = q.where('id', '>', query.after);
  if (query.q) {
    const like = sql.raw(dialect === 'postgres' ? 'ilike' : 'like');
    const pattern = likePattern(query.q);
    q = q.where(sql<boolean>`(id ${like} ${pattern} escape '\\' or title ${like} ${pattern} escape '\\')`);
  }
  return q.orderBy('id').limit(query.limit);
}

/** A page of rooms (roomList) as records. */
export async function listRooms(db: Kysely<Database>, dialect: SqlDialectName, query: RoomListQuery): Promise<RoomRecord[]> {
  return (await roomList(db, dialect, query).execute()).map(toRoom);
}

/** Members per room (rooms without any are missing), counted along the members' primary key. */
export async function memberCounts(db: Kysely<Database>, rooms: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (rooms.length === 0) return out;
  const rows = await db
    .selectFrom('members')
    .select(['room_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('room_id', 'in', rooms)
    .groupBy('room_id')
    .execute();
  for (const r of rows) out.set(r.room_id, Number(r.n));
  return out;
}

/** A room's members in the order they joined (then by id): all, or a page after a cursor. */
export async function listMembers(db: Kysely<Database>, room: string, page?: MemberPage): Promise<MemberRecord[]> {
  let q = db
    .selectFrom('members')
    .innerJoin('users', 'users.id', 'members.user_id')
    .innerJoin('rooms', 'rooms.id', 'members.room_id')
    .select(['users.id as id', 'users.name as name', 'members.read_seq as read_seq', 'members.joined_at as joined_at', 'members.role as role', 'rooms.owner as owner'])
    .where('members.room_id', '=', room);
  const after = page?.after;
  if (after) {
    q = q.where((eb) =>
      eb.or([eb('members.joined_at', '>', after.joinedAt), eb.and([eb('members.joined_at', '=', after.joinedAt), eb('members.user_id', '>', after.id)])]),
    );
  }
  q = q.orderBy('members.joined_at').orderBy('members.user_id');
  if (page) q = q.limit(page.limit);
  const rows = await q.execute();
  return rows.map((r) => ({ id: r.id, name: r.name, readSeq: Number(r.read_seq), joinedAt: Number(r.joined_at), role: roleOf(r.role, r.owner, r.id) }));
}

/** Ids of the rooms the user is a member of, ordered by id, at most `limit` (the user's index). */
export async function memberRoomIds(db: Kysely<Database>, userId: string, limit: number): Promise<string[]> {
  const rows = await db.selectFrom('members').select('room_id').where('user_id', '=', userId).orderBy('room_id').limit(limit).execute();
  return rows.map((r) => r.room_id);
}

/** When the user's current membership of the room began (ms), or null: the primary key's row. */
export async function memberSince(db: Kysely<Database>, room: string, userId: string): Promise<number | null> {
  const row = await db.selectFrom('members').select('joined_at').where('room_id', '=', room).where('user_id', '=', userId).executeTakeFirst();
  return row === undefined ? null : Number(row.joined_at);
}

/**
 * When a new membership of the room begins: now, or a ms after the latest if that is not earlier
 * (joins in one ms). So the member list is in the order people joined, and an invite link can
 * name the membership that made it by when it began. One step along members_by_joined; called
 * inside addMember's transaction, which serializes the room's joins.
 */
export async function nextJoinedAt(db: Kysely<Database>, room: string, now: number): Promise<number> {
  const last = await db.selectFrom('members').select('joined_at').where('room_id', '=', room).orderBy('joined_at', 'desc').limit(1).executeTakeFirst();
  return last && Number(last.joined_at) >= now ? Number(last.joined_at) + 1 : now;
}
