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

/** Invite buckets kept before idle ones are swept. */
const MAX_KEPT = 10_000;

/** What one account may make the server keep or do: messages a second, rooms owned, invitations. */
export class Quotas {
  /** Invites and new direct conversations per user on this node (--invite-rate a minute). */
  private readonly inviteBuckets = new Map<string, { bucket: TokenBucket; used: number }>();

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
   * The limit on invites and new direct conversations (--invite-rate a minute): what keeps one
   * account from filling strangers' room lists. Kept per node.
   */
  takeInvite(user: User): void {
    const perMinute = this.d.config.inviteRate;
    if (perMinute <= 0 || user.admin) return;
    const now = this.d.now();
    let entry = this.inviteBuckets.get(user.id);
    if (!entry) {
      // A bucket idle for a minute is full again, so forgetting it changes nothing.
      if (this.inviteBuckets.size >= MAX_KEPT) {
        for (const [id, e] of this.inviteBuckets) if (now - e.used > 60_000) this.inviteBuckets.delete(id);
      }
      this.inviteBuckets.set(user.id, (entry = { bucket: new TokenBucket(perMinute / 60, perMinute, now), used: now }));
    }
    entry.used = now;
    if (!entry.bucket.take(now)) {
      this.d.stats.rateLimited++;
      throw new ChatError('rate_limited', `too many invitations: the limit is ${perMinute} a minute (invites and new direct conversations); try again later`);
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
