import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { checkpointInBackground, DEFAULT_CHECKPOINTS, type CheckpointOptions } from './checkpointer.js';
import type { Database } from './schema.js';
import { sqliteAppender } from './sqlite-append.js';
import { guardStore, SqlStore } from './sql-store.js';

export interface SqliteStoreOptions {
  /** Directory holding `roomcast.db`; created when missing. */
  dataDir: string;
  /**
   * `normal` (default): a commit survives a crash of the process (SIGKILL), and may be lost only
   * if the whole machine loses power. `full`: fsync on every commit, which survives that too.
   */
  sync: 'normal' | 'full';
  /** Hears about failed background checkpoints (the server logs them). */
  onCheckpointError?: (err: Error) => void;
  /** Tuning of the background checkpoints (tests make them small). */
  checkpoints?: CheckpointOptions;
}

/** The embedded store: one SQLite file in WAL mode. */
export async function openSqliteStore(opts: SqliteStoreOptions): Promise<SqlStore> {
  mkdirSync(opts.dataDir, { recursive: true });
  const file = join(opts.dataDir, 'roomcast.db');
  const database = new BetterSqlite3(file);
  database.pragma('journal_mode = WAL');
  database.pragma(`synchronous = ${opts.sync === 'full' ? 'FULL' : 'NORMAL'}`);
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  // The appender prepares statements against the schema, so it is made after migrating.
  const migrator = new SqlStore(db, 'sqlite');
  await migrator.migrate();
  // Checkpoints run on a thread of their own (see checkpointer.ts).
  const checkpointer = checkpointInBackground(database, file, opts.checkpoints ?? DEFAULT_CHECKPOINTS, (err) => opts.onCheckpointError?.(err));
  const store = new SqlStore(db, 'sqlite', () => checkpointer.stop(), sqliteAppender(database));
  return guardStore(store);
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
