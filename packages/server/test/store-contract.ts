import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserRef } from '@roomcast/protocol';
import type { AppendInput, AppendResult, NewRoom, Store } from '../src/store/store.js';

// The Store contract: every implementation (SQLite embedded, PostgreSQL cluster) runs this suite.
// Nothing here may depend on one database: only the `Store` interface is used.

export interface StoreHarness {
  /** A migrated, empty store. */
  store: Store;
  /**
   * Opens a new Store on the same data (restart). The suite closes the previous store first.
   * Tests that need it are skipped for a harness without it.
   */
  reopen?: () => Promise<Store>;
  /** Frees what the store kept (files, schema); runs after the suite closed the store. */
  cleanup: () => Promise<void>;
}

const alice: UserRef = { id: 'u-alice', name: 'Alice' };
const bob: UserRef = { id: 'u-bob', name: 'Bob' };
const carol: UserRef = { id: 'u-carol', name: 'Carol' };
const dave: UserRef = { id: 'u-dave', name: 'Dave' };

/** A public, persisted room owned by `u-alice` (the contract suites' rooms). */
export function newRoom(id: string, patch: Partial<NewRoom> = {}): NewRoom {
  return { id, title: null, capacity: null, visibility: 'public', persist: true, direct: false, owner: alice.id, createdAt: 1_000, retention: null, receipts: true, ...patch };
}

let counter = 0;
function msg(room: string, from: UserRef, patch: Partial<AppendInput> = {}): AppendInput {
  counter++;
  return { room, persist: true, from, msgId: `m-${counter}`, text: `text ${counter}`, ts: 10_000 + counter, ...patch };
}

const seqs = (list: Array<{ seq: number }>): number[] => list.map((m) => m.seq);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

