import type { ShareReply, UserRef } from '@roomcast/protocol';
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

/** A file key the server gave (`filekey`): what `?key=` carries in file URLs. */
export interface FileKeyContext {
  key: string;
  /** When the server stops accepting it, ms since the epoch (the server's clock). */
  expires: number;
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
  /**
   * A new file key arrived (after each `welcome`, and again at half its life): `fileUrl()` now
   * gives URLs with it, so re-render file links and images. URLs with the previous key keep
   * working until it expires (an hour after it was made).
   */
  filekey: FileKeyContext;
}

export interface CreateOptions {
  /** Room id; omitted, the server makes an unguessable one like `r-7k2m9xq0abcd`. */
  room?: string;
  title?: string;
  capacity?: number;
  visibility?: 'public' | 'private';
  /** false: no history, deleted when the last member leaves (default true). */
  persist?: boolean;
  /** Days messages are kept (1–36,500); older ones are deleted by the server. Default: the server's. */
  retention?: number;
  /** Whether members get `receipt` events when others read (default true). */
  receipts?: boolean;
}

/** What `room.update()` changes (only the owner or an admin may). */
export interface UpdateOptions {
  title?: string;
  /** null: no limit. */
  capacity?: number | null;
  /** Days messages are kept; null: the server's default. */
  retention?: number | null;
  receipts?: boolean;
  /** Slow mode: seconds between one member's messages (owner and admins exempt); 0 or null: off. */
  slowMode?: number | null;
}

export interface JoinOptions {
  /** Resume after this seq (a `room.lastSeq` you stored): exactly the messages after it arrive. */
  since?: number;
  /** Without `since`: how many recent messages to deliver first (default: the `history` option). */
  history?: number;
  /**
   * An invite link's token (from a member's `share`): lets you into a private room you are not
   * a member of. Sent on the first join only; once in, you are a member and need it no more.
   */
  invite?: string;
}

/**
 * An invite link's token, from `room.share()` or `chat.share()` (the `share` reply): put `invite`
 * in the link (the web UI's is `#/r/ROOM?invite=TOKEN`); the invitee joins with `{ invite }`.
 * `expires`: when the link stops admitting anyone, ms since the epoch.
 */
export type ShareResult = ShareReply;

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
  /** Stream events (messages and changes) received again (resends, overlapping backlogs) and not delivered twice. */
  duplicates: number;
  /** Connections re-established after one was lost. */
  reconnects: number;
  /** Stream events (messages and changes) a re-join brought into a seq gap seen live. */
  gapsFilled: number;
}

// ---- rooms ----

export interface SendOptions {
  /** A small JSON object stored and delivered with the message. */
  meta?: Record<string, unknown>;
  /** The seq of the message (of the same room or conversation) this one answers. */
  replyTo?: number;
  /** User ids this message calls by name (at most `MAX_MENTIONS`, 50; duplicates are dropped). */
  mentions?: string[];
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
  /** The text as stored, when the server changed it (a moderation hook's replacement, a filter's mask). */
  text?: string;
}

export interface HistoryOptions {
  /** Messages before this seq (default: the newest). */
  before?: number;
  /** Messages after this seq, oldest first (not with `before`). */
  after?: number;
  /** At most this many, up to `MAX_HISTORY_PAGE` (200; default `DEFAULT_HISTORY_PAGE`, 50). */
  limit?: number;
}

export interface HistoryPage {
  /** Oldest first. */
  messages: Message[];
  /**
   * More exist in the direction asked: older ones (ask again with `before: messages[0].seq`),
   * or with `after`, newer ones (`after: messages.at(-1).seq`).
   */
  more: boolean;
}

export interface MemberInfo extends UserRef {
  online: boolean;
  /** The member's read cursor: they have read every message up to this seq (0 from servers that do not say). */
  readSeq: number;
  /** Their role in the room ('member' from servers without moderation). */
  role: 'owner' | 'admin' | 'member';
}

export interface EditOptions {
  /** Replaces the message's meta; without it the meta stays. */
  meta?: Record<string, unknown>;
}

export interface EditResult {
  /** The edit event's own seq in the room's stream. */
  seq: number;
  /** The edited message's seq. */
  target: number;
  /** Server time of the edit, ms since the epoch. */
  editedAt: number;
}

export interface UnsendResult {
  /** The unsend event's seq; absent when the message was unsent already (`already`). */
  seq?: number;
  target: number;
  /** It was unsent already: nothing changed. */
  already?: boolean;
}

export interface ReactResult {
  /** The reaction event's seq; absent with `already`. */
  seq?: number;
  target: number;
  emoji: string;
  on: boolean;
  /** Users giving this emoji to the message now. */
  count: number;
  /** You had given (or, with `on: false`, had not given) this reaction: nothing changed. */
  already?: boolean;
}

export interface SearchOptions {
  /** Only this room (default: every room you are a member of). */
  room?: string;
  /** Only messages sent before this time, ms since the epoch: the previous page's `next`. */
  before?: number;
  /** At most this many, up to `MAX_SEARCH_PAGE` (100; default `DEFAULT_SEARCH_PAGE`, 20). */
  limit?: number;
}

export interface SearchResult {
  /** Newest first, each in its current state, with its `room`. */
  messages: Message[];
  /** Older hits exist: pass `next` as `before`. */
  more: boolean;
  next?: number;
}

/** What the client's send path accepts. */
export type PostContent = SendOptions & ({ text: string } | { data: Uint8Array; mime: string; name?: string | undefined });
