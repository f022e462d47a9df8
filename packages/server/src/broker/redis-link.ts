import { Redis } from 'ioredis';
import { asRunnerError, connectFailure, LinkUnavailableError, whereOf, within } from './redis-link-common.js';
import { RevivingLink } from './redis-revival.js';
import type { RedisArg, RedisLink, RedisLinkEvents, RedisScript } from './redis-types.js';

// One Redis server as a RedisLink: a command connection and a subscriber connection.
//
// Health: every command has the link's timeout, and both connections answer a PING every
// timeoutMs/2 (PING is allowed in subscriber mode). The first timeout or lost connection marks
// the link down at once: a silent partition never errors by itself, so waiting for TCP would
// leave the node acknowledging sends no other node receives. Both connections are then thrown
// away and a fresh pair is built until Redis answers again; the fresh subscriber subscribes
// exactly the link's current `channels` (rooms that emptied meanwhile are not resubscribed),
// then onUp. Nothing is queued while down: callers answer `unavailable`.

export interface LinkOptions {
  /** Command timeout, ms; the heartbeat runs every half of it. */
  timeoutMs: number;
  /** How long connect() waits for the first PING (default 5 s). */
  connectTimeoutMs?: number;
}

type ScriptFn = (...args: RedisArg[]) => Promise<unknown>;

/** One generation of the connection pair; a down throws the whole pair away. */
interface Pair {
  cmd: Redis;
  sub: Redis;
  defined: Set<string>;
  /** The last error either connection reported (the sentence a failed connect shows). */
  lastError?: Error;
}

export class StandaloneLink extends RevivingLink<Pair> implements RedisLink {
  private readonly where: string;
  private readonly db: number;
  private readonly wanted = new Set<string>();

