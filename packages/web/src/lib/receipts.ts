import type { UserRef } from '@roomcast/client';
import { t } from './i18n.js';
import { who } from './people.js';
import { client, store, type MsgLine, type RosterEntry, type RoomState } from './store.js';

// How far each member has read, for "Seen by Bob, 小明" under my last message ("Read" in a direct
// conversation): the `members` list with each member's `readSeq`, fetched when the room is
// (re)joined or someone new arrives, then moved forward by `receipt` events. The roster also
// gives @-mention autocomplete everyone in the room, online or not.

const timers = new Map<string, ReturnType<typeof setTimeout>>();

/** Fetches the room's members and read cursors soon (several triggers at once make one request). */
export function refreshRoster(id: string): void {
  if (timers.has(id)) return;
  timers.set(
    id,
    setTimeout(() => {
      timers.delete(id);
      void fetchRoster(id);
    }, 150),
  );
}

async function fetchRoster(id: string): Promise<void> {
  const room = client()?.room(id);
  if (!room) return;
  try {
    const list = await room.listMembers();
    const r = store.rooms[id];
    if (!r) return;
    const known = new Map(r.roster.map((e) => [e.id, e.readSeq]));
    // A receipt may have come while the list was on its way: cursors only move forward.
    r.roster = list.map((m) => ({ id: m.id, name: m.name, readSeq: Math.max(Number(m.readSeq ?? 0), known.get(m.id) ?? 0) }));
  } catch {
    // "Seen by" waits for the next receipt or refresh.
  }
}

/** A `receipt` event: the user read up to `seq`. */
export function onReceipt(id: string, user: UserRef, seq: number): void {
  const r = store.rooms[id];
  if (!r) return;
  const e = r.roster.find((x) => x.id === user.id);
  if (e) e.readSeq = Math.max(e.readSeq, seq);
  else r.roster.push({ id: user.id, name: user.name, readSeq: seq });
}

/** The other members who have read the message with this seq. */
export function readers(r: RoomState, seq: number): RosterEntry[] {
  return r.roster.filter((e) => e.id !== store.me?.id && e.readSeq >= seq);
}

/** "Seen by Bob, 小明" ("Read" in a direct conversation) and the seq of my last message it goes under. */
export function seenUnderLast(r: RoomState): { seq: number; text: string } | null {
  const last = [...r.lines].reverse().find((l): l is MsgLine => l.kind === 'msg' && l.mine && !l.unsent);
  if (!last) return null;
  const names = readers(r, last.seq).map((e) => who(e));
  if (names.length === 0) return null;
  if (r.direct) return { seq: last.seq, text: t('msg.read') };
  const sep = t('msg.nameSep');
  if (names.length <= 3) return { seq: last.seq, text: t('msg.seenBy', { names: names.join(sep) }) };
  return { seq: last.seq, text: t('msg.seenByMany', { names: names.slice(0, 3).join(sep), n: names.length - 3, total: names.length }) };
}

/** Everyone I can mention here: members, and whoever is online (a guest who just came). */
export function mentionable(r: RoomState): UserRef[] {
  const out = new Map<string, UserRef>();
  for (const u of [...r.roster, ...r.members]) if (u.id !== store.me?.id && !out.has(u.id)) out.set(u.id, { id: u.id, name: u.name });
  return [...out.values()];
}
