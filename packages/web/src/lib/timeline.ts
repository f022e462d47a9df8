import { markRaw } from 'vue';
import { DEFAULT_HISTORY_PAGE, type Message } from '@roomcast/client';
import { client, ensureRoom, store, type ImageRef, type MsgLine, type RoomState } from './store.js';
import { toastError } from './toasts.js';
import { noteSender } from './people.js';

// A room's timeline: stored messages as lines (in seq order, each once: the SDK guarantees it, and
// a line already loaded by window.ts is not added again), older pages on demand, the unread and
// mention counts and the read cursor.

/** What the message list reports, so arriving messages count as read only when seen. */
export const viewer = { atBottom: true, visible: true };

export function blobUrl(data: Uint8Array, mime: string): string {
  return URL.createObjectURL(new Blob([data.slice()], { type: mime }));
}

/** Whether a message calls me by name (the SDK says so; older SDK builds only list the ids). */
function mentionsMe(m: Message): boolean {
  return m.mentionsMe ?? (store.me !== null && (m.mentions ?? []).includes(store.me.id));
}

export function toLine(m: Message): MsgLine {
  noteSender(m.from);
  const line: MsgLine = {
    kind: 'msg',
    key: `m${m.seq}`,
    seq: m.seq,
    id: m.id,
    from: m.from,
    ts: m.ts,
    mine: m.mine,
    state: 'sent',
    mentionsMe: !m.mine && mentionsMe(m),
    unsent: m.unsent === true,
    // Copies: the SDK keeps its Message current in place, the store changes only through changes.ts.
    reactions: (m.reactions ?? []).map((x) => ({ emoji: x.emoji, count: x.count, me: x.me })),
  };
  if (m.text !== undefined) line.text = m.text;
  if (m.replyTo) line.replyTo = { ...m.replyTo };
  if (m.mentions?.length) line.mentions = [...m.mentions];
  if (m.edited) line.edited = m.edited;
  if (m.binary) {
    // The server's copy: its URL (with the file key, never the sign-in token) is made when shown.
    const url = m.data ? blobUrl(m.data, m.binary.mime) : '';
    const ref: ImageRef = { url, mime: m.binary.mime, name: m.binary.name, size: m.binary.size, message: markRaw(m) };
    if (m.binary.mime.startsWith('image/')) line.image = ref;
    else line.file = ref;
  }
  return line;
}

/** The message line with this seq, if it is shown. */
export function lineAt(r: RoomState, seq: number): MsgLine | undefined {
  for (let i = r.lines.length - 1; i >= 0; i--) {
    const l = r.lines[i]!;
    if (l.kind === 'msg' && l.seq === seq) return l;
  }
  return undefined;
}

export function lastMsgSeq(lines: readonly { kind: string; seq?: number }[]): number {
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.kind === 'msg') return lines[i]!.seq ?? 0;
  return 0;
}

/** A line where it belongs: at the end, unless a window load already showed it (or a later one). */
function place(r: RoomState, line: MsgLine): void {
  if (r.newer) {
    // An older stretch is shown: the live end joins when the user scrolls down to it.
    if (line.seq > lastMsgSeq(r.later)) r.later.push(line);
    return;
  }
  if (line.seq > lastMsgSeq(r.lines)) r.lines.push(line);
  else if (!lineAt(r, line.seq)) {
    const i = r.lines.findIndex((l) => l.kind === 'msg' && l.seq > line.seq);
    r.lines.splice(i < 0 ? r.lines.length : i, 0, line);
  }
}

/** A stored message from the SDK: appended (they come in order; older pages are prepended by `loadOlder`). */
export function addMessage(m: Message): void {
  const r = ensureRoom(m.room);
  place(r, toLine(m));
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
    if (store.active !== m.room || !viewer.atBottom || !viewer.visible || r.newer) {
      r.unread++;
      if (mentionsMe(m)) r.mentions++;
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
  r.mentions = 0;
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
