import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Emitter } from '../../src/emitter.js';

interface Events {
  tick: { n: number };
  tock: { s: string };
}

describe('Emitter', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('passes one context object; on() returns an unsubscribe for that listener only', () => {
    const e = new Emitter<Events>();
    const a: number[] = [];
    const b: number[] = [];
    const offA = e.on('tick', ({ n }) => a.push(n));
    e.on('tick', ({ n }) => b.push(n));
    e.emit('tick', { n: 1 });
    offA();
    offA(); // twice is harmless
    e.emit('tick', { n: 2 });
    expect(a).toEqual([1]);
    expect(b).toEqual([1, 2]);
    expect(e.count('tick')).toBe(1);
    expect(e.count('tock')).toBe(0);
  });

  it('keeps calling the other listeners when one throws, and rethrows on a fresh stack', () => {
    const e = new Emitter<Events>();
    const seen: string[] = [];
    e.on('tock', () => {
      throw new Error('listener bug');
    });
    e.on('tock', ({ s }) => seen.push(s));
    expect(() => e.emit('tock', { s: 'x' })).not.toThrow();
    expect(seen).toEqual(['x']);
    expect(() => vi.runAllTimers()).toThrow('listener bug');
  });

  it('lets a listener unsubscribe itself or others while the event is being delivered', () => {
    const e = new Emitter<Events>();
    const seen: string[] = [];
    const off1 = e.on('tick', () => {
      seen.push('1');
      off1();
      off2();
    });
    const off2 = e.on('tick', () => seen.push('2'));
    e.emit('tick', { n: 0 });
    e.emit('tick', { n: 0 });
    expect(seen).toEqual(['1', '2']);
  });
});
