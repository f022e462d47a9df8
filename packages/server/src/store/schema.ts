import { sql, type Kysely } from 'kysely';
import { migrateIdempotency, type IdempotencyTable } from './schema-idempotency.js';
import { migrateModeration, type ModerationTables } from './schema-moderation.js';
import { migrateOutbox, type OutboxTables } from './schema-outbox.js';

// Tables shared by every SQL store. Booleans are integers and times are ms since epoch, so one
// set of queries runs on SQLite and PostgreSQL alike.

export interface UsersTable {
  id: string;
  name: string;
  created_at: number;
}

export interface RoomsTable {
  id: string;
  title: string | null;
  capacity: number | null;
  visibility: string;
  persist: number;
  direct: number;
  owner: string | null;
  created_at: number;
  last_seq: number;
  /** How many `msg` events the room's stream has had (unread counts, see messages.num). */
  msg_count: number;
  /** Days messages are kept; null: the server's default. */
  retention: number | null;
  receipts: number;
  /** Slow mode: seconds between one member's messages; 0: off (schema-moderation.ts). */
  slow_mode?: number;
}

export interface MembersTable {
  room_id: string;
  user_id: string;
  read_seq: number;
  joined_at: number;
  /** 'admin' or 'member'; the owner is rooms.owner (schema-moderation.ts). */
  role?: string;
}

export interface MessagesTable {
  room_id: string;
  seq: number;
  msg_id: string;
  user_id: string;
  user_name: string;
  text: string | null;
  meta: string | null;
  mime: string | null;
  file_name: string | null;
  size: number | null;
  blob: Uint8Array | null;
  ts: number;
  /** What the stream event is: msg, edit, unsend or reaction. */
  kind: string;
  /** Change events: the seq of the message they change. */
  target: number | null;
  /** msg: the ordinal among the room's msgs (1, 2, 3…), so unread counts are one look-up. */
  num: number;
  /** msg: the seq it answers. */
  reply_to: number | null;
  /** msg: JSON array of the user ids it mentions. */
  mentions: string | null;
  /** msg: when it was last edited. */
  edited_at: number | null;
  /** msg: taken back (text, meta and blob are gone). */
  unsent: number;
  /** reaction events: JSON {emoji, on, count}. */
  detail: string | null;
}

export interface ReactionsTable {
  room_id: string;
  seq: number;
  emoji: string;
  user_id: string;
  ts: number;
}

export interface MentionsTable {
  room_id: string;
  seq: number;
  user_id: string;
}

export interface SendsTable {
  user_id: string;
  client_id: string;
  room_id: string;
  seq: number;
  msg_id: string;
  ts: number;
}

export interface SecretsTable {
  name: string;
  value: string;
}

export interface Database extends ModerationTables, OutboxTables {
  secrets: SecretsTable;
  idempotency: IdempotencyTable;
  users: UsersTable;
  rooms: RoomsTable;
  members: MembersTable;
  messages: MessagesTable;
  sends: SendsTable;
  reactions: ReactionsTable;
  mentions: MentionsTable;
}

export type SqlDialectName = 'sqlite' | 'postgres';

