import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RETRY_AFTER_MS } from '../../src/errors.js';
import { STALL_MS } from '../../src/feed.js';
import type { Room } from '../../src/room.js';
import { connected, flush, joined, setup } from './setup.js';

// A room's seq stream with its four kinds of events (msg, edit, unsend, reaction): ordered,
// each once, gaps filled by joining again, holes the server no longer has skipped.

/** Records every stream event a room delivers, as `kind:seq` (`msg:1`, `edit:2`, …). */
function record(room: Room): string[] {
  const log: string[] = [];
  room.on('message', (m) => log.push(`msg:${m.seq}`));
  room.on('change', ({ event }) => log.push(`${event.op}:${event.seq}`));
  return log;
}

/** Drops the connection and welcomes the next one. */
function reconnect(s: ReturnType<typeof setup>) {
  s.net.last.serverClose(1006);
  vi.advanceTimersByTime(1000);
  s.net.last.welcome();
  return s.net.last;
}

describe('the seq stream of messages and changes', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('treats edits, unsends and reactions as seqs of the stream, delivered in order with the messages', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room } = await joined(s, 'r', 0);
    const log = record(room);
    socket.msg('r', 1);
    socket.edit('r', 2, 1, 'one, edited');
    socket.reaction('r', 3, 1, '👍', 1);
    socket.msg('r', 4);
    socket.unsend('r', 5, 4);
    expect(log).toEqual(['msg:1', 'edit:2', 'reaction:3', 'msg:4', 'unsend:5']);
    expect(room.lastSeq).toBe(5);
    expect(room.message(1)).toMatchObject({ text: 'one, edited', edited: 5002, reactions: [{ emoji: '👍', count: 1, me: false }] });
    expect(room.message(4)).toMatchObject({ unsent: true });
    expect(room.message(4)?.text).toBeUndefined();
    expect(socket.frames().filter((f) => f.op === 'join')).toHaveLength(1); // no gap was seen
    expect(s.errors).toEqual([]);
  });

  it('passes the message (updated) and the event to edit, unsend, reaction and change listeners', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room, seen } = await joined(s, 'r', 0);
    const events: Array<[string, string | undefined, number]> = [];
    room.on('edit', ({ message, event }) => events.push(['edit', message?.text, event.target]));
    room.on('reaction', ({ message, event }) => events.push(['reaction', message?.reactions?.[0]?.emoji, event.target]));
    room.on('unsend', ({ message, event }) => events.push(['unsend', String(message?.unsent), event.target]));
    const changes: boolean[] = [];
    room.on('change', ({ message }) => changes.push(message === seen[0]));
    socket.msg('r', 1);
    socket.edit('r', 2, 1, 'new');
    socket.reaction('r', 3, 1, '🎉', 2);
    socket.unsend('r', 4, 1);
    expect(events).toEqual([
      ['edit', 'new', 1],
      ['reaction', '🎉', 1],
      ['unsend', 'true', 1],
    ]);
    // The very object `message` delivered is the one kept current.
    expect(changes).toEqual([true, true, true]);
    expect(seen[0]).toMatchObject({ seq: 1, unsent: true });
  });

  it('holds changes out of order behind a gap and drops duplicates: each applied once, in seq order', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room } = await joined(s, 'r', 0);
    const log = record(room);
    const reactions: number[] = [];
    room.on('reaction', ({ event }) => reactions.push(event.count));
    socket.msg('r', 1);
    socket.reaction('r', 3, 1, '👍', 2);
    socket.reaction('r', 3, 1, '👍', 2); // the same event twice while it waits
    expect(log).toEqual(['msg:1']);
    socket.edit('r', 2, 1, 'edited');
    expect(log).toEqual(['msg:1', 'edit:2', 'reaction:3']);
    socket.edit('r', 2, 1, 'edited'); // and again once delivered
    socket.msg('r', 1);
    expect(log).toEqual(['msg:1', 'edit:2', 'reaction:3']);
    expect(reactions).toEqual([2]);
    expect(s.chat.stats.duplicates).toBe(3);
    expect(room.message(1)).toMatchObject({ text: 'edited', reactions: [{ emoji: '👍', count: 2, me: false }] });
  });

  it('fills a gap by joining again from lastSeq: the backlog brings the missing changes, in order', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room } = await joined(s, 'r', 0);
    const log = record(room);
    socket.msg('r', 1);
    socket.msg('r', 4); // 2 and 3 (changes, say) never came
    expect(socket.last('join')).toMatchObject({ room: 'r', since: 1 });
    expect(socket.frames().filter((f) => f.op === 'history')).toEqual([]);
    socket.acceptJoin('r', 4);
    socket.edit('r', 2, 1, 'first!');
    socket.reaction('r', 3, 1, '🎉', 1);
    socket.msg('r', 4); // again, in the backlog: a duplicate
    socket.msg('r', 5);
    await flush();
    expect(log).toEqual(['msg:1', 'edit:2', 'reaction:3', 'msg:4', 'msg:5']);
    expect(s.chat.stats.gapsFilled).toBe(2);
    expect(room.message(1)).toMatchObject({ text: 'first!', reactions: [{ emoji: '🎉', count: 1, me: false }] });
    expect(socket.frames().filter((f) => f.op === 'join')).toHaveLength(2);
  });

  it('skips seqs the server no longer has (retention deleted them) once its in-order stream went past them', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room } = await joined(s, 'r', 0);
    const log = record(room);
    socket.msg('r', 1);
    socket.msg('r', 6);
    socket.acceptJoin('r', 6);
    // The backlog after 1 has only 3 and 6: 2, 4 and 5 went with a message past its retention.
    socket.msg('r', 3);
    socket.msg('r', 6);
    socket.msg('r', 7);
    await flush();
    expect(log).toEqual(['msg:1', 'msg:3', 'msg:6', 'msg:7']);
    expect(room.lastSeq).toBe(7);
    expect(socket.frames().filter((f) => f.op === 'join')).toHaveLength(2); // no loop of re-joins
    expect(s.errors).toEqual([]);
  });

  it('skips holes in the backlog of a reconnect, and of a first join with history', async () => {
    const s = setup({ history: 5 });
    let socket = await connected(s);
    const pending = s.chat.join('r');
    socket.acceptJoin('r', 10);
    // The last 5 seqs are 6..10; 7 and 8 no longer exist.
    for (const seq of [6, 9, 10]) socket.msg('r', seq);
    const room = await pending;
    const log = record(room);
    vi.advanceTimersByTime(0);
    expect(log).toEqual(['msg:6', 'msg:9', 'msg:10']);
    socket = reconnect(s);
    expect(socket.last('join')).toMatchObject({ since: 10 });
    socket.acceptJoin('r', 15);
    for (const seq of [12, 15]) socket.msg('r', seq);
    await flush();
    expect(log).toEqual(['msg:6', 'msg:9', 'msg:10', 'msg:12', 'msg:15']);
    expect(room.lastSeq).toBe(15);
  });

  it('does not skip our own message the server acknowledged after the backlog (it comes by reply, not by the stream)', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room } = await joined(s, 'r', 0);
    const log = record(room);
    socket.msg('r', 1);
    const sent = room.send('mine');
    const send = socket.last('send');
    socket.msg('r', 3); // someone else's, before our reply
    socket.reply(send.ref as number, { room: 'r', seq: 2, ts: 2, id: send.id });
    await sent;
    expect(log).toEqual(['msg:1', 'msg:2', 'msg:3']);
    expect(room.message(2)).toMatchObject({ text: 'mine', mine: true });
  });

  it('joins again when a gap waits behind a backlog that makes no progress (it ended in deleted seqs)', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room } = await joined(s, 'r', 0);
    const log = record(room);
    socket.msg('r', 1);
    let ws = reconnect(s);
    ws.acceptJoin('r', 3); // 2 and 3 were deleted: the backlog sends nothing
    const sent = room.send('after the reconnect');
    const send = ws.last('send');
    ws.reply(send.ref as number, { room: 'r', seq: 4, ts: 4, id: send.id });
    await sent;
    expect(log).toEqual(['msg:1']); // 4 waits: the backlog might still bring 2 and 3
    expect(ws.frames().filter((f) => f.op === 'join')).toHaveLength(1);
    vi.advanceTimersByTime(STALL_MS);
    expect(ws.last('join')).toMatchObject({ since: 1 });
    ws.acceptJoin('r', 4);
    ws.msg('r', 4, { from: { id: 'u_me', name: 'Me' }, text: 'after the reconnect' }); // ours, from the store
    await flush();
    expect(log).toEqual(['msg:1', 'msg:4']);
    expect(room.message(4)).toMatchObject({ mine: true, text: 'after the reconnect' });
    ws = s.net.last;
    expect(ws.frames().filter((f) => f.op === 'join')).toHaveLength(2);
  });

  it('does not join again at once when a re-join left the same gap (no loop at network speed)', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room } = await joined(s, 'r', 0);
    const log = record(room);
    socket.msg('r', 1);
    socket.msg('r', 3);
    const joins = () => socket.frames().filter((f) => f.op === 'join').length;
    expect(joins()).toBe(2);
    socket.acceptJoin('r', 1); // a server that sent seq 3 but says it is at 1
    await flush();
    expect(joins()).toBe(2);
    vi.advanceTimersByTime(RETRY_AFTER_MS);
    expect(joins()).toBe(3);
    socket.acceptJoin('r', 3);
    socket.msg('r', 2);
    socket.msg('r', 3);
    await flush();
    expect(log).toEqual(['msg:1', 'msg:2', 'msg:3']);
    vi.advanceTimersByTime(10 * RETRY_AFTER_MS);
    expect(joins()).toBe(3);
  });

  it('resumes after a reconnect to the same state a client that stayed online has, each event once', async () => {
    // Online: every event live. Offline: the message in its current state from the backlog,
    // then the change events that led there (as the server streams `join {since}`).
    const live = setup();
    const ls = await connected(live);
    const { room: liveRoom } = await joined(live, 'r', 0);
    ls.msg('r', 1, { text: 'first' });
    ls.edit('r', 2, 1, 'first!');
    ls.reaction('r', 3, 1, '🎉', 1, { user: { id: 'u_me', name: 'Me' } });
    ls.msg('r', 4, { text: 'second' });
    ls.unsend('r', 5, 4);
    ls.reaction('r', 6, 1, '👍', 1);

    const away = setup();
    await connected(away);
    const { room } = await joined(away, 'r', 0);
    const log = record(room);
    away.net.last.msg('r', 1, { text: 'first' });
    const socket = reconnect(away);
    expect(socket.last('join')).toMatchObject({ since: 1 });
    socket.acceptJoin('r', 6);
    socket.edit('r', 2, 1, 'first!');
    socket.reaction('r', 3, 1, '🎉', 1, { user: { id: 'u_me', name: 'Me' } });
    socket.msg('r', 4, { text: undefined, unsent: true }); // current state: a tombstone
    socket.unsend('r', 5, 4);
    socket.reaction('r', 6, 1, '👍', 1);
    await flush();
    expect(log).toEqual(['msg:1', 'edit:2', 'reaction:3', 'msg:4', 'unsend:5', 'reaction:6']);
    expect(room.message(1)).toEqual(liveRoom.message(1));
    expect(room.message(4)).toEqual(liveRoom.message(4));
    expect(room.message(1)).toMatchObject({ text: 'first!', reactions: [{ emoji: '🎉', count: 1, me: true }, { emoji: '👍', count: 1, me: false }] });
    expect(room.lastSeq).toBe(6);
  });

  it('holds the backlog changes with the messages until the listeners added after `await join()` are there', async () => {
    const s = setup();
    const socket = await connected(s);
    const pending = s.chat.join('r', { since: 0 });
    socket.acceptJoin('r', 2);
    socket.msg('r', 1);
    socket.edit('r', 2, 1, 'changed');
    const room = await pending;
    const log = record(room);
    vi.advanceTimersByTime(0);
    expect(log).toEqual(['msg:1', 'edit:2']);
    expect(room.message(1)?.text).toBe('changed');
  });

  it('announces a change to a message the room does not keep, with no message', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room } = await joined(s, 'r', 10);
    const got: Array<[number, boolean]> = [];
    room.on('change', ({ event, message }) => got.push([event.target, message === undefined]));
    socket.reaction('r', 11, 3, '👍', 4);
    expect(got).toEqual([[3, true]]);
    expect(room.lastSeq).toBe(11);
  });

  it('follows a direct conversation on a change too, and routes receipts to their room', async () => {
    const s = setup();
    const socket = await connected(s);
    socket.reaction('dm-a-b', 7, 5, '👍', 1);
    const dm = s.chat.room('dm-a-b');
    expect(dm?.lastSeq).toBe(7);
    const { room } = await joined(s, 'r', 0);
    const receipts: Array<[string, number]> = [];
    room.on('receipt', ({ user, seq }) => receipts.push([user.id, seq]));
    socket.push({ op: 'receipt', room: 'r', user: { id: 'u_other', name: 'Other' }, seq: 3 });
    expect(receipts).toEqual([['u_other', 3]]);
    expect(room.lastSeq).toBe(0); // receipts take no seq
  });

  it('reports a malformed change and does not apply it', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room } = await joined(s, 'r', 0);
    socket.msg('r', 1);
    socket.push({ op: 'edit', room: 'r', seq: 2, text: 'no target' });
    expect(s.errors).toEqual(['bad_request']);
    expect(room.lastSeq).toBe(1);
    expect(room.message(1)?.text).toBe('t1');
  });
});
