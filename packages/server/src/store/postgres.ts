import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { guardStore } from './guard.js';
import { SqlStore } from './sql-store.js';

export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:5432/db`. */
  url: string;
  /** Pool size (connections per node). */
  poolSize?: number;
}

/** The cluster store: PostgreSQL through the same queries as SQLite. Migrates on open. */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<SqlStore> {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize ?? 10,
    // Fail fast while the database is away: requests answer `unavailable` instead of hanging.
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
  });
  // A connection the server drops (restart, failover) emits 'error': on idle clients through
  // the pool, on checked-out ones on the client itself. Unheard, either would crash the process;
  // the query that was running fails on its own and is reported as `unavailable`.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const store = new SqlStore(db, 'postgres');
  await store.migrate();
  return guardStore(store);
}
