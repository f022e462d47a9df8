import { sql, type Kysely } from 'kysely';

// The tables of moderation (issue 16): bans (of a room, or server-wide), mutes, slow-mode turns,
// and the columns it adds to members (role) and rooms (slow_mode). Kept apart from schema.ts so
// moderation's storage reads as one piece; schema.ts's migrate calls migrateModeration.

export interface BansTable {
  /** The room, or '' for a server-wide ban (a primary key column cannot be null everywhere). */
  scope: string;
  user_id: string;
  /** Until when, ms since epoch; null: until lifted. */
  until: number | null;
  reason: string | null;
  by_user: string | null;
  at: number;
}

export interface MutesTable {
  room_id: string;
  user_id: string;
  until: number | null;
  by_user: string | null;
  at: number;
}

/** The last message each member sent in a slow-mode room (one per member per window). */
export interface SlowTurnsTable {
  room_id: string;
  user_id: string;
  last_at: number;
}

export interface ModerationTables {
  bans: BansTable;
  mutes: MutesTable;
  slow_turns: SlowTurnsTable;
}

/** The scope key of a server-wide ban. */
export const SERVER_SCOPE = '';

/**
 * Creates the moderation tables, and adds members.role and rooms.slow_mode to databases made
 * before moderation (existing members become plain members; the owner is rooms.owner).
 * Idempotent; run at every start, after the base tables exist.
 */
export async function migrateModeration<DB extends ModerationTables>(db: Kysely<DB>, bigint: string): Promise<void> {
  const tables = await db.introspection.getTables();
  const columns = (name: string) => new Set(tables.find((t) => t.name === name)?.columns.map((c) => c.name) ?? []);
  if (!columns('members').has('role')) {
    await db.schema.alterTable('members').addColumn('role', 'text', (c) => c.notNull().defaultTo('member')).execute();
  }
  if (!columns('rooms').has('slow_mode')) {
    await db.schema.alterTable('rooms').addColumn('slow_mode', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  }
  await db.schema
    .createTable('bans')
    .ifNotExists()
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('until', sql.raw(bigint))
    .addColumn('reason', 'text')
    .addColumn('by_user', 'text')
    .addColumn('at', sql.raw(bigint), (c) => c.notNull())
    .addPrimaryKeyConstraint('bans_pk', ['scope', 'user_id'])
    .execute();
  await db.schema
    .createTable('mutes')
    .ifNotExists()
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('until', sql.raw(bigint))
    .addColumn('by_user', 'text')
    .addColumn('at', sql.raw(bigint), (c) => c.notNull())
    .addPrimaryKeyConstraint('mutes_pk', ['room_id', 'user_id'])
    .execute();
  await db.schema
    .createTable('slow_turns')
    .ifNotExists()
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('last_at', sql.raw(bigint), (c) => c.notNull())
    .addPrimaryKeyConstraint('slow_turns_pk', ['room_id', 'user_id'])
    .execute();
}
