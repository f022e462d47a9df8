import { createHash, timingSafeEqual } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_HISTORY_PAGE, type RoomInfo } from '@roomcast/protocol';
import type { Core } from '../core/core.js';
import { ChatError } from '../core/errors.js';
import { holdsNul } from '../core/limits.js';
import { historyPage } from '../core/history.js';
import { checkMessage, historyBytes } from '../core/messages.js';
import type { PostBody } from '../core/delivery.js';
import { postRefused } from '../core/moderation-errors.js';
import { failWith } from './admin-guard.js';
import { errors, HistoryQuery, KEY_OR_ADMIN, MessagePage, Posted, PostMessageBody, RoomParams } from './api-schemas.js';
import { IdempotencyHeaders } from './idempotency.js';

// The server-side messages API, for the user's own backend: publish messages (as a user or as
// the system), read history; one message, edits, unsends and search in server-api-messages.ts.
// Guarded by API keys only (keyGuard: never a sign-in token); without one it is off.

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares in constant time: hashing first makes both sides the same length. */
export function sameKey(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** What the server-side API uses: the same services and checks as the socket's `send` and `history`. */
export type MessagesCore = Pick<Core, 'config' | 'log' | 'store' | 'membership' | 'delivery' | 'now'>;

/**
 * A post `from` a user obeys moderation as the socket's `send` does: refused with `banned` (the
 * user is banned from the server or the room) or `muted`, with `until`. Slow mode is the
 * socket's pacing of people and does not apply; posts as the system are never refused.
 */
async function refuseModerated(core: MessagesCore, room: RoomInfo, user: string): Promise<void> {
  const now = core.now();
  const [server, banned, gate] = await Promise.all([
    core.store.getBan(null, user, now),
    core.store.getBan(room.id, user, now),
    room.direct ? null : core.store.postGate(room.id, user, now),
  ]);
  if (server) throw postRefused('banned', user, null, server.until);
  if (banned) throw postRefused('banned', user, room.id, banned.until);
  if (gate?.mutedUntil !== undefined) throw postRefused('muted', user, room.id, gate.mutedUntil);
}

type Guard = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export function registerApiRoutes(app: FastifyInstance, core: MessagesCore, guard: Guard): void {
  const fail = (reply: FastifyReply, err: unknown) => failWith(core.log, reply, err);
  const tags = ['messages'];

  app.post<{ Params: { room: string }; Body: Static<typeof PostMessageBody> }>(
    '/api/rooms/:room/messages',
    {
      onRequest: guard,
      config: { scope: 'publish' },
      schema: {
        tags, summary: 'Post a message, as a user (from) or as the system', security: KEY_OR_ADMIN, headers: IdempotencyHeaders, params: RoomParams, body: PostMessageBody,
        response: { 200: Posted, 201: Posted, ...errors(400, 404, 413, 422, 503) },
      },
    },
    async (req, reply) => {
      try {
        if (holdsNul(req.body)) throw new ChatError('bad_request', 'the body contains the NUL character (U+0000), which no field may hold; remove it');
        checkMessage(core.config, req.body);
        const room = await core.membership.loadRoom(req.params.room);
        const from = req.body.from ?? { id: 'system', name: 'system' };
        if (req.body.from) await refuseModerated(core, room, from.id);
        const body: PostBody = { text: req.body.text };
        if (req.body.meta) body.meta = req.body.meta;
        if (req.body.id) body.clientId = req.body.id;
        if (req.body.replyTo !== undefined) body.replyTo = req.body.replyTo;
        if (req.body.mentions !== undefined) body.mentions = req.body.mentions;
        const res = await core.delivery.publish(room, { id: from.id, name: from.name }, body);
        return reply.code(res.duplicate ? 200 : 201).send({ room: res.room, seq: res.seq, ts: res.ts, id: res.id, ...(res.duplicate ? { duplicate: true } : {}) });
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.get<{ Params: { room: string }; Querystring: Static<typeof HistoryQuery> }>(
    '/api/rooms/:room/messages',
    {
      onRequest: guard,
      schema: { tags, summary: 'Read a room\'s history, a page at a time (before or after a seq)', security: KEY_OR_ADMIN, params: RoomParams, querystring: HistoryQuery, response: { 200: MessagePage, ...errors(400, 404) } },
    },
    async (req, reply) => {
      try {
        const { before, after, limit } = req.query;
        if (before !== undefined && after !== undefined) throw new ChatError('bad_request', 'give either before or after, not both');
        const room = await core.membership.loadRoom(req.params.room);
        const page = await historyPage(core.store, room.id, { before: before ?? null, after, limit: limit ?? DEFAULT_HISTORY_PAGE }, historyBytes(core.config));
        return { room: room.id, messages: page.messages, more: page.more };
      } catch (err) {
        return fail(reply, err);
      }
    },
  );
}