export function storeContract(name: string, open: () => Promise<StoreHarness>): void {
  describe(`Store contract: ${name}`, () => {
    let harness: StoreHarness;
    let store: Store;
    let isOpen = false;

    beforeEach(async () => {
      harness = await open();
      store = harness.store;
      isOpen = true;
    });

    afterEach(async () => {
      if (isOpen) await store.close();
      isOpen = false;
      await harness.cleanup();
    });

    /** Closes the store and opens it again on the same data. */
    async function restart(reopen: () => Promise<Store>): Promise<void> {
      await store.close();
      isOpen = false;
      store = await reopen();
      isOpen = true;
    }

    /** Creates public rooms and returns their ids. */
    async function rooms(...ids: string[]): Promise<string[]> {
      for (const id of ids) expect(await store.createRoom(newRoom(id))).toBe(true);
      return ids;
    }

    it('answers ping, and migrate is idempotent', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      await rooms('keep');
      await store.migrate();
      expect(await store.getRoom('keep')).not.toBeNull();
    });

    it('keeps the first shared secret it is given under a name', async () => {
      expect(await store.sharedSecret('k', 'first')).toBe('first');
      expect(await store.sharedSecret('k', 'second')).toBe('first');
      // Concurrent first calls (two nodes starting at once) agree on one value.
      const both = await Promise.all([store.sharedSecret('j', 'a'), store.sharedSecret('j', 'b')]);
      expect(both[0]).toBe(both[1]);
    });

    describe('users', () => {
      it('upserts and gets users; an upsert renames', async () => {
        expect(await store.getUser(alice.id)).toBeNull();
        await store.upsertUser(alice);
        await store.upsertUser(bob);
        expect(await store.getUser(alice.id)).toEqual(alice);
        await store.upsertUser({ id: alice.id, name: 'Alicia' });
        expect(await store.getUser(alice.id)).toEqual({ id: alice.id, name: 'Alicia' });
        expect(await store.getUser(bob.id)).toEqual(bob);
      });
    });

    describe('rooms', () => {
      it('creates a room once; a duplicate id returns false and changes nothing', async () => {
        const room = newRoom('lobby', { title: 'Lobby', capacity: 10, visibility: 'private', owner: bob.id, createdAt: 1234 });
        expect(await store.createRoom(room)).toBe(true);
        expect(await store.createRoom(newRoom('lobby', { title: 'Other' }))).toBe(false);
        expect(await store.getRoom('lobby')).toEqual({ ...room, lastSeq: 0 });
        expect(await store.getRoom('nope')).toBeNull();
      });

      it('round-trips every room field', async () => {
        const dm = newRoom('dm-x', { visibility: 'private', persist: true, direct: true, owner: null });
        const eph = newRoom('eph', { persist: false, capacity: 2, title: 'Temp' });
        await store.createRoom(dm);
        await store.createRoom(eph);
        expect(await store.getRoom('dm-x')).toEqual({ ...dm, lastSeq: 0 });
        expect(await store.getRoom('eph')).toEqual({ ...eph, lastSeq: 0 });
      });

      it('updates title and capacity, including back to null', async () => {
        await rooms('r');
        expect(await store.updateRoom('r', { title: 'New', capacity: 5 })).toMatchObject({ id: 'r', title: 'New', capacity: 5 });
        expect(await store.updateRoom('r', { capacity: null })).toMatchObject({ title: 'New', capacity: null });
        expect(await store.updateRoom('r', { title: null })).toMatchObject({ title: null, capacity: null });
        expect(await store.updateRoom('r', {})).toMatchObject({ id: 'r', title: null });
        expect(await store.getRoom('r')).toMatchObject({ title: null, capacity: null });
        expect(await store.updateRoom('missing', { title: 'x' })).toBeNull();
      });

      it('tells when a membership began, a new one after leaving and coming back', async () => {
        await rooms('since');
        await store.upsertUser(alice);
        expect(await store.memberSince('since', alice.id)).toBeNull();
        await store.addMember('since', alice.id, null, 1_000);
        expect(await store.memberSince('since', alice.id)).toBe(1_000);
        await store.removeMember('since', alice.id);
        expect(await store.memberSince('since', alice.id)).toBeNull();
        await store.addMember('since', alice.id, null, 2_000);
        expect(await store.memberSince('since', alice.id)).toBe(2_000);
        expect(await store.memberSince('nowhere', alice.id)).toBeNull();
      });

      it('lists members in the order they joined even within one ms, each membership beginning later', async () => {
        await rooms('same-ms');
        const people = ['u-9', 'u-1', 'u-5'].map((id) => ({ id, name: id }));
        for (const p of people) await store.upsertUser(p);
        for (const p of people) expect(await store.addMember('same-ms', p.id, null, 5_000)).toBe('added');
        expect((await store.listMembers('same-ms')).map((m) => m.id)).toEqual(['u-9', 'u-1', 'u-5']);
        const since = await Promise.all(people.map((p) => store.memberSince('same-ms', p.id)));
        expect(since).toEqual([5_000, 5_001, 5_002]);
        // Back in after leaving, in the same ms: a new membership, after all the others.
        await store.removeMember('same-ms', 'u-9');
        await store.addMember('same-ms', 'u-9', null, 5_000);
        expect(await store.memberSince('same-ms', 'u-9')).toBe(5_003);
        // A later clock wins over the step.
        await store.upsertUser({ id: 'u-0', name: 'u-0' });
        await store.addMember('same-ms', 'u-0', null, 9_000);
        expect(await store.memberSince('same-ms', 'u-0')).toBe(9_000);
      });

      it('deletes a room with its members and messages', async () => {
        await rooms('doomed', 'other');
        await store.upsertUser(alice);
        await store.addMember('doomed', alice.id, null, 1);
        await store.addMember('other', alice.id, null, 1);
        await store.append(msg('doomed', alice, { binary: { mime: 'image/png', data: new Uint8Array([1, 2]) } }));
        await store.append(msg('other', alice));

        await store.deleteRoom('doomed');
        expect(await store.getRoom('doomed')).toBeNull();
        expect(await store.isMember('doomed', alice.id)).toBe(false);
        expect(await store.listMembers('doomed')).toEqual([]);
        expect(await store.messagesAfter('doomed', 0, 10)).toEqual([]);
        expect(await store.getBlob('doomed', 1)).toBeNull();
        expect((await store.memberRooms(alice.id)).map((r) => r.id)).toEqual(['other']);
        expect(seqs(await store.messagesAfter('other', 0, 10))).toEqual([1]);

        // The id is free again and starts from scratch.
        expect(await store.createRoom(newRoom('doomed'))).toBe(true);
        expect(await store.getRoom('doomed')).toMatchObject({ lastSeq: 0 });
        expect((await store.append(msg('doomed', alice))).seq).toBe(1);
      });

      it('lists public rooms only (no private, no direct), up to the limit; counts all rooms', async () => {
        await store.createRoom(newRoom('pub-1'));
        await store.createRoom(newRoom('pub-2'));
        await store.createRoom(newRoom('pub-3', { persist: false }));
        await store.createRoom(newRoom('priv', { visibility: 'private' }));
        await store.createRoom(newRoom('dm-1', { direct: true }));
        await store.createRoom(newRoom('dm-2', { direct: true, visibility: 'private' }));

        const all = await store.publicRooms(100);
        expect(all.map((r) => r.id).sort()).toEqual(['pub-1', 'pub-2', 'pub-3']);
        expect(all.every((r) => r.visibility === 'public' && !r.direct)).toBe(true);
        const two = await store.publicRooms(2);
        expect(two).toHaveLength(2);
        for (const r of two) expect(['pub-1', 'pub-2', 'pub-3']).toContain(r.id);
        expect(await store.countRooms()).toBe(6);
      });

      it('counts the rooms a user owns', async () => {
        await store.createRoom(newRoom('a-1'));
        await store.createRoom(newRoom('a-2', { persist: false }));
        await store.createRoom(newRoom('b-1', { owner: bob.id }));
        await store.createRoom(newRoom('dm-x', { direct: true, owner: null }));
        expect(await store.countOwnedRooms(alice.id)).toBe(2);
        expect(await store.countOwnedRooms(bob.id)).toBe(1);
        expect(await store.countOwnedRooms(carol.id)).toBe(0);
        await store.deleteRoom('a-1');
        expect(await store.countOwnedRooms(alice.id)).toBe(1);
      });

      it('pages a user\'s rooms by activity (lastSeq descending, then id) after a cursor', async () => {
        for (const id of ['r-a', 'r-b', 'r-c', 'r-d', 'r-e']) {
          await store.createRoom(newRoom(id));
          await store.addMember(id, alice.id, null, 1);
        }
        for (let i = 0; i < 2; i++) await store.append(msg('r-d', alice));
        await store.append(msg('r-b', alice));
        const order = ['r-d', 'r-b', 'r-a', 'r-c', 'r-e'];
        expect((await store.memberRooms(alice.id)).map((r) => r.id)).toEqual(order);
        const first = await store.memberRooms(alice.id, { limit: 2 });
        expect(first.map((r) => r.id)).toEqual(['r-d', 'r-b']);
        const last = first.at(-1)!;
        const second = await store.memberRooms(alice.id, { limit: 2, after: { lastSeq: last.lastSeq, id: last.id } });
        expect(second.map((r) => r.id)).toEqual(['r-a', 'r-c']);
        const third = await store.memberRooms(alice.id, { limit: 2, after: { lastSeq: 0, id: 'r-c' } });
        expect(third.map((r) => r.id)).toEqual(['r-e']);
        expect(await store.memberRooms(alice.id, { limit: 2, after: { lastSeq: 0, id: 'r-e' } })).toEqual([]);
      });

      it('deletes ephemeral rooms only, returning how many', async () => {
        await store.createRoom(newRoom('eph-1', { persist: false }));
        await store.createRoom(newRoom('eph-2', { persist: false }));
        await store.createRoom(newRoom('kept'));
        await store.addMember('eph-1', alice.id, null, 1);
        expect(await store.deleteEphemeralRooms()).toBe(2);
        expect(await store.getRoom('eph-1')).toBeNull();
        expect(await store.getRoom('eph-2')).toBeNull();
        expect(await store.isMember('eph-1', alice.id)).toBe(false);
        expect(await store.getRoom('kept')).not.toBeNull();
        expect(await store.countRooms()).toBe(1);
        expect(await store.deleteEphemeralRooms()).toBe(0);
      });
    });

    describe('members', () => {
      it('adds members up to the capacity; an existing member is still "already" when full', async () => {
        await rooms('small');
        expect(await store.addMember('small', alice.id, 3, 1)).toBe('added');
        expect(await store.addMember('small', alice.id, 3, 2)).toBe('already');
        expect(await store.addMember('small', bob.id, 3, 3)).toBe('added');
        expect(await store.addMember('small', carol.id, 3, 4)).toBe('added');
        expect(await store.addMember('small', dave.id, 3, 5)).toBe('full');
        expect(await store.addMember('small', bob.id, 3, 6)).toBe('already');
        expect(await store.isMember('small', dave.id)).toBe(false);

        // Leaving frees a place.
        expect(await store.removeMember('small', carol.id)).toBe(true);
        expect(await store.addMember('small', dave.id, 3, 7)).toBe('added');
      });

      it('has no limit when capacity is null', async () => {
        await rooms('big');
        for (let i = 0; i < 20; i++) expect(await store.addMember('big', `u-${i}`, null, i)).toBe('added');
        expect(await store.isMember('big', 'u-19')).toBe(true);
      });

      it('starts a new member with everything before joining read', async () => {
        await rooms('r');
        await store.upsertUser(alice);
        await store.upsertUser(bob);
        await store.addMember('r', alice.id, null, 1);
        for (let i = 0; i < 3; i++) await store.append(msg('r', alice));
        await store.addMember('r', bob.id, null, 2);
        const bobs = (await store.listMembers('r')).find((m) => m.id === bob.id);
        expect(bobs?.readSeq).toBe(3);
        expect((await store.memberRooms(bob.id))[0]).toMatchObject({ id: 'r', lastSeq: 3, readSeq: 3 });
      });

      it('removes, checks and lists members with names and read cursors', async () => {
        await rooms('r', 'elsewhere');
        for (const u of [alice, bob, carol]) {
          await store.upsertUser(u);
          await store.addMember('r', u.id, null, 1);
        }
        await store.addMember('elsewhere', dave.id, null, 1);
        expect(await store.isMember('r', bob.id)).toBe(true);
        expect(await store.isMember('r', dave.id)).toBe(false);
        expect(await store.isMember('nope', bob.id)).toBe(false);

        expect(await store.removeMember('r', bob.id)).toBe(true);
        expect(await store.removeMember('r', bob.id)).toBe(false);
        expect(await store.isMember('r', bob.id)).toBe(false);

        const members = await store.listMembers('r');
        expect([...members].sort((a, b) => a.id.localeCompare(b.id))).toEqual([
          // Alice owns the rooms of the contract (newRoom): her role says so.
          { ...alice, readSeq: 0, joinedAt: 1, role: 'owner' },
          // Joined in the same ms as Alice and Bob: a ms after each, in the order they joined.
          { ...carol, readSeq: 0, joinedAt: 3, role: 'member' },
        ]);
        expect(await store.listMembers('nope')).toEqual([]);
      });

      it('lists a user\'s rooms with read cursors, and the peer of direct rooms', async () => {
        for (const u of [alice, bob, carol]) await store.upsertUser(u);
        await store.createRoom(newRoom('team'));
        await store.createRoom(newRoom('dm-ab', { direct: true, visibility: 'private', owner: null }));
        await store.createRoom(newRoom('not-mine'));
        await store.addMember('team', alice.id, null, 1);
        await store.addMember('team', carol.id, null, 1);
        await store.addMember('dm-ab', alice.id, null, 1);
        await store.addMember('dm-ab', bob.id, null, 1);
        await store.addMember('not-mine', carol.id, null, 1);
        await store.append(msg('team', carol));
        await store.append(msg('team', carol));
        await store.append(msg('dm-ab', bob));
        await store.setReadSeq('team', alice.id, 1);

        const mine = await store.memberRooms(alice.id);
        const byId = new Map(mine.map((r) => [r.id, r]));
        expect([...byId.keys()].sort()).toEqual(['dm-ab', 'team']);
        expect(byId.get('team')).toMatchObject({ id: 'team', direct: false, lastSeq: 2, readSeq: 1 });
        expect(byId.get('team')?.peer).toBeUndefined();
        expect(byId.get('dm-ab')).toMatchObject({ id: 'dm-ab', direct: true, lastSeq: 1, readSeq: 0, peer: bob });
        expect((await store.memberRooms(bob.id)).find((r) => r.id === 'dm-ab')?.peer).toEqual(alice);
        expect(await store.memberRooms(dave.id)).toEqual([]);
      });

      it('moves the read cursor forward only', async () => {
        await rooms('r');
        await store.addMember('r', alice.id, null, 1);
        expect(await store.setReadSeq('r', alice.id, 5)).toBe(5);
        expect(await store.setReadSeq('r', alice.id, 3)).toBe(5);
        expect(await store.setReadSeq('r', alice.id, 5)).toBe(5);
        expect(await store.setReadSeq('r', alice.id, 7)).toBe(7);
        await store.upsertUser(alice);
        expect((await store.listMembers('r'))[0]?.readSeq).toBe(7);
      });
    });

    describe('append', () => {
      it('assigns per-room seqs 1, 2, 3 independently and advances lastSeq', async () => {
        await rooms('a', 'b');
        const results: AppendResult[] = [];
        for (const r of ['a', 'a', 'b', 'a', 'b']) results.push(await store.append(msg(r, alice)));
        expect(results.map((r) => `${r.room}:${r.seq}`)).toEqual(['a:1', 'a:2', 'b:1', 'a:3', 'b:2']);
        expect(results.every((r) => r.duplicate === false)).toBe(true);
        expect((await store.getRoom('a'))?.lastSeq).toBe(3);
        expect((await store.getRoom('b'))?.lastSeq).toBe(2);
      });

      it('returns the stored id (the client id, else msgId) and the input ts', async () => {
        await rooms('r');
        const a = await store.append(msg('r', alice, { msgId: 'server-1', ts: 777 }));
        expect(a).toEqual({ room: 'r', seq: 1, ts: 777, id: 'server-1', duplicate: false });
        const b = await store.append(msg('r', alice, { msgId: 'server-2', clientId: 'client-2' }));
        expect(b.id).toBe('client-2');
        expect((await store.messagesAfter('r', 0, 10)).map((m) => m.id)).toEqual(['server-1', 'client-2']);
      });

      it('moves the sender\'s read cursor to their own message', async () => {
        await rooms('r');
        await store.addMember('r', alice.id, null, 1);
        await store.addMember('r', bob.id, null, 1);
        await store.append(msg('r', bob));
        await store.append(msg('r', alice));
        await store.append(msg('r', bob));
        const read = new Map((await store.memberRooms(alice.id)).map((r) => [r.id, r.readSeq]));
        expect(read.get('r')).toBe(2);
        expect((await store.memberRooms(bob.id))[0]?.readSeq).toBe(3);
      });

      it('numbers 1000 appends issued in one turn across 3 rooms without gaps, in call order', async () => {
        const ids = await rooms('c0', 'c1', 'c2');
        const inputs = Array.from({ length: 1000 }, (_, i) => msg(ids[i % 3] as string, i % 2 ? alice : bob));
        const results = await Promise.all(inputs.map((input) => store.append(input)));

        for (const room of ids) {
          const mine = results.filter((r) => r.room === room);
          const sent = inputs.filter((i) => i.room === room);
          expect(mine.length).toBe(sent.length);
          expect(seqs(mine)).toEqual(range(1, sent.length));
          expect(mine.map((r) => r.id)).toEqual(sent.map((i) => i.msgId));
          const stored = await store.messagesAfter(room, 0, 2000);
          expect(seqs(stored)).toEqual(range(1, sent.length));
          expect(stored.map((m) => m.text)).toEqual(sent.map((i) => i.text));
          expect((await store.getRoom(room))?.lastSeq).toBe(sent.length);
        }
        results.forEach((r, i) => expect(r.room).toBe(inputs[i]?.room));
      });

      it('treats a retry with the same (user, clientId) in a later batch as a duplicate', async () => {
        await rooms('r', 'other');
        const first = await store.append(msg('r', alice, { clientId: 'c-1', text: 'hello', ts: 500 }));
        await store.append(msg('r', bob));
        const retry = await store.append(msg('r', alice, { clientId: 'c-1', text: 'hello again', ts: 900 }));
        expect(retry).toEqual({ ...first, duplicate: true });
        // Keyed by (user, clientId): even a retry naming another room gets the original answer.
        expect(await store.append(msg('other', alice, { clientId: 'c-1' }))).toEqual({ ...first, duplicate: true });

        const stored = await store.messagesAfter('r', 0, 10);
        expect(stored.map((m) => m.text)).toEqual(['hello', expect.any(String)]);
        expect((await store.getRoom('r'))?.lastSeq).toBe(2);
        expect(await store.messagesAfter('other', 0, 10)).toEqual([]);
        expect((await store.getRoom('other'))?.lastSeq).toBe(0);
      });

      it('treats a repeat within the same batch as a duplicate of the first', async () => {
        await rooms('r');
        const [a, b, c] = await Promise.all([
          store.append(msg('r', alice, { clientId: 'same', text: 'one' })),
          store.append(msg('r', alice, { clientId: 'same', text: 'two' })),
          store.append(msg('r', alice, { clientId: 'other' })),
        ]);
        expect(a).toMatchObject({ seq: 1, id: 'same', duplicate: false });
        expect(b).toEqual({ ...a, duplicate: true });
        expect(c).toMatchObject({ seq: 2, duplicate: false });
        expect((await store.messagesAfter('r', 0, 10)).map((m) => m.text)).toEqual(['one', expect.any(String)]);
      });

      it('does not treat the same clientId from another user as a duplicate', async () => {
        await rooms('r');
        const [a, b] = await Promise.all([
          store.append(msg('r', alice, { clientId: 'shared' })),
          store.append(msg('r', bob, { clientId: 'shared' })),
        ]);
        const c = await store.append(msg('r', carol, { clientId: 'shared' }));
        expect([a.seq, b.seq, c.seq]).toEqual([1, 2, 3]);
        expect([a, b, c].every((r) => !r.duplicate)).toBe(true);
        expect((await store.messagesAfter('r', 0, 10)).map((m) => m.from.id)).toEqual([alice.id, bob.id, carol.id]);
      });

      it('assigns seqs but stores nothing for persist:false', async () => {
        await store.createRoom(newRoom('eph', { persist: false }));
        const a = await store.append(msg('eph', alice, { persist: false }));
        const b = await store.append(msg('eph', alice, { persist: false, binary: { mime: 'text/plain', data: new Uint8Array([1]) } }));
        expect([a.seq, b.seq]).toEqual([1, 2]);
        expect(await store.messagesAfter('eph', 0, 10)).toEqual([]);
        expect(await store.messagesBefore('eph', null, 10)).toEqual([]);
        expect(await store.getBlob('eph', 2)).toBeNull();
        expect((await store.getRoom('eph'))?.lastSeq).toBe(2);
      });

      it('rejects an append to a missing room with room_not_found, without failing the rest of its batch', async () => {
        await rooms('r');
        const settled = await Promise.allSettled([
          store.append(msg('r', alice)),
          store.append(msg('ghost', alice, { clientId: 'g-1' })),
          store.append(msg('r', bob)),
        ]);
        expect(settled[0]).toMatchObject({ status: 'fulfilled', value: { seq: 1 } });
        expect(settled[2]).toMatchObject({ status: 'fulfilled', value: { seq: 2 } });
        const failed = settled[1];
        expect(failed?.status).toBe('rejected');
        const reason = failed?.status === 'rejected' ? (failed.reason as unknown) : undefined;
        expect(reason).toBeInstanceOf(Error);
        expect((reason as { code?: unknown }).code).toBe('room_not_found');

        // Alone, too; and the store still works afterwards.
        await expect(store.append(msg('ghost', alice))).rejects.toMatchObject({ code: 'room_not_found' });
        expect((await store.append(msg('r', alice))).seq).toBe(3);
        expect(await store.getRoom('ghost')).toBeNull();
      });
    });

    describe('reading messages', () => {
      it('pages forward with messagesAfter and backward with messagesBefore, always ascending', async () => {
        await rooms('r', 'other');
        for (let i = 0; i < 10; i++) await store.append(msg('r', alice));
        await store.append(msg('other', alice));

        expect(seqs(await store.messagesAfter('r', 0, 3))).toEqual([1, 2, 3]);
        expect(seqs(await store.messagesAfter('r', 3, 100))).toEqual(range(4, 10));
        expect(seqs(await store.messagesAfter('r', 9, 100))).toEqual([10]);
        expect(await store.messagesAfter('r', 10, 100)).toEqual([]);

        expect(seqs(await store.messagesBefore('r', null, 3))).toEqual([8, 9, 10]);
        expect(seqs(await store.messagesBefore('r', null, 100))).toEqual(range(1, 10));
        expect(seqs(await store.messagesBefore('r', 8, 3))).toEqual([5, 6, 7]);
        expect(seqs(await store.messagesBefore('r', 3, 10))).toEqual([1, 2]);
        expect(await store.messagesBefore('r', 1, 10)).toEqual([]);
        expect(seqs(await store.messagesBefore('r', 11, 1))).toEqual([10]);
        expect(await store.messagesAfter('missing', 0, 10)).toEqual([]);
      });

      it('returns stored messages with sender, text, meta and ts', async () => {
        await rooms('r');
        const meta = { kind: 'reply', to: 3, tags: ['a', 'b'], nested: { ok: true, none: null } };
        await store.append(msg('r', alice, { msgId: 'm-meta', text: 'with meta', meta, ts: 4242 }));
        await store.append(msg('r', bob, { msgId: 'm-empty', text: '', ts: 4243 }));
        const [a, b] = await store.messagesAfter('r', 0, 10);
        expect(a).toEqual({ room: 'r', seq: 1, kind: 'msg', id: 'm-meta', from: alice, text: 'with meta', meta, ts: 4242 });
        expect(b).toEqual({ room: 'r', seq: 2, kind: 'msg', id: 'm-empty', from: bob, text: '', ts: 4243 });
      });

      it('stores binary messages: getBlob returns the exact bytes; listings carry only mime, name, size', async () => {
        await rooms('r');
        const bytes = new Uint8Array(256 * 4).map((_, i) => (i * 7 + 3) % 256);
        // A view into a larger buffer: only the viewed bytes count.
        const backing = new Uint8Array(bytes.length + 16);
        backing.set(bytes, 8);
        const view = backing.subarray(8, 8 + bytes.length);
        await store.append(msg('r', alice, { text: undefined, binary: { mime: 'application/octet-stream', name: 'data.bin', data: view } }));
        await store.append(msg('r', alice, { text: undefined, binary: { mime: 'image/png', data: new Uint8Array([137, 80, 78, 71]) } }));
        await store.append(msg('r', alice, { text: 'plain' }));

        const blob = await store.getBlob('r', 1);
        expect(blob?.mime).toBe('application/octet-stream');
        expect(blob?.name).toBe('data.bin');
        expect(new Uint8Array(blob?.data ?? [])).toEqual(bytes);
        const png = await store.getBlob('r', 2);
        expect(png?.mime).toBe('image/png');
        expect(png?.name).toBeUndefined();
        expect([...(png?.data ?? [])]).toEqual([137, 80, 78, 71]);
        expect(await store.getBlob('r', 3)).toBeNull();
        expect(await store.getBlob('r', 99)).toBeNull();

        const [m1, m2, m3] = await store.messagesAfter('r', 0, 10);
        // toStrictEqual: no `data` (or any other) key besides mime, name, size.
        expect(m1?.binary).toStrictEqual({ mime: 'application/octet-stream', name: 'data.bin', size: bytes.length });
        expect(m1?.text).toBeUndefined();
        expect(m2?.binary).toStrictEqual({ mime: 'image/png', size: 4 });
        expect(m3?.binary).toBeUndefined();
        expect((await store.messagesBefore('r', null, 1))[0]?.binary).toBeUndefined();
        expect((await store.messagesBefore('r', 3, 1))[0]?.binary).toStrictEqual({ mime: 'image/png', size: 4 });
      });
    });

    describe('idempotency keys', () => {
      it('prunes keys older than the cutoff; a retry after that is stored again', async () => {
        await rooms('r');
        const old = await store.append(msg('r', alice, { clientId: 'old', ts: 1_000 }));
        const recent = await store.append(msg('r', alice, { clientId: 'recent', ts: 5_000 }));
        expect(await store.pruneDedup(2_000)).toBe(1);
        expect(await store.pruneDedup(2_000)).toBe(0);

        const retryRecent = await store.append(msg('r', alice, { clientId: 'recent', ts: 6_000 }));
        expect(retryRecent).toEqual({ ...recent, duplicate: true });
        const retryOld = await store.append(msg('r', alice, { clientId: 'old', ts: 6_000 }));
        expect(retryOld).toMatchObject({ seq: 3, duplicate: false, id: 'old' });
        expect(old.seq).toBe(1);
        expect(seqs(await store.messagesAfter('r', 0, 10))).toEqual([1, 2, 3]);
      });
    });

    describe('close and reopen', () => {
      it('close() waits for appends still pending', async (ctx) => {
        const ids = await rooms('p0', 'p1');
        const done: boolean[] = [];
        const pending = Array.from({ length: 600 }, (_, i) =>
          store.append(msg(ids[i % 2] as string, alice, { clientId: `k-${i}` })).then((r) => {
            done[i] = true;
            return r;
          }),
        );
        await store.close();
        isOpen = false;
        expect(done.filter(Boolean)).toHaveLength(600);
        const results = await Promise.all(pending);
        expect(results.filter((r) => r.room === 'p0').map((r) => r.seq)).toEqual(range(1, 300));

        if (!harness.reopen) return ctx.skip('this store has no reopen');
        store = await harness.reopen();
        isOpen = true;
        for (const room of ids) {
          expect(seqs(await store.messagesAfter(room, 0, 1000))).toEqual(range(1, 300));
          expect((await store.getRoom(room))?.lastSeq).toBe(300);
        }
      });

      it('keeps users, rooms, members, messages, blobs, seqs and idempotency keys across a reopen', async (ctx) => {
        const reopen = harness.reopen;
        if (!reopen) return ctx.skip('this store has no reopen');
        await store.upsertUser(alice);
        await store.upsertUser(bob);
        await store.createRoom(newRoom('r', { title: 'Kept', capacity: 9 }));
        await store.addMember('r', alice.id, null, 1);
        await store.addMember('r', bob.id, null, 1);
        const first = await store.append(msg('r', alice, { clientId: 'c-1', text: 'one' }));
        await store.append(msg('r', bob, { text: undefined, binary: { mime: 'image/gif', name: 'a.gif', data: new Uint8Array([71, 73, 70]) } }));
        await store.append(msg('r', bob, { text: 'three', meta: { x: 1 } }));
        await store.setReadSeq('r', alice.id, 2);
        const before = await store.messagesAfter('r', 0, 10);
        await store.sharedSecret('k', 'kept-secret');

        await restart(reopen);

        expect(await store.getUser(bob.id)).toEqual(bob);
        expect(await store.getRoom('r')).toMatchObject({ title: 'Kept', capacity: 9, lastSeq: 3 });
        expect(await store.messagesAfter('r', 0, 10)).toEqual(before);
        expect([...((await store.getBlob('r', 2))?.data ?? [])]).toEqual([71, 73, 70]);
        expect((await store.memberRooms(alice.id))[0]).toMatchObject({ id: 'r', readSeq: 2 });
        expect(await store.isMember('r', bob.id)).toBe(true);
        expect(await store.append(msg('r', alice, { clientId: 'c-1' }))).toEqual({ ...first, duplicate: true });
        expect((await store.append(msg('r', alice))).seq).toBe(4);
        expect(await store.sharedSecret('k', 'other')).toBe('kept-secret');
      });
    });
  });
}
