import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ChatError } from '../core/errors.js';
import { userKey } from '../core/membership.js';
import { disconnectUser } from '../core/moderation.js';
import type { Session } from '../core/session.js';
import { Type } from '@sinclair/typebox';
import { type AdminCore, callerOf, decodeCursor, DEFAULT_LIMIT, encodeCursor, failWith, noNul } from './admin-guard.js';
import { errors, KEY_OR_ADMIN, Ok, PageQuery, UserParams } from './api-schemas.js';
import { IdempotencyHeaders } from './idempotency.js';

// The admin API's users: who is connected now, one user, and closing all of a user's connections.
//
// Connections are known per node. In embedded mode this node is the whole server (`scope:
// 'server'`); in cluster mode the broker keeps no list of every connected user yet, so the list and
// the connection counts are this node's (`scope: 'node'`). Whether one user is online, and a
// disconnect, do reach every node.

/** At most this many room ids per user in an answer. */
const MAX_ROOMS = 200;

/** A connected user as the list shows them. */
export interface AdminOnlineUser {
  id: string;
  name: string;
  /** Their open connections (on this node in cluster mode). */
  connections: number;
  /** Rooms joined on those connections, by id (at most 200). */
  rooms: string[];
}

/** 'server': every connection of the server is counted here; 'node': this cluster node's only. */
const scopeOf = (core: AdminCore): 'node' | 'server' => (core.delivery.sequencer ? 'node' : 'server');

/** This node's connected users, ordered by id. */
function onlineHere(sessions: Iterable<Session>): AdminOnlineUser[] {
  const byUser = new Map<string, { name: string; connections: number; rooms: Set<string> }>();
  for (const s of sessions) {
    if (s.closed) continue;
    let u = byUser.get(s.user.id);
    if (!u) byUser.set(s.user.id, (u = { name: s.user.name, connections: 0, rooms: new Set() }));
    u.connections++;
    for (const r of s.rooms) u.rooms.add(r);
  }
  return [...byUser]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, u]) => ({ id, name: u.name, connections: u.connections, rooms: [...u.rooms].sort().slice(0, MAX_ROOMS) }));
}

async function storedUser(core: AdminCore, id: string) {
  noNul(id);
  const user = await core.store.getUser(id);
  if (!user) throw new ChatError('user_not_found', `no user with id "${id}" has ever connected to this server`);
  return user;
}

/** Registers the users routes of the admin API behind the admin guard (an `onRequest` hook). */
export function registerAdminUserRoutes(
  app: FastifyInstance,
  core: AdminCore,
  guard: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
): void {
  const fail = (reply: FastifyReply, err: unknown) => failWith(core.log, reply, err);
  const tags = ['users'];
  const OnlineUser = Type.Object({ id: Type.String(), name: Type.String(), connections: Type.Integer(), rooms: Type.Array(Type.String()) });
  const Scope = Type.Union([Type.Literal('node'), Type.Literal('server')], { description: 'server: every connection is counted; node: this cluster node\'s' });

  app.get<{ Querystring: { online?: boolean; limit?: number; cursor?: string } }>(
    '/api/users',
    {
      onRequest: guard,
      schema: {
        tags, summary: 'List the users connected now (a page, by id)', security: KEY_OR_ADMIN,
        querystring: Type.Object({ online: Type.Optional(Type.Boolean()), ...PageQuery }),
        response: { 200: Type.Object({ users: Type.Array(OnlineUser), scope: Scope, next: Type.Optional(Type.String()) }), ...errors(400) },
      },
    },
    async (req, reply) => {
      try {
        if (req.query.online === false) {
          throw new ChatError('bad_request', 'only the users connected now can be listed (online=true); look a user up with GET /api/users/USER');
        }
        const limit = req.query.limit ?? DEFAULT_LIMIT;
        const after = req.query.cursor === undefined ? undefined : String(decodeCursor(req.query.cursor, { id: 'string' }).id);
        const all = onlineHere(core.registry.sessions);
        const from = after === undefined ? 0 : all.findIndex((u) => u.id > after);
        const rest = from < 0 ? [] : all.slice(from);
        const page = rest.slice(0, limit);
        const last = page.at(-1);
        return { users: page, scope: scopeOf(core), ...(rest.length > limit && last ? { next: encodeCursor({ id: last.id }) } : {}) };
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  const UserInfo = Ok({ id: Type.String(), name: Type.String(), online: Type.Boolean(), connections: Type.Integer(), rooms: Type.Array(Type.String()), scope: Scope });
  const getSchema = { tags, summary: 'Get a user: their rooms (ids, at most 200) and whether they are online', security: KEY_OR_ADMIN, params: UserParams, response: { 200: UserInfo, ...errors(400, 404) } };
  app.get<{ Params: { user: string } }>('/api/users/:user', { onRequest: guard, schema: getSchema }, async (req, reply) => {
    try {
      const user = await storedUser(core, req.params.user);
      const here = core.registry.of(user.id).filter((s) => !s.closed);
      const [rooms, online] = await Promise.all([
        core.store.memberRoomIds(user.id, MAX_ROOMS),
        here.length > 0 ? Promise.resolve(true) : core.broker.presenceCounts([userKey(user.id)]).then((c) => (c.get(userKey(user.id)) ?? 0) > 0),
      ]);
      return { id: user.id, name: here.at(-1)?.user.name ?? user.name, online, connections: here.length, rooms, scope: scopeOf(core) };
    } catch (err) {
      return fail(reply, err);
    }
  });

  const disconnectSchema = {
    tags, summary: 'Close every connection of the user, on every node (close code 4410)', security: KEY_OR_ADMIN, headers: IdempotencyHeaders, params: UserParams,
    response: { 200: Ok({ user: Type.String(), disconnected: Type.Boolean() }), ...errors(400, 404) },
  };
  app.post<{ Params: { user: string } }>('/api/users/:user/disconnect', { onRequest: guard, schema: disconnectSchema }, async (req, reply) => {
    try {
      const user = await storedUser(core, req.params.user);
      const closed = disconnectUser(core, user.id);
      core.log.info({ user: user.id, closedHere: closed, by: callerOf(req) }, 'admin API: user disconnected');
      return { user: user.id, disconnected: true };
    } catch (err) {
      return fail(reply, err);
    }
  });
}
