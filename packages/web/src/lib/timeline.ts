import { DEFAULT_HISTORY_PAGE, type Message } from '@roomcast/client';
import { client, ensureRoom, store, type ImageRef, type MsgLine, type RoomState } from './store.js';
import { toastError } from './toasts.js';

// A room's timeline: stored messages as lines (in seq order, each once: the SDK guarantees it),
// older pages on demand, the unread count and the read cursor.

/** What the message list reports, so arriving messages count as read only when seen. */
export const viewer = { atBottom: true, visible: true };

export function blobUrl(data: Uint8Array, mime: string): string {
  return URL.createObjectURL(new Blob([data.slice()], { type: mime }));
}

function toLine(m: Message): MsgLine {
  const line: MsgLine = { kind: 'msg', key: `m${m.seq}`, seq: m.seq, id: m.id, from: m.from, ts: m.ts, mine: m.mine, state: 'sent' };
  if (m.text !== undefined) line.text = m.text;
  if (m.binary) {
    const url = m.data ? blobUrl(m.data, m.binary.mime) : (client()?.fileUrl(m) ?? '');
    const ref: ImageRef = { url, mime: m.binary.mime, name: m.binary.name, size: m.binary.size };
    if (m.binary.mime.startsWith('image/')) line.image = ref;
    else line.file = ref;
  }
  return line;
}

/** A stored message from the SDK: appended (they come in order; older pages are prepended by `loadOlder`). */
export function addMessage(m: Message): void {
  const r = ensureRoom(m.room);
  r.lines.push(toLine(m));
  delete r.typing[m.from.id];
  r.activity = Math.max(r.activity, m.ts);
  const fresh = m.seq > r.lastSeq;
  r.lastSeq = Math.max(r.lastSeq, m.seq);
  if (r.lines.filter((l) => l.kind === 'msg').length === 1) r.more = m.seq > 1 && r.persist;
  if (m.mine) {
    // Reading is implied by writing.
    r.readSeq = Math.max(r.readSeq, m.seq);
    return;
  }
  if (m.seq > r.readSeq && fresh) {
    if (store.active !== m.room || !viewer.atBottom || !viewer.visible) {
      r.unread++;
      if (store.active === m.room && r.markerSeq === null) r.markerSeq = m.seq;
    } else {
      scheduleRead(m.room);
    }
  }
}

const readTimers = new Map<string, ReturnType<typeof setTimeout>>();

/** Moves the read cursor to the newest message of the open room (debounced). */
export function scheduleRead(id: string): void {
  if (readTimers.has(id)) return;
  readTimers.set(
    id,
    setTimeout(() => {
      readTimers.delete(id);
      void markRead(id);
    }, 300),
  );
}

async function markRead(id: string): Promise<void> {
  const r = store.rooms[id];
  const room = client()?.room(id);
  if (!r || !room) return;
  const seq = r.lastSeq;
  if (seq <= r.readSeq && r.unread === 0) return;
  r.unread = 0;
  r.readSeq = Math.max(r.readSeq, seq);
  try {
    await room.markRead(seq);
  } catch {
    // The cursor moves on the next read.
  }
}

/** Where the "new messages" marker goes: the first message from someone else after the read cursor. */
export function firstUnread(r: RoomState): number | null {
  for (const l of r.lines) if (l.kind === 'msg' && !l.mine && l.seq > r.readSeq) return l.seq;
  return null;
}

/** Prepends the page of messages before the oldest one shown. */
export async function loadOlder(id: string): Promise<void> {
  const r = store.rooms[id];
  const room = client()?.room(id);
  if (!r || !room || r.loadingOlder || !r.more) return;
  const first = r.lines.find((l): l is MsgLine => l.kind === 'msg');
  if (!first) return;
  r.loadingOlder = true;
  try {
    // `before` is exclusive: none of these is shown yet.
    const page = await room.history({ before: first.seq, limit: DEFAULT_HISTORY_PAGE });
    r.lines.unshift(...page.messages.map(toLine));
    r.more = page.more;
  } catch (err) {
    toastError(err);
  } finally {
    r.loadingOlder = false;
  }
}
