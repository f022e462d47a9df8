import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../auth/authenticator.js';
import type { Core } from '../core/core.js';
import { ChatError, toErrorBody } from '../core/errors.js';
import { holdsNul } from '../core/limits.js';
import type { Logger } from '../core/logger.js';
import { sameKey } from './api.js';
import { problem } from './files.js';

// What every admin route shares: who may call it, how failures are answered, and paging.

/** What the admin routes use of the core. */
export type AdminCore = Pick<Core, 'log' | 'store' | 'broker' | 'registry' | 'membership' | 'delivery'>;

/** Who called an admin route: the API key, or an admin user (for the log of what they did). */
export type AdminCaller = { kind: 'key' } | { kind: 'user'; id: string };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the admin guard once the caller is known. */
    adminCaller?: AdminCaller;
  }
}

const HOW = 'send "Authorization: Bearer X", where X is the server\'s API key (--api-key) or the sign-in token of a user whose token carries "admin": true';

/**
 * The admin routes' guard: the API key (compared in constant time) or the sign-in token of an
 * admin user (a JWT with `admin: true`; guests never are). 401 for no credential or one that is
 * not valid, 403 for a valid user who is not an admin. Without --api-key only admin tokens work.
 */
export function adminGuard(auth: Authenticator, apiKey: string) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const h = req.headers.authorization;
    const bearer = h?.startsWith('Bearer ') ? h.slice(7).trim() : '';
    // X-Api-Key, as the server-side API takes it, carries only the key.
    const keyHeader = typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : '';
    if (!bearer && !keyHeader) return problem(reply, 401, 'unauthorized', `the admin API needs a credential: ${HOW}`);
    if (apiKey && sameKey(bearer || keyHeader, apiKey)) {
      req.adminCaller = { kind: 'key' };
      return;
    }
    if (!bearer) return problem(reply, 401, 'unauthorized', `the X-Api-Key header is not this server's API key${apiKey ? '' : ' (this server has none: it was started without --api-key)'}; ${HOW}`);
    const user = await auth.userOf(bearer);
    if (!user) {
      const noKey = apiKey ? '' : ' This server was started without --api-key, so only an admin user\'s token is accepted.';
      return problem(reply, 401, 'unauthorized', `the credential is neither the API key nor a valid sign-in token (it may have expired or be signed with another key); ${HOW}.${noKey}`);
    }
    if (!user.admin) {
      return problem(reply, 403, 'forbidden', `user "${user.id}" is not an administrator: the admin API needs a sign-in token with the claim "admin": true (guests never are), or the server's API key`);
    }
    req.adminCaller = { kind: 'user', id: user.id };
  };
}

/** Describes the caller for the log: "api-key" or the admin's user id. */
export function callerOf(req: FastifyRequest): string {
  const c = req.adminCaller;
  return c?.kind === 'user' ? c.id : 'api-key';
}

const STATUS: Record<string, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  room_not_found: 404,
  user_not_found: 404,
  not_member: 404,
  not_found: 404,
  unavailable: 503,
};

/** Answers a failure with the protocol's code and the HTTP status that goes with it. */
export function failWith(log: Logger, reply: FastifyReply, err: unknown) {
  const { body, unexpected } = toErrorBody(err);
  if (unexpected) log.error({ err }, 'admin API request failed');
  return problem(reply, STATUS[body.code] ?? 500, body.code, body.message);
}

/** The `:user` parameter: a user id as tokens carry them (JWT `sub`: 1-128 characters). */
export const userParam = { user: { type: 'string', minLength: 1, maxLength: 128 } } as const;

/** Refuses NUL in what reaches a query (PostgreSQL cannot hold it in text and would fail). */
export function noNul(value: unknown): void {
  if (holdsNul(value)) throw new ChatError('bad_request', 'the request contains the NUL character (U+0000); remove it');
}

/** Page sizes: default and largest. */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

/** The querystring fields every paged list takes (bad values are a 400, never a 500). */
export const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT },
  cursor: { type: 'string', minLength: 1, maxLength: 400 },
} as const;

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
