import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Message } from '../../src/messages.js';
import { connected, flush, joined, setup } from './setup.js';

describe('resuming rooms', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('asks a first join for recent history and delivers it in order', async () => {
    const s = setup({ history: 3 });
    const socket = await connected(s);
    const pending = s.chat.join('r');
    expect(socket.last('join')).toMatchObject({ room: 'r', history: 3 });
    socket.acceptJoin('r', 10);
    for (const seq of [8, 9, 10]) socket.msg('r', seq);
    const room = await pending;
    // Listeners added right after the await still get the backlog parsed in the same turn.
    const seen: number[] = [];
    room.on('message', (m) => seen.push(m.seq));
    vi.advanceTimersByTime(0);
    socket.msg('r', 11);
    expect(seen).toEqual([8, 9, 10, 11]);
    expect(room.lastSeq).toBe(11);
  });

  it('re-joins after a reconnect from the last seq, delivering only what was missed', async () => {
    const s = setup();
    await connected(s);
    const { room, seqs } = await joined(s, 'r', 0);
    s.net.last.msg('r', 1);
    s.net.last.msg('r', 2);
    s.net.last.serverClose(1006);
    vi.advanceTimersByTime(1000);
    const socket = s.net.last;
    socket.welcome();
    expect(socket.last('join')).toMatchObject({ room: 'r', since: 2 });
    expect(socket.last('join').history).toBeUndefined();
    socket.acceptJoin('r', 4);
    // An overlapping backlog (a server resending 2) is suppressed, not delivered twice.
    for (const seq of [2, 3, 4]) socket.msg('r', seq);
    socket.msg('r', 4);
    expect(seqs()).toEqual([1, 2, 3, 4]);
    expect(room.lastSeq).toBe(4);
    expect(s.chat.stats.duplicates).toBe(2);
    expect(s.chat.stats.reconnects).toBe(1);
  });

  it('handles a join reply and the frames after it in the same network read, in order', async () => {
    const s = setup();
    await connected(s);
    const { seqs } = await joined(s, 'r', 0);
    s.net.last.msg('r', 1);
    s.net.last.msg('r', 2);
    s.net.last.serverClose(1006);
    vi.advanceTimersByTime(1000);
    const socket = s.net.last;
    socket.welcome();
    // Reply, backlog and a live message parsed in one go, before any promise callback runs.
    socket.acceptJoin('r', 4);
    for (const seq of [3, 4, 5]) socket.msg('r', seq);
    await flush();
    socket.msg('r', 6);
    await flush();
    expect(seqs()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(s.errors).toEqual([]);
    expect(socket.frames().filter((f) => f.op === 'history')).toHaveLength(0);
  });

  it('fills a gap seen live by joining again from the last seq, and delivers in order', async () => {
    const s = setup();
    await connected(s);
    const { seqs } = await joined(s, 'r', 0);
    const socket = s.net.last;
    socket.msg('r', 1);
    socket.msg('r', 4);
    socket.msg('r', 5);
    expect(seqs()).toEqual([1]);
    // History holds messages only, not the changes in a gap: the room is joined again instead.
    expect(socket.frames().filter((f) => f.op === 'history')).toHaveLength(0);
    expect(socket.last('join')).toMatchObject({ room: 'r', since: 1 });
    socket.msg('r', 6); // still waiting; no second fill-in while one runs
    expect(socket.frames().filter((f) => f.op === 'join')).toHaveLength(2);
    socket.acceptJoin('r', 6);
    for (const seq of [2, 3, 4, 5, 6]) socket.msg('r', seq);
    await flush();
    expect(seqs()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(s.chat.stats.gapsFilled).toBe(2);
    expect(s.chat.stats.duplicates).toBe(3);
    expect(socket.frames().filter((f) => f.op === 'join')).toHaveLength(2);
  });

  it('moves past what an ephemeral room cannot give', async () => {
    const s = setup();
    await connected(s);
    const pending = s.chat.join('e');
    s.net.last.acceptJoin('e', 7, { room: { id: 'e', title: null, capacity: null, visibility: 'public', persist: false, direct: false, owner: null, createdAt: 0 } });
    const room = await pending;
    const seen: number[] = [];
    room.on('message', (m) => seen.push(m.seq));
    vi.advanceTimersByTime(0);
    s.net.last.msg('e', 8);
    s.net.last.serverClose(1006);
    vi.advanceTimersByTime(1000);
    s.net.last.welcome();
    s.net.last.acceptJoin('e', 12, { room: { id: 'e', title: null, capacity: null, visibility: 'public', persist: false, direct: false, owner: null, createdAt: 0 } });
    s.net.last.msg('e', 13);
    await flush();
    expect(seen).toEqual([8, 13]);
  });

  it('delivers direct messages on dm, follows the conversation, and catches up after a reconnect', async () => {
    const s = setup();
    const dms: Message[] = [];
    s.chat.on('dm', (m) => dms.push(m));
    await connected(s);
    s.net.last.msg('dm-a-b', 5, { text: 'hi' });
    expect(dms.map((m) => [m.seq, m.text, m.direct])).toEqual([[5, 'hi', true]]);
    s.net.last.serverClose(1006);
    vi.advanceTimersByTime(1000);
    const socket = s.net.last;
    socket.welcome({ rooms: [{ id: 'dm-a-b', title: 'Other', visibility: 'private', persist: true, direct: true, lastSeq: 7, readSeq: 5, unread: 2, online: 1 }] });
    expect(socket.last('join')).toMatchObject({ room: 'dm-a-b', since: 5 });
    socket.acceptJoin('dm-a-b', 7);
    socket.msg('dm-a-b', 6);
    socket.msg('dm-a-b', 7);
    expect(dms.map((m) => m.seq)).toEqual([5, 6, 7]);
  });

  it('delivers unread direct messages from before this client started', async () => {
    const s = setup();
    const dms: number[] = [];
    s.chat.on('dm', (m) => dms.push(m.seq));
    const socket = await connected(s, {
      rooms: [
        { id: 'dm-a-c', title: 'C', visibility: 'private', persist: true, direct: true, lastSeq: 3, readSeq: 1, unread: 2, online: 0 },
        { id: 'dm-a-d', title: 'D', visibility: 'private', persist: true, direct: true, lastSeq: 9, readSeq: 9, unread: 0, online: 0 },
      ],
    });
    expect(socket.frames().filter((f) => f.op === 'join')).toEqual([expect.objectContaining({ room: 'dm-a-c', since: 1 })]);
    socket.acceptJoin('dm-a-c', 3);
    socket.msg('dm-a-c', 2);
    socket.msg('dm-a-c', 3);
    expect(dms).toEqual([2, 3]);
  });

  it('ends a room the server deleted or kicked us from, and does not re-join it', async () => {
    const s = setup();
    await connected(s);
    const { room } = await joined(s, 'r', 0);
    const closed: string[] = [];
    room.on('closed', (e) => closed.push(e.reason));
    s.net.last.push({ op: 'room', room: { id: 'r', title: null, capacity: null, visibility: 'public', persist: true, direct: false, owner: 'u_x', createdAt: 0, deleted: true } });
    expect(closed).toEqual(['deleted']);
    expect(s.chat.room('r')).toBeUndefined();
    s.net.last.serverClose(1006);
    vi.advanceTimersByTime(1000);
    s.net.last.welcome();
    expect(s.net.last.frames().filter((f) => f.op === 'join')).toHaveLength(0);
  });

  it('reports a re-join the server refuses and stops following that room', async () => {
    const s = setup();
    await connected(s);
    const { room } = await joined(s, 'r', 0);
    const closed: Array<string | undefined> = [];
    room.on('closed', (e) => closed.push(e.error?.code));
    s.net.last.serverClose(1006);
    vi.advanceTimersByTime(1000);
    s.net.last.welcome();
    s.net.last.replyError(s.net.last.last('join').ref as number, 'room_not_found', 'room "r" does not exist');
    await flush();
    expect(closed).toEqual(['room_not_found']);
    expect(s.chat.room('r')).toBeUndefined();
  });

  it('keeps presence current and resyncs it on a re-join', async () => {
    const s = setup();
    await connected(s);
    const { room } = await joined(s, 'r', 0);
    const events: string[] = [];
    room.on('presence', (e) => events.push(`${e.event}:${e.online}`));
    s.net.last.push({ op: 'presence', room: 'r', event: 'join', user: { id: 'u_b', name: 'B' }, online: 2 });
    expect(room.members.map((u) => u.id)).toEqual(['u_me', 'u_b']);
    s.net.last.push({ op: 'presence', room: 'r', event: 'leave', user: { id: 'u_b', name: 'B' }, online: 1 });
    expect(room.online).toBe(1);
    s.net.last.serverClose(1006);
    vi.advanceTimersByTime(1000);
    s.net.last.welcome();
    s.net.last.acceptJoin('r', 0, { online: 3, members: [{ id: 'u_me', name: 'Me' }, { id: 'u_c', name: 'C' }, { id: 'u_d', name: 'D' }] });
    await flush();
    expect(events).toEqual(['join:2', 'leave:1', 'sync:3']);
  });
});
