import type { EditEvent, ModerationEvent, ReactionEvent, RoomInfo, UnsendEvent, UserRef } from '@roomcast/protocol';
import type { RoomcastError } from './errors.js';
import type { Message } from './messages.js';
import type { ChangeEvent } from './stream.js';

// What a Room emits, generic in the room so this file need not import room.ts (which names them
// with its own class: `PresenceContext` is `PresenceContext<Room>` there).

export type PresenceContext<R> = { room: R; online: number; members: readonly UserRef[] } & (
  | { event: 'join' | 'leave'; user: UserRef }
  /** The room was (re)joined: `online` and `members` were fetched anew. */
  | { event: 'sync' }
);

export interface TypingContext<R> {
  room: R;
  user: UserRef;
}

export interface UpdateContext<R> {
  room: R;
  info: RoomInfo;
}

export interface ClosedContext<R> {
  room: R;
  /** left: `leave()`; kicked/deleted: by the owner or an admin (a ban kicks too); error: a re-join was refused. */
  reason: 'left' | 'kicked' | 'deleted' | 'error';
  error?: RoomcastError;
}

/** A message of the room changed; `message` is that Message, already updated, when the room keeps it. */
export interface ChangeContext<R, E extends ChangeEvent = ChangeEvent> {
  room: R;
  event: E;
  message?: Message;
}

/** A member read the room up to `seq` (their read cursor moved). */
export interface ReceiptContext<R> {
  room: R;
  user: UserRef;
  seq: number;
}

/** A moderator banned, unbanned, muted, unmuted, kicked someone or changed their role. */
export interface ModerationContext<R> {
  room: R;
  event: ModerationEvent;
}

export interface RoomEvents<R> {
  /** Every message of the room, in seq order, each exactly once (your own sends included). */
  message: Message;
  /** A message was edited (text, and meta when given). */
  edit: ChangeContext<R, EditEvent>;
  /** A message was taken back: its text, meta and binary are gone. */
  unsend: ChangeContext<R, UnsendEvent>;
  /** Someone gave or took back a reaction. */
  reaction: ChangeContext<R, ReactionEvent>;
  /** Any of the three above, after its own event: one listener to re-render a changed message. */
  change: ChangeContext<R>;
  /** Another member read up to a seq (not in rooms created with `receipts: false`). */
  receipt: ReceiptContext<R>;
  presence: PresenceContext<R>;
  typing: TypingContext<R>;
  /** The owner or an admin changed the room's settings (title, capacity, slow mode…). */
  update: UpdateContext<R>;
  /** A moderation action in the room (`event.action`: ban, unban, mute, unmute, role, kick). */
  moderation: ModerationContext<R>;
  /** This client no longer receives the room. */
  closed: ClosedContext<R>;
}
