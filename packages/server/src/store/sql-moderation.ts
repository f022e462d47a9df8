import type { Kysely, Transaction } from 'kysely';
import type { OutboxEvent, OutboxRouting } from './outbox.js';
import type { Database } from './schema.js';
import { SERVER_SCOPE } from './schema-moderation.js';
import { writeEventsIn } from './sql-outbox.js';
import type { BanRecord, MuteRecord, PostGate, RoomRole } from './store.js';

// The Store's moderation side (SqlStore delegates here): roles, bans, mutes and slow-mode turns.
// Expired bans and mutes are filtered at read ("checked at use"), and deleted when lifted or
// replaced, so no sweeper is needed.

type Db = Kysely<Database> | Transaction<Database>;
type Events = readonly OutboxEvent[] | undefined;

const scopeOf = (room: string | null): string => room ?? SERVER_SCOPE;
const num = (v: number | string | null): number | null => (v === null ? null : Number(v));
const activeAt = (until: number | string | null, now: number): boolean => until === null || Number(until) > now;

/** A stored role as the port's: the owner comes from rooms.owner, anything unknown is a member. */
export function roleOf(stored: string | null | undefined, owner: string | null, userId: string): RoomRole {
  if (owner !== null && owner === userId) return 'owner';
  return stored === 'admin' ? 'admin' : 'member';
}

export async function memberRole(db: Db, room: string, userId: string): Promise<RoomRole | null> {
  const row = await db
    .selectFrom('members')
    .innerJoin('rooms', 'rooms.id', 'members.room_id')
    .select(['members.role as role', 'rooms.owner as owner'])
    .where('members.room_id', '=', room)
    .where('members.user_id', '=', userId)
    .executeTakeFirst();
  return row ? roleOf(row.role, row.owner, userId) : null;
}

