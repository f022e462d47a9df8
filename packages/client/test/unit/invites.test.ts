import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connected, joined, setup } from './setup.js';

// Invite links against a scripted server: the token goes with the first join only (a member
// needs none after), share's ttl is checked before anything is sent.

describe('invite links', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends the invite with joins until one is accepted, and not with the re-joins after a reconnect', async () => {
    const s = setup();
    await connected(s);
    const pending = s.chat.join('club', { invite: 'T1' });
    expect(s.net.last.last('join')).toMatchObject({ room: 'club', invite: 'T1' });
    // Lost before the answer: the next connection's join still carries it.
    s.net.last.serverClose(1006);
    vi.advanceTimersByTime(1000);
    s.net.last.welcome();
    expect(s.net.last.last('join')).toMatchObject({ room: 'club', invite: 'T1' });
    s.net.last.acceptJoin('club', 0);
    const room = await pending;
    expect(room.joined).toBe(true);
    // A member now: the re-join after the next reconnect has no invite.
    s.net.last.serverClose(1006);
    vi.advanceTimersByTime(1000);
    s.net.last.welcome();
    const rejoin = s.net.last.last('join');
    expect(rejoin).toMatchObject({ room: 'club', since: 0 });
    expect(rejoin).not.toHaveProperty('invite');
    s.chat.close();
  });

  it('a refused invite ends the join with the server\'s sentence', async () => {
    const s = setup();
    await connected(s);
    const pending = s.chat.join('club', { invite: 'old' });
    const message = 'this invite link has expired; ask a member of the room for a new one';
    s.net.last.replyError(s.net.last.last('join').ref as number, 'forbidden', message);
    await expect(pending).rejects.toMatchObject({ code: 'forbidden', message });
    s.chat.close();
  });

  it('share: room.share and chat.share send {room, ttl?} and resolve with {room, invite, expires}; a bad ttl fails at once', async () => {
    const s = setup();
    await connected(s);
    const { room } = await joined(s, 'club', 0);
    const a = room.share();
    const first = s.net.last.last('share');
    expect(first).toEqual({ op: 'share', room: 'club', ref: expect.any(Number) });
    s.net.last.reply(first.ref as number, { room: 'club', invite: 'T1', expires: 123 });
    await expect(a).resolves.toEqual({ room: 'club', invite: 'T1', expires: 123 });
    const b = s.chat.share('club', 3600);
    const second = s.net.last.last('share');
    expect(second).toMatchObject({ room: 'club', ttl: 3600 });
    s.net.last.reply(second.ref as number, { room: 'club', invite: 'T2', expires: 456 });
    await expect(b).resolves.toEqual({ room: 'club', invite: 'T2', expires: 456 });
    const sent = s.net.last.frames().length;
    for (const ttl of [59, 30 * 86_400 + 1, 1.5]) {
      await expect(room.share(ttl)).rejects.toMatchObject({ code: 'bad_request', message: expect.stringContaining('a minute to 30 days') });
    }
    expect(s.net.last.frames().length).toBe(sent);
    s.chat.close();
  });
});
