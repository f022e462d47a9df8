import { HashRing } from './hash-ring.js';
import { LinkUnavailableError, whereOf } from './redis-link-common.js';
import { hashTagOf } from './redis-keys.js';
import { StandaloneLink, type LinkOptions } from './redis-link.js';
import type { RedisArg, RedisLink, RedisLinkEvents, RedisScript } from './redis-types.js';

// Several independent Redis servers as one RedisLink: each key and channel goes to the shard
// its hash tag maps to on a consistent-hash ring, so everything of one room (its channel,
// presence keys, scripts) lives on one server, and adding a server moves only ~1/(n+1) of the
// rooms. The link is available only while every shard is: a room on a lost shard cannot be
// served, and the broker's recovery (onUp) then covers all shards at once.

/** A shard's identity on the ring: where it is (host:port/db), not its place in the list. */
export function shardId(url: string): string {
  return `${whereOf(url)}/${new URL(url).pathname.replace(/^\//, '') || '0'}`;
}

export class ShardedLink implements RedisLink {
  private readonly shards: StandaloneLink[];
  private readonly ring: HashRing<StandaloneLink>;
  private readonly downs = new Set<StandaloneLink>();
  private readonly subscribed = new Set<string>();

  constructor(urls: string[], opts: LinkOptions, private readonly events: RedisLinkEvents) {
    if (urls.length === 0) throw new Error('sharded Redis needs at least one URL (--redis)');
    const byId = new Map<string, StandaloneLink>();
    this.shards = urls.map((url) => {
      const id = shardId(url);
      if (byId.has(id)) throw new Error(`the Redis URL ${id} is listed twice in --redis; list each shard once`);
      const link: StandaloneLink = new StandaloneLink(url, opts, {
        onMessage: (channel, payload) => this.events.onMessage(channel, payload),
        onError: (err) => this.events.onError?.(err),
        onDown: (reason) => this.shardDown(link, `Redis shard ${id}: ${reason}`),
        onUp: () => this.shardUp(link),
      });
      byId.set(id, link);
      return link;
    });
    this.ring = new HashRing(byId);
  }

  private shardDown(link: StandaloneLink, reason: string): void {
    const wasUp = this.downs.size === 0;
    this.downs.add(link);
    if (wasUp) this.events.onDown?.(reason);
  }

  private shardUp(link: StandaloneLink): void {
    if (!this.downs.delete(link) || this.downs.size > 0) return;
    this.events.onUp?.();
  }

  /** The shard holding `key` (or a channel): by its hash tag, as Redis Cluster would. */
  shardOf(key: string): StandaloneLink {
    return this.ring.get(hashTagOf(key));
  }

  get available(): boolean {
    return this.downs.size === 0 && this.shards.every((s) => s.available);
  }

  get channels(): ReadonlySet<string> {
    return this.subscribed;
  }

  async connect(): Promise<void> {
    const results = await Promise.allSettled(this.shards.map((s) => s.connect()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.allSettled(this.shards.map((s) => s.close()));
      throw failed.reason;
    }
  }

  script(s: RedisScript, keys: string[], args: RedisArg[]): Promise<unknown> {
    const first = keys[0];
    if (first === undefined) return Promise.reject(new Error(`script ${s.name} declares no key, so no shard can be chosen for it`));
    if (!this.available) return Promise.reject(new LinkUnavailableError());
    return this.shardOf(first).script(s, keys, args);
  }

  command(name: string, key: string, args: RedisArg[]): Promise<unknown> {
    if (!this.available) return Promise.reject(new LinkUnavailableError());
    return this.shardOf(key).command(name, key, args);
  }

  publish(channel: string, payload: Buffer): void {
    this.shardOf(channel).publish(channel, payload);
  }

  async subscribe(channel: string): Promise<void> {
    this.subscribed.add(channel);
    await this.shardOf(channel).subscribe(channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.subscribed.delete(channel);
    await this.shardOf(channel).unsubscribe(channel);
  }

  async ping(): Promise<void> {
    if (!this.available) throw new LinkUnavailableError();
    await Promise.all(this.shards.map((s) => s.ping()));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.shards.map((s) => s.close()));
  }
}
