import type { MsgEvent } from '@roomcast/protocol';
import type { Store, StoredMessage } from '../store/store.js';
import { toMsgEvent } from './events.js';

/** Bytes of one message as JSON, from above: text at up to 3 bytes a UTF-16 unit, meta at its cap. */
function sizeOf(m: StoredMessage, maxMetaBytes: number): number {
  const quote = m.replyTo ? 400 : 0;
  const extras = (m.mentions?.length ?? 0) * 140 + (m.reactions?.length ?? 0) * 160;
  return 256 + quote + extras + m.from.name.length * 3 + (m.text === undefined ? 0 : Buffer.byteLength(m.text)) + (m.meta === undefined ? 0 : maxMetaBytes);
}

export interface HistoryQuery {
  /** Messages before this seq (newest first is kept when limited); null: the newest. */
  before: number | null;
  /** Instead: messages after this seq (oldest first is kept). */
  after?: number | undefined;
  limit: number;
  /** Whose `reactions[].me` the page shows. */
  viewer?: string | undefined;
}

/**
 * One page of history, ascending: going back from `before`, or forward from `after`. At most
 * `limit` messages and about `maxBytes` of them (at least one); `more` says more remain in that
 * direction. The byte bound keeps a page of long messages inside the connection's send buffer:
 * 200 messages of 4,000 characters would be 2.4 MB in one frame.
 */
export async function historyPage(store: Store, roomId: string, q: HistoryQuery, bytes: { max: number; metaMax: number }): Promise<{ messages: MsgEvent[]; more: boolean }> {
  const opts = { viewer: q.viewer };
  if (q.after !== undefined) {
    const rows = await store.messagesSince(roomId, q.after, q.limit + 1, opts);
    let end = Math.min(rows.length, q.limit);
    let total = 0;
    for (let i = 0; i < end; i++) {
      total += sizeOf(rows[i]!, bytes.metaMax);
      if (total > bytes.max && i > 0) {
        end = i;
        break;
      }
    }
    return { messages: rows.slice(0, end).map(toMsgEvent), more: end < rows.length };
  }
  const rows = await store.messagesBefore(roomId, q.before, q.limit + 1, opts);
  let first = rows.length > q.limit ? 1 : 0;
  let total = 0;
  for (let i = rows.length - 1; i >= first; i--) {
    total += sizeOf(rows[i]!, bytes.metaMax);
    if (total > bytes.max && i < rows.length - 1) {
      first = i + 1;
      break;
    }
  }
  return { messages: rows.slice(first).map(toMsgEvent), more: first > 0 };
}
