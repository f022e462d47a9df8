import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_SEARCH_PAGE, MAX_SEARCH_PAGE, MAX_SEARCH_QUERY } from '@roomcast/protocol';
import { ChatError } from '../core/errors.js';
import { toMsgEvent } from '../core/events.js';
import { checkMessage, historyBytes } from '../core/messages.js';
import { pageLength } from '../core/ops-search.js';
import type { ApiCore } from './api-core.js';
import { failWith, noNul } from './admin-guard.js';
import { errors, KEY_OR_ADMIN, Meta, MessageParams, MessageSchema, Ok, RoomId, UserId } from './api-schemas.js';
import { IdempotencyHeaders } from './idempotency.js';

// The server API's messages beyond posting and history (api.ts): one message, edit, unsend and
// search. Edits and unsends are appended to the room's stream like the socket's (the store
// checks them in the same commit) and delivered on every node.

type Guard = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

const SYSTEM_USER = { id: 'system', name: 'system' };

const SearchQuery = Type.Object({
  q: Type.String({ minLength: 1, maxLength: MAX_SEARCH_QUERY }),
  user: UserId,
  room: Type.Optional(RoomId),
  before: Type.Optional(Type.Integer({ minimum: 1, description: 'the `next` of the previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SEARCH_PAGE })),
});

export function registerMessageRoutes(app: FastifyInstance, core: ApiCore, guard: Guard): void {
  const fail = (reply: FastifyReply, err: unknown) => failWith(core.log, reply, err);
  const tags = ['messages'];

  const found = async (room: string, seq: number) => {
    const m = await core.store.getMessage(room, seq);
    if (!m || m.kind !== 'msg') throw new ChatError('not_found', `room "${room}" has no message ${seq}`);
    return m;
  };

  app.get<{ Params: { room: string; seq: number } }>(
    '/api/rooms/:room/messages/:seq',
    { onRequest: guard, schema: { tags, summary: 'Get one message in its current state', security: KEY_OR_ADMIN, params: MessageParams, response: { 200: MessageSchema, ...errors(400, 404) } } },
    async (req, reply) => {
      try {
        const room = await core.membership.loadRoom(req.params.room);
        return toMsgEvent(await found(room.id, req.params.seq));
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  const EditBody = Type.Object({ text: Type.String(), meta: Type.Optional(Meta) });
  app.patch<{ Params: { room: string; seq: number }; Body: Static<typeof EditBody> }>(
    '/api/rooms/:room/messages/:seq',
    {
      onRequest: guard,
      config: { scope: 'publish' },
      schema: {
        tags, summary: 'Edit a message (on its author\'s behalf, at any time)', security: KEY_OR_ADMIN, headers: IdempotencyHeaders, params: MessageParams, body: EditBody,
        response: { 200: Ok({ room: Type.String(), seq: Type.Integer(), target: Type.Integer(), editedAt: Type.Integer() }), ...errors(400, 404, 413, 422) },
      },
    },
    async (req, reply) => {
      try {
        noNul(req.body);
        checkMessage(core.config, req.body);
        const room = await core.membership.loadRoom(req.params.room);
        const m = await found(room.id, req.params.seq);
        // The backend edits as the author: the store's author check passes, and no time window.
        const change = { kind: 'edit' as const, target: m.seq, text: req.body.text, windowMs: 0, ...(req.body.meta !== undefined ? { meta: req.body.meta } : {}) };
        const res = await core.delivery.publish(room, m.from, { change });
        return { room: res.room, seq: res.seq, target: m.seq, editedAt: res.ts };
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.delete<{ Params: { room: string; seq: number } }>(
    '/api/rooms/:room/messages/:seq',
    {
      onRequest: guard,
      config: { scope: 'publish' },
      schema: {
        tags, summary: 'Unsend a message: its content is deleted, members see it taken back', security: KEY_OR_ADMIN, headers: IdempotencyHeaders, params: MessageParams,
        response: { 200: Ok({ room: Type.String(), target: Type.Integer(), seq: Type.Optional(Type.Integer()), already: Type.Optional(Type.Boolean()) }), ...errors(400, 404) },
      },
    },
    async (req, reply) => {
      try {
        const room = await core.membership.loadRoom(req.params.room);
        const change = { kind: 'unsend' as const, target: req.params.seq, windowMs: 0, moderator: true };
        const res = await core.delivery.publish(room, SYSTEM_USER, { change });
        return { room: res.room, target: req.params.seq, ...(res.already ? { already: true } : { seq: res.seq }) };
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.get<{ Querystring: Static<typeof SearchQuery> }>(
    '/api/search',
    {
      onRequest: guard,
      schema: {
        tags, summary: 'Search the messages a user may read (their rooms, or one of them), newest first', security: KEY_OR_ADMIN, querystring: SearchQuery,
        response: { 200: Type.Object({ messages: Type.Array(MessageSchema), more: Type.Boolean(), next: Type.Optional(Type.Integer()) }), ...errors(400, 404) },
      },
    },
    async (req, reply) => {
      try {
        noNul(req.query);
        const q = req.query.q.trim();
        if (q === '') throw new ChatError('bad_request', 'search needs text to look for: "q" holds only spaces');
        if (req.query.room !== undefined && !(await core.store.isMember(req.query.room, req.query.user))) {
          throw new ChatError('not_member', `user "${req.query.user}" is not a member of room "${req.query.room}"`);
        }
        const limit = req.query.limit ?? DEFAULT_SEARCH_PAGE;
        const hits = await core.store.search({ userId: req.query.user, q, room: req.query.room, before: req.query.before, limit: limit + 1 });
        const n = pageLength(hits, limit, historyBytes(core.config));
        const messages = hits.slice(0, n).map(toMsgEvent);
        return n < hits.length ? { messages, more: true, next: hits[n - 1]!.ts } : { messages, more: false };
      } catch (err) {
        return fail(reply, err);
      }
    },
  );
}
