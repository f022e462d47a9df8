import type { RequestOf, RoomInfo } from '@roomcast/protocol';
import { joinAndStream } from './backlog.js';
import type { ChatService } from './chat.js';
import type { RequestContext } from './context.js';
import { ChatError } from './errors.js';
import { roomInfoOf, userRef } from './events.js';
import { DIRECT_PREFIX, newRoomId } from './ids.js';
import { decodeCursor, encodeCursor } from './room-pages.js';
import type { Session } from './session.js';

// Room and membership requests: create, join, leave, invite, kick, update, rooms, members.

export async function create(chat: ChatService, ctx: RequestContext, req: RequestOf<'create'>): Promise<void> {
  const s = ctx.session;
  if (s.user.guest && req.visibility === 'private' && !chat.config.guestsCreatePrivate) {
    throw new ChatError('forbidden', 'guests cannot create private rooms on this server; sign in with a token');
  }
  if (req.room?.startsWith(DIRECT_PREFIX)) {
    throw new ChatError('bad_request', `room ids starting with "${DIRECT_PREFIX}" are reserved for direct messages; pick another id`);
  }
  const quota = chat.config.maxRoomsPerUser;
  if (quota > 0 && !s.user.admin && (await chat.store.countOwnedRooms(s.user.id)) >= quota) {
    throw new ChatError('forbidden', `you own ${quota} rooms, the most this server allows one user; delete one before creating another`);
  }
  const room: RoomInfo = {
    id: req.room ?? newRoomId(),
    title: req.title ?? null,
    capacity: req.capacity ?? null,
    visibility: req.visibility ?? 'public',
    persist: req.persist ?? true,
    direct: false,
    owner: s.user.id,
    createdAt: chat.now(),
  };
  if (!(await chat.store.createRoom(room))) {
    throw new ChatError('room_exists', `room "${room.id}" already exists; join it, or create one with another id`);
  }
  await chat.store.addMember(room.id, s.user.id, null, chat.now());
  s.memberOf.add(room.id);
  chat.directory.added({ ...room, lastSeq: 0 });
  await joinAndStream(chat, ctx, room, { history: 0 });
}

export async function join(chat: ChatService, ctx: RequestContext, req: RequestOf<'join'>): Promise<void> {
  const room = await chat.loadRoom(req.room);
  await chat.ensureMembership(ctx.session, room);
  await joinAndStream(chat, ctx, room, { since: req.since, history: req.history ?? chat.config.historyDefault });
}

export async function leave(chat: ChatService, ctx: RequestContext, req: RequestOf<'leave'>): Promise<void> {
  const s = ctx.session;
  const room = await chat.loadRoom(req.room);
  if (!(await chat.store.removeMember(room.id, s.user.id))) {
    throw new ChatError('not_member', `you are not a member of room "${room.id}"`);
  }
  await dropUserFromRoom(chat, s.user.id, room.id);
  chat.cluster.control(room.id, { kind: 'drop-user', user: s.user.id });
  ctx.ok({ room: room.id });
}

/** Ends a user's presence in a room on this node: all their sessions stop receiving it. */
async function dropUserFromRoom(chat: ChatService, userId: string, roomId: string): Promise<Session[]> {
  const sessions = [...(chat.users.get(userId) ?? [])];
  for (const s of sessions) {
    s.memberOf.delete(roomId);
    await chat.detach(s, roomId);
  }
  return sessions;
}

export async function invite(chat: ChatService, ctx: RequestContext, req: RequestOf<'invite'>): Promise<void> {
  const room = await chat.requireMember(ctx.session, req.room);
  if (room.direct) throw new ChatError('bad_request', 'a direct conversation has exactly two members; create a room to talk with more people');
  const user = await chat.store.getUser(req.user);
  if (!user) throw new ChatError('user_not_found', `no user with id "${req.user}" has ever connected`);
  chat.takeInviteToken(ctx.session.user);
  const res = await chat.store.addMember(room.id, user.id, room.capacity, chat.now());
  if (res === 'full') throw new ChatError('room_full', `room "${room.id}" is full (${room.capacity}/${room.capacity})`);
  for (const s of chat.users.get(user.id) ?? []) s.memberOf.add(room.id);
  ctx.ok({ room: room.id, user: userRef(user), already: res === 'already' });
}

function requireOwner(ctx: RequestContext, room: RoomInfo, action: string): void {
  const u = ctx.session.user;
  if (room.owner !== u.id && !u.admin) {
    throw new ChatError('forbidden', `only the owner of room "${room.id}" or an admin can ${action}`);
  }
}

export async function kick(chat: ChatService, ctx: RequestContext, req: RequestOf<'kick'>): Promise<void> {
  const room = await chat.loadRoom(req.room);
  requireOwner(ctx, room, 'kick members');
  if (!(await chat.store.removeMember(room.id, req.user))) {
    throw new ChatError('not_member', `user "${req.user}" is not a member of room "${room.id}"`);
  }
  const notify = { op: 'room', room: { ...room, kicked: true } };
  const kicked = await dropUserFromRoom(chat, req.user, room.id);
  for (const s of kicked) s.sendJson(notify);
  chat.cluster.control(room.id, { kind: 'drop-user', user: req.user, notify });
  ctx.ok({ room: room.id, user: req.user });
}

