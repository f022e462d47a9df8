import { Cluster } from 'ioredis';
import type { LinkOptions } from './redis-link.js';
import { asRunnerError, connectFailure, LinkUnavailableError, parseRedisUrl, whereOf, within, type RedisAddress } from './redis-link-common.js';
import { RevivingLink } from './redis-revival.js';
import type { RedisArg, RedisLink, RedisLinkEvents, RedisScript } from './redis-types.js';

// A Redis Cluster as one RedisLink. Commands and scripts go to the master of their keys' slot
// (every key of a room shares its hash tag, so a script's keys are in one slot); pub/sub is
// sharded (SPUBLISH/SSUBSCRIBE): a room's messages only touch the master owning its slot, not
// every node of the cluster as plain PUBLISH would.
//
// Health: every command has the link's timeout, and every master answers a PING every
// timeoutMs/2. The first timeout, lost node or failed PING marks the link down at once; the
// Cluster client is then thrown away (a half-dead connection may never error by itself) and a
// fresh one is built until every master answers again. The fresh client subscribes exactly the
// link's current `channels` (rooms that emptied meanwhile are not resubscribed), then onUp.

type ScriptFn = (...args: RedisArg[]) => Promise<unknown>;

/** What a node said under ioredis' "Failed to refresh slots cache" (its lastNodeError chain). */
function nodeCause(err: unknown): Error {
  let e = err as Error & { lastNodeError?: Error };
  while (e.lastNodeError) e = e.lastNodeError;
  return e;
}

export class ClusterLink extends RevivingLink<Cluster> implements RedisLink {
  private readonly seeds: RedisAddress[];
  private readonly where: string;
  private readonly wanted = new Set<string>();
  private defined = new Set<string>();
  /** The last error a node reported while connecting (the sentence a failed connect shows). */
  private lastError: Error | undefined;

  constructor(
    urls: string[],
    private readonly opts: LinkOptions,
    events: RedisLinkEvents,
  ) {
    super(events, opts.timeoutMs, opts.connectTimeoutMs ?? Math.max(2000, opts.timeoutMs * 2));
    if (urls.length === 0) throw new Error('a Redis Cluster needs at least one seed URL (--redis)');
    this.seeds = urls.map(parseRedisUrl);
    this.where = urls.map(whereOf).join(', ');
  }

  get channels(): ReadonlySet<string> {
    return this.wanted;
  }

  async connect(): Promise<void> {
    const ms = this.opts.connectTimeoutMs ?? 5000;
    this.lastError = undefined;
    try {
      await within(this.open(), ms, () => new Error(`no answer within ${ms / 1000} s (is it a Redis Cluster node, and is cluster_state ok?)`));
    } catch (err) {
      this.drop();
      // ioredis' own rejection is generic ("None of startup nodes is available"); what a node
      // said (WRONGPASS, NOAUTH, ECONNREFUSED) is the sentence a person can act on.
      const said = nodeCause(this.lastError ?? err);
      throw connectFailure(`the Redis Cluster (${this.where})`, said !== err ? new Error(`${(err as Error).message} (${said.message})`) : err);
    }
    this.started();
  }

  /** Builds a Cluster client, checks every master answers, subscribes the link's channels. */
  protected async open(): Promise<void> {
    const first = this.seeds[0] as RedisAddress;
    const client = new Cluster(
      this.seeds.map((s) => ({ host: s.host, port: s.port })),
      {
        lazyConnect: true,
        shardedSubscribers: true,
        enableOfflineQueue: false,
        // This link rebuilds the client itself after any trouble (see revive).
        clusterRetryStrategy: () => null,
        slotsRefreshTimeout: this.opts.timeoutMs,
        maxRedirections: 4,
        redisOptions: {
          ...(first.username ? { username: first.username } : {}),
          ...(first.password ? { password: first.password } : {}),
          ...(first.tls ? { tls: {} } : {}),
          commandTimeout: this.opts.timeoutMs,
          connectTimeout: this.opts.connectTimeoutMs ?? 5000,
          maxRetriesPerRequest: 0,
          autoResubscribe: false,
        },
      },
    );
    this.gen = client;
    this.defined = new Set();
    // Errors of a client being built are the connect attempt's (reported by connect(), or
    // retried quietly by revive); only a live client's go to onError.
    const onError = (err: Error) => {
      this.lastError = err;
      if (this.gen === client && this.up) this.events.onError?.(err);
    };
    client.on('error', onError);
    client.on('node error', onError);
    client.on('-node', () => this.down(client, 'a Redis Cluster node connection was lost'));
    client.on('end', () => this.down(client, 'the Redis Cluster connection ended'));
    client.on('smessageBuffer', (channel: Buffer, payload: Buffer) => {
      const name = channel.toString();
      if (this.gen === client && this.wanted.has(name)) this.events.onMessage(name, payload);
    });
    // ioredis never settles connect() when its ready check finds cluster_state:fail: it just ends.
    const ended = new Promise<never>((_, reject) => client.once('end', () => reject(new Error('the cluster closed the connection while starting (is cluster_state:ok on every node?)'))));
    ended.catch(() => {});
    await Promise.race([client.connect(), ended]);
    await this.pingMasters(client);
    await this.syncChannels(client);
  }

