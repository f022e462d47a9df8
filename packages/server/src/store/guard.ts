import { PostRefused } from './post-guard.js';
import { ChangeRefused, MissingRoomError } from './append-plan.js';

// How the store's failures reach the core: a driver failure is `unavailable` (retry), a damaged
// database `internal`, and our own errors pass as they are.

/** The database cannot be reached or failed; the request may be retried. */
export class StoreUnavailableError extends Error {
  readonly code = 'unavailable';
  constructor(override readonly cause: unknown) {
    super('the message store is unavailable right now; retry in a moment');
  }
}

/**
 * The database file is damaged: retrying cannot help, so the code is `internal`, not
 * `unavailable`, and nothing is answered from it (a damaged file can return short results).
 */
export class StoreDamagedError extends Error {
  readonly code = 'internal';
  constructor(
    override readonly cause?: unknown,
    message = "the server's database is damaged; the operator has been told, and nothing can be read or saved until it is restored",
  ) {
    super(message);
    this.name = 'StoreDamagedError';
  }
}

/** Wraps driver errors so callers see `unavailable`; our own errors pass through. */
function unavailable(err: unknown): never {
  if (err instanceof MissingRoomError || err instanceof ChangeRefused || err instanceof PostRefused || err instanceof StoreUnavailableError || err instanceof StoreDamagedError) throw err;
  throw new StoreUnavailableError(err);
}

/** How guardStore learns that the database itself is damaged (SQLite: store/integrity.ts). */
export interface DamageWatch {
  /** The error to reject a call with while the store is damaged; null while it is healthy. */
  refusal(method: string): Error | null;
  /** When `err` means the file is damaged: records that (once) and returns the error to throw. */
  damaged(err: unknown, method: string): Error | null;
}

/**
 * The store with every failure of the database reported as `unavailable` (a lost PostgreSQL
 * connection, a locked SQLite file), so clients are told to retry rather than that we broke.
 * With a `watch`, a damaged database is `internal` instead, and from then on every call but
 * `close` is refused without touching the file.
 */
/**
 * Methods that answer from memory, synchronously (the outbox's routing): never refused, since a
 * refusal would be a rejected promise where the caller expects a value (and nobody would catch it).
 */
const LOCAL_METHODS = new Set(['configureOutbox', 'outboxWants', 'onOutboxWrite']);
/** Methods that hand out a part of the store: the part is guarded the same way. */
const PART_METHODS = new Set(['idempotency']);

export function guardStore<T extends object>(store: T, watch?: DamageWatch): T {
  const fail = (method: string) => (err: unknown): never => {
    const damage = watch?.damaged(err, method);
    if (damage) throw damage;
    return unavailable(err);
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const method = String(prop);
      if (LOCAL_METHODS.has(method)) return value.bind(target);
      if (PART_METHODS.has(method)) return (...args: unknown[]) => guardStore(value.apply(target, args) as object, watch);
      return (...args: unknown[]) => {
        const refused = method === 'close' ? null : watch?.refusal(method);
        if (refused) return Promise.reject(refused);
        const result: unknown = value.apply(target, args);
        return result instanceof Promise ? result.catch(fail(method)) : result;
      };
    },
  });
}

