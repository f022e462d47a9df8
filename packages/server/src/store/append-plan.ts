import { noWrites, planChange, planReply, targetKey, type ChangeWrites, type TargetState } from './change-plan.js';
import type { Database } from './schema.js';
import type { AppendInput, AppendResult } from './store.js';

export { ChangeRefused, targetsOf, targetKey, givenKey, type TargetState } from './change-plan.js';

/** Raised for an append to a room that no longer exists. */
export class MissingRoomError extends Error {
  readonly code = 'room_not_found';
  constructor(room: string) {
    super(`room ${room} does not exist (it may have been deleted)`);
  }
}

/** A room's counters: its stream's last seq, and how many of its events were messages. */
export interface RoomCounters {
  lastSeq: number;
  msgCount: number;
}

/** What one group commit writes, worked out before any write so every engine writes the same. */
export interface AppendPlan {
  results: Array<AppendResult | Error>;
  messageRows: Database['messages'][];
  sendRows: Database['sends'][];
  mentionRows: Database['mentions'][];
  changes: ChangeWrites;
  /** Each room's counters after the batch. */
  counters: Map<string, RoomCounters>;
  /** Senders' read cursors: a sender has read everything up to their own message. */
  readers: Array<{ room: string; user: string; seq: number }>;
}

export const dedupKey = (user: string, clientId: string): string => `${user}\u0000${clientId}`;


/**
 * Assigns seqs in input order. `counters` holds each known room's counters (a missing room fails
 * its inputs); `known` the earlier results of idempotency keys, by dedupKey; `targets` the
 * messages that changes and replies name (null: read and not found). All are updated.
 */
export function planAppends(
  inputs: AppendInput[],
  counters: Map<string, RoomCounters>,
  known: Map<string, AppendResult>,
  targets: Map<string, TargetState | null> = new Map(),
  /** The room's moderation of a post (store/post-guard.ts): an Error refuses it. */
  refuse: (input: AppendInput) => Error | null = () => null,
): AppendPlan {
  const plan: AppendPlan = { results: [], messageRows: [], sendRows: [], mentionRows: [], changes: noWrites(), counters, readers: [] };
  const readers = new Map<string, { room: string; user: string; seq: number }>();
  for (const input of inputs) {
    const key = input.clientId === undefined ? null : dedupKey(input.from.id, input.clientId);
    const earlier = key === null ? undefined : known.get(key);
    if (earlier) {
      plan.results.push(earlier);
      continue;
    }
    const room = counters.get(input.room);
    if (room === undefined) {
      plan.results.push(new MissingRoomError(input.room));
      continue;
    }
    const refused = refuse(input);
    if (refused) {
      plan.results.push(refused);
      continue;
    }
    const id = input.clientId ?? input.msgId;
    try {
      if (input.change) {
        const planned = planChange(targets, input, input.change, plan.changes);
        if (!planned.row) {
          plan.results.push({ room: input.room, seq: 0, ts: input.ts, id, duplicate: false, already: true, ...(planned.count !== undefined ? { count: planned.count } : {}) });
          continue;
        }
        const seq = ++room.lastSeq;
        const row = messageRow(input, seq, id);
        row.kind = planned.row.kind;
        row.target = planned.row.target;
        row.text = planned.row.text;
        row.meta = planned.row.meta;
        row.detail = planned.row.detail;
        plan.messageRows.push(row);
        plan.results.push({ room: input.room, seq, ts: input.ts, id, duplicate: false, ...(planned.count !== undefined ? { count: planned.count } : {}) });
        continue;
      }
      const quote = input.replyTo === undefined ? undefined : planReply(targets, input, input.replyTo, room.lastSeq);
      const seq = ++room.lastSeq;
      room.msgCount++;
      const mentions = input.mentions && input.mentions.length > 0 ? [...new Set(input.mentions)] : undefined;
      if (input.persist) {
        const row = messageRow(input, seq, id);
        row.text = input.text ?? null;
        if (input.meta !== undefined) row.meta = JSON.stringify(input.meta);
        if (input.binary) {
          row.mime = input.binary.mime;
          row.file_name = input.binary.name ?? null;
          row.size = input.binary.data.byteLength;
          row.blob = toBuffer(input.binary.data);
        }
        row.num = room.msgCount;
        row.reply_to = input.replyTo ?? null;
        if (mentions) row.mentions = JSON.stringify(mentions);
        plan.messageRows.push(row);
        for (const user of mentions ?? []) plan.mentionRows.push({ room_id: input.room, seq, user_id: user });
        // A change later in this batch may name the message just planned.
        const tk = targetKey(input.room, seq);
        if (targets.has(tk)) targets.set(tk, newTarget(seq, input));
      }
      if (key !== null && input.clientId !== undefined) {
        plan.sendRows.push({ user_id: input.from.id, client_id: input.clientId, room_id: input.room, seq, msg_id: id, ts: input.ts });
        const again: AppendResult = { room: input.room, seq, ts: input.ts, id, duplicate: true };
        if (quote) again.quote = quote;
        known.set(key, again);
      }
      readers.set(`${input.room}\u0000${input.from.id}`, { room: input.room, user: input.from.id, seq });
      const result: AppendResult = { room: input.room, seq, ts: input.ts, id, duplicate: false };
      if (quote) result.quote = quote;
      plan.results.push(result);
    } catch (err) {
      plan.results.push(err as Error);
    }
  }
  plan.readers = [...readers.values()];
  return plan;
}

/**
 * A row with every column in one fixed order, written as one literal: rows built by spreading a
 * shared part and adding the rest cost 20 µs each (V8 left them slow objects), 25 times the
 * whole plan of a message before.
 */
function messageRow(input: AppendInput, seq: number, id: string): Database['messages'] {
  return {
    room_id: input.room,
    seq,
    msg_id: id,
    user_id: input.from.id,
    user_name: input.from.name,
    text: null,
    meta: null,
    mime: null,
    file_name: null,
    size: null,
    blob: null,
    ts: input.ts,
    kind: 'msg',
    target: null,
    num: 0,
    reply_to: null,
    mentions: null,
    edited_at: null,
    unsent: 0,
    detail: null,
  };
}

function newTarget(seq: number, input: AppendInput): TargetState {
  return {
    seq,
    kind: 'msg',
    userId: input.from.id,
    userName: input.from.name,
    ts: input.ts,
    text: input.text ?? null,
    mime: input.binary?.mime ?? null,
    unsent: false,
    emoji: new Map(),
    given: new Set(),
  };
}

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
