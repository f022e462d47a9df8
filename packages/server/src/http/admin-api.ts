import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ChatError } from '../core/errors.js';
import { deleteRoomEverywhere } from '../core/moderation.js';
import type { RoomRecord } from '../store/store.js';
import { adminRooms, type ApiCore, SYSTEM } from './api-core.js';
import { type adminGuard, callerOf, decodeCursor, DEFAULT_LIMIT, encodeCursor, failWith, noNul } from './admin-guard.js';
import { errors, KEY_OR_ADMIN, MemberSchema, Ok, PageQuery, RoomParams, RoomSchema, RoomUserParams, UserId } from './api-schemas.js';
import { registerAdminUserRoutes } from './admin-users.js';
import { IdempotencyHeaders } from './idempotency.js';
import { registerRoomWriteRoutes } from './server-api-rooms.js';

// The admin API, for the web UI's admin page, operators' scripts and the app's backend: every
// room (list, search, members, delete, kick) and the users. Guarded by an API key or an admin's
// token (admin-guard.ts). Room writes are in server-api-rooms.ts, users in admin-users.ts.

export type { AdminRoom } from './api-core.js';

async function storedRoom(core: ApiCore, id: string): Promise<RoomRecord> {
  const room = await core.store.getRoom(id);
  if (!room) throw new ChatError('room_not_found', `room "${id}" does not exist; check the id (GET /api/rooms?q= searches)`);
  return room;
}

const RoomList = Type.Object({ rooms: Type.Array(RoomSchema), next: Type.Optional(Type.String()) });

/** Registers the admin routes (rooms here and in server-api-rooms.ts, users in admin-users.ts). */
export function registerAdminRoutes(app: FastifyInstance, core: ApiCore, guard: ReturnType<typeof adminGuard>): void {
  // The guard runs onRequest: before the body is parsed or anything validated, so a caller
  // without a credential learns nothing about the routes' inputs.
  const fail = (reply: Parameters<typeof failWith>[1], err: unknown) => failWith(core.log, reply, err);
  const tags = ['rooms'];

  app.get<{ Querystring: { q?: string; member?: string; limit?: number; cursor?: string } }>(
    '/api/rooms',
    {
      onRequest: guard,
      schema: {
        tags, summary: 'List rooms (a page), by id; or the rooms a user is a member of', security: KEY_OR_ADMIN,
        querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 200, description: 'id or title contains this' })), member: Type.Optional(UserId), ...PageQuery }),
        response: { 200: RoomList, ...errors(400) },
      },
    },
    async (req, reply) => {
      try {
        noNul(req.query);
        const limit = req.query.limit ?? DEFAULT_LIMIT;
        if (req.query.member !== undefined) {
          if (req.query.q !== undefined) throw new ChatError('bad_request', 'give either q or member, not both');
          // A user's rooms, newest activity first (the order the store pages them in).
          const c = req.query.cursor === undefined ? undefined : decodeCursor(req.query.cursor, { s: 'number', id: 'string' });
          const rows = await core.store.memberRooms(req.query.member, { limit: limit + 1, after: c ? { lastSeq: Number(c.s), id: String(c.id) } : undefined });
          const page = rows.slice(0, limit);
          const last = page.at(-1);
          return { rooms: await adminRooms(core, page), ...(rows.length > limit && last ? { next: encodeCursor({ s: last.lastSeq, id: last.id }) } : {}) };
        }
        const after = req.query.cursor === undefined ? undefined : String(decodeCursor(req.query.cursor, { id: 'string' }).id);
        const rows = await core.store.listRooms({ q: req.query.q, limit: limit + 1, after });
        const page = rows.slice(0, limit);
        const last = page.at(-1);
        return { rooms: await adminRooms(core, page), ...(rows.length > limit && last ? { next: encodeCursor({ id: last.id }) } : {}) };
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.get<{ Params: { room: string } }>(
    '/api/rooms/:room',
    { onRequest: guard, schema: { tags, summary: 'Get a room', security: KEY_OR_ADMIN, params: RoomParams, response: { 200: RoomSchema, ...errors(400, 404) } } },
    async (req, reply) => {
      try {
        const [room] = await adminRooms(core, [await storedRoom(core, req.params.room)]);
        return room;
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.get<{ Params: { room: string }; Querystring: { limit?: number; cursor?: string } }>(
    '/api/rooms/:room/members',
    {
      onRequest: guard,
      schema: {
        tags: ['members'], summary: 'List a room\'s members (a page, in the order they joined), with roles and read cursors', security: KEY_OR_ADMIN,
        params: RoomParams, querystring: Type.Object(PageQuery),
        response: { 200: Type.Object({ members: Type.Array(MemberSchema), next: Type.Optional(Type.String()) }), ...errors(400, 404) },
      },
    },
    async (req, reply) => {
      try {
        const room = await storedRoom(core, req.params.room);
        const limit = req.query.limit ?? DEFAULT_LIMIT;
        const c = req.query.cursor === undefined ? undefined : decodeCursor(req.query.cursor, { j: 'number', id: 'string' });
        const after = c ? { joinedAt: Number(c.j), id: String(c.id) } : undefined;
        const rows = await core.store.listMembers(room.id, { limit: limit + 1, after });
        const online = await core.broker.presencePage(room.id, { limit, among: rows.map((m) => m.id) });
        const onlineIds = new Set(online.users.map((u) => u.id));
        const page = rows.slice(0, limit);
        const last = page.at(-1);
        return {
          members: page.map((m) => ({
            id: m.id,
            name: m.name,
            role: m.id === room.owner ? 'owner' : ((m as { role?: string }).role ?? 'member'),
            online: onlineIds.has(m.id),
            readSeq: m.readSeq,
            joinedAt: m.joinedAt,
          })),
          ...(rows.length > limit && last ? { next: encodeCursor({ j: last.joinedAt, id: last.id }) } : {}),
        };
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.delete<{ Params: { room: string } }>(
    '/api/rooms/:room',
    {
      onRequest: guard,
      schema: { tags, summary: 'Delete a room (its members are told and detached on every node)', security: KEY_OR_ADMIN, headers: IdempotencyHeaders, params: RoomParams, response: { 200: Ok({ room: Type.String(), deleted: Type.Boolean() }), ...errors(400, 404) } },
    },
    async (req, reply) => {
      try {
        const room = await core.membership.loadRoom(req.params.room);
        // Exactly the socket `delete`'s effects, on every node.
        await deleteRoomEverywhere(core, room);
        core.log.info({ room: room.id, by: callerOf(req) }, 'admin API: room deleted');
        return { room: room.id, deleted: true };
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.delete<{ Params: { room: string; user: string } }>(
    '/api/rooms/:room/members/:user',
    {
      onRequest: guard,
      schema: { tags: ['members'], summary: 'Remove a member (a kick: their connections are told, on every node)', security: KEY_OR_ADMIN, headers: IdempotencyHeaders, params: RoomUserParams, response: { 200: Ok({ room: Type.String(), user: Type.String(), removed: Type.Boolean() }), ...errors(400, 404) } },
    },
    async (req, reply) => {
      try {
        noNul(req.params);
        const room = await core.membership.loadRoom(req.params.room);
        // Exactly the socket `kick`'s effects, on every node (and its moderation event, with roles).
        await core.moderation.kick(SYSTEM, room, req.params.user);
        core.log.info({ room: room.id, user: req.params.user, by: callerOf(req) }, 'admin API: member removed');
        return { room: room.id, user: req.params.user, removed: true };
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  registerRoomWriteRoutes(app, core, guard);
  registerAdminUserRoutes(app, core, guard);
}
