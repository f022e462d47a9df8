import { DEFAULT_HISTORY_PAGE, MAX_HISTORY_PAGE } from '@roomcast/client';
import { client, store, type MsgLine, type RoomState } from './store.js';
import { lastMsgSeq, lineAt, toLine } from './timeline.js';
import { toastError } from './toasts.js';

// Showing a message that is not in the timeline (a search hit, the message a reply quotes). Near
// the oldest line shown, older pages are prepended until it is there, as scrolling up would. Far
// back, the timeline becomes a window around it (`history` before and after it) with the live end
// set aside in `later`: scrolling down loads newer pages until the window meets the live end, and
// "Jump to latest" goes straight back to it.

/** How many messages back from the oldest shown are still loaded page by page. */
const NEAR = 2 * MAX_HISTORY_PAGE;
/** Messages on each side of the message a window centres on. */
const AROUND = 25;

/** Appends the lines after the last one shown; the window has reached the live end. */
function meetLiveEnd(r: RoomState, tail: readonly MsgLine[]): void {
  r.newer = false;
  for (const l of tail) if (l.seq > lastMsgSeq(r.lines)) r.lines.push(l);
  r.later = [];
}

/** Makes sure the message with this seq is among the lines; false if the room has no such message. */
export async function reveal(id: string, seq: number): Promise<boolean> {
  const r = store.rooms[id];
  const room = client()?.room(id);
  if (!r) return false;
  if (lineAt(r, seq)) return true;
  if (!room) return false;
  const first = r.lines.find((l): l is MsgLine => l.kind === 'msg');
  try {
    if (first && seq < first.seq && first.seq - seq <= NEAR) {
      let oldest = first.seq;
      while (!lineAt(r, seq) && r.more) {
        const page = await room.history({ before: oldest, limit: MAX_HISTORY_PAGE });
        const fresh = page.messages.filter((m) => !lineAt(r, m.seq)).map(toLine);
        r.lines.unshift(...fresh);
        r.more = page.more;
        if (page.messages.length === 0) break;
        oldest = page.messages[0]!.seq;
      }
      return lineAt(r, seq) !== undefined;
    }
    // Inside what is shown but not a message (a change event's seq), or newer than anything stored.
    if (first && seq > first.seq && !r.newer) return false;
    return await centreOn(r, seq);
  } catch (err) {
    toastError(err);
    return false;
  }
}

/** Replaces the lines with the messages around `seq`; live messages wait in `later` meanwhile. */
async function centreOn(r: RoomState, seq: number): Promise<boolean> {
  const room = client()?.room(r.id);
  if (!room) return false;
  // From here on, live messages go to `later` (timeline.ts), so none is lost while this loads.
  const tail = r.newer ? [] : r.lines.filter((l): l is MsgLine => l.kind === 'msg');
  r.later = [...tail, ...r.later];
  r.newer = true;
  const [before, after] = await Promise.all([room.history({ before: seq + 1, limit: AROUND + 1 }), room.history({ after: seq, limit: AROUND })]);
  r.lines = [...before.messages, ...after.messages].map(toLine);
  r.more = before.more;
  if (!after.more) meetLiveEnd(r, r.later);
  return lineAt(r, seq) !== undefined;
}

/** The next page after the last line shown (scrolling down through a window). */
export async function loadNewer(id: string): Promise<void> {
  const r = store.rooms[id];
  const room = client()?.room(id);
  if (!r || !room || !r.newer || r.loadingNewer) return;
  r.loadingNewer = true;
  try {
    const page = await room.history({ after: lastMsgSeq(r.lines), limit: DEFAULT_HISTORY_PAGE });
    for (const m of page.messages) if (m.seq > lastMsgSeq(r.lines)) r.lines.push(toLine(m));
    if (!page.more) meetLiveEnd(r, r.later);
  } catch (err) {
    toastError(err);
  } finally {
    r.loadingNewer = false;
  }
}

/** Leaves a window for the newest page and the live end. */
export async function jumpLatest(id: string): Promise<void> {
  const r = store.rooms[id];
  const room = client()?.room(id);
  if (!r || !room || !r.newer || r.loadingNewer) return;
  r.loadingNewer = true;
  try {
    const page = await room.history({ limit: DEFAULT_HISTORY_PAGE });
    r.lines = page.messages.map(toLine);
    r.more = page.more;
    meetLiveEnd(r, r.later);
  } catch (err) {
    toastError(err);
  } finally {
    r.loadingNewer = false;
  }
}
