import { Redis } from 'ioredis';
import { asRunnerError, backoffMs, connectFailure, LinkUnavailableError, whereOf, within } from './redis-link-common.js';
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

export class StandaloneLink implements RedisLink {
  private readonly where: string;
  private readonly db: number;
  private readonly wanted = new Set<string>();
  private pair: Pair | null = null;
  private up = false;
  private closed = false;
  private heartbeat: NodeJS.Timeout | null = null;
  private reviveTimer: NodeJS.Timeout | null = null;
  private attempts = 0;

  constructor(
    private readonly url: string,
    private readonly opts: LinkOptions,
    private readonly events: RedisLinkEvents,
  ) {
    this.where = whereOf(url);
    const path = new URL(url).pathname.replace(/^\//, '');
    this.db = path === '' ? 0 : Number(path);
    if (!Number.isInteger(this.db) || this.db < 0) throw new Error(`the Redis URL for ${this.where} names database "${path}"; use a number such as /0`);
  }

  get available(): boolean {
    return this.up;
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
    this.up = true;
    this.startHeartbeat();
  }

  /**
   * Builds a fresh pair, checks both answer (and the db exists), subscribes the channel set.
   * Until then commands may take `firstMs` (the first connect waits connectTimeoutMs for a
   * Redis still loading its data); afterwards the link's timeout applies.
   */
  private async open(firstMs = this.opts.timeoutMs, started?: (p: Pair) => void): Promise<void> {
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
    this.pair = pair;
    started?.(pair);
    for (const conn of [pair.cmd, pair.sub]) {
      conn.on('error', (err: Error) => {
        pair.lastError = err;
        if (this.pair === pair && this.up) this.events.onError?.(err);
      });
      conn.on('close', () => this.down(pair, 'the connection to Redis closed'));
    }
    pair.sub.on('messageBuffer', (channel: Buffer, payload: Buffer) => {
      const name = channel.toString();
      if (this.pair === pair && this.wanted.has(name)) this.events.onMessage(name, payload);
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

  private startHeartbeat(): void {
    const every = Math.max(50, Math.floor(this.opts.timeoutMs / 2));
    this.heartbeat = setInterval(() => {
      const pair = this.pair;
      if (!this.up || !pair) return;
      Promise.all([pair.cmd.ping(), pair.sub.ping()]).catch((err: Error) => this.down(pair, `heartbeat: ${err.message}`));
    }, every);
    this.heartbeat.unref();
  }

  /** Marks the link down (once per pair) and starts building a fresh pair. */
  private down(pair: Pair, reason: string): void {
    if (this.closed || this.pair !== pair || !this.up) return;
    this.up = false;
    this.drop();
    this.events.onDown?.(reason);
    this.scheduleRevive();
  }

  private drop(): void {
    const pair = this.pair;
    this.pair = null;
    if (!pair) return;
    for (const conn of [pair.cmd, pair.sub]) {
      conn.removeAllListeners();
      conn.on('error', () => {}); // late errors of a pair thrown away
      conn.disconnect();
    }
  }

  private scheduleRevive(): void {
    if (this.closed || this.reviveTimer) return;
    this.reviveTimer = setTimeout(() => {
      this.reviveTimer = null;
      void this.revive();
    }, backoffMs(++this.attempts));
    this.reviveTimer.unref();
  }

  private async revive(): Promise<void> {
    if (this.closed) return;
    try {
      await within(this.open(), Math.max(1000, this.opts.timeoutMs * 2), () => new Error('no answer'));
    } catch {
      this.drop();
      this.scheduleRevive();
      return;
    }
    if (this.closed) return this.drop();
    this.attempts = 0;
    this.up = true;
    this.events.onUp?.();
  }

  /** The live pair, or `unavailable` at once while the link is down. */
  private live(): Pair {
    if (!this.up || !this.pair) throw new LinkUnavailableError();
    return this.pair;
  }

  /** Maps a failure: a lost connection or timeout marks the link down; a script error passes. */
  private fail(pair: Pair, err: unknown): never {
    const mapped = asRunnerError(err);
    if (mapped instanceof LinkUnavailableError) this.down(pair, mapped.reason);
    throw mapped;
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
    const pair = this.pair;
    if (!this.up || !pair) return; // at-most-once: the other nodes backfill from the store
    pair.cmd.publish(channel, payload).catch((err: unknown) => {
      const mapped = asRunnerError(err);
      if (mapped instanceof LinkUnavailableError) this.down(pair, mapped.reason);
      this.events.onError?.(mapped);
    });
  }

  async subscribe(channel: string): Promise<void> {
    this.wanted.add(channel);
    const pair = this.pair;
    if (!this.up || !pair) return; // revive subscribes the whole set
    try {
      // Bounded: a subscriber in a silent partition never answers, and a room's last member
      // leaving (or first joining) must not wait for the heartbeat to notice.
      await within(pair.sub.subscribe(channel), this.opts.timeoutMs, () => new LinkUnavailableError('SUBSCRIBE timed out'));
    } catch (err) {
      this.fail(pair, err);
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    this.wanted.delete(channel);
    const pair = this.pair;
    if (!this.up || !pair) return; // the next pair will not subscribe it
    try {
      // Bounded: a subscriber in a silent partition never answers, and a room's last member
      // leaving (or first joining) must not wait for the heartbeat to notice.
      await within(pair.sub.unsubscribe(channel), this.opts.timeoutMs, () => new LinkUnavailableError('UNSUBSCRIBE timed out'));
    } catch (err) {
      this.fail(pair, err);
    }
  }

  async ping(): Promise<void> {
    const pair = this.live();
    try {
      await Promise.all([pair.cmd.ping(), pair.sub.ping()]);
    } catch (err) {
      this.fail(pair, err);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.up = false;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.reviveTimer) clearTimeout(this.reviveTimer);
    this.heartbeat = this.reviveTimer = null;
    const pair = this.pair;
    this.pair = null;
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
