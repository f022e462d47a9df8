import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RoomInfo } from '@roomcast/protocol';
import { TokenBucket } from '../../src/core/limits.js';
import { LiveRooms, type LiveRoom } from '../../src/core/live-rooms.js';
import { Sequencer } from '../../src/core/sequencer.js';
import { Session } from '../../src/core/session.js';
import type { StoredMessage } from '../../src/store/store.js';
import { FakeConnection } from '../kit/fake-connection.js';

// The server's Sequencer, on its own: messages of a room from other nodes reach local members in
// seq order, once, whatever order (or gaps) they come in.

const info = (persist = true): RoomInfo => ({ id: 'r', title: null, capacity: null, visibility: 'public', persist, direct: false, owner: null, createdAt: 0, retention: null, receipts: true });
const frame = (seq: number, text = `m${seq}`) => ({ data: new TextEncoder().encode(JSON.stringify({ op: 'msg', room: 'r', seq, text })), binary: false, seq });
const stored = (seq: number): StoredMessage => ({ room: 'r', seq, kind: 'msg', id: `m${seq}`, from: { id: 'u', name: 'U' }, text: `stored ${seq}`, ts: 0 });

function setup(o: { persist?: boolean; lastSeq?: number; rows?: StoredMessage[]; failLoads?: number } = {}) {
  const conn = new FakeConnection('s');
  const session = new Session(conn, { id: 'me', name: 'Me', guest: true, admin: false }, new TokenBucket(0, 1, 0), { exp: null, rooms: [] });
  const rooms = new LiveRooms({
    write: (s, data, binary) => s.conn.send(data, binary),
    full: () => false,
    busy: () => false,
    behind: () => {},
    overflow: () => {},
    heldBudget: 1 << 20,
  });
  rooms.attach(session, info(o.persist ?? true), false);
  const room = rooms.get('r') as LiveRoom;
  const loads: Array<[number, number]> = [];
  const state = { lastSeq: o.lastSeq ?? 0 };
  let failures = o.failLoads ?? 0;
  const errors: unknown[] = [];
  const sequencer = new Sequencer({
    rooms,
    load: async (_room, after, upTo) => {
      loads.push([after, upTo]);
      if (failures-- > 0) throw new Error('store down');
      return (o.rows ?? []).filter((m) => m.seq > after && m.seq <= upTo);
    },
    lastSeq: async () => state.lastSeq,
    encode: (m) => new TextEncoder().encode(JSON.stringify({ op: 'msg', room: m.room, seq: m.seq, text: m.text })),
    gapMs: 100,
    onError: (err) => errors.push(err),
  });
  const delivered = () => conn.frames.map((f) => `${f.seq}:${f.text}`);
  return {
    sequencer, room, loads, errors, delivered,
    /** What the store has committed now. */
    set lastSeq(n: number) {
      state.lastSeq = n;
    },
  };
}

