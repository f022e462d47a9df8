import { describe, expect, it } from 'vitest';
import { RESUME_REFILL_MS, RESUME_WINDOW_MS, ResumeBudgets } from '../../src/core/limits.js';

// The per-user resume budget on a fake clock: reserved at welcome, spent per frame within the
// window, the unspent rest returned, refilled over RESUME_REFILL_MS, and forgotten once full.

describe('ResumeBudgets', () => {
  it('reserves the budget once: a second connection of the user gets only what refilled', () => {
    const r = new ResumeBudgets(200, 0);
    const a = {};
    const b = {};
    expect(r.reserve(a, 'u1', 200, 0)).toBe(200);
    expect(r.reserve(b, 'u1', 200, 0)).toBe(0);
    // A quarter of the refill time later, a quarter of the budget.
    const c = {};
    expect(r.reserve(c, 'u1', 200, RESUME_REFILL_MS / 4)).toBe(50);
    // Another user is not affected.
    expect(r.reserve({}, 'u2', 200, 0)).toBe(200);
  });

  it('spends only within the window, and gives back what was not spent', () => {
    const r = new ResumeBudgets(200, 0);
    const a = {};
    expect(r.reserve(a, 'u1', 200, 0)).toBe(200);
    let spent = 0;
    while (r.take(a, 1)) spent++;
    expect(spent).toBe(200);
    const b = {};
    expect(r.reserve(b, 'u1', 200, 1)).toBe(0);
    expect(r.take(b, 2)).toBe(false);

    const c = {};
    const r2 = new ResumeBudgets(200, 0);
    expect(r2.reserve(c, 'u1', 200, 0)).toBe(200);
    for (let i = 0; i < 50; i++) expect(r2.take(c, 0)).toBe(true);
    expect(r2.take(c, RESUME_WINDOW_MS)).toBe(false); // window over: the 150 left go back
    expect(r2.reserve({}, 'u1', 200, RESUME_WINDOW_MS)).toBe(Math.floor(150 + (RESUME_WINDOW_MS * 200) / RESUME_REFILL_MS));
  });

  it('returns the unspent rest when the connection closes, and forgets users whose budget is full', () => {
    const r = new ResumeBudgets(200, 0);
    const a = {};
    r.reserve(a, 'u1', 200, 0);
    for (let i = 0; i < 10; i++) r.take(a, 0);
    r.release(a, 0);
    expect(r.size).toBe(1); // 190 of 200: still tracked
    expect(r.reserve({}, 'u1', 200, 0)).toBe(190);
    // A user who comes back after the budget refilled is not kept; a sweep drops the rest.
    for (let i = 0; i < 1000; i++) r.reserve({}, `v${i}`, 1, 1);
    expect(r.size).toBe(1001);
    r.reserve({}, 'late', 1, 2 * RESUME_REFILL_MS);
    expect(r.size).toBe(1);
  });

  it('grants nothing when off', () => {
    const r = new ResumeBudgets(0, 0);
    expect(r.reserve({}, 'u1', 200, 0)).toBe(0);
  });
});
