import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';
import { guardStore, SqlStore } from './sql-store.js';

export interface SqliteStoreOptions {
  /** Directory holding `roomcast.db`; created when missing. */
  dataDir: string;
  /**
   * `normal` (default): a commit survives a crash of the process (SIGKILL), and may be lost only
   * if the whole machine loses power. `full`: fsync on every commit, which survives that too.
   */
  sync: 'normal' | 'full';
}

/** The embedded store: one SQLite file in WAL mode. */
export async function openSqliteStore(opts: SqliteStoreOptions): Promise<SqlStore> {
  mkdirSync(opts.dataDir, { recursive: true });
  const database = new BetterSqlite3(join(opts.dataDir, 'roomcast.db'));
  database.pragma('journal_mode = WAL');
  database.pragma(`synchronous = ${opts.sync === 'full' ? 'FULL' : 'NORMAL'}`);
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  const store = new SqlStore(db, 'sqlite');
  await store.migrate();
  return guardStore(store);
}
