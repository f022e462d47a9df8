import type { UserRef } from '@roomcast/protocol';
import type { Broker, BrokerHandler, BrokerMessage, PresenceChange, PresencePage, PresencePageOptions } from './broker.js';
import { decodePresenceCursor, encodePresenceCursor } from './presence-cursor.js';
import { TokenBucket } from '../core/limits.js';

/**
 * What several in-process nodes share. Embedded mode has exactly one node on it; tests put two or
 * more on one bus to exercise the cross-node paths without Redis.
 */
export class MemoryBus {
  // Arrays, not Sets: a bus has one node in embedded mode (a few in tests), and these exist per
  // room and per user, so a small array saves ~100 bytes per connection over a Set.
  readonly subscribers = new Map<string, Array<{ node: MemoryBroker; handler: BrokerHandler }>>();
  /** Who is online in each room (or user key), on which nodes. */
  readonly presence = new Map<string, Members>();
  /** Per-user message buckets, with the time each was last used (idle ones are dropped). */
  readonly buckets = new Map<string, { bucket: TokenBucket; used: number }>();
  /** Orders users by when they came online (a counter: two adds in one ms keep their order). */
  onlineSeq = 0;
}

const IDLE_BUCKET_MS = 60_000;

/** A user online in a room, and the nodes where they are. */
interface PresenceEntry {
  user: UserRef;
  nodes: MemoryBroker[];
  /** When they came online (MemoryBus.onlineSeq); a Map keeps entries in this order too. */
  at: number;
}

/**
 * A room's online users: a lone entry is kept bare, since each user's own presence key (and many
 * a room) has exactly one, and a Map per connection costs ~250 bytes.
 */
type Members = PresenceEntry | Map<string, PresenceEntry>;

function findMember(m: Members | undefined, userId: string): PresenceEntry | undefined {
  if (m === undefined) return undefined;
  if (m instanceof Map) return m.get(userId);
  return m.user.id === userId ? m : undefined;
}

function countMembers(m: Members | undefined): number {
  return m === undefined ? 0 : m instanceof Map ? m.size : 1;
}

function listMembers(m: Members | undefined): PresenceEntry[] {
  return m === undefined ? [] : m instanceof Map ? [...m.values()] : [m];
}

/** The in-process Broker. Publishing delivers synchronously to the other nodes on the bus. */
export class MemoryBroker implements Broker {
  readonly available = true;

  constructor(private readonly bus: MemoryBus = new MemoryBus()) {}

  async subscribe(room: string, handler: BrokerHandler): Promise<void> {
    const subs = this.bus.subscribers.get(room);
    const mine = subs?.find((s) => s.node === this);
    if (mine) mine.handler = handler;
    else if (subs) subs.push({ node: this, handler });
    // A literal, not a push onto []: a first push reserves room for 17 elements.
    else this.bus.subscribers.set(room, [{ node: this, handler }]);
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
    const members = this.bus.presence.get(room);
    let entry = findMember(members, user.id);
    const changed = entry === undefined;
    if (!entry) {
      entry = { user, nodes: [this], at: ++this.bus.onlineSeq };
      if (members === undefined) this.bus.presence.set(room, entry);
      else if (members instanceof Map) members.set(user.id, entry);
      else this.bus.presence.set(room, new Map([[members.user.id, members], [user.id, entry]]));
    }
    entry.user = user;
    if (!entry.nodes.includes(this)) entry.nodes.push(this);
    return { changed, online: countMembers(this.bus.presence.get(room)) };
  }

  async presenceRemove(room: string, userId: string): Promise<PresenceChange> {
    const members = this.bus.presence.get(room);
    const entry = findMember(members, userId);
    if (!entry) return { changed: false, online: countMembers(members) };
    entry.nodes = entry.nodes.filter((n) => n !== this);
    if (entry.nodes.length > 0) return { changed: false, online: countMembers(members) };
    this.forget(room, userId);
    return { changed: true, online: countMembers(this.bus.presence.get(room)) };
  }

  async presencePage(room: string, opts: PresencePageOptions): Promise<PresencePage> {
    const members = this.bus.presence.get(room);
    const online = countMembers(members);
    if (opts.among) {
      const users = opts.among.map((id) => findMember(members, id)?.user).filter((u): u is UserRef => u !== undefined);
      return { users, online };
    }
    // Entries are in the order they came online (insertion order), so the page starts after the
    // cursor's position. O(online) to find it: embedded mode has one process's connections.
    const after = opts.cursor === undefined ? null : decodePresenceCursor(opts.cursor);
    const page: PresenceEntry[] = [];
    let more = false;
    for (const e of listMembers(members)) {
      if (after && (e.at < after.at || (e.at === after.at && e.user.id <= after.id))) continue;
      if (page.length === opts.limit) {
        more = true;
        break;
      }
      page.push(e);
    }
    const last = page.at(-1);
    return { users: page.map((e) => e.user), online, ...(more && last ? { next: encodePresenceCursor(last.at, last.user.id) } : {}) };
  }

  async presenceCounts(rooms: string[]): Promise<Map<string, number>> {
    return new Map(rooms.map((r) => [r, countMembers(this.bus.presence.get(r))]));
  }

  /** Removes a user from a room's presence, and the room once nobody is left. */
  private forget(room: string, userId: string): void {
    const members = this.bus.presence.get(room);
    if (members instanceof Map) {
      members.delete(userId);
      if (members.size === 0) this.bus.presence.delete(room);
    } else if (members?.user.id === userId) {
      this.bus.presence.delete(room);
    }
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
    for (const [room, members] of [...this.bus.presence]) {
      for (const e of listMembers(members)) {
        e.nodes = e.nodes.filter((n) => n !== this);
        if (e.nodes.length === 0) this.forget(room, e.user.id);
      }
    }
  }
}
