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
  unread?: number;
  online: number;
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

export interface BinaryInfo {
  mime: string;
  name?: string;
  size: number;
  /** HTTP path serving the bytes to members (Authorization: Bearer <token> or ?token=). */
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
  limits: { maxText: number; maxBinary: number; ratePerSec: number };
}

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

export type ServerEvent =
  | WelcomeEvent
  | MsgEvent
  | PresenceEvent
  | TypingEvent
  | RoomEvent
  | ErrorEvent
  | PongEvent
  | ReplyOk
  | ReplyError;
