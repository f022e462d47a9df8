import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Pacer } from '../../src/pacer.js';

describe('Pacer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('writes at once without a rate limit', () => {
    const out: string[] = [];
    const p = new Pacer(0, (f) => out.push(f as string));
    for (let i = 0; i < 100; i++) p.push(`f${i}`);
    expect(out).toHaveLength(100);
  });

  it('allows a burst of one second of budget, then paces in order', () => {
    const out: string[] = [];
    const p = new Pacer(10, (f) => out.push(f as string));
    for (let i = 0; i < 25; i++) p.push(`f${i}`);
    expect(out).toHaveLength(10);
    expect(p.queued).toBe(15);
    vi.advanceTimersByTime(500);
    expect(out).toHaveLength(15);
    vi.advanceTimersByTime(1000);
    expect(out).toEqual(Array.from({ length: 25 }, (_, i) => `f${i}`));
    // Over any one second after the burst, never more than the rate.
    p.push('late');
    expect(out.at(-1)).toBe('f24');
    vi.advanceTimersByTime(100);
    expect(out.at(-1)).toBe('late');
  });

  it('calls the sent callback when the frame is really written, and drops the queue on stop', () => {
    const out: string[] = [];
    const sent: string[] = [];
    const p = new Pacer(1, (f) => out.push(f as string));
    p.push('a', () => sent.push('a'));
    p.push('b', () => sent.push('b'));
    expect(sent).toEqual(['a']);
    p.stop();
    vi.advanceTimersByTime(5000);
    expect(out).toEqual(['a']);
    expect(sent).toEqual(['a']);
    p.push('c');
    expect(out).toEqual(['a']);
  });
});
