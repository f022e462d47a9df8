import type { RoomInfo, UserRef } from '@roomcast/protocol';
import type { RoomcastError } from './errors.js';
import type { Message } from './messages.js';
import type { Room } from './room.js';

// The public event, option and result types of the client and its rooms.

export type ConnectionState = 'connecting' | 'connected' | 'disconnected';

export interface StateContext {
  state: ConnectionState;
  previous: ConnectionState;
  /** Close code of the connection that ended, when one did. */
  code?: number;
  reason?: string;
}

export interface ErrorContext {
  error: RoomcastError;
  /** The room the error concerns, if any. */
  room?: string;
}

export interface ClientEvents {
  /** The connection state changed (fires only on a real change). */
  state: StateContext;
  /** Something went wrong that no promise reports: a server `error` event, a refused token, a room that could not be resumed. */
  error: ErrorContext;
  /** A message in a direct conversation, in seq order, each exactly once (your own included). */
  dm: Message;
}

export interface CreateOptions {
  /** Room id; omitted, the server makes an unguessable one like `r-7k2m9xq0abcd`. */
  room?: string;
  title?: string;
  capacity?: number;
  visibility?: 'public' | 'private';
  /** false: no history, deleted when the last member leaves (default true). */
  persist?: boolean;
}

export interface JoinOptions {
  /** Resume after this seq (a `room.lastSeq` you stored): exactly the messages after it arrive. */
  since?: number;
  /** Without `since`: how many recent messages to deliver first (default: the `history` option). */
  history?: number;
}

export interface DmResult extends SendResult {
  /** Whether the recipient was connected. */
  online: boolean;
}

/** Counters for monitoring (and for the chaos test). */
export interface ClientStats {
  /** Messages handed to `send`/`sendBinary`/`dm`. */
  sent: number;
  /** Of those, acknowledged by the server. */
  acknowledged: number;
  /** Messages delivered to `message`/`dm` listeners. */
  delivered: number;
  /** Messages received again (resends, overlapping backlogs) and not delivered twice. */
  duplicates: number;
  /** Connections re-established after one was lost. */
  reconnects: number;
  /** Messages fetched to fill a seq gap seen live. */
  gapsFilled: number;
}

// ---- rooms ----

export interface SendOptions {
  /** A small JSON object stored and delivered with the message. */
  meta?: Record<string, unknown>;
}

export interface BinaryOptions extends SendOptions {
  /** Media type, e.g. `image/png`. */
  mime: string;
  /** File name shown to members. */
  name?: string;
}

/** What the server acknowledged: the message is stored and will reach every member. */
export interface SendResult {
  room: string;
  seq: number;
  ts: number;
  id: string;
  /** The server had this message already (a retry after a reconnect); nothing was stored twice. */
  duplicate: boolean;
}

export interface HistoryOptions {
  /** Messages before this seq (default: the newest). */
  before?: number;
  /** At most this many, up to 200 (default 50). */
  limit?: number;
}

export interface HistoryPage {
  /** Oldest first. */
  messages: Message[];
  /** Older messages exist: ask again with `before: messages[0].seq`. */
  more: boolean;
}

export interface MemberInfo extends UserRef {
  online: boolean;
}

export type PresenceContext = { room: Room; online: number; members: readonly UserRef[] } & (
  | { event: 'join' | 'leave'; user: UserRef }
  /** The room was (re)joined: `online` and `members` were fetched anew. */
  | { event: 'sync' }
);

export interface TypingContext {
  room: Room;
  user: UserRef;
}

export interface UpdateContext {
  room: Room;
  info: RoomInfo;
}

export interface ClosedContext {
  room: Room;
  /** left: `leave()`; kicked/deleted: by the owner or an admin; error: a re-join was refused. */
  reason: 'left' | 'kicked' | 'deleted' | 'error';
  error?: RoomcastError;
}

export interface RoomEvents {
  /** Every message of the room, in seq order, each exactly once (your own sends included). */
  message: Message;
  presence: PresenceContext;
  typing: TypingContext;
  /** The owner changed the room's title or capacity. */
  update: UpdateContext;
  /** This client no longer receives the room. */
  closed: ClosedContext;
}

/** What the client's send path accepts. */
export type PostContent = SendOptions & ({ text: string } | { data: Uint8Array; mime: string; name?: string | undefined });
