import { RoomcastError, type Room, type UserRef } from '@roomcast/client';
import { shareLink } from './links.js';
import { client, store } from './store.js';

// Bringing people into a room: inviting a user by id (`invite`: they become a member, and a
// private room then lets them join), and invite links that carry a signed, expiring token the
// server accepts on `join` (`share`). The link is the room's link with `?invite=TOKEN`.

/** An invite link, with when its token stops working (ms since epoch). */
export interface InviteLink {
  url: string;
  expires: number;
}

function joined(id: string): Room {
  const room = client()?.room(id);
  if (!room) throw new RoomcastError('not_member', `you are not in room "${id}" on this page; open it first`);
  return room;
}

/** Makes `user` a member of the room; resolves with whether they were one already. */
export async function inviteUser(roomId: string, user: string): Promise<{ already: boolean }> {
  joined(roomId);
  return client()!.invite(roomId, user);
}

/** A new invite link for the room, valid for `ttl` seconds (the server's default: 7 days). */
export async function mintInvite(roomId: string, ttl?: number): Promise<InviteLink> {
  const r = await joined(roomId).share(ttl);
  return { url: inviteLink(roomId, r.invite), expires: r.expires };
}

/** `…#/r/<id>?invite=<token>`: opening it joins with the token. */
export function inviteLink(roomId: string, token: string): string {
  return `${shareLink(roomId)}?invite=${encodeURIComponent(token)}`;
}

/**
 * People I could invite: everyone I share another room with (members online, members whose read
 * cursors were fetched, direct conversation partners), minus me and this room's members.
 */
export function peopleToInvite(roomId: string, extra: readonly UserRef[] = []): UserRef[] {
  const here = store.rooms[roomId];
  const skip = new Set<string>([store.me?.id ?? '', ...(here?.roster.map((m) => m.id) ?? []), ...(here?.members.map((m) => m.id) ?? [])]);
  const found = new Map<string, UserRef>();
  const add = (u: UserRef | null | undefined) => {
    if (u && u.id && !skip.has(u.id) && !found.has(u.id)) found.set(u.id, { id: u.id, name: u.name });
  };
  for (const r of Object.values(store.rooms)) {
    if (r.id === roomId) continue;
    add(r.peer);
    r.members.forEach(add);
    r.roster.forEach(add);
  }
  extra.forEach(add);
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** At most this many of my rooms are asked for their full member lists when the dialog opens. */
const MEMBER_LOOKUPS = 20;

/** Members (online or not) of my other rooms, fetched: the store only knows those online. */
export async function fetchPeople(roomId: string): Promise<UserRef[]> {
  const c = client();
  if (!c) return [];
  const rooms = Object.values(store.rooms)
    .filter((r) => r.id !== roomId && !r.direct && r.joined)
    .sort((a, b) => b.activity - a.activity)
    .slice(0, MEMBER_LOOKUPS);
  const lists = await Promise.all(rooms.map((r) => c.room(r.id)?.listMembers().catch(() => []) ?? Promise.resolve([])));
  return lists.flat().map((m) => ({ id: m.id, name: m.name }));
}
