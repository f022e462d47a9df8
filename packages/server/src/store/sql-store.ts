import { sql, type Kysely } from 'kysely';
import type { UserRef } from '@roomcast/protocol';
import { MissingRoomError } from './append-plan.js';
import { Batcher } from './batcher.js';
import { writeBatchIn } from './sql-append.js';
import { RoomLockedError } from './pg-append.js';
import { toRoom } from './rows.js';
import { readMessages } from './read-messages.js';
import { listMembers, listRooms, memberCounts, memberRoomIds, memberSince } from './sql-admin.js';
import { MessageReads } from './sql-reads.js';
import { pruneMessages } from './retention.js';
import { searchMessages } from './sql-search.js';
import { SqlIdempotency } from './sql-idempotency.js';
import { SqlModeration } from './sql-moderation.js';
import { OutboxRouting, type OutboxBacklog, type OutboxClaim, type OutboxEvent, type OutboxRoute, type OutboxRow, type UnreachedCheck } from './outbox.js';
import { SqlOutbox } from './sql-outbox.js';
import * as rooms from './sql-outbox-rooms.js';
import { unreadColumns } from './unread.js';
import { migrate, type Database, type SqlDialectName } from './schema.js';
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
export class SqlStore extends SqlModeration implements Store {
  private readonly appender: Batcher<AppendInput, AppendResult>;
  private readonly reads: MessageReads;
  /** Webhook events: who wants which, and the outbox's queries (sql-outbox.ts). */
  private readonly routing = new OutboxRouting();
  private readonly outbox: SqlOutbox;
  private readonly writes: rooms.RoomWrites;

  constructor(
    db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
    private readonly onClose: () => Promise<void> = async () => {},
    /** A faster synchronous group commit for this engine (SQLite), run on Kysely's connection. */
    private readonly nativeAppend?: (inputs: AppendInput[], routing: OutboxRouting) => Array<AppendResult | Error>,
    /** PostgreSQL: how long an append waits for a room another node holds, and batches in flight. */
    concurrent?: { lockWaitMs: number; inFlight: number; writeTimeoutMs?: number },
  ) {
    super(db);
    this.reads = new MessageReads(db);
    this.outbox = new SqlOutbox(db, dialect, this.routing);
    this.useOutbox(this.routing);
    this.writes = { db, dialect, routing: this.routing };
    const write = (batch: AppendInput[]) => this.writeBatch(batch);
    this.appender = new Batcher(
      concurrent
        ? {
            write,
            maxBatch: 512,
            // Batches of disjoint rooms run side by side once one is slow: a stuck batch holds
            // up its own rooms only.
            maxInFlight: concurrent.inFlight,
            overlapAfterMs: 200,
            keyOf: (i) => i.room,
            retryable: (e) => e instanceof RoomLockedError,
            retryForMs: concurrent.lockWaitMs,
            retryDelayMs: 20,
            ...(concurrent.writeTimeoutMs ? { writeTimeoutMs: concurrent.writeTimeoutMs } : {}),
          }
        : { write, maxBatch: 512 },
    );
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

  createRoom(room: NewRoom, events?: readonly OutboxEvent[]): Promise<boolean> {
    return rooms.createRoom(this.writes, room, events);
  }

  async getRoom(id: string): Promise<RoomRecord | null> {
    const row = await this.db.selectFrom('rooms').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRoom(row) : null;
  }

  updateRoom(id: string, patch: RoomPatch, events?: readonly OutboxEvent[]): Promise<RoomRecord | null> {
    return rooms.updateRoom(this.writes, id, patch, events);
  }

  deleteRoom(id: string, events?: readonly OutboxEvent[]): Promise<void> {
    return rooms.deleteRoom(this.writes, id, events);
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

  addMember(room: string, userId: string, capacity: number | null, now: number, events?: readonly OutboxEvent[]): Promise<AddMemberResult> {
    return rooms.addMember(this.writes, room, userId, capacity, now, events);
  }

  removeMember(room: string, userId: string, events?: readonly OutboxEvent[]): Promise<boolean> {
    return rooms.removeMember(this.writes, room, userId, events);
  }

  memberSince(room: string, userId: string): Promise<number | null> {
    return memberSince(this.db, room, userId);
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

  idempotency(): SqlIdempotency {
    return new SqlIdempotency(this.db);
  }

  configureOutbox(routes: readonly OutboxRoute[], opts?: { unreachedDelayMs?: number }): void { this.outbox.configureOutbox(routes, opts); }
  outboxWants(type: string): boolean { return this.routing.wants(type); }
  onOutboxWrite(listener: () => void): void { this.routing.onWrite(listener); }
  enqueueEvents(events: readonly OutboxEvent[]): Promise<void> { return this.outbox.enqueueEvents(events); }
  claimOutbox(c: OutboxClaim): Promise<OutboxRow[]> { return this.outbox.claimOutbox(c); }
  completeOutbox(pos: number): Promise<void> { return this.outbox.completeOutbox(pos); }
  retryOutbox(pos: number, nextAt: number, error: string): Promise<void> { return this.outbox.retryOutbox(pos, nextAt, error); }
  releaseOutboxLeases(owner: string | null): Promise<void> { return this.outbox.releaseOutboxLeases(owner); }
  outboxBacklog(): Promise<OutboxBacklog[]> { return this.outbox.outboxBacklog(); }
  claimUnreachedChecks(c: Omit<OutboxClaim, 'endpoint'>): Promise<UnreachedCheck[]> { return this.outbox.claimUnreachedChecks(c); }
  unreachedCandidates(...a: Parameters<SqlOutbox['unreachedCandidates']>) { return this.outbox.unreachedCandidates(...a); }
  unreachedSummary(...a: Parameters<SqlOutbox['unreachedSummary']>) { return this.outbox.unreachedSummary(...a); }
  finishUnreachedCheck(...a: Parameters<SqlOutbox['finishUnreachedCheck']>) { return this.outbox.finishUnreachedCheck(...a); }

  async sharedSecret(name: string, candidate: string): Promise<string> {
    await this.db.insertInto('secrets').values({ name, value: candidate }).onConflict((oc) => oc.column('name').doNothing()).execute();
    const row = await this.db.selectFrom('secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow();
    return row.value;
  }

  /** One transaction for a whole batch of appends: seqs, dedup, messages, read cursors. */
  private writeBatch(inputs: AppendInput[]): Promise<Array<AppendResult | Error>> {
    const native = this.nativeAppend;
    // Holding Kysely's connection keeps the commit out of any Kysely transaction in progress.
    if (native) return this.db.connection().execute(async () => native(inputs, this.routing));
    const done = this.db.transaction().execute((trx) => writeBatchIn(trx, this.dialect, inputs, this.routing));
    // Wakes the dispatcher once committed (SQLite's native commit does it itself).
    return this.routing.active ? done.then((r) => (this.routing.written(), r)) : done;
  }
}
