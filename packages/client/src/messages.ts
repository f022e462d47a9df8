import { DIRECT_PREFIX, type BinaryMsgHeader, type MsgEvent, type UserRef } from '@roomcast/protocol';

/** A binary message's description (the bytes are in `Message.data` when they came along). */
export interface MessageBinary {
  mime: string;
  name?: string;
  size: number;
  /** Server path serving the bytes to members; `chat.fileUrl(message)` makes it a full URL. */
  url?: string;
}

/** One chat message, as every `message` and `dm` listener receives it. */
export interface Message {
  room: string;
  /** Position in the room: 1, 2, 3… without gaps. */
  seq: number;
  /** Message id (the client id its sender gave it). */
  id: string;
  from: UserRef;
  /** Server time, ms since the epoch. */
  ts: number;
  text?: string;
  meta?: Record<string, unknown>;
  binary?: MessageBinary;
  /** The bytes of a binary message, when they came with it (live delivery or your own send). */
  data?: Uint8Array;
  /** Sent by this user (from this client or another device). */
  mine: boolean;
  /** In a direct conversation (a room of two, id starting with `DIRECT_PREFIX`, `dm-`). */
  direct: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Checks the fields the client relies on; a malformed `msg` is reported, never delivered. */
export function isMsgEvent(v: unknown): v is MsgEvent {
  if (!isObject(v)) return false;
  return (
    typeof v.room === 'string' &&
    typeof v.seq === 'number' &&
    Number.isInteger(v.seq) &&
    v.seq > 0 &&
    typeof v.id === 'string' &&
    isObject(v.from) &&
    typeof v.from.id === 'string'
  );
}

/** A `msg` event (text, stored binary, or a live binary frame's header plus payload) as a Message. */
export function toMessage(e: MsgEvent & Partial<BinaryMsgHeader>, selfId: string | null, data?: Uint8Array): Message {
  const m: Message = {
    room: e.room,
    seq: e.seq,
    id: e.id,
    from: { id: e.from.id, name: e.from.name },
    ts: e.ts,
    mine: e.from.id === selfId,
    direct: e.room.startsWith(DIRECT_PREFIX),
  };
  if (e.text !== undefined) m.text = e.text;
  if (e.meta !== undefined) m.meta = e.meta;
  if (e.binary) m.binary = { ...e.binary };
  else if (typeof e.mime === 'string') m.binary = { mime: e.mime, size: e.size ?? data?.byteLength ?? 0, ...(e.name ? { name: e.name } : {}) };
  if (data) m.data = data;
  return m;
}
