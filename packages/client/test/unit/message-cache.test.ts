import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { applyChange } from '../../src/changes.js';
import { MessageCache } from '../../src/message-cache.js';
import { toMessage, type Message } from '../../src/messages.js';
import type { ChangeEvent } from '../../src/stream.js';
import { connected, flush, joined, setup } from './setup.js';

// The Message objects a room keeps current: changes applied in place, idempotently; a bounded
// set; messages loaded with history registered so later changes reach them.

const other = { id: 'u_other', name: 'Other' };
const me = { id: 'u_me', name: 'Me' };

function msg(seq: number, fields: Partial<Parameters<typeof toMessage>[0]> = {}): Message {
  return toMessage({ op: 'msg', room: 'r', seq, id: `m${seq}`, from: other, text: `t${seq}`, ts: seq, ...fields }, me.id);
}

const edit = (seq: number, target: number, text: string, meta?: Record<string, unknown>): ChangeEvent => ({
  op: 'edit',
  room: 'r',
  seq,
  target,
  text,
  editedAt: 100 + seq,
  from: other,
  ...(meta ? { meta } : {}),
});
const unsend = (seq: number, target: number): ChangeEvent => ({ op: 'unsend', room: 'r', seq, target, by: other });
const react = (seq: number, target: number, emoji: string, count: number, on = true, user = other): ChangeEvent => ({
  op: 'reaction',
  room: 'r',
  seq,
  target,
  emoji,
  user,
  on,
  count,
});

describe('applying changes', () => {
  it('applies each kind of change idempotently: the same event twice gives the same state', () => {
    const events = [edit(2, 1, 'new text', { tag: 'x' }), react(3, 1, '👍', 1, true, me), react(4, 1, '🎉', 2), react(5, 1, '👍', 2)];
    const once = msg(1, { meta: { tag: 'old' } });
    const twice = msg(1, { meta: { tag: 'old' } });
    for (const e of events) {
      applyChange(once, e, me.id);
      applyChange(twice, e, me.id);
      applyChange(twice, e, me.id);
    }
    expect(twice).toEqual(once);
    expect(once).toMatchObject({
      text: 'new text',
      meta: { tag: 'x' },
      edited: 102,
      reactions: [
        { emoji: '👍', count: 2, me: true },
        { emoji: '🎉', count: 2, me: false },
      ],
    });
  });

  it('keeps the meta when an edit gives none, and sets `me` only from our own reactions', () => {
    const m = msg(1, { meta: { a: 1 } });
    applyChange(m, edit(2, 1, 'x'), me.id);
    expect(m.meta).toEqual({ a: 1 });
    applyChange(m, react(3, 1, '👍', 1, true, me), me.id);
    applyChange(m, react(4, 1, '👍', 2, true, other), me.id);
    expect(m.reactions).toEqual([{ emoji: '👍', count: 2, me: true }]);
    applyChange(m, react(5, 1, '👍', 1, false, me), me.id);
    expect(m.reactions).toEqual([{ emoji: '👍', count: 1, me: false }]);
    applyChange(m, react(6, 1, '👍', 0, false, other), me.id);
    expect(m.reactions).toBeUndefined();
  });

  it('empties an unsent message to the tombstone the server keeps, and ignores edits and reactions after', () => {
    const m = msg(1, { meta: { a: 1 }, mentions: [me.id], replyTo: { seq: 0, from: other, text: 'q' }, reactions: [{ emoji: '👍', count: 1, me: false }] });
    expect(m.mentionsMe).toBe(true);
    applyChange(m, unsend(2, 1), me.id);
    const tombstone = toMessage({ op: 'msg', room: 'r', seq: 1, id: 'm1', from: other, ts: 1, unsent: true }, me.id);
    expect(m).toEqual(tombstone);
    applyChange(m, edit(3, 1, 'too late'), me.id);
    applyChange(m, react(4, 1, '👍', 1), me.id);
    applyChange(m, unsend(2, 1), me.id);
    expect(m).toEqual(tombstone);
  });
});

