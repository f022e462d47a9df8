import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../core/logger.js';
import type { IdempotencyLog } from '../store/store.js';
import { callerId } from './admin-guard.js';
import { problem } from './files.js';

// The Idempotency-Key header of the server API: on a POST, PATCH, PUT or DELETE, the first
// response (status and body) is stored, per caller and key, and a retry with the same key gets
// it again (`Idempotent-Replayed: true`) instead of doing the work twice. The same key with
// another request is a 422; a retry while the first still runs, a 409. Kept a day.

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const MAX_IDEMPOTENCY_KEY = 255;
/** How long a key's answer is kept. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
/** A first request running longer than this is taken to have died with its node: a retry runs. */
const STALE_MS = 5 * 60_000;
const PRUNE_EVERY_MS = 10 * 60_000;
const MUTATING = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

/** The header as the OpenAPI document shows it (each mutating route's `headers`). */
export const IdempotencyHeaders = Type.Object({
  [IDEMPOTENCY_HEADER]: Type.Optional(
    Type.String({ minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY, description: 'a key of your choice (a UUID): a retry with the same key gets the first answer' }),
  ),
});

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when this request claimed an Idempotency-Key: its answer is stored. */
    idempotency?: { caller: string; key: string };
  }
}

const hash = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Adds the header's handling to every mutating route of `app` (a scope): after the guard (which
 * names the caller), before the handler; the answer is stored before it is sent.
 */
export function idempotentWrites(app: FastifyInstance, log: IdempotencyLog, logger: Logger, now: () => number = Date.now): void {
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    const raw = req.headers[IDEMPOTENCY_HEADER];
    if (raw === undefined || !MUTATING.has(req.method) || !req.adminCaller) return undefined;
    const key = Array.isArray(raw) ? raw[0] ?? '' : raw;
    if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY || Array.isArray(raw)) {
      return problem(reply, 400, 'bad_request', `give one Idempotency-Key header of 1 to ${MAX_IDEMPOTENCY_KEY} characters`);
    }
    const caller = callerId(req);
    const t = now();
    const claim = await log.claim({ caller, key, method: req.method, path: req.url, bodyHash: hash(JSON.stringify(req.body ?? null)), ts: t }, t - STALE_MS);
    switch (claim.state) {
      case 'new':
        req.idempotency = { caller, key };
        return undefined;
      case 'running':
        return problem(reply, 409, 'unavailable', `a request with Idempotency-Key "${key}" is still running; retry once it has answered`);
      case 'mismatch':
        return problem(reply, 422, 'bad_request', `Idempotency-Key "${key}" was used for another request (${claim.method} ${claim.path}, or another body); use a new key for a new request`);
      case 'done':
        return reply.code(claim.status).header('idempotent-replayed', 'true').type('application/json; charset=utf-8').send(claim.response);
    }
  });
  app.addHook('onSend', async (req, reply, payload) => {
    const claimed = req.idempotency;
    if (!claimed) return payload;
    req.idempotency = undefined;
    // A failure of ours is not an answer to keep: the retry runs again.
    if (reply.statusCode >= 500) await log.abandon(claimed.caller, claimed.key);
    else await log.finish(claimed.caller, claimed.key, reply.statusCode, typeof payload === 'string' ? payload : String(payload ?? ''));
    return payload;
  });
  // A request that ended without an answer (the client went away first) gives up its claim.
  app.addHook('onResponse', async (req) => {
    const claimed = req.idempotency;
    if (claimed) await log.abandon(claimed.caller, claimed.key).catch(() => undefined);
  });
  const prune = setInterval(() => {
    log.prune(now() - IDEMPOTENCY_TTL_MS).catch((err: unknown) => logger.warn({ err }, 'pruning Idempotency-Key answers failed'));
  }, PRUNE_EVERY_MS);
  prune.unref();
  app.addHook('onClose', async () => clearInterval(prune));
}
