import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { mintToken } from '../auth/mint.js';
import { ChatError } from '../core/errors.js';
import { MAX_UNTIL } from '../core/moderation-errors.js';
import type { Moderation } from '../core/moderation-types.js';
import { type ApiCore, SYSTEM } from './api-core.js';
import { callerOf, failWith, noNul, refuseBannedAdmins } from './admin-guard.js';
import { errors, KEY_OR_ADMIN, Ok, RoomId, RoomParams, RoomUserParams, UserId, UserParams } from './api-schemas.js';
import { IdempotencyHeaders } from './idempotency.js';

// The server API's moderation (server-wide bans; bans and mutes in a room, through the core's
// moderation service so they take effect on every node) and token minting.

type Guard = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** What minting a token needs: the server's HS256 secret (--jwt-secret) and its claims' checks. */
export interface MintSettings {
  secret: string;
  issuer: string;
  audience: string;
}

const Until = Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: MAX_UNTIL }), Type.Null()], { description: 'ms since epoch, in the future and at most the end of year 9999; null or absent: until lifted' }));
const Ban = Ok({ room: Type.Union([Type.String(), Type.Null()]), user: Type.String(), until: Type.Union([Type.Integer(), Type.Null()]), reason: Type.Union([Type.String(), Type.Null()]), at: Type.Integer() });
const Mute = Ok({ room: Type.String(), user: Type.String(), until: Type.Union([Type.Integer(), Type.Null()]), at: Type.Integer() });
const BanBody = Type.Object({ until: Until, reason: Type.Optional(Type.String({ maxLength: 500 })) });
const RoomBanBody = Type.Object({ user: UserId, until: Until, reason: Type.Optional(Type.String({ maxLength: 500 })) });
const MuteBody = Type.Object({ user: UserId, until: Until });
const Lifted = (what: string) => Ok({ user: Type.String(), room: Type.Optional(Type.String()), [what]: Type.Boolean() });
const TokenBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  rooms: Type.Optional(Type.Array(RoomId, { maxItems: 100 })),
  admin: Type.Optional(Type.Boolean()),
  ttl: Type.Optional(Type.Integer({ minimum: 60, maximum: 30 * 86_400, description: 'seconds; default an hour' })),
});

function need(core: ApiCore): Moderation {
  return core.moderation;
}

const opts = <T extends { until?: number | null; reason?: string }>(b: T) => ({
  ...(b.until !== undefined ? { until: b.until } : {}),
  ...(b.reason !== undefined ? { reason: b.reason } : {}),
});

