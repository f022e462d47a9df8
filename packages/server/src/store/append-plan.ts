import type { Database } from './schema.js';
import type { AppendInput, AppendResult } from './store.js';

/** Raised for an append to a room that no longer exists. */
export class MissingRoomError extends Error {
  readonly code = 'room_not_found';
  constructor(room: string) {
    super(`room ${room} does not exist (it may have been deleted)`);
  }
}

/** What one group commit writes, worked out before any write so every engine writes the same. */
export interface AppendPlan {
  results: Array<AppendResult | Error>;
  messageRows: Database['messages'][];
  sendRows: Database['sends'][];
  /** Each room's counter after the batch. */
  lastSeq: Map<string, number>;
  /** Senders' read cursors: a sender has read everything up to their own message. */
  readers: Array<{ room: string; user: string; seq: number }>;
}

export const dedupKey = (user: string, clientId: string): string => `${user}\u0000${clientId}`;

/**
 * Assigns seqs in input order. `lastSeq` holds each known room's counter (a missing room fails
 * its inputs); `known` the earlier results of idempotency keys, by dedupKey. Both are updated.
 */
export function planAppends(inputs: AppendInput[], lastSeq: Map<string, number>, known: Map<string, AppendResult>): AppendPlan {
  const plan: AppendPlan = { results: [], messageRows: [], sendRows: [], lastSeq, readers: [] };
  const readers = new Map<string, { room: string; user: string; seq: number }>();
  for (const input of inputs) {
    const key = input.clientId === undefined ? null : dedupKey(input.from.id, input.clientId);
    const earlier = key === null ? undefined : known.get(key);
    if (earlier) {
      plan.results.push(earlier);
      continue;
    }
    const prev = lastSeq.get(input.room);
    if (prev === undefined) {
      plan.results.push(new MissingRoomError(input.room));
      continue;
    }
    const seq = prev + 1;
    lastSeq.set(input.room, seq);
    const id = input.clientId ?? input.msgId;
    if (input.persist) {
      plan.messageRows.push({
        room_id: input.room,
        seq,
        msg_id: id,
        user_id: input.from.id,
        user_name: input.from.name,
        text: input.text ?? null,
        meta: input.meta === undefined ? null : JSON.stringify(input.meta),
        mime: input.binary?.mime ?? null,
        file_name: input.binary?.name ?? null,
        size: input.binary ? input.binary.data.byteLength : null,
        blob: input.binary ? toBuffer(input.binary.data) : null,
        ts: input.ts,
      });
    }
    if (key !== null && input.clientId !== undefined) {
      plan.sendRows.push({ user_id: input.from.id, client_id: input.clientId, room_id: input.room, seq, msg_id: id, ts: input.ts });
      known.set(key, { room: input.room, seq, ts: input.ts, id, duplicate: true });
    }
    readers.set(`${input.room}\u0000${input.from.id}`, { room: input.room, user: input.from.id, seq });
    plan.results.push({ room: input.room, seq, ts: input.ts, id, duplicate: false });
  }
  plan.readers = [...readers.values()];
  return plan;
}

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
