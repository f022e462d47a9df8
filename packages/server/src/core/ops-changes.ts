import { MAX_REACTIONS_PER_MESSAGE, type RequestOf, type RoomInfo } from '@roomcast/protocol';
import type { AppendResult } from '../store/store.js';
import type { RequestContext } from './context.js';
import type { HandlerDeps } from './deps.js';
import { ChatError } from './errors.js';
import { checkMessage } from './messages.js';
import { moderatedAs } from './moderation-refusals.js';

// Changes to messages: edit, unsend, react. Each is appended to the room's stream like a
// message (the store checks it against the message inside the same commit, so two changes
// racing on one message cannot both pass a check that only one may), delivered live, and
// streamed again by `join {since}`.

type ChangeDeps = Pick<HandlerDeps, 'config' | 'membership' | 'delivery' | 'moderation' | 'store'>;

export async function edit(d: ChangeDeps, ctx: RequestContext, req: RequestOf<'edit'>): Promise<void> {
  checkMessage(d.config, req);
  const room = await d.membership.requireMember(ctx.session, req.room);
  const change = { kind: 'edit' as const, target: req.seq, text: req.text, windowMs: d.config.editWindowMs, ...(req.meta !== undefined ? { meta: req.meta } : {}) };
  await d.delivery.post(ctx, room, { change, moderated: moderatedAs(ctx.session.user, room, 'change') }, {}, (res) => ({ room: res.room, seq: res.seq, target: req.seq, editedAt: res.ts }));
}

export async function unsend(d: ChangeDeps, ctx: RequestContext, req: RequestOf<'unsend'>): Promise<void> {
  const room = await d.membership.requireMember(ctx.session, req.room);
  const u = ctx.session.user;
  // The owner and server admins may unsend anyone's message; the room's admins their members'
  // (not the owner's or another admin's: they may not ban or mute them either).
  const chief = u.admin || (room.owner !== null && room.owner === u.id);
  const moderator = chief || (await d.moderation.isModerator(u, room));
  if (moderator && !chief) {
    const by = await otherModerator(d, room, req.seq, u.id);
    if (by) throw new ChatError('forbidden', `message ${req.seq} was sent by ${by} of room "${room.id}"; a room admin can unsend members' messages only: ask the owner or a server admin`);
  }
  const change = { kind: 'unsend' as const, target: req.seq, windowMs: d.config.editWindowMs, moderator };
  await d.delivery.post(ctx, room, { change }, {}, (res) => ({ room: res.room, ...(res.already ? { already: true } : { seq: res.seq }), target: req.seq }));
}

/** Who message `seq` is by if that is someone else who moderates the room ("the owner", "an admin"), else null. */
async function otherModerator(d: ChangeDeps, room: RoomInfo, seq: number, self: string): Promise<string | null> {
  const m = await d.store.getMessage(room.id, seq);
  if (!m || m.from.id === self) return null;
  if (room.owner !== null && room.owner === m.from.id) return 'the owner';
  return (await d.store.memberRole(room.id, m.from.id)) === 'admin' ? 'an admin' : null;
}

export async function react(d: ChangeDeps, ctx: RequestContext, req: RequestOf<'react'>): Promise<void> {
  const emoji = req.emoji.trim();
  if (emoji.length === 0 || /\p{Cc}/u.test(emoji)) throw new ChatError('bad_request', 'emoji must be visible characters, such as "👍" or "+1"');
  const room = await d.membership.requireMember(ctx.session, req.room);
  const on = req.on ?? true;
  const change = { kind: 'reaction' as const, target: req.seq, emoji, on, maxEmoji: MAX_REACTIONS_PER_MESSAGE };
  await d.delivery.post(ctx, room, { change, moderated: moderatedAs(ctx.session.user, room, 'change') }, {}, (res: AppendResult) => ({
    room: res.room,
    ...(res.already ? {} : { seq: res.seq }),
    target: req.seq,
    emoji,
    on,
    count: res.count ?? 0,
    ...(res.already ? { already: true } : {}),
  }));
}
