import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ROOM_ID_PATTERN } from '@roomcast/protocol';
import type { Authenticator } from '../auth/authenticator.js';
import { LinkKeys } from '../auth/link-keys.js';
import { bannedFromServer } from '../core/moderation-errors.js';
import type { Store } from '../store/store.js';

// Binary messages' bytes, for members only. A browser's <img> cannot send headers, so the URL
// carries a file key (?key=, from the `filekey` request): it fetches files and nothing else, so a
// URL that ends up in a history, a log or a forwarded link gives away no sign-in. ?token= (the
// sign-in token itself) still works for older clients, but is deprecated for that very leak.

/** Types served inline; anything else is a download, so an uploaded page never runs on our origin. */
const INLINE = /^(image\/(png|jpeg|gif|webp|avif|bmp)|audio\/[\w.+-]+|video\/[\w.+-]+|text\/plain)$/;
const roomPattern = new RegExp(ROOM_ID_PATTERN);

/** A non-empty string query parameter, else null. */
function query(req: FastifyRequest, name: 'key' | 'token'): string | null {
  const q = (req.query as Record<string, unknown>)[name];
  return typeof q === 'string' && q !== '' ? q : null;
}

function bearer(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  return query(req, 'token');
}

type Who = { ok: true; id: string; admin: boolean } | { ok: false; message: string };

/** The user a request fetches for: a file key (?key=), else a sign-in token (header, or ?token=). */
async function requester(req: FastifyRequest, store: Store, auth: Authenticator): Promise<Who> {
  const key = query(req, 'key');
  if (key) {
    const check = await (await LinkKeys.open(store)).checkFileKey(key);
    if (check.ok) return { ok: true, id: check.user, admin: check.admin };
    return {
      ok: false,
      message: check.why === 'expired' ? 'the file key has expired; get a new one with the "filekey" request (the SDK does it by itself)' : 'the file key is not valid on this server; get one with the "filekey" request',
    };
  }
  const token = bearer(req);
  if (!token) return { ok: false, message: 'send a file key as ?key=KEY (from the "filekey" request), or your token as "Authorization: Bearer TOKEN"' };
  const user = await auth.userOf(token);
  return user ? { ok: true, id: user.id, admin: user.admin } : { ok: false, message: 'the token is not valid on this server' };
}

export function problem(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).send({ error: { code, message } });
}

/**
 * A server-wide ban covers HTTP too: 403 `banned` (with `until`) for a credential of a user who
 * is banned from the server, read from the store at each request (one primary-key read), so a
 * ban made on any node holds at once. Undefined when the user is not banned.
 */
export async function refuseServerBanned(store: Pick<Store, 'getBan'>, reply: FastifyReply, userId: string, now: number) {
  const ban = await store.getBan(null, userId, now);
  return ban ? reply.code(403).send({ error: bannedFromServer(ban.until).toBody() }) : undefined;
}

export function registerFileRoutes(app: FastifyInstance, store: Store, auth: Authenticator): void {
  app.get<{ Params: { room: string; seq: string } }>('/api/rooms/:room/files/:seq', async (req, reply) => {
    const { room } = req.params;
    // Digits only: "0x1", "1e0" or " 1" would name the same file under other URLs (and caches).
    const seq = /^[1-9]\d{0,15}$/.test(req.params.seq) ? Number(req.params.seq) : NaN;
    if (!roomPattern.test(room) || !Number.isSafeInteger(seq)) {
      return problem(reply, 400, 'bad_request', 'the URL must be /api/rooms/ROOM/files/SEQ with a room id and a positive seq');
    }
    const user = await requester(req, store, auth);
    if (!user.ok) return problem(reply, 401, 'unauthorized', user.message);
    // A server-wide ban refuses the user's file keys and tokens here too (403 banned, with until).
    const banned = await refuseServerBanned(store, reply, user.id, Date.now());
    if (banned) return banned;
    // Admins count as members of every room (they read its history too).
    if (!user.admin && !(await store.isMember(room, user.id))) {
      return problem(reply, 403, 'not_member', `only members of room "${room}" can fetch its files`);
    }
    const blob = await store.getBlob(room, seq);
    if (!blob) return problem(reply, 404, 'not_found', `message ${seq} of room "${room}" has no file`);
    const inline = INLINE.test(blob.mime);
    const filename = (blob.name ?? `file-${seq}`).replace(/["\\\r\n]/g, '_');
    return reply
      .header('content-type', inline ? blob.mime : 'application/octet-stream')
      .header('content-disposition', `${inline ? 'inline' : 'attachment'}; filename="${encodeURIComponent(filename)}"`)
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .header('cache-control', 'private, max-age=31536000, immutable')
      .send(Buffer.from(blob.data.buffer, blob.data.byteOffset, blob.data.byteLength));
  });
}