export async function update(chat: ChatService, ctx: RequestContext, req: RequestOf<'update'>): Promise<void> {
  const current = await chat.loadRoom(req.room);
  requireOwner(ctx, current, 'change it');
  const patch: { title?: string; capacity?: number | null } = {};
  if (req.title !== undefined) patch.title = req.title;
  if (req.capacity !== undefined) patch.capacity = req.capacity;
  const rec = await chat.store.updateRoom(current.id, patch);
  if (!rec) throw new ChatError('room_not_found', `room "${current.id}" was deleted`);
  const room = roomInfoOf(rec);
  const live = chat.rooms.get(room.id);
  if (live) live.info = room;
  chat.directory.removed(room.id);
  chat.directory.added(rec);
  chat.broadcast(room.id, { op: 'room', room });
  ctx.ok({ room });
}

/** Public rooms per page at most (and by default). */
const PUBLIC_PAGE = 100;

export async function rooms(chat: ChatService, ctx: RequestContext, req: RequestOf<'rooms'>): Promise<void> {
  const cursor = req.cursor === undefined ? undefined : decodeCursor(req.cursor);
  if (req.scope === 'public') {
    const page = await chat.directory.page(cursor, Math.min(req.limit ?? PUBLIC_PAGE, PUBLIC_PAGE));
    ctx.ok({ rooms: await chat.summaries(page.rooms, false), ...(page.next ? { next: encodeCursor(page.next) } : {}) });
    return;
  }
  const limit = req.limit ?? chat.config.welcomeRooms;
  const rows = await chat.store.memberRooms(ctx.session.user.id, { limit: limit + 1, after: cursor });
  const more = rows.length > limit;
  const list = await chat.summaries(more ? rows.slice(0, -1) : rows, true);
  for (const r of list) ctx.session.memberOf.add(r.id);
  const last = list.at(-1);
  ctx.ok({ rooms: list, ...(more && last ? { next: encodeCursor(last) } : {}) });
}

export async function members(chat: ChatService, ctx: RequestContext, req: RequestOf<'members'>): Promise<void> {
  const room = await chat.loadRoom(req.room);
  if (room.visibility === 'private') await chat.requireMember(ctx.session, room.id);
  const [all, online] = await Promise.all([chat.store.listMembers(room.id), chat.broker.presenceList(room.id)]);
  const onlineIds = new Set(online.map((u) => u.id));
  ctx.ok({
    room: room.id,
    online: online.length,
    members: all.map((m) => ({ id: m.id, name: m.name, online: onlineIds.has(m.id) })),
  });
}

export async function ping(chat: ChatService, ctx: RequestContext): Promise<void> {
  if (ctx.ref === undefined) ctx.session.sendJson({ op: 'pong', ts: chat.now() });
  else ctx.ok({ ts: chat.now() });
}

/** `auth` after welcome: a fresh token for the same user, before the current one expires. */
export async function auth(chat: ChatService, ctx: RequestContext, req: RequestOf<'auth'>): Promise<void> {
  const s = ctx.session;
  if (!chat.verifyToken) {
    throw new ChatError('bad_request', 'this server accepts guests only: token authentication is not enabled, so "auth" is not needed');
  }
  let token;
  try {
    token = await chat.verifyToken(req.token);
  } catch (err) {
    throw new ChatError('unauthorized', (err as Error).message);
  }
  if (token.sub !== s.user.id) {
    throw new ChatError('unauthorized', `this token is for user "${token.sub}", but the connection is "${s.user.id}"; reconnect to change user`);
  }
  s.auth = { exp: token.exp, rooms: token.rooms };
  s.user.admin = token.admin;
  chat.scheduleExpiry(s);
  ctx.ok({ user: userRef(s.user), exp: token.exp });
}

export async function remove(chat: ChatService, ctx: RequestContext, req: RequestOf<'delete'>): Promise<void> {
  const room = await chat.loadRoom(req.room);
  if (room.direct && !ctx.session.user.admin) throw new ChatError('forbidden', 'only an admin can delete a direct conversation');
  requireOwner(ctx, room, 'delete it');
  // Tell the members first, while they are still subscribed; members connected here who have
  // not joined it on this connection are told directly.
  const event = { op: 'room', room: { ...room, deleted: true } };
  chat.broadcast(room.id, event);
  chat.cluster.control(room.id, { kind: 'drop-room', notify: event });
  for (const s of [...chat.sessions]) {
    if (s.memberOf.has(room.id) && !s.rooms.has(room.id)) s.sendJson(event);
    s.memberOf.delete(room.id);
    if (s.rooms.has(room.id)) await chat.detach(s, room.id, true);
  }
  await chat.deleteRoom(room.id);
  ctx.ok({ room: room.id, deleted: true });
}
