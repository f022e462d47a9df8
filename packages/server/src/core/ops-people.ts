import type { RequestOf } from '@roomcast/protocol';
import type { RequestContext } from './context.js';
import type { HandlerDeps } from './deps.js';
import { ChatError } from './errors.js';
import { userRef } from './events.js';
import { kickMember } from './moderation.js';
import { requireOwner } from './ops-rooms.js';

// Requests about other people in a room: invite, kick.

export async function invite(d: Pick<HandlerDeps, 'now' | 'store' | 'quotas' | 'registry' | 'membership'>, ctx: RequestContext, req: RequestOf<'invite'>): Promise<void> {
  const room = await d.membership.requireMember(ctx.session, req.room);
  if (room.direct) throw new ChatError('bad_request', 'a direct conversation has exactly two members; create a room to talk with more people');
  const user = await d.store.getUser(req.user);
  if (!user) throw new ChatError('user_not_found', `no user with id "${req.user}" has ever connected`);
  d.quotas.takeInvite(ctx.session.user);
  const res = await d.store.addMember(room.id, user.id, room.capacity, d.now());
  if (res === 'full') throw new ChatError('room_full', `room "${room.id}" is full (${room.capacity}/${room.capacity})`);
  for (const s of d.registry.of(user.id)) s.memberOf.add(room.id);
  ctx.ok({ room: room.id, user: userRef(user), already: res === 'already' });
}

export async function kick(d: Pick<HandlerDeps, 'store' | 'membership' | 'delivery'>, ctx: RequestContext, req: RequestOf<'kick'>): Promise<void> {
  const room = await d.membership.loadRoom(req.room);
  requireOwner(ctx, room, 'kick members');
  // The same effects as the admin API's DELETE /api/rooms/:room/members/:user.
  await kickMember(d, room, req.user);
  ctx.ok({ room: room.id, user: req.user });
}
