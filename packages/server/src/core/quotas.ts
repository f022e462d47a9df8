import type { Broker } from '../broker/broker.js';
import type { Store } from '../store/store.js';
import type { ChatConfig } from './config.js';
import { ChatError } from './errors.js';
import { TokenBucket } from './limits.js';
import type { User } from './session.js';
import type { ChatStats } from './stats.js';

export interface QuotaDeps {
  store: Store;
  broker: Broker;
  config: ChatConfig;
  stats: ChatStats;
  now: () => number;
}

/** Buckets kept per kind before idle ones are swept. */
const MAX_KEPT = 10_000;

/** Per-user token buckets of one kind, refilled over a minute; kept per node. */
class MinuteBuckets {
  private readonly buckets = new Map<string, { bucket: TokenBucket; used: number }>();

  /** Takes one of the user's `perMinute` tokens; false when they have none left. */
  take(userId: string, perMinute: number, now: number): boolean {
    let entry = this.buckets.get(userId);
    if (!entry) {
      // A bucket idle for a minute is full again, so forgetting it changes nothing.
      if (this.buckets.size >= MAX_KEPT) {
        for (const [id, e] of this.buckets) if (now - e.used > 60_000) this.buckets.delete(id);
      }
      this.buckets.set(userId, (entry = { bucket: new TokenBucket(perMinute / 60, perMinute, now), used: now }));
    }
    entry.used = now;
    return entry.bucket.take(now);
  }
}

/** What one account may make the server keep or do: messages a second, rooms owned, invitations, searches. */
export class Quotas {
  /** Invites, invite links and new direct conversations per user on this node (--invite-rate a minute). */
  private readonly invites = new MinuteBuckets();
  /** Searches per user on this node (--search-rate a minute). */
  private readonly searches = new MinuteBuckets();

  constructor(private readonly d: QuotaDeps) {}

  /** Whether --user-rate is on (checking first spares the message path an await). */
  get messagesLimited(): boolean {
    return this.d.config.userRate > 0;
  }

  /** The per-user message limit (--user-rate), shared by all the user's connections on every node. */
  async takeMessage(userId: string): Promise<void> {
    const rate = this.d.config.userRate;
    if (rate <= 0) return;
    if (!(await this.d.broker.takeUserToken(userId, rate))) {
      this.d.stats.rateLimited++;
      throw new ChatError('rate_limited', `too many messages from your account: the limit is ${rate} a second over all your connections; slow down and retry`);
    }
  }

  /**
   * The limit on invites, invite links (`share`) and new direct conversations (--invite-rate a
   * minute): what keeps one account from filling strangers' room lists, or minting links in a
   * flood. Kept per node.
   */
  takeInvite(user: User): void {
    const perMinute = this.d.config.inviteRate;
    if (perMinute <= 0 || user.admin) return;
    if (!this.invites.take(user.id, perMinute, this.d.now())) {
      this.d.stats.rateLimited++;
      throw new ChatError('rate_limited', `too many invitations: the limit is ${perMinute} a minute (invites, invite links and new direct conversations); try again later`);
    }
  }

  /**
   * The limit on searches (--search-rate a minute): a search may read every message of the
   * user's rooms, so one account must not keep the database busy. Kept per node; admins are exempt.
   */
  takeSearch(user: User): void {
    const perMinute = this.d.config.searchRate;
    if (perMinute <= 0 || user.admin) return;
    if (!this.searches.take(user.id, perMinute, this.d.now())) {
      this.d.stats.rateLimited++;
      const wait = Math.ceil(60 / perMinute);
      throw new ChatError('rate_limited', `too many searches: the limit is ${perMinute} a minute; wait ${wait} second${wait === 1 ? '' : 's'} and search again`);
    }
  }

  /** Rooms a user owns (--max-rooms-per-user); admins are exempt. */
  async checkRoomQuota(user: User): Promise<void> {
    const quota = this.d.config.maxRoomsPerUser;
    if (quota <= 0 || user.admin) return;
    if ((await this.d.store.countOwnedRooms(user.id)) >= quota) {
      throw new ChatError('forbidden', `you own ${quota} rooms, the most this server allows one user; delete one before creating another`);
    }
  }
}
