import type { UserRef } from '@roomcast/protocol';

// The Broker port: fan-out between nodes and presence across them. The in-process broker serves
// embedded mode; the Redis broker (cluster mode) implements the same interface and contract suite.

/** A room event travelling between nodes; each node writes `data` as is to its local members. */
export interface BrokerMessage {
  room: string;
  /** The encoded frame. */
  data: Uint8Array;
  binary: boolean;
  /** For `msg` events: lets a receiving node notice a gap and backfill from the store. */
  seq?: number;
  /** Connection that must not receive it (the sender's own connection gets a reply instead). */
  exceptConn?: string;
  /** User whose connections must not receive it (typing indicators). */
  exceptUser?: string;
  /** A hint (typing) that a member with a backlog to get through may miss. */
  droppable?: boolean;
  /** Instead of a frame: an instruction for the receiving nodes (cross-node kick, leave, delete). */
  control?: ControlMessage;
}

/** Membership changes other nodes must apply to their own connections. */
export type ControlMessage =
  /**
   * The user left or was kicked: detach their connections; `notify` is sent to them first.
   * On the user's channel it names the room; on the room's channel (older nodes) the channel is it.
   */
  | { kind: 'drop-user'; user: string; room?: string; notify?: object }
  /** The room was deleted: detach every connection; members' other connections get `notify`. */
  /**
   * The room was deleted. On the room's channel it is the channel's room; on ROOMS_CHANNEL,
   * which every node hears, it names the room (its members' connections on nodes where nobody
   * joined it must forget their membership too: the id may be taken by a new room).
   */
  | { kind: 'drop-room'; room?: string; notify?: object }
  /** (On a user's channel) the user's connections start receiving `room` from seq `after` on. */
  | { kind: 'attach'; room: string; after: number }
  /**
   * (On a user's channel) an administrator disconnected the user: close their connections with
   * 4410, or with `code` and `reason` (a server-wide ban: 4403).
   */
  | { kind: 'disconnect'; user: string; code?: number; reason?: string };

export type BrokerHandler = (message: BrokerMessage) => void;

export interface PresenceChange {
  /** For add: no node had this user in the room before. For remove: no node has them now. */
  changed: boolean;
  /** Distinct users online in the room after the change. */
  online: number;
}

export interface PresencePageOptions {
  /** From a previous page's `next`. */
  cursor?: string;
  limit: number;
  among?: readonly string[];
}

export interface PresencePage {
  users: UserRef[];
  /** Distinct users online in the room. */
  online: number;
  next?: string;
}

/** Presence changes of one room found by a sweep or a resync, for the core to announce. */
export interface PresenceResync {
  room: string;
  joined: UserRef[];
  left: UserRef[];
  /** Distinct users online in the room after the change. */
  online: number;
}

export interface Broker {
  /** false while the broker's backend is unreachable: sends are refused with `unavailable`. */
  readonly available: boolean;
  /** Starts receiving the room's events from other nodes (called when it gets its first local member). */
  subscribe(room: string, handler: BrokerHandler): Promise<void>;
  unsubscribe(room: string): Promise<void>;
  /** Sends an event to the other nodes that have members in the room. */
  publish(message: BrokerMessage): void;

  /** This node has the user online in `room` (its first connection there). */
  presenceAdd(room: string, user: UserRef): Promise<PresenceChange>;
  /** This node no longer has the user online in `room`. */
  presenceRemove(room: string, userId: string): Promise<PresenceChange>;
  /**
   * A page of the users online in the room on any node, in the order they came online (first
   * first), and how many are online. `next` (opaque) continues after this page; absent on the
   * last one. With `among`, only those of these users who are online (a page of stored members
   * whose online flags are wanted; `cursor` and `limit` are ignored): O(among), not O(online).
   */
  presencePage(room: string, opts: PresencePageOptions): Promise<PresencePage>;
  /** Distinct online users per room, on any node. */
  presenceCounts(rooms: string[]): Promise<Map<string, number>>;

  /**
   * Takes one token from the user's message bucket (`ratePerSec`, bursts of twice that), shared
   * by all the user's connections on all nodes. false: over the limit.
   */
  takeUserToken(userId: string, ratePerSec: number): Promise<boolean>;

  /**
   * Forgets users of node instances that died (a lease that lapsed), a bounded amount per call;
   * returns who went offline per room, for the caller to announce (cluster brokers only). Cheap
   * when no instance died: the caller may run it often.
   */
  sweep?(): Promise<PresenceResync[]>;

  /**
   * After the broker's backend came back: puts this node's presence entries back exactly as the
   * node holds them now (re-adds what was lost, removes what was removed meanwhile); returns what
   * changed so the caller announces it (cluster brokers only).
   */
  resyncPresence?(): Promise<PresenceResync[]>;

  ping(): Promise<void>;
  close(): Promise<void>;
}

export const USER_CHANNEL_PREFIX = '~u:';

/** Channel of a user's own control messages. */
export const userChannel = (userId: string): string => `${USER_CHANNEL_PREFIX}${userId}`;

/** Presence key under which every connected user is kept, for "is this user online". */
export const ONLINE_USERS = '~online';

/** Pseudo-room whose channel every node subscribes: room deletions (one message, whatever the room's size). */
export const ROOMS_CHANNEL = '~rooms';
