import type { FileKeyReply, RequestOf } from '@roomcast/protocol';
import { LinkKeys } from '../auth/link-keys.js';
import type { RequestContext } from './context.js';
import type { HandlerDeps } from './deps.js';
import { ChatError } from './errors.js';
import { userRef } from './events.js';

// Requests about the connection itself: ping, auth (a token refresh), filekey (a key for file URLs).

export async function ping(d: Pick<HandlerDeps, 'now'>, ctx: RequestContext): Promise<void> {
  if (ctx.ref === undefined) ctx.session.sendJson({ op: 'pong', ts: d.now() });
  else ctx.ok({ ts: d.now() });
}

/** `auth` after welcome: a fresh token for the same user, before the current one expires. */
export async function auth(d: Pick<HandlerDeps, 'verifyToken' | 'sessions'>, ctx: RequestContext, req: RequestOf<'auth'>): Promise<void> {
  const s = ctx.session;
  if (!d.verifyToken) {
    throw new ChatError('bad_request', 'this server accepts guests only: token authentication is not enabled, so "auth" is not needed');
  }
  let token;
  try {
    token = await d.verifyToken(req.token);
  } catch (err) {
    throw new ChatError('unauthorized', (err as Error).message);
  }
  if (token.sub !== s.user.id) {
    throw new ChatError('unauthorized', `this token is for user "${token.sub}", but the connection is "${s.user.id}"; reconnect to change user`);
  }
  s.auth = { exp: token.exp, rooms: token.rooms };
  s.user.admin = token.admin;
  d.sessions.scheduleExpiry(s);
  ctx.ok({ user: userRef(s.user), exp: token.exp });
}

/**
 * `filekey`: a key that fetches this user's files for an hour (`?key=` on the file route), so
 * file URLs carry no sign-in credential. The file route still checks membership at each fetch.
 */
export async function filekey(d: Pick<HandlerDeps, 'now' | 'store'>, ctx: RequestContext): Promise<void> {
  const reply: FileKeyReply = await (await LinkKeys.open(d.store)).fileKeyFor(ctx.session.user.id, d.now(), undefined, ctx.session.user.admin);
  ctx.ok(reply);
}
