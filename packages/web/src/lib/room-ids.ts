import { ROOM_ID_PATTERN } from '@roomcast/protocol';
import { t } from './i18n.js';

// Room ids and room links as people type or paste them. An id the server would refuse is caught
// here, with a reason a person can act on, instead of a round trip that ends in `bad_request`.

const VALID = new RegExp(ROOM_ID_PATTERN);
/** The longest id the pattern allows. */
const MAX_ID = 64;

export type RoomIdProblem = 'empty' | 'tooLong' | 'badStart' | 'badChars';

/** Why the server would refuse this room id, or null if it is well-formed. */
export function roomIdProblem(id: string): RoomIdProblem | null {
  if (VALID.test(id)) return null;
  if (id === '') return 'empty';
  if (id.length > MAX_ID) return 'tooLong';
  if (!/^[A-Za-z0-9]/.test(id)) return 'badStart';
  return 'badChars';
}

/** The characters of `id` a room id may not contain, each once, for the message. */
export function badChars(id: string): string {
  return [...new Set(Array.from(id).filter((c) => !/[A-Za-z0-9_.:-]/.test(c)))].map((c) => (c === ' ' ? '␠' : c)).join(' ');
}

/** A room to open: its id and, from an invite link, the invite token. */
export interface RoomTarget {
  id: string;
  invite?: string | undefined;
}

/** The room in what a user pasted: an id, or a link ending in `#/r/ID` (with `?invite=TOKEN`). */
export function roomTargetFrom(input: string): RoomTarget {
  const s = input.trim();
  const m = /#\/r\/([^/?#\s]+)(?:\?([^#\s]*))?/.exec(s);
  if (!m) return { id: s };
  const invite = new URLSearchParams(m[2] ?? '').get('invite') ?? undefined;
  return { id: safeDecode(m[1]!), ...(invite ? { invite } : {}) };
}

/** `decodeURIComponent` that keeps malformed escapes (`%E0%A4%A`) as typed instead of throwing. */
export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** What is wrong with a typed room id, as a sentence in the user's language; null if nothing. */
export function roomIdMessage(id: string): string | null {
  const problem = roomIdProblem(id);
  if (!problem) return null;
  return t(`join.${problem}`, { room: id, chars: badChars(id) });
}
