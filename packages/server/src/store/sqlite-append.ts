import type BetterSqlite3 from 'better-sqlite3';
import { dedupKey, planAppends } from './append-plan.js';
import type { AppendInput, AppendResult } from './store.js';

/**
 * The group commit on SQLite with prepared single-row statements: the hot path of every
 * message. Building and preparing the equivalent Kysely queries cost several times the writes.
 * Same plan, same rows, same results as SqlStore's Kysely version (the store contract suite runs
 * against this one).
 */
export function sqliteAppender(db: BetterSqlite3.Database): (inputs: AppendInput[]) => Array<AppendResult | Error> {
  const roomSeq = db.prepare<[string], { last_seq: number }>('select last_seq from rooms where id = ?');
  const sent = db.prepare<[string, string], { room_id: string; seq: number; ts: number; msg_id: string }>(
    'select room_id, seq, ts, msg_id from sends where user_id = ? and client_id = ?',
  );
  const insertMessage = db.prepare(
    'insert into messages (room_id, seq, msg_id, user_id, user_name, text, meta, mime, file_name, size, blob, ts) ' +
      'values (@room_id, @seq, @msg_id, @user_id, @user_name, @text, @meta, @mime, @file_name, @size, @blob, @ts)',
  );
  const insertSend = db.prepare('insert into sends (user_id, client_id, room_id, seq, msg_id, ts) values (@user_id, @client_id, @room_id, @seq, @msg_id, @ts)');
  const bumpRoom = db.prepare('update rooms set last_seq = ? where id = ? and last_seq < ?');
  const markRead = db.prepare('update members set read_seq = ? where room_id = ? and user_id = ? and read_seq < ?');

  const commit = db.transaction((inputs: AppendInput[]): Array<AppendResult | Error> => {
    const lastSeq = new Map<string, number>();
    const known = new Map<string, AppendResult>();
    for (const input of inputs) {
      if (!lastSeq.has(input.room)) {
        const row = roomSeq.get(input.room);
        if (row) lastSeq.set(input.room, Number(row.last_seq));
      }
      if (input.clientId !== undefined) {
        const key = dedupKey(input.from.id, input.clientId);
        if (known.has(key)) continue;
        const r = sent.get(input.from.id, input.clientId);
        if (r) known.set(key, { room: r.room_id, seq: Number(r.seq), ts: Number(r.ts), id: r.msg_id, duplicate: true });
      }
    }
    const plan = planAppends(inputs, lastSeq, known);
    for (const row of plan.messageRows) insertMessage.run(row);
    for (const row of plan.sendRows) insertSend.run(row);
    for (const [room, seq] of plan.lastSeq) bumpRoom.run(seq, room, seq);
    for (const r of plan.readers) markRead.run(r.seq, r.room, r.user, r.seq);
    return plan.results;
  });

  return (inputs) => {
    // Kysely's connection is held by the caller, so no other transaction can be open here.
    if (db.inTransaction) throw new Error('sqlite append: a transaction is already open on the connection');
    return commit(inputs);
  };
}
