import type { EditEvent, ReactionEvent, UnsendEvent } from '@roomcast/protocol';
import type { Message } from './messages.js';

// A room's seq stream as the SDK orders it: messages and the changes to them (edit, unsend,
// reaction) each take the room's next seq, so all four are ordered, deduplicated and resumed
// together; only what happens to an item once it is in order differs.

/** A change to an earlier message of the room, applied to the message with seq `target`. */
export type ChangeEvent = EditEvent | UnsendEvent | ReactionEvent;

/** One event of a room's stream, on its way to the app. */
export type StreamItem = { kind: 'message'; seq: number; message: Message } | { kind: 'change'; seq: number; event: ChangeEvent };

export const CHANGE_OPS: ReadonlySet<string> = new Set(['edit', 'unsend', 'reaction']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function isSeq(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

function isUser(v: unknown): boolean {
  return isObject(v) && typeof v.id === 'string';
}

/**
 * Checks the fields applying a change relies on; a malformed one is reported, never applied
 * (its seq then reads as missing, and the gap is filled from the server).
 */
export function isChangeEvent(v: unknown): v is ChangeEvent {
  if (!isObject(v) || typeof v.room !== 'string' || !isSeq(v.seq) || !isSeq(v.target)) return false;
  switch (v.op) {
    case 'edit':
      return (v.text === undefined || typeof v.text === 'string') && typeof v.editedAt === 'number' && isUser(v.from);
    case 'unsend':
      return isUser(v.by);
    case 'reaction':
      return typeof v.emoji === 'string' && typeof v.on === 'boolean' && typeof v.count === 'number' && isUser(v.user);
    default:
      return false;
  }
}

/** A message as a stream item. */
export function messageItem(message: Message): StreamItem {
  return { kind: 'message', seq: message.seq, message };
}

/** A change as a stream item. */
export function changeItem(event: ChangeEvent): StreamItem {
  return { kind: 'change', seq: event.seq, event };
}
