import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserRef } from '@roomcast/protocol';
import type { RoomListQuery, Store } from '../src/store/store.js';
import { newRoom, type StoreHarness } from './store-contract.js';

// The Store contract for what the admin API reads: every room by id with a search, member counts,
// a room's members in pages, a user's room ids. Run by every implementation through the Store
// interface only. Ids are lowercase letters and digits wherever an order is asserted: SQLite
// compares bytes, PostgreSQL its locale, and those agree on them (a page's order is each
// database's own; paging only needs it to be the same from page to page).

const users: UserRef[] = ['u-a', 'u-b', 'u-c', 'u-d', 'u-e'].map((id) => ({ id, name: id.toUpperCase() }));

const sorted = (ids: string[]) => [...ids].sort();

export function adminContract(name: string, open: () => Promise<StoreHarness>): void {
  describe(`Store contract, admin reads: ${name}`, () => {
    let harness: StoreHarness;
    let store: Store;

    beforeEach(async () => {
      harness = await open();
      store = harness.store;
      for (const u of users) await store.upsertUser(u);
    });

    afterEach(async () => {
      await store.close();
      await harness.cleanup();
    });

    /** Every page of a listing, each at most `limit`, following `after` from the last id. */
    async function allPages(query: Omit<RoomListQuery, 'after' | 'limit'>, limit: number): Promise<string[][]> {
      const pages: string[][] = [];
      let after: string | undefined;
      for (;;) {
        const page = (await store.listRooms({ ...query, limit, after })).map((r) => r.id);
        expect(page.length).toBeLessThanOrEqual(limit);
        if (page.length === 0) return pages;
        pages.push(page);
        after = page.at(-1);
        if (pages.length > 1000) throw new Error('listRooms never ends');
      }
    }

    it('lists every room by id, private and direct ones too, page by page', async () => {
      const ids = ['b1', 'a2', 'c3', 'a1', 'dm0'];
      for (const id of ids) {
        const patch = id === 'a2' ? { visibility: 'private' as const } : id === 'dm0' ? { direct: true, visibility: 'private' as const, owner: null } : {};
        expect(await store.createRoom(newRoom(id, { title: `Room ${id}`, ...patch }))).toBe(true);
      }
      const first = await store.listRooms({ limit: 2 });
      expect(first.map((r) => r.id)).toEqual(['a1', 'a2']);
      // Whole records, as getRoom gives them.
      expect(first[1]).toEqual(await store.getRoom('a2'));
      expect(await allPages({}, 2)).toEqual([['a1', 'a2'], ['b1', 'c3'], ['dm0']]);
      expect((await store.listRooms({ limit: 50, after: 'b1' })).map((r) => r.id)).toEqual(['c3', 'dm0']);
      // An `after` that is no room's id still pages from where it would sort.
      expect((await store.listRooms({ limit: 50, after: 'b' })).map((r) => r.id)).toEqual(['b1', 'c3', 'dm0']);
      expect(await store.listRooms({ limit: 50, after: 'zzz' })).toEqual([]);
      expect((await store.listRooms({ limit: 50, q: '' })).length).toBe(5);
    });

    it('filters by a substring of the id or the title, in any case', async () => {
      await store.createRoom(newRoom('OpsTeam', { title: null }));
      await store.createRoom(newRoom('r1', { title: 'Design Review' }));
      await store.createRoom(newRoom('r2', { title: 'weekly DESIGN sync' }));
      await store.createRoom(newRoom('r3', { title: 'Lunch' }));
      await store.createRoom(newRoom('r4', { title: '设计评审' }));
      const ids = async (q: string) => sorted((await store.listRooms({ q, limit: 50 })).map((r) => r.id));
      expect(await ids('design')).toEqual(['r1', 'r2']);
      expect(await ids('DeSiGn')).toEqual(['r1', 'r2']);
      expect(await ids('ops')).toEqual(['OpsTeam']);
      expect(await ids('r')).toEqual(['r1', 'r2', 'r3', 'r4']);
      expect(await ids('评审')).toEqual(['r4']);
      expect(await ids('nothing')).toEqual([]);
    });

    it('matches %, _ and \\ literally, not as wildcards', async () => {
      await store.createRoom(newRoom('p1', { title: '100% off' }));
      await store.createRoom(newRoom('p2', { title: '100 percent' }));
      await store.createRoom(newRoom('p3', { title: 'a_b' }));
      await store.createRoom(newRoom('p4', { title: 'axb' }));
      await store.createRoom(newRoom('p5', { title: 'back\\slash' }));
      await store.createRoom(newRoom('x_y', { title: null }));
      await store.createRoom(newRoom('xzy', { title: null }));
      const ids = async (q: string) => sorted((await store.listRooms({ q, limit: 50 })).map((r) => r.id));
      expect(await ids('%')).toEqual(['p1']);
      expect(await ids('100%')).toEqual(['p1']);
      expect(await ids('a_b')).toEqual(['p3']);
      expect(await ids('_')).toEqual(['p3', 'x_y']);
      expect(await ids('x_y')).toEqual(['x_y']);
      expect(await ids('\\')).toEqual(['p5']);
      expect(await ids('%%')).toEqual([]);
    });

    it('pages a filtered listing without losing or repeating a room', async () => {
      for (let i = 0; i < 30; i++) await store.createRoom(newRoom(`k${String(i).padStart(2, '0')}`, { title: i % 3 === 0 ? 'Match here' : 'other' }));
      const pages = await allPages({ q: 'match' }, 4);
      expect(pages.map((p) => p.length)).toEqual([4, 4, 2]);
      expect(pages.flat()).toEqual(Array.from({ length: 10 }, (_, i) => `k${String(i * 3).padStart(2, '0')}`));
    });

    it('lists 10,000 rooms in pages of 200, each room once, in id order', async () => {
      const n = 10_000;
      const ids = Array.from({ length: n }, (_, i) => `room${String(i).padStart(5, '0')}`);
      // Ten at a time: PostgreSQL's pool has ten connections.
      for (let i = 0; i < n; i += 10) {
        await Promise.all(ids.slice(i, i + 10).map((id, j) => store.createRoom(newRoom(id, { title: (i + j) % 1000 === 7 ? 'needle' : null }))));
      }
      const pages = await allPages({}, 200);
      expect(pages).toHaveLength(n / 200);
      expect(pages.flat()).toEqual(ids);
      // A rare match walks the whole key, still in order and complete.
      expect((await allPages({ q: 'needle' }, 3)).flat()).toEqual(ids.filter((_, i) => i % 1000 === 7));
    }, 120_000);

    it('counts members per room', async () => {
      for (const id of ['m1', 'm2', 'm3']) await store.createRoom(newRoom(id));
      for (const u of users.slice(0, 3)) await store.addMember('m1', u.id, null, 1);
      await store.addMember('m2', users[0]!.id, null, 1);
      const counts = await store.memberCounts(['m1', 'm2', 'm3', 'missing']);
      expect([...counts].sort()).toEqual([
        ['m1', 3],
        ['m2', 1],
      ]);
      expect((await store.memberCounts([])).size).toBe(0);
      await store.removeMember('m1', users[1]!.id);
      expect((await store.memberCounts(['m1'])).get('m1')).toBe(2);
    });

    it('lists a room\'s members in the order they joined, page by page', async () => {
      await store.createRoom(newRoom('team'));
      // u-c and u-a joined in the same ms: still in the order they joined (u-a's begins a ms later).
      const joins: Array<[string, number]> = [['u-d', 5], ['u-c', 10], ['u-a', 10], ['u-e', 20], ['u-b', 30]];
      for (const [id, at] of joins) await store.addMember('team', id, null, at);
      const order = ['u-d', 'u-c', 'u-a', 'u-e', 'u-b'];
      expect((await store.listMembers('team')).map((m) => m.id)).toEqual(order);
      const first = await store.listMembers('team', { limit: 2 });
      expect(first).toEqual([
        { id: 'u-d', name: 'U-D', readSeq: 0, joinedAt: 5, role: 'member' },
        { id: 'u-c', name: 'U-C', readSeq: 0, joinedAt: 10, role: 'member' },
      ]);
      const pages: string[][] = [];
      let after: { joinedAt: number; id: string } | undefined;
      for (;;) {
        const page = await store.listMembers('team', { limit: 2, after });
        if (page.length === 0) break;
        pages.push(page.map((m) => m.id));
        const last = page.at(-1)!;
        after = { joinedAt: last.joinedAt, id: last.id };
      }
      expect(pages).toEqual([['u-d', 'u-c'], ['u-a', 'u-e'], ['u-b']]);
      expect(await store.listMembers('nope', { limit: 5 })).toEqual([]);
    });

    it('gives the ids of a user\'s rooms, ordered by id, at most limit', async () => {
      for (const id of ['z9', 'a1', 'm5', 'q0']) await store.createRoom(newRoom(id));
      for (const id of ['z9', 'a1', 'm5']) await store.addMember(id, 'u-a', null, 1);
      await store.addMember('q0', 'u-b', null, 1);
      expect(await store.memberRoomIds('u-a', 200)).toEqual(['a1', 'm5', 'z9']);
      expect(await store.memberRoomIds('u-a', 2)).toEqual(['a1', 'm5']);
      expect(await store.memberRoomIds('u-nobody', 200)).toEqual([]);
    });
  });
}
