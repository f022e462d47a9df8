import { sql, type Kysely } from 'kysely';
import type { UserRef } from '@roomcast/protocol';
import { MissingRoomError } from './append-plan.js';
import { Batcher } from './batcher.js';
import { writeBatchIn } from './sql-append.js';
import { toRoom } from './rows.js';
import { readMessages } from './read-messages.js';
import { listMembers, listRooms, memberCounts, memberRoomIds, memberSince, nextJoinedAt } from './sql-admin.js';
import { MessageReads } from './sql-reads.js';
import { pruneMessages } from './retention.js';
import { searchMessages } from './sql-search.js';
import { unreadColumns } from './unread.js';
import { migrate, type Database, type RoomsTable, type SqlDialectName } from './schema.js';
import type {
  AddMemberResult,
  AppendInput,
  AppendResult,
  BinaryPayload,
  MemberPage,
  MemberRecord,
  MembershipRecord,
  NewRoom,
  RoomListQuery,
  ReadOptions,
  RoomCursor,
  RoomPatch,
  RoomRecord,
  SearchQuery,
  Store,
  StoredMessage,
} from './store.js';

export { MissingRoomError };

/**
 * The Store on Kysely: one set of queries for SQLite and PostgreSQL. Appends are group-committed:
 * everything appended in one event-loop turn is one transaction, and each append resolves only
 * after that transaction committed.
 */
