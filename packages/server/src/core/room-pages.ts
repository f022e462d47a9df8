import type { RoomCursor } from '../store/store.js';

// Room lists come in pages ordered by activity (lastSeq descending, then id). A cursor is the
// last room of a page, written `LASTSEQ:ID`; ids cannot make it ambiguous (it splits at the first
// colon and lastSeq has none).

export function encodeCursor(r: RoomCursor): string {
  return `${r.lastSeq}:${r.id}`;
}

/** The schema checked the form; this only splits it. */
export function decodeCursor(s: string): RoomCursor {
  const i = s.indexOf(':');
  return { lastSeq: Number(s.slice(0, i)), id: s.slice(i + 1) };
}

/** Whether `r` comes after the cursor in activity order. */
export function after(r: RoomCursor, c: RoomCursor): boolean {
  return r.lastSeq < c.lastSeq || (r.lastSeq === c.lastSeq && r.id > c.id);
}
