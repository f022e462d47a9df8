import { INVITE_TTL_MAX, INVITE_TTL_MIN, MAX_EMOJI_LENGTH, MAX_SEARCH_QUERY, type RoomInfo, type UserRef, type WelcomeEvent } from '@roomcast/protocol';
import { RoomcastError } from './errors.js';
import type { Pending } from './outbox.js';
import type { ReplyHandler } from './requests.js';
import { checkContent } from './sends.js';
import type { ChangeEvent } from './stream.js';
import type { EditOptions, EditResult, HistoryOptions, MemberInfo, ReactResult, SearchOptions, ShareResult, UnsendResult, UpdateOptions } from './types.js';

// The bodies of a room's requests and what their replies become, checked before they are sent
// where the server's answer is certain (so a mistake fails at once, with the reason). Room and
// client turn these into promises; this file knows no class.

function checkSeq(seq: number, what: string): void {
  if (!Number.isInteger(seq) || seq < 1) throw new RoomcastError('bad_request', `${what} must be the seq of a message (a positive integer), not ${String(seq)}`);
}

/** `history`: newest page, page before a seq, or (with `after`) page after one. */
export function historyBody(room: string, options: HistoryOptions): Record<string, unknown> {
  if (options.before !== undefined && options.after !== undefined) {
    throw new RoomcastError('bad_request', 'history takes before or after, not both: page back with before, forward with after');
  }
  const body: Record<string, unknown> = { op: 'history', room };
  if (options.before !== undefined) body.before = options.before;
  if (options.after !== undefined) body.after = options.after;
  if (options.limit !== undefined) body.limit = options.limit;
  return body;
}

export function editBody(room: string, seq: number, text: string, options: EditOptions, limits: WelcomeEvent['limits'] | null): Record<string, unknown> {
  checkSeq(seq, 'edit: seq');
  const problem = checkContent({ text }, limits);
  if (problem) throw problem;
  const body: Record<string, unknown> = { op: 'edit', room, seq, text };
  if (options.meta !== undefined) body.meta = options.meta;
  return body;
}

export function editResult(reply: Record<string, unknown>, target: number): EditResult {
  return { seq: Number(reply.seq), target: typeof reply.target === 'number' ? reply.target : target, editedAt: Number(reply.editedAt) };
}

export function unsendBody(room: string, seq: number): Record<string, unknown> {
  checkSeq(seq, 'unsend: seq');
  return { op: 'unsend', room, seq };
}

export function unsendResult(reply: Record<string, unknown>, target: number): UnsendResult {
  const r: UnsendResult = { target: typeof reply.target === 'number' ? reply.target : target };
  if (reply.already === true) r.already = true;
  else if (typeof reply.seq === 'number' && reply.seq > 0) r.seq = reply.seq;
  return r;
}

export function reactBody(room: string, seq: number, emoji: string, on: boolean): Record<string, unknown> {
  checkSeq(seq, 'react: seq');
  if (typeof emoji !== 'string' || emoji.length === 0 || emoji.length > MAX_EMOJI_LENGTH) {
    throw new RoomcastError('bad_request', `a reaction is 1–${MAX_EMOJI_LENGTH} characters (an emoji, or a short word such as +1)`);
  }
  return { op: 'react', room, seq, emoji, on };
}

export function reactResult(reply: Record<string, unknown>, target: number, emoji: string, on: boolean): ReactResult {
  const r: ReactResult = {
    target: typeof reply.target === 'number' ? reply.target : target,
    emoji: typeof reply.emoji === 'string' ? reply.emoji : emoji,
    on: typeof reply.on === 'boolean' ? reply.on : on,
    count: Number(reply.count ?? 0),
  };
  if (reply.already === true) r.already = true;
  else if (typeof reply.seq === 'number' && reply.seq > 0) r.seq = reply.seq;
  return r;
}

/**
 * The change event our own edit, unsend or reaction became, from its request and reply: the
 * server answers the connection that made it with a reply, so this is how its seq takes its
 * place in our stream (an event the server sends us as well is then a duplicate, dropped).
 * Null when nothing changed (`already`).
 */
