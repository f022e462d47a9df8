import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Message } from '../../src/messages.js';
import type { FileKeyContext } from '../../src/types.js';
import { connected, setup } from './setup.js';

// File keys against a scripted server, under fake timers: asked for after each welcome, in
// file URLs instead of the sign-in token, refreshed at half their life, no timer after close().

const HOUR = 3_600_000;
const picture = { binary: { mime: 'image/png', size: 3, url: '/api/rooms/r/files/3' } } as Message;
const text = { text: 'hi' } as Message;

/** The client's last `filekey` request on the current socket, answered with `key`, valid an hour. */
function answerKey(s: ReturnType<typeof setup>, key: string, life = HOUR): void {
  s.net.last.reply(s.net.last.last('filekey').ref as number, { key, expires: Date.now() + life });
}

const fileKeyRequests = (s: ReturnType<typeof setup>) => s.net.last.frames(true).filter((f) => f.op === 'filekey').length;
/** The scripted server answers no pings: a heartbeat longer than the test keeps the connection. */
const QUIET = { heartbeat: 10 * HOUR };

describe('file keys', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('are asked for after each welcome, after the replayed requests; fileUrl carries the key, never the token', async () => {
    const s = setup({ name: 'Ann' });
    const keys: FileKeyContext[] = [];
    s.chat.on('filekey', (k) => keys.push(k));
    await connected(s, { guestToken: 'g1' });
    expect(s.net.last.frames(true).map((f) => f.op)).toEqual(['filekey']);
    expect(s.chat.fileUrl(picture)).toBeNull(); // no key yet
    answerKey(s, 'K1');
    expect(keys).toEqual([{ key: 'K1', expires: expect.any(Number) }]);
    const url = s.chat.fileUrl(picture);
    expect(url).toBe('http://test.invalid/api/rooms/r/files/3?key=K1');
    expect(url).not.toContain('g1');
    expect(s.chat.fileUrl(text)).toBeNull();
    await expect(s.chat.fileLink(picture)).resolves.toBe(url);
    await expect(s.chat.fileLink(text)).resolves.toBeNull();

    // A room joined and a send queued while offline go out before the next key request.
    s.net.last.serverClose(1006);
    const pending = [s.chat.join('lobby'), s.chat.dm('u_bob', 'hello')];
    vi.advanceTimersByTime(1000);
    s.net.last.welcome({ guestToken: 'g1' });
    expect(s.net.last.frames(true).map((f) => f.op)).toEqual(['join', 'dm', 'filekey']);
    // The previous key is still good for its hour: URLs keep it until the new one comes.
    expect(s.chat.fileUrl(picture)).toContain('key=K1');
    answerKey(s, 'K2');
    expect(s.chat.fileUrl(picture)).toContain('key=K2');
    expect(keys.map((k) => k.key)).toEqual(['K1', 'K2']);
    s.chat.close();
    for (const p of pending) await expect(p).rejects.toMatchObject({ code: 'closed' });
  });

  it('are refreshed at half their life; fileLink waits for the fresh one', async () => {
    const s = setup(QUIET);
    const keys: string[] = [];
    s.chat.on('filekey', (k) => keys.push(k.key));
    await connected(s);
    answerKey(s, 'K1');
    vi.advanceTimersByTime(HOUR / 2 - 1);
    expect(fileKeyRequests(s)).toBe(1);
    vi.advanceTimersByTime(1);
    expect(fileKeyRequests(s)).toBe(2);
    // Past half its life: fileLink waits for the next key, fileUrl still gives the current one.
    let link: string | null | undefined;
    void s.chat.fileLink(picture).then((l) => (link = l));
    await vi.advanceTimersByTimeAsync(0);
    expect(link).toBeUndefined();
    expect(s.chat.fileUrl(picture)).toContain('key=K1');
    answerKey(s, 'K2');
    await vi.advanceTimersByTimeAsync(0);
    expect(link).toBe('http://test.invalid/api/rooms/r/files/3?key=K2');
    expect(keys).toEqual(['K1', 'K2']);
    // The next refresh is again half a life later.
    vi.advanceTimersByTime(HOUR / 2);
    expect(fileKeyRequests(s)).toBe(3);
    s.chat.close();
  });

  it('leave no timer running after close(), forget the key, and fail a waiting fileLink with closed', async () => {
    const s = setup(QUIET);
    await connected(s);
    answerKey(s, 'K1');
    vi.advanceTimersByTime(HOUR / 2); // refreshing: a fileLink now waits
    const waiting = s.chat.fileLink(picture);
    s.chat.close();
    await expect(waiting).rejects.toMatchObject({ code: 'closed' });
    expect(vi.getTimerCount()).toBe(0);
    expect(s.chat.fileUrl(picture)).toBeNull();
    await expect(s.chat.fileLink(picture)).rejects.toMatchObject({ code: 'closed' });
  });

  it('are not refreshed while disconnected; the next welcome asks again', async () => {
    const s = setup({ ...QUIET, maxReconnectDelay: 1000 });
    await connected(s);
    answerKey(s, 'K1');
    const first = s.net.last;
    first.serverClose(1006);
    vi.advanceTimersByTime(HOUR);
    expect(first.frames(true).filter((f) => f.op === 'filekey')).toHaveLength(1);
    expect(s.net.sockets.length).toBeGreaterThan(1);
    s.net.last.welcome();
    expect(fileKeyRequests(s)).toBe(1);
    s.chat.close();
  });

  it('fall back to the token in the URL on a server without file keys (it answers bad_request)', async () => {
    const s = setup({ ...QUIET, name: 'Ann' });
    await connected(s, { guestToken: 'g1' });
    s.net.last.replyError(s.net.last.last('filekey').ref as number, 'bad_request', 'unknown op "filekey"');
    expect(s.chat.fileUrl(picture)).toBe('http://test.invalid/api/rooms/r/files/3?token=g1');
    await expect(s.chat.fileLink(picture)).resolves.toContain('?token=g1');
    vi.advanceTimersByTime(HOUR);
    expect(fileKeyRequests(s)).toBe(1);
    s.chat.close();
  });

  it('are asked for again shortly after a refusal for now (rate_limited)', async () => {
    const s = setup(QUIET);
    await connected(s);
    s.net.last.replyError(s.net.last.last('filekey').ref as number, 'rate_limited');
    expect(s.chat.fileUrl(picture)).toBeNull();
    vi.advanceTimersByTime(1000);
    expect(fileKeyRequests(s)).toBe(2);
    answerKey(s, 'K1');
    expect(s.chat.fileUrl(picture)).toContain('key=K1');
    s.chat.close();
  });
});
