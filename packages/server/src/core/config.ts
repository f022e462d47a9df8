/** Settings the chat core needs; `src/config.ts` builds them from flags and environment. */
export interface ChatConfig {
  /** Longest `text`, in characters (UTF-16 code units). */
  maxText: number;
  /** Largest binary payload, in bytes. */
  maxBinary: number;
  /** Frames a second per connection (0 = unlimited); bursts of twice that are allowed. */
  ratePerSec: number;
  /** WebSocket ping interval, ms; also announced in `welcome`. */
  heartbeatMs: number;
  /** A connection whose unsent bytes pass this is a slow consumer and is closed with 1013. */
  sendBufferLimit: number;
  /** Messages sent on `join` without `since` or `history`. */
  historyDefault: number;
  /** Largest `meta`, as JSON bytes. */
  maxMetaBytes: number;
  /** How long a client message id is remembered for idempotent retries, ms. */
  dedupWindowMs: number;
  /** Whether guests may create private rooms. */
  guestsCreatePrivate: boolean;
  /** Messages a second per user over all their connections and nodes (0 = no limit). */
  userRate: number;
  /**
   * Frames a reconnecting user may send beyond `ratePerSec` right after `welcome`, so a queued
   * outbox goes out at once; refilled over a minute, per user (0 = off). See ResumeBudgets.
   */
  resumeBurst: number;
  /** A connection that leaves queued data untaken this long is a slow consumer, ms. */
  sendTimeoutMs: number;
  /** Rooms one user may own at a time (0 = no limit; admins are exempt). */
  maxRoomsPerUser: number;
  /** Invites one user may send a minute (0 = no limit). */
  inviteRate: number;
  /** Rooms listed in `welcome`; more are paged with `rooms {cursor}`. */
  welcomeRooms: number;
  /** How long after sending an author may edit or unsend, ms (0 = always). */
  editWindowMs: number;
  /** Days messages are kept in rooms without their own retention (0 = forever). */
  retentionDays: number;
  /** How long a user's last connection may be gone before their leave is announced, ms. */
  presenceGraceMs: number;
  /** Searches one user may run a minute (0 = no limit). */
  searchRate: number;
  /** Deepest nesting of objects and arrays accepted in `meta`. */
  maxMetaDepth: number;
}

export const DEFAULT_CHAT_CONFIG: ChatConfig = {
  maxText: 4000,
  maxBinary: 1024 * 1024,
  ratePerSec: 20,
  heartbeatMs: 25_000,
  sendBufferLimit: 1024 * 1024,
  historyDefault: 50,
  maxMetaBytes: 2048,
  dedupWindowMs: 24 * 60 * 60 * 1000,
  guestsCreatePrivate: true,
  userRate: 0,
  resumeBurst: 200,
  sendTimeoutMs: 10_000,
  maxRoomsPerUser: 100,
  inviteRate: 30,
  welcomeRooms: 200,
  maxMetaDepth: 8,
  editWindowMs: 24 * 60 * 60 * 1000,
  retentionDays: 0,
  presenceGraceMs: 5000,
  searchRate: 30,
};