export function registerModerationRoutes(app: FastifyInstance, core: ApiCore, guard: Guard, mint: MintSettings): void {
  const fail = (reply: FastifyReply, err: unknown) => failWith(core.log, reply, err);
  const run = <R>(reply: FastifyReply, body: () => Promise<R>) => body().catch((err: unknown) => fail(reply, err));
  const users = { tags: ['users'], security: KEY_OR_ADMIN };
  const mod = { tags: ['moderation'], security: KEY_OR_ADMIN };
  const w = { headers: IdempotencyHeaders };
  // A server-banned admin's token is refused on every route of this scope (rooms, users, webhooks …).
  refuseBannedAdmins(app, core.store, core.now);

  app.post<{ Params: { user: string }; Body: Static<typeof BanBody> }>(
    '/api/users/:user/ban',
    { onRequest: guard, schema: { ...users, ...w, summary: 'Ban a user from the server: their connections close on every node, their tokens are refused', params: UserParams, body: BanBody, response: { 200: Ban, ...errors(400, 503) } } },
    (req, reply) => run(reply, async () => {
      noNul(req.params);
      const ban = await need(core).banUser(req.params.user, opts(req.body ?? {}));
      core.log.info({ user: req.params.user, by: callerOf(req) }, 'server API: user banned');
      return ban;
    }),
  );
  app.delete<{ Params: { user: string } }>(
    '/api/users/:user/ban',
    { onRequest: guard, schema: { ...users, ...w, summary: 'Lift a server-wide ban', params: UserParams, response: { 200: Lifted('unbanned'), ...errors(400, 503) } } },
    (req, reply) => run(reply, async () => ({ user: req.params.user, unbanned: await need(core).unbanUser(req.params.user) })),
  );

  app.get<{ Params: { room: string } }>(
    '/api/rooms/:room/bans',
    { onRequest: guard, schema: { ...mod, summary: 'List a room\'s bans', params: RoomParams, response: { 200: Type.Object({ bans: Type.Array(Ban) }), ...errors(400, 404, 503) } } },
    (req, reply) => run(reply, async () => ({ bans: await need(core).bans((await core.membership.loadRoom(req.params.room)).id) })),
  );
  app.post<{ Params: { room: string }; Body: Static<typeof RoomBanBody> }>(
    '/api/rooms/:room/bans',
    { onRequest: guard, schema: { ...mod, ...w, summary: 'Ban a user from a room (kicks, and refuses rejoin and invites until lifted)', params: RoomParams, body: RoomBanBody, response: { 200: Ban, ...errors(400, 404, 503) } } },
    (req, reply) => run(reply, async () => {
      noNul(req.body);
      return need(core).ban(SYSTEM, req.params.room, req.body.user, opts(req.body));
    }),
  );
  app.delete<{ Params: { room: string; user: string } }>(
    '/api/rooms/:room/bans/:user',
    { onRequest: guard, schema: { ...mod, ...w, summary: 'Lift a ban from a room', params: RoomUserParams, response: { 200: Lifted('unbanned'), ...errors(400, 404, 503) } } },
    (req, reply) => run(reply, async () => ({ room: req.params.room, user: req.params.user, unbanned: await need(core).unban(SYSTEM, req.params.room, req.params.user) })),
  );

  app.get<{ Params: { room: string } }>(
    '/api/rooms/:room/mutes',
    { onRequest: guard, schema: { ...mod, summary: 'List a room\'s mutes', params: RoomParams, response: { 200: Type.Object({ mutes: Type.Array(Mute) }), ...errors(400, 404, 503) } } },
    (req, reply) => run(reply, async () => ({ mutes: await need(core).mutes((await core.membership.loadRoom(req.params.room)).id) })),
  );
  app.post<{ Params: { room: string }; Body: Static<typeof MuteBody> }>(
    '/api/rooms/:room/mutes',
    { onRequest: guard, schema: { ...mod, ...w, summary: 'Mute a member (they can read, not send)', params: RoomParams, body: MuteBody, response: { 200: Mute, ...errors(400, 404, 503) } } },
    (req, reply) => run(reply, async () => {
      noNul(req.body);
      return need(core).mute(SYSTEM, req.params.room, req.body.user, opts(req.body));
    }),
  );
  app.delete<{ Params: { room: string; user: string } }>(
    '/api/rooms/:room/mutes/:user',
    { onRequest: guard, schema: { ...mod, ...w, summary: 'Lift a mute', params: RoomUserParams, response: { 200: Lifted('unmuted'), ...errors(400, 404, 503) } } },
    (req, reply) => run(reply, async () => ({ room: req.params.room, user: req.params.user, unmuted: await need(core).unmute(SYSTEM, req.params.room, req.params.user) })),
  );

  app.post<{ Params: { user: string }; Body: Static<typeof TokenBody> }>(
    '/api/users/:user/token',
    {
      onRequest: guard,
      schema: {
        ...users, summary: 'Mint a sign-in token (HS256, with --jwt-secret) for the user', params: UserParams, body: TokenBody,
        response: { 201: Ok({ user: Type.String(), token: Type.String(), expires: Type.Integer() }), ...errors(400, 503) },
      },
    },
    (req, reply) => run(reply, async () => {
      noNul(req.body);
      if (!mint.secret) throw new ChatError('unavailable', 'minting tokens needs the server\'s HS256 secret: start it with --jwt-secret');
      const b = req.body ?? {};
      const ttl = b.ttl ?? 3600;
      const token = await mintToken({ secret: mint.secret, sub: req.params.user, name: b.name, rooms: b.rooms, admin: b.admin, ttlSec: ttl, issuer: mint.issuer || undefined, audience: mint.audience || undefined });
      core.log.info({ user: req.params.user, admin: b.admin === true, by: callerOf(req) }, 'server API: token minted');
      return reply.code(201).send({ user: req.params.user, token, expires: Math.floor(Date.now() / 1000) + ttl });
    }),
  );
}
