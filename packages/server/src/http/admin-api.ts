import type { FastifyInstance } from 'fastify';
import { ROOM_ID_PATTERN } from '@roomcast/protocol';
import type { Authenticator } from '../auth/authenticator.js';
import { ChatError } from '../core/errors.js';
import { deleteRoomEverywhere, kickMember } from '../core/moderation.js';
import type { RoomRecord } from '../store/store.js';
import { adminGuard, type AdminCore, callerOf, decodeCursor, DEFAULT_LIMIT, encodeCursor, failWith, noNul, pageQuery, userParam } from './admin-guard.js';
import { registerAdminUserRoutes } from './admin-users.js';

// The admin API, for the web UI's admin page and operators' scripts: every room (search, members,
// delete, kick) and the users online (see, disconnect). Guarded by the API key or an admin's
// token (admin-guard.ts). The start of the full server API: the same paths will take updates,
// bans and more.

/** A room as the admin API shows it. */
export interface AdminRoom {
  id: string;
  title: string | null;
  visibility: 'public' | 'private';
  direct: boolean;
  owner: string | null;
  capacity: number | null;
  persist: boolean;
  createdAt: number;
  /** Days messages are kept (null: the server's default). */
  retention: number | null;
  receipts: boolean;
  /** Members (stored). */
  members: number;
  /** Distinct users online in it, on any node. */
  online: number;
  lastSeq: number;
}

const roomParam = { room: { type: 'string', pattern: ROOM_ID_PATTERN } } as const;

/** Rooms with their member and online counts (two queries for a whole page). */
async function adminRooms(core: AdminCore, rows: RoomRecord[]): Promise<AdminRoom[]> {
  const ids = rows.map((r) => r.id);
  const [members, online] = await Promise.all([core.store.memberCounts(ids), core.broker.presenceCounts(ids)]);
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    visibility: r.visibility,
    direct: r.direct,
    owner: r.owner,
    capacity: r.capacity,
    persist: r.persist,
    createdAt: r.createdAt,
    retention: r.retention,
    receipts: r.receipts,
    members: members.get(r.id) ?? 0,
    online: online.get(r.id) ?? 0,
    lastSeq: r.lastSeq,
  }));
}

async function storedRoom(core: AdminCore, id: string): Promise<RoomRecord> {
  const room = await core.store.getRoom(id);
  if (!room) throw new ChatError('room_not_found', `room "${id}" does not exist; check the id (GET /api/rooms?q= searches)`);
  return room;
}

/** Registers the admin routes (rooms here, users in admin-users.ts). */
export function registerAdminRoutes(app: FastifyInstance, core: AdminCore, auth: Authenticator, apiKey: string): void {
  // Before validation: a caller without a credential learns nothing about the routes' inputs.
  // onRequest: before the body is parsed or anything validated, so a caller without a credential
  // learns nothing about the routes' inputs.
  const guard = adminGuard(auth, apiKey);
  const fail = (reply: Parameters<typeof failWith>[1], err: unknown) => failWith(core.log, reply, err);

  app.get<{ Querystring: { q?: string; limit?: number; cursor?: string } }>(
    '/api/rooms',
    { onRequest: guard, schema: { querystring: { type: 'object', properties: { q: { type: 'string', maxLength: 200 }, ...pageQuery } } } },
    async (req, reply) => {
      try {
        noNul(req.query);
        const limit = req.query.limit ?? DEFAULT_LIMIT;
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
    { onRequest: guard, schema: { params: { type: 'object', properties: roomParam, required: ['room'] } } },
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
      schema: { params: { type: 'object', properties: roomParam, required: ['room'] }, querystring: { type: 'object', properties: pageQuery } },
    },
    async (req, reply) => {
      try {
        const room = await storedRoom(core, req.params.room);
        const limit = req.query.limit ?? DEFAULT_LIMIT;
        const c = req.query.cursor === undefined ? undefined : decodeCursor(req.query.cursor, { j: 'number', id: 'string' });
        const after = c ? { joinedAt: Number(c.j), id: String(c.id) } : undefined;
        const [rows, online] = await Promise.all([core.store.listMembers(room.id, { limit: limit + 1, after }), core.broker.presenceList(room.id)]);
        const onlineIds = new Set(online.map((u) => u.id));
        const page = rows.slice(0, limit);
        const last = page.at(-1);
        return {
          members: page.map((m) => ({
            id: m.id,
            name: m.name,
            role: m.id === room.owner ? 'owner' : 'member',
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
    { onRequest: guard, schema: { params: { type: 'object', properties: roomParam, required: ['room'] } } },
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
    { onRequest: guard, schema: { params: { type: 'object', properties: { ...roomParam, ...userParam }, required: ['room', 'user'] } } },
    async (req, reply) => {
      try {
        noNul(req.params);
        const room = await core.membership.loadRoom(req.params.room);
        // Exactly the socket `kick`'s effects, on every node.
        await kickMember(core, room, req.params.user);
        core.log.info({ room: room.id, user: req.params.user, by: callerOf(req) }, 'admin API: member removed');
        return { room: room.id, user: req.params.user, removed: true };
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  registerAdminUserRoutes(app, core, guard);
}
