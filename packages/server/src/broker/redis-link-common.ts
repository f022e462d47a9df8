// Small pieces the Redis links share: the `unavailable` error callers answer with, which Redis
// errors mean "Redis is not there right now" (as opposed to a script's own error), bounded
// waits, and URLs described for people without their passwords.

/** Redis is down, or did not answer within the command timeout: clients get `unavailable`. */
export class LinkUnavailableError extends Error {
  readonly code = 'unavailable';
  constructor(readonly reason = 'Redis is not reachable') {
    super('the cluster broker is unavailable right now; retry in a moment');
  }
}

/** An error Redis itself answered (a script's error, WRONGTYPE…), not a lost connection. */
export function isReplyError(err: unknown): err is Error {
  return err instanceof Error && err.name === 'ReplyError';
}

/** Replies that mean the cluster cannot serve the slot right now (failing over, migrating, loading). */
const TRANSIENT_REPLY = /^(CLUSTERDOWN|TRYAGAIN|MOVED|ASK|LOADING|MASTERDOWN|READONLY)\b/;

/** What a runner rejects with: the Redis error of a script/command, else `unavailable`. */
export function asRunnerError(err: unknown): Error {
  if (isReplyError(err) && !TRANSIENT_REPLY.test(err.message)) return err;
  return new LinkUnavailableError(err instanceof Error ? err.message : String(err));
}

/** `host:port` of a redis:// URL (never its password), for messages. */
export function whereOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || '127.0.0.1'}:${u.port || '6379'}`;
  } catch {
    return 'the configured Redis URL';
  }
}

export interface RedisAddress {
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls: boolean;
}

export function parseRedisUrl(url: string): RedisAddress {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`"${whereOf(url)}" is not a redis:// or rediss:// URL`);
  const a: RedisAddress = { host: u.hostname || '127.0.0.1', port: Number(u.port || 6379), tls: u.protocol === 'rediss:' };
  if (u.username) a.username = decodeURIComponent(u.username);
  if (u.password) a.password = decodeURIComponent(u.password);
  return a;
}

/** Rejects with `onTimeout()` when `p` has not settled within `ms`. */
export function within<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Delay before reconnect attempt `n` (1, 2, …): quick at first, at most 2 s. */
export function backoffMs(n: number): number {
  return Math.min(100 * 2 ** Math.min(n - 1, 5), 2000);
}

/** The sentence a failed first connection ends with: what Redis said, and what to check. */
export function connectFailure(where: string, err: unknown): Error {
  const said = err instanceof Error ? err.message : String(err);
  let hint = 'check that the Redis URL (--redis) is right and that Redis is running and reachable from this host';
  if (/WRONGPASS|NOAUTH|invalid password|invalid username/i.test(said)) hint = 'check the user name and password in the Redis URL (--redis)';
  const e = new Error(`cannot connect to Redis at ${where}: ${said}; ${hint}`) as Error & { code: string };
  e.code = 'redis_connect';
  return e;
}
