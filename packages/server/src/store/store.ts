import type { ReactionCount, ReplyQuote, RoomInfo, UserRef } from '@roomcast/protocol';
import type { OutboxEvent, OutboxPort } from './outbox.js';

/** A webhook event written to the outbox with the change that caused it (store/outbox.ts). */
export type { OutboxEvent };

// The Store port: everything roomcast keeps. `core/` talks only to this interface; SQLite
// (embedded) and PostgreSQL (cluster) implement it and pass the same contract suite
// (test/store-contract.ts).

/** A room as stored, with its sequence counter. */
export interface RoomRecord extends RoomInfo {
  lastSeq: number;
}

/** A room to create: its settings, with the sequence counter starting at 0. */
export type NewRoom = RoomInfo;

export interface MemberRecord extends UserRef {
  readSeq: number;
  /** When they became a member, ms since epoch. */
  joinedAt: number;
  /** The owner is the room's creator (rooms.owner); admins are granted by the owner. */
  role: RoomRole;
}

/** A member's role in a room (moderation, core/room-moderation.ts). */
export type RoomRole = 'owner' | 'admin' | 'member';

/** A ban from a room, or (room null) from the server. */
export interface BanRecord {
  room: string | null;
  user: string;
  /** Until when, ms since epoch; null: until lifted. */
  until: number | null;
  reason: string | null;
  /** Who banned (a user id); null: the server API. */
  by: string | null;
  at: number;
}

/** A mute in a room: the user may read, not send, edit or react. */
export interface MuteRecord {
  room: string;
  user: string;
  until: number | null;
  by: string | null;
  at: number;
}

/** What a post into a room is checked against (one read): the sender's role, mute, the room's slow mode. */
export interface PostGate {
  /** null: not a member. */
  role: RoomRole | null;
  /** The active mute's end (null: until lifted); undefined: not muted. */
  mutedUntil: number | null | undefined;
  /** Seconds between one member's messages; 0: off. */
  slowMode: number;
}

/** A position in a room's member list (ordered by joinedAt, then id): the last member of a page. */
export interface MemberCursor {
  joinedAt: number;
  id: string;
}

/** A page of a room's members: at most `limit`, after `after`. */
export interface MemberPage {
  limit: number;
  after?: MemberCursor | undefined;
}

/** A page of every room (the admin API), ordered by id. */
export interface RoomListQuery {
  /** Only rooms whose id or title contains this, letters in any case, `%` and `_` literal; empty: all. */
  q?: string | undefined;
  limit: number;
  /** Only rooms with an id after this one (the last id of the previous page). */
  after?: string | undefined;
}

/** A room the user belongs to, with their read cursor (and, for direct rooms, the other user). */
export interface MembershipRecord extends RoomRecord {
  readSeq: number;
  /** Unread `msg` events (change events are not counted). */
  unread: number;
  /** Unread messages that mention the user. */
  mentions: number;
  peer?: UserRef;
}

/** A change to a stored message, appended as an event of the room's stream. */
export type ChangeInput =
  | {
      kind: 'edit';
      target: number;
      text: string;
      meta?: Record<string, unknown>;
      /** How long after sending the author may edit, ms (0 = always). */
      windowMs: number;
    }
  | {
      kind: 'unsend';
      target: number;
      windowMs: number;
      /** The room's owner or an admin: may unsend anyone's message at any time. */
      moderator: boolean;
    }
  | { kind: 'reaction'; target: number; emoji: string; on: boolean; maxEmoji: number };

export type StreamKind = 'msg' | 'edit' | 'unsend' | 'reaction';

export interface BinaryPayload {
  mime: string;
  name?: string;
  data: Uint8Array;
}

export interface AppendInput {
  room: string;
  /** false for ephemeral rooms: a seq is assigned but nothing is kept. */
  persist: boolean;
  from: UserRef;
  /** The client's message id; a second append with the same (from.id, clientId) is a duplicate. */
  clientId?: string;
  /** The message id to store when the client gave none. */
  msgId: string;
  text?: string;
  meta?: Record<string, unknown>;
  binary?: BinaryPayload;
  ts: number;
  /** The seq of the room's message this one answers (it must exist). */
  replyTo?: number;
  /** User ids the message mentions. */
  mentions?: string[];
  /** Not a message but a change to one (`from` is who changes it). */
  change?: ChangeInput;
  /**
   * Check the sender's mute in the room inside the commit, and for a `message` the room's slow
   * mode (owner and admins exempt): refused with PostRefused (store/post-guard.ts). Absent: not
   * checked (server admins, direct conversations, the server API).
   */
  moderated?: 'message' | 'change';
}

