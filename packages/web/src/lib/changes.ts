import { quoteText, type UserRef } from '@roomcast/client';
import { t } from './i18n.js';
import { client, store, type MsgLine, type Reaction, type RoomState } from './store.js';
import { toast, toastError } from './toasts.js';

// Changes to messages already shown: edits, unsends and reactions, from the SDK's `change` event
// (anyone's, live or in a backlog) and from my own actions. Applying a change sets a state (the
// text, unsent, an emoji's count), so one that arrives twice, or after my own optimistic copy of
// it, changes nothing more.

/** The fields of the protocol's `edit`, `unsend` and `reaction` events this module reads. */
export type Change =
  | { op: 'edit'; target: number; text?: string; editedAt?: number }
  | { op: 'unsend'; target: number }
  | { op: 'reaction'; target: number; emoji: string; user: UserRef; on: boolean; count: number };

/** Every copy of the message in the room: the timeline, and the live end set aside by a window. */
function copies(r: RoomState, seq: number): MsgLine[] {
  const out: MsgLine[] = [];
  for (const l of r.lines) if (l.kind === 'msg' && l.seq === seq) out.push(l);
  for (const l of r.later) if (l.seq === seq) out.push(l);
  return out;
}

/** Replies quoting the message follow its edits and unsend, as the server's quotes do. */
function requote(r: RoomState, seq: number, apply: (q: NonNullable<MsgLine['replyTo']>) => void): void {
  for (const l of [...r.lines, ...r.later, ...r.pending]) if (l.kind === 'msg' && l.replyTo?.seq === seq) apply(l.replyTo);
}

function setUnsent(l: MsgLine): void {
  l.unsent = true;
  l.text = undefined;
  l.image = undefined;
  l.file = undefined;
  l.reactions = [];
  l.replyTo = undefined;
  l.edited = undefined;
}

function setReaction(l: MsgLine, emoji: string, count: number, me: boolean | undefined): void {
  const i = l.reactions.findIndex((x) => x.emoji === emoji);
  if (count <= 0) {
    if (i >= 0) l.reactions.splice(i, 1);
    return;
  }
  if (i < 0) l.reactions.push({ emoji, count, me: me ?? false });
  else l.reactions[i] = { emoji, count, me: me ?? l.reactions[i]!.me };
}

/** A change event for a room's message. */
export function applyChange(roomId: string, c: Change): void {
  const r = store.rooms[roomId];
  if (!r) return;
  const lines = copies(r, c.target);
  if (c.op === 'edit') {
    // Without text: the message was unsent since (a backlog replaying history); nothing to apply.
    if (c.text === undefined) return;
    const text = c.text;
    for (const l of lines) {
      if (l.unsent) continue;
      l.text = text;
      l.edited = c.editedAt ?? Date.now();
    }
    requote(r, c.target, (q) => {
      if (!q.unsent) q.text = quoteText(text);
    });
  } else if (c.op === 'unsend') {
    lines.forEach(setUnsent);
    requote(r, c.target, (q) => {
      q.unsent = true;
      q.text = undefined;
      q.mime = undefined;
    });
  } else {
    const me = c.user.id === store.me?.id ? c.on : undefined;
    for (const l of lines) if (!l.unsent) setReaction(l, c.emoji, c.count, me);
  }
}

function sdkRoom(id: string) {
  const room = client()?.room(id);
  if (!room) toast(t('err.not_member'));
  return room;
}

/** Saves new text for my message: shown at once, put back if the server refuses. */
export async function editMessage(roomId: string, line: MsgLine, text: string): Promise<void> {
  const room = sdkRoom(roomId);
  if (!room || line.unsent || text === line.text) return;
  const before = { text: line.text, edited: line.edited };
  line.text = text;
  line.edited = Date.now();
  try {
    await room.edit(line.seq, text);
  } catch (err) {
    line.text = before.text;
    line.edited = before.edited;
    toastError(err);
  }
}

/** Takes a message back (mine, or anyone's in a room I own), after the user confirmed. */
export async function unsendMessage(roomId: string, line: MsgLine): Promise<void> {
  const room = sdkRoom(roomId);
  if (!room || line.unsent) return;
  try {
    await room.unsend(line.seq);
    applyChange(roomId, { op: 'unsend', target: line.seq });
  } catch (err) {
    toastError(err);
  }
}

/** Gives my reaction, or takes it back if I gave it: shown at once, the server's count after. */
export async function toggleReaction(roomId: string, line: MsgLine, emoji: string): Promise<void> {
  const room = sdkRoom(roomId);
  if (!room || line.unsent) return;
  const had: Reaction | undefined = line.reactions.find((x) => x.emoji === emoji);
  const on = !had?.me;
  const guess = (had?.count ?? 0) + (on ? 1 : -1);
  setReaction(line, emoji, guess, on);
  try {
    const res = await room.react(line.seq, emoji, on);
    setReaction(line, emoji, res.count, on);
  } catch (err) {
    setReaction(line, emoji, had?.count ?? 0, had?.me ?? false);
    toastError(err);
  }
}

/** Copies a message's text; without clipboard access (plain http elsewhere than localhost), a hidden field and `copy`. */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    document.execCommand?.('copy');
    area.remove();
  }
  toast(t('msg.copied'), undefined, 'info');
}

/** Whether I may take this message back: mine, or I own the room, or I am an admin (as the server allows). */
export function canUnsend(r: RoomState, line: MsgLine): boolean {
  return line.state === 'sent' && !line.unsent && (line.mine || store.isAdmin || (r.owner !== null && r.owner === store.me?.id));
}

export function canEdit(line: MsgLine): boolean {
  return line.state === 'sent' && line.mine && !line.unsent && line.text !== undefined;
}
