import { sql, type Transaction } from 'kysely';
import type { RoomCounters } from './append-plan.js';
import type { Database } from './schema.js';

// The PostgreSQL-only statements of a group commit: each is one round trip per batch, whatever
// the number of rooms and senders in it.

/** An input whose room's counters another transaction holds: the batcher tries it again shortly. */
export class RoomLockedError extends Error {
  readonly code = 'unavailable';
  constructor(readonly room: string) {
    super(`room ${room} is being written by another node that has not finished (or lost its database link); retry in a moment`);
    this.name = 'RoomLockedError';
  }
}

export interface LockedCounters {
  /** Counters of the rooms this transaction now holds. */
  counters: Map<string, RoomCounters>;
  /** Rooms that exist but another transaction holds: their inputs wait, the rest go ahead. */
  busy: Set<string>;
}

/**
 * Locks the counters of `rooms` (in id order, so two nodes never deadlock) without waiting for
 * any another transaction holds, and tells those apart from rooms that do not exist.
 */
export async function lockCounters(trx: Transaction<Database>, rooms: string[]): Promise<LockedCounters> {
  const ids = sql.join(rooms);
  const rows = await sql<{ id: string; last_seq: string | null; msg_count: string | null }>`
    with held as (select id, last_seq, msg_count from rooms where id in (${ids}) order by id for update skip locked)
    select r.id, held.last_seq, held.msg_count from rooms r left join held on held.id = r.id where r.id in (${ids})`.execute(trx);
  const counters = new Map<string, RoomCounters>();
  const busy = new Set<string>();
  for (const r of rows.rows) {
    if (r.last_seq === null) busy.add(r.id);
    else counters.set(r.id, { lastSeq: Number(r.last_seq), msgCount: Number(r.msg_count) });
  }
  return { counters, busy };
}

/**
 * Every room's new counters and every sender's read cursor in one statement (neither ever moves
 * back): the counters' UPDATE is a data-modifying CTE of the cursors' UPDATE.
 */
export async function writeCounters(
  trx: Transaction<Database>,
  counters: Map<string, RoomCounters>,
  readers: ReadonlyArray<{ room: string; user: string; seq: number }>,
): Promise<void> {
  const rooms = counters.size === 0 ? null : sql.join([...counters].map(([id, n]) => sql`(${id}, ${n.lastSeq}::bigint, ${n.msgCount}::bigint)`));
  const cursors = readers.length === 0 ? null : sql.join(readers.map((r) => sql`(${r.room}, ${r.user}, ${r.seq}::bigint)`));
  const roomsUpdate = (values: RawValues) => sql`update rooms set last_seq = v.last_seq, msg_count = v.msg_count
    from (values ${values}) as v(id, last_seq, msg_count)
    where rooms.id = v.id and rooms.last_seq < v.last_seq`;
  const cursorsUpdate = (values: RawValues) => sql`update members set read_seq = v.seq
    from (values ${values}) as v(room_id, user_id, seq)
    where members.room_id = v.room_id and members.user_id = v.user_id and members.read_seq < v.seq`;
  if (rooms && cursors) await sql`with counters as (${roomsUpdate(rooms)}) ${cursorsUpdate(cursors)}`.execute(trx);
  else if (rooms) await roomsUpdate(rooms).execute(trx);
  else if (cursors) await cursorsUpdate(cursors).execute(trx);
}

type RawValues = ReturnType<typeof sql.join>;
