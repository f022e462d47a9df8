import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { checkpointInBackground, DEFAULT_CHECKPOINTS, type CheckpointOptions } from './checkpointer.js';
import { checkIntegrity, DamageLatch, describeError, isDamageError, type DamageReport, type IntegrityMode } from './integrity.js';
import type { Database } from './schema.js';
import { sqliteAppender } from './sqlite-append.js';
import { guardStore } from './guard.js';
import { SqlStore } from './sql-store.js';
import { walScrubber } from './sqlite-scrub.js';

export interface SqliteStoreOptions {
  /** Directory holding `roomcast.db`; created when missing. */
  dataDir: string;
  /**
   * `normal` (default): a commit survives a crash of the process (SIGKILL), and may be lost only
   * if the whole machine loses power. `full`: fsync on every commit, which survives that too.
   */
  sync: 'normal' | 'full';
  /** Check of an existing file before serving it: quick_check (default), integrity_check, or none. */
  integrityCheck?: IntegrityMode;
  /**
   * Hears, once, that the file is damaged (at start or later): the store then refuses every
   * call with `internal` instead of serving what it can still read. The server logs it.
   */
  onDamage?: (report: DamageReport) => void;
  /** Hears about failed background checkpoints (the server logs them). */
  onCheckpointError?: (err: Error) => void;
  /** Tuning of the background checkpoints (tests make them small). */
  checkpoints?: CheckpointOptions;
}

/** The file's name inside a data directory. */
export function sqliteFile(dataDir: string): string {
  return join(dataDir, 'roomcast.db');
}

/**
 * The embedded store: one SQLite file in WAL mode. A damaged file does not fail the start: the
 * store opens refusing every call (see integrity.ts), so the server can say what is wrong.
 */
export async function openSqliteStore(opts: SqliteStoreOptions): Promise<SqlStore> {
  mkdirSync(opts.dataDir, { recursive: true });
  const file = sqliteFile(opts.dataDir);
  const latch = new DamageLatch(file, opts.onDamage);
  const mode = opts.integrityCheck ?? 'quick';
  if (mode !== 'off' && existsSync(file) && statSync(file).size > 0) {
    const problems = checkFile(file, mode);
    if (problems.length > 0) latch.trip({ foundBy: 'check', problems });
  }
  // A file found damaged is opened read-only: nothing this process does may write to it.
  const database = new BetterSqlite3(file, { readonly: latch.state !== null });
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  if (!latch.state) {
    try {
      database.pragma('journal_mode = WAL');
      database.pragma(`synchronous = ${opts.sync === 'full' ? 'FULL' : 'NORMAL'}`);
      database.pragma('foreign_keys = ON');
      database.pragma('busy_timeout = 5000');
      // Checks each page's cells as it is read from disk, so more damage raises SQLITE_CORRUPT
      // instead of yielding short results; it costs only on page-cache misses.
      database.pragma('cell_size_check = ON');
      // Deleted content (an unsent message's text and file) is zeroed, not left in free space.
      database.pragma('secure_delete = ON');
      // The appender prepares statements against the schema, so it is made after migrating.
      await new SqlStore(db, 'sqlite').migrate();
    } catch (err) {
      if (!isDamageError(err)) {
        database.close();
        throw err;
      }
      latch.trip({ foundBy: 'open', problems: [describeError(err)] });
    }
  }
  // A damaged file gets no checkpoints and no appender: every call but close is refused anyway.
  if (latch.state) return guardStore(new SqlStore(db, 'sqlite'), latch);
  // Checkpoints run on a thread of their own (see checkpointer.ts).
  const checkpointer = checkpointInBackground(database, file, opts.checkpoints ?? DEFAULT_CHECKPOINTS, (err) => {
    if (isDamageError(err)) latch.trip({ foundBy: 'query', method: 'checkpoint', problems: [describeError(err)] });
    opts.onCheckpointError?.(err);
  });
  const scrubber = walScrubber(database, (err) => opts.onCheckpointError?.(err));
  const store = new SqlStore(
    db,
    'sqlite',
    async () => {
      scrubber.stop();
      await checkpointer.stop();
    },
    sqliteAppender(database, () => scrubber.request()),
  );
  return guardStore(store, latch);
}

/**
 * A secret read straight from the file of a store found damaged, or null when that fails too.
 * For the guest-token key (server.ts): with the real key a returning guest is closed with 1011
 * and retries; with any other key it would be told its token is invalid and start over as a
 * new guest, losing its rooms for good.
 */
export function readSecretDespiteDamage(dataDir: string, name: string): string | null {
  try {
    const db = new BetterSqlite3(sqliteFile(dataDir), { readonly: true, fileMustExist: true });
    try {
      const value: unknown = db.prepare('select value from secrets where name = ?').pluck().get(name);
      return typeof value === 'string' ? value : null;
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

/**
 * The start check, on a read-only connection of its own, closed before serving: a damaged file
 * is then never written to (switching to WAL and migrating both write).
 */
function checkFile(file: string, mode: 'quick' | 'full'): string[] {
  let check: BetterSqlite3.Database | undefined;
  try {
    check = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
    return checkIntegrity(check, mode);
  } catch (err) {
    if (!isDamageError(err)) throw err;
    return [describeError(err)];
  } finally {
    check?.close();
  }
}

/** Distinct SQL texts kept prepared; `IN (?, ?, …)` lists make one text per list length. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query it runs, and preparing costs more than running a small insert.
 * The same SQL text gets the same prepared statement back (least recently used ones dropped).
 * Safe because the driver runs one statement at a time to completion on this connection.
 */
function withStatementCache(database: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sqlText: string): SqliteStatement {
      let stmt = cache.get(sqlText);
      if (stmt) {
        cache.delete(sqlText);
      } else {
        stmt = database.prepare(sqlText) as unknown as SqliteStatement;
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sqlText, stmt);
      return stmt;
    },
  };
}
