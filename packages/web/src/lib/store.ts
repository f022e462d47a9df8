import { markRaw, reactive } from 'vue';
import type { Message, RoomcastClient, RoomSummary, UserRef } from '@roomcast/client';

// The app's state: one reactive store, fed by @roomcast/client through the modules beside this
// one. Every socket operation goes through the SDK, so its reconnect, resume-by-seq and offline
// outbox apply to the UI too. Who writes what:
//   signin.ts   phase, authMode, me, isAdmin, conn, loginError, maxBinary
//   rooms.ts    the room list (rooms, publicRooms, active)
//   binding.ts  a room's settings, presence and typing, from the SDK's room events
//   timeline.ts a room's lines, unread and mention counts, read cursor
//   window.ts   a room's lines around an older message (a search hit, a quoted message)
//   changes.ts  edits, unsends and reactions applied to lines
//   receipts.ts the members' read cursors (roster)
//   sending.ts  a room's pending sends

export interface ImageRef {
  /** A blob: URL of bytes this page has, else '' (the server's copy: see files.ts `fileSrc`). */
  url: string;
  mime: string;
  name?: string | undefined;
  size: number;
  /** The SDK's message (kept raw), to ask for its file URL with the current file key. */
  message?: Message | undefined;
}

/** The message a reply answers, as the server quoted it (or as we did for a pending reply). */
export interface Quote {
  seq: number;
  from?: UserRef | undefined;
  text?: string | undefined;
  mime?: string | undefined;
  unsent?: boolean | undefined;
}

export interface Reaction {
  emoji: string;
  count: number;
  /** I gave it. */
  me: boolean;
}

export interface MsgLine {
  kind: 'msg';
  key: string;
  seq: number;
  id: string;
  from: UserRef;
  ts: number;
  text?: string | undefined;
  image?: ImageRef | undefined;
  file?: ImageRef | undefined;
  mine: boolean;
  state: 'sent' | 'pending' | 'failed';
  error?: string | undefined;
  /** A failed send's error code: whether Retry can help (sending.ts `canRetry`). */
  errorCode?: string | undefined;
  replyTo?: Quote | undefined;
  /** User ids the sender called by name. */
  mentions?: string[] | undefined;
  mentionsMe: boolean;
  /** When it was last edited (ms since epoch). */
  edited?: number | undefined;
  /** Taken back: nothing but the tombstone remains. */
  unsent: boolean;
  reactions: Reaction[];
}

export interface NoticeLine {
  kind: 'notice';
  key: string;
  ts: number;
  event: 'join' | 'leave';
  name: string;
  /** Who (two users may share a name): runs of notices are merged per person (notices.ts). */
  userId?: string | undefined;
}

export type Line = MsgLine | NoticeLine;

/** A member and how far they have read (`members` reply, then `receipt` events). */
export interface RosterEntry extends UserRef {
  readSeq: number;
}

export interface RoomState {
  /** Room id, or `@USERID` for a direct conversation not started yet. */
  id: string;
  title: string;
  direct: boolean;
  peer: UserRef | null;
  visibility: 'public' | 'private';
  persist: boolean;
  capacity: number | null;
  /** The owner's user id: they may unsend anyone's message. */
  owner: string | null;
  lines: Line[];
  /**
   * Lines show a stretch of older history (`newer`: more follow before the live end); live
   * messages wait here meanwhile and join `lines` when the stretch reaches them (window.ts).
   */
  newer: boolean;
  later: MsgLine[];
  loadingNewer: boolean;
  /** Our messages the server has not acknowledged yet (shown after the stored ones). */
  pending: MsgLine[];
  unread: number;
  /** Unread messages that mention me. */
  mentions: number;
  readSeq: number;
  lastSeq: number;
  /** Where the "new messages" marker goes while the room is open. */
  markerSeq: number | null;
  online: number;
  members: UserRef[];
  /** Every member (online or not) with their read cursor, for "Seen by" and @-mentions. */
  roster: RosterEntry[];
  typing: Record<string, { name: string; until: number }>;
  more: boolean;
  loadingOlder: boolean;
  joined: boolean;
  /** Last activity, for ordering the room list. */
  activity: number;
}

export type AuthMode = 'guest' | 'jwt' | 'both';

export const store = reactive({
  phase: 'login' as 'login' | 'connecting' | 'ready',
  authMode: 'guest' as AuthMode,
  me: null as UserRef | null,
  isAdmin: false,
  /** `retryAt`: when the SDK's next reconnect attempt starts (0: none scheduled). */
  conn: { state: 'disconnected' as 'connecting' | 'connected' | 'disconnected', retryAt: 0, everConnected: false, browserOnline: true },
  rooms: {} as Record<string, RoomState>,
  publicRooms: [] as RoomSummary[],
  active: null as string | null,
  loginError: '',
  maxBinary: 1_048_576,
  /** The room whose share link to show after creating it. */
  created: null as string | null,
  /** A message to show and highlight when its room opens (a search hit); `n` makes each click new. */
  focus: null as { room: string; seq: number; n: number } | null,
});

let current: RoomcastClient | null = null;

/** The signed-in SDK client, if any (kept out of the reactive store: Vue must not proxy it). */
export function client(): RoomcastClient | null {
  return current;
}

/** Set by signing in and out only. */
export function setClient(c: RoomcastClient | null): void {
  current = c ? markRaw(c) : null;
}

let keySeq = 0;

/** A key unique in this page, for lines that have no seq of their own. */
export const nextKey = (prefix: string): string => `${prefix}${++keySeq}`;

function newRoomState(id: string, init: Partial<RoomState> = {}): RoomState {
  return {
    id,
    title: id,
    direct: false,
    peer: null,
    visibility: 'public',
    persist: true,
    capacity: null,
    owner: null,
    lines: [],
    newer: false,
    later: [],
    loadingNewer: false,
    pending: [],
    unread: 0,
    mentions: 0,
    readSeq: 0,
    lastSeq: 0,
    markerSeq: null,
    online: 0,
    members: [],
    roster: [],
    typing: {},
    more: false,
    loadingOlder: false,
    joined: false,
    activity: 0,
    ...init,
  };
}

/** The room's state, made (with `init`) if it is new. */
export function ensureRoom(id: string, init: Partial<RoomState> = {}): RoomState {
  let r = store.rooms[id];
  if (!r) {
    store.rooms[id] = newRoomState(id, init);
    r = store.rooms[id]!;
  }
  return r;
}
