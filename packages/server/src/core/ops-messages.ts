import { DEFAULT_HISTORY_PAGE, type BinaryHeader, type RequestOf, type RoomInfo, type UserRef } from '@roomcast/protocol';
import { userChannel } from '../broker/broker.js';
import { checkAuthorized } from './authorize.js';
import { moderatedAs } from './moderation-refusals.js';
import type { RequestContext } from './context.js';
import type { PostBody } from './delivery.js';
import type { HandlerDeps } from './deps.js';
import { ChatError } from './errors.js';
import { roomInfoOf, userRef } from './events.js';
import { historyPage } from './history.js';
import { directRoomId } from './ids.js';
import { checkMessage, historyBytes } from './messages.js';
import type { User } from './session.js';

// Message requests: send, dm (text or binary), history, read, typing.

type PostDeps = Pick<HandlerDeps, 'config' | 'membership' | 'delivery' | 'authorize' | 'moderation'>;
type DirectDeps = PostDeps & Pick<HandlerDeps, 'now' | 'store' | 'registry' | 'quotas'>;

export async function send(d: PostDeps, ctx: RequestContext, req: RequestOf<'send'>): Promise<void> {
  checkMessage(d.config, req);
  const room = d.membership.knownMemberRoom(ctx.session, req.room) ?? (await d.membership.requireMember(ctx.session, req.room));
  if (d.authorize) await checkAuthorized(d.authorize, ctx.session.user, room.id, 'send');
  // Mutes and slow mode are checked in the commit, so they hold across nodes at once.
  await d.delivery.post(ctx, room, bodyOf(req, { text: req.text, moderated: moderatedAs(ctx.session.user, room, 'message') }));
}

export async function dm(d: DirectDeps, ctx: RequestContext, req: RequestOf<'dm'>): Promise<void> {
  checkMessage(d.config, req);
  await postDirect(d, ctx, req.to, bodyOf(req, { text: req.text }));
}

/** A binary frame's `send` or `dm`. */
export async function sendBinary(d: DirectDeps, ctx: RequestContext, h: BinaryHeader, payload: Uint8Array): Promise<void> {
  checkMessage(d.config, { meta: h.meta });
  const body = bodyOf(h, { binary: { mime: h.mime, data: payload, ...(h.name ? { name: h.name } : {}) } });
  if (h.op === 'dm') {
    await postDirect(d, ctx, h.to, body);
    return;
  }
  const room = await d.membership.requireMember(ctx.session, h.room);
  if (d.authorize) await checkAuthorized(d.authorize, ctx.session.user, room.id, 'send');
  const moderated = moderatedAs(ctx.session.user, room, 'message');
  await d.delivery.post(ctx, room, moderated ? { ...body, moderated } : body);
}

function bodyOf(req: { id?: string; meta?: Record<string, unknown>; replyTo?: number; mentions?: string[] }, body: PostBody): PostBody {
  if (req.id !== undefined) body.clientId = req.id;
  if (req.meta !== undefined) body.meta = req.meta;
  if (req.replyTo !== undefined) body.replyTo = req.replyTo;
  if (req.mentions !== undefined) body.mentions = req.mentions;
  return body;
}

async function postDirect(d: DirectDeps, ctx: RequestContext, to: string, body: PostBody): Promise<void> {
  const me = ctx.session.user;
  if (to === me.id) throw new ChatError('bad_request', 'you cannot send a direct message to yourself');
  const peer = await d.store.getUser(to);
  if (!peer) throw new ChatError('user_not_found', `no user with id "${to}" has ever connected; check the id`);
  // Asked before the conversation is made, so a refused first message leaves no room behind.
  if (d.authorize) await checkAuthorized(d.authorize, me, directRoomId(me.id, peer.id), 'send');
  const room = await ensureDirectRoom(d, me, peer);
  // Both users' connections receive the conversation from now on, without a `join`: here
  // directly, on other nodes through each user's control channel.
  const after = (await d.store.getRoom(room.id))?.lastSeq ?? 0;
  for (const userId of [me.id, peer.id]) {
    for (const s of d.registry.of(userId)) {
      s.memberOf.add(room.id);
      if (!s.rooms.has(room.id) && !s.closed) await d.membership.attach(s, room, false);
    }
    d.delivery.tell(userChannel(userId), { kind: 'attach', room: room.id, after });
  }
  await d.delivery.post(ctx, room, body, { online: await d.membership.isOnline(peer.id) });
}

