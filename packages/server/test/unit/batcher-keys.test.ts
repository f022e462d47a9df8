import { describe, expect, it, vi } from 'vitest';
import { Batcher, WriteTimeoutError } from '../../src/store/batcher.js';

// The PostgreSQL side of the batcher: inputs keyed by room, "not now" results retried in
// order, and a second batch for other keys while one is stuck.

class Busy extends Error {}

interface Item {
  room: string;
  n: number;
}

describe('Batcher with keys', () => {
  it('retries a busy key in push order while the other keys go ahead, then answers its last error once the budget is spent', async () => {
    const batches: string[][] = [];
    let busyUntil = 2; // room b is busy for its first two tries
    const batcher = new Batcher<Item, string>({
      maxBatch: 100,
      keyOf: (i) => i.room,
      retryable: (e) => e instanceof Busy,
      retryForMs: 10_000,
      retryDelayMs: 5,
      write: async (inputs) => {
        batches.push(inputs.map((i) => `${i.room}${i.n}`));
        const bBusy = busyUntil-- > 0;
        return inputs.map((i) => (i.room === 'b' && bBusy ? new Busy('b is busy') : `${i.room}${i.n}`));
      },
    });
    const results = await Promise.all([{ room: 'b', n: 1 }, { room: 'a', n: 1 }, { room: 'b', n: 2 }].map((i) => batcher.push(i)));
    expect(results).toEqual(['b1', 'a1', 'b2']);
    expect(batches[0]).toEqual(['b1', 'a1', 'b2']);
    // b's inputs were tried again together, in their order, until b was free.
    expect(batches.slice(1)).toEqual([['b1', 'b2'], ['b1', 'b2']]);

    const spent = new Batcher<Item, string>({
      maxBatch: 100,
      keyOf: (i) => i.room,
      retryable: (e) => e instanceof Busy,
      retryForMs: 30,
      retryDelayMs: 5,
      write: async (inputs) => inputs.map(() => new Busy('still busy')),
    });
    await expect(spent.push({ room: 'x', n: 1 })).rejects.toThrow('still busy');
  });

  it('starts a batch of other keys once the one in flight has run overlapAfterMs, never two batches of one key', async () => {
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    const started: string[][] = [];
    const batcher = new Batcher<Item, string>({
      maxBatch: 100,
      maxInFlight: 2,
      overlapAfterMs: 20,
      keyOf: (i) => i.room,
      write: async (inputs) => {
        started.push(inputs.map((i) => `${i.room}${i.n}`));
        if (inputs.some((i) => i.room === 'stuck')) await stuck;
        return inputs.map((i) => `${i.room}${i.n}`);
      },
    });
    const first = batcher.push({ room: 'stuck', n: 1 });
    await new Promise<void>((r) => setImmediate(r));
    const later = [batcher.push({ room: 'stuck', n: 2 }), batcher.push({ room: 'free', n: 1 })];
    // The free room is written while the stuck batch still runs; stuck 2 waits behind stuck 1.
    expect(await later[1]).toBe('free1');
    expect(started).toEqual([['stuck1'], ['free1']]);
    release();
    expect(await Promise.all([first, later[0]])).toEqual(['stuck1', 'stuck2']);
    expect(started).toEqual([['stuck1'], ['free1'], ['stuck2']]);
    await batcher.drain();
  });

  it('answers a batch whose write never settles with WriteTimeoutError and frees its keys for the next batch', async () => {
    let calls = 0;
    const batcher = new Batcher<Item, string>({
      maxBatch: 100,
      keyOf: (i) => i.room,
      writeTimeoutMs: 50,
      write: (inputs) => (calls++ === 0 ? new Promise(() => {}) : Promise.resolve(inputs.map((i) => `${i.room}${i.n}`))),
    });
    await expect(batcher.push({ room: 'a', n: 1 })).rejects.toBeInstanceOf(WriteTimeoutError);
    expect(await batcher.push({ room: 'a', n: 2 })).toBe('a2');
    await batcher.drain();
  });

  it('starts retried inputs whose time comes between looking at the queue and arming the timer', async () => {
    // A retry timer may fire just before Date.now() reaches the inputs' time: the queue is looked
    // at one millisecond before it (not ready), the timer armed one after (ready, so no wait).
    let first = true;
    const batcher = new Batcher<Item, string>({
      maxBatch: 10,
      keyOf: (i) => i.room,
      retryable: (e) => e instanceof Busy,
      retryForMs: 10_000,
      retryDelayMs: 20,
      write: async (inputs) => {
        if (!first) return inputs.map((i) => `${i.room}${i.n}`);
        first = false;
        const clock = [1_000, 1_019, 1_020];
        vi.spyOn(Date, 'now').mockImplementation(() => (clock.length > 1 ? (clock.shift() as number) : (clock[0] as number)));
        return inputs.map(() => new Busy('busy'));
      },
    });
    try {
      expect(await batcher.push({ room: 'a', n: 1 })).toBe('a1');
    } finally {
      vi.restoreAllMocks();
    }
  });
});
