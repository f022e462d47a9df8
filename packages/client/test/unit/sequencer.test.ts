import { describe, expect, it } from 'vitest';
import { Sequencer } from '../../src/sequencer.js';

describe('Sequencer', () => {
  it('lets each seq through once, in order', () => {
    const s = new Sequencer<string>();
    expect(s.offer(1, 'a')).toEqual(['a']);
    expect(s.offer(2, 'b')).toEqual(['b']);
    expect(s.offer(2, 'b again')).toBeNull();
    expect(s.offer(1, 'a again')).toBeNull();
    expect(s.lastSeq).toBe(2);
  });

  it('holds messages after a gap and releases them in order once it fills', () => {
    const s = new Sequencer<string>(10);
    expect(s.offer(13, 'c')).toEqual([]);
    expect(s.offer(12, 'b')).toEqual([]);
    expect(s.offer(13, 'c twice')).toBeNull();
    expect(s.gap).toEqual({ from: 11, to: 11 });
    expect(s.waiting).toBe(2);
    expect(s.offer(11, 'a')).toEqual(['a', 'b', 'c']);
    expect(s.gap).toBeNull();
    expect(s.lastSeq).toBe(13);
  });

  it('reports the first missing range', () => {
    const s = new Sequencer<string>(0);
    s.offer(5, 'e');
    s.offer(9, 'i');
    expect(s.gap).toEqual({ from: 1, to: 4 });
  });

  it('skips what cannot be had and delivers what follows', () => {
    const s = new Sequencer<string>(0);
    s.offer(4, 'd');
    s.offer(5, 'e');
    s.offer(8, 'h');
    expect(s.skipTo(3)).toEqual(['d', 'e']);
    expect(s.gap).toEqual({ from: 6, to: 7 });
    expect(s.skipTo(2)).toEqual([]); // never backwards
    expect(s.lastSeq).toBe(5);
  });

  it('skipping past held items releases them in order instead of dropping them', () => {
    const s = new Sequencer<string>(0);
    s.offer(3, 'c');
    s.offer(5, 'e');
    s.offer(6, 'f');
    s.offer(9, 'i');
    // 1, 2 and 4 are gone for good: 3 is released, then 5 and 6 follow without a gap.
    expect(s.skipTo(4)).toEqual(['c', 'e', 'f']);
    expect(s.lastSeq).toBe(6);
    expect(s.gap).toEqual({ from: 7, to: 8 });
  });

  it('resets to a position, also backwards, keeping only later held items', () => {
    const s = new Sequencer<string>(0);
    s.offer(48, 'x');
    s.offer(51, 'y');
    expect(s.reset(50)).toEqual(['y']);
    expect(s.lastSeq).toBe(51);
    expect(s.reset(3)).toEqual([]);
    expect(s.offer(4, 'new 4')).toEqual(['new 4']);
  });
});
