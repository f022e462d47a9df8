import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../auth/authenticator.js';
import type { Core } from '../core/core.js';
import { ChatError, toErrorBody } from '../core/errors.js';
import { holdsNul } from '../core/limits.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/store.js';
import { allows, type ApiKeys, type Scope, SCOPE_HELP } from './api-keys.js';
import { problem, refuseServerBanned } from './files.js';

// What every server API route shares: who may call it (a key of the right scope, or an admin's
// token), how failures are answered, and paging.

/** What the admin routes use of the core. */
export type AdminCore = Pick<Core, 'log' | 'store' | 'broker' | 'registry' | 'membership' | 'delivery'>;

/** Who called a route: an API key (by name), or an admin user (for the log of what they did). */
export type AdminCaller = { kind: 'key'; name: string; scope: Scope } | { kind: 'user'; id: string };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the guard once the caller is known. */
    adminCaller?: AdminCaller;
  }
  interface FastifyContextConfig {
    /** The scope a route needs; default: read for GET, admin for anything else. */
    scope?: Scope;
  }
}

const HOW = 'send "Authorization: Bearer X", where X is the server\'s API key (--api-key), a key of --api-keys, or the sign-in token of a user whose token carries "admin": true';

/** The scope the route asks for. */
export function scopeOf(req: FastifyRequest): Scope {
  return req.routeOptions.config.scope ?? (req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'admin');
}

function credentials(req: FastifyRequest): { bearer: string; keyHeader: string } {
  const h = req.headers.authorization;
  const bearer = h?.startsWith('Bearer ') ? h.slice(7).trim() : '';
  // X-Api-Key carries only a key, never a sign-in token.
  const keyHeader = typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : '';
  return { bearer, keyHeader };
}

/** Refuses a key whose scope is short of what the route needs (403, naming the scope). */
function checkScope(req: FastifyRequest, reply: FastifyReply, name: string, held: Scope) {
  const need = scopeOf(req);
  if (allows(held, need)) return undefined;
  return problem(reply, 403, 'forbidden', `the API key "${name}" has scope "${held}" (${SCOPE_HELP[held]}); ${req.method} ${req.routeOptions.url} needs scope "${need}": use a key with that scope`);
}

/**
 * The admin routes' guard: an API key (compared in constant time) whose scope covers the route,
 * or the sign-in token of an admin user (a JWT with `admin: true`; guests never are). 401 for no
 * credential or one that is not valid, 403 for a valid user who is not an admin or a key of too
 * small a scope. Without keys only admin tokens work.
 */
export function adminGuard(auth: Authenticator, keys: ApiKeys) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const { bearer, keyHeader } = credentials(req);
    if (!bearer && !keyHeader) return problem(reply, 401, 'unauthorized', `the admin API needs a credential: ${HOW}`);
    const key = keys.size > 0 ? keys.match(bearer || keyHeader) : null;
    if (key) {
      req.adminCaller = { kind: 'key', name: key.name, scope: key.scope };
      return checkScope(req, reply, key.name, key.scope);
    }
    if (!bearer) return problem(reply, 401, 'unauthorized', `the X-Api-Key header is not one of this server's API keys${keys.size > 0 ? '' : ' (this server has none: it was started without --api-key)'}; ${HOW}`);
    const user = await auth.userOf(bearer);
    if (!user) {
      const noKey = keys.size > 0 ? '' : ' This server was started without --api-key, so only an admin user\'s token is accepted.';
      return problem(reply, 401, 'unauthorized', `the credential is neither an API key nor a valid sign-in token (it may have expired or be signed with another key); ${HOW}.${noKey}`);
    }
    if (!user.admin) {
      return problem(reply, 403, 'forbidden', `user "${user.id}" is not an administrator: the admin API needs a sign-in token with the claim "admin": true (guests never are), or the server's API key`);
    }
    req.adminCaller = { kind: 'user', id: user.id };
    return undefined;
  };
}

/**
 * Adds to every route of the scope (`app`) the ban check of an admin user's sign-in token, after
 * the guard names the caller and before anything else (idempotency, the handler). API keys are
 * not users and are unaffected.
 */
export function refuseBannedAdmins(app: FastifyInstance, store: Pick<Store, 'getBan'>, now: () => number): void {
  app.addHook('preValidation', async (req: FastifyRequest, reply: FastifyReply) => {
    const c = req.adminCaller;
    return c?.kind === 'user' ? refuseServerBanned(store, reply, c.id, now()) : undefined;
  });
}

/** The server-side messages API's guard: API keys only (never a sign-in token); off without keys. */
export function keyGuard(keys: ApiKeys) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (keys.size === 0) return problem(reply, 403, 'forbidden', 'the server-side API is off; start the server with --api-key (or --api-keys FILE) to use it');
    const { bearer, keyHeader } = credentials(req);
    const given = bearer || keyHeader;
    const key = given ? keys.match(given) : null;
    if (!key) return problem(reply, 401, 'unauthorized', 'send an API key as "Authorization: Bearer KEY" or "X-Api-Key: KEY"');
    req.adminCaller = { kind: 'key', name: key.name, scope: key.scope };
    return checkScope(req, reply, key.name, key.scope);
  };
}

/** Who the caller is, for idempotency keys (per caller) and logs. */
export function callerId(req: FastifyRequest): string {
  const c = req.adminCaller;
  return c?.kind === 'user' ? `user:${c.id}` : `key:${c?.name ?? ''}`;
}

/** Describes the caller for the log: "api-key" or the admin's user id. */
export function callerOf(req: FastifyRequest): string {
  const c = req.adminCaller;
  return c?.kind === 'user' ? c.id : c?.kind === 'key' ? c.name : 'api-key';
}

const STATUS: Record<string, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  room_not_found: 404,
  user_not_found: 404,
  not_member: 404,
  not_found: 404,
  room_exists: 409,
  room_full: 409,
  too_large: 413,
  rate_limited: 429,
  muted: 403,
  banned: 403,
  slow_mode: 429,
  rejected: 422,
  unavailable: 503,
};

/** Answers a failure with the protocol's code and the HTTP status that goes with it. */
export function failWith(log: Logger, reply: FastifyReply, err: unknown) {
  const { body, unexpected } = toErrorBody(err);
  if (unexpected) log.error({ err }, 'admin API request failed');
  // The whole body: `banned` and `muted` carry `until`, `slow_mode` carries `retryAfter`.
  return reply.code(STATUS[body.code] ?? 500).send({ error: body });
}

/** Refuses NUL in what reaches a query (PostgreSQL cannot hold it in text and would fail). */
export function noNul(value: unknown): void {
  if (holdsNul(value)) throw new ChatError('bad_request', 'the request contains the NUL character (U+0000); remove it');
}

/** Page sizes: default and largest. */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

/** A cursor as the client sees it: opaque (base64url JSON), so its form may change. */
export function encodeCursor(value: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * The cursor's fields, checked against the kinds they must have; anything else (a garbage or
 * tampered cursor) is `bad_request`.
 */
export function decodeCursor<K extends string>(cursor: string, fields: Record<K, 'string' | 'number'>): Record<K, string | number> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = null;
  }
  const ok =
    typeof value === 'object' &&
    value !== null &&
    Object.entries(fields).every(([k, kind]) => {
      const v = (value as Record<string, unknown>)[k];
      return kind === 'number' ? Number.isSafeInteger(v) : typeof v === 'string' && v.length > 0 && v.length <= 128 && !v.includes('\u0000');
    });
  if (!ok) throw new ChatError('bad_request', 'the cursor is not one this server gave out; start the list again without it');
  return value as Record<K, string | number>;
}
