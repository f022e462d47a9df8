// The seam between the Redis broker's parts: a RedisLink is "Redis" as the broker sees it,
// whether one server (redis-link.ts), independent shards on a hash ring, or a Redis Cluster.
// The broker (redis.ts) and presence (redis-presence.ts) only talk to this interface.

/** A Lua script; `keys` is how many of its arguments are keys (all in one hash slot). */
export interface RedisScript {
  name: string;
  lua: string;
  keys: number;
}

export type RedisArg = string | number | Buffer;

export interface RedisRunner {
  /**
   * Runs a script on the shard owning its keys (they share one hash tag). Rejects with
   * BrokerUnavailableError (code `unavailable`) when Redis is down or does not answer within
   * the command timeout; with the Redis error itself for a script error.
   */
  script(s: RedisScript, keys: string[], args: RedisArg[]): Promise<unknown>;
  /** One plain command (`SET`, `ZADD`, …) on the shard owning `key`; rejects as `script` does. */
  command(name: string, key: string, args: RedisArg[]): Promise<unknown>;
}

export interface RedisLinkEvents {
  /** A message on a channel this link subscribed. */
  onMessage(channel: string, payload: Buffer): void;
  /** Redis stopped answering (closed, or a heartbeat or command timed out): `available` is false now. */
  onDown?(reason: string): void;
  /**
   * Redis answers again after a down: channels are subscribed again (exactly the link's current
   * set) before this is called; the broker then puts its presence back and catches up.
   */
  onUp?(): void;
  onError?(err: Error): void;
}

export interface RedisLink extends RedisRunner {
  /** false from the first sign of trouble (within about one command timeout) until onUp. */
  readonly available: boolean;
  /**
   * Connects, checks it can work (AUTH, SELECT, a PING within the timeout), starts the
   * heartbeat. Rejects with an error whose message a person can act on: the wrong password
   * (WRONGPASS), a db index Redis does not have, no answer within N s.
   */
  connect(): Promise<void>;
  /** Fire and forget (at-most-once); a failure goes to onError. Sharded (SPUBLISH) on a Redis Cluster. */
  publish(channel: string, payload: Buffer): void;
  /** Adds the channel to the link's set and subscribes it (SSUBSCRIBE on a Redis Cluster). */
  subscribe(channel: string): Promise<void>;
  /** Removes it from the set; unsubscribes when Redis is there (a reconnect would not resubscribe it). */
  unsubscribe(channel: string): Promise<void>;
  /** The channels subscribed now (the set a reconnect restores). */
  readonly channels: ReadonlySet<string>;
  /** Resolves when every shard answers a PING within the timeout; rejects as `script` does. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
