import { describe, expect, it } from 'vitest';
import { Batcher } from '../../src/store/batcher.js';

/** A batcher over numbers whose write records each batch; `fail` decides per item or per batch. */
function recording(opts: { maxBatch?: number; item?: (n: number) => Error | undefined; batch?: (ns: number[]) => Error | undefined } = {}) {
  const batches: number[][] = [];
  const batcher = new Batcher<number, string>({
    maxBatch: opts.maxBatch ?? 100,
    write: async (inputs) => {
      batches.push([...inputs]);
      const err = opts.batch?.(inputs);
      if (err) throw err;
      return inputs.map((n) => opts.item?.(n) ?? `r${n}`);
    },
  });
  return { batcher, batches };
}

describe('Batcher', () => {
  it('writes everything pushed in one turn as one batch, in order', async () => {
    const { batcher, batches } = recording();
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.push(n)));
    expect(results).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(batches).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('starts a new batch for pushes in a later turn', async () => {
    const { batcher, batches } = recording();
    const a = batcher.push(1);
    await a;
    const b = batcher.push(2);
    const c = batcher.push(3);
    expect(await Promise.all([b, c])).toEqual(['r2', 'r3']);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('picks up pushes made while a write is running in the next batch', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batches: number[][] = [];
    const batcher = new Batcher<number, number>({
      maxBatch: 100,
      write: async (inputs) => {
        batches.push([...inputs]);
        if (batches.length === 1) await gate;
        return inputs;
      },
    });
    const first = batcher.push(1);
    await new Promise<void>((r) => setImmediate(r)); // the turn ends: the first write starts
    expect(batches).toEqual([[1]]);
    const later = [batcher.push(2), batcher.push(3)];
    release();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('rejects only the item whose result is an Error', async () => {
    const { batcher, batches } = recording({ item: (n) => (n === 2 ? new Error('bad 2') : undefined) });
    const settled = await Promise.allSettled([1, 2, 3].map((n) => batcher.push(n)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(settled[1]).toMatchObject({ reason: { message: 'bad 2' } });
    expect(batches).toHaveLength(1);
  });

  it('rejects every item of a batch whose write throws; later batches still work', async () => {
    const boom = new Error('disk full');
    const { batcher, batches } = recording({ batch: (ns) => (ns.includes(1) ? boom : undefined) });
    const settled = await Promise.allSettled([batcher.push(1), batcher.push(2)]);
    expect(settled).toEqual([
      { status: 'rejected', reason: boom },
      { status: 'rejected', reason: boom },
    ]);
    expect(await Promise.all([batcher.push(3), batcher.push(4)])).toEqual(['r3', 'r4']);
    expect(batches).toEqual([[1, 2], [3, 4]]);
  });

  it('splits a turn larger than maxBatch into batches of at most maxBatch, keeping order', async () => {
    const { batcher, batches } = recording({ maxBatch: 4 });
    const inputs = Array.from({ length: 10 }, (_, i) => i);
    const results = await Promise.all(inputs.map((n) => batcher.push(n)));
    expect(results).toEqual(inputs.map((n) => `r${n}`));
    expect(batches).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  });

  it('drain() resolves once everything pushed so far is written', async () => {
    const { batcher } = recording({ maxBatch: 3 });
    const done = new Set<number>();
    for (let n = 0; n < 10; n++) void batcher.push(n).then(() => done.add(n));
    await batcher.drain();
    expect(done.size).toBe(10);
    await batcher.drain(); // idle: resolves at once
    expect(done.size).toBe(10);
  });
});
