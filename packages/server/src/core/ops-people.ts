import type { RequestOf } from '@roomcast/protocol';
import type { RequestContext } from './context.js';
import type { HandlerDeps } from './deps.js';
import { ChatError } from './errors.js';
import { userRef } from './events.js';
import { actorOf } from './room-moderation.js';

// Requests about other people in a room: invite, kick.

export async function invite(d: Pick<HandlerDeps, 'now' | 'store' | 'quotas' | 'registry' | 'membership' | 'moderation'>, ctx: RequestContext, req: RequestOf<'invite'>): Promise<void> {
  const room = await d.membership.requireMember(ctx.session, req.room);
  if (room.direct) throw new ChatError('bad_request', 'a direct conversation has exactly two members; create a room to talk with more people');
  const user = await d.store.getUser(req.user);
  if (!user) throw new ChatError('user_not_found', `no user with id "${req.user}" has ever connected`);
  await d.moderation.refuseBanned(room, user.id);
  d.quotas.takeInvite(ctx.session.user);
  const res = await d.store.addMember(room.id, user.id, room.capacity, d.now());
  if (res === 'full') throw new ChatError('room_full', `room "${room.id}" is full (${room.capacity}/${room.capacity})`);
  for (const s of d.registry.of(user.id)) s.memberOf.add(room.id);
  ctx.ok({ room: room.id, user: userRef(user), already: res === 'already' });
}

export async function kick(d: Pick<HandlerDeps, 'membership' | 'moderation'>, ctx: RequestContext, req: RequestOf<'kick'>): Promise<void> {
  const room = await d.membership.loadRoom(req.room);
  // The owner, the room's admins (not of each other) and server admins; the kick's effects
  // (core/moderation.ts kickMember, as the admin API's) and a `moderation` event.
  await d.moderation.kick(actorOf(ctx.session.user), room, req.user);
  ctx.ok({ room: room.id, user: req.user });
}
