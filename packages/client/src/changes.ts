import { quoteText } from '@roomcast/protocol';
import type { Message } from './messages.js';
import type { ChangeEvent } from './stream.js';

// Applying a change event to the message it targets, in place. Every change sets state rather
// than stepping it (an edit sets the text, an unsend empties the message, a reaction event
// carries the emoji's new count), so applying the same event twice, or replaying events onto a
// message that already reflects them, ends in the same state: a client that got a change live
// and again in a backlog, or loaded a message from history while its changes were in flight,
// is not confused.

/** Applies `e` to `m` (the message with seq `e.target`); `selfId` decides `reactions[].me`. */
export function applyChange(m: Message, e: ChangeEvent, selfId: string | null): void {
  switch (e.op) {
    case 'edit':
      // A backlog's edit to a message unsent since carries no text: there is nothing to apply.
      if (m.unsent || e.text === undefined) return;
      m.text = e.text;
      if (e.meta !== undefined) m.meta = { ...e.meta };
      m.edited = e.editedAt;
      return;
    case 'unsend':
      // What the server keeps of it: a tombstone (history sends it so), whatever it was before.
      m.unsent = true;
      m.mentionsMe = false;
      delete m.text;
      delete m.meta;
      delete m.binary;
      delete m.data;
      delete m.edited;
      delete m.reactions;
      delete m.replyTo;
      delete m.mentions;
      return;
    case 'reaction':
      applyReaction(m, e, selfId);
      return;
  }
}

function applyReaction(m: Message, e: Extract<ChangeEvent, { op: 'reaction' }>, selfId: string | null): void {
  if (m.unsent) return;
  const list = m.reactions ?? [];
  const i = list.findIndex((r) => r.emoji === e.emoji);
  const mine = selfId !== null && e.user.id === selfId;
  if (e.count <= 0) {
    if (i >= 0) list.splice(i, 1);
  } else if (i < 0) {
    // A new emoji goes last: reactions are listed in the order they were first given.
    list.push({ emoji: e.emoji, count: e.count, me: mine && e.on });
  } else {
    const r = list[i]!;
    r.count = e.count;
    if (mine) r.me = e.on;
  }
  if (list.length > 0) m.reactions = list;
  else delete m.reactions;
}

/**
 * Brings the quote in `m.replyTo` up to date with a change to the quoted message: the server
 * quotes the answered message as it is now, so an edit re-quotes its text and an unsend leaves
 * only `{seq, unsent}`. Reactions are not quoted.
 */
export function requote(m: Message, e: ChangeEvent): void {
  const q = m.replyTo;
  if (!q || q.seq !== e.target) return;
  if (e.op === 'unsend') m.replyTo = { seq: q.seq, unsent: true };
  else if (e.op === 'edit' && e.text !== undefined && !q.unsent && q.text !== undefined) q.text = quoteText(e.text);
}

export { quoteText };
