import { encodeBinaryFrame, type UserRef, type WelcomeEvent } from '@roomcast/protocol';
import { RoomcastError } from './errors.js';
import type { Message } from './messages.js';
import type { PostContent, SendResult } from './types.js';

// Building `send`/`dm` requests and the Message our own acknowledged send becomes.

/** Local checks of a message against the server's limits (known after the first welcome). */
export function checkContent(content: PostContent, limits: WelcomeEvent['limits'] | null): RoomcastError | null {
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

/** The frame of a send (to a room) or dm (to a user): JSON text, or a binary frame with the bytes. */
export function encodeSend(target: { room: string } | { to: string }, ref: number, id: string, content: PostContent): string | Uint8Array {
  const header: Record<string, unknown> = 'to' in target ? { op: 'dm', ref, to: target.to, id } : { op: 'send', ref, room: target.room, id };
  if (content.meta !== undefined) header.meta = content.meta;
  if ('data' in content) return encodeBinaryFrame({ ...header, mime: content.mime, ...(content.name ? { name: content.name } : {}) }, content.data);
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
  return result;
}

/** Our acknowledged message, to take its seq in the room like anyone else's. */
export function ownMessage(r: SendResult, content: PostContent, me: UserRef | null, direct: boolean): Message {
  const m: Message = { room: r.room, seq: r.seq, id: r.id, from: me ?? { id: '', name: '' }, ts: r.ts, mine: true, direct };
  if (content.meta !== undefined) m.meta = content.meta;
  if ('data' in content) {
    m.binary = { mime: content.mime, size: content.data.byteLength, ...(content.name ? { name: content.name } : {}) };
    m.data = content.data;
  } else {
    m.text = content.text;
  }
  return m;
}
