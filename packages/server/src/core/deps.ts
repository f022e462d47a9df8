import type { Broker } from '../broker/broker.js';
import type { Authorize } from './authorize.js';
import type { Store } from '../store/store.js';
import type { ChatConfig } from './config.js';
import type { Delivery } from './delivery.js';
import type { PublicRoomDirectory } from './directory.js';
import type { Logger } from './logger.js';
import type { Membership } from './membership.js';
import type { Moderation } from './moderation-types.js';
import type { Quotas } from './quotas.js';
import type { SessionRegistry } from './registry.js';
import type { Sessions } from './sessions.js';
import type { ChatStats } from './stats.js';
import type { Work } from './work.js';

// The services a request handler may use. Each handler takes a Pick of this record, so its
// signature says what it touches (`leave` needs store, membership and delivery; `ping` the clock).
// Types only: this file is imported by the handlers and by core.ts, which builds the record.

/** A verified token, as core needs it for an in-band refresh. */
export interface VerifiedToken {
  sub: string;
  exp: number;
  rooms: string[];
  admin: boolean;
}

export interface HandlerDeps {
  readonly config: ChatConfig;
  readonly log: Logger;
  readonly now: () => number;
  readonly stats: ChatStats;
  readonly store: Store;
  readonly broker: Broker;
  readonly work: Work;
  readonly registry: SessionRegistry;
  readonly quotas: Quotas;
  readonly directory: PublicRoomDirectory;
  readonly delivery: Delivery;
  readonly membership: Membership;
  readonly sessions: Sessions;
  /** Roles, bans, mutes, slow mode (room-moderation.ts); `core.moderation` for the server API. */
  readonly moderation: Moderation;
  /** Verifies a JWT for `auth` refreshes; absent when the server accepts guests only. */
  readonly verifyToken: ((token: string) => Promise<VerifiedToken>) | undefined;
  /** The application's veto on create / join / send / history (library mode); absent: none. */
  readonly authorize: Authorize | undefined;
}