describe('MessageCache', () => {
  const self = () => me.id;

  it('keeps the newest messages delivered, up to its bound, and changes reach only those it keeps', () => {
    const cache = new MessageCache(self, { recent: 3, loaded: 2, changes: 10 });
    for (let seq = 1; seq <= 5; seq++) cache.delivered(msg(seq));
    expect(cache.size).toBe(3);
    expect(cache.get(2)).toBeUndefined();
    expect(cache.get(3)?.text).toBe('t3');
    expect(cache.change(edit(6, 2, 'evicted'))).toBeUndefined();
    expect(cache.change(edit(7, 5, 'kept'))?.text).toBe('kept');
  });

  it('keeps what the app loaded beside the recent ones, and hands out one object per seq', () => {
    const cache = new MessageCache(self, { recent: 2, loaded: 3, changes: 10 });
    const delivered = cache.delivered(msg(10));
    const [old1, old2, same] = cache.adopt([msg(1), msg(2), msg(10)], 10);
    expect(same).toBe(delivered);
    cache.delivered(msg(11));
    cache.delivered(msg(12)); // 10 leaves the recent set, but the app loaded it: kept
    expect(cache.get(10)).toBe(delivered);
    expect(cache.get(1)).toBe(old1);
    cache.change(edit(13, 2, 'two, edited'));
    expect(old2?.text).toBe('two, edited');
    cache.adopt([msg(3)], 13); // the loaded set is bounded too: the earliest load goes
    expect(cache.get(1)).toBeUndefined();
  });

  it('applies again the changes delivered while a history request was on its way', () => {
    const cache = new MessageCache(self);
    cache.delivered(msg(5));
    cache.change(react(6, 1, '👍', 1)); // message 1 is not kept yet: nothing to apply to
    cache.change(edit(7, 1, 'edited while loading'));
    // The page was read before the changes (its message 1 is as sent): they are applied to it.
    const [m1] = cache.adopt([msg(1)], 5);
    expect(m1).toMatchObject({ text: 'edited while loading', reactions: [{ emoji: '👍', count: 1, me: false }] });
    // A page read after them already has them: applying again changes nothing.
    const fresh = new MessageCache(self);
    fresh.change(react(6, 1, '👍', 1));
    const [current] = fresh.adopt([msg(1, { reactions: [{ emoji: '👍', count: 1, me: false }] })], 5);
    expect(current?.reactions).toEqual([{ emoji: '👍', count: 1, me: false }]);
  });

  it('re-quotes replies when the quoted message is edited or unsent, as the server quotes it now', () => {
    const cache = new MessageCache(self);
    cache.delivered(msg(1, { text: 'question' }));
    const reply = cache.delivered(msg(2, { replyTo: { seq: 1, from: other, text: 'question' } }));
    cache.change(edit(3, 1, 'x'.repeat(150)));
    expect(reply.replyTo).toEqual({ seq: 1, from: other, text: 'x'.repeat(100) });
    cache.change(unsend(4, 1));
    expect(reply.replyTo).toEqual({ seq: 1, unsent: true });
  });

  it('quotes the answered message in our own reply, which the server acknowledges with its seq only', () => {
    const cache = new MessageCache(self);
    cache.delivered(msg(1, { text: 'question' }));
    const mine = cache.delivered({ ...msg(2), from: me, mine: true, replyTo: { seq: 1 } });
    expect(mine.replyTo).toEqual({ seq: 1, from: other, text: 'question' });
  });
});

describe('a room keeps its messages current', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('keeps the newest 1,000 messages it delivered', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room } = await joined(s, 'r', 0);
    for (let seq = 1; seq <= 1200; seq++) socket.msg('r', seq);
    expect(room.message(200)).toBeUndefined();
    expect(room.message(201)?.text).toBe('t201');
    const targets: Array<boolean> = [];
    room.on('edit', ({ message }) => targets.push(message !== undefined));
    socket.edit('r', 1201, 100, 'gone from memory');
    socket.edit('r', 1202, 1200, 'kept');
    expect(targets).toEqual([false, true]);
    expect(room.message(1200)?.text).toBe('kept');
  });

  it('registers messages loaded with history so later changes apply to them, and hands out the delivered object for a known seq', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room, seen } = await joined(s, 'r', 20);
    socket.msg('r', 21);
    const page = room.history({ before: 22, limit: 2 });
    const h = socket.last('history');
    expect(h).toMatchObject({ room: 'r', before: 22, limit: 2 });
    const stored = (seq: number, fields = {}) => ({ op: 'msg', room: 'r', seq, id: `m${seq}`, from: other, text: `t${seq}`, ts: 1000 + seq, ...fields });
    socket.reply(h.ref as number, { room: 'r', messages: [stored(19, { edited: 7, text: 'edited before' }), stored(21)], more: true });
    const { messages } = await page;
    expect(messages[1]).toBe(seen[0]);
    expect(messages[0]).toMatchObject({ seq: 19, text: 'edited before', edited: 7 });
    socket.reaction('r', 22, 19, '👍', 1);
    expect(messages[0]?.reactions).toEqual([{ emoji: '👍', count: 1, me: false }]);
    expect(room.message(19)).toBe(messages[0]);
  });

  it('asks history for a page after a seq, and refuses before and after together without sending', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room } = await joined(s, 'r', 10);
    const page = room.history({ after: 3, limit: 2 });
    expect(socket.last('history')).toMatchObject({ room: 'r', after: 3, limit: 2 });
    socket.reply(socket.last('history').ref as number, { room: 'r', messages: [], more: false });
    await page;
    const sent = socket.frames().length;
    await expect(room.history({ before: 9, after: 3 })).rejects.toMatchObject({ code: 'bad_request' });
    expect(socket.frames().length).toBe(sent);
    await flush();
  });
});