export class SqlStore implements Store {
  private readonly appender: Batcher<AppendInput, AppendResult>;
  private readonly reads: MessageReads;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
    private readonly onClose: () => Promise<void> = async () => {},
    /** A faster synchronous group commit for this engine (SQLite), run on Kysely's connection. */
    private readonly nativeAppend?: (inputs: AppendInput[]) => Array<AppendResult | Error>,
  ) {
    this.reads = new MessageReads(db);
    this.appender = new Batcher({ write: (batch) => this.writeBatch(batch), maxBatch: 512 });
  }

  migrate(): Promise<void> {
    if (this.dialect !== 'postgres') return migrate(this.db, this.dialect);
    // Nodes starting together would race on CREATE TABLE: one migrates at a time.
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(7324213)`.execute(trx);
      await migrate(trx, this.dialect);
    });
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.appender.drain();
    await this.db.destroy();
    await this.onClose();
  }

  async upsertUser(user: UserRef): Promise<void> {
    await this.db
      .insertInto('users')
      .values({ id: user.id, name: user.name, created_at: Date.now() })
      .onConflict((oc) => oc.column('id').doUpdateSet({ name: user.name }))
      .execute();
  }

  async getUser(id: string): Promise<UserRef | null> {
    const row = await this.db.selectFrom('users').select(['id', 'name']).where('id', '=', id).executeTakeFirst();
    return row ?? null;
  }

  async createRoom(room: NewRoom): Promise<boolean> {
    const res = await this.db
      .insertInto('rooms')
      .values({
        id: room.id,
        title: room.title,
        capacity: room.capacity,
        visibility: room.visibility,
        persist: room.persist ? 1 : 0,
        direct: room.direct ? 1 : 0,
        owner: room.owner,
        created_at: room.createdAt,
        last_seq: 0,
        msg_count: 0,
        retention: room.retention,
        receipts: room.receipts ? 1 : 0,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async getRoom(id: string): Promise<RoomRecord | null> {
    const row = await this.db.selectFrom('rooms').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRoom(row) : null;
  }

  async updateRoom(id: string, patch: RoomPatch): Promise<RoomRecord | null> {
    const set: Partial<Pick<RoomsTable, 'title' | 'capacity' | 'retention' | 'receipts'>> = {};
    if (patch.title !== undefined) set.title = patch.title;
    if (patch.capacity !== undefined) set.capacity = patch.capacity;
    if (patch.retention !== undefined) set.retention = patch.retention;
    if (patch.receipts !== undefined) set.receipts = patch.receipts ? 1 : 0;
    if (Object.keys(set).length > 0) await this.db.updateTable('rooms').set(set).where('id', '=', id).execute();
    return this.getRoom(id);
  }

  async deleteRoom(id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('messages').where('room_id', '=', id).execute();
      await trx.deleteFrom('reactions').where('room_id', '=', id).execute();
      await trx.deleteFrom('mentions').where('room_id', '=', id).execute();
      await trx.deleteFrom('members').where('room_id', '=', id).execute();
      await trx.deleteFrom('sends').where('room_id', '=', id).execute();
      await trx.deleteFrom('rooms').where('id', '=', id).execute();
    });
  }

  async deleteEphemeralRooms(): Promise<number> {
    const rows = await this.db.selectFrom('rooms').select('id').where('persist', '=', 0).execute();
    for (const r of rows) await this.deleteRoom(r.id);
    return rows.length;
  }

  async publicRooms(limit: number): Promise<RoomRecord[]> {
    const rows = await this.db
      .selectFrom('rooms')
      .selectAll()
      .where('visibility', '=', 'public')
      .where('direct', '=', 0)
      .orderBy('last_seq', 'desc')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toRoom);
  }

  async countOwnedRooms(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('rooms')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('owner', '=', userId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async countRooms(): Promise<number> {
    const row = await this.db
      .selectFrom('rooms')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async addMember(room: string, userId: string, capacity: number | null, now: number): Promise<AddMemberResult> {
    return this.db.transaction().execute(async (trx) => {
      if (this.dialect === 'postgres') {
        // Serializes concurrent joins of one room so the capacity check holds.
        await trx.selectFrom('rooms').select('id').where('id', '=', room).forUpdate().execute();
      }
      const existing = await trx
        .selectFrom('members')
        .select('user_id')
        .where('room_id', '=', room)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (existing) return 'already';
      if (capacity !== null) {
        const row = await trx
          .selectFrom('members')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('room_id', '=', room)
          .executeTakeFirstOrThrow();
        if (Number(row.n) >= capacity) return 'full';
      }
      // A new member starts with everything before now read: unread counts what came after joining.
      const seqRow = await trx.selectFrom('rooms').select('last_seq').where('id', '=', room).executeTakeFirst();
      const joinedAt = await nextJoinedAt(trx, room, now);
      await trx
        .insertInto('members')
        .values({ room_id: room, user_id: userId, read_seq: Number(seqRow?.last_seq ?? 0), joined_at: joinedAt })
        .execute();
      return 'added';
    });
  }

  async removeMember(room: string, userId: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom('members')
      .where('room_id', '=', room)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  memberSince(room: string, userId: string): Promise<number | null> {
    return memberSince(this.db, room, userId);
  }

  async isMember(room: string, userId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('members')
      .select('user_id')
      .where('room_id', '=', room)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row !== undefined;
  }

  listRooms(query: RoomListQuery): Promise<RoomRecord[]> {
    return listRooms(this.db, this.dialect, query);
  }

  memberCounts(rooms: string[]): Promise<Map<string, number>> {
    return memberCounts(this.db, rooms);
  }

  listMembers(room: string, page?: MemberPage): Promise<MemberRecord[]> {
    return listMembers(this.db, room, page);
  }

  memberRoomIds(userId: string, limit: number): Promise<string[]> {
    return memberRoomIds(this.db, userId, limit);
  }

  async memberRooms(userId: string, page?: { limit: number; after?: RoomCursor | undefined }): Promise<MembershipRecord[]> {
    let q = this.db
      .selectFrom('members')
      .innerJoin('rooms', 'rooms.id', 'members.room_id')
      .selectAll('rooms')
      .select('members.read_seq as read_seq')
      .select(unreadColumns(userId))
      .where('members.user_id', '=', userId);
    const after = page?.after;
    if (after) {
      q = q.where((eb) => eb.or([eb('rooms.last_seq', '<', after.lastSeq), eb.and([eb('rooms.last_seq', '=', after.lastSeq), eb('rooms.id', '>', after.id)])]));
    }
    q = q.orderBy('rooms.last_seq', 'desc').orderBy('rooms.id');
    if (page) q = q.limit(page.limit);
    const rows = await q.execute();
    const result: MembershipRecord[] = rows.map((r) => ({ ...toRoom(r), readSeq: Number(r.read_seq), unread: Number(r.unread), mentions: Number(r.unread_mentions) }));
    const direct = result.filter((r) => r.direct).map((r) => r.id);
    if (direct.length > 0) {
      const peers = await this.db
        .selectFrom('members')
        .innerJoin('users', 'users.id', 'members.user_id')
        .select(['members.room_id as room_id', 'users.id as id', 'users.name as name'])
        .where('members.room_id', 'in', direct)
        .where('members.user_id', '!=', userId)
        .execute();
      const byRoom = new Map(peers.map((p) => [p.room_id, { id: p.id, name: p.name }]));
      for (const r of result) {
        const peer = byRoom.get(r.id);
        if (peer) r.peer = peer;
      }
    }
    return result;
  }

  async setReadSeq(room: string, userId: string, seq: number): Promise<number> {
    return (await this.moveReadSeq(room, userId, seq)).readSeq;
  }

  async moveReadSeq(room: string, userId: string, seq: number): Promise<{ readSeq: number; moved: boolean }> {
    const res = await this.db
      .updateTable('members')
      .set({ read_seq: seq })
      .where('room_id', '=', room)
      .where('user_id', '=', userId)
      .where('read_seq', '<', seq)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) > 0) return { readSeq: seq, moved: true };
    const row = await this.db
      .selectFrom('members')
      .select('read_seq')
      .where('room_id', '=', room)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return { readSeq: Number(row?.read_seq ?? 0), moved: false };
  }

  async unreadOf(room: string, userId: string, readSeq: number): Promise<{ unread: number; mentions: number }> {
    const row = await this.db
      .selectFrom('rooms')
      .innerJoin('members', (j) => j.onRef('members.room_id', '=', 'rooms.id').on('members.user_id', '=', userId))
      .select(unreadColumns(userId, readSeq))
      .where('rooms.id', '=', room)
      .executeTakeFirst();
    return { unread: Number(row?.unread ?? 0), mentions: Number(row?.unread_mentions ?? 0) };
  }

  append(input: AppendInput): Promise<AppendResult> {
    return this.appender.push(input);
  }

  messagesAfter(room: string, since: number, limit: number, opts: ReadOptions = {}): Promise<StoredMessage[]> {
    return this.reads.after(room, since, limit, opts.viewer);
  }

  messagesBefore(room: string, before: number | null, limit: number, opts: ReadOptions = {}): Promise<StoredMessage[]> {
    return this.reads.before(room, before, limit, opts.viewer);
  }

  messagesSince(room: string, after: number, limit: number, opts: ReadOptions = {}): Promise<StoredMessage[]> {
    return this.reads.since(room, after, limit, opts.viewer);
  }

  getMessage(room: string, seq: number, opts: ReadOptions = {}): Promise<StoredMessage | null> {
    return this.reads.one(room, seq, opts.viewer);
  }

  async search(query: SearchQuery): Promise<StoredMessage[]> {
    return readMessages(this.db, await searchMessages(this.db, this.dialect, query), query.userId);
  }

  pruneMessages(now: number, defaultDays: number): Promise<number> {
    return pruneMessages(this.db, now, defaultDays);
  }

  getBlob(room: string, seq: number): Promise<BinaryPayload | null> {
    return this.reads.getBlob(room, seq);
  }

  async pruneDedup(olderThan: number): Promise<number> {
    const res = await this.db.deleteFrom('sends').where('ts', '<', olderThan).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  async sharedSecret(name: string, candidate: string): Promise<string> {
    await this.db.insertInto('secrets').values({ name, value: candidate }).onConflict((oc) => oc.column('name').doNothing()).execute();
    const row = await this.db.selectFrom('secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow();
    return row.value;
  }

  /** One transaction for a whole batch of appends: seqs, dedup, messages, read cursors. */
  private writeBatch(inputs: AppendInput[]): Promise<Array<AppendResult | Error>> {
    const native = this.nativeAppend;
    // Holding Kysely's connection keeps the commit out of any Kysely transaction in progress.
    if (native) return this.db.connection().execute(async () => native(inputs));
    return this.db.transaction().execute((trx) => writeBatchIn(trx, this.dialect, inputs));
  }
}
