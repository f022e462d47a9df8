import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RoomInfo } from '@roomcast/protocol';
import { ChatError } from '../core/errors.js';
import { DIRECT_PREFIX, newRoomId } from '../core/ids.js';
import type { RoomPatch } from '../store/store.js';
import { adminRooms, type ApiCore, SYSTEM } from './api-core.js';
import { callerOf, failWith, noNul } from './admin-guard.js';
import { Capacity, errors, KEY_OR_ADMIN, Ok, Retention, RoomId, RoomParams, RoomSchema, RoomUserParams, Title, UserId, Visibility } from './api-schemas.js';
import { IdempotencyHeaders } from './idempotency.js';
import { updateRoomSettings } from '../core/moderation.js';

// The server API's rooms: create (with members and roles), update, and members' add and role.
// The list, get, delete, member list and removal are in admin-api.ts (their first home).

type Guard = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

const Role = Type.Union([Type.Literal('admin'), Type.Literal('member')]);
const NewMember = Type.Object({ id: UserId, name: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })), role: Type.Optional(Role) });

const CreateBody = Type.Object({
  id: Type.Optional(RoomId),
  title: Type.Optional(Title),
  capacity: Type.Optional(Capacity),
  visibility: Type.Optional(Visibility),
  persist: Type.Optional(Type.Boolean()),
  retention: Type.Optional(Retention),
  receipts: Type.Optional(Type.Boolean()),
  owner: Type.Optional(Type.Union([UserId, Type.Null()], { description: 'the owner (a member); null or absent: the room has none' })),
  members: Type.Optional(Type.Array(NewMember, { maxItems: 1000 })),
});

const UpdateBody = Type.Object({
  title: Type.Optional(Type.Union([Title, Type.Null()])),
  capacity: Type.Optional(Type.Union([Capacity, Type.Null()])),
  retention: Type.Optional(Type.Union([Retention, Type.Null()])),
  receipts: Type.Optional(Type.Boolean()),
  slowMode: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400, description: 'seconds between one member\'s messages; 0: off' })),
});

const AddMemberBody = Type.Object({ user: UserId, name: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })), role: Type.Optional(Role) });

/** Makes sure a user exists (the app's users may not have connected yet). */
async function ensureUser(core: ApiCore, id: string, name: string | undefined): Promise<void> {
  noNul({ id, name });
  if (!(await core.store.getUser(id))) await core.store.upsertUser({ id, name: name ?? id });
}

/** Adds a member with the socket `invite`'s effects (their connections learn of the room). */
async function addMember(core: ApiCore, room: RoomInfo, user: string, name: string | undefined, role: 'admin' | 'member' | undefined): Promise<boolean> {
  await core.moderation.refuseBanned(room, user);
  await ensureUser(core, user, name);
  const res = await core.store.addMember(room.id, user, room.capacity, core.now());
  if (res === 'full') throw new ChatError('room_full', `room "${room.id}" is full (${room.capacity}/${room.capacity})`);
  for (const s of core.registry.of(user)) s.memberOf.add(room.id);
  if (role === 'admin') {
    await core.moderation.setRole(SYSTEM, room.id, user, role);
  }
  return res === 'added';
}

