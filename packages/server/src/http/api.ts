import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_HISTORY_PAGE, MAX_HISTORY_PAGE, MAX_NAME_LENGTH, ROOM_ID_PATTERN } from '@roomcast/protocol';
import type { Core } from '../core/core.js';
import { ChatError, toErrorBody } from '../core/errors.js';
import { holdsNul } from '../core/limits.js';
import { historyPage } from '../core/history.js';
import { checkMessage, historyBytes } from '../core/messages.js';
import { problem } from './files.js';

// The server-side API, for the user's own backend: publish system messages, read history.
// Guarded by --api-key; without one it is off.

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares in constant time: hashing first makes both sides the same length. */
export function sameKey(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

const STATUS: Record<string, number> = { room_not_found: 404, bad_request: 400, too_large: 413, forbidden: 403, unavailable: 503 };

/** What the server-side API uses: the same services and checks as the socket's `send` and `history`. */
export type ApiCore = Pick<Core, 'config' | 'log' | 'store' | 'membership' | 'delivery'>;

export function registerApiRoutes(app: FastifyInstance, core: ApiCore, apiKey: string): void {
  const guard = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!apiKey) return problem(reply, 403, 'forbidden', 'the server-side API is off; start the server with --api-key to use it');
    const h = req.headers.authorization;
    const given = h?.startsWith('Bearer ') ? h.slice(7).trim() : String(req.headers['x-api-key'] ?? '');
    if (!given || !sameKey(given, apiKey)) {
      return problem(reply, 401, 'unauthorized', 'send the API key as "Authorization: Bearer KEY" or "X-Api-Key: KEY"');
    }
  };
  const fail = (reply: FastifyReply, err: unknown) => {
    const { body, unexpected } = toErrorBody(err);
    if (unexpected) core.log.error({ err }, 'API request failed');
    return problem(reply, STATUS[body.code] ?? 500, body.code, body.message);
  };
  const params = { type: 'object', properties: { room: { type: 'string', pattern: ROOM_ID_PATTERN } }, required: ['room'] } as const;

  app.post<{ Params: { room: string }; Body: { text: string; meta?: Record<string, unknown>; from?: { id: string; name: string }; id?: string } }>(
    '/api/rooms/:room/messages',
    {
      preHandler: guard,
      schema: {
        params,
        body: {
          type: 'object',
          required: ['text'],
          properties: {
            text: { type: 'string' },
            id: { type: 'string', minLength: 1, maxLength: 64 },
            meta: { type: 'object' },
            from: {
              type: 'object',
              required: ['id', 'name'],
              properties: { id: { type: 'string', minLength: 1, maxLength: 128 }, name: { type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH } },
            },
          },
        },
      },
    },
    async (req, reply) => {
      try {
        if (holdsNul(req.body)) throw new ChatError('bad_request', 'the body contains the NUL character (U+0000), which no field may hold; remove it');
        checkMessage(core.config, req.body);
        const room = await core.membership.loadRoom(req.params.room);
        const from = req.body.from ?? { id: 'system', name: 'system' };
        const res = await core.delivery.publish(room, { id: from.id, name: from.name }, {
          text: req.body.text,
          ...(req.body.meta ? { meta: req.body.meta } : {}),
          ...(req.body.id ? { clientId: req.body.id } : {}),
        });
        return reply.code(res.duplicate ? 200 : 201).send({ room: res.room, seq: res.seq, ts: res.ts, id: res.id, ...(res.duplicate ? { duplicate: true } : {}) });
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.get<{ Params: { room: string }; Querystring: { before?: number; after?: number; limit?: number } }>(
    '/api/rooms/:room/messages',
    {
      preHandler: guard,
      schema: {
        params,
        querystring: {
          type: 'object',
          properties: { before: { type: 'integer', minimum: 1 }, after: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: MAX_HISTORY_PAGE } },
        },
      },
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
