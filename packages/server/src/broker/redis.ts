import { randomBytes } from 'node:crypto';
import type { UserRef } from '@roomcast/protocol';
import { USER_CHANNEL_PREFIX, type Broker, type BrokerHandler, type BrokerMessage, type PresenceChange, type PresencePage, type PresencePageOptions, type PresenceResync } from './broker.js';
import { decodeEnvelope, encodeEnvelope } from './redis-envelope.js';
import { RedisKeys } from './redis-keys.js';
import { RedisPresence } from './redis-presence.js';
import type { RedisLink, RedisLinkEvents, RedisScript } from './redis-types.js';

// The cluster broker on Redis, composed of a RedisLink (one server, shards or a Redis Cluster:
// health, reconnects, resubscription), presence (redis-presence.ts) and the envelope.
// - Fan-out: one pub/sub channel per room, named by RedisKeys under the cluster's prefix; a node
//   subscribes only to rooms with local members (and to its users' channels). Pub/sub is
//   at-most-once: the core notices seq gaps and backfills from the store.
// - Every envelope carries the cluster id: two clusters sharing a Redis (pub/sub ignores the db
//   number) never deliver each other's messages, whatever their prefixes.

export interface RedisBrokerOptions {
  /** Builds the link with the broker's event handlers (redis-connect.ts createRedisLink). */
  link: (events: RedisLinkEvents) => RedisLink;
  /** Key and channel prefix (--redis-prefix), e.g. `rc:`. */
  prefix: string;
  /** This node's id; the instance id adds a random part per process start. */
  nodeId: string;
  /** The cluster's id (shared by every node through the store). */
  clusterId: string;
  /** Presence lease, ms: how long a silent instance's users still count as online. */
  leaseMs?: number;
  /** Redis answers again after a down (channels are subscribed again): the core catches up. */
  onRecover?: () => void;
  onError?: (err: Error) => void;
  /** A message on one of our channels that another cluster sent (or that does not decode). */
  onForeign?: (clusterId: string) => void;
}

// A token bucket in a hash: ARGV[1] rate per second, ARGV[2] burst. Uses Redis' clock, so every
// node agrees. Returns 1 when a token was taken.
const TAKE_TOKEN: RedisScript = {
  name: 'takeToken',
  keys: 1,
  lua: `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local ok = 0
if tokens >= 1 then tokens = tokens - 1; ok = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return ok`,
};

export class RedisBroker implements Broker {
  /** One per process start: a restarted node with the same --node-id is a new instance. */
  readonly instanceId: string;
  private readonly keys: RedisKeys;
  private readonly link: RedisLink;
  private readonly presence: RedisPresence;
  /** Redis channel → the broker's room name (a room id, or `~u:ID` for a user) and its handler. */
  private readonly subs = new Map<string, { room: string; handler: BrokerHandler }>();
  private closed = false;

  constructor(private readonly opts: RedisBrokerOptions) {
    this.instanceId = `${opts.nodeId}~${randomBytes(6).toString('base64url').slice(0, 6)}`;
    this.keys = new RedisKeys(opts.prefix);
    this.link = opts.link({
      onMessage: (channel, payload) => this.onMessage(channel, payload),
      onDown: (reason) => opts.onError?.(new Error(`lost Redis (${reason}); sends are refused with "unavailable" until it answers again`)),
      onUp: () => {
        if (!this.closed) opts.onRecover?.();
      },
      onError: (err) => opts.onError?.(err),
    });
    this.presence = new RedisPresence({
      runner: this.link,
      keys: this.keys,
      instanceId: this.instanceId,
      leaseMs: opts.leaseMs ?? 15_000,
      ...(opts.onError ? { onError: opts.onError } : {}),
    });
  }

  /** Connects (a clear error when Redis cannot be used) and takes the presence lease. */
  async connect(): Promise<void> {
    await this.link.connect();
    await this.presence.start();
  }

  get available(): boolean {
    return this.link.available;
  }

  /** The Redis channel of a broker room name. */
  private channelOf(room: string): string {
    return room.startsWith(USER_CHANNEL_PREFIX) ? this.keys.userChannel(room.slice(USER_CHANNEL_PREFIX.length)) : this.keys.roomChannel(room);
  }

  private onMessage(channel: string, payload: Buffer): void {
    const sub = this.subs.get(channel);
    if (!sub) return;
    const decoded = decodeEnvelope(sub.room, payload);
    if (!decoded || decoded.cluster !== this.opts.clusterId) {
      this.opts.onForeign?.(decoded ? decoded.cluster : '(unreadable)');
      return;
    }
    if (decoded.origin === this.instanceId) return;
    sub.handler(decoded.message);
  }

  async subscribe(room: string, handler: BrokerHandler): Promise<void> {
    const channel = this.channelOf(room);
    this.subs.set(channel, { room, handler });
    await this.link.subscribe(channel);
  }

  async unsubscribe(room: string): Promise<void> {
    const channel = this.channelOf(room);
    this.subs.delete(channel);
    await this.link.unsubscribe(channel);
  }

  publish(message: BrokerMessage): void {
    this.link.publish(this.channelOf(message.room), encodeEnvelope(this.opts.clusterId, this.instanceId, message));
  }

  presenceAdd(room: string, user: UserRef): Promise<PresenceChange> {
    return this.presence.add(room, user);
  }

  presenceRemove(room: string, userId: string): Promise<PresenceChange> {
    return this.presence.remove(room, userId);
  }

  presencePage(room: string, opts: PresencePageOptions): Promise<PresencePage> {
    return this.presence.page(room, opts);
  }

  presenceCounts(rooms: string[]): Promise<Map<string, number>> {
    return this.presence.counts(rooms);
  }

  sweep(): Promise<PresenceResync[]> {
    return this.presence.sweep();
  }

  resyncPresence(): Promise<PresenceResync[]> {
    return this.presence.resync();
  }

  async takeUserToken(userId: string, ratePerSec: number): Promise<boolean> {
    return (await this.link.script(TAKE_TOKEN, [this.keys.rate(userId)], [ratePerSec, ratePerSec * 2])) === 1;
  }

  ping(): Promise<void> {
    return this.link.ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Leave nothing behind: other nodes see our users go at once, not after the lease.
    await this.presence.stop(); // while Redis is away its commands fail at once; the lease lapses
    this.subs.clear();
    await this.link.close();
  }
}
