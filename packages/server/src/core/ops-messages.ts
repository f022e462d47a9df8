import type { BinaryHeader, RequestOf } from '@roomcast/protocol';
import type { ChatService, PostBody } from './chat.js';
import type { RequestContext } from './context.js';
import { ChatError } from './errors.js';
import { roomInfoOf, userRef } from './events.js';
import { historyPage } from './history.js';
import { directRoomId } from './ids.js';
import { userChannel } from '../broker/broker.js';
import type { RoomInfo, UserRef } from '@roomcast/protocol';
import type { User } from './session.js';

// Message requests: send, dm (text or binary), history, read, typing.

export async function send(chat: ChatService, ctx: RequestContext, req: RequestOf<'send'>): Promise<void> {
  chat.checkText(req.text);
  chat.checkMeta(req.meta);
  const room = chat.knownMemberRoom(ctx.session, req.room) ?? (await chat.requireMember(ctx.session, req.room));
  await chat.post(ctx, room, bodyOf(req, { text: req.text }));
}

export async function dm(chat: ChatService, ctx: RequestContext, req: RequestOf<'dm'>): Promise<void> {
  chat.checkText(req.text);
  chat.checkMeta(req.meta);
  await postDirect(chat, ctx, req.to, bodyOf(req, { text: req.text }));
}

/** A binary frame's `send` or `dm`. */
export async function sendBinary(chat: ChatService, ctx: RequestContext, h: BinaryHeader, payload: Uint8Array): Promise<void> {
  chat.checkMeta(h.meta);
  const body = bodyOf(h, { binary: { mime: h.mime, data: payload, ...(h.name ? { name: h.name } : {}) } });
  if (h.op === 'dm') {
    await postDirect(chat, ctx, h.to, body);
    return;
  }
  const room = await chat.requireMember(ctx.session, h.room);
  await chat.post(ctx, room, body);
}

function bodyOf(req: { id?: string; meta?: Record<string, unknown> }, body: PostBody): PostBody {
  if (req.id !== undefined) body.clientId = req.id;
  if (req.meta !== undefined) body.meta = req.meta;
  return body;
}

async function postDirect(chat: ChatService, ctx: RequestContext, to: string, body: PostBody): Promise<void> {
  const me = ctx.session.user;
  if (to === me.id) throw new ChatError('bad_request', 'you cannot send a direct message to yourself');
  const peer = await chat.store.getUser(to);
  if (!peer) throw new ChatError('user_not_found', `no user with id "${to}" has ever connected; check the id`);
  const room = await ensureDirectRoom(chat, me, peer);
  // Both users' connections receive the conversation from now on, without a `join`: here
  // directly, on other nodes through each user's control channel.
  const after = (await chat.store.getRoom(room.id))?.lastSeq ?? 0;
  for (const userId of [me.id, peer.id]) {
    // A copy: a session may close (and leave the list) while attach awaits.
    for (const s of [...(chat.users.get(userId) ?? [])]) {
      s.memberOf.add(room.id);
      if (!s.rooms.has(room.id) && !s.closed) await chat.attach(s, room, false);
    }
    chat.cluster.control(userChannel(userId), { kind: 'attach', room: room.id, after });
  }
  await chat.post(ctx, room, body, { online: await chat.isOnline(peer.id) });
}

/** A direct conversation is a private room of exactly the two users, with an id made from the pair. */
async function ensureDirectRoom(chat: ChatService, me: User, b: UserRef): Promise<RoomInfo> {
  const a = userRef(me);
  const id = directRoomId(a.id, b.id);
  const stored = chat.rooms.get(id) ? null : await chat.store.getRoom(id);
  const existing = chat.rooms.get(id)?.info ?? (stored ? roomInfoOf(stored) : null);
  if (existing) {
    // Either user may have left the conversation; a new message brings both back.
    for (const u of [a, b]) await chat.store.addMember(id, u.id, null, chat.now());
    return existing;
  }
  // A new conversation puts a room in a stranger's list, like an invite.
  chat.takeInviteToken(me);
  const room: RoomInfo = {
    id,
    title: null,
    capacity: 2,
    visibility: 'private',
    persist: true,
    direct: true,
    owner: null,
    createdAt: chat.now(),
  };
  await chat.store.createRoom(room);
  for (const u of [a, b]) await chat.store.addMember(id, u.id, null, chat.now());
  return roomInfoOf((await chat.store.getRoom(id)) ?? { ...room, lastSeq: 0 });
}

export async function history(chat: ChatService, ctx: RequestContext, req: RequestOf<'history'>): Promise<void> {
  const room = await chat.requireMember(ctx.session, req.room);
  const page = await historyPage(chat.store, room.id, req.before ?? null, req.limit ?? 50, chat.historyBytes);
  ctx.ok({ room: room.id, messages: page.messages, more: page.more });
}

export async function read(chat: ChatService, ctx: RequestContext, req: RequestOf<'read'>): Promise<void> {
  await chat.requireMember(ctx.session, req.room);
  const rec = await chat.store.getRoom(req.room);
  if (!rec) throw new ChatError('room_not_found', `room "${req.room}" was deleted`);
  const readSeq = await chat.store.setReadSeq(rec.id, ctx.session.user.id, Math.min(req.seq, rec.lastSeq));
  ctx.ok({ room: rec.id, readSeq, unread: Math.max(0, rec.lastSeq - readSeq) });
}

export async function typing(chat: ChatService, ctx: RequestContext, req: RequestOf<'typing'>): Promise<void> {
  const s = ctx.session;
  if (!s.rooms.has(req.room)) throw new ChatError('not_member', `join room "${req.room}" on this connection before sending typing`);
  chat.broadcast(req.room, { op: 'typing', room: req.room, user: userRef(s.user) }, { user: s.user.id }, true);
  ctx.ok();
}
