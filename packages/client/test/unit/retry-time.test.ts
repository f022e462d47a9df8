import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RetryContext, StateContext } from '../../src/types.js';
import { connected, flush, setup } from './setup.js';

// The time of the next reconnect attempt, as the SDK reports it (`state.retryAt`, `retry`), so an
// app can count down to it without knowing the backoff formula.

describe('when the next attempt starts', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  function record(s: ReturnType<typeof setup>) {
    const states: StateContext[] = [];
    const retries: RetryContext[] = [];
    s.chat.on('state', (e) => states.push(e));
    s.chat.on('retry', (e) => retries.push(e));
    return { states, retries };
  }

  /** Advances the clock until the client opens another socket; returns the time it did. */
  function nextAttempt(s: ReturnType<typeof setup>): number {
    const before = s.net.sockets.length;
    for (let i = 0; i < 60_000 && s.net.sockets.length === before; i++) vi.advanceTimersByTime(1);
    expect(s.net.sockets.length).toBe(before + 1);
    return Date.now();
  }

  it('puts retryAt on the state event of a lost connection, and reports every later retry on retry', async () => {
    // Jitter pinned to the top of the range: delays 499, 999, 1999 ms.
    const s = setup({ minReconnectDelay: 500, maxReconnectDelay: 4000 });
    await connected(s);
    const { states, retries } = record(s);

    const lostAt = Date.now();
    s.net.last.serverClose(1006, 'gone');
    expect(states).toEqual([{ state: 'connecting', previous: 'connected', code: 1006, reason: 'gone', retryAt: lostAt + 499 }]);
    expect(retries).toEqual([{ retryAt: lostAt + 499 }]);
    expect(nextAttempt(s)).toBe(lostAt + 499);

    // The attempt fails: still connecting, so no state event, but the new time comes on retry.
    const failedAt = Date.now();
    s.net.last.serverClose(1006);
    expect(states).toHaveLength(1);
    expect(retries.at(-1)).toEqual({ retryAt: failedAt + 999 });
    expect(nextAttempt(s)).toBe(failedAt + 999);

    s.net.last.error();
    s.net.last.serverClose(1006);
    expect(retries).toHaveLength(3); // error then close of one socket: one retry
    expect(retries.at(-1)).toEqual({ retryAt: Date.now() + 1999 });
    nextAttempt(s);

    s.net.last.welcome();
    expect(states.at(-1)).toEqual({ state: 'connected', previous: 'connecting' });
    expect(retries).toHaveLength(3);
  });

  it('has no retryAt when no retry is scheduled: a first attempt, a refusal, close()', async () => {
    const s = setup();
    const { states, retries } = record(s);
    const done = s.chat.connect();
    s.net.last.serverClose(4403, 'origin not allowed');
    await expect(done).rejects.toMatchObject({ code: 'forbidden' });
    expect(states.map((e) => [e.state, e.retryAt])).toEqual([
      ['connecting', undefined],
      ['disconnected', undefined],
    ]);
    expect(retries).toEqual([]);

    await connected(s);
    s.chat.close();
    expect(states.at(-1)).toEqual({ state: 'disconnected', previous: 'connected', code: 1000, reason: 'closed by the client' });
    expect(retries).toEqual([]);
  });

  it('does not report a retry that a state listener cancelled with close()', async () => {
    const s = setup();
    await connected(s);
    const { states, retries } = record(s);
    s.chat.on('state', (e) => {
      if (e.state === 'connecting') s.chat.close();
    });
    s.net.last.serverClose(1001);
    expect(states.map((e) => e.state)).toEqual(['connecting', 'disconnected']);
    expect(retries).toEqual([]);
    const n = s.net.sockets.length;
    vi.advanceTimersByTime(60_000);
    expect(s.net.sockets).toHaveLength(n);
  });

  it('reports the retry after a failed getToken(), which changes no state', async () => {
    const getToken = vi.fn(async (): Promise<string> => {
      throw new Error('auth backend down');
    });
    const s = setup({ getToken, minReconnectDelay: 100 });
    const { states, retries } = record(s);
    void s.chat.connect().catch(() => {});
    await flush();
    expect(states.map((e) => e.state)).toEqual(['connecting']);
    expect(retries).toEqual([{ retryAt: Date.now() + 99 }]);
    s.chat.close();
  });
});
