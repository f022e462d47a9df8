import { sql, type AliasedRawBuilder } from 'kysely';

// Unread counts without counting rows: each `msg` row has its ordinal among the room's messages
// (`num`) and the room keeps the total (`msg_count`), so "messages after my cursor" is the total
// minus the ordinal of the last message at or before it: one index look-up, however much is
// unread. Change events (edits, reactions) take seqs but no ordinal, so they are never unread.

/**
 * `unread` and `unread_mentions` of the joined rooms × members row, for the read cursor
 * `readSeq` (default: the member's own).
 */
export function unreadColumns(userId: string, readSeq?: number): [AliasedRawBuilder<number, 'unread'>, AliasedRawBuilder<number, 'unread_mentions'>] {
  const read = readSeq === undefined ? sql`members.read_seq` : sql`${readSeq}`;
  // A cursor whose message was deleted (retention): the first message after it tells the ordinal.
  const unread = sql<number>`case when rooms.persist = 0 then (case when rooms.last_seq > ${read} then rooms.last_seq - ${read} else 0 end)
    else rooms.msg_count - coalesce(
      (select m.num from messages m where m.room_id = rooms.id and m.seq <= ${read} and m.kind = 'msg' order by m.seq desc limit 1),
      (select m.num - 1 from messages m where m.room_id = rooms.id and m.seq > ${read} and m.kind = 'msg' order by m.seq asc limit 1),
      rooms.msg_count) end`.as('unread');
  const mentions = sql<number>`(select count(*) from mentions mn where mn.room_id = rooms.id and mn.user_id = ${userId} and mn.seq > ${read})`.as('unread_mentions');
  return [unread, mentions];
}
