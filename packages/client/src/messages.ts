import { DIRECT_PREFIX, type BinaryMsgHeader, type MsgEvent, type ReactionCount, type ReplyQuote, type UserRef } from '@roomcast/protocol';

/** A binary message's description (the bytes are in `Message.data` when they came along). */
export interface MessageBinary {
  mime: string;
  name?: string;
  size: number;
  /** Server path serving the bytes to members; `chat.fileUrl(message)` makes it a full URL. */
  url?: string;
}

/**
 * One chat message, as every `message` and `dm` listener receives it. The room keeps the
 * object current: edits, unsends and reactions change it in place (see `Room`'s `change` event).
 */
export interface Message {
  room: string;
  /** Position in the room's stream (1, 2, 3… without gaps, counting the changes to messages too). */
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
  /** The message this one answers, quoted as it is now (`{seq, unsent: true}` once taken back). */
  replyTo?: ReplyQuote;
  /** User ids the sender called by name. */
  mentions?: string[];
  /** This user's id is in `mentions`. */
  mentionsMe: boolean;
  /** When it was last edited, ms since the epoch. */
  edited?: number;
  /** Taken back by its author, the room's owner or an admin: text, meta and binary are gone. */
  unsent?: boolean;
  /** Reactions in the order they were first given; `me`: this user gave it. */
  reactions?: ReactionCount[];
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
    mentionsMe: false,
  };
  if (e.text !== undefined) m.text = e.text;
  if (e.meta !== undefined) m.meta = e.meta;
  if (e.binary) m.binary = { ...e.binary };
  else if (typeof e.mime === 'string') m.binary = { mime: e.mime, size: e.size ?? data?.byteLength ?? 0, ...(e.name ? { name: e.name } : {}) };
  if (data) m.data = data;
  // Copies, not the frame's own objects: the room changes them in place later.
  if (isObject(e.replyTo) && typeof e.replyTo.seq === 'number') m.replyTo = copyQuote(e.replyTo);
  if (Array.isArray(e.mentions)) setMentions(m, e.mentions.filter((u): u is string => typeof u === 'string'), selfId);
  if (typeof e.edited === 'number') m.edited = e.edited;
  if (e.unsent === true) m.unsent = true;
  if (Array.isArray(e.reactions) && e.reactions.length > 0) m.reactions = e.reactions.map((r) => ({ emoji: r.emoji, count: r.count, me: r.me === true }));
  return m;
}

/** A quote's own copy (its `from` too), so changing one message's quote touches no other. */
export function copyQuote(q: ReplyQuote): ReplyQuote {
  const c: ReplyQuote = { ...q };
  if (q.from) c.from = { id: q.from.id, name: q.from.name };
  return c;
}

/** Sets `mentions` and `mentionsMe` (an empty list is no list). */
export function setMentions(m: Message, mentions: readonly string[], selfId: string | null): void {
  if (mentions.length === 0) return;
  m.mentions = [...mentions];
  m.mentionsMe = selfId !== null && mentions.includes(selfId);
}
