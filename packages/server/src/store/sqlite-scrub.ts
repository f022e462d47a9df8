import type BetterSqlite3 from 'better-sqlite3';

// An unsent message's text must be gone from the disk, not only from query results. With
// `secure_delete` SQLite zeroes what a change frees inside the database file, but the write-ahead
// log still holds the page as it was until the log is started over and overwritten. So after a
// commit that erased content, the log is copied back and truncated to nothing (a TRUNCATE
// checkpoint) as soon as no reader holds it: never waiting on a lock (that would stall the
// event loop), trying again a little later instead.

const FIRST_TRY_MS = 200;
const RETRY_MS = 1000;
const MAX_TRIES = 60;

export interface WalScrubber {
  /** A commit erased content: truncate the log soon. */
  request(): void;
  /** Resolves once no erased content is left in the log (or the store closed). */
  settled(): Promise<void>;
  stop(): void;
}

export function walScrubber(database: BetterSqlite3.Database, onError: (err: Error) => void): WalScrubber {
  let timer: NodeJS.Timeout | undefined;
  let tries = 0;
  let waiters: Array<() => void> = [];
  const done = () => {
    for (const w of waiters) w();
    waiters = [];
  };
  const attempt = () => {
    timer = undefined;
    if (!database.open) return done();
    if (database.inTransaction) return schedule(RETRY_MS);
    let busy = true;
    try {
      database.pragma('busy_timeout = 0');
      const [row] = database.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      busy = row?.busy === 1;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') onError(err as Error);
    } finally {
      if (database.open) database.pragma('busy_timeout = 5000');
    }
    if (!busy) {
      tries = 0;
      return done();
    }
    if (++tries >= MAX_TRIES) {
      tries = 0;
      onError(new Error('could not truncate the SQLite log after an unsend for a minute: readers kept it busy; the erased text stays in roomcast.db-wal until the log is reused'));
      return done();
    }
    schedule(RETRY_MS);
  };
  const schedule = (ms: number) => {
    if (timer) return;
    timer = setTimeout(attempt, ms);
    timer.unref();
  };
  return {
    request: () => schedule(FIRST_TRY_MS),
    settled: () => (timer ? new Promise<void>((resolve) => waiters.push(resolve)) : Promise.resolve()),
    stop: () => {
      clearTimeout(timer);
      timer = undefined;
      done();
    },
  };
}
