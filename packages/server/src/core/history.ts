import type { MsgEvent } from '@roomcast/protocol';
import type { Store, StoredMessage } from '../store/store.js';
import { toMsgEvent } from './events.js';

/** Bytes of one message as JSON, from above: text at up to 3 bytes a UTF-16 unit, meta at its cap. */
function sizeOf(m: StoredMessage, maxMetaBytes: number): number {
  return 256 + m.from.name.length * 3 + (m.text === undefined ? 0 : Buffer.byteLength(m.text)) + (m.meta === undefined ? 0 : maxMetaBytes);
}

/**
 * One page of history going back from `before`: at most `limit` messages and about `maxBytes`
 * of them (at least one), ascending. `more` says older ones remain. The byte bound keeps a page
 * of long messages inside the connection's send buffer: 200 messages of 4,000 characters would be
 * 2.4 MB in one frame.
 */
export async function historyPage(store: Store, roomId: string, before: number | null, limit: number, bytes: { max: number; metaMax: number }): Promise<{ messages: MsgEvent[]; more: boolean }> {
  const rows = await store.messagesBefore(roomId, before, limit + 1);
  let first = rows.length > limit ? 1 : 0;
  let total = 0;
  for (let i = rows.length - 1; i >= first; i--) {
    total += sizeOf(rows[i]!, bytes.metaMax);
    if (total > bytes.max && i < rows.length - 1) {
      first = i + 1;
      break;
    }
  }
  const more = first > 0;
  return { messages: rows.slice(first).map(toMsgEvent), more };
}