/** Creates the schema if it is missing. Idempotent; run at every start. */
export async function migrate(db: Kysely<Database>, dialect: SqlDialectName): Promise<void> {
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';
  const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
  await db.schema
    .createTable('users')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', sql.raw(bigint), (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('rooms')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('title', 'text')
    .addColumn('capacity', 'integer')
    .addColumn('visibility', 'text', (c) => c.notNull())
    .addColumn('persist', 'integer', (c) => c.notNull())
    .addColumn('direct', 'integer', (c) => c.notNull())
    .addColumn('owner', 'text')
    .addColumn('created_at', sql.raw(bigint), (c) => c.notNull())
    .addColumn('last_seq', sql.raw(bigint), (c) => c.notNull().defaultTo(0))
    .addColumn('msg_count', sql.raw(bigint), (c) => c.notNull().defaultTo(0))
    .addColumn('retention', 'integer')
    .addColumn('receipts', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  // Room quotas count a user's rooms; the owner never changes, so appends never touch this index.
  await db.schema.createIndex('rooms_by_owner').ifNotExists().on('rooms').column('owner').execute();
  await db.schema
    .createTable('members')
    .ifNotExists()
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('read_seq', sql.raw(bigint), (c) => c.notNull().defaultTo(0))
    .addColumn('joined_at', sql.raw(bigint), (c) => c.notNull())
    .addPrimaryKeyConstraint('members_pk', ['room_id', 'user_id'])
    .execute();
  await db.schema.createIndex('members_by_user').ifNotExists().on('members').columns(['user_id', 'room_id']).execute();
  // A room's members page by page in the order they joined (the admin API), without a sort.
  await db.schema.createIndex('members_by_joined').ifNotExists().on('members').columns(['room_id', 'joined_at', 'user_id']).execute();
  await db.schema
    .createTable('messages')
    .ifNotExists()
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('seq', sql.raw(bigint), (c) => c.notNull())
    .addColumn('msg_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('user_name', 'text', (c) => c.notNull())
    .addColumn('text', 'text')
    .addColumn('meta', 'text')
    .addColumn('mime', 'text')
    .addColumn('file_name', 'text')
    .addColumn('size', 'integer')
    .addColumn('blob', sql.raw(bytes))
    .addColumn('ts', sql.raw(bigint), (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().defaultTo('msg'))
    .addColumn('target', sql.raw(bigint))
    .addColumn('num', sql.raw(bigint), (c) => c.notNull().defaultTo(0))
    .addColumn('reply_to', sql.raw(bigint))
    .addColumn('mentions', 'text')
    .addColumn('edited_at', sql.raw(bigint))
    .addColumn('unsent', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('detail', 'text')
    .addPrimaryKeyConstraint('messages_pk', ['room_id', 'seq'])
    .execute();
  await upgradeMessageFeatures(db, bigint);
  // Change events by the message they change (an unsend empties its edits too). Partial: messages
  // themselves (target null) are most rows and never looked up so, and skip it on insert.
  await sql`create index if not exists messages_by_target on messages (room_id, target) where target is not null`.execute(db);
  // Retention deletes by age.
  await db.schema.createIndex('messages_by_ts').ifNotExists().on('messages').column('ts').execute();
  await db.schema
    .createTable('reactions')
    .ifNotExists()
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('seq', sql.raw(bigint), (c) => c.notNull())
    .addColumn('emoji', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('ts', sql.raw(bigint), (c) => c.notNull())
    .addPrimaryKeyConstraint('reactions_pk', ['room_id', 'seq', 'emoji', 'user_id'])
    .execute();
  await db.schema
    .createTable('mentions')
    .ifNotExists()
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('seq', sql.raw(bigint), (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('mentions_pk', ['room_id', 'seq', 'user_id'])
    .execute();
  // Unread mentions of a user in a room: seq above their read cursor.
  await db.schema.createIndex('mentions_by_user').ifNotExists().on('mentions').columns(['user_id', 'room_id', 'seq']).execute();
  await db.schema
    .createTable('sends')
    .ifNotExists()
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('seq', sql.raw(bigint), (c) => c.notNull())
    .addColumn('msg_id', 'text', (c) => c.notNull())
    .addColumn('ts', sql.raw(bigint), (c) => c.notNull())
    .addPrimaryKeyConstraint('sends_pk', ['user_id', 'client_id'])
    .execute();
  await db.schema.createIndex('sends_by_ts').ifNotExists().on('sends').column('ts').execute();
  await db.schema
    .createTable('secrets')
    .ifNotExists()
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  await migrateModeration(db, bigint);
  await migrateIdempotency(db, bigint);
  await migrateOutbox(db, dialect);
}

/**
 * Databases made before message features had messages without kind/num and rooms without
 * msg_count: adds the columns, and numbers the old messages (all were msgs, seqs gapless from 1).
 */
async function upgradeMessageFeatures(db: Kysely<Database>, bigint: string): Promise<void> {
  const tables = await db.introspection.getTables();
  const columns = (name: string) => new Set(tables.find((t) => t.name === name)?.columns.map((c) => c.name) ?? []);
  const rooms = columns('rooms');
  if (!rooms.has('msg_count')) {
    await db.schema.alterTable('rooms').addColumn('msg_count', sql.raw(bigint), (c) => c.notNull().defaultTo(0)).execute();
    await db.updateTable('rooms').set({ msg_count: sql<number>`last_seq` }).where('persist', '=', 1).execute();
  }
  if (!rooms.has('retention')) await db.schema.alterTable('rooms').addColumn('retention', 'integer').execute();
  if (!rooms.has('receipts')) await db.schema.alterTable('rooms').addColumn('receipts', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  const messages = columns('messages');
  const added: Array<[string, (t: ReturnType<Kysely<Database>['schema']['alterTable']>) => { execute(): Promise<void> }]> = [
    ['kind', (t) => t.addColumn('kind', 'text', (c) => c.notNull().defaultTo('msg'))],
    ['target', (t) => t.addColumn('target', sql.raw(bigint))],
    ['num', (t) => t.addColumn('num', sql.raw(bigint), (c) => c.notNull().defaultTo(0))],
    ['reply_to', (t) => t.addColumn('reply_to', sql.raw(bigint))],
    ['mentions', (t) => t.addColumn('mentions', 'text')],
    ['edited_at', (t) => t.addColumn('edited_at', sql.raw(bigint))],
    ['unsent', (t) => t.addColumn('unsent', 'integer', (c) => c.notNull().defaultTo(0))],
    ['detail', (t) => t.addColumn('detail', 'text')],
  ];
  for (const [name, add] of added) if (!messages.has(name)) await add(db.schema.alterTable('messages')).execute();
  if (!messages.has('num')) await db.updateTable('messages').set({ num: sql<number>`seq` }).execute();
}
