import { describe, expect, it } from 'vitest';
import { ROOM_ID_PATTERN } from '@roomcast/protocol';
import { DIRECT_PREFIX, directRoomId, newMessageId, newRoomId, newSessionId, newUserId, randomId } from '../../src/core/ids.js';

const BASE32 = '0123456789abcdefghjkmnpqrstvwxyz';
const roomIdRe = new RegExp(ROOM_ID_PATTERN);

describe('ids', () => {
  it('randomId gives n characters of the lower-case Crockford base32 alphabet', () => {
    expect(randomId(0)).toBe('');
    const sample = Array.from({ length: 200 }, () => randomId(50)).join('');
    expect(sample).toHaveLength(10_000);
    expect(sample).toMatch(/^[0-9a-hjkmnp-tv-z]+$/);
    // Every letter of the alphabet turns up in 10,000 draws; none outside it.
    expect(new Set(sample)).toEqual(new Set(BASE32));
  });

  it('formats room, user, session and message ids', () => {
    expect(newRoomId()).toMatch(/^r-[0-9a-z]{12}$/);
    expect(newUserId()).toMatch(/^u_[0-9a-z]{16}$/);
    expect(newSessionId()).toMatch(/^s_[0-9a-z]{16}$/);
    expect(newMessageId()).toMatch(/^m_[0-9a-z]{16}$/);
    expect(newRoomId()).toMatch(roomIdRe);
  });

  it('newRoomId does not repeat over 10,000 draws', () => {
    const ids = new Set(Array.from({ length: 10_000 }, newRoomId));
    expect(ids.size).toBe(10_000);
  });

  it('directRoomId is symmetric, distinct per pair, and a valid room id', () => {
    const ab = directRoomId('u_alice', 'u_bob');
    expect(directRoomId('u_bob', 'u_alice')).toBe(ab);
    expect(ab).toMatch(/^dm-[0-9a-f]{32}$/);
    expect(ab.startsWith(DIRECT_PREFIX)).toBe(true);
    expect(ab).toMatch(roomIdRe);

    const users = ['u_a', 'u_b', 'u_c', 'u_ab', 'u_bc', 'u_'];
    const seen = new Map<string, string>();
    for (const x of users) {
      for (const y of users) {
        if (x >= y) continue;
        const id = directRoomId(x, y);
        expect(seen.get(id), `${x}/${y} collides`).toBeUndefined();
        seen.set(id, `${x}/${y}`);
      }
    }
    expect(seen.size).toBe(15);
  });
});
