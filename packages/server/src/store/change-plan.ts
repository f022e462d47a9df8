import { MAX_REACTIONS_PER_MESSAGE, quoteText, type ReplyQuote } from '@roomcast/protocol';
import type { Database } from './schema.js';
import type { AppendInput, ChangeInput } from './store.js';

// Changes to stored messages (edit, unsend, reaction) and the checks of a reply's target,
// worked out in memory like the rest of a group commit (append-plan.ts), against the state of
// the messages concerned as read inside the commit's transaction. Earlier changes of the same
// batch are applied to that state, so two reactions in one batch see each other.

/** Refused changes and replies: the store's answer, with one of the protocol's error codes. */
export class ChangeRefused extends Error {
  constructor(
    readonly code: 'not_found' | 'forbidden' | 'bad_request',
    message: string,
  ) {
    super(message);
  }
}

/** A stored message's state as a change needs it. */
export interface TargetState {
  seq: number;
  kind: string;
  userId: string;
  userName: string;
  ts: number;
  text: string | null;
  mime: string | null;
  unsent: boolean;
  /** Emoji given to it, with how many users give each. */
  emoji: Map<string, number>;
  /** `emoji\u0000user` pairs given, for the users reacting in this batch. */
  given: Set<string>;
}

export const targetKey = (room: string, seq: number): string => `${room}\u0000${seq}`;
export const givenKey = (emoji: string, user: string): string => `${emoji}\u0000${user}`;

/** The messages a batch must read before planning: targets of changes and of replies. */
export function targetsOf(inputs: AppendInput[]): Array<{ room: string; seq: number }> {
  const seen = new Map<string, { room: string; seq: number }>();
  for (const i of inputs) {
    const seq = i.change?.target ?? i.replyTo;
    if (seq !== undefined && i.persist) seen.set(targetKey(i.room, seq), { room: i.room, seq });
  }
  return [...seen.values()];
}

/** One write of a change besides its event row. */
export type ChangeStep =
  /** A target's new state. */
  | { kind: 'update'; room: string; seq: number; set: Partial<Database['messages']> }
  /** An unsent target: its edits' text and meta, its reactions and mentions go. */
  | { kind: 'erase'; room: string; seq: number }
  | { kind: 'react'; row: Database['reactions'] }
  | { kind: 'unreact'; row: { room_id: string; seq: number; emoji: string; user_id: string } };

/**
 * What applying a batch's changes writes besides the event rows, in the order planned: a
 * reaction given, taken back and given again in one batch must end given, and one given just
 * before an unsend must be erased with the message.
 */
export interface ChangeWrites {
  steps: ChangeStep[];
  /** Whether any step erases content (SQLite then truncates its log). */
  erases: boolean;
}

export const noWrites = (): ChangeWrites => ({ steps: [], erases: false });

export interface PlannedChange {
  /** The event row's change-specific columns; null when nothing changes (`already`). */
  row: Pick<Database['messages'], 'kind' | 'target' | 'text' | 'meta' | 'detail'> | null;
  count?: number;
}

function missing(room: string, seq: number): ChangeRefused {
  return new ChangeRefused('not_found', `room "${room}" has no message ${seq}; check the seq`);
}

/** The target of a change or a reply, checked to be a message. */
function messageAt(targets: Map<string, TargetState | null>, input: AppendInput, seq: number): TargetState {
  if (!input.persist) throw new ChangeRefused('not_found', `room "${input.room}" keeps no messages (it is ephemeral), so message ${seq} cannot be changed or quoted`);
  const t = targets.get(targetKey(input.room, seq));
  if (!t || t.kind !== 'msg') throw missing(input.room, seq);
  return t;
}

/** The quote of a reply's target; throws when it does not exist. */
export function planReply(targets: Map<string, TargetState | null>, input: AppendInput, seq: number, lastSeq: number): ReplyQuote {
  // Ephemeral rooms keep nothing to check against: any seq the room has had will do.
  if (!input.persist) {
    if (seq > lastSeq) throw missing(input.room, seq);
    return { seq };
  }
  const t = messageAt(targets, input, seq);
  if (t.unsent) return { seq, unsent: true };
  const q: ReplyQuote = { seq, from: { id: t.userId, name: t.userName } };
  if (t.text !== null) q.text = quoteText(t.text);
  else if (t.mime !== null) q.mime = t.mime;
  return q;
}

