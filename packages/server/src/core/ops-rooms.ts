import { INVITE_TTL_DEFAULT, type RequestOf, type RoomInfo, type ShareReply } from '@roomcast/protocol';
import { LinkKeys } from '../auth/link-keys.js';
import type { RoomPatch } from '../store/store.js';
import { checkAuthorized } from './authorize.js';
import type { RequestContext } from './context.js';
import type { HandlerDeps } from './deps.js';
import { ChatError } from './errors.js';
import { roomInfoOf } from './events.js';
import { DIRECT_PREFIX, newRoomId } from './ids.js';
import { joinAndStream, MEMBERS_PAGE } from './join-stream.js';
import { deleteRoomEverywhere, tellDropUser, updateRoomSettings } from './moderation.js';
import { decodeCursor, encodeCursor } from './room-pages.js';

// Room requests: create, join, leave, update, delete, rooms, members, share (invite links).

export async function create(d: Pick<HandlerDeps, 'config' | 'now' | 'store' | 'broker' | 'quotas' | 'directory' | 'membership' | 'delivery' | 'authorize'>, ctx: RequestContext, req: RequestOf<'create'>): Promise<void> {
  const s = ctx.session;
  if (s.user.guest && req.visibility === 'private' && !d.config.guestsCreatePrivate) {
    throw new ChatError('forbidden', 'guests cannot create private rooms on this server; sign in with a token');
  }
  if (req.room?.startsWith(DIRECT_PREFIX)) {
    throw new ChatError('bad_request', `room ids starting with "${DIRECT_PREFIX}" are reserved for direct messages; pick another id`);
  }
  await d.quotas.checkRoomQuota(s.user);
  const id = req.room ?? newRoomId();
  if (d.authorize) await checkAuthorized(d.authorize, s.user, id, 'create');
  const room: RoomInfo = {
    id,
    title: req.title ?? null,
    capacity: req.capacity ?? null,
    visibility: req.visibility ?? 'public',
    persist: req.persist ?? true,
    direct: false,
    owner: s.user.id,
    createdAt: d.now(),
    retention: req.retention ?? null,
    receipts: req.receipts ?? true,
  };
  if (!(await d.store.createRoom(room))) {
    throw new ChatError('room_exists', `room "${room.id}" already exists; join it, or create one with another id`);
  }
  await d.store.addMember(room.id, s.user.id, null, d.now());
  s.memberOf.add(room.id);
  d.directory.added({ ...room, lastSeq: 0 });
  await joinAndStream(d, ctx, room, { history: 0 });
}

export async function join(d: Pick<HandlerDeps, 'config' | 'store' | 'broker' | 'membership' | 'delivery' | 'authorize' | 'moderation'>, ctx: RequestContext, req: RequestOf<'join'>): Promise<void> {
  const room = await d.membership.loadRoom(req.room);
  if (d.authorize) await checkAuthorized(d.authorize, ctx.session.user, room.id, 'join');
  const token = req.invite;
  // A ban keeps them out, invite link or not (a member's own connections were detached by it).
  if (!ctx.session.memberOf.has(room.id) && !ctx.session.user.admin) await d.moderation.refuseBanned(room, ctx.session.user.id);
  await d.membership.ensureMembership(ctx.session, room, token === undefined ? undefined : () => admitByInvite(d, room, token));
  await joinAndStream(d, ctx, room, { since: req.since, history: req.history ?? d.config.historyDefault });
}

/** Throws `forbidden`, saying what to do, unless `token` is a current invite link into `room`. */
async function admitByInvite(d: Pick<HandlerDeps, 'store'>, room: RoomInfo, token: string): Promise<void> {
  const check = await (await LinkKeys.open(d.store)).checkInvite(token, room);
  if (!check.ok) {
    if (check.why === 'expired') throw new ChatError('forbidden', 'this invite link has expired; ask a member of the room for a new one');
    if (check.why === 'other-room') throw new ChatError('forbidden', `this invite link is not valid for room "${room.id}" (it was made for another room); ask a member of "${room.id}" for a link to it`);
    throw new ChatError('forbidden', `this invite link is not valid (it is damaged, or was not made by this server); ask a member of room "${room.id}" for a new one`);
  }
  // Kicking (or the leaving of) the member who made a link ends it: a leaked link dies with them,
  // and stays dead if they come back (a new membership began later than the one that made it).
  if (!check.admin && (await d.store.memberSince(room.id, check.by)) !== check.makerSince) {
    throw new ChatError('forbidden', `the member who made this invite link is no longer in room "${room.id}"; ask a member of the room for a new one`);
  }
}

/**
 * `share`: a member mints an invite link's token (HS256, signed with a key every node shares).
 * Counted with invites and new direct conversations (--invite-rate), so minting is not free.
 */
export async function share(d: Pick<HandlerDeps, 'now' | 'store' | 'quotas' | 'membership'>, ctx: RequestContext, req: RequestOf<'share'>): Promise<void> {
  const user = ctx.session.user;
  const room = await d.membership.requireMember(ctx.session, req.room);
  if (room.direct) throw new ChatError('bad_request', 'a direct conversation has exactly two members and no invite links; create a room to talk with more people');
  d.quotas.takeInvite(user);
  const ttl = req.ttl ?? INVITE_TTL_DEFAULT;
  // A member's link is tied to their membership; an admin's (who need not be a member) is not.
  const since = await d.store.memberSince(room.id, user.id);
  if (since === null && !user.admin) throw new ChatError('not_member', `you are not a member of room "${room.id}"; join it first`);
  const maker = since === null || user.admin ? { admin: true } : { since };
  const { token, expires } = await (await LinkKeys.open(d.store)).invite(room, user.id, ttl, d.now(), maker);
  const reply: ShareReply = { room: room.id, invite: token, expires };
  ctx.ok(reply);
}

