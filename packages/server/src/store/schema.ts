import { sql, type Kysely } from 'kysely';

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
}

export interface MembersTable {
  room_id: string;
  user_id: string;
  read_seq: number;
  joined_at: number;
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

export interface Database {
  secrets: SecretsTable;
  users: UsersTable;
  rooms: RoomsTable;
  members: MembersTable;
  messages: MessagesTable;
  sends: SendsTable;
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
    .addPrimaryKeyConstraint('messages_pk', ['room_id', 'seq'])
    .execute();
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
}
