import { encodeBinaryFrame, MAX_MENTIONS, type ReplyQuote, type UserRef, type WelcomeEvent } from '@roomcast/protocol';
import { RoomcastError } from './errors.js';
import { copyQuote, setMentions, type Message } from './messages.js';
import type { PostContent, SendOptions, SendResult } from './types.js';
import { utf8 } from './utf8.js';

// Building `send`/`dm` requests and the Message our own acknowledged send becomes.

/** Local checks of a message against the server's limits (known after the first welcome). */
export function checkContent(content: PostContent, limits: WelcomeEvent['limits'] | null): RoomcastError | null {
  const threading = checkThreading(content);
  if (threading) return threading;
  if ('data' in content) {
    if (content.data.byteLength === 0) return new RoomcastError('bad_request', 'a binary message needs at least one byte');
    if (typeof content.mime !== 'string' || content.mime === '') return new RoomcastError('bad_request', 'a binary message needs a mime type, e.g. image/png');
    if (limits && content.data.byteLength > limits.maxBinary) {
      return new RoomcastError('too_large', `the payload is ${content.data.byteLength} bytes; the server takes at most ${limits.maxBinary}`);
    }
    return null;
  }
  if (typeof content.text !== 'string' || content.text.length === 0) return new RoomcastError('bad_request', 'text must be a non-empty string');
  if (limits && content.text.length > limits.maxText) {
    return new RoomcastError('too_large', `text is ${content.text.length} characters; the server takes at most ${limits.maxText}`);
  }
  return null;
}

/** `replyTo` and `mentions`, checked as the server would (so a mistake fails at once, not after a round trip). */
function checkThreading(o: SendOptions): RoomcastError | null {
  if (o.replyTo !== undefined && !(Number.isInteger(o.replyTo) && o.replyTo > 0)) {
    return new RoomcastError('bad_request', `replyTo must be the seq of a message (a positive integer), not ${String(o.replyTo)}`);
  }
  if (o.mentions !== undefined) {
    if (!Array.isArray(o.mentions) || o.mentions.some((u) => typeof u !== 'string' || u.length === 0 || u.length > 128)) {
      return new RoomcastError('bad_request', 'mentions must be a list of user ids (strings of 1–128 characters)');
    }
    if (new Set(o.mentions).size > MAX_MENTIONS) return new RoomcastError('bad_request', `a message may mention at most ${MAX_MENTIONS} users`);
  }
  return null;
}

/** The frame of a send (to a room) or dm (to a user): JSON text, or a binary frame with the bytes. */
export function encodeSend(target: { room: string } | { to: string }, ref: number, id: string, content: PostContent): string | Uint8Array {
  const header: Record<string, unknown> = 'to' in target ? { op: 'dm', ref, to: target.to, id } : { op: 'send', ref, room: target.room, id };
  if (content.meta !== undefined) header.meta = content.meta;
  if (content.replyTo !== undefined) header.replyTo = content.replyTo;
  if (content.mentions !== undefined && content.mentions.length > 0) header.mentions = unique(content.mentions);
  if ('data' in content) return encodeBinaryFrame({ ...header, mime: content.mime, ...(content.name ? { name: content.name } : {}) }, content.data, utf8());
  return JSON.stringify({ ...header, text: content.text });
}

/** The reply to a send, as the promise resolves it. */
export function sendResult(reply: Record<string, unknown>, id: string): SendResult & { online?: boolean } {
  const result: SendResult & { online?: boolean } = {
    room: String(reply.room),
    seq: Number(reply.seq),
    ts: Number(reply.ts),
    id: typeof reply.id === 'string' ? reply.id : id,
    duplicate: reply.duplicate === true,
  };
  if (typeof reply.online === 'boolean') result.online = reply.online;
  if (typeof reply.text === 'string') result.text = reply.text;
  return result;
}

/** The quote a send's reply carries for a reply (the server's view of the answered message), if any. */
export function quoteOf(reply: Record<string, unknown>): ReplyQuote | undefined {
  const q = reply.replyTo;
  return typeof q === 'object' && q !== null && typeof (q as ReplyQuote).seq === 'number' ? copyQuote(q as ReplyQuote) : undefined;
}

/**
 * Our acknowledged message, to take its seq in the room like anyone else's. Without a quote
 * from the reply, `replyTo` holds only the seq; the room fills it from the answered message.
 */
export function ownMessage(r: SendResult, content: PostContent, me: UserRef | null, direct: boolean, quote?: ReplyQuote): Message {
  const m: Message = { room: r.room, seq: r.seq, id: r.id, from: me ?? { id: '', name: '' }, ts: r.ts, mine: true, direct, mentionsMe: false };
  if (content.meta !== undefined) m.meta = content.meta;
  if (content.replyTo !== undefined) m.replyTo = quote ?? { seq: content.replyTo };
  if (content.mentions !== undefined) setMentions(m, unique(content.mentions), me?.id ?? null);
  if ('data' in content) {
    // The path the server serves it at (its `fileUrl`), so `chat.fileUrl(m)` works at once, as for history.
    const url = `/api/rooms/${encodeURIComponent(r.room)}/files/${r.seq}`;
    m.binary = { mime: content.mime, size: content.data.byteLength, ...(content.name ? { name: content.name } : {}), url };
    m.data = content.data;
  } else {
    // What was stored: a moderation hook or the filter may have changed the text.
    m.text = r.text ?? content.text;
  }
  return m;
}

/** The list without repeats, in first-seen order (the server drops duplicate mentions so). */
function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}
