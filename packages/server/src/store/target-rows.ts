import { givenKey, targetKey, targetsOf, type TargetState } from './change-plan.js';
import type { AppendInput } from './store.js';

// Reading the messages a batch's changes and replies name, the same way for both engines: the
// engine supplies three reads (synchronous prepared statements on SQLite, which commits in one
// synchronous call, and queries inside the transaction on PostgreSQL).

export interface TargetRow {
  seq: number;
  kind: string;
  user_id: string;
  user_name: string;
  ts: number;
  text: string | null;
  mime: string | null;
  unsent: number;
}

type EmojiRow = { emoji: string; n: number };

export interface TargetReadsSync {
  message(room: string, seq: number): TargetRow | undefined;
  emoji(room: string, seq: number): EmojiRow[];
  given(room: string, seq: number, emoji: string, user: string): boolean;
}

export interface TargetReads {
  message(room: string, seq: number): Promise<TargetRow | undefined>;
  emoji(room: string, seq: number): Promise<EmojiRow[]>;
  given(room: string, seq: number, emoji: string, user: string): Promise<boolean>;
}

/** Each named message's state (null when there is none), keyed by targetKey; SQLite. */
export function loadTargetsSync(inputs: AppendInput[], reads: TargetReadsSync): Map<string, TargetState | null> {
  const targets = new Map<string, TargetState | null>();
  for (const { room, seq } of targetsOf(inputs)) {
    const row = reads.message(room, seq);
    targets.set(targetKey(room, seq), row ? toState(row, row.kind === 'msg' ? reads.emoji(room, seq) : []) : null);
  }
  for (const r of reactions(inputs, targets)) if (reads.given(r.room, r.seq, r.emoji, r.user)) r.state.given.add(givenKey(r.emoji, r.user));
  return targets;
}

/** The same through asynchronous reads; PostgreSQL. */
export async function loadTargets(inputs: AppendInput[], reads: TargetReads): Promise<Map<string, TargetState | null>> {
  const targets = new Map<string, TargetState | null>();
  for (const { room, seq } of targetsOf(inputs)) {
    const row = await reads.message(room, seq);
    targets.set(targetKey(room, seq), row ? toState(row, row.kind === 'msg' ? await reads.emoji(room, seq) : []) : null);
  }
  for (const r of reactions(inputs, targets)) if (await reads.given(r.room, r.seq, r.emoji, r.user)) r.state.given.add(givenKey(r.emoji, r.user));
  return targets;
}

function reactions(inputs: AppendInput[], targets: Map<string, TargetState | null>) {
  const out: Array<{ room: string; seq: number; emoji: string; user: string; state: TargetState }> = [];
  for (const i of inputs) {
    const c = i.change;
    if (c?.kind !== 'reaction') continue;
    const state = targets.get(targetKey(i.room, c.target));
    if (state) out.push({ room: i.room, seq: c.target, emoji: c.emoji, user: i.from.id, state });
  }
  return out;
}

function toState(row: TargetRow, emojiRows: EmojiRow[]): TargetState {
  return {
    seq: Number(row.seq),
    kind: row.kind,
    userId: row.user_id,
    userName: row.user_name,
    ts: Number(row.ts),
    text: row.text,
    mime: row.mime,
    unsent: Number(row.unsent) === 1,
    emoji: new Map(emojiRows.map((e) => [e.emoji, Number(e.n)])),
    given: new Set(),
  };
}