export interface AppendResult {
  room: string;
  /** The event's seq; 0 when a change changed nothing (`already`). */
  seq: number;
  ts: number;
  id: string;
  /** true when this was a retry of an earlier append: nothing new was stored. */
  duplicate: boolean;
  /** A change that changed nothing (a reaction given twice, a second unsend): no event. */
  already?: true;
  /** A reply: the answered message as quoted. */
  quote?: ReplyQuote;
  /** A reaction: users giving that emoji afterwards. */
  count?: number;
}

/** One event of a room's stream as stored: a message in its current state, or a change to one. */
export interface StoredMessage {
  room: string;
  seq: number;
  kind: StreamKind;
  id: string;
  /** The sender; for a change, who made it. */
  from: UserRef;
  text?: string;
  meta?: Record<string, unknown>;
  binary?: { mime: string; name?: string; size: number };
  ts: number;
  /** Change events: the changed message's seq. */
  target?: number;
  replyTo?: ReplyQuote;
  mentions?: string[];
  edited?: number;
  unsent?: true;
  reactions?: ReactionCount[];
  /** Reaction events. */
  reaction?: { emoji: string; on: boolean; count: number };
}

/** Whose view a read is for: `reactions[].me` is about this user. */
export interface ReadOptions {
  viewer?: string | undefined;
}

export interface SearchQuery {
  /** The searching user: only rooms they are a member of are searched. */
  userId: string;
  q: string;
  room?: string | undefined;
  /** Only messages with ts below this. */
  before?: number | undefined;
  limit: number;
}

export interface RoomPatch {
  title?: string | null;
  capacity?: number | null;
  retention?: number | null;
  receipts?: boolean;
  /** Seconds between one member's messages; 0: off. */
  slowMode?: number;
}

export type AddMemberResult = 'added' | 'already' | 'full';

/** A position in a room list ordered by `lastSeq` descending, then id: the last room of a page. */
export interface RoomCursor {
  lastSeq: number;
  id: string;
}

/** A request that carries an Idempotency-Key header, as the log keeps it. */
export interface IdempotencyRequest {
  caller: string;
  key: string;
  method: string;
  path: string;
  bodyHash: string;
  ts: number;
}

/** What claiming a key found: run it (new), it runs elsewhere, another request used it, or its answer. */
export type IdempotencyClaim =
  | { state: 'new' }
  | { state: 'running' }
  | { state: 'mismatch'; method: string; path: string }
  | { state: 'done'; status: number; response: string };

export interface IdempotencyLog {
  /** Claims the key for this request; a running claim older than `staleBefore` is taken over. */
  claim(r: IdempotencyRequest, staleBefore: number): Promise<IdempotencyClaim>;
  /** Stores the first response. */
  finish(caller: string, key: string, status: number, response: string): Promise<void>;
  /** Drops an unfinished claim (the request failed on the server's side: a retry may run it). */
  abandon(caller: string, key: string): Promise<void>;
  prune(olderThan: number): Promise<number>;
}

/** `events` arguments: written in the same transaction as the change, only when it happened. */
export interface Store extends OutboxPort {
  /** Creates or upgrades the schema. */
  migrate(): Promise<void>;
  /** Resolves when the store answers a trivial query (readiness). */
  ping(): Promise<void>;
  /** Waits for pending appends, then releases the connection. */
  close(): Promise<void>;

  upsertUser(user: UserRef): Promise<void>;
  getUser(id: string): Promise<UserRef | null>;

  /** Creates a room; resolves false when the id is taken. */
  createRoom(room: NewRoom, events?: readonly OutboxEvent[]): Promise<boolean>;
  getRoom(id: string): Promise<RoomRecord | null>;
  updateRoom(id: string, patch: RoomPatch, events?: readonly OutboxEvent[]): Promise<RoomRecord | null>;
  /** Deletes a room with its members and messages. */
  deleteRoom(id: string, events?: readonly OutboxEvent[]): Promise<void>;
  /** Ephemeral rooms left over from a crash (embedded mode cleans them at start). */
  deleteEphemeralRooms(): Promise<number>;
  /** Public, non-direct rooms, newest activity first (lastSeq descending, then id). */
  publicRooms(limit: number): Promise<RoomRecord[]>;
  countRooms(): Promise<number>;
  /** Every room (private and direct ones too) ordered by id: a page, optionally filtered (RoomListQuery). */
  listRooms(query: RoomListQuery): Promise<RoomRecord[]>;
  /** Members per room for the given rooms; a room with none (or no such room) is missing. */
  memberCounts(rooms: string[]): Promise<Map<string, number>>;
  /** Rooms the user owns (created), ephemeral ones included. */
  countOwnedRooms(userId: string): Promise<number>;

