import { describe, expect, it } from 'vitest';
import type { RoomInfo, UserRef } from '@roomcast/protocol';
import { PresenceGrace, type PendingLeave } from '../../src/core/presence-grace.js';

const room = (id: string): RoomInfo => ({ id, title: null, capacity: null, visibility: 'public', persist: true, direct: false, owner: null, createdAt: 1 }) as RoomInfo;
const user = (id: string): UserRef => ({ id, name: id });

/** A grace table whose expiries are recorded; `expired(n)` resolves once n have fired. */
function table(graceMs: number): { grace: PresenceGrace; fired: PendingLeave[]; expired(n: number): Promise<void> } {
  const fired: PendingLeave[] = [];
  const waiters: Array<() => void> = [];
  const grace = new PresenceGrace(graceMs, (p) => {
    fired.push(p);
    for (const w of waiters.splice(0)) w();
  });
  const expired = async (n: number): Promise<void> => {
    while (fired.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  return { grace, fired, expired };
}

describe('PresenceGrace', () => {
  it('holds nothing without a grace: the caller announces at once', () => {
    const { grace } = table(0);
    expect(grace.hold(room('r'), user('u'))).toBe(false);
    expect(grace.size).toBe(0);
  });

  it("keeps one unref'd timer per room and user, gone once taken", () => {
    const { grace } = table(60_000);
    expect(grace.hold(room('r'), user('u'))).toBe(true);
    expect(grace.hold(room('r'), user('v'))).toBe(true);
    expect(grace.hold(room('s'), user('u'))).toBe(true);
    expect(grace.size).toBe(3);
    const p = grace.take('r', 'u');
    expect(p?.user.id).toBe('u');
    // It never kept the process alive, and taking it cleared it.
    expect(p?.timer.hasRef()).toBe(false);
    expect(grace.take('r', 'u')).toBeUndefined();
    expect(grace.takeRoom('r').map((q) => q.user.id)).toEqual(['v']);
    expect(grace.size).toBe(1);
  });

  it('expires an entry once, after the grace, and forgets it', async () => {
    const { grace, fired, expired } = table(20);
    grace.hold(room('r'), user('u'));
    // A second hold of the same user replaces the first timer rather than adding one.
    grace.hold(room('r'), user('u'));
    expect(grace.size).toBe(1);
    grace.hold(room('r'), user('gone'));
    expect(grace.take('r', 'gone')).toBeDefined();
    await expired(1);
    expect(fired.map((p) => [p.room.id, p.user.id])).toEqual([['r', 'u']]);
    expect(grace.size).toBe(0);
  });

  it('hands every pending entry back when stopped, and holds nothing after', () => {
    const { grace, fired } = table(60_000);
    grace.hold(room('r'), user('u'));
    grace.hold(room('s'), user('v'));
    expect(grace.stop().map((p) => p.user.id).sort()).toEqual(['u', 'v']);
    expect(grace.size).toBe(0);
    expect(grace.hold(room('r'), user('u'))).toBe(false);
    expect(fired).toEqual([]);
  });
});
