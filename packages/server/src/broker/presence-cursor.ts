import { ChatError } from '../core/errors.js';

// The cursor of a presence page: the (time online, user id) of the page's last user. Users are
// ordered by that pair, so a page continues exactly after it even when users come and go.

export function encodePresenceCursor(at: number, id: string): string {
  return Buffer.from(`${at}:${id}`).toString('base64url');
}

export function decodePresenceCursor(cursor: string): { at: number; id: string } {
  const text = Buffer.from(cursor, 'base64url').toString();
  const sep = text.indexOf(':');
  const at = Number(text.slice(0, sep));
  if (sep <= 0 || !Number.isSafeInteger(at) || at < 0) {
    throw new ChatError('bad_request', 'this members cursor is not valid; pass the `membersNext` of a join reply or the `next` of a members page as is');
  }
  return { at, id: text.slice(sep + 1) };
}
