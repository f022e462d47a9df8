import type BetterSqlite3 from 'better-sqlite3';
import { dedupKey, planAppends, type AppendPlan, type RoomCounters } from './append-plan.js';
import { appendOutbox } from './outbox-append.js';
import type { OutboxRouting } from './outbox.js';
import { outboxStatements } from './sqlite-outbox.js';
import { muteActive, postGuard, type TurnRow } from './post-guard.js';
import type { AppendInput, AppendResult } from './store.js';
import { loadTargetsSync, type TargetRow } from './target-rows.js';

/**
 * The group commit on SQLite with prepared single-row statements: the hot path of every
 * message. Building and preparing the equivalent Kysely queries cost several times the writes.
 * Same plan, same rows, same results as SqlStore's Kysely version (the store contract suite runs
 * against this one).
 */
export function sqliteAppender(db: BetterSqlite3.Database, onErase: () => void = () => {}): (inputs: AppendInput[], routing?: OutboxRouting) => Array<AppendResult | Error> {
  const outbox = outboxStatements(db);
  const roomSeq = db.prepare<[string], { last_seq: number; msg_count: number }>('select last_seq, msg_count from rooms where id = ?');
  const sent = db.prepare<[string, string], { room_id: string; seq: number; ts: number; msg_id: string }>(
    'select room_id, seq, ts, msg_id from sends where user_id = ? and client_id = ?',
  );
  const insertMessage = db.prepare(
    'insert into messages (room_id, seq, msg_id, user_id, user_name, text, meta, mime, file_name, size, blob, ts, kind, target, num, reply_to, mentions, edited_at, unsent, detail) ' +
      'values (@room_id, @seq, @msg_id, @user_id, @user_name, @text, @meta, @mime, @file_name, @size, @blob, @ts, @kind, @target, @num, @reply_to, @mentions, @edited_at, @unsent, @detail)',
  );
  const insertSend = db.prepare('insert into sends (user_id, client_id, room_id, seq, msg_id, ts) values (@user_id, @client_id, @room_id, @seq, @msg_id, @ts)');
  const insertMention = db.prepare('insert or ignore into mentions (room_id, seq, user_id) values (@room_id, @seq, @user_id)');
  const bumpRoom = db.prepare('update rooms set last_seq = ?, msg_count = ? where id = ? and last_seq < ?');
  const markRead = db.prepare('update members set read_seq = ? where room_id = ? and user_id = ? and read_seq < ?');
  const reads = {
    message: db.prepare<[string, number], TargetRow>('select seq, kind, user_id, user_name, ts, text, mime, unsent from messages where room_id = ? and seq = ?'),
    emoji: db.prepare<[string, number], { emoji: string; n: number }>('select emoji, count(*) as n from reactions where room_id = ? and seq = ? group by emoji'),
    given: db.prepare<[string, number, string, string], { one: number }>('select 1 as one from reactions where room_id = ? and seq = ? and emoji = ? and user_id = ?'),
  };
  const addReaction = db.prepare('insert or ignore into reactions (room_id, seq, emoji, user_id, ts) values (@room_id, @seq, @emoji, @user_id, @ts)');
  const removeReaction = db.prepare('delete from reactions where room_id = @room_id and seq = @seq and emoji = @emoji and user_id = @user_id returning ts');
  // The emoji keeps its place (the time it was first given) while anyone still gives it.
  const keepPlace = db.prepare('update reactions set ts = @ts where room_id = @room_id and seq = @seq and emoji = @emoji and ts > @ts');
  const eraseEdits = db.prepare("update messages set text = null, meta = null where room_id = ? and target = ? and kind = 'edit'");
  const eraseReactions = db.prepare('delete from reactions where room_id = ? and seq = ?');
  const eraseMentions = db.prepare('delete from mentions where room_id = ? and seq = ?');
  const moderation = {
    mute: db.prepare<[string, string], { until: number | null }>('select until from mutes where room_id = ? and user_id = ?'),
    room: db.prepare<[string], { slow_mode: number; owner: string | null }>('select slow_mode, owner from rooms where id = ?'),
    role: db.prepare<[string, string], { role: string }>('select role from members where room_id = ? and user_id = ?'),
    turn: db.prepare<[string, string], { last_at: number }>('select last_at from slow_turns where room_id = ? and user_id = ?'),
    take: db.prepare('insert into slow_turns (room_id, user_id, last_at) values (@room_id, @user_id, @last_at) on conflict (room_id, user_id) do update set last_at = excluded.last_at'),
  };
  const facts = {
    member: (room: string, user: string) => moderation.role.get(room, user) !== undefined,
    mutedUntil: (room: string, user: string, now: number) => {
      const row = moderation.mute.get(room, user);
      return row && muteActive(row.until === null ? null : Number(row.until), now) ? (row.until === null ? null : Number(row.until)) : undefined;
    },
    slowMode: (room: string) => Number(moderation.room.get(room)?.slow_mode ?? 0),
    exempt: (room: string, user: string) => moderation.room.get(room)?.owner === user || moderation.role.get(room, user)?.role === 'admin',
    lastTurn: (room: string, user: string) => {
      const row = moderation.turn.get(room, user);
      return row ? Number(row.last_at) : undefined;
    },
  };
  const updates = new Map<string, BetterSqlite3.Statement>();
  const updateOf = (columns: string[]): BetterSqlite3.Statement => {
    const key = columns.join(',');
    let st = updates.get(key);
    if (!st) updates.set(key, (st = db.prepare(`update messages set ${columns.map((c) => `${c} = @${c}`).join(', ')} where room_id = @room_id and seq = @seq`)));
    return st;
  };

  const write = (plan: AppendPlan): void => {
    for (const row of plan.messageRows) insertMessage.run(row);
    for (const row of plan.sendRows) insertSend.run(row);
    for (const row of plan.mentionRows) insertMention.run(row);
    for (const step of plan.changes.steps) {
      switch (step.kind) {
        case 'update':
          updateOf(Object.keys(step.set)).run({ ...step.set, room_id: step.room, seq: step.seq });
          break;
        case 'erase':
          eraseEdits.run(step.room, step.seq);
          eraseReactions.run(step.room, step.seq);
          eraseMentions.run(step.room, step.seq);
          break;
        case 'react':
          addReaction.run(step.row);
          break;
        case 'unreact': {
          const gone = removeReaction.get(step.row) as { ts: number } | undefined;
          if (gone) keepPlace.run({ ...step.row, ts: gone.ts });
          break;
        }
      }
    }
    for (const [room, n] of plan.counters) bumpRoom.run(n.lastSeq, n.msgCount, room, n.lastSeq);
    for (const r of plan.readers) markRead.run(r.seq, r.room, r.user, r.seq);
  };

  const commit = db.transaction((inputs: AppendInput[], routing: OutboxRouting | undefined): Array<AppendResult | Error> => {
    const counters = new Map<string, RoomCounters>();
    const known = new Map<string, AppendResult>();
    for (const input of inputs) {
      if (!counters.has(input.room)) {
        const row = roomSeq.get(input.room);
        if (row) counters.set(input.room, { lastSeq: Number(row.last_seq), msgCount: Number(row.msg_count) });
      }
      if (input.clientId !== undefined) {
        const key = dedupKey(input.from.id, input.clientId);
        if (known.has(key)) continue;
        const r = sent.get(input.from.id, input.clientId);
        if (r) known.set(key, { room: r.room_id, seq: Number(r.seq), ts: Number(r.ts), id: r.msg_id, duplicate: true });
      }
    }
    const targets = loadTargetsSync(inputs, {
      message: (room, seq) => reads.message.get(room, seq),
      emoji: (room, seq) => reads.emoji.all(room, seq),
      given: (room, seq, emoji, user) => reads.given.get(room, seq, emoji, user) !== undefined,
    });
    const turns = new Map<string, TurnRow>();
    const plan = planAppends(inputs, counters, known, targets, postGuard(facts, turns));
    write(plan);
    for (const turn of turns.values()) moderation.take.run(turn);
    if (routing?.active && outbox.write(appendOutbox(routing, inputs, plan.results))) routing.written();
    if (plan.changes.erases) erased = true;
    return plan.results;
  });
  let erased = false;

  return (inputs, routing) => {
    // Kysely's connection is held by the caller, so no other transaction can be open here.
    if (db.inTransaction) throw new Error('sqlite append: a transaction is already open on the connection');
    erased = false;
    const results = commit(inputs, routing);
    if (erased) onErase();
    return results;
  };
}


