import { dayLabel, sameDay } from './format.js';
import { runText, type NoticeWords, type PresenceNotice } from './notices.js';
import { who } from './people.js';
import type { MsgLine, RoomState } from './store.js';

// What the open room's list shows, in order: day separators, the "new messages" marker, merged
// presence notices and messages (grouped: a message right after the same sender's is a
// continuation, shown without name and avatar).

export type ChatItem =
  | { type: 'day'; key: string; label: string }
  | { type: 'marker'; key: string }
  | { type: 'notice'; key: string; text: string }
  | { type: 'msg'; key: string; line: MsgLine; cont: boolean; showName: boolean };

/** Messages this close together, from one sender, form a group. */
const GROUP_GAP_MS = 5 * 60_000;

export function chatItems(r: RoomState, locale: string, days: { today: string; yesterday: string }, noticeWords: NoticeWords): ChatItem[] {
  const out: ChatItem[] = [];
  let prev: MsgLine | null = null;
  let prevTs = 0;
  // Consecutive join/leave notices show as one line ("Bob and 小明 joined"), or none if they
  // cancel out (a reload's "left" and "joined").
  let run: { key: string; notices: PresenceNotice[] } | null = null;
  const flush = () => {
    const text = run ? runText(run.notices, noticeWords) : '';
    if (run && text) {
      out.push({ type: 'notice', key: run.key, text });
      prev = null;
    }
    run = null;
  };
  for (const line of [...r.lines, ...r.pending]) {
    if (!prevTs || !sameDay(prevTs, line.ts)) {
      flush();
      out.push({ type: 'day', key: `d${line.key}`, label: dayLabel(line.ts, locale, days) });
      prev = null;
    }
    prevTs = line.ts;
    if (line.kind === 'notice') {
      run ??= { key: line.key, notices: [] };
      const id = line.userId ?? line.name;
      run.notices.push({ event: line.event, id, name: line.userId ? who({ id, name: line.name }) : line.name });
      continue;
    }
    flush();
    if (r.markerSeq !== null && line.seq === r.markerSeq) {
      out.push({ type: 'marker', key: 'marker' });
      prev = null;
    }
    const cont = prev !== null && prev.from.id === line.from.id && line.ts - prev.ts < GROUP_GAP_MS;
    out.push({ type: 'msg', key: line.key, line, cont, showName: !line.mine && !cont && !r.direct });
    prev = line;
  }
  flush();
  return out;
}
