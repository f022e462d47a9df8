import { sql, type Generated, type Kysely } from 'kysely';

// The tables of the webhook outbox (issue 16). Kept apart from schema.ts; its migrate calls
// migrateOutbox.

export interface WebhookOutboxTable {
  /** Insertion order: a lane's events are sent in this order. */
  pos: Generated<number>;
  event_id: string;
  endpoint: string;
  type: string;
  /** What orders the event (its room, or `~user:ID`); null: nothing waits for it. */
  lane: string | null;
  /** The event's JSON as POSTed. */
  body: string;
  created_at: number;
  /** Not tried again before this time. */
  next_at: number;
  attempts: number;
  lease_owner: string | null;
  /** Leased (being sent by lease_owner) until this time; 0: free. */
  lease_until: number;
  last_error: string | null;
}

/** A room to check for offline members after --unreached-delay (one row per room). */
export interface WebhookChecksTable {
  room_id: string;
  from_seq: number;
  to_seq: number;
  due_at: number;
  lease_owner: string | null;
  lease_until: number;
}

/** Up to which seq each member was told they missed messages (message.unreached). */
export interface WebhookToldTable {
  room_id: string;
  user_id: string;
  seq: number;
}

export interface OutboxTables {
  webhook_outbox: WebhookOutboxTable;
  webhook_checks: WebhookChecksTable;
  webhook_told: WebhookToldTable;
}

/** Creates the outbox tables. Idempotent; run at every start. */
export async function migrateOutbox<DB extends OutboxTables>(db: Kysely<DB>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  const bigint = sql.raw(dialect === 'postgres' ? 'bigint' : 'integer');
  await db.schema
    .createTable('webhook_outbox')
    .ifNotExists()
    .addColumn('pos', dialect === 'postgres' ? 'bigserial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('endpoint', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('lane', 'text')
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', bigint, (c) => c.notNull())
    .addColumn('next_at', bigint, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .execute();
  // A lane's head (is there an earlier row?) and an endpoint's due rows in order.
  await db.schema.createIndex('webhook_outbox_by_lane').ifNotExists().on('webhook_outbox').columns(['endpoint', 'lane', 'pos']).execute();
  await db.schema.createIndex('webhook_outbox_by_endpoint').ifNotExists().on('webhook_outbox').columns(['endpoint', 'pos']).execute();
  await db.schema
    .createTable('webhook_checks')
    .ifNotExists()
    .addColumn('room_id', 'text', (c) => c.primaryKey())
    .addColumn('from_seq', bigint, (c) => c.notNull())
    .addColumn('to_seq', bigint, (c) => c.notNull())
    .addColumn('due_at', bigint, (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', bigint, (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable('webhook_told')
    .ifNotExists()
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('seq', bigint, (c) => c.notNull())
    .addPrimaryKeyConstraint('webhook_told_pk', ['room_id', 'user_id'])
    .execute();
}
