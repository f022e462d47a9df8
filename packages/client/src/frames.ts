import { decodeBinaryFrame, type ServerEvent } from '@roomcast/protocol';
import { RoomcastError } from './errors.js';
import { isMsgEvent } from './messages.js';
import { CHANGE_OPS, isChangeEvent } from './stream.js';
import { utf8 } from './utf8.js';

export type ParsedFrame =
  | { ok: true; frame: ServerEvent; payload?: Uint8Array }
  /** Unusable: `error` says why when the client should report it. */
  | { ok: false; error?: RoomcastError };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/**
 * Decodes one frame from the server: JSON text, or a binary frame (a JSON header, here a `msg`,
 * then the payload). Checked as far as delivery depends on it: an `op`, for a `msg` the room,
 * seq, id and sender, for a change (edit, unsend, reaction) what applying it reads. Past that
 * the server is trusted for shape.
 */
export function parseFrame(data: string | Uint8Array): ParsedFrame {
  let value: unknown;
  let payload: Uint8Array | undefined;
  if (typeof data === 'string') {
    try {
      value = JSON.parse(data);
    } catch {
      return { ok: false, error: new RoomcastError('bad_request', 'the server sent a text frame that is not JSON; is the URL a roomcast server?') };
    }
  } else {
    const d = decodeBinaryFrame(data, utf8());
    if (!d.ok) return { ok: false, error: new RoomcastError('bad_request', `the server sent a malformed binary frame: ${d.reason}`) };
    value = d.header;
    payload = d.payload;
  }
  if (!isObject(value) || typeof value.op !== 'string') return { ok: false };
  if (value.op === 'msg' && !isMsgEvent(value)) {
    return { ok: false, error: new RoomcastError('bad_request', 'the server sent a msg without room, seq, id or sender; it was ignored') };
  }
  if (CHANGE_OPS.has(value.op) && !isChangeEvent(value)) {
    return { ok: false, error: new RoomcastError('bad_request', `the server sent a "${value.op}" event without room, seq, target or its own fields; it was ignored`) };
  }
  const frame = value as unknown as ServerEvent;
  return payload ? { ok: true, frame, payload } : { ok: true, frame };
}
