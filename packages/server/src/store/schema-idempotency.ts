import { sql, type Kysely } from 'kysely';

// The table of the server API's Idempotency-Key header (http/idempotency.ts): one row per
// (caller, key), holding the first response so a retry gets it again. Its own migration, run by
// schema.ts's migrate on SQLite and PostgreSQL alike.

export interface IdempotencyTable {
  /** The API key's name (or "user:ID" for an admin's token): keys are per caller. */
  caller: string;
  key: string;
  method: string;
  path: string;
  /** sha256 hex of the request body, so the same key with another request is told apart. */
  body_hash: string;
  /** When the first request arrived (or a stale one was taken over), ms since epoch. */
  ts: number;
  /** null while the first request runs. */
  status: number | null;
  /** The response body as sent (JSON text). */
  response: string | null;
}

export async function migrateIdempotency(db: Kysely<{ idempotency: IdempotencyTable }>, bigint: string): Promise<void> {
  await db.schema
    .createTable('idempotency')
    .ifNotExists()
    .addColumn('caller', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('body_hash', 'text', (c) => c.notNull())
    .addColumn('ts', sql.raw(bigint), (c) => c.notNull())
    .addColumn('status', 'integer')
    .addColumn('response', 'text')
    .addPrimaryKeyConstraint('idempotency_pk', ['caller', 'key'])
    .execute();
  // Pruned by age.
  await db.schema.createIndex('idempotency_by_ts').ifNotExists().on('idempotency').column('ts').execute();
}