  constructor(
    private readonly url: string,
    private readonly opts: LinkOptions,
    events: RedisLinkEvents,
  ) {
    super(events, opts.timeoutMs, Math.max(1000, opts.timeoutMs * 2));
    this.where = whereOf(url);
    const path = new URL(url).pathname.replace(/^\//, '');
    this.db = path === '' ? 0 : Number(path);
    if (!Number.isInteger(this.db) || this.db < 0) throw new Error(`the Redis URL for ${this.where} names database "${path}"; use a number such as /0`);
  }

  get channels(): ReadonlySet<string> {
    return this.wanted;
  }

  async connect(): Promise<void> {
    const ms = this.opts.connectTimeoutMs ?? 5000;
    const silent = `it accepted the connection but did not answer within ${ms / 1000} s (is that port a Redis server, and is it busy or paused?)`;
    let pair: Pair | undefined;
    try {
      await within(
        this.open(ms, (p) => (pair = p)),
        ms,
        () => new Error(pair?.lastError ? pair.lastError.message : silent),
      );
    } catch (err) {
      this.drop();
      // ioredis may reject with "Connection is closed" after the error that closed it (WRONGPASS).
      const said = (pair as Pair | undefined)?.lastError;
      const msg = (err as Error).message;
      if (/timed out/i.test(msg)) throw connectFailure(this.where, new Error(silent));
      throw connectFailure(this.where, said && /closed/i.test(msg) ? said : err);
    }
    this.started();
  }

  /**
   * Builds a fresh pair, checks both answer (and the db exists), subscribes the channel set.
   * Until then commands may take `firstMs` (the first connect waits connectTimeoutMs for a
   * Redis still loading its data); afterwards the link's timeout applies.
   */
  protected async open(firstMs = this.opts.timeoutMs, started?: (p: Pair) => void): Promise<void> {
    const common = {
      lazyConnect: true,
      enableOfflineQueue: false,
      // This link rebuilds the pair itself after any trouble (see revive).
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      autoResubscribe: false,
      commandTimeout: firstMs,
      connectTimeout: this.opts.connectTimeoutMs ?? 5000,
      // SELECT is sent below, where its error can be reported (ioredis would only log it).
      db: 0,
    };
    const pair: Pair = { cmd: new Redis(this.url, common), sub: new Redis(this.url, common), defined: new Set() };
    this.gen = pair;
    started?.(pair);
    for (const conn of [pair.cmd, pair.sub]) {
      conn.on('error', (err: Error) => {
        pair.lastError = err;
        if (this.gen === pair && this.up) this.events.onError?.(err);
      });
      conn.on('close', () => this.down(pair, 'the connection to Redis closed'));
    }
    pair.sub.on('messageBuffer', (channel: Buffer, payload: Buffer) => {
      const name = channel.toString();
      if (this.gen === pair && this.wanted.has(name)) this.events.onMessage(name, payload);
    });
    await Promise.all([pair.cmd.connect(), pair.sub.connect()]);
    if (this.db !== 0) {
      try {
        await Promise.all([pair.cmd.select(this.db), pair.sub.select(this.db)]);
      } catch (err) {
        throw new Error(`Redis has no database ${this.db} (${(err as Error).message}); use a db number below its "databases" setting, or another --redis-prefix on db 0`);
      }
    }
    await Promise.all([pair.cmd.ping(), pair.sub.ping()]);
    for (const conn of [pair.cmd, pair.sub]) conn.options.commandTimeout = this.opts.timeoutMs;
    await this.syncChannels(pair);
  }

  /** Subscribes exactly `wanted`; loops because subscribe/unsubscribe may be called meanwhile. */
  private async syncChannels(pair: Pair): Promise<void> {
    const have = new Set<string>();
    for (;;) {
      const add = [...this.wanted].filter((c) => !have.has(c));
      const drop = [...have].filter((c) => !this.wanted.has(c));
      if (add.length === 0 && drop.length === 0) return;
      if (add.length > 0) await pair.sub.subscribe(...add);
      if (drop.length > 0) await pair.sub.unsubscribe(...drop);
      for (const c of add) have.add(c);
      for (const c of drop) have.delete(c);
    }
  }

  protected pingAll(pair: Pair): Promise<unknown> {
    return Promise.all([pair.cmd.ping(), pair.sub.ping()]);
  }

  protected release(pair: Pair): void {
    for (const conn of [pair.cmd, pair.sub]) {
      conn.removeAllListeners();
      conn.on('error', () => {}); // late errors of a pair thrown away
      conn.disconnect();
    }
  }

  async script(s: RedisScript, keys: string[], args: RedisArg[]): Promise<unknown> {
    const pair = this.live();
    // A prefixed name cannot shadow a Redis method; defineCommand does EVALSHA, then EVAL on NOSCRIPT.
    const name = `rcScript_${s.name}`;
    if (!pair.defined.has(name)) {
      pair.cmd.defineCommand(name, { numberOfKeys: s.keys, lua: s.lua });
      pair.defined.add(name);
    }
    const fn = (pair.cmd as unknown as Record<string, ScriptFn>)[name] as ScriptFn;
    try {
      return await fn.call(pair.cmd, ...keys, ...args);
    } catch (err) {
      this.fail(pair, err);
    }
  }

  async command(name: string, key: string, args: RedisArg[]): Promise<unknown> {
    const pair = this.live();
    try {
      return await pair.cmd.call(name, key, ...args);
    } catch (err) {
      this.fail(pair, err);
    }
  }

  publish(channel: string, payload: Buffer): void {
    const pair = this.gen;
    if (!this.up || !pair) return; // at-most-once: the other nodes backfill from the store
    pair.cmd.publish(channel, payload).catch((err: unknown) => {
      const mapped = asRunnerError(err);
      if (mapped instanceof LinkUnavailableError) this.down(pair, mapped.reason);
      this.events.onError?.(mapped);
    });
  }

  async subscribe(channel: string): Promise<void> {
    this.wanted.add(channel);
    await this.onLive('SUBSCRIBE', (pair) => pair.sub.subscribe(channel));
  }

  async unsubscribe(channel: string): Promise<void> {
    this.wanted.delete(channel);
    await this.onLive('UNSUBSCRIBE', (pair) => pair.sub.unsubscribe(channel));
  }

  async ping(): Promise<void> {
    const pair = this.live();
    try {
      await this.pingAll(pair);
    } catch (err) {
      this.fail(pair, err);
    }
  }

  async close(): Promise<void> {
    const pair = this.stop();
    if (!pair) return;
    await Promise.all(
      [pair.cmd, pair.sub].map(async (conn) => {
        conn.removeAllListeners();
        conn.on('error', () => {});
        await conn.quit().catch(() => conn.disconnect());
      }),
    );
  }
}
