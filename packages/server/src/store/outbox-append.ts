import { newEventId, type OutboxInsert, type OutboxRouting } from './outbox.js';
import type { AppendInput, AppendResult, ChangeInput } from './store.js';

// The webhook events of a group commit (message.created / edited / unsent / reaction.changed),
// worked out from the plan's results inside the commit's transaction, so an acknowledged
// message always has its event stored. `data` is the stream event as the protocol shows it
// live (binary as {mime, name, size}, never the bytes).

const TYPES = { msg: 'message.created', edit: 'message.edited', unsend: 'message.unsent', reaction: 'reaction.changed' } as const;

/** A room whose offline members are checked once --unreached-delay has passed. */
export interface CheckRow {
  room_id: string;
  from_seq: number;
  to_seq: number;
  due_at: number;
  lease_owner: null;
  lease_until: number;
}

/** The outbox rows and unreached checks of a batch's results (none when no route is configured). */
export function appendOutbox(routing: OutboxRouting, inputs: readonly AppendInput[], results: ReadonlyArray<AppendResult | Error>): { rows: OutboxInsert[]; checks: CheckRow[] } {
  const rows: OutboxInsert[] = [];
  const checks = new Map<string, CheckRow>();
  if (!routing.active) return { rows, checks: [] };
  const unreached = routing.wants('message.unreached');
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    const res = results[i];
    if (res === undefined || res instanceof Error || res.duplicate || res.already || res.seq === 0) continue;
    const type = TYPES[input.change?.kind ?? 'msg'];
    if (routing.wants(type)) {
      for (const row of routing.rowsOf({ id: newEventId(), type, ts: res.ts, room: res.room, data: dataOf(input, res) })) rows.push(row);
    }
    if (unreached && !input.change && input.persist) {
      const c = checks.get(res.room);
      if (c) c.to_seq = res.seq;
      else checks.set(res.room, { room_id: res.room, from_seq: res.seq, to_seq: res.seq, due_at: res.ts + routing.unreachedDelayMs, lease_owner: null, lease_until: 0 });
    }
  }
  return { rows, checks: [...checks.values()] };
}

/** The event as subscribers of the room receive it (core/delivery.ts), without the bytes. */
function dataOf(input: AppendInput, res: AppendResult): Record<string, unknown> {
  const c: ChangeInput | undefined = input.change;
  const base = { room: res.room, seq: res.seq };
  if (!c) {
    const e: Record<string, unknown> = { op: 'msg', ...base, id: res.id, from: { id: input.from.id, name: input.from.name }, ts: res.ts };
    if (input.text !== undefined) e.text = input.text;
    if (input.binary) e.binary = { mime: input.binary.mime, ...(input.binary.name !== undefined ? { name: input.binary.name } : {}), size: input.binary.data.byteLength };
    if (input.meta !== undefined) e.meta = input.meta;
    if (res.quote !== undefined) e.replyTo = res.quote;
    if (input.mentions !== undefined) e.mentions = input.mentions;
    return e;
  }
  const from = { id: input.from.id, name: input.from.name };
  switch (c.kind) {
    case 'edit':
      return { op: 'edit', ...base, target: c.target, text: c.text, ...(c.meta !== undefined ? { meta: c.meta } : {}), editedAt: res.ts, from };
    case 'unsend':
      return { op: 'unsend', ...base, target: c.target, by: from };
    case 'reaction':
      return { op: 'reaction', ...base, target: c.target, emoji: c.emoji, user: from, on: c.on, count: res.count ?? 0 };
  }
}