/** Checks one change against its target's state, applies it there, and says what to write. */
export function planChange(targets: Map<string, TargetState | null>, input: AppendInput, change: ChangeInput, writes: ChangeWrites): PlannedChange {
  const t = messageAt(targets, input, change.target);
  const actor = input.from.id;
  const late = (windowMs: number) => windowMs > 0 && input.ts - t.ts > windowMs;
  const window = (windowMs: number) => `${Math.round(windowMs / 60_000)} minutes`;
  switch (change.kind) {
    case 'edit': {
      if (t.unsent) throw new ChangeRefused('not_found', `message ${t.seq} of room "${input.room}" was unsent; there is nothing to edit`);
      if (t.userId !== actor) throw new ChangeRefused('forbidden', `only the author can edit a message; message ${t.seq} is not yours`);
      if (t.text === null) throw new ChangeRefused('bad_request', `message ${t.seq} is a file, which cannot be edited; unsend it and send another`);
      if (late(change.windowMs)) throw new ChangeRefused('forbidden', `too late to edit message ${t.seq}: messages can be edited for ${window(change.windowMs)} after sending`);
      t.text = change.text;
      const meta = change.meta === undefined ? undefined : JSON.stringify(change.meta);
      writes.steps.push({ kind: 'update', room: input.room, seq: t.seq, set: { text: change.text, edited_at: input.ts, ...(meta !== undefined ? { meta } : {}) } });
      return { row: { kind: 'edit', target: t.seq, text: change.text, meta: meta ?? null, detail: null } };
    }
    case 'unsend': {
      if (t.unsent) return { row: null };
      const own = t.userId === actor;
      if (!own && !change.moderator) throw new ChangeRefused('forbidden', `only the author, the room's owner or an admin can unsend message ${t.seq}`);
      if (own && !change.moderator && late(change.windowMs)) {
        throw new ChangeRefused('forbidden', `too late to unsend message ${t.seq}: messages can be unsent for ${window(change.windowMs)} after sending; ask the room's owner`);
      }
      t.unsent = true;
      t.text = null;
      t.mime = null;
      t.emoji.clear();
      writes.steps.push({
        kind: 'update',
        room: input.room,
        seq: t.seq,
        set: { unsent: 1, text: null, meta: null, mime: null, file_name: null, size: null, blob: null, mentions: null, edited_at: null },
      });
      writes.steps.push({ kind: 'erase', room: input.room, seq: t.seq });
      writes.erases = true;
      return { row: { kind: 'unsend', target: t.seq, text: null, meta: null, detail: null } };
    }
    case 'reaction': {
      if (t.unsent) throw new ChangeRefused('not_found', `message ${t.seq} of room "${input.room}" was unsent; it takes no reactions`);
      const key = givenKey(change.emoji, actor);
      const count = t.emoji.get(change.emoji) ?? 0;
      if (t.given.has(key) === change.on) return { row: null, count };
      if (change.on && count === 0 && t.emoji.size >= change.maxEmoji) {
        throw new ChangeRefused('bad_request', `message ${t.seq} has ${change.maxEmoji} different reactions already, the most it may have; add one of those instead`);
      }
      const after = count + (change.on ? 1 : -1);
      if (change.on) {
        t.given.add(key);
        writes.steps.push({ kind: 'react', row: { room_id: input.room, seq: t.seq, emoji: change.emoji, user_id: actor, ts: input.ts } });
      } else {
        t.given.delete(key);
        writes.steps.push({ kind: 'unreact', row: { room_id: input.room, seq: t.seq, emoji: change.emoji, user_id: actor } });
      }
      if (after > 0) t.emoji.set(change.emoji, after);
      else t.emoji.delete(change.emoji);
      const detail = JSON.stringify({ emoji: change.emoji, on: change.on, count: after });
      return { row: { kind: 'reaction', target: t.seq, text: null, meta: null, detail }, count: after };
    }
  }
}

/** The default for ReactRequest's limit, kept here so the store's checks need no config. */
export const MAX_EMOJI = MAX_REACTIONS_PER_MESSAGE;