  /** Adds a member unless the room is at capacity (checked atomically). */
  addMember(room: string, userId: string, capacity: number | null, now: number, events?: readonly OutboxEvent[]): Promise<AddMemberResult>;
  removeMember(room: string, userId: string, events?: readonly OutboxEvent[]): Promise<boolean>;
  isMember(room: string, userId: string): Promise<boolean>;
  /** Which of these users are members of the room now (re-checking cached memberships). */
  membersAmong(room: string, userIds: readonly string[]): Promise<Set<string>>;
  /** When the user's current membership began (ms), or null when they are not a member. */
  memberSince(room: string, userId: string): Promise<number | null>;
  /** A room's members in the order they joined, then by id: all of them, or a page. */
  listMembers(room: string, page?: MemberPage): Promise<MemberRecord[]>;
  /** Ids of the rooms the user belongs to, ordered by id, at most `limit`. */
  memberRoomIds(userId: string, limit: number): Promise<string[]>;
  /**
   * The rooms the user belongs to, newest activity first (lastSeq descending, then id): all of
   * them, or a page of at most `limit` after `after`.
   */
  memberRooms(userId: string, page?: { limit: number; after?: RoomCursor | undefined }): Promise<MembershipRecord[]>;
  /** Moves the read cursor forward only; returns the cursor after the move. */
  setReadSeq(room: string, userId: string, seq: number): Promise<number>;
  /** The same, also saying whether the cursor moved (a read receipt is owed). */
  moveReadSeq(room: string, userId: string, seq: number): Promise<{ readSeq: number; moved: boolean }>;
  /** The user's unread `msg` events and unread mentions in a room, for a read cursor. */
  unreadOf(room: string, userId: string, readSeq: number): Promise<{ unread: number; mentions: number }>;

  /** Stores a message (or, for ephemeral rooms, only assigns its seq). Group-committed. */
  append(input: AppendInput): Promise<AppendResult>;
  /** Stream events (messages in their current state and changes) with seq > since, ascending, at most limit. */
  messagesAfter(room: string, since: number, limit: number, opts?: ReadOptions): Promise<StoredMessage[]>;
  /** The newest messages (msg events only) with seq < before (all when before is null), ascending, at most limit. */
  messagesBefore(room: string, before: number | null, limit: number, opts?: ReadOptions): Promise<StoredMessage[]>;
  /** The oldest messages (msg events only) with seq > after, ascending, at most limit. */
  messagesSince(room: string, after: number, limit: number, opts?: ReadOptions): Promise<StoredMessage[]>;
  /** One message in its current state; null when there is none with that seq. */
  getMessage(room: string, seq: number, opts?: ReadOptions): Promise<StoredMessage | null>;
  /** Messages (not unsent) whose text contains `q`, newest first, in the user's rooms. */
  search(query: SearchQuery): Promise<StoredMessage[]>;
  /**
   * Deletes the messages older than their room's retention (or `defaultDays` for rooms without
   * one; 0 = keep), with their reactions, mentions and change events. Returns how many rows went.
   */
  pruneMessages(now: number, defaultDays: number): Promise<number>;
  getBlob(room: string, seq: number): Promise<BinaryPayload | null>;
  /** Forgets idempotency keys older than the given time. */
  pruneDedup(olderThan: number): Promise<number>;
  /** The server API's Idempotency-Key log (http/idempotency.ts). */
  idempotency(): IdempotencyLog;

  /**
   * A named secret shared by every node: `candidate` is stored unless one exists already, and
   * the stored one is returned (the first node to start decides).
   */
  sharedSecret(name: string, candidate: string): Promise<string>;

  // Moderation (store/sql-moderation.ts). Expired bans and mutes are not returned (checked at use).
  // `events` (webhooks) are written in the same transaction, only when the change happened.
  /** The user's role in the room; null when they are not a member. */
  memberRole(room: string, userId: string): Promise<RoomRole | null>;
  /** Sets a member's role; false when they are not a member. */
  setMemberRole(room: string, userId: string, role: 'admin' | 'member', events?: readonly OutboxEvent[]): Promise<boolean>;
  /** Records (or replaces) a ban; `room` null bans from the server. */
  putBan(ban: BanRecord, events?: readonly OutboxEvent[]): Promise<void>;
  /** The active ban, or null (none, or expired by `now`). */
  getBan(room: string | null, userId: string, now: number): Promise<BanRecord | null>;
  /** Lifts a ban; false when there was no active one. */
  deleteBan(room: string | null, userId: string, now: number, events?: readonly OutboxEvent[]): Promise<boolean>;
  /** Active bans of a room (or, with null, server-wide), oldest first. */
  listBans(room: string | null, now: number): Promise<BanRecord[]>;
  putMute(mute: MuteRecord, events?: readonly OutboxEvent[]): Promise<void>;
  getMute(room: string, userId: string, now: number): Promise<MuteRecord | null>;
  deleteMute(room: string, userId: string, now: number, events?: readonly OutboxEvent[]): Promise<boolean>;
  listMutes(room: string, now: number): Promise<MuteRecord[]>;
  /** The sender's role, active mute and the room's slow mode, in one read (null: no such room). */
  postGate(room: string, userId: string, now: number): Promise<PostGate | null>;
}
