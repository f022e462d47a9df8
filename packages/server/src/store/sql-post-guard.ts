import type { Transaction } from 'kysely';
import { muteActive, type PostGuardFacts } from './post-guard.js';
import type { Database } from './schema.js';
import type { AppendInput } from './store.js';

/**
 * What the moderated posts of a batch need to know, read in the batch's transaction (after the
 * rooms' counters were locked, so a kick, mute or turn committed before is seen): the senders'
 * memberships and roles, their mutes, and for rooms in slow mode their owner and last turns. A few queries per
 * batch, whatever its size; none when no post of the batch is moderated.
 */
export async function loadPostFacts(trx: Transaction<Database>, inputs: readonly AppendInput[]): Promise<PostGuardFacts | null> {
  const moderated = inputs.filter((i) => i.moderated !== undefined);
  if (moderated.length === 0) return null;
  const rooms = [...new Set(moderated.map((i) => i.room))];
  const users = [...new Set(moderated.map((i) => i.from.id))];
  const key = (room: string, user: string) => `${room}\u0000${user}`;
  const mutes = new Map<string, number | null>();
  for (const r of await trx.selectFrom('mutes').select(['room_id', 'user_id', 'until']).where('room_id', 'in', rooms).where('user_id', 'in', users).execute()) {
    mutes.set(key(r.room_id, r.user_id), r.until === null ? null : Number(r.until));
  }
  const settings = new Map<string, { slowMode: number; owner: string | null }>();
  for (const r of await trx.selectFrom('rooms').select(['id', 'slow_mode', 'owner']).where('id', 'in', rooms).execute()) {
    settings.set(r.id, { slowMode: Number(r.slow_mode ?? 0), owner: r.owner });
  }
  const slow = rooms.filter((r) => (settings.get(r)?.slowMode ?? 0) > 0);
  const members = new Set<string>();
  const admins = new Set<string>();
  for (const m of await trx.selectFrom('members').select(['room_id', 'user_id', 'role']).where('room_id', 'in', rooms).where('user_id', 'in', users).execute()) {
    members.add(key(m.room_id, m.user_id));
    if (m.role === 'admin') admins.add(key(m.room_id, m.user_id));
  }
  const turns = new Map<string, number>();
  if (slow.length > 0) {
    for (const t of await trx.selectFrom('slow_turns').select(['room_id', 'user_id', 'last_at']).where('room_id', 'in', slow).where('user_id', 'in', users).execute()) {
      turns.set(key(t.room_id, t.user_id), Number(t.last_at));
    }
  }
  return {
    member: (room, user) => members.has(key(room, user)),
    mutedUntil: (room, user, now) => {
      const k = key(room, user);
      if (!mutes.has(k)) return undefined;
      const until = mutes.get(k) ?? null;
      return muteActive(until, now) ? until : undefined;
    },
    slowMode: (room) => settings.get(room)?.slowMode ?? 0,
    exempt: (room, user) => settings.get(room)?.owner === user || admins.has(key(room, user)),
    lastTurn: (room, user) => turns.get(key(room, user)),
  };
}