export function ownChange(body: Record<string, unknown>, reply: Record<string, unknown>, me: UserRef | null): ChangeEvent | null {
  const seq = reply.seq;
  if (reply.already === true || typeof seq !== 'number' || seq < 1 || !me) return null;
  const room = String(body.room);
  const target = Number(body.seq);
  const who = { id: me.id, name: me.name };
  switch (body.op) {
    case 'edit': {
      const e: ChangeEvent = { op: 'edit', room, seq, target, text: String(body.text), editedAt: Number(reply.editedAt), from: who };
      if (body.meta !== undefined) e.meta = body.meta as Record<string, unknown>;
      return e;
    }
    case 'unsend':
      return { op: 'unsend', room, seq, target, by: who };
    case 'react':
      // The server trims the emoji: its reply says what was stored.
      return { op: 'reaction', room, seq, target, emoji: String(reply.emoji ?? body.emoji), user: who, on: body.on === true, count: Number(reply.count ?? 0) };
    default:
      return null;
  }
}

/**
 * Sends an edit, unsend or react and resolves with `result` of its reply. Repeated after a
 * reconnect like other requests: the server's answer to a repeat is the same state (`already`,
 * or an edit to the same text). The reply is handled synchronously, and our own change handed to
 * `own` then: it takes its seq before the next frame is read, or the event after it would look
 * like a gap.
 */
export function changeCall<T>(
  link: { readonly user: UserRef | null; call(body: Record<string, unknown>, onDrop: Pending['onDrop'], timeout: boolean, done: ReplyHandler): void },
  body: Record<string, unknown>,
  result: (reply: Record<string, unknown>) => T,
  own: (change: ChangeEvent) => void,
): Promise<T> {
  return new Promise((resolve, reject) =>
    link.call(body, 'resend', true, (err, reply) => {
      if (!reply) return reject(err);
      const change = ownChange(body, reply, link.user);
      if (change) own(change);
      resolve(result(reply));
    }),
  );
}

export function searchBody(q: string, options: SearchOptions): Record<string, unknown> {
  if (typeof q !== 'string' || q.length === 0 || q.length > MAX_SEARCH_QUERY) {
    throw new RoomcastError('bad_request', `a search is 1–${MAX_SEARCH_QUERY} characters of text to look for`);
  }
  const body: Record<string, unknown> = { op: 'search', q };
  if (options.room !== undefined) body.room = options.room;
  if (options.before !== undefined) body.before = options.before;
  if (options.limit !== undefined) body.limit = options.limit;
  return body;
}

/** The `members` reply's list, each with its read cursor. */
export function membersOf(reply: Record<string, unknown>): MemberInfo[] {
  if (!Array.isArray(reply.members)) return [];
  return (reply.members as Array<Partial<MemberInfo> & UserRef>).map((m) => ({ id: m.id, name: m.name, online: m.online === true, readSeq: Number(m.readSeq ?? 0), role: m.role === 'owner' || m.role === 'admin' ? m.role : 'member' }));
}

export function updateBody(room: string, options: UpdateOptions): Record<string, unknown> {
  const body: Record<string, unknown> = { op: 'update', room };
  for (const key of ['title', 'capacity', 'retention', 'receipts', 'slowMode'] as const) if (options[key] !== undefined) body[key] = options[key];
  if (Object.keys(body).length === 2) throw new RoomcastError('bad_request', 'update needs at least one of title, capacity, retention, receipts, slowMode');
  return body;
}

/** `share`: an invite link's token for the room, valid `ttlSec` seconds (the server's default, 7 days, without). */
export function shareBody(room: string, ttlSec: number | undefined): Record<string, unknown> {
  if (ttlSec === undefined) return { op: 'share', room };
  if (!Number.isInteger(ttlSec) || ttlSec < INVITE_TTL_MIN || ttlSec > INVITE_TTL_MAX) {
    throw new RoomcastError('bad_request', `an invite link lasts ${INVITE_TTL_MIN}–${INVITE_TTL_MAX} seconds (a minute to 30 days), not ${String(ttlSec)}`);
  }
  return { op: 'share', room, ttl: ttlSec };
}

export function shareResult(reply: Record<string, unknown>, room: string): ShareResult {
  return { room: typeof reply.room === 'string' ? reply.room : room, invite: String(reply.invite), expires: Number(reply.expires) };
}

/** A room object with exactly the fields of `RoomInfo` (a `room` event adds `kicked`/`deleted`). */
export function roomInfoOf(info: RoomInfo): RoomInfo {
  return {
    id: info.id,
    title: info.title,
    capacity: info.capacity,
    visibility: info.visibility,
    persist: info.persist,
    direct: info.direct,
    owner: info.owner,
    createdAt: info.createdAt,
    retention: info.retention ?? null,
    receipts: info.receipts !== false,
    ...(info.slowMode ? { slowMode: info.slowMode } : {}),
  };
}
