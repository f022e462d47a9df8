import type { UserRef } from '@roomcast/protocol';
import type { RoomcastError } from './errors.js';
import type { Message } from './messages.js';

// The public event, option and result types of the client and its rooms. The room events name
// the Room class, so they live beside it in room.ts (this file imports no class).

export type ConnectionState = 'connecting' | 'connected' | 'disconnected';

export interface StateContext {
  state: ConnectionState;
  previous: ConnectionState;
  /** Close code of the connection that ended, when one did. */
  code?: number;
  reason?: string;
  /**
   * When a lost connection made the state `connecting`: the time the next attempt starts (ms
   * since the epoch, `Date.now()`'s clock), for a "reconnecting in N s" countdown. Later retries
   * while still `connecting` are reported on `retry`.
   */
  retryAt?: number;
}

export interface RetryContext {
  /** When the next connection attempt starts: ms since the epoch (`Date.now()`'s clock). */
  retryAt: number;
}

export interface ErrorContext {
  error: RoomcastError;
  /** The room the error concerns, if any. */
  room?: string;
}

export interface ClientEvents {
  /** The connection state changed (fires only on a real change). */
  state: StateContext;
  /** A reconnect attempt was scheduled (after every failed or lost connection, until one succeeds). */
  retry: RetryContext;
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
  /** At most this many, up to `MAX_HISTORY_PAGE` (200; default `DEFAULT_HISTORY_PAGE`, 50). */
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

/** What the client's send path accepts. */
export type PostContent = SendOptions & ({ text: string } | { data: Uint8Array; mime: string; name?: string | undefined });
