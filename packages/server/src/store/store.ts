import type { RoomInfo, UserRef } from '@roomcast/protocol';

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
}

/** A room the user belongs to, with their read cursor (and, for direct rooms, the other user). */
export interface MembershipRecord extends RoomRecord {
  readSeq: number;
  peer?: UserRef;
}

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
}

export interface AppendResult {
  room: string;
  seq: number;
  ts: number;
  id: string;
  /** true when this was a retry of an earlier append: nothing new was stored. */
  duplicate: boolean;
}

export interface StoredMessage {
  room: string;
  seq: number;
  id: string;
  from: UserRef;
  text?: string;
  meta?: Record<string, unknown>;
  binary?: { mime: string; name?: string; size: number };
  ts: number;
}

export type AddMemberResult = 'added' | 'already' | 'full';

/** A position in a room list ordered by `lastSeq` descending, then id: the last room of a page. */
export interface RoomCursor {
  lastSeq: number;
  id: string;
}

export interface Store {
  /** Creates or upgrades the schema. */
  migrate(): Promise<void>;
  /** Resolves when the store answers a trivial query (readiness). */
  ping(): Promise<void>;
  /** Waits for pending appends, then releases the connection. */
  close(): Promise<void>;

  upsertUser(user: UserRef): Promise<void>;
  getUser(id: string): Promise<UserRef | null>;

  /** Creates a room; resolves false when the id is taken. */
  createRoom(room: NewRoom): Promise<boolean>;
  getRoom(id: string): Promise<RoomRecord | null>;
  updateRoom(id: string, patch: { title?: string | null; capacity?: number | null }): Promise<RoomRecord | null>;
  /** Deletes a room with its members and messages. */
  deleteRoom(id: string): Promise<void>;
  /** Ephemeral rooms left over from a crash (embedded mode cleans them at start). */
  deleteEphemeralRooms(): Promise<number>;
  /** Public, non-direct rooms, newest activity first (lastSeq descending, then id). */
  publicRooms(limit: number): Promise<RoomRecord[]>;
  countRooms(): Promise<number>;
  /** Rooms the user owns (created), ephemeral ones included. */
  countOwnedRooms(userId: string): Promise<number>;

  /** Adds a member unless the room is at capacity (checked atomically). */
  addMember(room: string, userId: string, capacity: number | null, now: number): Promise<AddMemberResult>;
  removeMember(room: string, userId: string): Promise<boolean>;
  isMember(room: string, userId: string): Promise<boolean>;
  listMembers(room: string): Promise<MemberRecord[]>;
  /**
   * The rooms the user belongs to, newest activity first (lastSeq descending, then id): all of
   * them, or a page of at most `limit` after `after`.
   */
  memberRooms(userId: string, page?: { limit: number; after?: RoomCursor | undefined }): Promise<MembershipRecord[]>;
  /** Moves the read cursor forward only; returns the cursor after the move. */
  setReadSeq(room: string, userId: string, seq: number): Promise<number>;

  /** Stores a message (or, for ephemeral rooms, only assigns its seq). Group-committed. */
  append(input: AppendInput): Promise<AppendResult>;
  /** Messages with seq > since, ascending, at most limit. */
  messagesAfter(room: string, since: number, limit: number): Promise<StoredMessage[]>;
  /** The newest messages with seq < before (all when before is null), ascending, at most limit. */
  messagesBefore(room: string, before: number | null, limit: number): Promise<StoredMessage[]>;
  getBlob(room: string, seq: number): Promise<BinaryPayload | null>;
  /** Forgets idempotency keys older than the given time. */
  pruneDedup(olderThan: number): Promise<number>;

  /**
   * A named secret shared by every node: `candidate` is stored unless one exists already, and
   * the stored one is returned (the first node to start decides).
   */
  sharedSecret(name: string, candidate: string): Promise<string>;
}
