import type { RequestOf } from '@roomcast/protocol';
import type { RequestContext } from './context.js';
import type { HandlerDeps } from './deps.js';
import { actorOf } from './room-moderation.js';

// Moderation requests: role, ban, unban, mute, unmute. The checks and effects are the
// moderation service's (room-moderation.ts), which the server API calls too.

type ModDeps = Pick<HandlerDeps, 'moderation'>;

export async function role(d: ModDeps, ctx: RequestContext, req: RequestOf<'role'>): Promise<void> {
  await d.moderation.setRole(actorOf(ctx.session.user), req.room, req.user, req.role);
  ctx.ok({ room: req.room, user: req.user, role: req.role });
}

export async function ban(d: ModDeps, ctx: RequestContext, req: RequestOf<'ban'>): Promise<void> {
  const rec = await d.moderation.ban(actorOf(ctx.session.user), req.room, req.user, { until: req.until ?? null, ...(req.reason !== undefined ? { reason: req.reason } : {}) });
  ctx.ok({ room: req.room, user: req.user, until: rec.until });
}

export async function unban(d: ModDeps, ctx: RequestContext, req: RequestOf<'unban'>): Promise<void> {
  const lifted = await d.moderation.unban(actorOf(ctx.session.user), req.room, req.user);
  ctx.ok({ room: req.room, user: req.user, ...(lifted ? {} : { already: true }) });
}

export async function mute(d: ModDeps, ctx: RequestContext, req: RequestOf<'mute'>): Promise<void> {
  const rec = await d.moderation.mute(actorOf(ctx.session.user), req.room, req.user, { until: req.until ?? null });
  ctx.ok({ room: req.room, user: req.user, until: rec.until });
}

export async function unmute(d: ModDeps, ctx: RequestContext, req: RequestOf<'unmute'>): Promise<void> {
  const lifted = await d.moderation.unmute(actorOf(ctx.session.user), req.room, req.user);
  ctx.ok({ room: req.room, user: req.user, ...(lifted ? {} : { already: true }) });
}
