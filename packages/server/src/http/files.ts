import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ROOM_ID_PATTERN } from '@roomcast/protocol';
import type { Authenticator } from '../auth/authenticator.js';
import type { Store } from '../store/store.js';

// Binary messages' bytes, for members only. A browser's <img> cannot send headers, so the token
// may also come as ?token=.

/** Types served inline; anything else is a download, so an uploaded page never runs on our origin. */
const INLINE = /^(image\/(png|jpeg|gif|webp|avif|bmp)|audio\/[\w.+-]+|video\/[\w.+-]+|text\/plain)$/;
const roomPattern = new RegExp(ROOM_ID_PATTERN);

function bearer(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  const q = (req.query as { token?: unknown }).token;
  return typeof q === 'string' && q !== '' ? q : null;
}

export function problem(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).send({ error: { code, message } });
}

export function registerFileRoutes(app: FastifyInstance, store: Store, auth: Authenticator): void {
  app.get<{ Params: { room: string; seq: string } }>('/api/rooms/:room/files/:seq', async (req, reply) => {
    const { room } = req.params;
    const seq = Number(req.params.seq);
    if (!roomPattern.test(room) || !Number.isSafeInteger(seq) || seq < 1) {
      return problem(reply, 400, 'bad_request', 'the URL must be /api/rooms/ROOM/files/SEQ with a room id and a positive seq');
    }
    const token = bearer(req);
    if (!token) return problem(reply, 401, 'unauthorized', 'send your token as "Authorization: Bearer TOKEN" or ?token=TOKEN');
    const user = await auth.userOf(token);
    if (!user) return problem(reply, 401, 'unauthorized', 'the token is not valid on this server');
    if (!(await store.isMember(room, user.id))) {
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