  /**
   * Subscribes exactly `wanted` on a fresh client. Loops because subscribe/unsubscribe may be
   * called meanwhile; returns (and the caller sets `up`) only once both sets agree.
   */
  private async syncChannels(client: Cluster): Promise<void> {
    const have = new Set<string>();
    for (;;) {
      const add = [...this.wanted].filter((c) => !have.has(c));
      const drop = [...have].filter((c) => !this.wanted.has(c));
      if (add.length === 0 && drop.length === 0) return;
      // One channel per command: SSUBSCRIBE takes channels of one slot only, rooms are in many.
      await Promise.all([
        ...add.map(async (c) => void (await client.ssubscribe(c), have.add(c))),
        ...drop.map(async (c) => void (await client.sunsubscribe(c), have.delete(c))),
      ]);
    }
  }

  /** PINGs every master owning slots; rejects when one is missing or does not answer in time. */
  private async pingMasters(client: Cluster): Promise<void> {
    const owners = new Set<string>();
    for (const nodes of client.slots) if (nodes?.[0]) owners.add(nodes[0]);
    const masters = client.nodes('master');
    const have = new Set(masters.map((m) => `${m.options.host}:${m.options.port}`));
    const missing = [...owners].filter((k) => !have.has(k));
    if (owners.size === 0 || missing.length > 0) throw new Error(`no connection to the master${missing.length > 1 ? 's' : ''} ${missing.join(', ') || '(no slots known)'}`);
    await Promise.all(masters.map((m) => m.ping()));
  }

  protected pingAll(client: Cluster): Promise<unknown> {
    return this.pingMasters(client);
  }

  protected release(client: Cluster): void {
    client.removeAllListeners();
    client.on('error', () => {}); // late errors of a client thrown away
    client.disconnect();
  }

  async script(s: RedisScript, keys: string[], args: RedisArg[]): Promise<unknown> {
    const client = this.live();
    // A prefixed name cannot shadow a Cluster method; defineCommand does EVALSHA, then EVAL on NOSCRIPT.
    const name = `rcScript_${s.name}`;
    if (!this.defined.has(name)) {
      client.defineCommand(name, { numberOfKeys: s.keys, lua: s.lua });
      this.defined.add(name);
    }
    const fn = (client as unknown as Record<string, ScriptFn>)[name] as ScriptFn;
    try {
      return await fn.call(client, ...keys, ...args);
    } catch (err) {
      this.fail(client, err);
    }
  }

  async command(name: string, key: string, args: RedisArg[]): Promise<unknown> {
    const client = this.live();
    try {
      return await client.call(name, key, ...args);
    } catch (err) {
      this.fail(client, err);
    }
  }

  publish(channel: string, payload: Buffer): void {
    if (!this.up || !this.gen) return; // at-most-once: the other nodes backfill from the store
    const client = this.gen;
    client.spublish(channel, payload).catch((err: unknown) => {
      const mapped = asRunnerError(err);
      if (mapped instanceof LinkUnavailableError) this.down(client, mapped.reason);
      this.events.onError?.(mapped);
    });
  }

  async subscribe(channel: string): Promise<void> {
    this.wanted.add(channel);
    await this.onLive('SSUBSCRIBE', (client) => client.ssubscribe(channel));
  }

  async unsubscribe(channel: string): Promise<void> {
    this.wanted.delete(channel);
    await this.onLive('SUNSUBSCRIBE', (client) => client.sunsubscribe(channel));
  }

  async ping(): Promise<void> {
    const client = this.live();
    try {
      await this.pingMasters(client);
    } catch (err) {
      this.fail(client, err);
    }
  }

  async close(): Promise<void> {
    const client = this.stop();
    if (!client) return;
    client.removeAllListeners();
    client.on('error', () => {});
    await client.quit().catch(() => client.disconnect());
  }
}
