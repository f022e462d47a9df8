import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connected, flush, setup } from './setup.js';

describe('identity across reconnects', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('calls getToken before connecting, and again only after the server refused or expired the token (4401)', async () => {
    let n = 0;
    const getToken = vi.fn(async () => `tok${++n}`);
    const s = setup({ getToken });
    const done = s.chat.connect();
    await flush();
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(s.net.last.url).toBe('ws://test.invalid/ws?token=tok1');
    s.net.last.welcome();
    await done;
    // A plain network failure reuses the token.
    s.net.last.serverClose(1006);
    vi.advanceTimersByTime(1000);
    await flush();
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(s.net.last.url).toContain('token=tok1');
    s.net.last.welcome();
    // Expired: a fresh token before the next attempt.
    s.net.last.serverClose(4401, 'token expired');
    expect(s.errors).toEqual(['unauthorized']);
    vi.advanceTimersByTime(1000);
    await flush();
    expect(getToken).toHaveBeenCalledTimes(2);
    expect(s.net.last.url).toBe('ws://test.invalid/ws?token=tok2');
    expect(s.chat.state).toBe('connecting');
    s.net.last.welcome();
    expect(s.chat.state).toBe('connected');
  });

  it('retries with backoff when getToken fails, never two attempts at once', async () => {
    let fail = true;
    const getToken = vi.fn(async () => {
      if (fail) throw new Error('auth backend down');
      return 'ok';
    });
    const s = setup({ getToken, minReconnectDelay: 100 });
    void s.chat.connect();
    await flush();
    expect(s.net.sockets).toHaveLength(0);
    expect(s.errors).toEqual(['unauthorized']);
    vi.advanceTimersByTime(99);
    await flush();
    expect(getToken).toHaveBeenCalledTimes(2);
    fail = false;
    vi.advanceTimersByTime(199);
    await flush();
    expect(getToken).toHaveBeenCalledTimes(3);
    expect(s.net.sockets).toHaveLength(1);
    expect(s.net.last.url).toContain('token=ok');
  });

  it('stops when a static token is refused: it cannot get better by retrying', async () => {
    const s = setup({ token: 'static' });
    const done = s.chat.connect();
    s.net.last.serverClose(4401, 'token expired');
    await expect(done).rejects.toMatchObject({ code: 'unauthorized', closeCode: 4401 });
    expect(s.chat.state).toBe('disconnected');
    vi.advanceTimersByTime(60_000);
    expect(s.net.sockets).toHaveLength(1);
  });

  it('comes back as the same guest with the token from welcome', async () => {
    const s = setup({ name: 'Ann' });
    await connected(s, { guestToken: 'g1', user: { id: 'u_ann', name: 'Ann' } });
    expect(s.chat.guestToken).toBe('g1');
    s.net.last.serverClose(1001);
    vi.advanceTimersByTime(1000);
    expect(s.net.last.url).toBe('ws://test.invalid/ws?name=Ann&guest=g1');
    s.net.last.welcome({ guestToken: 'g2', user: { id: 'u_ann', name: 'Ann' } });
    expect(s.chat.user).toEqual({ id: 'u_ann', name: 'Ann' });
    expect(s.chat.guestToken).toBe('g2');
  });

  it('starts from a saved guest token, and continues as a new guest if the server no longer accepts it', async () => {
    const s = setup({ guestToken: 'old' });
    void s.chat.connect();
    expect(s.net.last.url).toBe('ws://test.invalid/ws?guest=old');
    s.net.last.serverClose(4401, 'the guest token is not valid on this server');
    expect(s.errors).toEqual(['unauthorized']);
    vi.advanceTimersByTime(1000);
    expect(s.net.last.url).toBe('ws://test.invalid/ws');
    s.net.last.welcome({ guestToken: 'new' });
    expect(s.chat.guestToken).toBe('new');
  });

  it('refuses contradictory or impossible options at construction', async () => {
    expect(() => setup({ token: 'a', getToken: () => 'b' })).toThrow(/either token or getToken/);
    expect(() => setup({ outboxLimit: 0 })).toThrow(/outboxLimit/);
    expect(() => setup({ minReconnectDelay: 1000, maxReconnectDelay: 10 })).toThrow(/maxReconnectDelay/);
    const { RoomcastClient } = await import('../../src/client.js');
    expect(() => new RoomcastClient('localhost:8080')).toThrow(/not a server URL/);
    vi.stubGlobal('WebSocket', undefined); // Node 22+ has a global one
    try {
      expect(() => new RoomcastClient('ws://localhost:8080/ws')).toThrow(/no WebSocket implementation/);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
