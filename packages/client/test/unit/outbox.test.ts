import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connected, flush, joined, setup } from './setup.js';

describe('the outbox', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('queues sends made while disconnected and sends them after the reconnect, in order, with their ids', async () => {
    const s = setup();
    await connected(s);
    const { room, seen } = await joined(s, 'r', 0);
    s.net.last.serverClose(1006);
    expect(s.chat.state).toBe('connecting');
    const a = room.send('one');
    const b = room.send('two', { meta: { k: 1 } });
    vi.advanceTimersByTime(1000);
    const socket = s.net.last;
    expect(socket.sent).toHaveLength(0);
    socket.welcome();
    const frames = socket.frames();
    expect(frames.map((f) => f.op)).toEqual(['join', 'send', 'send']);
    expect(frames[0]).toMatchObject({ room: 'r', since: 0 });
    const [, one, two] = frames;
    expect(one).toMatchObject({ room: 'r', text: 'one' });
    expect(two).toMatchObject({ room: 'r', text: 'two', meta: { k: 1 } });
    expect(one?.id).toMatch(/^c-/);
    expect(one?.id).not.toBe(two?.id);
    socket.acceptJoin('r', 0);
    socket.reply(one?.ref as number, { room: 'r', seq: 1, ts: 11, id: one?.id });
    socket.reply(two?.ref as number, { room: 'r', seq: 2, ts: 12, id: two?.id });
    await expect(a).resolves.toEqual({ room: 'r', seq: 1, ts: 11, id: one?.id, duplicate: false });
    await expect(b).resolves.toMatchObject({ seq: 2 });
    // Our own messages take their place in the room's sequence, once.
    expect(seen.map((m) => [m.seq, m.text, m.mine])).toEqual([
      [1, 'one', true],
      [2, 'two', true],
    ]);
    expect(s.chat.stats).toMatchObject({ sent: 2, acknowledged: 2, delivered: 2 });
  });

  it('resends an unacknowledged send with the same id after a drop; the duplicate reply resolves it once', async () => {
    const s = setup();
    await connected(s);
    const { room, seen } = await joined(s, 'r', 0);
    const sending = room.send('hello');
    const first = s.net.last.last('send');
    s.net.last.serverClose(1006); // the reply was lost with the connection
    vi.advanceTimersByTime(1000);
    const socket = s.net.last;
    socket.welcome();
    const again = socket.last('send');
    expect(again.id).toBe(first.id);
    expect(again.text).toBe('hello');
    // The server had stored it: the backlog brings it as a msg, the resend is answered as a duplicate.
    socket.acceptJoin('r', 1);
    socket.msg('r', 1, { id: first.id as string, from: { id: 'u_me', name: 'Me' }, text: 'hello' });
    socket.reply(again.ref as number, { room: 'r', seq: 1, ts: 5, id: first.id, duplicate: true });
    await expect(sending).resolves.toMatchObject({ seq: 1, duplicate: true });
    expect(seen.map((m) => [m.seq, m.text, m.mine])).toEqual([[1, 'hello', true]]);
    expect(s.chat.stats.duplicates).toBe(1);
  });

  it('is bounded: a send beyond outboxLimit fails at once with outbox_full', async () => {
    const s = setup({ outboxLimit: 2 });
    await connected(s);
    const { room } = await joined(s, 'r', 0);
    s.net.last.serverClose(1006);
    const a = room.send('a');
    const b = room.send('b');
    await expect(room.send('c')).rejects.toMatchObject({ name: 'RoomcastError', code: 'outbox_full' });
    vi.advanceTimersByTime(1000);
    s.net.last.welcome();
    const sends = s.net.last.frames().filter((f) => f.op === 'send');
    expect(sends.map((f) => f.text)).toEqual(['a', 'b']);
    sends.forEach((f, i) => s.net.last.reply(f.ref as number, { room: 'r', seq: i + 1, ts: 1, id: f.id }));
    await Promise.all([a, b]);
    // Room again once acknowledged.
    const c = room.send('c');
    s.net.last.reply(s.net.last.last('send').ref as number, { room: 'r', seq: 3, ts: 1 });
    await expect(c).resolves.toMatchObject({ seq: 3 });
  });

  it('retries a send refused with rate_limited after a pause, with the same id', async () => {
    const s = setup();
    await connected(s);
    const { room } = await joined(s, 'r', 0);
    const sending = room.send('x');
    const first = s.net.last.last('send');
    s.net.last.replyError(first.ref as number, 'rate_limited', 'too many frames');
    await flush();
    vi.advanceTimersByTime(999);
    expect(s.net.last.frames().filter((f) => f.op === 'send')).toHaveLength(1);
    vi.advanceTimersByTime(1);
    const second = s.net.last.last('send');
    expect(second.id).toBe(first.id);
    s.net.last.reply(second.ref as number, { room: 'r', seq: 1, ts: 1 });
    await expect(sending).resolves.toMatchObject({ seq: 1 });
  });

  it('rejects with the server error code and message when a send is refused', async () => {
    const s = setup();
    await connected(s);
    const { room } = await joined(s, 'r', 0);
    const sending = room.send('x');
    s.net.last.replyError(s.net.last.last('send').ref as number, 'not_member', 'you are not a member of room "r"; join it first');
    await expect(sending).rejects.toMatchObject({ name: 'RoomcastError', code: 'not_member', message: 'you are not a member of room "r"; join it first' });
  });

  it('checks text against the server limits before queueing', async () => {
    const s = setup();
    await connected(s, { limits: { maxText: 5, maxBinary: 10, ratePerSec: 0 } });
    const { room } = await joined(s, 'r', 0);
    await expect(room.send('123456')).rejects.toMatchObject({ code: 'too_large' });
    await expect(room.send('')).rejects.toMatchObject({ code: 'bad_request' });
    await expect(room.sendBinary(new Uint8Array(11), { mime: 'image/png' })).rejects.toMatchObject({ code: 'too_large' });
    expect(s.chat.stats.sent).toBe(0);
  });

  it('fails queued sends with "closed" on close()', async () => {
    const s = setup();
    await connected(s);
    const { room } = await joined(s, 'r', 0);
    s.net.last.serverClose(1006);
    const sending = room.send('never');
    s.chat.close();
    await expect(sending).rejects.toMatchObject({ code: 'closed' });
  });

  it('paces a large replay under the server rate limit, in order', async () => {
    const s = setup();
    await connected(s, { limits: { maxText: 4000, maxBinary: 1000, ratePerSec: 5 } });
    const { room } = await joined(s, 'r', 0);
    vi.advanceTimersByTime(2000); // budget refilled after the join
    s.net.last.serverClose(1006);
    for (let i = 0; i < 12; i++) void room.send(`m${i}`);
    vi.advanceTimersByTime(1000);
    s.net.last.welcome({ limits: { maxText: 4000, maxBinary: 1000, ratePerSec: 5 } });
    expect(s.net.last.frames().map((f) => f.op)).toEqual(['join', 'send', 'send', 'send', 'send']);
    // One second's budget at once (the join and four sends), then five a second.
    vi.advanceTimersByTime(1000);
    expect(s.net.last.frames().filter((f) => f.op === 'send')).toHaveLength(9);
    vi.advanceTimersByTime(1000);
    expect(s.net.last.frames().filter((f) => f.op === 'send').map((f) => f.text)).toEqual(Array.from({ length: 12 }, (_, i) => `m${i}`));
  });
});