export async function leave(d: Pick<HandlerDeps, 'store' | 'membership' | 'delivery'>, ctx: RequestContext, req: RequestOf<'leave'>): Promise<void> {
  const s = ctx.session;
  const room = await d.membership.loadRoom(req.room);
  if (!(await d.store.removeMember(room.id, s.user.id))) {
    throw new ChatError('not_member', `you are not a member of room "${room.id}"`);
  }
  await d.membership.dropUser(s.user.id, room.id);
  tellDropUser(d, s.user.id, room.id);
  ctx.ok({ room: room.id });
}

// Lives with the other moderation effects (core/moderation.ts); exported here as before.
export { tellDropUser };

/** Only the room's owner or an admin. */
export function requireOwner(ctx: RequestContext, room: RoomInfo, action: string): void {
  const u = ctx.session.user;
  if (room.owner !== u.id && !u.admin) {
    throw new ChatError('forbidden', `only the owner of room "${room.id}" or an admin can ${action}`);
  }
}

export async function update(d: Pick<HandlerDeps, 'store' | 'membership' | 'delivery' | 'directory' | 'moderation'>, ctx: RequestContext, req: RequestOf<'update'>): Promise<void> {
  const current = await d.membership.loadRoom(req.room);
  // The owner and the room's admins (moderation); deleting the room stays the owner's.
  await d.moderation.requireModerator(ctx.session.user, current, 'change it');
  const patch: RoomPatch = {};
  if (req.title !== undefined) patch.title = req.title;
  if (req.capacity !== undefined) patch.capacity = req.capacity;
  if (req.retention !== undefined) patch.retention = req.retention;
  if (req.receipts !== undefined) patch.receipts = req.receipts;
  if (req.slowMode !== undefined) patch.slowMode = req.slowMode ?? 0;
  ctx.ok({ room: roomInfoOf(await updateRoomSettings(d, current.id, patch)) });
}

export async function remove(d: Pick<HandlerDeps, 'registry' | 'membership' | 'delivery'>, ctx: RequestContext, req: RequestOf<'delete'>): Promise<void> {
  const room = await d.membership.loadRoom(req.room);
  if (room.direct && !ctx.session.user.admin) throw new ChatError('forbidden', 'only an admin can delete a direct conversation');
  requireOwner(ctx, room, 'delete it');
  // The same effects as the admin API's DELETE /api/rooms/:room.
  await deleteRoomEverywhere(d, room);
  ctx.ok({ room: room.id, deleted: true });
}

/** Public rooms per page at most (and by default). */
const PUBLIC_PAGE = 100;

export async function rooms(d: Pick<HandlerDeps, 'config' | 'store' | 'directory' | 'membership'>, ctx: RequestContext, req: RequestOf<'rooms'>): Promise<void> {
  const cursor = req.cursor === undefined ? undefined : decodeCursor(req.cursor);
  if (req.scope === 'public') {
    const page = await d.directory.page(cursor, Math.min(req.limit ?? PUBLIC_PAGE, PUBLIC_PAGE));
    ctx.ok({ rooms: await d.membership.summaries(page.rooms, false), ...(page.next ? { next: encodeCursor(page.next) } : {}) });
    return;
  }
  const limit = req.limit ?? d.config.welcomeRooms;
  const rows = await d.store.memberRooms(ctx.session.user.id, { limit: limit + 1, after: cursor });
  const more = rows.length > limit;
  const list = await d.membership.summaries(more ? rows.slice(0, -1) : rows, true);
  for (const r of list) ctx.session.memberOf.add(r.id);
  const last = list.at(-1);
  ctx.ok({ rooms: list, ...(more && last ? { next: encodeCursor(last) } : {}) });
}

export async function members(d: Pick<HandlerDeps, 'store' | 'broker' | 'membership'>, ctx: RequestContext, req: RequestOf<'members'>): Promise<void> {
  const room = await d.membership.loadRoom(req.room);
  if (room.visibility === 'private') await d.membership.requireMember(ctx.session, room.id);
  if (req.scope === 'online' || req.cursor !== undefined) {
    // Who is online, in the order they came online, a page at a time (O(page) at any size).
    const page = await d.broker.presencePage(room.id, { limit: Math.min(req.limit ?? MEMBERS_PAGE, MEMBERS_PAGE), ...(req.cursor !== undefined ? { cursor: req.cursor } : {}) });
    ctx.ok({ room: room.id, online: page.online, members: page.users.map((u) => ({ id: u.id, name: u.name, online: true })), ...(page.next ? { next: page.next } : {}) });
    return;
  }
  const all = await d.store.listMembers(room.id);
  // Online flags of these members only: O(members), however many are online.
  const onlineIds = new Set<string>();
  let online = 0;
  for (let i = 0; i < all.length || i === 0; i += AMONG_CHUNK) {
    const page = await d.broker.presencePage(room.id, { limit: AMONG_CHUNK, among: all.slice(i, i + AMONG_CHUNK).map((m) => m.id) });
    for (const u of page.users) onlineIds.add(u.id);
    online = page.online;
  }
  ctx.ok({
    room: room.id,
    online,
    members: all.map((m) => ({ id: m.id, name: m.name, online: onlineIds.has(m.id), readSeq: m.readSeq, role: m.role })),
  });
}

/** Stored members whose online flags are read per broker call. */
const AMONG_CHUNK = 1000;
