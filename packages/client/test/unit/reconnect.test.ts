import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connected, flush, setup } from './setup.js';

describe('reconnecting', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('retries with capped exponential backoff, one attempt at a time', async () => {
    const s = setup({ minReconnectDelay: 500, maxReconnectDelay: 4000 });
    void s.chat.connect();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = s.net.sockets.length;
      // A failing socket reports twice (error, then close): still one retry.
      s.net.last.error();
      s.net.last.serverClose(1006);
      let waited = 0;
      while (s.net.sockets.length === before) {
        vi.advanceTimersByTime(1);
        waited++;
        expect(s.net.sockets.length).toBeLessThanOrEqual(before + 1);
      }
      delays.push(waited);
    }
    expect(delays).toEqual([499, 999, 1999, 3999, 3999, 3999]);
    expect(s.states).toEqual(['connecting']);
  });

  it('resets the backoff once a connection delivered welcome, even one that drops at once', async () => {
    const s = setup({ minReconnectDelay: 100, maxReconnectDelay: 10_000 });
    void s.chat.connect();
    const retries: number[] = [];
    s.chat.on('retry', (r) => retries.push(r.retryAt - Date.now()));
    for (let i = 0; i < 3; i++) {
      s.net.last.serverClose(1006);
      vi.advanceTimersByTime(10_000);
    }
    expect(retries).toEqual([99, 199, 399]);
    // Attempt 4 is welcomed and dropped at once (a server that keeps dying): back to the minimum.
    for (let i = 0; i < 3; i++) {
      s.net.last.welcome();
      s.net.last.serverClose(1013);
      const n = s.net.sockets.length;
      vi.advanceTimersByTime(98);
      expect(s.net.sockets.length).toBe(n);
      vi.advanceTimersByTime(1);
      expect(s.net.sockets.length).toBe(n + 1);
    }
    expect(retries.slice(3)).toEqual([99, 99, 99]);
  });

  it('fires state only on a real change', async () => {
    const s = setup();
    await connected(s);
    s.net.last.serverClose(1001, 'restart');
    vi.advanceTimersByTime(1000);
    s.net.last.serverClose(1006);
    vi.advanceTimersByTime(2000);
    s.net.last.welcome();
    await flush();
    s.chat.close();
    s.chat.close();
    expect(s.states).toEqual(['connecting', 'connected', 'connecting', 'connected', 'disconnected']);
  });

  it('tells listeners why a connection ended', async () => {
    const s = setup();
    const seen: Array<{ state: string; code?: number; reason?: string }> = [];
    s.chat.on('state', (e) => seen.push({ state: e.state, ...(e.code ? { code: e.code, reason: e.reason } : {}) }));
    await connected(s);
    s.net.last.serverClose(1013, 'slow consumer');
    expect(seen.at(-1)).toEqual({ state: 'connecting', code: 1013, reason: 'slow consumer' });
  });

  it('stops retrying on close() and fails what was pending', async () => {
    const s = setup();
    const connecting = s.chat.connect();
    s.net.last.serverClose(1006);
    const n = s.net.sockets.length;
    const join = s.chat.join('lobby');
    s.chat.close();
    await expect(join).rejects.toMatchObject({ code: 'closed' });
    await expect(connecting).rejects.toMatchObject({ code: 'closed' });
    vi.advanceTimersByTime(120_000);
    expect(s.net.sockets.length).toBe(n);
    expect(s.chat.state).toBe('disconnected');
    await expect(s.chat.rooms()).rejects.toMatchObject({ code: 'closed' });
  });

  it('closes its own socket with 1000 on close()', async () => {
    const s = setup();
    const socket = await connected(s);
    s.chat.close();
    expect(socket.closed?.code).toBe(1000);
  });

  it('gives up for good when the server refuses the connection (4403)', async () => {
    const s = setup();
    const done = s.chat.connect();
    s.net.last.serverClose(4403, 'origin not allowed');
    await expect(done).rejects.toMatchObject({ code: 'forbidden', closeCode: 4403 });
    vi.advanceTimersByTime(60_000);
    expect(s.net.sockets).toHaveLength(1);
    expect(s.chat.state).toBe('disconnected');
    expect(s.errors).toEqual(['forbidden']);
  });

  it('replaces an attempt that opens but never says welcome', async () => {
    const s = setup({ connectTimeout: 3000 });
    void s.chat.connect();
    s.net.last.open();
    vi.advanceTimersByTime(2999);
    expect(s.net.sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(s.net.sockets[0]?.terminated).toBe(true);
    vi.advanceTimersByTime(500);
    expect(s.net.sockets).toHaveLength(2);
  });

  it('pings when idle and replaces a connection silent for two heartbeat intervals', async () => {
    const s = setup();
    const socket = await connected(s, { heartbeat: 1000 });
    vi.advanceTimersByTime(1000);
    expect(socket.frames().filter((f) => f.op === 'ping')).toHaveLength(1);
    socket.push({ op: 'pong', ts: 1 });
    vi.advanceTimersByTime(1999);
    expect(socket.terminated).toBe(false);
    expect(socket.frames().filter((f) => f.op === 'ping')).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(socket.terminated).toBe(true);
    expect(s.chat.state).toBe('connecting');
    vi.advanceTimersByTime(500);
    expect(s.net.sockets).toHaveLength(2);
  });

  it('uses the heartbeat option over the server announcement', async () => {
    const s = setup({ heartbeat: 300 });
    const socket = await connected(s, { heartbeat: 25_000 });
    vi.advanceTimersByTime(300);
    expect(socket.last('ping')).toEqual({ op: 'ping' });
    vi.advanceTimersByTime(300);
    expect(socket.terminated).toBe(true);
  });

  it('offers the roomcast.v1 subprotocol and passes the name', async () => {
    const s = setup({ name: 'Zoë Q' });
    await connected(s);
    expect(s.net.last.protocols).toEqual(['roomcast.v1']);
    expect(s.net.last.url).toBe('ws://test.invalid/ws?name=Zo%C3%AB%20Q');
  });
});