export async function setMemberRole(db: Db, room: string, userId: string, role: 'admin' | 'member'): Promise<boolean> {
  const res = await db.updateTable('members').set({ role }).where('room_id', '=', room).where('user_id', '=', userId).executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export async function putBan(db: Db, ban: BanRecord): Promise<void> {
  const row = { scope: scopeOf(ban.room), user_id: ban.user, until: ban.until, reason: ban.reason, by_user: ban.by, at: ban.at };
  await db
    .insertInto('bans')
    .values(row)
    .onConflict((oc) => oc.columns(['scope', 'user_id']).doUpdateSet({ until: row.until, reason: row.reason, by_user: row.by_user, at: row.at }))
    .execute();
}

function toBan(r: { scope: string; user_id: string; until: number | string | null; reason: string | null; by_user: string | null; at: number | string }): BanRecord {
  return { room: r.scope === SERVER_SCOPE ? null : r.scope, user: r.user_id, until: num(r.until), reason: r.reason, by: r.by_user, at: Number(r.at) };
}

export async function getBan(db: Db, room: string | null, userId: string, now: number): Promise<BanRecord | null> {
  const row = await db.selectFrom('bans').selectAll().where('scope', '=', scopeOf(room)).where('user_id', '=', userId).executeTakeFirst();
  return row && activeAt(row.until, now) ? toBan(row) : null;
}

export async function deleteBan(db: Db, room: string | null, userId: string, now: number): Promise<boolean> {
  const active = await getBan(db, room, userId, now);
  await db.deleteFrom('bans').where('scope', '=', scopeOf(room)).where('user_id', '=', userId).execute();
  return active !== null;
}

export async function listBans(db: Db, room: string | null, now: number): Promise<BanRecord[]> {
  const rows = await db.selectFrom('bans').selectAll().where('scope', '=', scopeOf(room)).orderBy('at').orderBy('user_id').execute();
  return rows.filter((r) => activeAt(r.until, now)).map(toBan);
}

export async function putMute(db: Db, mute: MuteRecord): Promise<void> {
  const row = { room_id: mute.room, user_id: mute.user, until: mute.until, by_user: mute.by, at: mute.at };
  await db
    .insertInto('mutes')
    .values(row)
    .onConflict((oc) => oc.columns(['room_id', 'user_id']).doUpdateSet({ until: row.until, by_user: row.by_user, at: row.at }))
    .execute();
}

function toMute(r: { room_id: string; user_id: string; until: number | string | null; by_user: string | null; at: number | string }): MuteRecord {
  return { room: r.room_id, user: r.user_id, until: num(r.until), by: r.by_user, at: Number(r.at) };
}

export async function getMute(db: Db, room: string, userId: string, now: number): Promise<MuteRecord | null> {
  const row = await db.selectFrom('mutes').selectAll().where('room_id', '=', room).where('user_id', '=', userId).executeTakeFirst();
  return row && activeAt(row.until, now) ? toMute(row) : null;
}

export async function deleteMute(db: Db, room: string, userId: string, now: number): Promise<boolean> {
  const active = await getMute(db, room, userId, now);
  await db.deleteFrom('mutes').where('room_id', '=', room).where('user_id', '=', userId).execute();
  return active !== null;
}

export async function listMutes(db: Db, room: string, now: number): Promise<MuteRecord[]> {
  const rows = await db.selectFrom('mutes').selectAll().where('room_id', '=', room).orderBy('at').orderBy('user_id').execute();
  return rows.filter((r) => activeAt(r.until, now)).map(toMute);
}

/** One query along three primary keys: the room, the sender's membership, their mute. */
export async function postGate(db: Db, room: string, userId: string, now: number): Promise<PostGate | null> {
  const row = await db
    .selectFrom('rooms')
    .leftJoin('members', (j) => j.onRef('members.room_id', '=', 'rooms.id').on('members.user_id', '=', userId))
    .leftJoin('mutes', (j) => j.onRef('mutes.room_id', '=', 'rooms.id').on('mutes.user_id', '=', userId))
    .select(['rooms.owner as owner', 'rooms.slow_mode as slow_mode', 'members.user_id as member', 'members.role as role', 'mutes.user_id as muted', 'mutes.until as until'])
    .where('rooms.id', '=', room)
    .executeTakeFirst();
  if (!row) return null;
  const muted = row.muted !== null && activeAt(row.until, now);
  return {
    role: row.member === null ? null : roleOf(row.role, row.owner, userId),
    mutedUntil: muted ? num(row.until) : undefined,
    slowMode: Number(row.slow_mode ?? 0),
  };
}

/** A deleted room's moderation rows go with it (inside deleteRoom's transaction). */
export async function deleteRoomModeration(trx: Transaction<Database>, room: string): Promise<void> {
  await trx.deleteFrom('bans').where('scope', '=', room).execute();
  await trx.deleteFrom('mutes').where('room_id', '=', room).execute();
  await trx.deleteFrom('slow_turns').where('room_id', '=', room).execute();
}

/**
 * The Store's moderation methods (and the membership check next to roles), as a base of SqlStore:
 * sql-store.ts stays within its size limit, and these read as one piece.
 */
export class SqlModeration {
  /** Who wants which webhook events (SqlStore's, handed over once it made it). */
  private outboxRouting: OutboxRouting | undefined;

  constructor(protected readonly db: Kysely<Database>) {}

  /** SqlStore hands over its outbox routing, so moderation's events go out with its changes. */
  protected useOutbox(routing: OutboxRouting): void {
    this.outboxRouting = routing;
  }

  /** Runs `write` in a transaction with its webhook events (only when it changed something). */
  private async withEvents(events: Events, write: (trx: Transaction<Database>) => Promise<boolean>): Promise<boolean> {
    const routing = this.outboxRouting;
    const wanted = routing !== undefined && routing.active && events !== undefined && events.length > 0;
    const { happened, wrote } = await this.db.transaction().execute(async (trx) => {
      const changed = await write(trx);
      return { happened: changed, wrote: wanted && changed ? await writeEventsIn(trx, routing, events) : false };
    });
    if (wrote) routing?.written();
    return happened;
  }

  async isMember(room: string, userId: string): Promise<boolean> {
    const row = await this.db.selectFrom('members').select('user_id').where('room_id', '=', room).where('user_id', '=', userId).executeTakeFirst();
    return row !== undefined;
  }

  async membersAmong(room: string, userIds: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < userIds.length; i += 500) {
      const chunk = userIds.slice(i, i + 500);
      for (const r of await this.db.selectFrom('members').select('user_id').where('room_id', '=', room).where('user_id', 'in', chunk).execute()) found.add(r.user_id);
    }
    return found;
  }

  memberRole(room: string, userId: string): Promise<RoomRole | null> {
    return memberRole(this.db, room, userId);
  }

  setMemberRole(room: string, userId: string, role: 'admin' | 'member', events?: Events): Promise<boolean> {
    return this.withEvents(events, (trx) => setMemberRole(trx, room, userId, role));
  }

  async putBan(ban: BanRecord, events?: Events): Promise<void> {
    await this.withEvents(events, async (trx) => (await putBan(trx, ban), true));
  }

  getBan(room: string | null, userId: string, now: number): Promise<BanRecord | null> {
    return getBan(this.db, room, userId, now);
  }

  deleteBan(room: string | null, userId: string, now: number, events?: Events): Promise<boolean> {
    return this.withEvents(events, (trx) => deleteBan(trx, room, userId, now));
  }

  listBans(room: string | null, now: number): Promise<BanRecord[]> {
    return listBans(this.db, room, now);
  }

  async putMute(mute: MuteRecord, events?: Events): Promise<void> {
    await this.withEvents(events, async (trx) => (await putMute(trx, mute), true));
  }

  getMute(room: string, userId: string, now: number): Promise<MuteRecord | null> {
    return getMute(this.db, room, userId, now);
  }

  deleteMute(room: string, userId: string, now: number, events?: Events): Promise<boolean> {
    return this.withEvents(events, (trx) => deleteMute(trx, room, userId, now));
  }

  listMutes(room: string, now: number): Promise<MuteRecord[]> {
    return listMutes(this.db, room, now);
  }

  postGate(room: string, userId: string, now: number): Promise<PostGate | null> {
    return postGate(this.db, room, userId, now);
  }
}
