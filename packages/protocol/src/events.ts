import type { ErrorCode } from './codes.js';

// Frames the server sends. Server and SDK share these types.

export interface UserRef {
  id: string;
  name: string;
}

export interface RoomInfo {
  id: string;
  title: string | null;
  /** Maximum number of distinct members; null means no limit. */
  capacity: number | null;
  visibility: 'public' | 'private';
  /** false: no history is kept and the room is deleted when its last member leaves. */
  persist: boolean;
  /** true for a direct conversation between two users (ids start with `dm-`). */
  direct: boolean;
  owner: string | null;
  createdAt: number;
  /** Extension: days messages are kept (older ones are deleted); null: the server's default. */
  retention: number | null;
  /** Extension: whether members are told when others read (`receipt` events); default true. */
  receipts: boolean;
  /** Extension: slow mode, seconds between one member's messages (owner and admins exempt); absent: off. */
  slowMode?: number;
}

/** One entry of `welcome.rooms` and of the `rooms` reply. */
export interface RoomSummary {
  id: string;
  title: string | null;
  visibility: 'public' | 'private';
  persist: boolean;
  direct: boolean;
  /** For direct rooms: the other user. */
  peer?: UserRef;
  lastSeq: number;
  readSeq?: number;
  /** Unread `msg` events (changes to messages are not counted). */
  unread?: number;
  /** Extension: unread messages that mention the user. */
  mentions?: number;
  online: number;
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  /** `banned`, `muted`: when it ends (ms since epoch); null: until lifted. */
  until?: number | null;
  /** `slow_mode`: ms until the next message may be sent. */
  retryAfter?: number;
}

export interface BinaryInfo {
  mime: string;
  name?: string;
  size: number;
  /** HTTP path serving the bytes to members (`?key=` a `filekey`, or Authorization: Bearer <token>). */
  url: string;
}

export interface WelcomeEvent {
  op: 'welcome';
  session: string;
  user: UserRef;
  guestToken?: string;
  heartbeat: number;
  rooms: RoomSummary[];
  /** Extension: present when the user has more rooms than `welcome` lists; pass it to `rooms {cursor}`. */
  roomsNext?: string;
  /** Extension: sentences about how the client connected that it should fix (e.g. a `token` header the server does not read). */
  warnings?: string[];
  limits: {
    maxText: number;
    maxBinary: number;
    ratePerSec: number;
    /**
     * Extension: frames this connection may send beyond `ratePerSec` within 10 s of `welcome`
     * (its share of the user's resume budget), so a queued outbox goes out at once. Absent from
     * older servers: treat as 0.
     */
    resumeBurst?: number;
  };
}

/** The message a reply answers, as it is now. */
export interface ReplyQuote {
  seq: number;
  from?: UserRef;
  /** Its first 100 characters (absent for a binary message). */
  text?: string;
  /** For a binary message: its type. */
  mime?: string;
  /** It was taken back: nothing else is quoted. */
  unsent?: true;
}

/** One reaction on a message: how many users gave it, and whether the receiving user did. */
export interface ReactionCount {
  emoji: string;
  count: number;
  me: boolean;
}

/**
 * A message. Live, it is as sent; in history, backlogs and search results it is in its current
 * state (edited text, unsent, reactions), and the change events that led there may follow it.
 */
export interface MsgEvent {
  op: 'msg';
  room: string;
  seq: number;
  id: string;
  from: UserRef;
  text?: string;
  binary?: BinaryInfo;
  meta?: Record<string, unknown>;
  ts: number;
  replyTo?: ReplyQuote;
  /** User ids the sender called by name. */
  mentions?: string[];
  /** When it was last edited (ms since epoch). */
  edited?: number;
  /** Taken back: no text, meta or binary remain. */
  unsent?: true;
  reactions?: ReactionCount[];
}

/** The author changed message `target`; it takes seq `seq` of the room's stream. */
export interface EditEvent {
  op: 'edit';
  room: string;
  seq: number;
  target: number;
  /** Absent when the message was unsent since (then there is nothing to apply). */
  text?: string;
  meta?: Record<string, unknown>;
  editedAt: number;
  from: UserRef;
}

/** Message `target` was taken back by its author, the room's owner or an admin (`by`). */
export interface UnsendEvent {
  op: 'unsend';
  room: string;
  seq: number;
  target: number;
  by: UserRef;
}

/** `user` added (`on`) or removed a reaction to message `target`. */
export interface ReactionEvent {
  op: 'reaction';
  room: string;
  seq: number;
  target: number;
  emoji: string;
  user: UserRef;
  on: boolean;
  /** Extension: how many users give this emoji to the message after this change. */
  count: number;
}

/** The events of a room's seq stream: stored, streamed on `join {since}`, each applied once. */
export type StreamEvent = MsgEvent | EditEvent | UnsendEvent | ReactionEvent;

/** A member's read cursor moved (not part of the seq stream; off in rooms with `receipts: false`). */
export interface ReceiptEvent {
  op: 'receipt';
  room: string;
  user: UserRef;
  seq: number;
}

/** The header of a live binary `msg` frame; the payload follows it in the same frame. */
export interface BinaryMsgHeader extends MsgEvent {
  mime: string;
  name?: string;
  size: number;
}

export interface PresenceEvent {
  op: 'presence';
  room: string;
  event: 'join' | 'leave';
  user: UserRef;
  online: number;
}

export interface TypingEvent {
  op: 'typing';
  room: string;
  user: UserRef;
}

export interface RoomEvent {
  op: 'room';
  room: RoomInfo & { deleted?: boolean; kicked?: boolean };
}

/** Extension: a moderation action in the room (ban, unban, mute, unmute, role, kick by a ban). */
export interface ModerationEvent {
  op: 'moderation';
  room: string;
  action: 'ban' | 'unban' | 'mute' | 'unmute' | 'role' | 'kick';
  user: UserRef;
  /** Who did it; null: the server API. */
  by: UserRef | null;
  /** ban, mute: when it ends (ms since epoch); null: until lifted. */
  until?: number | null;
  /** role: the new role. */
  role?: 'admin' | 'member';
  reason?: string;
}

export interface ErrorEvent {
  op: 'error';
  ref?: string | number;
  error: ErrorBody;
}

export interface PongEvent {
  op: 'pong';
  ts: number;
}

export interface ReplyOk {
  op: 'reply';
  ref: string | number;
  ok: true;
  [field: string]: unknown;
}

export interface ReplyError {
  op: 'reply';
  ref: string | number;
  ok: false;
  error: ErrorBody;
}

/** Extension: what an ok `share` reply carries besides op, ref and ok. */
export interface ShareReply {
  room: string;
  /** The invite link's token: pass it as `join {invite}`. */
  invite: string;
  /** When it stops admitting anyone, ms since epoch. */
  expires: number;
}

/** Extension: what an ok `filekey` reply carries besides op, ref and ok. */
export interface FileKeyReply {
  /** Fetches this user's files as `?key=KEY`; it cannot sign in. */
  key: string;
  /** When it stops working, ms since epoch. */
  expires: number;
}

export type ServerEvent =
  | WelcomeEvent
  | MsgEvent
  | EditEvent
  | UnsendEvent
  | ReactionEvent
  | ReceiptEvent
  | PresenceEvent
  | TypingEvent
  | RoomEvent
  | ModerationEvent
  | ErrorEvent
  | PongEvent
  | ReplyOk
  | ReplyError;