/** A direct conversation is a private room of exactly the two users, with an id made from the pair. */
async function ensureDirectRoom(d: DirectDeps, me: User, b: UserRef): Promise<RoomInfo> {
  const a = userRef(me);
  const id = directRoomId(a.id, b.id);
  const live = d.delivery.rooms.get(id);
  const stored = live ? null : await d.store.getRoom(id);
  const existing = live?.info ?? (stored ? roomInfoOf(stored) : null);
  if (existing) {
    // Either user may have left the conversation; a new message brings both back.
    for (const u of [a, b]) await d.store.addMember(id, u.id, null, d.now());
    return existing;
  }
  // A new conversation puts a room in a stranger's list, like an invite.
  d.quotas.takeInvite(me);
  const room: RoomInfo = {
    id,
    title: null,
    capacity: 2,
    visibility: 'private',
    persist: true,
    direct: true,
    owner: null,
    createdAt: d.now(),
    retention: null,
    receipts: true,
  };
  await d.store.createRoom(room);
  for (const u of [a, b]) await d.store.addMember(id, u.id, null, d.now());
  return roomInfoOf((await d.store.getRoom(id)) ?? { ...room, lastSeq: 0 });
}

export async function history(d: Pick<HandlerDeps, 'config' | 'store' | 'membership' | 'authorize'>, ctx: RequestContext, req: RequestOf<'history'>): Promise<void> {
  if (req.before !== undefined && req.after !== undefined) throw new ChatError('bad_request', 'give either before or after, not both');
  const room = await d.membership.requireMember(ctx.session, req.room);
  if (d.authorize) await checkAuthorized(d.authorize, ctx.session.user, room.id, 'history');
  const query = { before: req.before ?? null, after: req.after, limit: req.limit ?? DEFAULT_HISTORY_PAGE, viewer: ctx.session.user.id };
  const page = await historyPage(d.store, room.id, query, historyBytes(d.config));
  ctx.ok({ room: room.id, messages: page.messages, more: page.more });
}

export async function read(d: Pick<HandlerDeps, 'store' | 'membership' | 'delivery'>, ctx: RequestContext, req: RequestOf<'read'>): Promise<void> {
  const room = await d.membership.requireMember(ctx.session, req.room);
  const rec = await d.store.getRoom(req.room);
  if (!rec) throw new ChatError('room_not_found', `room "${req.room}" was deleted`);
  const user = ctx.session.user;
  const { readSeq, moved } = await d.store.moveReadSeq(rec.id, user.id, Math.min(req.seq, rec.lastSeq));
  const counts = await d.store.unreadOf(rec.id, user.id, readSeq);
  ctx.ok({ room: rec.id, readSeq, unread: counts.unread, mentions: counts.mentions });
  // The others see it moved ("seen by"); not stored, not in the seq stream.
  if (moved && (d.delivery.rooms.get(rec.id)?.info ?? room).receipts) {
    d.delivery.broadcast(rec.id, { op: 'receipt', room: rec.id, user: userRef(user), seq: readSeq }, { user: user.id });
  }
}

export async function typing(d: Pick<HandlerDeps, 'delivery'>, ctx: RequestContext, req: RequestOf<'typing'>): Promise<void> {
  const s = ctx.session;
  if (!s.rooms.has(req.room)) throw new ChatError('not_member', `join room "${req.room}" on this connection before sending typing`);
  d.delivery.broadcast(req.room, { op: 'typing', room: req.room, user: userRef(s.user) }, { user: s.user.id }, true);
  ctx.ok();
}
