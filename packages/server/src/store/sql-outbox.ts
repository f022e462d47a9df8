import { sql, type Kysely, type Transaction } from 'kysely';
import type { CheckRow } from './outbox-append.js';
import type {
  OutboxBacklog,
  OutboxClaim,
  OutboxEvent,
  OutboxInsert,
  OutboxPort,
  OutboxRoute,
  OutboxRouting,
  OutboxRow,
  UnreachedCandidate,
  UnreachedCheck,
  UnreachedSummary,
} from './outbox.js';
import type { Database, SqlDialectName } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Rows per multi-row INSERT (far below the bind-parameter limits). */
const CHUNK = 200;

/** Writes outbox rows and unreached checks inside the caller's transaction. */
export async function writeOutboxIn(trx: Db, dialect: SqlDialectName, w: { rows: OutboxInsert[]; checks: CheckRow[] }): Promise<void> {
  for (let i = 0; i < w.rows.length; i += CHUNK) await trx.insertInto('webhook_outbox').values(w.rows.slice(i, i + CHUNK)).execute();
  const greatest = dialect === 'postgres' ? 'greatest' : 'max';
  for (const c of w.checks) {
    await trx
      .insertInto('webhook_checks')
      .values(c)
      .onConflict((oc) => oc.column('room_id').doUpdateSet({ to_seq: sql<number>`${sql.raw(greatest)}(webhook_checks.to_seq, excluded.to_seq)` }))
      .execute();
  }
}

/** Writes the rows of `events` (one per endpoint that wants each) in the caller's transaction. */
export async function writeEventsIn(trx: Db, routing: OutboxRouting, events: readonly OutboxEvent[] | undefined): Promise<boolean> {
  if (!events || events.length === 0 || !routing.active) return false;
  const rows = events.flatMap((e) => routing.rowsOf(e));
  for (let i = 0; i < rows.length; i += CHUNK) await trx.insertInto('webhook_outbox').values(rows.slice(i, i + CHUNK)).execute();
  return rows.length > 0;
}

