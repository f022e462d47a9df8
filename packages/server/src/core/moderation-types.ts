import type { RoomInfo } from '@roomcast/protocol';
import type { BanRecord, MuteRecord, RoomRole } from '../store/store.js';
import type { User } from './session.js';

// The moderation service's shape (contract C of issue 16), apart from its implementation
// (room-moderation.ts) so deps.ts and core.ts can name it without an import cycle.

export type { BanRecord, MuteRecord, RoomRole };

/** Who moderates: a user (with whether they are a server admin), or the server API. */
export type ModerationActor = { kind: 'user'; user: { id: string; name: string }; admin: boolean } | { kind: 'system' };

export interface RoomModeration {
  setRole(actor: ModerationActor, room: string, user: string, role: 'admin' | 'member'): Promise<void>;
  ban(actor: ModerationActor, room: string, user: string, opts?: { until?: number | null; reason?: string }): Promise<BanRecord>;
  unban(actor: ModerationActor, room: string, user: string): Promise<boolean>;
  mute(actor: ModerationActor, room: string, user: string, opts?: { until?: number | null }): Promise<MuteRecord>;
  unmute(actor: ModerationActor, room: string, user: string): Promise<boolean>;
  bans(room: string): Promise<BanRecord[]>;
  mutes(room: string): Promise<MuteRecord[]>;
  /** Server-wide: closes the user's connections on every node and refuses their tokens until lifted. System only. */
  banUser(user: string, opts?: { until?: number | null; reason?: string }): Promise<BanRecord>;
  unbanUser(user: string): Promise<boolean>;
  userBan(user: string): Promise<BanRecord | null>;
}

/** What the socket's ops ask of moderation besides the contract's actions. */
export interface ModerationChecks {
  /** Throws `banned` while the user is banned from the room (join, invite). */
  refuseBanned(room: RoomInfo, userId: string): Promise<void>;
  /** Throws `forbidden` unless the user is the room's owner, one of its admins or a server admin. */
  requireModerator(user: User, room: RoomInfo, action: string): Promise<void>;
  /** Whether the user is the room's owner, one of its admins or a server admin. */
  isModerator(user: User, room: RoomInfo): Promise<boolean>;
  /** A kick by the socket's `kick` op or the API: the kick's effects and its `moderation` event. */
  kick(actor: ModerationActor, room: RoomInfo, user: string): Promise<void>;
}

export type Moderation = RoomModeration & ModerationChecks;
