import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { guardStore } from './guard.js';
import { openPool, pingPool, type PgTimeouts } from './pg-pool.js';
import { SqlStore } from './sql-store.js';

export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:5432/db`. */
  url: string;
  /** Pool size (connections per node). */
  poolSize?: number;
  /** ms a statement may run (`--pg-timeout`); lock, idle-in-transaction and client timeouts follow from it. */
  timeoutMs?: number;
}

/**
 * Appends in flight at once per node, for disjoint rooms. One for now: a room another node holds
 * no longer blocks a batch (its counters are locked with SKIP LOCKED and its inputs retried), and
 * the keyed queue had a stall (fixed in batcher.ts) found only after the whole suite had run with
 * four; the batcher keeps the ability, unit-tested, to be turned on once the suite has run with it.
 */
const APPENDS_IN_FLIGHT = 1;

/** The SQL store on PostgreSQL, with a health check that answers within a second whatever the link does. */
class PostgresStore extends SqlStore {
  constructor(
    db: Kysely<Database>,
    private readonly check: () => Promise<void>,
    t: PgTimeouts,
  ) {
    super(db, 'postgres', async () => {}, undefined, { lockWaitMs: t.lockMs, inFlight: APPENDS_IN_FLIGHT, writeTimeoutMs: 3 * t.queryMs });
  }

  override ping(): Promise<void> {
    return this.check();
  }
}

/** The cluster store: PostgreSQL through the same queries as SQLite. Migrates on open. */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<SqlStore> {
  await migrateWithoutTimeouts(opts.url);
  const { pool, timeouts } = openPool(opts.url, opts.poolSize ?? 10, opts.timeoutMs ?? 5000);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return guardStore(new PostgresStore(db, () => pingPool(pool, timeouts.pingMs), timeouts));
}

/**
 * Migrations run on a connection of their own without the request timeouts: building an index
 * on a big messages table, or waiting for another node's migration (an advisory lock), may
 * take far longer than any request should.
 */
async function migrateWithoutTimeouts(url: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 10_000, keepAlive: true });
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await new SqlStore(db, 'postgres').migrate();
  } finally {
    await db.destroy();
  }
}
