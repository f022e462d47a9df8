import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { changes, events, Signal, waitUntil, within } from './wait.js';

// The shared wait helper, on a fake clock: it wakes on the caller's events, polls only when told
// to (or given nothing to listen to), and fails at the deadline with what it waited for.

describe('waitUntil', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves with the first result that holds, without waiting when it already holds', async () => {
    await expect(waitUntil(() => 'here', { what: 'x' })).resolves.toBe('here');
    await expect(waitUntil(() => 0, { what: 'x' })).resolves.toBe(0);
  });

  it('re-checks when its event source wakes it, and not on a clock', async () => {
    const signal = new Signal();
    let n = 0;
    const check = vi.fn(() => n >= 2);
    const wait = waitUntil(check, { what: 'two', on: signal.on });
    await vi.advanceTimersByTimeAsync(1000);
    expect(check).toHaveBeenCalledTimes(1);
    n = 2;
    signal.notify();
    await expect(wait).resolves.toBe(true);
    expect(check).toHaveBeenCalledTimes(2);
  });

  it('wakes on EventEmitter events and on "changed" promises, and unsubscribes', async () => {
    const emitter = new EventEmitter();
    let ready = false;
    const wait = waitUntil(() => ready, { what: 'ready', on: events(emitter, 'data') });
    ready = true;
    emitter.emit('data');
    await wait;
    expect(emitter.listenerCount('data')).toBe(0);

    let resolve!: () => void;
    let done = false;
    const changed = waitUntil(() => done, { what: 'done', on: changes(() => new Promise<void>((r) => (resolve = r))) });
    await vi.advanceTimersByTimeAsync(0);
    done = true;
    resolve();
    await expect(changed).resolves.toBe(true);
  });

  it('polls only without an event source, or when asked to', async () => {
    let calls = 0;
    const wait = waitUntil(() => ++calls >= 3, { what: 'three checks' });
    await vi.advanceTimersByTimeAsync(20);
    await expect(wait).resolves.toBe(true);
    const signal = new Signal();
    let polled = 0;
    const both = waitUntil(() => ++polled >= 3, { what: 'three polls', on: signal.on, pollMs: 50 });
    await vi.advanceTimersByTimeAsync(100);
    await expect(both).resolves.toBe(true);
  });

  it('fails at the deadline, naming what it waited for and what it saw', async () => {
    const wait = waitUntil(() => false, { what: 'a welcome frame', seen: () => 'queued ["reply"]', timeoutMs: 500, on: new Signal().on });
    const failed = expect(wait).rejects.toThrow('timed out after 500 ms waiting for a welcome frame\nseen: queued ["reply"]');
    await vi.advanceTimersByTimeAsync(500);
    await failed;
  });

  it('gives up as soon as the check throws', async () => {
    await expect(
      waitUntil(() => {
        throw new Error('connection closed while waiting for welcome');
      }, { what: 'x' }),
    ).rejects.toThrow('connection closed');
  });
});

describe('within', () => {
  it('settles as the promise does, or fails after the deadline', async () => {
    await expect(within(Promise.resolve(1), 100, 'one')).resolves.toBe(1);
    await expect(within(new Promise(() => {}), 20, 'never')).rejects.toThrow('timed out after 20 ms waiting for never');
  });
});