describe('Sequencer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('starts at the store\'s next seq and passes messages in order straight through', async () => {
    const t = setup({ lastSeq: 4 });
    await t.sequencer.start(t.room);
    expect(t.room.nextSeq).toBe(5);
    expect(t.room.deliveredSeq).toBe(4);
    t.sequencer.offer(t.room, frame(5));
    t.sequencer.offer(t.room, frame(6));
    t.sequencer.offer(t.room, frame(4)); // already before our time
    t.sequencer.offer(t.room, frame(6)); // a duplicate
    expect(t.delivered()).toEqual(['5:m5', '6:m6']);
    expect(t.loads).toEqual([]);
  });

  it('holds an early message until the ones before it come, then delivers all in order', async () => {
    const t = setup();
    await t.sequencer.start(t.room);
    t.sequencer.offer(t.room, frame(3));
    t.sequencer.offer(t.room, frame(2));
    expect(t.delivered()).toEqual([]);
    t.sequencer.offer(t.room, frame(1));
    expect(t.delivered()).toEqual(['1:m1', '2:m2', '3:m3']);
    await vi.advanceTimersByTimeAsync(500);
    expect(t.loads).toEqual([]);
  });

  it('reads a gap from the store once the early message waited gapMs, preferring live copies', async () => {
    const t = setup({ rows: [stored(1), stored(2), stored(3)] });
    await t.sequencer.start(t.room);
    t.sequencer.offer(t.room, frame(1));
    t.sequencer.offer(t.room, frame(3));
    expect(t.delivered()).toEqual(['1:m1']);
    await vi.advanceTimersByTimeAsync(99);
    expect(t.loads).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.loads).toEqual([[1, 3]]);
    expect(t.delivered()).toEqual(['1:m1', '2:stored 2', '3:m3']);
  });

  it('skips what the store cannot give (an ephemeral room) instead of waiting for ever', async () => {
    const t = setup({ persist: false, lastSeq: 0 });
    await t.sequencer.start(t.room);
    t.lastSeq = 5; // the store committed 1-5 (ephemeral: it keeps only the seq)
    t.sequencer.offer(t.room, frame(1));
    t.sequencer.offer(t.room, frame(4));
    await vi.advanceTimersByTimeAsync(100);
    expect(t.delivered()).toEqual(['1:m1', '4:m4']);
    t.sequencer.offer(t.room, frame(5));
    expect(t.delivered()).toEqual(['1:m1', '4:m4', '5:m5']);
  });

  it('retries a failed store read later; what arrives meanwhile keeps its order', async () => {
    const t = setup({ rows: [stored(2)], failLoads: 1 });
    await t.sequencer.start(t.room);
    t.sequencer.offer(t.room, frame(1));
    t.sequencer.offer(t.room, frame(3));
    await vi.advanceTimersByTimeAsync(100);
    expect(t.errors).toHaveLength(1);
    t.sequencer.offer(t.room, frame(4));
    expect(t.delivered()).toEqual(['1:m1']);
    await vi.advanceTimersByTimeAsync(100);
    expect(t.delivered()).toEqual(['1:m1', '2:stored 2', '3:m3', '4:m4']);
  });

  it('holds messages offered before start, and starting from a given seq catches up from the store', async () => {
    const t = setup({ rows: [stored(7), stored(8)], lastSeq: 8 });
    t.sequencer.offer(t.room, frame(9));
    await t.sequencer.start(t.room, 7);
    expect(t.delivered()).toEqual(['7:stored 7', '8:stored 8', '9:m9']);
    expect(t.room.nextSeq).toBe(10);
  });

  it('never skips its own seqs because of a seq beyond what the store committed (another cluster\'s)', async () => {
    const t = setup({ rows: [stored(1)], lastSeq: 0 });
    await t.sequencer.start(t.room);
    t.lastSeq = 1;
    t.sequencer.offer(t.room, frame(1));
    // Staging, on the same Redis channel, is at seq 500.
    t.sequencer.offer(t.room, frame(500, 'foreign'));
    await vi.advanceTimersByTimeAsync(100);
    expect(t.delivered()).toEqual(['1:m1']);
    expect(t.room.early.size).toBe(0);
    expect(t.room.nextSeq).toBe(2);
    // The room's own next messages still come live, in order.
    t.lastSeq = 3;
    t.sequencer.offer(t.room, frame(2));
    t.sequencer.offer(t.room, frame(3));
    expect(t.delivered()).toEqual(['1:m1', '2:m2', '3:m3']);
  });

  it('a foreign seq mixed with a real gap: fills the gap from the store, drops the foreign one', async () => {
    const t = setup({ rows: [stored(1), stored(2), stored(3)], lastSeq: 0 });
    await t.sequencer.start(t.room);
    t.lastSeq = 3;
    t.sequencer.offer(t.room, frame(1));
    t.sequencer.offer(t.room, frame(3));
    t.sequencer.offer(t.room, frame(900, 'foreign'));
    await vi.advanceTimersByTimeAsync(100);
    expect(t.delivered()).toEqual(['1:m1', '2:stored 2', '3:m3']);
    t.lastSeq = 4;
    t.sequencer.offer(t.room, frame(4));
    expect(t.delivered()).toEqual(['1:m1', '2:stored 2', '3:m3', '4:m4']);
  });
});
