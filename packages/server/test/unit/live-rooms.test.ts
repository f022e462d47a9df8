import { describe, expect, it } from 'vitest';
import type { RoomInfo } from '@roomcast/protocol';
import { TokenBucket } from '../../src/core/limits.js';
import { LiveRooms, type LiveRoom } from '../../src/core/live-rooms.js';
import { Session, type Connection } from '../../src/core/session.js';

/** A Connection that records what is written to it. */
class FakeConnection implements Connection {
  readonly sent: string[] = [];
  bufferedAmount = 0;
  taken = 0;
  isOpen = true;
  constructor(readonly id: string) {}
  /** With `unread`, everything sent stays in the buffer (a reader that stopped). */
  unread = false;
  send(data: Uint8Array, binary: boolean): void {
    this.sent.push(binary ? `bin:${data.length}` : new TextDecoder().decode(data));
    if (this.unread) this.bufferedAmount += data.byteLength;
  }
  close(): void {
    this.isOpen = false;
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
}

function session(id: string, userId: string): Session & { conn: FakeConnection } {
  const conn = new FakeConnection(id);
  return new Session(conn, { id: userId, name: userId, guest: true, admin: false }, new TokenBucket(0, 1, 0), { exp: null, rooms: [] }) as Session & { conn: FakeConnection };
}

const info = (id: string): RoomInfo => ({ id, title: null, capacity: null, visibility: 'public', persist: true, direct: false, owner: null, createdAt: 0, retention: null, receipts: true });
const text = (s: string) => ({ data: new TextEncoder().encode(s), binary: false });

/** LiveRooms with a policy whose stream limit is `limit` buffered bytes; records who fell behind. */
function setup(limit = 1000) {
  const behind: Array<{ session: string; room: string; after: number }> = [];
  const overflowed: string[] = [];
  const rooms = new LiveRooms({
    write: (s, data, binary) => s.conn.send(data, binary),
    full: (s, size) => s.conn.bufferedAmount > 0 && s.conn.bufferedAmount + size > limit,
    busy: (s) => s.conn.bufferedAmount > limit,
    behind: (s: Session, room: LiveRoom, after: number) => behind.push({ session: s.id, room: room.info.id, after }),
    overflow: (s) => overflowed.push(s.id),
    heldBudget: limit,
  });
  return Object.assign(rooms, { behind, overflowed });
}

describe('LiveRooms', () => {
  it('delivers to every live session of the room, bar exceptSession and exceptUser', () => {
    const rooms = setup();
    const a1 = session('s-a1', 'alice');
    const a2 = session('s-a2', 'alice');
    const b = session('s-b', 'bob');
    const outsider = session('s-o', 'olga');
    for (const s of [a1, a2, b]) rooms.attach(s, info('r'), false);
    rooms.attach(outsider, info('elsewhere'), false);

    rooms.deliver('r', text('all'));
    rooms.deliver('r', { ...text('not a1'), exceptSession: 's-a1' });
    rooms.deliver('r', { ...text('not alice'), exceptUser: 'alice' });
    rooms.deliver('r', { data: new Uint8Array(7), binary: true });
    rooms.deliver('nobody-here', text('lost'));

    expect(a1.conn.sent).toEqual(['all', 'bin:7']);
    expect(a2.conn.sent).toEqual(['all', 'not a1', 'bin:7']);
    expect(b.conn.sent).toEqual(['all', 'not a1', 'not alice', 'bin:7']);
    expect(outsider.conn.sent).toEqual([]);
  });

  it('holds events for a joining session; goLive sends them in order, skipping seq <= sentUpTo', () => {
    const rooms = setup();
    const live = session('s-live', 'bob');
    const joiner = session('s-j', 'alice');
    rooms.attach(live, info('r'), false);
    rooms.attach(joiner, info('r'), true);

    rooms.deliver('r', { ...text('msg 4'), seq: 4 });
    rooms.deliver('r', text('typing'));
    rooms.deliver('r', { ...text('msg 5'), seq: 5 });
    rooms.deliver('r', { ...text('msg 6'), seq: 6 });
    rooms.deliver('r', { ...text('own echo'), seq: 7, exceptUser: 'alice' });
    expect(joiner.conn.sent).toEqual([]);
    expect(live.conn.sent).toEqual(['msg 4', 'typing', 'msg 5', 'msg 6', 'own echo']);

    // The backlog went up to seq 5: 4 and 5 were in it; events without a seq always pass.
    expect(rooms.goLive(joiner, 'r', 5, rooms.held(joiner, 'r')!)).toBeNull();
    expect(joiner.conn.sent).toEqual(['typing', 'msg 6']);

    rooms.deliver('r', { ...text('msg 8'), seq: 8 });
    expect(joiner.conn.sent).toEqual(['typing', 'msg 6', 'msg 8']);
    expect(rooms.get('r')?.joining.size).toBe(0);
    expect(rooms.get('r')?.live.size).toBe(2);
  });

  it('reports the first and last session of a user, and the room going away with the last one', () => {
    const rooms = setup();
    const a1 = session('s-a1', 'alice');
    const a2 = session('s-a2', 'alice');
    const b = session('s-b', 'bob');

    expect(rooms.attach(a1, info('r'), false)).toEqual({ firstForUser: true, newRoom: true });
    expect(rooms.attach(a2, info('r'), true)).toEqual({ firstForUser: false, newRoom: false });
    expect(rooms.attach(a1, info('r'), false)).toEqual({ firstForUser: false, newRoom: false }); // again: no double count
    expect(rooms.attach(b, info('r'), false)).toEqual({ firstForUser: true, newRoom: false });
    expect(rooms.sessionsOf('r', 'alice').map((s) => s.id).sort()).toEqual(['s-a1', 's-a2']);
    expect(a1.rooms.has('r')).toBe(true);

    expect(rooms.detach(a1, 'r')).toEqual({ lastForUser: false, roomGone: false, wasAttached: true });
    expect(rooms.detach(a1, 'r')).toEqual({ lastForUser: false, roomGone: false, wasAttached: false });
    expect(a1.rooms.has('r')).toBe(false);
    expect(rooms.detach(a2, 'r')).toEqual({ lastForUser: true, roomGone: false, wasAttached: true });
    expect(rooms.count).toBe(1);
    expect(rooms.detach(b, 'r')).toEqual({ lastForUser: true, roomGone: true, wasAttached: true });
    expect(rooms.count).toBe(0);
    expect(rooms.get('r')).toBeUndefined();
    expect(rooms.detach(b, 'r')).toEqual({ lastForUser: false, roomGone: false, wasAttached: false });
  });

  it('goLive for a session that closed while joining still lets detach free the user and the room', () => {
    // The race in Chat: a session closes while its backlog is streamed; joinAndStream's `finally`
    // calls goLive before close() reaches this room and calls detach.
    const rooms = setup();
    const s = session('s-a', 'alice');
    rooms.attach(s, info('r'), true);
    rooms.deliver('r', { ...text('held'), seq: 1 });
    s.closed = true;
    rooms.goLive(s, 'r', 0, rooms.held(s, 'r')!);
    expect(rooms.get('r')?.live.has(s) ?? false).toBe(false);

    expect(rooms.detach(s, 'r')).toEqual({ lastForUser: true, roomGone: true, wasAttached: true });
    expect(rooms.count).toBe(0);
  });

  it('a member whose socket cannot take the next stored message falls behind instead of being written to', () => {
    const rooms = setup(100);
    const fast = session('s-fast', 'bob');
    const slow = session('s-slow', 'alice');
    rooms.attach(fast, info('r'), false);
    rooms.attach(slow, info('r'), false);
    slow.conn.unread = true;
    const big = (seq: number) => ({ data: new Uint8Array(60), binary: false, seq });

    rooms.deliver('r', big(1));
    rooms.deliver('r', big(2)); // 60 buffered + 60 > 100: alice falls behind at seq 2
    rooms.deliver('r', big(3));
    rooms.deliver('r', text('presence'));
    expect(fast.conn.sent).toHaveLength(4);
    expect(slow.conn.sent).toHaveLength(1);
    expect(rooms.behind).toEqual([{ session: 's-slow', room: 'r', after: 1 }]);
    // Held for the catch-up: no stream events (the store has them), the presence event in order.
    const hold = rooms.held(slow, 'r')!;
    expect(hold.dropped).toBe(true);
    expect(hold.items.map((q) => new TextDecoder().decode(q.data))).toEqual(['presence']);
  });

  it('a typing hint skips a member with a backlog to get through; an ephemeral room\'s messages are never left to the store', () => {
    const rooms = setup(100);
    const slow = session('s-slow', 'alice');
    rooms.attach(slow, { ...info('pop'), persist: false }, false);
    slow.conn.bufferedAmount = 150;
    rooms.deliver('pop', { ...text('typing'), droppable: true });
    rooms.deliver('pop', { ...text('msg'), seq: 1 });
    expect(slow.conn.sent).toEqual(['msg']);
    expect(rooms.behind).toEqual([]);
  });

  it('a hold drops stream events past its budget (the catch-up reads them), and closes the member when other events overflow', () => {
    const rooms = setup(100);
    const s = session('s-a', 'alice');
    rooms.attach(s, info('r'), true);
    const hold = rooms.held(s, 'r')!;
    rooms.deliver('r', { data: new Uint8Array(60), binary: false, seq: 1 });
    rooms.deliver('r', { data: new Uint8Array(60), binary: false, seq: 2 });
    expect(hold.items).toHaveLength(1);
    expect(hold.dropped).toBe(true);
    rooms.deliver('r', { data: new Uint8Array(60), binary: false, seq: 3 });
    expect(hold.items).toHaveLength(1);
    // Events the store cannot give again are kept, up to twice the budget.
    for (let i = 0; i < 2; i++) rooms.deliver('r', { data: new Uint8Array(60), binary: false });
    expect(rooms.overflowed).toEqual([]);
    rooms.deliver('r', { data: new Uint8Array(60), binary: false });
    expect(rooms.overflowed).toEqual(['s-a']);
  });

  it('goLive stops where the socket fills up and says where to catch up from; a newer hold wins', () => {
    const rooms = setup(100);
    const s = session('s-a', 'alice');
    rooms.attach(s, info('r'), true);
    const first = rooms.held(s, 'r')!;
    s.conn.unread = true;
    rooms.deliver('r', { data: new Uint8Array(40), binary: false, seq: 11 });
    rooms.deliver('r', { data: new Uint8Array(40), binary: false, seq: 12 });
    rooms.deliver('r', text('after 12'));
    s.conn.bufferedAmount = 50;
    // 50 + 40 fits, then 90 + 40 does not: live from 12 on must come from the store.
    expect(rooms.goLive(s, 'r', 10, first)).toBe(11);
    const second = rooms.held(s, 'r')!;
    expect(second).not.toBe(first);
    expect(second.dropped).toBe(true);
    expect(second.items.map((q) => new TextDecoder().decode(q.data))).toEqual(['after 12']);
    // The old hold's catch-up is over: its goLive does nothing.
    expect(rooms.goLive(s, 'r', 20, first)).toBeNull();
    expect(rooms.held(s, 'r')).toBe(second);
    // A second join replaces the hold too.
    rooms.attach(s, info('r'), true);
    expect(rooms.held(s, 'r')).not.toBe(second);
  });
});
