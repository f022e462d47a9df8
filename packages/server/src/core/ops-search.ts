import { DEFAULT_SEARCH_PAGE, REPLY_QUOTE_LENGTH, type RequestOf } from '@roomcast/protocol';
import type { StoredMessage } from '../store/store.js';
import type { RequestContext } from './context.js';
import type { HandlerDeps } from './deps.js';
import { ChatError } from './errors.js';
import { toMsgEvent } from './events.js';
import { historyBytes } from './messages.js';

// `search`: messages the user may read whose text contains `q`, newest first, a page at a time.

type SearchDeps = Pick<HandlerDeps, 'config' | 'store' | 'membership' | 'quotas'>;

export async function search(d: SearchDeps, ctx: RequestContext, req: RequestOf<'search'>): Promise<void> {
  const q = req.q.trim();
  if (q === '') throw new ChatError('bad_request', 'search needs text to look for: "q" holds only spaces');
  const user = ctx.session.user;
  // Before anything reaches the store: the limit is what keeps searches from occupying it.
  d.quotas.takeSearch(user);
  if (req.room !== undefined) await d.membership.requireMember(ctx.session, req.room);
  const limit = req.limit ?? DEFAULT_SEARCH_PAGE;
  // One hit more than asked says whether older ones exist.
  const hits = await d.store.search({ userId: user.id, q, room: req.room, before: req.before, limit: limit + 1 });
  const n = pageLength(hits, limit, historyBytes(d.config));
  const messages = hits.slice(0, n).map(toMsgEvent);
  if (n < hits.length) ctx.ok({ messages, more: true, next: hits[n - 1]!.ts });
  else ctx.ok({ messages, more: false });
}

/**
 * How many of the hits (newest first) one reply carries: at most `limit`, about `bytes.max` of
 * them (at least one) so a page of long messages stays inside the send buffer, and never a page
 * that ends inside a run of hits with the same ts. The next page is asked for with `before` = the
 * last hit's ts, so hits sharing that ts and left out would never be found; the page ends before
 * the run instead (unless the whole page is one run: then the rest of the run is skipped).
 */
export function pageLength(hits: readonly StoredMessage[], limit: number, bytes: { max: number; metaMax: number }): number {
  let n = 0;
  let total = 0;
  while (n < Math.min(limit, hits.length)) {
    total += sizeOf(hits[n]!, bytes.metaMax);
    if (total > bytes.max && n > 0) break;
    n++;
  }
  if (n === hits.length) return n;
  const cut = hits[n]!.ts;
  let k = n;
  while (k > 0 && hits[k - 1]!.ts === cut) k--;
  return k > 0 ? k : n;
}

/** Bytes of one hit as JSON, from above: text at up to 3 bytes a UTF-16 unit, meta at its cap. */
function sizeOf(m: StoredMessage, maxMetaBytes: number): number {
  const text = m.text === undefined ? 0 : Buffer.byteLength(m.text);
  const quote = m.replyTo === undefined ? 0 : 128 + REPLY_QUOTE_LENGTH * 3;
  return 256 + m.from.name.length * 3 + text + (m.meta === undefined ? 0 : maxMetaBytes) + quote + (m.reactions?.length ?? 0) * 200;
}
