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

const EMPTY_ROW = { mime: null, file_name: null, size: null, blob: null, reply_to: null, mentions: null, edited_at: null, unsent: 0, num: 0 } as const;

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
    const id = input.clientId ?? input.msgId;
    const base = { room_id: input.room, msg_id: id, user_id: input.from.id, user_name: input.from.name, ts: input.ts, target: null, detail: null };
    try {
      if (input.change) {
        const planned = planChange(targets, input, input.change, plan.changes);
        if (!planned.row) {
          plan.results.push({ room: input.room, seq: 0, ts: input.ts, id, duplicate: false, already: true, ...(planned.count !== undefined ? { count: planned.count } : {}) });
          continue;
        }
        const seq = ++room.lastSeq;
        plan.messageRows.push({ ...EMPTY_ROW, ...base, seq, ...planned.row });
        plan.results.push({ room: input.room, seq, ts: input.ts, id, duplicate: false, ...(planned.count !== undefined ? { count: planned.count } : {}) });
        continue;
      }
      const quote = input.replyTo === undefined ? undefined : planReply(targets, input, input.replyTo, room.lastSeq);
      const seq = ++room.lastSeq;
      room.msgCount++;
      const mentions = input.mentions && input.mentions.length > 0 ? [...new Set(input.mentions)] : undefined;
      if (input.persist) {
        plan.messageRows.push({
          ...base,
          seq,
          text: input.text ?? null,
          meta: input.meta === undefined ? null : JSON.stringify(input.meta),
          mime: input.binary?.mime ?? null,
          file_name: input.binary?.name ?? null,
          size: input.binary ? input.binary.data.byteLength : null,
          blob: input.binary ? toBuffer(input.binary.data) : null,
          kind: 'msg',
          num: room.msgCount,
          reply_to: input.replyTo ?? null,
          mentions: mentions ? JSON.stringify(mentions) : null,
          edited_at: null,
          unsent: 0,
        });
        for (const user of mentions ?? []) plan.mentionRows.push({ room_id: input.room, seq, user_id: user });
        // A change later in this batch may name the message just planned.
        const tk = targetKey(input.room, seq);
        if (targets.has(tk)) targets.set(tk, newTarget(seq, input));
      }
      if (key !== null && input.clientId !== undefined) {
        plan.sendRows.push({ user_id: input.from.id, client_id: input.clientId, room_id: input.room, seq, msg_id: id, ts: input.ts });
        known.set(key, { room: input.room, seq, ts: input.ts, id, duplicate: true, ...(quote ? { quote } : {}) });
      }
      readers.set(`${input.room}\u0000${input.from.id}`, { room: input.room, user: input.from.id, seq });
      plan.results.push({ room: input.room, seq, ts: input.ts, id, duplicate: false, ...(quote ? { quote } : {}) });
    } catch (err) {
      plan.results.push(err as Error);
    }
  }
  plan.readers = [...readers.values()];
  return plan;
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