export function registerRoomWriteRoutes(app: FastifyInstance, core: ApiCore, guard: Guard): void {
  const fail = (reply: FastifyReply, err: unknown) => failWith(core.log, reply, err);
  const tags = ['rooms'];

  app.post<{ Body: Static<typeof CreateBody> }>(
    '/api/rooms',
    {
      onRequest: guard,
      schema: {
        tags, summary: 'Create a room, with its members and their roles', security: KEY_OR_ADMIN, headers: IdempotencyHeaders, body: CreateBody,
        response: { 201: RoomSchema, ...errors(400, 409) },
      },
    },
    async (req, reply) => {
      try {
        const b = req.body;
        noNul(b);
        if (b.id?.startsWith(DIRECT_PREFIX)) throw new ChatError('bad_request', `room ids starting with "${DIRECT_PREFIX}" are reserved for direct messages; pick another id`);
        const room: RoomInfo = {
          id: b.id ?? newRoomId(),
          title: b.title ?? null,
          capacity: b.capacity ?? null,
          visibility: b.visibility ?? 'public',
          persist: b.persist ?? true,
          direct: false,
          owner: b.owner ?? null,
          createdAt: core.now(),
          retention: b.retention ?? null,
          receipts: b.receipts ?? true,
        };
        if (!(await core.store.createRoom(room))) throw new ChatError('room_exists', `room "${room.id}" already exists; update it (PATCH /api/rooms/${room.id}) or pick another id`);
        if (room.owner) await addMember(core, room, room.owner, undefined, undefined);
        for (const m of b.members ?? []) if (m.id !== room.owner) await addMember(core, room, m.id, m.name, m.role);
        const rec = await core.store.getRoom(room.id);
        if (!rec) throw new ChatError('room_not_found', `room "${room.id}" was deleted while it was being made`);
        core.directory.added(rec);
        core.log.info({ room: room.id, by: callerOf(req) }, 'server API: room created');
        const [shown] = await adminRooms(core, [rec]);
        return reply.code(201).send(shown);
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.patch<{ Params: { room: string }; Body: Static<typeof UpdateBody> }>(
    '/api/rooms/:room',
    {
      onRequest: guard,
      schema: { tags, summary: 'Change a room\'s settings (title, capacity, retention, receipts, slow mode)', security: KEY_OR_ADMIN, headers: IdempotencyHeaders, params: RoomParams, body: UpdateBody, response: { 200: RoomSchema, ...errors(400, 404) } },
    },
    async (req, reply) => {
      try {
        noNul(req.body);
        const current = await core.membership.loadRoom(req.params.room);
        const patch: RoomPatch = {};
        for (const k of ['title', 'capacity', 'retention', 'receipts', 'slowMode'] as const) {
          if (req.body[k] !== undefined) (patch as Record<string, unknown>)[k] = req.body[k];
        }
        // The socket `update`'s effects: live rooms, the public directory, a `room` event to members.
        const rec = await updateRoomSettings(core, current.id, patch);
        const [shown] = await adminRooms(core, [rec]);
        return shown;
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.post<{ Params: { room: string }; Body: Static<typeof AddMemberBody> }>(
    '/api/rooms/:room/members',
    {
      onRequest: guard,
      schema: {
        tags: ['members'], summary: 'Add a member (a user who never connected is made)', security: KEY_OR_ADMIN, headers: IdempotencyHeaders, params: RoomParams, body: AddMemberBody,
        response: { 200: Ok({ room: Type.String(), user: Type.String(), added: Type.Boolean() }), ...errors(400, 404, 409) },
      },
    },
    async (req, reply) => {
      try {
        const room = await core.membership.loadRoom(req.params.room);
        if (room.direct) throw new ChatError('bad_request', 'a direct conversation has exactly two members; members cannot be added');
        const added = await addMember(core, room, req.body.user, req.body.name, req.body.role);
        return { room: room.id, user: req.body.user, added };
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.put<{ Params: { room: string; user: string }; Body: { role: 'admin' | 'member' } }>(
    '/api/rooms/:room/members/:user/role',
    {
      onRequest: guard,
      schema: {
        tags: ['members'], summary: 'Set a member\'s role (admin or member)', security: KEY_OR_ADMIN, headers: IdempotencyHeaders, params: RoomUserParams, body: Type.Object({ role: Role }),
        response: { 200: Ok({ room: Type.String(), user: Type.String(), role: Role }), ...errors(400, 404, 503) },
      },
    },
    async (req, reply) => {
      try {
        noNul(req.params);
        await core.moderation.setRole(SYSTEM, req.params.room, req.params.user, req.body.role);
        return { room: req.params.room, user: req.params.user, role: req.body.role };
      } catch (err) {
        return fail(reply, err);
      }
    },
  );
}