/** The outbox methods of SqlStore, on the same Kysely instance. */
export class SqlOutbox implements OutboxPort {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
    readonly routing: OutboxRouting,
  ) {}

  configureOutbox(routes: readonly OutboxRoute[], opts?: { unreachedDelayMs?: number }): void {
    this.routing.configure(routes, opts);
  }

  outboxWants(type: string): boolean {
    return this.routing.wants(type);
  }

  onOutboxWrite(listener: () => void): void {
    this.routing.onWrite(listener);
  }

  async enqueueEvents(events: readonly OutboxEvent[]): Promise<void> {
    if (await writeEventsIn(this.db, this.routing, events)) this.routing.written();
  }

  claimOutbox(c: OutboxClaim): Promise<OutboxRow[]> {
    return this.db.transaction().execute(async (trx) => {
      // Only a lane's first row is sendable: a later one waits while an earlier one is retried
      // (or being sent by another node), which keeps a room's events in order.
      let q = trx
        .selectFrom('webhook_outbox as o')
        .select(['o.pos', 'o.endpoint', 'o.event_id', 'o.type', 'o.lane', 'o.body', 'o.created_at', 'o.attempts'])
        .where('o.endpoint', '=', c.endpoint)
        .where('o.next_at', '<=', c.now)
        .where('o.lease_until', '<', c.now)
        .where((eb) =>
          eb.or([
            eb('o.lane', 'is', null),
            eb.not(eb.exists(eb.selectFrom('webhook_outbox as p').select('p.pos').whereRef('p.endpoint', '=', 'o.endpoint').whereRef('p.lane', '=', 'o.lane').whereRef('p.pos', '<', 'o.pos'))),
          ]),
        )
        .orderBy('o.pos')
        .limit(c.limit);
      // Nodes claiming at once skip each other's rows instead of waiting or sending them twice.
      if (this.dialect === 'postgres') q = q.forUpdate().skipLocked();
      const rows = await q.execute();
      if (rows.length === 0) return [];
      await trx.updateTable('webhook_outbox').set({ lease_owner: c.owner, lease_until: c.leaseUntil }).where('pos', 'in', rows.map((r) => r.pos)).execute();
      return rows.map((r) => ({ pos: Number(r.pos), endpoint: r.endpoint, eventId: r.event_id, type: r.type, lane: r.lane, body: r.body, createdAt: Number(r.created_at), attempts: Number(r.attempts) }));
    });
  }

  async completeOutbox(pos: number): Promise<void> {
    await this.db.deleteFrom('webhook_outbox').where('pos', '=', pos).execute();
  }

  async retryOutbox(pos: number, nextAt: number, error: string): Promise<void> {
    await this.db
      .updateTable('webhook_outbox')
      .set((eb) => ({ next_at: nextAt, attempts: eb('attempts', '+', 1), lease_owner: null, lease_until: 0, last_error: error.slice(0, 500) }))
      .where('pos', '=', pos)
      .execute();
  }

  async releaseOutboxLeases(owner: string | null): Promise<void> {
    let q = this.db.updateTable('webhook_outbox').set({ lease_owner: null, lease_until: 0 }).where('lease_until', '>', 0);
    if (owner !== null) q = q.where('lease_owner', '=', owner);
    await q.execute();
    let c = this.db.updateTable('webhook_checks').set({ lease_owner: null, lease_until: 0 }).where('lease_until', '>', 0);
    if (owner !== null) c = c.where('lease_owner', '=', owner);
    await c.execute();
  }

  async outboxBacklog(): Promise<OutboxBacklog[]> {
    const rows = await this.db
      .selectFrom('webhook_outbox')
      .select((eb) => ['endpoint', eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('oldest')])
      .groupBy('endpoint')
      .execute();
    const result: OutboxBacklog[] = [];
    for (const r of rows) {
      const err = await this.db
        .selectFrom('webhook_outbox')
        .select('last_error')
        .where('endpoint', '=', r.endpoint)
        .where('last_error', 'is not', null)
        .orderBy('next_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      result.push({ endpoint: r.endpoint, pending: Number(r.n), oldestTs: r.oldest === null ? null : Number(r.oldest), lastError: err?.last_error ?? null });
    }
    return result;
  }

  claimUnreachedChecks(c: Omit<OutboxClaim, 'endpoint'>): Promise<UnreachedCheck[]> {
    return this.db.transaction().execute(async (trx) => {
      let q = trx
        .selectFrom('webhook_checks')
        .select(['room_id', 'from_seq', 'to_seq'])
        .where('due_at', '<=', c.now)
        .where('lease_until', '<', c.now)
        .orderBy('due_at')
        .limit(c.limit);
      if (this.dialect === 'postgres') q = q.forUpdate().skipLocked();
      const rows = await q.execute();
      if (rows.length === 0) return [];
      await trx.updateTable('webhook_checks').set({ lease_owner: c.owner, lease_until: c.leaseUntil }).where('room_id', 'in', rows.map((r) => r.room_id)).execute();
      return rows.map((r) => ({ room: r.room_id, fromSeq: Number(r.from_seq), toSeq: Number(r.to_seq) }));
    });
  }

  async unreachedCandidates(check: UnreachedCheck): Promise<{ upTo: number; candidates: UnreachedCandidate[] } | null> {
    const room = await this.db.selectFrom('rooms').select('last_seq').where('id', '=', check.room).executeTakeFirst();
    if (!room) return null;
    const upTo = Number(room.last_seq);
    const rows = await this.db
      .selectFrom('members')
      .innerJoin('users', 'users.id', 'members.user_id')
      .leftJoin('webhook_told', (j) => j.onRef('webhook_told.room_id', '=', 'members.room_id').onRef('webhook_told.user_id', '=', 'members.user_id'))
      .select(['users.id as id', 'users.name as name', 'members.read_seq as read_seq', 'webhook_told.seq as told'])
      .where('members.room_id', '=', check.room)
      .where('members.read_seq', '<', upTo)
      .execute();
    const candidates: UnreachedCandidate[] = [];
    for (const r of rows) {
      // Only messages since the check began count: older unread ones were another check's.
      const after = Math.max(Number(r.read_seq), r.told === null ? 0 : Number(r.told), check.fromSeq - 1);
      if (after < upTo) candidates.push({ user: { id: r.id, name: r.name }, after });
    }
    return { upTo, candidates };
  }

  async unreachedSummary(room: string, user: string, after: number, upTo: number): Promise<UnreachedSummary | null> {
    const agg = await this.db
      .selectFrom('messages')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('seq').as('first'), eb.fn.max('seq').as('last')])
      .where('room_id', '=', room)
      .where('seq', '>', after)
      .where('seq', '<=', upTo)
      .where('kind', '=', 'msg')
      .where('unsent', '=', 0)
      .where('user_id', '!=', user)
      .executeTakeFirst();
    if (!agg || Number(agg.n) === 0 || agg.last === null || agg.first === null) return null;
    const m = await this.db
      .selectFrom('messages')
      .select(['msg_id', 'seq', 'user_id', 'user_name', 'ts', 'text', 'mime'])
      .where('room_id', '=', room)
      .where('seq', '=', Number(agg.last))
      .executeTakeFirst();
    if (!m) return null;
    const last: UnreachedSummary['last'] = { id: m.msg_id, seq: Number(m.seq), from: { id: m.user_id, name: m.user_name }, ts: Number(m.ts) };
    if (m.text !== null) last.text = m.text;
    if (m.mime !== null) last.mime = m.mime;
    return { count: Number(agg.n), firstSeq: Number(agg.first), lastSeq: Number(agg.last), last };
  }

  async finishUnreachedCheck(check: UnreachedCheck, upTo: number, events: readonly OutboxEvent[], told: readonly string[], nextDue: number): Promise<void> {
    const wrote = await this.db.transaction().execute(async (trx) => {
      const wrote = await writeEventsIn(trx, this.routing, events);
      for (const user of told) {
        await trx
          .insertInto('webhook_told')
          .values({ room_id: check.room, user_id: user, seq: upTo })
          .onConflict((oc) => oc.columns(['room_id', 'user_id']).doUpdateSet({ seq: upTo }))
          .execute();
      }
      const now = await trx.selectFrom('webhook_checks').select('to_seq').where('room_id', '=', check.room).executeTakeFirst();
      if (!now || Number(now.to_seq) <= upTo) {
        await trx.deleteFrom('webhook_checks').where('room_id', '=', check.room).execute();
      } else {
        // Messages came in while this check ran: they get a check of their own, a delay later.
        await trx.updateTable('webhook_checks').set({ from_seq: upTo + 1, due_at: nextDue, lease_owner: null, lease_until: 0 }).where('room_id', '=', check.room).execute();
      }
      return wrote;
    });
    if (wrote) this.routing.written();
  }
}
