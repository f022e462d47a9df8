import type { UserRef } from '@roomcast/protocol';
import type { Broker, BrokerHandler, BrokerMessage, PresenceChange } from './broker.js';
import { TokenBucket } from '../core/limits.js';

/**
 * What several in-process nodes share. Embedded mode has exactly one node on it; tests put two or
 * more on one bus to exercise the cross-node paths without Redis.
 */
export class MemoryBus {
  // Arrays, not Sets: a bus has one node in embedded mode (a few in tests), and these exist per
  // room and per user, so a small array saves ~100 bytes per connection over a Set.
  readonly subscribers = new Map<string, Array<{ node: MemoryBroker; handler: BrokerHandler }>>();
  /** room → user id → (user, nodes where the user is online in the room). */
  readonly presence = new Map<string, Map<string, { user: UserRef; nodes: MemoryBroker[] }>>();
  /** Per-user message buckets, with the time each was last used (idle ones are dropped). */
  readonly buckets = new Map<string, { bucket: TokenBucket; used: number }>();
}

const IDLE_BUCKET_MS = 60_000;

/** The in-process Broker. Publishing delivers synchronously to the other nodes on the bus. */
export class MemoryBroker implements Broker {
  readonly available = true;

  constructor(private readonly bus: MemoryBus = new MemoryBus()) {}

  async subscribe(room: string, handler: BrokerHandler): Promise<void> {
    let subs = this.bus.subscribers.get(room);
    if (!subs) this.bus.subscribers.set(room, (subs = []));
    const mine = subs.find((s) => s.node === this);
    if (mine) mine.handler = handler;
    else subs.push({ node: this, handler });
  }

  async unsubscribe(room: string): Promise<void> {
    this.dropSubscription(room);
  }

  publish(message: BrokerMessage): void {
    const subs = this.bus.subscribers.get(message.room);
    if (!subs) return;
    for (const { node, handler } of subs) if (node !== this) handler(message);
  }

  async presenceAdd(room: string, user: UserRef): Promise<PresenceChange> {
    let users = this.bus.presence.get(room);
    if (!users) this.bus.presence.set(room, (users = new Map()));
    let entry = users.get(user.id);
    const changed = entry === undefined;
    if (!entry) users.set(user.id, (entry = { user, nodes: [] }));
    entry.user = user;
    if (!entry.nodes.includes(this)) entry.nodes.push(this);
    return { changed, online: users.size };
  }

  async presenceRemove(room: string, userId: string): Promise<PresenceChange> {
    const users = this.bus.presence.get(room);
    const entry = users?.get(userId);
    if (!users || !entry) return { changed: false, online: users?.size ?? 0 };
    entry.nodes = entry.nodes.filter((n) => n !== this);
    if (entry.nodes.length > 0) return { changed: false, online: users.size };
    users.delete(userId);
    if (users.size === 0) this.bus.presence.delete(room);
    return { changed: true, online: users.size };
  }

  async presenceList(room: string): Promise<UserRef[]> {
    return [...(this.bus.presence.get(room)?.values() ?? [])].map((e) => e.user);
  }

  async presenceCounts(rooms: string[]): Promise<Map<string, number>> {
    return new Map(rooms.map((r) => [r, this.bus.presence.get(r)?.size ?? 0]));
  }

  async takeUserToken(userId: string, ratePerSec: number): Promise<boolean> {
    const now = Date.now();
    let entry = this.bus.buckets.get(userId);
    if (!entry) {
      // A full bucket is what a forgotten idle one would hold by now, so dropping idle ones is exact.
      if (this.bus.buckets.size > 10_000) {
        for (const [id, e] of this.bus.buckets) if (now - e.used > IDLE_BUCKET_MS) this.bus.buckets.delete(id);
      }
      entry = { bucket: new TokenBucket(ratePerSec, ratePerSec * 2, now), used: now };
      this.bus.buckets.set(userId, entry);
    }
    entry.used = now;
    return entry.bucket.take(now);
  }

  async ping(): Promise<void> {}

  private dropSubscription(room: string): void {
    const subs = this.bus.subscribers.get(room);
    if (!subs) return;
    const rest = subs.filter((s) => s.node !== this);
    if (rest.length === 0) this.bus.subscribers.delete(room);
    else this.bus.subscribers.set(room, rest);
  }

  async close(): Promise<void> {
    for (const room of [...this.bus.subscribers.keys()]) {
      this.dropSubscription(room);
    }
    for (const [room, users] of this.bus.presence) {
      for (const [id, e] of users) {
        e.nodes = e.nodes.filter((n) => n !== this);
        if (e.nodes.length === 0) users.delete(id);
      }
      if (users.size === 0) this.bus.presence.delete(room);
    }
  }
}
