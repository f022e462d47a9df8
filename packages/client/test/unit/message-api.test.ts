import { decodeBinaryFrame } from '@roomcast/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RoomcastError } from '../../src/errors.js';
import { connected, flush, joined, setup } from './setup.js';

// The requests of message features against a scripted server: what goes out, what the
// promises resolve with, errors, offline behaviour, and our own changes in the stream.

const other = { id: 'u_other', name: 'Other' };
const me = { id: 'u_me', name: 'Me' };

describe('message features: requests', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('edits: the event (sent to us before the reply) applies once, and the promise resolves with the reply', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room } = await joined(s, 'r', 0);
    const edits: string[] = [];
    room.on('edit', ({ message }) => edits.push(String(message?.text)));
    socket.msg('r', 1, { from: me, text: 'helo' });
    const done = room.edit(1, 'hello', { meta: { v: 2 } });
    const f = socket.last('edit');
    expect(f).toMatchObject({ op: 'edit', room: 'r', seq: 1, text: 'hello', meta: { v: 2 } });
    socket.push({ op: 'edit', room: 'r', seq: 2, target: 1, text: 'hello', meta: { v: 2 }, editedAt: 77, from: me });
    socket.reply(f.ref as number, { room: 'r', seq: 2, target: 1, editedAt: 77 });
    expect(await done).toEqual({ seq: 2, target: 1, editedAt: 77 });
    expect(edits).toEqual(['hello']);
    expect(room.message(1)).toMatchObject({ text: 'hello', meta: { v: 2 }, edited: 77 });
    expect(s.chat.stats.duplicates).toBe(1);
  });

  it('puts our own change in the stream from its reply alone, so the next event is no gap', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room } = await joined(s, 'r', 0);
    const log: string[] = [];
    room.on('change', ({ event }) => log.push(`${event.op}:${event.seq}`));
    socket.msg('r', 1);
    const reacted = room.react(1, '👍');
    const f = socket.last('react');
    expect(f).toMatchObject({ room: 'r', seq: 1, emoji: '👍', on: true });
    // The reply and the next event in the same network read, before any promise callback.
    socket.reply(f.ref as number, { room: 'r', seq: 2, target: 1, emoji: '👍', on: true, count: 1 });
    socket.msg('r', 3);
    expect(log).toEqual(['reaction:2']);
    expect(room.lastSeq).toBe(3);
    expect(await reacted).toEqual({ seq: 2, target: 1, emoji: '👍', on: true, count: 1 });
    expect(room.message(1)?.reactions).toEqual([{ emoji: '👍', count: 1, me: true }]);
    expect(socket.frames().filter((x) => x.op === 'join')).toHaveLength(1);
  });

  it('resolves unsend and react with already when nothing changed, and takes a reaction back with on: false', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room } = await joined(s, 'r', 3, { history: 0 });
    const u = room.unsend(2);
    socket.reply(socket.last('unsend').ref as number, { room: 'r', target: 2, already: true });
    expect(await u).toEqual({ target: 2, already: true });
    const r = room.react(2, '👍', false);
    expect(socket.last('react')).toMatchObject({ on: false });
    socket.reply(socket.last('react').ref as number, { room: 'r', target: 2, emoji: '👍', on: false, count: 0, already: true });
    expect(await r).toEqual({ target: 2, emoji: '👍', on: false, count: 0, already: true });
    expect(room.lastSeq).toBe(3);
  });

  it('rejects with the server error code, and checks what it can before sending', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room } = await joined(s, 'r', 3);
    const e = room.edit(3, 'x');
    socket.replyError(socket.last('edit').ref as number, 'not_found', 'room "r" has no message 3; check the seq');
    const err = await e.catch((x: unknown) => x);
    expect(err).toBeInstanceOf(RoomcastError);
    expect(err).toMatchObject({ code: 'not_found', message: 'room "r" has no message 3; check the seq' });
    const u = room.unsend(1);
    socket.replyError(socket.last('unsend').ref as number, 'forbidden', 'only the author…');
    await expect(u).rejects.toMatchObject({ code: 'forbidden' });
    const sent = socket.frames().length;
    await expect(room.edit(1, '')).rejects.toMatchObject({ code: 'bad_request' });
    await expect(room.edit(0, 'x')).rejects.toMatchObject({ code: 'bad_request' });
    await expect(room.edit(1, 'x'.repeat(4001))).rejects.toMatchObject({ code: 'too_large' });
    await expect(room.react(1, 'x'.repeat(33))).rejects.toMatchObject({ code: 'bad_request' });
    await expect(s.chat.search('')).rejects.toMatchObject({ code: 'bad_request' });
    await expect(room.send('hi', { replyTo: -1 })).rejects.toMatchObject({ code: 'bad_request' });
    await expect(room.send('hi', { mentions: Array.from({ length: 51 }, (_, i) => `u${i}`) })).rejects.toMatchObject({ code: 'bad_request' });
    expect(socket.frames().length).toBe(sent);
  });

  it('sends a change made while offline after the reconnect, like other requests', async () => {
    const s = setup();
    await connected(s);
    const { room } = await joined(s, 'r', 1, { history: 0 });
    s.net.last.serverClose(1006);
    const done = room.react(1, '🎉');
    vi.advanceTimersByTime(1000);
    const socket = s.net.last;
    socket.welcome();
    expect(socket.frames().map((f) => f.op)).toEqual(['join', 'react']);
    socket.acceptJoin('r', 1);
    socket.reply(socket.last('react').ref as number, { room: 'r', seq: 2, target: 1, emoji: '🎉', on: true, count: 1 });
    expect(await done).toMatchObject({ seq: 2, count: 1 });
    expect(room.lastSeq).toBe(2);
  });

  it('sends replyTo and mentions through the outbox, the same on a retry, and our message carries them', async () => {
    const s = setup();
    await connected(s);
    const { room, seen } = await joined(s, 'r', 0);
    s.net.last.msg('r', 1, { text: 'who deploys?' });
    const sent = room.send('@Other me', { replyTo: 1, mentions: ['u_other', 'u_me', 'u_other'] });
    const first = s.net.last.last('send');
    expect(first).toMatchObject({ room: 'r', text: '@Other me', replyTo: 1, mentions: ['u_other', 'u_me'] });
    s.net.last.serverClose(1006);
    vi.advanceTimersByTime(1000);
    const socket = s.net.last;
    socket.welcome();
    socket.acceptJoin('r', 1);
    const retry = socket.last('send');
    expect(retry).toMatchObject({ id: first.id, replyTo: 1, mentions: ['u_other', 'u_me'] });
    socket.reply(retry.ref as number, { room: 'r', seq: 2, ts: 9, id: first.id });
    await sent;
    await flush();
    expect(seen[1]).toMatchObject({
      seq: 2,
      mine: true,
      replyTo: { seq: 1, from: other, text: 'who deploys?' },
      mentions: ['u_other', 'u_me'],
      mentionsMe: true,
    });
  });

  it('passes replyTo and mentions in binary headers and direct messages', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room } = await joined(s, 'r', 1);
    void room.sendBinary(new Uint8Array([1, 2, 3]), { mime: 'image/png', replyTo: 1, mentions: ['u_other'] });
    const bin = socket.sent.find((d): d is Uint8Array => typeof d !== 'string');
    const decoded = decodeBinaryFrame(bin as Uint8Array);
    expect(decoded.ok && decoded.header).toMatchObject({ op: 'send', room: 'r', mime: 'image/png', replyTo: 1, mentions: ['u_other'] });
    void s.chat.dm('u_other', 'psst', { replyTo: 4, mentions: ['u_other'] });
    expect(socket.last('dm')).toMatchObject({ to: 'u_other', text: 'psst', replyTo: 4, mentions: ['u_other'] });
  });

  it('marks messages that mention this user', async () => {
    const s = setup();
    const socket = await connected(s);
    const { seen } = await joined(s, 'r', 0);
    socket.msg('r', 1, { mentions: ['u_me'], replyTo: { seq: 0, from: other, text: 'q' } });
    socket.msg('r', 2, { mentions: ['u_x'] });
    socket.msg('r', 3);
    expect(seen.map((m) => m.mentionsMe)).toEqual([true, false, false]);
    expect(seen[0]?.mentions).toEqual(['u_me']);
    expect(seen[2]?.mentions).toBeUndefined();
  });

  it('searches, and hands out the kept objects for hits in rooms it follows', async () => {
    const s = setup();
    const socket = await connected(s);
    const { seen } = await joined(s, 'r', 0);
    socket.msg('r', 1, { text: 'Deploy at five' });
    const found = s.chat.search('deploy', { room: 'r', before: 99, limit: 5 });
    const f = socket.last('search');
    expect(f).toMatchObject({ q: 'deploy', room: 'r', before: 99, limit: 5 });
    const hit = { op: 'msg', room: 'r', seq: 1, id: 'm1', from: other, text: 'Deploy at five', ts: 1001 };
    const elsewhere = { op: 'msg', room: 'other-room', seq: 4, id: 'x', from: other, text: 'deploy?', ts: 900 };
    socket.reply(f.ref as number, { messages: [hit, elsewhere], more: true, next: 900 });
    const result = await found;
    expect(result.more).toBe(true);
    expect(result.next).toBe(900);
    expect(result.messages[0]).toBe(seen[0]);
    expect(result.messages[1]).toMatchObject({ room: 'other-room', seq: 4, text: 'deploy?' });
  });

  it('lists members with their read cursors, creates with retention and receipts, updates, and passes room summaries through', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room } = await joined(s, 'r', 0);
    const list = room.listMembers();
    socket.reply(socket.last('members').ref as number, { room: 'r', online: 1, members: [{ ...me, online: true, readSeq: 4 }, { ...other, online: false }] });
    expect(await list).toEqual([
      { ...me, online: true, readSeq: 4, role: 'member' },
      { ...other, online: false, readSeq: 0, role: 'member' },
    ]);
    void s.chat.create({ title: 'T', retention: 30, receipts: false });
    expect(socket.last('create')).toMatchObject({ title: 'T', retention: 30, receipts: false });
    const upd = room.update({ receipts: false, retention: null });
    expect(socket.last('update')).toMatchObject({ room: 'r', receipts: false, retention: null });
    const info = { id: 'r', title: null, capacity: null, visibility: 'public', persist: true, direct: false, owner: 'u_me', createdAt: 0, retention: null, receipts: false };
    socket.reply(socket.last('update').ref as number, { room: info });
    expect(await upd).toEqual(info);
    await expect(room.update({})).rejects.toMatchObject({ code: 'bad_request' });
    const rooms = s.chat.rooms();
    socket.reply(socket.last('rooms').ref as number, { rooms: [{ id: 'r', title: null, visibility: 'public', persist: true, direct: false, lastSeq: 5, readSeq: 2, unread: 3, mentions: 1, online: 1 }] });
    expect((await rooms)[0]).toMatchObject({ unread: 3, mentions: 1 });
  });

  it('keeps retention and receipts in room.info from a room event', async () => {
    const s = setup();
    const socket = await connected(s);
    const { room } = await joined(s, 'r', 0);
    socket.push({ op: 'room', room: { id: 'r', title: 'T', capacity: null, visibility: 'public', persist: true, direct: false, owner: 'u_x', createdAt: 0, retention: 7, receipts: false } });
    expect(room.info).toMatchObject({ retention: 7, receipts: false });
  });
});
